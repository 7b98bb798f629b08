-- Scoped reads (issue 11 §8; platform/access.ts): who has a part in a case is
-- computed from cases, tasks and audit_events, one index lookup per branch.
-- By person, for the lists: the cases a user initiated, and the cases whose
-- audit events they are the actor of (index-only: the case id is in the key).
-- By case, for one case: (actor_id, case_id) also answers "did this person act
-- on this case" without reading the case's whole timeline. cases.owner_id,
-- cases.parent_case_id, tasks.case_id and tasks.assignee_id are indexed already.
CREATE INDEX IF NOT EXISTS "cases_initiator_idx" ON "cases" USING btree ("initiator_id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "audit_events_actor_case_idx" ON "audit_events" USING btree ("actor_id","case_id");
