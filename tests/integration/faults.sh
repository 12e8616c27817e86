# Faults under load: SIGTERM and kill -9 of each daemon in turn, and a
# PostgreSQL restart, while two publishers send. At the end every
# acknowledged id is stored exactly once, and nothing acknowledged is lost.
source "$(dirname "$0")/lib.sh"
it_start
N=${FAULTS_EVENTS:-30000}
"$BIN/dualtrack" gen --count "$N" --track marketing --seed 21 --accounts 500 > "$IT_DIR/m.jsonl"
"$BIN/dualtrack" gen --count "$N" --track sales --seed 22 --accounts 500 > "$IT_DIR/s.jsonl"

# Slow enough to span the faults: small requests, a narrow window
it_publish marketing --quiet --batch 20 --window 2 --acked "$IT_DIR/acked-m" "$IT_DIR/m.jsonl" > "$IT_DIR/pub-m.out" 2>&1 & pm=$!
it_publish sales --quiet --batch 20 --window 2 --acked "$IT_DIR/acked-s" "$IT_DIR/s.jsonl" > "$IT_DIR/pub-s.out" 2>&1 & ps=$!

pause() { sleep "${1:-0.7}"; }
pause
it_stop marketing; it_eq "marketing exits 0 on SIGTERM under load" "$?" 0
it_start_track marketing; pause
kill -9 "${IT_PID[sales]}"; wait "${IT_PID[sales]}" 2>/dev/null
it_start_track sales; pause
kill -9 "${IT_PID[coordinator]}"; wait "${IT_PID[coordinator]}" 2>/dev/null
pause 0.3; it_start_coordinator; pause
"$ROOT/scripts/pg-local" restart "$IT_DIR/pg"
pause
it_stop coordinator; it_eq "coordinator exits 0 on SIGTERM under load" "$?" 0
it_start_coordinator; pause
kill -9 "${IT_PID[marketing]}"; wait "${IT_PID[marketing]}" 2>/dev/null
it_start_track marketing

wait $pm; rm_=$?; wait $ps; rs_=$?
cat "$IT_DIR/pub-m.out" "$IT_DIR/pub-s.out" | grep -v '^$' | tail -n 4
it_eq "marketing publisher finished" "$rm_" 0
it_eq "sales publisher finished" "$rs_" 0
sort -u "$IT_DIR/acked-m" "$IT_DIR/acked-s" > "$IT_DIR/acked"
acked=$(wc -l < "$IT_DIR/acked")
it_eq "every event acknowledged" "$acked" $((2 * N))
stored=$(it_wait_value "SELECT count(*) FROM touchpoints" "$acked" 1800)
psql_q -c "CREATE TABLE acked (id text)" 
psql_q -c "\\copy acked FROM '$IT_DIR/acked'"
lost=$(psql_q -c "SELECT count(*) FROM acked a WHERE NOT EXISTS (SELECT 1 FROM touchpoints t WHERE t.id = a.id)")
echo "# sent $((2 * N)), acknowledged $acked, stored $stored, lost $lost"
it_eq "lost acknowledged events" "$lost" 0
it_eq "stored rows = acknowledged ids (no duplicates, nothing extra)" "$stored" "$acked"
it_done
