-- Risk assessments keep their state in the case (cases.data: scope, entries) and the
-- register (risk_versions, risk_links); no table of their own.
SELECT 1;
