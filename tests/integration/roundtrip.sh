# 10,000 events from two concurrent publishers, half per track: all
# acknowledged, exactly 10,000 rows, every field as sent; the same 1,000 sent
# again: acknowledged, still 10,000 rows. (An acknowledgement means the event
# is in the track's journal; the rows follow within moments.)
source "$(dirname "$0")/lib.sh"
it_start
"$BIN/dualtrack" gen --count 5000 --track marketing --seed 11 > "$IT_DIR/m.jsonl"
"$BIN/dualtrack" gen --count 5000 --track sales --seed 12 > "$IT_DIR/s.jsonl"

it_publish marketing --quiet "$IT_DIR/m.jsonl" > "$IT_DIR/pub-m.out" & pm=$!
it_publish sales --quiet "$IT_DIR/s.jsonl" > "$IT_DIR/pub-s.out" & ps=$!
wait $pm; rm_=$?; wait $ps; rs_=$?
it_eq "marketing publisher exit status" "$rm_" 0
it_eq "sales publisher exit status" "$rs_" 0
it_eq "marketing: all acknowledged" "$(cat "$IT_DIR/pub-m.out")" \
    "published 5000 events: accepted 5000, rejected 0, invalid lines 0"
it_eq "sales: all acknowledged" "$(cat "$IT_DIR/pub-s.out")" \
    "published 5000 events: accepted 5000, rejected 0, invalid lines 0"
it_eq "rows stored" "$(it_wait_value 'SELECT count(*) FROM touchpoints' 10000)" 10000
it_eq "rows per track" "$(psql_q -c "SELECT string_agg (track || '=' || n, ',' ORDER BY track) FROM (SELECT track, count(*) n FROM touchpoints GROUP BY 1) x")" \
    "marketing=5000,sales=5000"
cat "$IT_DIR/m.jsonl" "$IT_DIR/s.jsonl" > "$IT_DIR/all.jsonl"
it_eq "every field round-trips exactly" \
    "$(psql_q -f tests/integration/compare.sql < "$IT_DIR/all.jsonl" | tail -n 1)" 0
it_eq "received_at is stamped and after occurred_at" \
    "$(psql_q -c "SELECT count(*) FROM touchpoints WHERE received_at IS NULL OR received_at < occurred_at OR received_at > now()")" 0

# Resend 500 + 500 of the same events: acknowledged again, stored once
head -n 500 "$IT_DIR/m.jsonl" > "$IT_DIR/m-again.jsonl"
head -n 500 "$IT_DIR/s.jsonl" > "$IT_DIR/s-again.jsonl"
it_publish marketing --quiet "$IT_DIR/m-again.jsonl" > "$IT_DIR/again-m.out" & pm=$!
it_publish sales --quiet "$IT_DIR/s-again.jsonl" > "$IT_DIR/again-s.out" & ps=$!
wait $pm; wait $ps
it_eq "resent marketing events acknowledged" "$(cat "$IT_DIR/again-m.out")" \
    "published 500 events: accepted 500, rejected 0, invalid lines 0"
it_eq "resent sales events acknowledged" "$(cat "$IT_DIR/again-s.out")" \
    "published 500 events: accepted 500, rejected 0, invalid lines 0"
sleep 1
it_eq "still 10,000 rows after the resend" "$(psql_q -c 'SELECT count(*) FROM touchpoints')" 10000
it_eq "no rejects recorded" "$(psql_q -c 'SELECT count(*) FROM rejects')" 0

# The comparison itself must catch a changed byte
psql_q -c "UPDATE touchpoints SET kind = kind || 'x' WHERE id = 'ev-sales-12-17'"
it_eq "the comparison catches a changed field" \
    "$(psql_q -f tests/integration/compare.sql < "$IT_DIR/all.jsonl" | tail -n 1)" 1
it_done
