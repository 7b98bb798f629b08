-- The supplier lifecycle (issue 11 §6). A supplier is assessed before
-- cooperation (e-commerce manual §4.1): new suppliers are "pending" until their
-- first review is approved.
ALTER TABLE "suppliers" ALTER COLUMN "status" SET DEFAULT 'pending';
--> statement-breakpoint
-- Existing rows: a supplier that is "active" only because it was registered,
-- with no review ever decided (last_review_case_id is written only when a
-- review's decision is applied), never passed its assessment: it becomes
-- "pending", and its open or next review decides. An active supplier with a
-- decided review keeps its status. Restricted, suspended, terminated and
-- blacklisted rows keep theirs: each was set by a decision or by a manager's
-- status change that the audit log records.
UPDATE "suppliers" SET "status" = 'pending' WHERE "status" = 'active' AND "last_review_case_id" IS NULL;
--> statement-breakpoint
-- A review that lapsed undecided flags its supplier until a later review is decided.
ALTER TABLE "suppliers" ADD COLUMN "review_overdue_case_id" text;
--> statement-breakpoint
ALTER TABLE "suppliers" ADD COLUMN "review_overdue_since" timestamp with time zone;
--> statement-breakpoint
-- Reviews that lapsed before this change flag their supplier too, unless a
-- review decided later. (Their next review was not scheduled then: the
-- supplier's detail now shows the flag, and a manager starts the review or a
-- reassessment.)
UPDATE "suppliers" AS s
SET "review_overdue_case_id" = lapsed."id", "review_overdue_since" = lapsed."closed_at"
FROM (
  SELECT DISTINCT ON ("subject_id") "id", "subject_id", "closed_at"
  FROM "cases"
  WHERE "process" = 'supplier_review' AND "outcome" = 'expired' AND "subject_type" = 'supplier'
  ORDER BY "subject_id", "closed_at" DESC
) AS lapsed
WHERE s."id" = lapsed."subject_id"
  AND NOT EXISTS (
    SELECT 1 FROM "cases" AS decided
    WHERE decided."id" = s."last_review_case_id" AND decided."closed_at" > lapsed."closed_at"
  );
