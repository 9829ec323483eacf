DROP INDEX "executions_state_idx";--> statement-breakpoint
CREATE INDEX "executions_state_start_idx" ON "executions" USING btree ("state","start_date");