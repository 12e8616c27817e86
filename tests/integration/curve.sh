# Who may connect: with CURVE on (the default), a publisher or subscriber
# whose key is on the allow-list gets in; one that is not, or that speaks
# plain TCP, cannot publish or subscribe, and the refusal is logged. SIGHUP
# makes the daemons re-read their allow-lists at once.
source "$(dirname "$0")/lib.sh"
K=$IT_DIR/keys
"$BIN/dualtrack" keygen --dir "$K" coordinator marketing sales good-publisher bad-publisher \
    good-watcher bad-watcher > /dev/null
mkdir -p "$K/publishers" "$K/clients"
cp "$K/good-publisher.cert" "$K/publishers/"
cp "$K/marketing.cert" "$K/sales.cert" "$K/good-watcher.cert" "$K/clients/"
it_check "the secret key file is private" test "$(stat -c %a "$K/good-publisher.cert_secret")" = 600

IT_SECURITY="--security curve"
it_start_pg
it_start_coordinator --curve.cert "$K/coordinator.cert" --curve.clients "$K/clients"
for t in marketing sales; do
    it_start_track $t --curve.cert "$K/$t.cert" --curve.clients "$K/publishers" \
        --curve.coordinator "$K/coordinator.cert"
done
it_wait_schema || { echo "FAIL - no schema"; exit 1; }

"$BIN/dualtrack" watch --endpoint "tcp://127.0.0.1:$DEC_PORT" --cert "$K/good-watcher.cert" \
    --server-cert "$K/coordinator.cert" --quiet --count 20 --timeout 20000 > "$IT_DIR/good-watch.out" & good=$!
"$BIN/dualtrack" watch --endpoint "tcp://127.0.0.1:$DEC_PORT" --cert "$K/bad-watcher.cert" \
    --server-cert "$K/coordinator.cert" --quiet --timeout 6000 > "$IT_DIR/bad-watch.out" & bad=$!
"$BIN/dualtrack" watch --endpoint "tcp://127.0.0.1:$DEC_PORT" --quiet --timeout 6000 \
    > "$IT_DIR/plain-watch.out" & plain=$!
sleep 1
"$BIN/dualtrack" gen --count 20 --track sales --seed 51 > "$IT_DIR/s.jsonl"
it_publish sales --cert "$K/good-publisher.cert" --server-cert "$K/sales.cert" \
    --quiet "$IT_DIR/s.jsonl" > "$IT_DIR/good.out"
it_eq "an allowed publisher publishes" "$(cat "$IT_DIR/good.out")" \
    "published 20 events: accepted 20, rejected 0, invalid lines 0"
it_eq "its events are stored (the tracks reach the coordinator over CURVE)" \
    "$(it_wait_value 'SELECT count(*) FROM touchpoints' 20)" 20
it_eq "each stored with its certificate's name as publisher" \
    "$(psql_q -c "SELECT string_agg (DISTINCT coalesce (publisher, 'NULL'), ',') FROM touchpoints")" good-publisher
echo '{"id": "cbad-1", "source": "crm", "account": "acme.com", "stage": "awareness", "channel": "email", "occurred_at": 1780000000000}' \
    > "$IT_DIR/refused.jsonl"
it_publish sales --cert "$K/good-publisher.cert" --server-cert "$K/sales.cert" --quiet "$IT_DIR/refused.jsonl" > /dev/null
it_eq "a refused event's reject names the publisher's certificate (migration 017)" \
    "$(it_wait_value "SELECT publisher FROM rejects WHERE event_id = 'cbad-1'" good-publisher)" good-publisher

"$BIN/dualtrack" gen --count 5 --track sales --seed 52 --prefix bad > "$IT_DIR/bad.jsonl"
"$BIN/dualtrack" publish --endpoint "$SALES_EP" --timeout 1000 --retries 1 --quiet \
    --cert "$K/bad-publisher.cert" --server-cert "$K/sales.cert" "$IT_DIR/bad.jsonl" > "$IT_DIR/bad.out" 2>&1
it_eq "a publisher not on the allow-list gets no answer" "$?" 2
"$BIN/dualtrack" publish --endpoint "$SALES_EP" --timeout 1000 --retries 1 --quiet \
    "$IT_DIR/bad.jsonl" > "$IT_DIR/plain.out" 2>&1
it_eq "a plain-TCP publisher gets no answer" "$?" 2
it_eq "nothing of theirs is stored" "$(psql_q -c "SELECT count(*) FROM touchpoints WHERE id LIKE 'bad-%'")" 0
it_check "the refusal is logged with the client's key" \
    grep -q 'msg="connection refused: client key not in the allow-list"' "$IT_DIR/sales.log"

wait $good; wait $bad; wait $plain
it_eq "an allowed subscriber sees the verdicts" "$(cat "$IT_DIR/good-watch.out")" "watched 20 verdicts"
it_eq "a subscriber not on the allow-list sees nothing" "$(cat "$IT_DIR/bad-watch.out")" "watched 0 verdicts"
it_eq "a plain subscriber sees nothing" "$(cat "$IT_DIR/plain-watch.out")" "watched 0 verdicts"
it_check "the coordinator logs the refused subscriber" \
    grep -q 'msg="connection refused: client key not in the allow-list"' "$IT_DIR/coordinator.log"

# SIGHUP re-reads the allow-lists at once, and the daemons keep serving
cp "$K/bad-publisher.cert" "$K/publishers/"
kill -HUP "${IT_PID[sales]}" "${IT_PID[coordinator]}"
for _ in $(seq 1 50); do
    grep -q 'msg="SIGHUP: allow-list re-read"' "$IT_DIR/sales.log" \
    && grep -q 'msg="SIGHUP: allow-list re-read"' "$IT_DIR/coordinator.log" && break
    sleep 0.1
done
it_check "SIGHUP: the track logs its allow-list re-read" \
    grep -q 'msg="SIGHUP: allow-list re-read" track=sales allow_list=' "$IT_DIR/sales.log"
it_check "SIGHUP: the coordinator logs its allow-list re-read" \
    grep -q 'msg="SIGHUP: allow-list re-read" allow_list=' "$IT_DIR/coordinator.log"
it_check "the daemons keep running after SIGHUP" kill -0 "${IT_PID[sales]}" "${IT_PID[coordinator]}"
it_publish sales --cert "$K/bad-publisher.cert" --server-cert "$K/sales.cert" \
    --quiet "$IT_DIR/bad.jsonl" > "$IT_DIR/added.out"
it_eq "a publisher added to the allow-list publishes" "$(cat "$IT_DIR/added.out")" \
    "published 5 events: accepted 5, rejected 0, invalid lines 0"
it_eq "and its events are stored" \
    "$(it_wait_value "SELECT count(*) FROM touchpoints WHERE id LIKE 'bad-%'" 5)" 5
it_eq "under its own name" \
    "$(psql_q -c "SELECT string_agg (DISTINCT publisher, ',') FROM touchpoints WHERE id LIKE 'bad-%'")" bad-publisher
it_done
