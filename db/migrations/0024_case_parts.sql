-- Reads at size (issue 15 "Reads at size"; platform/access.ts): who has a
-- part in a case, kept in a table instead of gathered per request.
--
-- Until now every list gathered, per request and twice (the page and its
-- total), every case its reader has a part in from cases, tasks and
-- audit_events: 22,000 cases for a line manager of 19 on the bench's data
-- (bench/reads.bench.ts), 146 to 285 ms a list. case_parts holds one row per
-- case and person with a part in it:
-- - named: the case's initiator or owner, the assignee of one of its tasks;
-- - acted: the actor of one of its audit events;
-- - the same people of a case opened from it (parent_case_id, one level).
-- A list then asks, row by row in its own order, whether the reader or one
-- of their reports has a row for the case (one probe of the primary key),
-- and stops at the page's end.
--
-- The triggers below are its only writers, in the transaction of the write
-- that changes a part, so the table never says more or less than the rows
-- it is derived from (case_part_holds is that rule, once). They only ever
-- write case_parts: audit_events stays append-only and its chain untouched.
-- What a case waits for (an approval open to a function…) depends on roles
-- and votes and stays a condition over tasks (platform/access.ts).
--
-- A part can also end: a task handed to someone else, an owner replaced, a
-- case moved to another parent. Then the pairs the write may have ended are
-- checked again against the rows and deleted when nothing names the person
-- any longer. A write that adds a part and one that ends the same part may
-- run at once; advisory locks per case (shared to add, exclusive to end,
-- taken after the write's own rows) make the check see every committed
-- addition and make an addition wait for a concurrent removal, so neither
-- loses the other. A statement touching more than 64 cases (a backfill, a
-- bulk seed) takes one lock for all cases instead of one per case.
CREATE TABLE "case_parts" (
  "case_id" text NOT NULL,
  "user_id" text NOT NULL,
  CONSTRAINT "case_parts_pkey" PRIMARY KEY ("case_id", "user_id")
);
--> statement-breakpoint
-- The cases of a person, for a total counted from the people's side.
CREATE INDEX "case_parts_user_idx" ON "case_parts" USING btree ("user_id", "case_id");
--> statement-breakpoint
-- Named on or acted on the case itself.
CREATE OR REPLACE FUNCTION case_part_named(p_case text, p_user text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM cases c WHERE c.id = p_case AND (c.initiator_id = p_user OR c.owner_id = p_user))
      OR EXISTS (SELECT 1 FROM tasks t WHERE t.case_id = p_case AND t.assignee_id = p_user)
      OR EXISTS (SELECT 1 FROM audit_events e WHERE e.actor_id = p_user AND e.case_id = p_case)
$$;
--> statement-breakpoint
-- The rule case_parts holds: named or acted on the case or on a case opened from it.
CREATE OR REPLACE FUNCTION case_part_holds(p_case text, p_user text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT case_part_named(p_case, p_user)
      OR EXISTS (SELECT 1 FROM cases k WHERE k.parent_case_id = p_case AND case_part_named(k.id, p_user))
$$;
--> statement-breakpoint
-- Locks the cases whose parts a statement changes (see above): shared to add, exclusive to end.
CREATE OR REPLACE FUNCTION case_parts_lock(p_cases text[], p_exclusive boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  k integer;
BEGIN
  IF cardinality(p_cases) > 64 THEN
    PERFORM pg_advisory_xact_lock(727004, 0);
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock_shared(727004, 0);
  FOR k IN SELECT DISTINCT hashtext(c) FROM unnest(p_cases) c ORDER BY 1 LOOP
    IF p_exclusive THEN
      PERFORM pg_advisory_xact_lock(727003, k);
    ELSE
      PERFORM pg_advisory_xact_lock_shared(727003, k);
    END IF;
  END LOOP;
END;
$$;
--> statement-breakpoint
-- The pairs (case, person) and (the case's parent, person), without repeats or NULLs.
CREATE OR REPLACE FUNCTION case_parts_with_parents(p_cases text[], p_users text[], OUT o_cases text[], OUT o_users text[])
LANGUAGE sql STABLE AS $$
  SELECT array_agg(x.c), array_agg(x.u)
    FROM (SELECT DISTINCT y.c, y.u
            FROM (SELECT s.c, s.u FROM unnest(p_cases, p_users) s(c, u)
                  UNION ALL
                  SELECT k.parent_case_id, s.u FROM unnest(p_cases, p_users) s(c, u) JOIN cases k ON k.id = s.c) y
           WHERE y.c IS NOT NULL AND y.u IS NOT NULL) x
$$;
--> statement-breakpoint
-- The parts a write gave: each (case, person), and the same person at the case's parent.
CREATE OR REPLACE FUNCTION case_parts_add(p_cases text[], p_users text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  pairs record;
BEGIN
  SELECT * INTO pairs FROM case_parts_with_parents(p_cases, p_users);
  IF pairs.o_cases IS NULL THEN
    RETURN;
  END IF;
  PERFORM case_parts_lock(ARRAY(SELECT DISTINCT unnest(pairs.o_cases)), false);
  INSERT INTO case_parts (case_id, user_id)
  SELECT c, u FROM unnest(pairs.o_cases, pairs.o_users) s(c, u)
  ON CONFLICT DO NOTHING;
END;
$$;
--> statement-breakpoint
-- The parts a write may have ended: each (case, person), and at the case's
-- parent, deleted unless the rows still give them. The delete is a statement
-- of its own after the lock, so it sees what committed while it waited.
CREATE OR REPLACE FUNCTION case_parts_recheck(p_cases text[], p_users text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  pairs record;
BEGIN
  SELECT * INTO pairs FROM case_parts_with_parents(p_cases, p_users);
  IF pairs.o_cases IS NULL THEN
    RETURN;
  END IF;
  PERFORM case_parts_lock(ARRAY(SELECT DISTINCT unnest(pairs.o_cases)), true);
  DELETE FROM case_parts p
   USING unnest(pairs.o_cases, pairs.o_users) s(c, u)
   WHERE p.case_id = s.c AND p.user_id = s.u AND NOT case_part_holds(s.c, s.u);
END;
$$;
--> statement-breakpoint
-- The people a case names or who acted on it (not those of the cases opened from it).
CREATE OR REPLACE FUNCTION case_parts_direct_people(p_cases text[], OUT o_cases text[], OUT o_users text[])
LANGUAGE sql STABLE AS $$
  SELECT array_agg(x.c), array_agg(x.u)
    FROM (SELECT c.id AS c, c.initiator_id AS u FROM cases c WHERE c.id = ANY (p_cases)
          UNION ALL SELECT c.id, c.owner_id FROM cases c WHERE c.id = ANY (p_cases)
          UNION ALL SELECT t.case_id, t.assignee_id FROM tasks t WHERE t.case_id = ANY (p_cases)
          UNION ALL SELECT e.case_id, e.actor_id FROM audit_events e WHERE e.case_id = ANY (p_cases)) x
   WHERE x.u IS NOT NULL
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION case_parts_cases_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  linked record;
BEGIN
  PERFORM case_parts_add(array_agg(x.c), array_agg(x.u))
     FROM (SELECT n.id AS c, n.initiator_id AS u FROM new_rows n
           UNION ALL SELECT n.id, n.owner_id FROM new_rows n) x;
  -- A case opened from another may have tasks and audit events already (a case row written after its first events).
  SELECT * INTO linked FROM case_parts_direct_people(ARRAY(SELECT n.id FROM new_rows n WHERE n.parent_case_id IS NOT NULL));
  PERFORM case_parts_add(linked.o_cases, linked.o_users);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- Only rows whose people or parent changed: a stage or status change touches no part.
CREATE OR REPLACE FUNCTION case_parts_cases_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  changed text[];
  relinked text[];
  linked record;
BEGIN
  SELECT array_agg(n.id) INTO changed
    FROM new_rows n
   WHERE NOT EXISTS (SELECT 1 FROM old_rows o
                      WHERE o.id = n.id AND o.initiator_id = n.initiator_id
                        AND o.owner_id IS NOT DISTINCT FROM n.owner_id
                        AND o.parent_case_id IS NOT DISTINCT FROM n.parent_case_id);
  IF changed IS NULL THEN
    RETURN NULL;
  END IF;
  PERFORM case_parts_add(array_agg(x.c), array_agg(x.u))
     FROM (SELECT n.id AS c, n.initiator_id AS u FROM new_rows n WHERE n.id = ANY (changed)
           UNION ALL SELECT n.id, n.owner_id FROM new_rows n WHERE n.id = ANY (changed)) x;
  SELECT array_agg(n.id) INTO relinked
    FROM new_rows n
   WHERE n.id = ANY (changed)
     AND NOT EXISTS (SELECT 1 FROM old_rows o WHERE o.id = n.id AND o.parent_case_id IS NOT DISTINCT FROM n.parent_case_id);
  SELECT * INTO linked FROM case_parts_direct_people(relinked);
  -- Linked to a parent: the child's people take a part in it (case_parts_add adds them at the parent).
  PERFORM case_parts_add(linked.o_cases, linked.o_users);
  -- What may have ended: the old initiator and owner (on the case and its parents, old and new), and,
  -- when the parent changed, every person of the case at the old parent.
  PERFORM case_parts_recheck(array_agg(x.c), array_agg(x.u))
     FROM (SELECT o.id AS c, o.initiator_id AS u FROM old_rows o WHERE o.id = ANY (changed)
           UNION ALL SELECT o.id, o.owner_id FROM old_rows o WHERE o.id = ANY (changed)
           UNION ALL SELECT o.parent_case_id, o.initiator_id FROM old_rows o WHERE o.id = ANY (changed)
           UNION ALL SELECT o.parent_case_id, o.owner_id FROM old_rows o WHERE o.id = ANY (changed)
           UNION ALL SELECT o.parent_case_id, p.u
                       FROM old_rows o
                       JOIN unnest(linked.o_cases, linked.o_users) p(c, u) ON p.c = o.id) x;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION case_parts_cases_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  gone record;
BEGIN
  -- The deleted cases' tasks and events (if any remain) no longer reach their parents.
  SELECT * INTO gone FROM case_parts_direct_people(ARRAY(SELECT o.id FROM old_rows o));
  PERFORM case_parts_recheck(array_agg(x.c), array_agg(x.u))
     FROM (SELECT o.id AS c, o.initiator_id AS u FROM old_rows o
           UNION ALL SELECT o.id, o.owner_id FROM old_rows o
           UNION ALL SELECT o.parent_case_id, o.initiator_id FROM old_rows o
           UNION ALL SELECT o.parent_case_id, o.owner_id FROM old_rows o
           UNION ALL SELECT o.parent_case_id, p.u
                       FROM old_rows o
                       JOIN unnest(gone.o_cases, gone.o_users) p(c, u) ON p.c = o.id) x;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION case_parts_tasks_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM case_parts_add(array_agg(n.case_id), array_agg(n.assignee_id))
     FROM new_rows n WHERE n.assignee_id IS NOT NULL;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- Only rows whose assignee or case changed: a vote or a status change touches no part.
CREATE OR REPLACE FUNCTION case_parts_tasks_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM case_parts_add(array_agg(n.case_id), array_agg(n.assignee_id))
     FROM new_rows n
    WHERE n.assignee_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM old_rows o
                       WHERE o.id = n.id AND o.case_id = n.case_id AND o.assignee_id = n.assignee_id);
  PERFORM case_parts_recheck(array_agg(o.case_id), array_agg(o.assignee_id))
     FROM old_rows o
    WHERE o.assignee_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM new_rows n
                       WHERE n.id = o.id AND n.case_id = o.case_id AND n.assignee_id = o.assignee_id);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION case_parts_tasks_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM case_parts_recheck(array_agg(o.case_id), array_agg(o.assignee_id))
     FROM old_rows o WHERE o.assignee_id IS NOT NULL;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- Audit events are only ever appended (migration 0001): no update or delete trigger.
CREATE OR REPLACE FUNCTION case_parts_audit_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM case_parts_add(array_agg(n.case_id), array_agg(n.actor_id))
     FROM new_rows n WHERE n.case_id IS NOT NULL;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- Every part, from scratch: the backfill below, and what the tests and the
-- reads bench hold the triggers' table to.
CREATE OR REPLACE FUNCTION case_parts_derived() RETURNS TABLE (case_id text, user_id text)
LANGUAGE sql STABLE AS $$
  WITH direct AS (
    SELECT c.id AS case_id, c.initiator_id AS user_id FROM cases c
    UNION SELECT c.id, c.owner_id FROM cases c WHERE c.owner_id IS NOT NULL
    UNION SELECT t.case_id, t.assignee_id FROM tasks t WHERE t.assignee_id IS NOT NULL
    UNION SELECT e.case_id, e.actor_id FROM audit_events e WHERE e.case_id IS NOT NULL
  )
  SELECT d.case_id, d.user_id FROM direct d
  UNION
  SELECT k.parent_case_id, d.user_id FROM direct d JOIN cases k ON k.id = d.case_id WHERE k.parent_case_id IS NOT NULL
$$;
--> statement-breakpoint
-- The parts of the cases already there.
INSERT INTO case_parts (case_id, user_id) SELECT case_id, user_id FROM case_parts_derived();
--> statement-breakpoint
-- Statement triggers with transition tables: a bulk write (a seed, a backfill) is one call, not one per row.
CREATE TRIGGER case_parts_cases_inserted AFTER INSERT ON cases
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION case_parts_cases_inserted();
--> statement-breakpoint
CREATE TRIGGER case_parts_cases_updated AFTER UPDATE ON cases
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION case_parts_cases_updated();
--> statement-breakpoint
CREATE TRIGGER case_parts_cases_deleted AFTER DELETE ON cases
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION case_parts_cases_deleted();
--> statement-breakpoint
CREATE TRIGGER case_parts_tasks_inserted AFTER INSERT ON tasks
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION case_parts_tasks_inserted();
--> statement-breakpoint
CREATE TRIGGER case_parts_tasks_updated AFTER UPDATE ON tasks
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION case_parts_tasks_updated();
--> statement-breakpoint
CREATE TRIGGER case_parts_tasks_deleted AFTER DELETE ON tasks
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION case_parts_tasks_deleted();
--> statement-breakpoint
CREATE TRIGGER case_parts_audit_inserted AFTER INSERT ON audit_events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION case_parts_audit_inserted();
