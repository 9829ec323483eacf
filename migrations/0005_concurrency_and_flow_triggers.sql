CREATE TABLE "concurrency_slots" (
	"execution_id" text PRIMARY KEY NOT NULL,
	"namespace" text NOT NULL,
	"flow_id" text NOT NULL,
	"status" text NOT NULL,
	"seq" bigserial NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "flow_trigger_windows" (
	"namespace" text NOT NULL,
	"flow_id" text NOT NULL,
	"trigger_id" text NOT NULL,
	"window_start" timestamp(3) with time zone NOT NULL,
	"window_end" timestamp(3) with time zone NOT NULL,
	"met" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "flow_trigger_windows_namespace_flow_id_trigger_id_pk" PRIMARY KEY("namespace","flow_id","trigger_id")
);
--> statement-breakpoint
CREATE INDEX "concurrency_slots_flow_idx" ON "concurrency_slots" USING btree ("namespace","flow_id","status","seq");