-- 013: cheaper index upkeep per stored touchpoint (issue 18).
--
-- Identifier columns compare bytewise (COLLATE "C"): their order under a
-- language's collation means nothing to anyone, and a btree over text in a
-- libc collation calls strcoll, after copying both strings, at every step of
-- every descent. Equality is the same under any deterministic collation, so
-- no lookup finds more or less; only ORDER BY such a column sorts by byte
-- (docs/schema.md says so). The alias tables were made so (007).
-- Text people read (bodies, themes, claim values, messages) keeps the
-- database's collation.
--
-- touchpoints_occurred becomes a BRIN index: touchpoints arrive nearly in
-- occurred_at order, so a summary per 128 pages finds a time range at a
-- fraction of a btree's upkeep. findings_day likewise. findings_rule_time
-- goes: the documented queries of one rule over a period find their rows
-- through findings_day or the touchpoints as fast (bench/explain), and every
-- finding paid for it. findings_account stays: a buyer's collisions need it.
--
-- A column's collation can not change under a view, so the views are saved,
-- dropped and made again as they were, with their grants.

CREATE TEMP TABLE saved_views ON COMMIT DROP AS
SELECT c.oid, c.relname, pg_get_viewdef (c.oid) AS def, c.relacl
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'v' AND n.nspname = 'public';

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT relname FROM saved_views LOOP
        EXECUTE format ('DROP VIEW IF EXISTS %I CASCADE', r.relname);
    END LOOP;
END $$;

ALTER TABLE touchpoint_ids ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE touchpoints
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN source TYPE text COLLATE "C",
    ALTER COLUMN account TYPE text COLLATE "C",
    ALTER COLUMN contact TYPE text COLLATE "C",
    ALTER COLUMN actor TYPE text COLLATE "C",
    ALTER COLUMN project TYPE text COLLATE "C",
    ALTER COLUMN account_key TYPE text COLLATE "C",
    ALTER COLUMN contact_key TYPE text COLLATE "C",
    ALTER COLUMN publisher TYPE text COLLATE "C";
ALTER TABLE findings
    ALTER COLUMN touchpoint_id TYPE text COLLATE "C",
    ALTER COLUMN rule TYPE text COLLATE "C",
    ALTER COLUMN account TYPE text COLLATE "C",
    ALTER COLUMN related TYPE text[] COLLATE "C",
    ALTER COLUMN account_key TYPE text COLLATE "C";
ALTER TABLE rule_catalog ALTER COLUMN rule TYPE text COLLATE "C";

DROP INDEX touchpoints_occurred;
CREATE INDEX touchpoints_occurred ON touchpoints USING brin (occurred_at);
DROP INDEX findings_day;
CREATE INDEX findings_day ON findings USING brin (((occurred_at AT TIME ZONE 'UTC')::date));
DROP INDEX findings_rule_time;

-- The views again, each once the views it reads exist, with their grants
DO $$
DECLARE
    r record;
    g record;
    left_over integer;
    made integer;
BEGIN
    LOOP
        made := 0;
        FOR r IN SELECT * FROM saved_views s WHERE to_regclass (quote_ident (s.relname)) IS NULL ORDER BY s.oid LOOP
            BEGIN
                EXECUTE format ('CREATE VIEW %I AS %s', r.relname, r.def);
                made := made + 1;
            EXCEPTION WHEN undefined_table THEN
                NULL;
            END;
        END LOOP;
        SELECT count(*) INTO left_over FROM saved_views s WHERE to_regclass (quote_ident (s.relname)) IS NULL;
        EXIT WHEN left_over = 0;
        IF made = 0 THEN
            RAISE EXCEPTION 'migration 013: % views could not be made again', left_over;
        END IF;
    END LOOP;
    FOR r IN SELECT * FROM saved_views LOOP
        FOR g IN SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident (pg_get_userbyid (a.grantee)) END AS who,
                        a.privilege_type
                 FROM aclexplode (r.relacl) a
                 WHERE a.grantee <> a.grantor LOOP
            EXECUTE format ('GRANT %s ON %I TO %s', g.privilege_type, r.relname, g.who);
        END LOOP;
    END LOOP;
END $$;
