CREATE TABLE "namespace_files" (
	"namespace" text NOT NULL,
	"path" text NOT NULL,
	"content" "bytea" NOT NULL,
	"blob_sha" text NOT NULL,
	"commit_sha" text NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "namespace_files_namespace_path_pk" PRIMARY KEY("namespace","path")
);
--> statement-breakpoint
CREATE TABLE "sync_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"started_at" timestamp(3) with time zone NOT NULL,
	"finished_at" timestamp(3) with time zone NOT NULL,
	"reason" text NOT NULL,
	"commit_sha" text,
	"result" text NOT NULL,
	"changes" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"errors" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"duration_ms" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_requests" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"provider" text NOT NULL,
	"delivery_id" text,
	"ref" text,
	"after_sha" text,
	"received_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp(3) with time zone
);
--> statement-breakpoint
CREATE TABLE "sync_state" (
	"id" text PRIMARY KEY NOT NULL,
	"repository" text NOT NULL,
	"branch" text NOT NULL,
	"applied_commit" jsonb,
	"state" text NOT NULL,
	"last_attempt_at" timestamp(3) with time zone,
	"last_attempt_sha" text,
	"last_success_at" timestamp(3) with time zone,
	"errors" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "flow_revisions" ADD COLUMN "git_path" text;--> statement-breakpoint
ALTER TABLE "flows" ADD COLUMN "git_path" text;--> statement-breakpoint
CREATE INDEX "sync_history_started_idx" ON "sync_history" USING btree ("started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "sync_requests_delivery_idx" ON "sync_requests" USING btree ("provider","delivery_id");--> statement-breakpoint
CREATE INDEX "sync_requests_pending_idx" ON "sync_requests" USING btree ("processed_at");