-- Idempotency-Key (issue 14 §2): the first answer to a POST, per user and key, so a client whose
-- connection died can send the same request again and get that answer instead of a second effect.
-- A row is 'in_flight' while its request runs (its lease renewed by the API process answering it;
-- a lease that lapses means that process died) and 'completed' once the answer (status < 500) is
-- stored. A request that fails with 5xx leaves no row. Rows are kept until expires_at (24 h by
-- default), then purged.
CREATE TABLE IF NOT EXISTS "idempotent_requests" (
	"user_id" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"fingerprint" text NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"state" text NOT NULL CHECK ("state" IN ('in_flight', 'completed')),
	"claim_id" text NOT NULL,
	"lease_until" timestamp with time zone NOT NULL,
	"response_status" integer,
	"response_content_type" text,
	"response_body" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	PRIMARY KEY ("user_id", "idempotency_key"),
	CHECK ("state" = 'in_flight' OR "response_status" IS NOT NULL)
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "idempotent_requests_expires_at" ON "idempotent_requests" USING btree ("expires_at");
