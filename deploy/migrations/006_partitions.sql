-- 006: touchpoints partitioned by month (RANGE on occurred_at, UTC months).
--
-- Same columns, types and order as before; every existing row is kept.
-- A partitioned table's unique key must contain the partition key, so the
-- publisher's id (the idempotency key: a resent event is never stored twice)
-- is kept unique in touchpoint_ids, which the coordinator writes first.
-- Partitions are named touchpoints_yYYYYmMM; touchpoints_default takes
-- anything outside the created months (docs/schema.md: splitting it).
-- ensure_touchpoint_partitions (from, months) creates the partitions ahead:
-- called here (months of existing data + the next 12) and by the
-- coordinator whenever it connects (the current month + the next 3).

-- The views reading touchpoints (recreated below, exactly as in 005)
DROP VIEW collisions_by_account;
DROP VIEW collisions;
DROP VIEW stage_ownership;
DROP VIEW tone_compliance;
DROP VIEW account_timeline;
DROP VIEW touchpoint_facts;

ALTER TABLE touchpoints RENAME TO touchpoints_unpartitioned;
ALTER INDEX touchpoints_pkey RENAME TO touchpoints_unpartitioned_pkey;
ALTER INDEX touchpoints_account_time RENAME TO touchpoints_unpartitioned_account_time;
ALTER INDEX touchpoints_occurred RENAME TO touchpoints_unpartitioned_occurred;

-- Columns, NOT NULLs, defaults and CHECKs of the old table, in its order
CREATE TABLE touchpoints (LIKE touchpoints_unpartitioned
                          INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE
                          INCLUDING COMMENTS)
    PARTITION BY RANGE (occurred_at);
CREATE INDEX touchpoints_account_time ON touchpoints (account, occurred_at);
CREATE INDEX touchpoints_occurred ON touchpoints (occurred_at);
-- Not unique (touchpoint_ids is): lookups and joins by id (collisions)
CREATE INDEX touchpoints_id ON touchpoints (id);
CREATE TABLE touchpoints_default PARTITION OF touchpoints DEFAULT;

-- Every stored touchpoint's id, once: the idempotency key across partitions
CREATE TABLE touchpoint_ids (
    id          text PRIMARY KEY,               -- touchpoints.id
    occurred_at timestamptz NOT NULL            -- its touchpoints.occurred_at (its partition)
);

-- Creates the monthly partitions of touchpoints for the UTC month holding
-- from_at and the months - 1 after it, those missing; returns how many it
-- created. Rows of those months already in touchpoints_default are moved
-- into the new partition. SECURITY DEFINER: the coordinator's role
-- (dualtrack_writer) calls it at every connect without owning the table.
CREATE FUNCTION ensure_touchpoint_partitions (from_at timestamptz, months integer)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    first_month timestamp := date_trunc ('month', from_at AT TIME ZONE 'UTC');
    low timestamptz;
    high timestamptz;
    part text;
    created integer := 0;
BEGIN
    IF from_at IS NULL OR months IS NULL OR months < 0 OR months > 1200 THEN
        RAISE EXCEPTION 'ensure_touchpoint_partitions: months must be 0 to 1200';
    END IF;
    -- Coordinators connecting at once: one creates, the others see it made
    PERFORM pg_advisory_xact_lock (7238365425113001990);
    FOR i IN 0 .. months - 1 LOOP
        low := (first_month + make_interval (months => i)) AT TIME ZONE 'UTC';
        high := (first_month + make_interval (months => i + 1)) AT TIME ZONE 'UTC';
        part := 'touchpoints_' || to_char (low AT TIME ZONE 'UTC', '"y"YYYY"m"MM');
        CONTINUE WHEN to_regclass (part) IS NOT NULL;
        IF EXISTS (SELECT 1 FROM touchpoints_default
                   WHERE occurred_at >= low AND occurred_at < high) THEN
            -- Split: take the month's rows out of the default partition,
            -- then attach the filled table as that month's partition
            EXECUTE format ('CREATE TABLE %I (LIKE touchpoints INCLUDING DEFAULTS'
                            ' INCLUDING CONSTRAINTS INCLUDING STORAGE)', part);
            EXECUTE format ('WITH moved AS (DELETE FROM touchpoints_default'
                            ' WHERE occurred_at >= %L AND occurred_at < %L RETURNING *)'
                            ' INSERT INTO %I SELECT * FROM moved', low, high, part);
            EXECUTE format ('ALTER TABLE touchpoints ATTACH PARTITION %I'
                            ' FOR VALUES FROM (%L) TO (%L)', part, low, high);
        ELSE
            EXECUTE format ('CREATE TABLE %I PARTITION OF touchpoints'
                            ' FOR VALUES FROM (%L) TO (%L)', part, low, high);
        END IF;
        created := created + 1;
    END LOOP;
    RETURN created;
