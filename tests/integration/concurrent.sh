# Several writesets committing at once (store.connections=4, writesets of at
# most 50 items): the same 2,000 ids published through both tracks at the
# same time, one track in reverse order, so concurrent transactions hold
# the same ids and wait on each other (PostgreSQL cancels one on a
# deadlock; it is written again). Every id stored exactly once, nothing
# refused, every event acknowledged, the counters add up.
source "$(dirname "$0")/lib.sh"
it_start_pg
it_start_coordinator --store.connections 4 --writeset.max 50
it_start_track marketing
it_start_track sales
it_wait_schema || { echo "FAIL - coordinator did not create the schema"; cat "$IT_DIR/coordinator.log"; exit 1; }

"$BIN/dualtrack" gen --count 2000 --track marketing --seed 31 --accounts 50 > "$IT_DIR/m.jsonl"
tac "$IT_DIR/m.jsonl" > "$IT_DIR/reversed.jsonl"
for round in 1 2; do
    it_publish marketing --quiet "$IT_DIR/m.jsonl" > "$IT_DIR/pub-m.$round" & pm=$!
    it_publish sales --quiet "$IT_DIR/reversed.jsonl" > "$IT_DIR/pub-s.$round" & ps=$!
    wait $pm; wait $ps
    it_eq "round $round: marketing acknowledged all" "$(cat "$IT_DIR/pub-m.$round")" \
        "published 2000 events: accepted 2000, rejected 0, invalid lines 0"
    it_eq "round $round: sales acknowledged all" "$(cat "$IT_DIR/pub-s.$round")" \
        "published 2000 events: accepted 2000, rejected 0, invalid lines 0"
done
stored='dualtrack_coordinator_events_total{result="stored"}'
duplicate='dualtrack_coordinator_events_total{result="duplicate"}'
# 8,000 events sent, 2,000 distinct: wait until all are committed
for _ in $(seq 1 300); do
    total=$(( $(it_metric "$COORD_HTTP" "$stored" || echo 0) + $(it_metric "$COORD_HTTP" "$duplicate" || echo 0) ))
    [ "$total" -ge 8000 ] && break
    sleep 0.1
done
it_eq "events committed (stored + duplicate)" "$total" 8000
it_eq "stored once each" "$(it_metric "$COORD_HTTP" "$stored")" 2000
it_eq "rows" "$(psql_q -c 'SELECT count(*) FROM touchpoints')" 2000
it_eq "distinct ids" "$(psql_q -c 'SELECT count(DISTINCT id) FROM touchpoints')" 2000
it_eq "ids table agrees" "$(psql_q -c 'SELECT count(*) FROM touchpoint_ids i JOIN touchpoints t USING (id)')" 2000
it_eq "findings belong to stored touchpoints, once" \
    "$(psql_q -c 'SELECT count(*) FROM findings f LEFT JOIN touchpoints t ON t.id = f.touchpoint_id WHERE t.id IS NULL')" 0
# The feed's seqs (migration 010): the duplicates took none, so 1..2000
# without a hole, each once, the same on the touchpoint and its id row
it_eq "seqs 1..2000, no hole, no repeat" \
    "$(psql_q -c 'SELECT count(DISTINCT seq), min(seq), max(seq) FROM touchpoint_ids')" "2000|1|2000"
it_eq "the touchpoint has its id row's seq" \
    "$(psql_q -c 'SELECT count(*) FROM touchpoint_ids i JOIN touchpoints t USING (id) WHERE t.seq = i.seq')" 2000
it_eq "nothing refused or rejected" "$(psql_q -c 'SELECT count(*) FROM rejects')" 0
it_eq "no writeset written one event at a time" \
    "$(grep -c 'refused a writeset' "$IT_DIR/coordinator.log")" 0
echo "# lock conflicts retried: $(grep -c 'won a lock' "$IT_DIR/coordinator.log")"
it_done
