-- 002: the coordinator's judgement. A verdict on every touchpoint, the
-- findings behind it, and the tone book (edited with SQL; every change
-- notifies the running coordinator, which reloads it without a restart).

ALTER TABLE touchpoints
    ADD COLUMN verdict text NOT NULL DEFAULT 'ok'
        CHECK (verdict IN ('ok', 'warn', 'violation'));

CREATE TABLE findings (
    touchpoint_id text NOT NULL,            -- the judged touchpoint (touchpoints.id)
    finding_no  smallint NOT NULL,          -- 0, 1, ... within the touchpoint
    rule        text NOT NULL,              -- stage_crossing, collision, ... (proto/PROTOCOL.md)
    severity    text NOT NULL CHECK (severity IN ('info', 'warn', 'violation')),
    message     text NOT NULL,              -- one sentence a manager understands
    related     text[] NOT NULL DEFAULT '{}',   -- other touchpoints involved
    track       text NOT NULL,              -- copied from the touchpoint, for queries
    account     text NOT NULL,
    occurred_at timestamptz NOT NULL,
    found_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (touchpoint_id, finding_no)
);
CREATE INDEX findings_rule_time ON findings (rule, occurred_at);
CREATE INDEX findings_account ON findings (account, occurred_at);

-- The tone book
CREATE TABLE tone_themes (
    name        text PRIMARY KEY,
    stages      text[] NOT NULL,            -- the funnel stages it is approved for
    valid_from  timestamptz,                -- NULL: no start
    valid_to    timestamptz,                -- NULL: no end (exclusive)
    retired     boolean NOT NULL DEFAULT false,
    note        text
);
CREATE TABLE tone_claims (
    key         text PRIMARY KEY,           -- e.g. price, discount, delivery
    value       text NOT NULL               -- the canonical value
);
CREATE TABLE tone_banned (
    phrase      text PRIMARY KEY            -- matched case-insensitively, whole words
);
-- Every reload the coordinator attempted: a broken tone book is refused
-- here with the reason, and the previous one stays in force
CREATE TABLE tonebook_reloads (
    at          timestamptz NOT NULL DEFAULT now(),
    ok          boolean NOT NULL,
    message     text NOT NULL
);

CREATE FUNCTION tonebook_changed () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify ('dualtrack_tonebook', TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER tone_themes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tone_themes
    FOR EACH STATEMENT EXECUTE FUNCTION tonebook_changed ();
CREATE TRIGGER tone_claims_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tone_claims
    FOR EACH STATEMENT EXECUTE FUNCTION tonebook_changed ();
CREATE TRIGGER tone_banned_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tone_banned
    FOR EACH STATEMENT EXECUTE FUNCTION tonebook_changed ();
