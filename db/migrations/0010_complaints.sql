-- Complaints are listed by type (GET /api/complaints?type=…, issue 11 §7): the type lives in the
-- complaint's case data, so the list filters on it through an expression index of complaints alone.
CREATE INDEX IF NOT EXISTS "cases_complaint_type_idx" ON "cases" USING btree (("data"->>'type'), "created_at") WHERE "process" = 'complaint';
