-- 012: who sent each touchpoint (issue 16). The track daemon records the
-- publishing system it authenticated: over HTTP the name of the bearer
-- token's file (--http.tokens), over ZeroMQ with CURVE the name in the
-- client's certificate (dualtrack keygen NAME). NULL over plain ZeroMQ,
-- and for every row stored before this migration. Unlike `source`, which
-- the event itself claims, this is what the track verified.
ALTER TABLE touchpoints ADD COLUMN publisher text
    CHECK (octet_length (publisher) BETWEEN 1 AND 256);
COMMENT ON COLUMN touchpoints.publisher IS
    'the publishing system the track authenticated (HTTP token or CURVE certificate name); NULL over plain ZeroMQ';
