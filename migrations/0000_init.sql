CREATE TABLE "executions" (
	"id" text PRIMARY KEY NOT NULL,
	"namespace" text NOT NULL,
	"flow_id" text NOT NULL,
	"flow_revision" integer NOT NULL,
	"state" text NOT NULL,
	"state_detail" jsonb NOT NULL,
	"start_date" timestamp(3) with time zone NOT NULL,
	"end_date" timestamp(3) with time zone,
	"inputs" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"outputs" jsonb,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"variables" jsonb,
	"trigger" jsonb,
	"original_id" text,
	"parent_execution_id" text,
	"parent_task_run_id" text,
	"commit_sha" text,
	"attempt_number" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "flow_revisions" (
	"namespace" text NOT NULL,
	"flow_id" text NOT NULL,
	"revision" integer NOT NULL,
	"source" text NOT NULL,
	"definition" jsonb NOT NULL,
	"commit" jsonb,
	"deleted" boolean DEFAULT false NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "flow_revisions_namespace_flow_id_revision_pk" PRIMARY KEY("namespace","flow_id","revision")
);
--> statement-breakpoint
CREATE TABLE "flows" (
	"namespace" text NOT NULL,
	"id" text NOT NULL,
	"revision" integer NOT NULL,
	"source" text NOT NULL,
	"definition" jsonb NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"disabled" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "flows_namespace_id_pk" PRIMARY KEY("namespace","id")
);
--> statement-breakpoint
CREATE TABLE "kv" (
	"namespace" text NOT NULL,
	"key" text NOT NULL,
	"type" text NOT NULL,
	"value" jsonb,
	"description" text,
	"expires_at" timestamp(3) with time zone,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "kv_namespace_key_pk" PRIMARY KEY("namespace","key")
);
--> statement-breakpoint
CREATE TABLE "logs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"execution_id" text NOT NULL,
	"task_run_id" text,
	"task_id" text,
	"attempt_number" integer,
	"timestamp" timestamp(3) with time zone NOT NULL,
	"level" text NOT NULL,
	"message" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "task_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"execution_id" text NOT NULL,
	"task_id" text NOT NULL,
	"parent_task_run_id" text,
	"value" text,
	"iteration" integer,
	"state" text NOT NULL,
	"state_detail" jsonb NOT NULL,
	"attempts" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"outputs" jsonb,
	"seq" integer NOT NULL,
	"start_date" timestamp(3) with time zone NOT NULL,
	"end_date" timestamp(3) with time zone
);
--> statement-breakpoint
CREATE TABLE "triggers" (
	"namespace" text NOT NULL,
	"flow_id" text NOT NULL,
	"trigger_id" text NOT NULL,
	"last_date" timestamp(3) with time zone,
	"next_date" timestamp(3) with time zone,
	"disabled" boolean DEFAULT false NOT NULL,
	"backfill" jsonb,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "triggers_namespace_flow_id_trigger_id_pk" PRIMARY KEY("namespace","flow_id","trigger_id")
);
--> statement-breakpoint
ALTER TABLE "task_runs" ADD CONSTRAINT "task_runs_execution_id_executions_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "executions_flow_idx" ON "executions" USING btree ("namespace","flow_id","start_date");--> statement-breakpoint
CREATE INDEX "executions_state_idx" ON "executions" USING btree ("state");--> statement-breakpoint
CREATE INDEX "executions_start_idx" ON "executions" USING btree ("start_date");--> statement-breakpoint
CREATE INDEX "logs_execution_idx" ON "logs" USING btree ("execution_id","id");--> statement-breakpoint
CREATE INDEX "task_runs_execution_idx" ON "task_runs" USING btree ("execution_id","seq");