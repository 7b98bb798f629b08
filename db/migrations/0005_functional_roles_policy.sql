-- Three lines of defence (finance §5.2): the single "approver" role becomes
-- the functions risk, compliance and legal. Existing approvers become risk
-- officers (the function that approved most often); admins move people who
-- approve for compliance or legal with `npm run users`.
UPDATE "users" SET "roles" = array_replace("roles", 'approver', 'risk') WHERE 'approver' = ANY("roles");
--> statement-breakpoint
-- Open tasks offered to "approver" are offered to every approving function.
UPDATE "tasks" SET "candidate_roles" = array_remove("candidate_roles", 'approver') || ARRAY['risk','compliance','legal']::text[]
  WHERE 'approver' = ANY("candidate_roles");
--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "policy_version" integer;
--> statement-breakpoint
CREATE TABLE "policy_versions" (
	"version" integer PRIMARY KEY NOT NULL,
	"values" jsonb NOT NULL,
	"changed" text[] NOT NULL,
	"summary" text NOT NULL,
	"requested_by" text NOT NULL,
	"approved_by" text[] NOT NULL,
	"change_case_id" text NOT NULL,
	"effective_at" timestamp with time zone NOT NULL,
	CONSTRAINT "policy_versions_change_case_id_unique" UNIQUE("change_case_id")
);