END $$;
REVOKE ALL ON FUNCTION ensure_touchpoint_partitions (timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ensure_touchpoint_partitions (timestamptz, integer) TO dualtrack_writer;

-- The months of the existing rows and the next 12, then the rows
SELECT ensure_touchpoint_partitions (m, 1)
FROM (SELECT DISTINCT date_trunc ('month', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS m
      FROM touchpoints_unpartitioned) x;
SELECT ensure_touchpoint_partitions (now (), 12);
INSERT INTO touchpoints SELECT * FROM touchpoints_unpartitioned;
INSERT INTO touchpoint_ids (id, occurred_at) SELECT id, occurred_at FROM touchpoints_unpartitioned;
DROP TABLE touchpoints_unpartitioned;

-- touchpoint_ids follows deletions from touchpoints (a deleted event sent
-- again is stored again, as before partitioning)
CREATE FUNCTION touchpoints_forget_ids () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE touchpoint_ids;
    ELSE
        DELETE FROM touchpoint_ids i USING gone g WHERE i.id = g.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER touchpoints_deleted AFTER DELETE ON touchpoints
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION touchpoints_forget_ids ();
CREATE TRIGGER touchpoints_truncated AFTER TRUNCATE ON touchpoints
    FOR EACH STATEMENT EXECUTE FUNCTION touchpoints_forget_ids ();

-- The grants of 004 (partitions are reached through touchpoints)
GRANT SELECT, INSERT ON touchpoints, touchpoint_ids TO dualtrack_writer;
GRANT SELECT ON touchpoints, touchpoint_ids TO dualtrack_analyst;

-- The views of 005, unchanged
CREATE VIEW touchpoint_facts AS
SELECT t.id, t.track, t.account, t.contact, t.stage, s.position AS stage_position,
       s.owner, t.lead, t.advisors, t.category, t.channel, t.kind, t.theme,
       t.occurred_at, (t.occurred_at AT TIME ZONE 'UTC')::date AS day, t.verdict,
       (t.track = 'marketing' OR t.lead = 'marketing' OR 'marketing' = ANY (t.advisors))
           AS marketing_part,
       (t.track = 'sales' OR t.lead = 'sales' OR 'sales' = ANY (t.advisors)) AS sales_part,
       ((t.track = 'marketing' OR t.lead = 'marketing' OR 'marketing' = ANY (t.advisors))
        AND (t.track = 'sales' OR t.lead = 'sales' OR 'sales' = ANY (t.advisors))) AS joint,
       t.track <> s.owner AS outside_ownership,
       (t.track <> s.owner AND t.lead <> s.owner AND NOT s.owner = ANY (t.advisors))
           AS outside_not_joint,
       NOT EXISTS (SELECT 1 FROM findings f
                   WHERE f.touchpoint_id = t.id
                     AND f.rule IN (SELECT r.rule FROM rule_catalog r WHERE r.tone)) AS tone_ok
FROM touchpoints t
LEFT JOIN stage_owners s ON s.stage = t.stage;

CREATE VIEW tone_compliance AS
SELECT track, theme,
       count(*) AS touchpoints,
       count(*) FILTER (WHERE tone_ok) AS compliant,
       count(*) FILTER (WHERE NOT tone_ok) AS with_tone_findings,
       round(count(*) FILTER (WHERE tone_ok)::numeric / count(*), 4) AS compliance
FROM touchpoint_facts
GROUP BY track, theme;

CREATE VIEW account_timeline AS
SELECT t.account, t.occurred_at, (t.occurred_at AT TIME ZONE 'UTC')::date AS day,
       t.id, t.contact, t.stage, s.owner, t.track, t.lead, t.advisors,
       CASE WHEN t.track = 'marketing' THEN t.channel || ' ' || t.kind END AS marketing_touch,
       CASE WHEN t.lead = 'marketing' THEN 'lead'
            WHEN 'marketing' = ANY (t.advisors) THEN 'advisor'
            WHEN t.track = 'marketing' THEN 'publisher' END AS marketing_role,
       CASE WHEN t.track = 'sales' THEN t.channel || ' ' || t.kind END AS sales_touch,
       CASE WHEN t.lead = 'sales' THEN 'lead'
            WHEN 'sales' = ANY (t.advisors) THEN 'advisor'
            WHEN t.track = 'sales' THEN 'publisher' END AS sales_role,
       t.theme, t.verdict,
       f.finding_count, f.rules, f.findings
FROM touchpoints t
LEFT JOIN stage_owners s ON s.stage = t.stage
CROSS JOIN LATERAL (
    SELECT count(*) AS finding_count,
           coalesce (string_agg (x.rule, ',' ORDER BY x.finding_no), '') AS rules,
           coalesce (jsonb_agg (jsonb_build_object ('rule', x.rule, 'severity', x.severity,
                                                    'message', x.message, 'related', x.related)
                                ORDER BY x.finding_no), '[]'::jsonb) AS findings
    FROM findings x WHERE x.touchpoint_id = t.id) f;

CREATE VIEW stage_ownership AS
SELECT coalesce (s.stage, a.stage) AS stage, s.position, s.owner,
       coalesce (a.touches, 0) AS touches,
       coalesce (a.marketing_touches, 0) AS marketing_touches,
       coalesce (a.sales_touches, 0) AS sales_touches,
       coalesce (a.joint_touches, 0) AS joint_touches,
       coalesce (a.outside_ownership, 0) AS outside_ownership,
       coalesce (a.outside_not_joint, 0) AS outside_not_joint
FROM stage_owners s
FULL JOIN (
    SELECT stage, count(*) AS touches,
           count(*) FILTER (WHERE track = 'marketing') AS marketing_touches,
           count(*) FILTER (WHERE track = 'sales') AS sales_touches,
           count(*) FILTER (WHERE joint) AS joint_touches,
           count(*) FILTER (WHERE outside_ownership) AS outside_ownership,
           count(*) FILTER (WHERE outside_not_joint) AS outside_not_joint
    FROM touchpoint_facts GROUP BY stage) a ON a.stage = s.stage;

CREATE VIEW collisions AS
SELECT f.touchpoint_id, f.account, t.contact, f.track, f.severity, f.occurred_at,
       (f.occurred_at AT TIME ZONE 'UTC')::date AS day, f.related, f.message
FROM findings f
JOIN touchpoints t ON t.id = f.touchpoint_id
WHERE f.rule = 'collision';

CREATE VIEW collisions_by_account AS
WITH involved AS (
    SELECT c.account, count(DISTINCT x.id) AS touchpoints
    FROM collisions c, unnest (c.related || c.touchpoint_id) AS x (id)
    GROUP BY c.account)
SELECT c.account,
       count(*) AS collisions,
       count(*) FILTER (WHERE c.track = 'marketing') AS marketing,
       count(*) FILTER (WHERE c.track = 'sales') AS sales,
       count(DISTINCT c.contact) AS contacts,
       i.touchpoints,
       min(c.occurred_at) AS first_at,
       max(c.occurred_at) AS last_at
FROM collisions c
JOIN involved i ON i.account = c.account
GROUP BY c.account, i.touchpoints;

-- Views get SELECT for analysts through 004's default privileges; said
-- again here in case the migrations run as another role than 004's
GRANT SELECT ON touchpoint_facts, tone_compliance, account_timeline, stage_ownership,
                collisions, collisions_by_account TO dualtrack_analyst;
