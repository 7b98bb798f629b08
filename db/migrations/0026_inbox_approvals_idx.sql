-- An approver's part of the inbox ("to decide", GET /api/tasks/inbox?section=toDecide)
-- by role, without walking every open task (issue 15 §4; bench/reads.bench.ts).
-- Open approvals are a fifth of the bench's open tasks, and a function's share
-- of them is whatever its policy makes it: a manager or an employee usually has
-- none. Walking tasks_open_due_idx for them read all 100,000 open tasks to find
-- nothing (93–120 ms); tasks_open_roles_idx finds the role's open tasks of
-- every kind (40,000 for a manager) and rechecks each. This one holds only open
-- approvals, so the role's bitmap is the approvals that role may decide.
CREATE INDEX IF NOT EXISTS "tasks_open_approvals_roles_idx" ON "tasks" USING gin ("candidate_roles") WHERE "kind" = 'approval' AND "status" = 'open';
