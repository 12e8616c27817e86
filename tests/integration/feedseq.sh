# A feed you can resume (issue 16): every stored verdict gets seq 1, 2, 3...
# in the order the feed publishes them. A subscriber (`dualtrack watch
# --cursor`) stopped while 15,000 verdicts go by and started again with its
# cursor shows every seq once, in order, then live ones; resends take no
# seq; coordinator restarts, clean and SIGKILLed mid-stream with several
# writesets committing at once, leave no hole; the live feed carries the
# stored seqs; the catch-up API filters by topic prefix and pages.
source "$(dirname "$0")/lib.sh"
export LC_ALL=C
it_start_pg
it_start_coordinator --store.connections 4 --writeset.max 200
it_start_track marketing
it_start_track sales
it_wait_schema || { echo "FAIL - coordinator did not create the schema"; cat "$IT_DIR/coordinator.log"; exit 1; }

FEED=(--endpoint "tcp://127.0.0.1:$DEC_PORT" --catchup "tcp://127.0.0.1:$CATCHUP_PORT")
CURSOR=$IT_DIR/cursor
stored_count() { psql_q -c 'SELECT count(*) FROM touchpoints'; }
# Wait until a file has at least N lines matching a pattern (tenths of a second)
wait_lines() {  # file, pattern, n, [tenths]
    for _ in $(seq 1 "${4:-600}"); do
        [ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
        sleep 0.1
    done
    return 1
}
# The seqs of the verdict lines a watch printed (advisory lines repeat theirs)
seqs_of() { grep -h -v '^advisory\.' "$@" | grep -o ' seq=[0-9]*$' | cut -d= -f2; }

# A live subscriber from the start, plain (no catch-up): what the feed carried
"$BIN/dualtrack" watch --endpoint "tcp://127.0.0.1:$DEC_PORT" > "$IT_DIR/live.out" 2>&1 & live=$!
# The resuming subscriber, first run
"$BIN/dualtrack" watch "${FEED[@]}" --cursor "$CURSOR" > "$IT_DIR/w1.out" 2>&1 & w=$!
sleep 1
"$BIN/dualtrack" gen --count 100 --track sales --seed 71 --accounts 30 > "$IT_DIR/first.jsonl"
it_publish sales --quiet "$IT_DIR/first.jsonl" > /dev/null
it_check "the subscriber shows the first 100 verdicts live" wait_lines "$IT_DIR/w1.out" ' seq=' 100
kill -TERM $w; wait $w
it_eq "its cursor holds the last seq it showed" "$(cat "$CURSOR")" 100

# 10,000 verdicts while it is away
"$BIN/dualtrack" gen --count 5000 --track marketing --seed 72 --accounts 400 > "$IT_DIR/m.jsonl"
"$BIN/dualtrack" gen --count 5000 --track sales --seed 73 --accounts 400 > "$IT_DIR/s.jsonl"
it_publish marketing --quiet "$IT_DIR/m.jsonl" > /dev/null & pm=$!
it_publish sales --quiet "$IT_DIR/s.jsonl" > /dev/null & ps=$!
wait $pm; wait $ps
it_eq "10,100 stored" "$(it_wait_value 'SELECT count(*) FROM touchpoints' 10100)" 10100
# A resend is stored once and takes no seq
it_publish sales --quiet "$IT_DIR/first.jsonl" > /dev/null
sleep 1
it_eq "a resend takes no seq" "$(psql_q -c 'SELECT count(*), max(seq) FROM touchpoint_ids')" "10100|10100"
# A writeset starts writing on a guess of its first seq while the one
# ahead writes (all of that one's events new); resends mixed into new
# events make guesses miss, and those writesets are numbered again
"$BIN/dualtrack" gen --count 3000 --track sales --seed 77 --accounts 400 > "$IT_DIR/mixed.jsonl"
it_publish marketing --quiet "$IT_DIR/m.jsonl" > /dev/null & pm=$!
it_publish sales --quiet "$IT_DIR/mixed.jsonl" > /dev/null & ps=$!
wait $pm; wait $ps
it_eq "resends mixed with 3,000 new: 13,100 stored" \
    "$(it_wait_value 'SELECT count(*) FROM touchpoints' 13100)" 13100
it_eq "seqs 1..13,100 after guesses kept and missed" \
    "$(psql_q -c 'SELECT count(DISTINCT seq), min(seq), max(seq) FROM touchpoint_ids')" "13100|1|13100"
# Two publishers send the same 2,000 new events at once: the copies of an
# id land in writesets written at the same time. No guess is made across a
# shared id (else each transaction could wait for the other's rows, one in
# PostgreSQL and one for the guess's word): stored once each, no deadlock
"$BIN/dualtrack" gen --count 2000 --track marketing --seed 78 --accounts 400 > "$IT_DIR/twice.jsonl"
it_publish marketing --quiet "$IT_DIR/twice.jsonl" > /dev/null & p1=$!
it_publish marketing --quiet "$IT_DIR/twice.jsonl" > /dev/null & p2=$!
wait $p1; wait $p2
it_eq "the same 2,000 from two publishers at once: stored once (15,100)" \
    "$(it_wait_value 'SELECT count(*) FROM touchpoints' 15100)" 15100
it_eq "seqs 1..15,100" \
    "$(psql_q -c 'SELECT count(DISTINCT seq), min(seq), max(seq) FROM touchpoint_ids')" "15100|1|15100"
guesses() { it_metric "$COORD_HTTP" "dualtrack_coordinator_seq_guesses_total{result=\"$1\"}"; }
kept=$(guesses kept); missed=$(guesses missed)
it_log "guesses kept $kept, missed $missed"
it_eq "writesets started on guesses that held" "$(( ${kept:-0} > 0 ))" 1
it_eq "and on guesses that missed (a resend ahead), written again" "$(( ${missed:-0} > 0 ))" 1

# Back with its cursor: the 10,000 from the store, then live ones
"$BIN/dualtrack" watch "${FEED[@]}" --cursor "$CURSOR" > "$IT_DIR/w2.out" 2>&1 & w=$!
it_check "caught up: 15,000 verdicts from the catch-up API" wait_lines "$IT_DIR/w2.out" ' seq=' 15000
"$BIN/dualtrack" gen --count 300 --track marketing --seed 74 --accounts 30 > "$IT_DIR/live1.jsonl"
it_publish marketing --quiet "$IT_DIR/live1.jsonl" > /dev/null

# A clean coordinator restart, then one cut off (SIGKILL) while four
# writesets commit at once; the tracks resend what was not acknowledged
it_stop coordinator
it_start_coordinator --store.connections 4 --writeset.max 200
"$BIN/dualtrack" gen --count 300 --track sales --seed 75 --accounts 30 > "$IT_DIR/live2.jsonl"
it_publish sales --quiet "$IT_DIR/live2.jsonl" > /dev/null
"$BIN/dualtrack" gen --count 6000 --track marketing --seed 76 --accounts 300 > "$IT_DIR/burst.jsonl"
it_publish marketing --quiet "$IT_DIR/burst.jsonl" > /dev/null & pb=$!
for _ in $(seq 1 300); do [ "$(stored_count)" -ge 12000 ] && break; sleep 0.05; done
kill -9 "${IT_PID[coordinator]}"; wait "${IT_PID[coordinator]}" 2>/dev/null
it_log "SIGKILLed at $(stored_count) stored"
it_start_coordinator --store.connections 4 --writeset.max 200
wait $pb
TOTAL=$((15100 + 300 + 300 + 6000))
it_eq "everything stored once" "$(it_wait_value 'SELECT count(*) FROM touchpoints' $TOTAL)" $TOTAL
it_eq "stored seqs are 1..N: no hole, no repeat" \
    "$(psql_q -c 'SELECT count(DISTINCT seq), min(seq), max(seq) FROM touchpoint_ids')" "$TOTAL|1|$TOTAL"
it_eq "each touchpoint has its id row's seq" \
    "$(psql_q -c 'SELECT count(*) FROM touchpoints t JOIN touchpoint_ids i USING (id) WHERE t.seq = i.seq')" $TOTAL
grep -q 'numbered again' "$IT_DIR/coordinator.log" && it_log "the SIGKILL left a hole; the start closed it"

# The resuming subscriber saw every seq once, in order, across both runs
# (its last line, not a count: advisory lines repeat seqs)
it_check "the subscriber shows the last verdict" wait_lines "$IT_DIR/w2.out" "^[a-z]*\.[a-z]* .* seq=$TOTAL\$" 1
tail -n 3 "$IT_DIR/w2.out" | grep -v "^  " | sed "s/^/# w2: /"
sleep 1
kill -TERM $w; wait $w
seqs_of "$IT_DIR/w1.out" "$IT_DIR/w2.out" > "$IT_DIR/seen"
seq 1 $TOTAL > "$IT_DIR/want"
it_check "every seq once, in order, no gap (two runs, two coordinator restarts)" cmp -s "$IT_DIR/seen" "$IT_DIR/want"
it_eq "its cursor is the last seq" "$(cat "$CURSOR")" $TOTAL
it_eq "each line's seq is the stored one for its id" \
    "$(grep -h -v '^advisory\.' "$IT_DIR/w1.out" "$IT_DIR/w2.out" | grep ' seq=' |
       sed 's/^[^ ]* \([^ ]*\) .* seq=\([0-9]*\)$/\1 \2/' | sort > "$IT_DIR/seen-ids"
       psql_q -F ' ' -c 'SELECT id, seq FROM touchpoint_ids' | sort | cmp -s - "$IT_DIR/seen-ids" && echo same)" same

