-- 011: policy as code (issue 15, docs/policy.md). The whole policy (tone
-- book and rule settings) is one YAML file; each `dualtrack policy apply`
-- stores its whole text, comments included, as a new version. The newest
-- version is the live one: the coordinator loads it at start and on the
-- NOTIFY 'dualtrack_policy' every insert sends, refusing a broken one and
-- keeping the previous (tonebook_reloads records both, as for the tone book).
-- Versions are never changed or deleted: a rollback applies an old text as
-- a new version.

CREATE TABLE policy_versions (
    number      integer PRIMARY KEY CHECK (number > 0),
    text        text NOT NULL,              -- the file as applied, comments included
    hash        text NOT NULL,              -- sha256 of text (hex), set by the trigger
    note        text NOT NULL DEFAULT '',   -- why (`apply --note`)
    applied_by  text NOT NULL,              -- the PostgreSQL role that applied it
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- Who and when are the server's word, not the client's
CREATE FUNCTION policy_version_stamp () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.hash := encode (sha256 (convert_to (NEW.text, 'UTF8')), 'hex');
    NEW.applied_by := current_user;
    NEW.applied_at := now ();
    RETURN NEW;
END $$;
CREATE TRIGGER policy_versions_stamp BEFORE INSERT ON policy_versions
    FOR EACH ROW EXECUTE FUNCTION policy_version_stamp ();

CREATE FUNCTION policy_version_added () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify ('dualtrack_policy', NEW.number::text);
    RETURN NULL;
END $$;
CREATE TRIGGER policy_versions_added AFTER INSERT ON policy_versions
    FOR EACH ROW EXECUTE FUNCTION policy_version_added ();

-- The coordinator's rule options (flags, environment, config file): the
-- defaults of what a policy file leaves out, recorded at each start so the
-- CLI's diff and export see what the coordinator sees
CREATE TABLE policy_defaults (
    setting     text PRIMARY KEY,           -- a settings key: collision.window, ...
    value       text NOT NULL,              -- its text form: 72h, warn, ...
    recorded_at timestamptz NOT NULL DEFAULT now()
);

-- The policy version each verdict and finding was judged under; 0: before
-- any policy (the tone-book tables and the coordinator's options)
ALTER TABLE touchpoints ADD COLUMN policy_version integer NOT NULL DEFAULT 0;
ALTER TABLE findings ADD COLUMN policy_version integer NOT NULL DEFAULT 0;

-- Roles (004): a group role for the people who apply policies; the
-- coordinator reads versions and records its options; analysts read all
-- (004's default privileges)
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dualtrack_policy') THEN
        CREATE ROLE dualtrack_policy NOLOGIN;
    END IF;
END $$;
GRANT USAGE ON SCHEMA public TO dualtrack_policy;
GRANT SELECT, INSERT ON policy_versions TO dualtrack_policy;
GRANT SELECT ON policy_defaults, tone_themes, tone_claims, tone_banned, tonebook_reloads,
    stage_owners TO dualtrack_policy;
GRANT SELECT ON policy_versions TO dualtrack_writer;
GRANT SELECT, INSERT, UPDATE ON policy_defaults TO dualtrack_writer;
