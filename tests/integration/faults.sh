# Faults under load: SIGTERM and kill -9 of each daemon in turn, and a
# PostgreSQL restart, while two ZeroMQ publishers and one HTTP publisher
# (curl, sending again after a 503 or a refused connection, to the marketing
# track that is killed twice) send. At the end every acknowledged id is
# stored exactly once, and nothing acknowledged is lost.
source "$(dirname "$0")/lib.sh"
TOKEN=$("$BIN/dualtrack" token new faults "$IT_DIR/tokens" 2>/dev/null)
MKT_IN=$(it_port)
MKT_HTTP_OPTS=(--http.ingress "127.0.0.1:$MKT_IN" --http.tokens "$IT_DIR/tokens")
it_start_pg
it_start_coordinator
it_start_track marketing "${MKT_HTTP_OPTS[@]}"
it_start_track sales
it_wait_schema || { echo "FAIL - coordinator did not create the schema"; exit 1; }
N=${FAULTS_EVENTS:-30000}
NH=$((N / 10))
"$BIN/dualtrack" gen --count "$N" --track marketing --seed 21 --accounts 500 > "$IT_DIR/m.jsonl"
"$BIN/dualtrack" gen --count "$N" --track sales --seed 22 --accounts 500 > "$IT_DIR/s.jsonl"
"$BIN/dualtrack" gen --count "$NH" --track marketing --seed 23 --accounts 500 --prefix http > "$IT_DIR/h.jsonl"
split -l 20 -d -a 6 "$IT_DIR/h.jsonl" "$IT_DIR/hchunk."

# The HTTP publisher: 20 events per request; an id is acknowledged on a 200
http_publish() {
    local code f again=0
    for f in "$IT_DIR"/hchunk.*; do
        for try in $(seq 1 600); do
            [ "$try" = 2 ] && again=$((again + 1))
            code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 40 \
                -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/x-ndjson' \
                --data-binary "@$f" "http://127.0.0.1:$MKT_IN/v1/events" 2>/dev/null)
            [ "$code" = 200 ] && break
            sleep 0.1
        done
        [ "$code" = 200 ] || { echo "http publisher: gave up on $f ($code)"; return 1; }
        jq -r .id "$f" >> "$IT_DIR/acked-h"
    done
    echo "http publisher: $again of $(ls "$IT_DIR"/hchunk.* | wc -l) requests sent again"
}

# Slow enough to span the faults: small requests, a narrow window
it_publish marketing --quiet --batch 20 --window 2 --acked "$IT_DIR/acked-m" "$IT_DIR/m.jsonl" > "$IT_DIR/pub-m.out" 2>&1 & pm=$!
it_publish sales --quiet --batch 20 --window 2 --acked "$IT_DIR/acked-s" "$IT_DIR/s.jsonl" > "$IT_DIR/pub-s.out" 2>&1 & ps=$!
http_publish > "$IT_DIR/pub-h.out" 2>&1 & ph=$!

pause() { sleep "${1:-0.7}"; }
pause
it_stop marketing; it_eq "marketing exits 0 on SIGTERM under load" "$?" 0
it_start_track marketing "${MKT_HTTP_OPTS[@]}"; pause
kill -9 "${IT_PID[sales]}"; wait "${IT_PID[sales]}" 2>/dev/null
it_start_track sales; pause
kill -9 "${IT_PID[coordinator]}"; wait "${IT_PID[coordinator]}" 2>/dev/null
pause 0.3; it_start_coordinator; pause
"$ROOT/scripts/pg-local" restart "$IT_DIR/pg"
pause
it_stop coordinator; it_eq "coordinator exits 0 on SIGTERM under load" "$?" 0
it_start_coordinator; pause
kill -9 "${IT_PID[marketing]}"; wait "${IT_PID[marketing]}" 2>/dev/null
it_start_track marketing "${MKT_HTTP_OPTS[@]}"

wait $pm; rm_=$?; wait $ps; rs_=$?; wait $ph; rh_=$?
cat "$IT_DIR/pub-m.out" "$IT_DIR/pub-s.out" "$IT_DIR/pub-h.out" | grep -v '^$' | tail -n 4
it_eq "marketing publisher finished" "$rm_" 0
it_eq "sales publisher finished" "$rs_" 0
it_eq "HTTP publisher finished" "$rh_" 0
it_eq "every HTTP event acknowledged" "$(sort -u "$IT_DIR/acked-h" | wc -l)" "$NH"
sort -u "$IT_DIR/acked-m" "$IT_DIR/acked-s" "$IT_DIR/acked-h" > "$IT_DIR/acked"
acked=$(wc -l < "$IT_DIR/acked")
it_eq "every event acknowledged" "$acked" $((2 * N + NH))
stored=$(it_wait_value "SELECT count(*) FROM touchpoints" "$acked" 1800)
psql_q -c "CREATE TABLE acked (id text)" 
psql_q -c "\\copy acked FROM '$IT_DIR/acked'"
lost=$(psql_q -c "SELECT count(*) FROM acked a WHERE NOT EXISTS (SELECT 1 FROM touchpoints t WHERE t.id = a.id)")
echo "# sent $((2 * N + NH)), acknowledged $acked, stored $stored, lost $lost"
it_eq "lost acknowledged events" "$lost" 0
it_eq "stored rows = acknowledged ids (no duplicates, nothing extra)" "$stored" "$acked"
it_done