# The live feed carried the stored seqs: what the plain subscriber saw
# before the SIGKILL is the same ids with the same seqs, in seq order
kill -TERM $live; wait $live
grep -v '^advisory\.' "$IT_DIR/live.out" | grep ' seq=' | sed 's/^[^ ]* \([^ ]*\) .* seq=\([0-9]*\)$/\1 \2/' > "$IT_DIR/live-ids"
it_check "the live feed's seqs rise" sh -c "cut -d' ' -f2 '$IT_DIR/live-ids' | sort -n -c"
it_eq "the live feed's seqs are the stored ones" \
    "$(sort "$IT_DIR/live-ids" | join - <(psql_q -F ' ' -c 'SELECT id, seq FROM touchpoint_ids' | sort) |
       awk '$2 != $3' | wc -l)" 0

# The catch-up API by topic prefix, paged: --since, one topic
"$BIN/dualtrack" watch "${FEED[@]}" --since 0 --topic sales. --timeout 1500 > "$IT_DIR/sales.out" 2>&1
it_eq "--since 0 --topic: the stored verdicts of that topic, in pages" \
    "$(grep -c '^sales\.[a-z]* .* seq=' "$IT_DIR/sales.out")" \
    "$(psql_q -c "SELECT count(*) FROM touchpoints WHERE track = 'sales'")"
"$BIN/dualtrack" watch "${FEED[@]}" --since $((TOTAL - 5)) --timeout 1500 > "$IT_DIR/tail.out" 2>&1
it_eq "--since N: the verdicts after N" "$(seqs_of "$IT_DIR/tail.out" | tr '\n' ' ')" \
    "$(seq $((TOTAL - 4)) $TOTAL | tr '\n' ' ')"
it_eq "the catch-up API counted its requests" \
    "$(( $(it_metric "$COORD_HTTP" 'dualtrack_coordinator_catchup_requests_total{result="ok"}') > 2 ))" 1
"$BIN/dualtrack" watch "${FEED[@]}" --since x > "$IT_DIR/bad.out" 2>&1
it_eq "--since refuses a non-number" "$?" 2
it_done
