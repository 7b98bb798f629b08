-- Cheaper audited writes (issue 15 §2; bench/audit.bench.ts). What every
-- append paid for and no longer does: PostgreSQL's CPU per audit_append call
-- in one session went from 1.4–1.8 ms to 0.24–0.28 ms, and the backends' CPU
-- per audited write in the bench from 2.4–3.7 ms to 1.0–2.0 ms.
--
-- 1. case_parts upkeep (migration 0024) for an actor who acted on the case
--    before. An audit event is never changed or deleted, so an earlier event
--    of the same actor on the same case already gave that actor their part in
--    the case (and, through the relinking triggers of 0024, in whatever case
--    it is opened from) for good: no later write can end it, so the new one
--    adds nothing and needs neither the rows nor the case's lock. Only the
--    first event of each actor on a case still goes through case_parts_add.
--    An earlier event of the same statement counts (the lowest seq of the
--    statement's rows for that pair still adds it); a concurrent transaction's
--    event, not yet committed, is not visible and does not count.
CREATE OR REPLACE FUNCTION case_parts_audit_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  new_cases text[];
  new_actors text[];
BEGIN
  SELECT array_agg(n.case_id), array_agg(n.actor_id) INTO new_cases, new_actors
    FROM new_rows n
   WHERE n.case_id IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM audit_events e
                      WHERE e.actor_id = n.actor_id AND e.case_id = n.case_id AND e.seq < n.seq);
  IF new_cases IS NOT NULL THEN
    PERFORM case_parts_add(new_cases, new_actors);
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- 2. Planning case_parts_with_parents on every call. A LANGUAGE sql function
--    that is not inlined (it returns a record) is parsed and planned again at
--    each call from PL/pgSQL; the same query in PL/pgSQL keeps its plan for
--    the session. Same query, same result: every writer of case_parts (tasks,
--    cases, audit events) gains.
CREATE OR REPLACE FUNCTION case_parts_with_parents(p_cases text[], p_users text[], OUT o_cases text[], OUT o_users text[])
LANGUAGE plpgsql STABLE AS $$
BEGIN
  SELECT array_agg(x.c), array_agg(x.u) INTO o_cases, o_users
    FROM (SELECT DISTINCT y.c, y.u
            FROM (SELECT s.c, s.u FROM unnest(p_cases, p_users) s(c, u)
                  UNION ALL
                  SELECT k.parent_case_id, s.u FROM unnest(p_cases, p_users) s(c, u) JOIN cases k ON k.id = s.c) y
           WHERE y.c IS NOT NULL AND y.u IS NOT NULL) x;
END;
$$;
--> statement-breakpoint
-- 3. Planning the hash and the partition at every append. Migration 0022
--    declared audit_hash_v2 and audit_partition_of IMMUTABLE, but they call
--    STABLE functions (convert_to, extract from a timestamptz), and
--    PostgreSQL never inlines an IMMUTABLE SQL function whose body is not:
--    each call then ran the function's own query, parsed and planned again in
--    every transaction. Declared STABLE (what they are), they are inlined into
--    audit_append's INSERT, whose plan PL/pgSQL keeps. The bytes hashed do
--    not change.
ALTER FUNCTION audit_hash_v2(text, smallint, bigint, bigint, timestamptz, text, text, text, text, text, jsonb, jsonb) STABLE;
--> statement-breakpoint
ALTER FUNCTION audit_partition_of(text, smallint) STABLE;
