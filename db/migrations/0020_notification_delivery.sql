-- Reminders that reach people (issue 13 §8). Each person's choice of how
-- notices reach them, and one delivery record per notice, recipient and
-- channel: sent, failed (and why), skipped, or queued for the daily
-- digest, with its attempts. The id is "<noticeKey>/<userId>/<channel>" (the
-- notice: the rows one notify call writes, one per role), so a delivery
-- retried, planned twice, or reaching someone through two of their roles is
-- one row and one message.
CREATE TABLE IF NOT EXISTS "notification_preferences" (
	"user_id" text PRIMARY KEY NOT NULL REFERENCES "users"("id"),
	"email" boolean DEFAULT true NOT NULL,
	"chat" text CHECK ("chat" IN ('wecom', 'dingtalk', 'feishu')),
	"language" text DEFAULT 'zh-CN' NOT NULL CHECK ("language" IN ('zh-CN', 'en')),
	"time_zone" text DEFAULT 'Asia/Shanghai' NOT NULL,
	"digest" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "notification_deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"notification_id" text NOT NULL REFERENCES "notifications"("id"),
	"case_id" text NOT NULL,
	"task_id" text,
	"user_id" text NOT NULL REFERENCES "users"("id"),
	"channel" text NOT NULL CHECK ("channel" IN ('email', 'wecom', 'dingtalk', 'feishu')),
	"address" text,
	"language" text NOT NULL,
	"status" text NOT NULL CHECK ("status" IN ('pending', 'queued', 'sent', 'failed', 'skipped')),
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"provider_ref" text,
	"digest_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "notification_deliveries_user_status" ON "notification_deliveries" USING btree ("user_id", "status");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "notification_deliveries_created_at" ON "notification_deliveries" USING btree ("created_at", "id");
