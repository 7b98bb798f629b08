-- Periodic risk reports (风险信息报告, finance §5.5; issue 12 §5): one per audience and period, its
-- content built when it is prepared and never edited; released by an approval, with the SHA-256 of
-- its content in the audit trail. Once released a row cannot change or be deleted (trigger below).
CREATE TABLE IF NOT EXISTS "risk_reports" (
	"case_id" text PRIMARY KEY NOT NULL,
	"audience" text NOT NULL CHECK ("audience" IN ('management', 'regulator')),
	"period" text NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"period_end" timestamp with time zone NOT NULL,
	"status" text NOT NULL CHECK ("status" IN ('awaiting_approval', 'released', 'rejected', 'lapsed')),
	"content" jsonb NOT NULL,
	"content_sha256" text NOT NULL,
	"prepared_by" text NOT NULL,
	"prepared_at" timestamp with time zone NOT NULL,
	"released_by" text[],
	"released_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "risk_reports_audience_period_unique" ON "risk_reports" USING btree ("audience","period");
--> statement-breakpoint
CREATE OR REPLACE FUNCTION risk_reports_immutable() RETURNS trigger AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'risk reports are never deleted';
	END IF;
	IF OLD.status <> 'awaiting_approval' THEN
		RAISE EXCEPTION 'risk report % is % and cannot change', OLD.case_id, OLD.status;
	END IF;
	IF NEW.content IS DISTINCT FROM OLD.content OR NEW.content_sha256 IS DISTINCT FROM OLD.content_sha256 THEN
		RAISE EXCEPTION 'the content of risk report % cannot change', OLD.case_id;
	END IF;
	RETURN NEW;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
DROP TRIGGER IF EXISTS risk_reports_immutable ON "risk_reports";
--> statement-breakpoint
CREATE TRIGGER risk_reports_immutable BEFORE UPDATE OR DELETE ON "risk_reports"
	FOR EACH ROW EXECUTE FUNCTION risk_reports_immutable();
