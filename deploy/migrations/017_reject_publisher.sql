-- 017: who sent each refused event or frame (issue 16), as 012 records it
-- for the stored ones: the publishing system the track authenticated (the
-- bearer token's name over HTTP, the CURVE certificate's name over ZeroMQ).
-- NULL over plain ZeroMQ, when the sender is not known (an empty ZeroMQ
-- message), and for every row stored before this migration.
ALTER TABLE rejects ADD COLUMN publisher text
    CHECK (octet_length (publisher) BETWEEN 1 AND 256);
COMMENT ON COLUMN rejects.publisher IS
    'the publishing system the track authenticated (HTTP token or CURVE certificate name); NULL over plain ZeroMQ or when unknown';
