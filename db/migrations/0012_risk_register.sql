-- The risk register (风险清单, e-commerce §1.2, finance §5.1–5.2; issue 12 §1): the current state
-- of each risk, every version of it (the register read as of any instant), its controls and their
-- tests, its links to cases, and its acceptances (each an approved risk_acceptance case).
CREATE TABLE IF NOT EXISTS "risks" (
	"key" text PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"category" text NOT NULL,
	"description" text NOT NULL,
	"cause" text NOT NULL,
	"consequence" text NOT NULL,
	"owner_id" text NOT NULL REFERENCES "users"("id"),
	"line_of_defence" text NOT NULL,
	"inherent_probability" integer NOT NULL CHECK ("inherent_probability" BETWEEN 1 AND 5),
	"inherent_impact" integer NOT NULL CHECK ("inherent_impact" BETWEEN 1 AND 5),
	"residual_probability" integer NOT NULL CHECK ("residual_probability" BETWEEN 1 AND 5),
	"residual_impact" integer NOT NULL CHECK ("residual_impact" BETWEEN 1 AND 5),
	"version" integer NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "risks_owner_idx" ON "risks" USING btree ("owner_id");
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "risk_versions" (
	"risk_key" text NOT NULL REFERENCES "risks"("key"),
	"version" integer NOT NULL,
	"values" jsonb NOT NULL,
	"changed" text[] NOT NULL,
	"actor_id" text NOT NULL,
	"reason" text NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	CONSTRAINT "risk_versions_risk_key_version_pk" PRIMARY KEY("risk_key","version")
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "risk_versions_valid_from_idx" ON "risk_versions" USING btree ("risk_key", "valid_from");
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "risk_controls" (
	"id" text PRIMARY KEY NOT NULL,
	"risk_key" text NOT NULL REFERENCES "risks"("key"),
	"title" text NOT NULL,
	"description" text,
	"owner_id" text NOT NULL REFERENCES "users"("id"),
	"frequency" text NOT NULL,
	"last_result" text DEFAULT 'not_tested' NOT NULL,
	"last_tested_by" text,
	"last_tested_at" timestamp with time zone,
	"last_test_note" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "risk_controls_risk_idx" ON "risk_controls" USING btree ("risk_key");
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "risk_control_tests" (
	"id" text PRIMARY KEY NOT NULL,
	"control_id" text NOT NULL REFERENCES "risk_controls"("id"),
	"result" text NOT NULL,
	"note" text,
	"tested_by" text NOT NULL,
	"tested_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "risk_links" (
	"risk_key" text NOT NULL REFERENCES "risks"("key"),
	"case_id" text NOT NULL REFERENCES "cases"("id"),
	"linked_by" text NOT NULL,
	"linked_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "risk_links_risk_key_case_id_pk" PRIMARY KEY("risk_key","case_id")
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "risk_acceptances" (
	"case_id" text PRIMARY KEY NOT NULL,
	"risk_key" text NOT NULL REFERENCES "risks"("key"),
	"sequence" integer NOT NULL,
	"status" text NOT NULL,
	"reason" text NOT NULL,
	"requested_by" text NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"residual_probability" integer NOT NULL,
	"residual_impact" integer NOT NULL,
	"residual_level" text NOT NULL,
	"approved_by" text[],
	"approved_at" timestamp with time zone,
	"stale_reason" text,
	"stale_at" timestamp with time zone,
	"review_due" timestamp with time zone,
	CONSTRAINT "risk_acceptances_risk_key_sequence_unique" UNIQUE("risk_key","sequence")
);
--> statement-breakpoint
-- At most one acceptance per risk is requested or in force at a time.
CREATE UNIQUE INDEX IF NOT EXISTS "risk_acceptances_one_open_idx" ON "risk_acceptances" USING btree ("risk_key") WHERE "status" IN ('requested', 'active');
