ALTER TABLE "executions" ADD COLUMN "lease_owner" text;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "lease_token" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "lease_expires_at" timestamp(3) with time zone;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "kill_requested" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "executions_unfinished_idx" ON "executions" USING btree ("created_at") WHERE state in ('CREATED', 'QUEUED', 'RUNNING', 'PAUSED', 'RESTARTED', 'KILLING', 'RETRYING');