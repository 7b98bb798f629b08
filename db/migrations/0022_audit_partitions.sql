-- The audit chain in partitions (issue 15 §2; db/audit.ts, README "An audit
-- trail nobody can rewrite").
--
-- Until now every audited write took one global advisory lock to append to
-- one chain. From here on the chain is split into a fixed number of
-- partitions (audit_chain_config.partitions, written once here): an event
-- goes to the partition of a stable hash of its case id (or of its subject
-- outside any case), each partition is a hash chain of its own with its own
-- counter (part_seq) and its own lock, so writes to different partitions never
-- wait for each other. Checkpoint events (partition -1, db/audit.ts) chain the
-- Merkle root of every partition head; the anchoring workflow signs those.
--
-- Existing chains are not rewritten: the rows already there keep
-- chain_part NULL and form the legacy segment, verified as before (hash v1,
-- one global seq without gaps) up to the head recorded in
-- audit_chain_config, which every checkpoint covers. Nothing is re-hashed,
-- so anchors signed before this migration still hold. Writers must be
-- stopped while it runs (migrations run before the API and the worker
-- start): a row appended the old way after it would fall outside every chain,
-- and verify names it.
--
-- `seq` stays the table's key and its order: it now comes from a sequence
-- (taken under the partition's lock, so a partition's rows are in seq order
-- too). It has gaps where a transaction rolled back, and is no longer the
-- chain's link: part_seq is, within a partition.
ALTER TABLE "audit_events" ADD COLUMN "chain_part" smallint;
--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "part_seq" bigint;
--> statement-breakpoint
CREATE UNIQUE INDEX "audit_events_part_idx" ON "audit_events" USING btree ("chain_part", "part_seq");
--> statement-breakpoint
CREATE SEQUENCE "audit_events_seq_seq" AS bigint OWNED BY "audit_events"."seq";
--> statement-breakpoint
SELECT setval('audit_events_seq_seq', coalesce((SELECT max(seq) FROM audit_events), 0) + 1, false);
--> statement-breakpoint
ALTER TABLE "audit_events" ALTER COLUMN "seq" SET DEFAULT nextval('audit_events_seq_seq');
--> statement-breakpoint
-- One row, for good: the partition count cannot change without moving cases
-- between chains. Policy default 16 (README "An audit trail nobody can
-- rewrite": measured with bench/audit.bench.ts, 16 partitions keep 32
-- concurrent writers mostly out of each other's way, and a checkpoint is 17
-- leaves).
CREATE TABLE "audit_chain_config" (
  "id" smallint PRIMARY KEY DEFAULT 1 CHECK ("id" = 1),
  "partitions" smallint NOT NULL CHECK ("partitions" BETWEEN 1 AND 1024),
  "hash_version" smallint NOT NULL,
  "legacy_last_seq" bigint NOT NULL,
  "legacy_last_hash" text NOT NULL,
  "created_at" timestamp (3) with time zone NOT NULL DEFAULT now()
);
--> statement-breakpoint
INSERT INTO "audit_chain_config" ("partitions", "hash_version", "legacy_last_seq", "legacy_last_hash")
SELECT 16, 2, coalesce(max(seq), 0),
       coalesce((SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1), repeat('0', 64))
  FROM audit_events;
--> statement-breakpoint
-- The guard of migration 0001, naming the table it guards.
CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
-- Append-only like audit_events, so migration 0018's grants give the runtime role only SELECT and INSERT.
CREATE TRIGGER audit_chain_config_append_only
  BEFORE UPDATE OR DELETE ON audit_chain_config
  FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_chain_config_no_truncate
  BEFORE TRUNCATE ON audit_chain_config
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();
--> statement-breakpoint
-- One field of the v2 hash: its UTF-8 length, a colon and the text; '-' for
-- NULL. Length-prefixed, so no two rows give the same bytes.
CREATE OR REPLACE FUNCTION audit_hash_field(v text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN v IS NULL THEN '-' ELSE octet_length(v)::text || ':' || v END
$$;
--> statement-breakpoint
-- The v2 hash of an event in a partition: over what the row stores, as
-- PostgreSQL prints it (jsonb's text form is canonical: sorted keys, fixed
-- spacing), so verify hashes the text it reads without parsing or
-- re-serialising the payload. db/audit.ts (auditHashV2) computes the same
-- bytes; the unit test holds both to one known value.
CREATE OR REPLACE FUNCTION audit_hash_v2(
  prev_hash text, chain_part smallint, part_seq bigint, seq bigint, occurred_at timestamptz,
  actor_id text, action text, case_id text, task_id text, reason text, payload jsonb, evidence_hashes jsonb
) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT encode(sha256(convert_to(
    'audit/v2' || E'\n' || prev_hash || E'\n'
      || audit_hash_field(chain_part::text) || audit_hash_field(part_seq::text) || audit_hash_field(seq::text)
      || audit_hash_field(((extract(epoch FROM occurred_at) * 1000)::bigint)::text)
      || audit_hash_field(actor_id) || audit_hash_field(action) || audit_hash_field(case_id)
      || audit_hash_field(task_id) || audit_hash_field(reason)
      || audit_hash_field(payload::text) || audit_hash_field(evidence_hashes::text),
    'UTF8')), 'hex')
$$;
--> statement-breakpoint
-- The partition of a case id or subject: the first four bytes of its SHA-256,
-- big-endian, modulo the partition count (db/audit.ts partitionOf, the same).
CREATE OR REPLACE FUNCTION audit_partition_of(partition_key text, partitions smallint) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (('x' || substr(encode(sha256(convert_to(partition_key, 'UTF8')), 'hex'), 1, 8))::bit(32)::bigint
          % partitions)::smallint
$$;
--> statement-breakpoint
-- Appends one event in one round trip to partition p_part, or (NULL) to the
-- partition of p_partition_key: takes the partition's
-- lock for the rest of the transaction, reads its head, numbers and hashes
-- the event, inserts it. Each statement of a plpgsql function sees what
-- committed before it began, so the head read after the lock is current.
-- Returns no row when the idempotency key exists already (the caller rolls
-- back: a concurrent retry won). A seq already taken (a row inserted with an
-- explicit seq, past the sequence) moves the sequence past the table's end.
CREATE OR REPLACE FUNCTION audit_append(
  p_part smallint, p_partition_key text, p_key text, p_occurred_at timestamptz, p_actor_id text, p_action text,
  p_case_id text, p_task_id text, p_reason text, p_payload jsonb, p_evidence_hashes jsonb
) RETURNS SETOF audit_events
LANGUAGE plpgsql AS $$
DECLARE
  head record;
  v_part_seq bigint;
  v_prev text;
  v_seq bigint;
  inserted audit_events;
BEGIN
  IF p_part IS NULL THEN
    p_part := audit_partition_of(p_partition_key, (SELECT partitions FROM audit_chain_config));
  END IF;
  PERFORM pg_advisory_xact_lock(727002, p_part);
  SELECT e.part_seq, e.hash INTO head
    FROM audit_events e WHERE e.chain_part = p_part ORDER BY e.part_seq DESC LIMIT 1;
  v_part_seq := coalesce(head.part_seq, 0) + 1;
  v_prev := coalesce(head.hash, repeat('0', 64));
  FOR attempt IN 1..3 LOOP
    v_seq := nextval('audit_events_seq_seq');
    INSERT INTO audit_events AS e (seq, idempotency_key, occurred_at, actor_id, action, case_id, task_id, reason,
                                   payload, evidence_hashes, prev_hash, hash, chain_part, part_seq)
    VALUES (v_seq, p_key, p_occurred_at, p_actor_id, p_action, p_case_id, p_task_id, p_reason,
            p_payload, p_evidence_hashes, v_prev,
            audit_hash_v2(v_prev, p_part, v_part_seq, v_seq, p_occurred_at, p_actor_id, p_action, p_case_id,
                          p_task_id, p_reason, p_payload, p_evidence_hashes),
            p_part, v_part_seq)
    ON CONFLICT DO NOTHING
    RETURNING * INTO inserted;
    IF FOUND THEN
      RETURN NEXT inserted;
      RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM audit_events WHERE idempotency_key = p_key) THEN
      RETURN;
    END IF;
    PERFORM setval('audit_events_seq_seq', (SELECT max(seq) FROM audit_events));
  END LOOP;
  RAISE EXCEPTION 'audit_append: no free seq in partition % after 3 attempts', p_part;
END;
$$;
