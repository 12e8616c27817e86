-- 016: reservations of the contact budget (issue 17). A check request with
-- `reserve` that fits every cap holds a slot for its planned touch: a row
-- here, written before the reply names its token. The slot counts against
-- the caps until the event carrying the token is stored (its
-- touchpoints.reservation names it), it expires (expires_at), or a request
-- of higher priority takes it (taken_by, taken_at). The coordinator reads
-- the rows that may still matter at start, so reservations survive a
-- restart. reservation_states says which state each is in now.

-- The reservation a touchpoint used: set only when it was valid (held,
-- not expired, for the touch's contact); an event carrying a token that
-- could not be used has NULL here and a finding saying why
ALTER TABLE touchpoints ADD COLUMN reservation text COLLATE "C"
    CHECK (octet_length (reservation) BETWEEN 1 AND 64);
COMMENT ON COLUMN touchpoints.reservation IS
    'the reservation (check API token) this touchpoint used; NULL for none';
CREATE INDEX touchpoints_reservation ON touchpoints (reservation)
    WHERE reservation IS NOT NULL;

CREATE TABLE reservations (
    token       text COLLATE "C" PRIMARY KEY,
    owner       text NOT NULL,                  -- who asked (the request's owner, or its track)
    priority    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    account_key text COLLATE "C" NOT NULL,      -- the buyer, by canonical ids (008)
    contact_key text COLLATE "C" NOT NULL,
    track       text NOT NULL,                  -- the planned touch
    channel     text NOT NULL,
    kind        text NOT NULL,
    category    text NOT NULL,
    planned_at  timestamptz NOT NULL,
    zone        text,                           -- its attrs.tz, when it named one
    taken_by    text COLLATE "C",               -- the reservation that took the slot
    taken_at    timestamptz,
    CONSTRAINT reservations_token CHECK (octet_length (token) BETWEEN 1 AND 64),
    CONSTRAINT reservations_owner CHECK (octet_length (owner) BETWEEN 1 AND 64),
    CONSTRAINT reservations_priority CHECK (priority BETWEEN -1000 AND 1000),
    CONSTRAINT reservations_expires CHECK (expires_at > created_at),
    CONSTRAINT reservations_track CHECK (track IN ('marketing', 'sales')),
    CONSTRAINT reservations_category CHECK (category IN ('one_to_one', 'promotional', 'transactional')),
    CONSTRAINT reservations_taken CHECK ((taken_by IS NULL) = (taken_at IS NULL))
);
-- The coordinator's start (the ones not ended over an hour ago); a buyer's
CREATE INDEX reservations_expires ON reservations (expires_at);
CREATE INDEX reservations_contact ON reservations (contact_key, created_at);

-- Each reservation's state now: held (counting), used (by used_by), taken
-- (by taken_by), expired
CREATE VIEW reservation_states AS
SELECT r.token, r.owner, r.priority, r.account_key, r.contact_key, r.track, r.channel,
       r.kind, r.category, r.planned_at, r.created_at, r.expires_at,
       CASE WHEN u.id IS NOT NULL THEN 'used'
            WHEN r.taken_by IS NOT NULL THEN 'taken'
            WHEN r.expires_at <= now () THEN 'expired'
            ELSE 'held' END AS state,
       u.id AS used_by, u.occurred_at AS used_at, r.taken_by, r.taken_at
  FROM reservations r
  LEFT JOIN LATERAL (SELECT t.id, t.occurred_at FROM touchpoints t
                      WHERE t.reservation = r.token LIMIT 1) u ON true;

GRANT SELECT, INSERT, UPDATE ON reservations TO dualtrack_writer;
GRANT SELECT ON reservations, reservation_states TO dualtrack_analyst;
