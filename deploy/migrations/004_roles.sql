-- 004: who may do what in the store. Group roles (NOLOGIN); operators make
-- login roles IN ROLE one of them (docs/operations.md):
--   dualtrack_writer   what the coordinator needs at run time, nothing more
--   dualtrack_analyst  read-only, everything (views included)
-- Migrations themselves run as the database owner (the first start).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dualtrack_writer') THEN
        CREATE ROLE dualtrack_writer NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dualtrack_analyst') THEN
        CREATE ROLE dualtrack_analyst NOLOGIN;
    END IF;
END $$;

GRANT USAGE ON SCHEMA public TO dualtrack_writer, dualtrack_analyst;

GRANT SELECT, INSERT ON touchpoints, rejects, findings, tonebook_reloads TO dualtrack_writer;
GRANT SELECT ON tone_themes, tone_claims, tone_banned, schema_migrations TO dualtrack_writer;
GRANT USAGE ON SEQUENCE rejects_reject_id_seq TO dualtrack_writer;

GRANT SELECT ON ALL TABLES IN SCHEMA public TO dualtrack_analyst;
-- and whatever later migrations create (views included)
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO dualtrack_analyst;
