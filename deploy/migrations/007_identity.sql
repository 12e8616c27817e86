-- 007: identities (issue 14). One buyer, a contact or an account, is known
-- under several ids in the company's systems (an e-mail address, a CRM id,
-- a phone number): each row points one alias at the buyer's canonical id.
-- Maintained with SQL and `dualtrack identity`, which validates the whole
-- would-be mapping first (services/rules/identity.h: no chains, no alias
-- that is another buyer's canonical id, no alias with two canonical ids).
-- Every statement on them notifies 'dualtrack_identity', as the tone book
-- notifies 'dualtrack_tonebook'. Ids compare byte for byte (C collation).

CREATE TABLE contact_aliases (
    alias       text COLLATE "C" PRIMARY KEY,   -- as a system writes it
    canonical   text COLLATE "C" NOT NULL,      -- the id rules judge the buyer by
    source      text,                           -- the system the alias comes from
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT current_user,
    CHECK (octet_length (alias) BETWEEN 1 AND 256),
    CHECK (octet_length (canonical) BETWEEN 1 AND 256),
    CHECK (octet_length (source) <= 256)
);
CREATE INDEX contact_aliases_canonical ON contact_aliases (canonical);

CREATE TABLE account_aliases (
    alias       text COLLATE "C" PRIMARY KEY,
    canonical   text COLLATE "C" NOT NULL,
    source      text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT current_user,
    CHECK (octet_length (alias) BETWEEN 1 AND 256),
    CHECK (octet_length (canonical) BETWEEN 1 AND 256),
    CHECK (octet_length (source) <= 256)
);
CREATE INDEX account_aliases_canonical ON account_aliases (canonical);

CREATE FUNCTION identity_changed () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify ('dualtrack_identity', TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER contact_aliases_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON contact_aliases
    FOR EACH STATEMENT EXECUTE FUNCTION identity_changed ();
CREATE TRIGGER account_aliases_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON account_aliases
    FOR EACH STATEMENT EXECUTE FUNCTION identity_changed ();

-- The coordinator reads them (a later change judges by canonical ids);
-- analysts read everything (004)
GRANT SELECT ON contact_aliases, account_aliases TO dualtrack_writer, dualtrack_analyst;
