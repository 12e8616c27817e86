# Health, readiness and metrics of the three daemons, scraped for real:
# readiness flips as PostgreSQL and the coordinator go away and come back,
# and the counters match what the test sent.
source "$(dirname "$0")/lib.sh"
it_start
wait_status() {     # port, path, status: poll up to ~15 s
    local got
    for _ in $(seq 1 150); do
        got=$(it_http "$1" "$2" | head -n 1)
        [ "$got" = "$3" ] && break
        sleep 0.1
    done
    echo "$got"
}
it_eq "coordinator alive" "$(it_http "$COORD_HTTP" /healthz | head -n 1)" 200
it_eq "coordinator ready" "$(wait_status "$COORD_HTTP" /readyz 200)" 200
it_eq "marketing ready" "$(wait_status "$MKT_HTTP" /readyz 200)" 200
it_eq "sales ready" "$(wait_status "$SALES_HTTP" /readyz 200)" 200
it_eq "unknown path" "$(it_http "$MKT_HTTP" /nope | head -n 1)" 404

# Counters match what was sent: 200 good events, 3 bad ones, 1 bad frame
"$BIN/dualtrack" gen --count 200 --track sales --seed 41 > "$IT_DIR/s.jsonl"
for i in 1 2 3; do
    echo "{\"id\":\"bad-$i\",\"source\":\"t\",\"account\":\"A\",\"stage\":\"nowhere\",\"channel\":\"email\",\"kind\":\"k\",\"occurred_at\":1767300000000}"
done >> "$IT_DIR/s.jsonl"
it_publish sales --quiet "$IT_DIR/s.jsonl" > /dev/null
it_eq "stored" "$(it_wait_value 'SELECT count(*) FROM touchpoints' 200)" 200
sleep 0.3
it_eq "track: accepted events" "$(it_metric "$SALES_HTTP" 'dualtrack_track_events_total{result="accepted"}')" 200
it_eq "track: rejected events" "$(it_metric "$SALES_HTTP" 'dualtrack_track_events_total{result="rejected"}')" 3
it_eq "track: rejects by code" "$(it_metric "$SALES_HTTP" 'dualtrack_track_rejected_events_total{code="bad_value"}')" 3
it_eq "track: journal drained" "$(it_metric "$SALES_HTTP" 'dualtrack_track_journal_depth')" 0
it_eq "coordinator: stored events" "$(it_metric "$COORD_HTTP" 'dualtrack_coordinator_events_total{result="stored"}')" 200
it_eq "coordinator: verdicts add up" "$(it_http "$COORD_HTTP" /metrics |
    awk '$1 ~ /^dualtrack_coordinator_verdicts_total/ {n += $2} END {print n}')" 200
it_eq "coordinator: findings by rule match the store" \
    "$(it_http "$COORD_HTTP" /metrics | awk '$1 ~ /^dualtrack_coordinator_findings_total/ {n += $2} END {print n}')" \
    "$(psql_q -c 'SELECT count(*) FROM findings')"
it_eq "coordinator: rejects stored" "$(it_metric "$COORD_HTTP" 'dualtrack_coordinator_rejects_stored_total')" 3
it_check "coordinator: commit latency histogram counts commits" \
    test "$(it_metric "$COORD_HTTP" 'dualtrack_coordinator_pg_commit_seconds_count')" -ge 1
it_eq "coordinator: ingress-to-commit observed per event" \
    "$(it_metric "$COORD_HTTP" 'dualtrack_coordinator_ingress_to_commit_seconds_count')" 200
# The same clock on both sides: every event took more than nothing and
# less than a minute from the track to the commit
it_check "coordinator: ingress-to-commit seconds are plausible" \
    awk -v sum="$(it_metric "$COORD_HTTP" 'dualtrack_coordinator_ingress_to_commit_seconds_sum')" \
        'BEGIN { exit !(sum > 0 && sum < 200 * 60) }'
it_eq "coordinator: every event committed within 5 s of reaching its track" \
    "$(it_metric "$COORD_HTTP" 'dualtrack_coordinator_ingress_to_commit_seconds_bucket{le="5"}')" 200
it_eq "track: ack latency observed per request" \
    "$(it_metric "$SALES_HTTP" 'dualtrack_track_ack_seconds_count')" \
    "$(it_metric "$SALES_HTTP" 'dualtrack_track_requests_total{result="ok"}')"

# PostgreSQL away: the coordinator is alive but not ready; back: ready
"$ROOT/scripts/pg-local" stop "$IT_DIR/pg"
echo '{"id":"during-outage","source":"t","account":"A","stage":"intent","channel":"email","kind":"k","occurred_at":1767300000000}' |
    it_publish sales --quiet > /dev/null
it_eq "coordinator not ready without PostgreSQL" "$(wait_status "$COORD_HTTP" /readyz 503)" 503
it_http "$COORD_HTTP" /readyz | grep -q "not connected to PostgreSQL"; it_eq "the coordinator's reason" "$?" 0
it_eq "coordinator still alive" "$(it_http "$COORD_HTTP" /healthz | head -n 1)" 200
it_eq "the track still takes events (journal)" "$(it_http "$SALES_HTTP" /readyz | head -n 1)" 200
"$ROOT/scripts/pg-local" start "$IT_DIR/pg" "$PG_PORT" > /dev/null
it_eq "coordinator ready again" "$(wait_status "$COORD_HTTP" /readyz 200)" 200
it_eq "the event taken during the outage is stored" \
    "$(it_wait_value "SELECT count(*) FROM touchpoints WHERE id = 'during-outage'" 1)" 1

# The coordinator away: the tracks say so, and recover when it returns
it_stop coordinator
it_eq "track not ready without the coordinator" "$(wait_status "$MKT_HTTP" /readyz 503)" 503
it_http "$MKT_HTTP" /readyz | grep -q "no link to the coordinator"; it_eq "track's reason" "$?" 0
it_start_coordinator
it_eq "track ready again" "$(wait_status "$MKT_HTTP" /readyz 200)" 200
it_done
