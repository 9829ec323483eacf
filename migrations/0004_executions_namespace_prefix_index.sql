DROP INDEX "executions_flow_idx";--> statement-breakpoint
CREATE INDEX "executions_flow_idx" ON "executions" USING btree ("namespace" text_pattern_ops,"flow_id","start_date");