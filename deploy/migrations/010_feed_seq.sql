-- 010: the feed's sequence numbers (issue 16). Every stored verdict gets
-- seq: 1, 2, 3 ... in the order the coordinator publishes the verdicts on
-- the decisions feed, without gap or repeat across restarts (the
-- coordinator, the only writer, hands them out: services/store/store.c).
-- A resent event already stored gets none. Rows stored before this
-- migration keep seq NULL: the catch-up API starts after them.
--
-- seq is on the touchpoint (for analysts) and on its touchpoint_ids row,
-- whose unique index keeps it unique: a partitioned table's unique index
-- would have to include occurred_at, and the catch-up API reads verdicts
-- in seq order through it (seq -> id, occurred_at -> the touchpoint).

ALTER TABLE touchpoints ADD COLUMN seq bigint;
ALTER TABLE touchpoint_ids ADD COLUMN seq bigint;
CREATE UNIQUE INDEX touchpoint_ids_seq ON touchpoint_ids (seq);

-- A writeset holding a resent event learns which of its ids are new from
-- INSERT ... ON CONFLICT DO NOTHING RETURNING id, and only then numbers
-- them: the writer sets seq on the rows it has just inserted. And a
-- coordinator that stopped abruptly can leave the last seqs with a hole
-- (a writeset committed while an earlier one was cut off; neither was
-- published): the next start numbers those rows again, closing it.
GRANT UPDATE (seq) ON touchpoint_ids, touchpoints TO dualtrack_writer;
