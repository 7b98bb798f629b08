-- Two roles (issue 14 §4): the owner role runs the migrations and owns every
-- table, trigger and function; the app's runtime role gets only the rows it
-- needs. Only an owner can ALTER, DISABLE TRIGGER, DROP or TRUNCATE a table,
-- so the runtime role cannot switch the append-only guard of migration 0001
-- off. db/migrate.ts calls this after the migrations whenever it runs them
-- as an owner for a separate runtime role (DATABASE_OWNER_URL); with one
-- role (a developer's machine, PGlite) it is never called.
--
-- Append-only tables are those guarded by audit_events_refuse_change (today
-- audit_events; the per-partition chains of a later issue carry the same
-- trigger): the runtime role may only read and append to them. Every other
-- table in public may be read and written, never truncated.
CREATE OR REPLACE FUNCTION governance_grant_runtime_role(runtime_role name) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  t record;
BEGIN
  IF runtime_role = current_user THEN
    RAISE EXCEPTION 'the runtime role % is the owner role: give the app a role of its own', runtime_role;
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', runtime_role);
  FOR t IN
    SELECT c.oid::regclass AS rel,
           EXISTS (
             SELECT 1 FROM pg_trigger tg JOIN pg_proc p ON p.oid = tg.tgfoid
              WHERE tg.tgrelid = c.oid AND p.proname = 'audit_events_refuse_change'
           ) AS append_only
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
  LOOP
    EXECUTE format('REVOKE ALL ON %s FROM %I', t.rel, runtime_role);
    IF t.append_only THEN
      EXECUTE format('GRANT SELECT, INSERT ON %s TO %I', t.rel, runtime_role);
    ELSE
      EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %I', t.rel, runtime_role);
    END IF;
  END LOOP;
  EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', runtime_role);
  -- Tables a later migration adds are readable and writable at once; this
  -- function runs again after it and narrows any append-only one.
  EXECUTE format(
    'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', runtime_role);
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO %I', runtime_role);
  -- The runtime role checks at start-up that no migration is pending.
  EXECUTE format('GRANT USAGE ON SCHEMA drizzle TO %I', runtime_role);
  EXECUTE format('GRANT SELECT ON drizzle.__drizzle_migrations TO %I', runtime_role);
END;
$$;
--> statement-breakpoint
-- Nobody but the owner may call it (functions are executable by PUBLIC by default).
REVOKE ALL ON FUNCTION governance_grant_runtime_role(name) FROM PUBLIC;
