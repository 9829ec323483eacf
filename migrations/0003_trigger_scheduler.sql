ALTER TABLE "triggers" ADD COLUMN "schedule" text;--> statement-breakpoint
ALTER TABLE "triggers" ADD COLUMN "suspended" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "triggers" ADD COLUMN "execution_id" text;