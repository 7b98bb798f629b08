-- The annual audit plan (审计计划, issue 12 §4): each planned audit of a year, its type and when it is
-- planned for. It must include the data-security compliance check (e-commerce §2.1, at least yearly);
-- the API refuses a plan without one. Each audit's case is audit:<audit_key>, read from cases.
CREATE TABLE IF NOT EXISTS "audit_plan_entries" (
	"year" integer NOT NULL,
	"audit_key" text NOT NULL,
	"type" text NOT NULL,
	"title" text NOT NULL,
	"planned_for" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_plan_entries_pk" PRIMARY KEY ("year", "audit_key")
);
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "audit_plan_entries_key_idx" ON "audit_plan_entries" USING btree ("audit_key");
