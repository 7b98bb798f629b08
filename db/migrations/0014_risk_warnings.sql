-- Risk warnings (风险预警, e-commerce §6.2, finance §5.4; issue 12 §3): key risk indicators with a
-- threshold per warning level (一般 general / 较高 elevated / 重大 major), and every observation a
-- monitoring system posted, by its alert key (the idempotency key), with the warning case it opened.
CREATE TABLE IF NOT EXISTS "key_risk_indicators" (
	"key" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"unit" text,
	"direction" text NOT NULL CHECK ("direction" IN ('above', 'below')),
	"threshold_general" double precision NOT NULL,
	"threshold_elevated" double precision NOT NULL,
	"threshold_major" double precision NOT NULL,
	"owner_id" text NOT NULL REFERENCES "users"("id"),
	"risk_key" text REFERENCES "risks"("key"),
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "key_risk_indicators_ordered" CHECK (
		("direction" = 'above' AND "threshold_general" < "threshold_elevated" AND "threshold_elevated" < "threshold_major")
		OR ("direction" = 'below' AND "threshold_general" > "threshold_elevated" AND "threshold_elevated" > "threshold_major")
	)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "key_risk_indicators_owner_idx" ON "key_risk_indicators" USING btree ("owner_id");
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "kri_observations" (
	"alert_key" text PRIMARY KEY NOT NULL,
	"kri_key" text NOT NULL REFERENCES "key_risk_indicators"("key"),
	"value" double precision NOT NULL,
	"observed_at" timestamp with time zone NOT NULL,
	"request_hash" text NOT NULL,
	"level_reached" text CHECK ("level_reached" IN ('general', 'elevated', 'major')),
	"level" text CHECK ("level" IN ('general', 'elevated', 'major')),
	"repeat_of" text[] DEFAULT '{}'::text[] NOT NULL,
	"warning_case_id" text,
	"recorded_by" text NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "kri_observations_kri_idx" ON "kri_observations" USING btree ("kri_key", "observed_at");
