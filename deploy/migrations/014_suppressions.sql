-- 014: consent (issue 14). A suppressed buyer, a contact or an account
-- (`kind` says which, `id` names it by any of its ids: the coordinator
-- files it under the canonical id of the alias maps of 007), must not be
-- touched within the row's scope and [since, until): `promotional` exempts
-- transactional touchpoints, `all` does not. Rule `suppressed`
-- (docs/rules.md). Maintained with SQL and `dualtrack suppress`; a row is
-- ended (until set) rather than deleted, so the table is the record of who
-- was suppressed when. Every statement on it notifies
-- 'dualtrack_suppressions'; the coordinator reloads the whole set,
-- validates it (the checks below, again) and records each attempt in
-- suppression_reloads. Ids compare byte for byte (C collation).

CREATE TABLE suppressions (
    suppression_no  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL,                  -- contact | account
    id          text COLLATE "C" NOT NULL,      -- the buyer, as a system writes it
    scope       text NOT NULL DEFAULT 'promotional',   -- promotional | all
    reason      text NOT NULL,                  -- why: unsubscribed, complaint, legal hold
    source      text,                           -- the system the opt-out comes from
    since       timestamptz NOT NULL DEFAULT now(),
    until       timestamptz,                    -- NULL: open, for good
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT current_user,
    CONSTRAINT suppressions_kind CHECK (kind IN ('contact', 'account')),
    CONSTRAINT suppressions_id CHECK (octet_length (id) BETWEEN 1 AND 256),
    CONSTRAINT suppressions_scope CHECK (scope IN ('promotional', 'all')),
    CONSTRAINT suppressions_reason CHECK (octet_length (reason) BETWEEN 1 AND 1000),
    CONSTRAINT suppressions_source CHECK (octet_length (source) <= 256),
    CONSTRAINT suppressions_since CHECK (isfinite (since)),
    CONSTRAINT suppressions_until CHECK (until IS NULL OR (isfinite (until) AND until > since))
);
-- The buyer's rows (the CLI's add, remove, list)
CREATE INDEX suppressions_buyer ON suppressions (kind, id);

CREATE FUNCTION suppressions_changed () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify ('dualtrack_suppressions', TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER suppressions_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON suppressions
    FOR EACH STATEMENT EXECUTE FUNCTION suppressions_changed ();

-- Every set the coordinator loaded: a refused one with the reason naming
-- the row (the set in force stays), an accepted one with what changed
CREATE TABLE suppression_reloads (
    at          timestamptz NOT NULL DEFAULT now(),
    ok          boolean NOT NULL,
    message     text NOT NULL
);

-- The coordinator reads the set and records its reloads; analysts read
-- everything (004)
GRANT SELECT ON suppressions TO dualtrack_writer, dualtrack_analyst;
GRANT SELECT, INSERT ON suppression_reloads TO dualtrack_writer;
GRANT SELECT ON suppression_reloads TO dualtrack_analyst;

INSERT INTO rule_catalog (rule, tone, summary) VALUES
    ('suppressed', false, 'a touchpoint to a suppressed contact or account, within its scope');
