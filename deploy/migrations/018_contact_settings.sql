-- 018: a buyer's own time zone (issue 17, docs/rules.md "Contact budget").
-- One row per contact or account (`kind` says which, `id` names it, by its
-- canonical id or any alias: the coordinator files it under the canonical
-- id of the alias maps of 007) with the IANA zone its calendar days and
-- sending hours are read in. It wins over an event's attrs.tz and the
-- policy's default zone (budget.timezone); a contact's row wins over its
-- account's. Maintained with SQL and `dualtrack identity tz`. Every
-- statement on it notifies 'dualtrack_settings'; the coordinator reloads
-- the whole table, resolves each zone in the system's tz database (an
-- unknown one refuses the whole change, naming the row: the settings in
-- force stay) and records each attempt in contact_setting_reloads. Ids
-- compare byte for byte (C collation).

-- Whether PostgreSQL knows zone as a time zone name shaped like the IANA
-- ones ("Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires"): its tz
-- database is the system's on Debian, so this refuses most mistakes at the
-- INSERT; the coordinator checks again against its own. AT TIME ZONE also
-- takes POSIX offsets ("UTC+3"), refused by their shape, and abbreviations
-- ("PST"), refused unless a zone has that name ("UTC", "EST": the only
-- case that reads the zone list, ~30 ms). It ignores case, which the tz
-- database does not: "europe/berlin" passes here, the coordinator refuses it.
CREATE FUNCTION dualtrack_zone_known (zone text) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF zone IS NULL OR octet_length (zone) > 63
    OR zone !~ '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$'
    OR (zone ~ '[+-][0-9]' AND zone !~ '^(Etc/GMT[+-][0-9]+|GMT[+-]0)$') THEN
        RETURN false;
    END IF;
    PERFORM now () AT TIME ZONE zone;
    IF EXISTS (SELECT 1 FROM pg_timezone_abbrevs WHERE abbrev = zone) THEN
        RETURN EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = zone);
    END IF;
    RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN false;
END $$;

CREATE TABLE contact_settings (
    kind        text NOT NULL,                  -- contact | account
    id          text COLLATE "C" NOT NULL,      -- the buyer (its canonical id, or an alias)
    tz          text NOT NULL,                  -- IANA zone name, e.g. Europe/Berlin
    source      text,                           -- the system the setting comes from
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT current_user,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL DEFAULT current_user,
    PRIMARY KEY (kind, id),
    CONSTRAINT contact_settings_kind CHECK (kind IN ('contact', 'account')),
    CONSTRAINT contact_settings_id CHECK (octet_length (id) BETWEEN 1 AND 256),
    CONSTRAINT contact_settings_tz CHECK (dualtrack_zone_known (tz)),
    CONSTRAINT contact_settings_source CHECK (octet_length (source) <= 256)
);

-- updated_at and updated_by follow every UPDATE, by SQL or the CLI
CREATE FUNCTION contact_settings_touched () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now ();
    NEW.updated_by := current_user;
    RETURN NEW;
END $$;
CREATE TRIGGER contact_settings_touched
    BEFORE UPDATE ON contact_settings
    FOR EACH ROW EXECUTE FUNCTION contact_settings_touched ();

CREATE FUNCTION contact_settings_changed () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify ('dualtrack_settings', TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER contact_settings_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON contact_settings
    FOR EACH STATEMENT EXECUTE FUNCTION contact_settings_changed ();

-- Every table load the coordinator attempted: a refused one with the
-- reason naming the row (the settings in force stay), an accepted one
-- with what changed
CREATE TABLE contact_setting_reloads (
    at          timestamptz NOT NULL DEFAULT now(),
    ok          boolean NOT NULL,
    message     text NOT NULL
);

-- The coordinator reads the settings and records its reloads; analysts
-- read everything (004)
GRANT SELECT ON contact_settings TO dualtrack_writer, dualtrack_analyst;
GRANT SELECT, INSERT ON contact_setting_reloads TO dualtrack_writer;
GRANT SELECT ON contact_setting_reloads TO dualtrack_analyst;
