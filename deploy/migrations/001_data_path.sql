-- 001: the data path. Touchpoints (one row per stored event, idempotent on
-- the publisher's id) and rejects (every refused event or frame).

CREATE TABLE touchpoints (
    id          text PRIMARY KEY,               -- the publisher's idempotency key
    track       text NOT NULL,                  -- marketing | sales: the daemon that received it
    source      text NOT NULL,                  -- the publishing system
    account     text NOT NULL,
    contact     text,
    stage       text NOT NULL,
    channel     text NOT NULL,
    kind        text NOT NULL,
    actor       text,                           -- who made the contact
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,           -- when the track daemon received it
    lead        text NOT NULL,                  -- the responsible track (defaults to track)
    advisors    text[] NOT NULL DEFAULT '{}',   -- tracks taking part as advisors
    project     text,                           -- key project id
    theme       text,
    claims      jsonb,                          -- {"price": "12,000 CNY", ...}
    body        text,
    attrs       jsonb,                          -- the publisher's extension data
    category    text NOT NULL DEFAULT 'one_to_one',
    stored_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (track IN ('marketing', 'sales')),
    CHECK (lead IN ('marketing', 'sales')),
    CHECK (category IN ('one_to_one', 'promotional', 'transactional'))
);
CREATE INDEX touchpoints_account_time ON touchpoints (account, occurred_at);
CREATE INDEX touchpoints_occurred ON touchpoints (occurred_at);

CREATE TABLE rejects (
    reject_id   bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL,
    track       text NOT NULL,
    code        text NOT NULL,                  -- the documented error code
    field       text NOT NULL DEFAULT '',       -- the field it names, '' for the frame
    error       text NOT NULL,                  -- the sentence sent to the publisher
    event_id    text,                           -- the event's id, when it had a usable one
    item_index  integer NOT NULL DEFAULT -1,    -- index in the request, -1 for the frame
    raw         bytea NOT NULL,                 -- the event's or frame's bytes (at most 64 KiB)
    stored_at   timestamptz NOT NULL DEFAULT now(),
    -- a batch sent again after a lost acknowledgement is stored once
    UNIQUE (track, received_at, item_index)
);
CREATE INDEX rejects_received ON rejects (received_at);
