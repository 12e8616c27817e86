# Webhooks out (issue 16): `dualtrack relay` follows the feed with catch-up
# and POSTs the matching verdicts to URLs. Against local receivers
# (webhook_sink, loopback) that fail the first attempts and then succeed:
# every verdict reaches the URL at least once and each id is processed
# once by its Idempotency-Key, in seq order; the relay SIGKILLed mid-stream
# and started again with its cursor loses nothing; a URL that always fails
# is parked (log line, metric) while the others go on, and gets the Slack
# body; a relay filtered by verdict sends only violations; a URL that is
# down is parked, probed again at a doubling period (through a SIGKILL and
# restart of its relay), and once back it gets every verdict it missed, in
# order, from its own cursor; a receiver's Retry-After is honoured.
source "$(dirname "$0")/lib.sh"
export LC_ALL=C
it_start

# A receiver: name, requests to fail first (-1: all), attempts to fail per
# key, the Retry-After of its 503s (optional); its port in SINK_PORT (not a
# subshell: it_cleanup must know its pid). sink-NAME.log: "<ms> <status> <key>"
start_sink() {
    "$TOOLS/webhook_sink" "$IT_DIR/$1.req" "$2" "$3" "${4:-}" > "$IT_DIR/$1.port" 2>>"$IT_DIR/sink-$1.log" &
    IT_PID[sink_$1]=$!
    for _ in $(seq 1 100); do grep -q '^port ' "$IT_DIR/$1.port" && break; sleep 0.1; done
    SINK_PORT=$(awk '/^port /{print $2}' "$IT_DIR/$1.port")
}
start_relay() {  # name, http port, options...
    local name=$1 http=$2; shift 2
    "$BIN/dualtrack" relay --decisions "tcp://127.0.0.1:$DEC_PORT" --catchup "tcp://127.0.0.1:$CATCHUP_PORT" \
        --security plain --http "127.0.0.1:$http" --cursor "$IT_DIR/$name.cursor" \
        --backoff.ms 5 --backoff.max_ms 40 "$@" >>"$IT_DIR/$name.log" 2>&1 &
    IT_PID[$name]=$!
}
# A URL's line in a relay's cursor file: its seq
url_seq() { awk -v w="http://127.0.0.1:$2" '$3 == w {print $1}' "$IT_DIR/$1.cursor" 2>/dev/null; }
# The keys a receiver answered 200 to, each once, sorted
processed() { awk '$1 == 200 {print $2}' "$IT_DIR/$1.req" | sort -u; }
wait_processed() {  # sink, n
    for _ in $(seq 1 900); do [ "$(processed "$1" | wc -l)" -ge "$2" ] && return 0; sleep 0.1; done
    return 1
}

start_sink a 5 1; A=$SINK_PORT          # the first 5 requests fail, and each key's first attempt
start_sink c -1 0; C=$SINK_PORT         # always fails: parked
start_sink b 0 0; B=$SINK_PORT
touch "$IT_DIR/f.down"
WEBHOOK_SINK_DELAY_MS=4 start_sink f "@$IT_DIR/f.down" 0; F=$SINK_PORT   # down until f.down is removed; slow

RELAY1_HTTP=$(it_port); RELAY2_HTTP=$(it_port)
start_relay relay1 "$RELAY1_HTTP" --urls "http://127.0.0.1:$A/hook slack:http://127.0.0.1:$C/slack" \
    --verdicts all --attempts 12
start_relay relay2 "$RELAY2_HTTP" --urls "http://127.0.0.1:$B/only-violations" --verdicts violation
start_sink g 0 0; G=$SINK_PORT
RELAY5_HTTP=$(it_port)
RELAY5_ARGS=(--urls "http://127.0.0.1:$G/live http://127.0.0.1:$F/down" --verdicts all
             --attempts 2 --probe.ms 300 --probe.max_ms 1200)
start_relay relay5 "$RELAY5_HTTP" "${RELAY5_ARGS[@]}"

"$BIN/dualtrack" gen --count 400 --track sales --seed 81 --accounts 40 > "$IT_DIR/s.jsonl"
"$BIN/dualtrack" gen --count 400 --track marketing --seed 82 --accounts 40 > "$IT_DIR/m.jsonl"
it_publish sales --quiet "$IT_DIR/s.jsonl" > /dev/null & ps=$!
it_publish marketing --quiet "$IT_DIR/m.jsonl" > /dev/null & pm=$!
# SIGKILL the relay mid-stream, start it again with its cursor
it_check "the relay delivers while events flow" wait_processed a 150
# The cursor file is written at most once a second: kill once it has moved
for _ in $(seq 1 50); do [ "$(url_seq relay1 "$A")" -gt 0 ] 2>/dev/null && break; sleep 0.1; done
kill -9 "${IT_PID[relay1]}"; wait "${IT_PID[relay1]}" 2>/dev/null
KILLED_AT=$(url_seq relay1 "$A")
it_log "relay SIGKILLed after $(processed a | wc -l) verdicts processed, cursor $KILLED_AT"
wait $ps; wait $pm
"$BIN/dualtrack" gen --count 200 --track sales --seed 83 --accounts 40 > "$IT_DIR/s2.jsonl"
it_publish sales --quiet "$IT_DIR/s2.jsonl" > /dev/null
it_pub_views_seed           # violations among them
start_relay relay1 "$RELAY1_HTTP" --urls "http://127.0.0.1:$A/hook slack:http://127.0.0.1:$C/slack" \
    --verdicts all --attempts 12
TOTAL=$((1000 + it_published))
it_eq "all stored" "$(it_wait_value 'SELECT count(*) FROM touchpoints' $TOTAL)" $TOTAL
psql_q -c 'SELECT id FROM touchpoints' | sort > "$IT_DIR/ids"
it_check "every verdict reached the URL at least once" wait_processed a $TOTAL
it_check "each id processed once by its key: exactly the stored ids" cmp -s "$IT_DIR/ids" <(processed a)
it_eq "the restart resumed from the cursor, not from the start" \
    "$(grep 'msg="URL resumes" url=1 ' "$IT_DIR/relay1.log" | sed -n 2p | grep -o 'last_seq=[0-9]*')" "last_seq=${KILLED_AT:-none}"
it_eq "the cursor had moved before the SIGKILL" "$(( ${KILLED_AT:-0} > 0 ))" 1
it_eq "the receiver's failures were retried (503s answered)" \
    "$(( $(awk '$1 == 503' "$IT_DIR/a.req" | wc -l) >= TOTAL ))" 1
it_log "requests to A: $(wc -l < "$IT_DIR/a.req"), redelivered after 200: $(( $(awk '$1 == 200' "$IT_DIR/a.req" | wc -l) - TOTAL ))"
# In seq order: the first 200 of each key comes in rising seq
it_check "delivered in seq order (so in order per account)" \
    sh -c "awk '\$1 == 200 && !seen[\$2]++ {print \$3}' '$IT_DIR/a.req' | sort -n -c"
it_eq "the Dualtrack-Seq header and the body's seq and id are the stored ones" \
    "$(awk '$1 == 200 && !seen[$2]++ {print $4}' "$IT_DIR/a.req" | jq -r '"\(.id) \(.seq)"' | sort |
       join - <(psql_q -F ' ' -c 'SELECT id, seq FROM touchpoint_ids' | sort) | awk '$2 != $3' | wc -l)" 0
it_eq "the body is the feed's message as JSON" \
    "$(awk '$1 == 200 {print $4; exit}' "$IT_DIR/a.req" | jq -r 'has("verdict") and has("findings") and has("account")')" true

# The always-failing URL: parked, with the Slack body
it_check "the failing URL is parked with a log line" grep -q 'msg="URL parked.*url=2' "$IT_DIR/relay1.log"
it_eq "the parked URL holds the cursor's first line back: it has not got them" \
    "$(( $(head -n 1 "$IT_DIR/relay1.cursor") == $(url_seq relay1 "$C") && $(url_seq relay1 "$C") < TOTAL ))" 1
it_eq "the parked metric" "$(it_metric "$RELAY1_HTTP" 'dualtrack_relay_parked_total{url="2"}')" 1
it_eq "a Slack URL gets {\"text\": ...}" "$(head -n 1 "$IT_DIR/c.req" | cut -d' ' -f4- | jq -r 'keys | join(",")')" text

# The filter: only violations
VIOLATIONS=$(psql_q -c "SELECT count(*) FROM touchpoints WHERE verdict = 'violation'")
it_log "$VIOLATIONS violations of $TOTAL"
it_eq "there are violations and others" "$(( VIOLATIONS > 0 && VIOLATIONS < TOTAL ))" 1
wait_processed b "$VIOLATIONS"
it_check "the filtered relay sent exactly the violations" cmp -s \
    <(psql_q -c "SELECT id FROM touchpoints WHERE verdict = 'violation'" | sort) <(processed b)

# The URL that is down: parked at the first verdict, probed again after
# 300, 600, 1200, 1200... ms, its own cursor kept behind the live one
wait_processed g "$TOTAL"
it_check "the URL that is down is parked" grep -q 'msg="URL parked.*url=2 ' "$IT_DIR/relay5.log"
it_eq "it got nothing" "$(processed f | wc -l)" 0
sleep 1.2
it_eq "its cursor stays behind the live URL's" \
    "$(( $(url_seq relay5 "$F") < $(url_seq relay5 "$G") ))" 1
it_eq "relay_urls_parked" "$(it_metric "$RELAY5_HTTP" dualtrack_relay_urls_parked)" 1
it_eq "the relay is ready while a URL is live" "$(it_http "$RELAY5_HTTP" /readyz | head -n 1)" 200
GAPS=$(awk '{if (NR > 2) printf "%s%d", (NR > 3? " ": ""), $1 - t; t = $1}' "$IT_DIR/sink-f.log")
it_log "the probes came after $GAPS ms"
it_eq "the probe period doubles from 300 ms, up to 1200 ms" "$(echo "$GAPS" |
    awk '{ok = NF >= 3; for (i = 1; i <= NF; i++) {want = 300 * 2 ^ (i - 1); if (want > 1200) want = 1200;
          if ($i < want) ok = 0}; print ok}')" 1
it_check "each failed probe says so" grep -q 'msg="URL still parked: the probe failed" url=2 ' "$IT_DIR/relay5.log"
# Its relay SIGKILLed and started again while it is down: its own cursor
# comes back from the file; it is tried, parked again, and probed
F_AT=$(url_seq relay5 "$F")
kill -9 "${IT_PID[relay5]}"; wait "${IT_PID[relay5]}" 2>/dev/null
start_relay relay5 "$RELAY5_HTTP" "${RELAY5_ARGS[@]}"
for _ in $(seq 1 100); do [ "$(grep -c 'msg="URL parked.*url=2 ' "$IT_DIR/relay5.log")" -ge 2 ] && break; sleep 0.1; done
it_eq "the restarted relay resumes the URL that is down from its own cursor" \
    "$(grep 'msg="URL resumes" url=2 ' "$IT_DIR/relay5.log" | sed -n 2p | grep -o 'last_seq=[0-9]*')" "last_seq=$F_AT"
it_eq "parked again after the restart" "$(grep -c 'msg="URL parked.*url=2 ' "$IT_DIR/relay5.log")" 2
rm "$IT_DIR/f.down"
# While it catches up (4 ms a verdict, ~4 s), the live URL is not held up: a
# new verdict reaches it long before the other has caught up
for _ in $(seq 1 100); do [ "$(processed f | wc -l)" -ge 50 ] && break; sleep 0.1; done
it_pub_one sales live-1 gamma gus intent phone call "2026-05-09 10:00"
TOTAL=$((TOTAL + 1))
it_check "the live URL gets a new verdict while the other catches up" wait_processed g "$TOTAL"
it_eq "meanwhile the URL behind has not caught up yet" "$(( $(processed f | wc -l) < TOTAL - 100 ))" 1
psql_q -c 'SELECT id FROM touchpoints' | sort > "$IT_DIR/ids"
it_check "back up: it gets every verdict it missed" wait_processed f "$TOTAL"
it_check "exactly the stored ids" cmp -s "$IT_DIR/ids" <(processed f)
it_check "in seq order" sh -c "awk '\$1 == 200 && !seen[\$2]++ {print \$3}' '$IT_DIR/f.req' | sort -n -c"
it_check "unparked with a log line" grep -q 'msg="URL unparked.*url=2 ' "$IT_DIR/relay5.log"
it_check "caught up and back on the live feed" grep -q 'msg="URL caught up: back on the live feed" url=2 ' "$IT_DIR/relay5.log"
it_eq "relay_unparked_total" "$(it_metric "$RELAY5_HTTP" 'dualtrack_relay_unparked_total{url="2"}')" 1
it_eq "no URL parked now" "$(it_metric "$RELAY5_HTTP" dualtrack_relay_urls_parked)" 0
it_eq "relay_probes_total counts the probes" "$(( $(it_metric "$RELAY5_HTTP" 'dualtrack_relay_probes_total{url="2"}') >= 1 ))" 1
it_eq "the live URL got nothing twice after the restart" "$(awk '$1 == 200' "$IT_DIR/g.req" | wc -l)" "$TOTAL"
# The rule filter, from the store alone (a relay started after the fact):
# the rarest rule raised
RULE=$(psql_q -c 'SELECT rule FROM findings GROUP BY rule ORDER BY count(*), rule LIMIT 1')
WITH_RULE=$(psql_q -c "SELECT count(DISTINCT touchpoint_id) FROM findings WHERE rule = '$RULE'")
it_log "rule $RULE on $WITH_RULE touchpoints"
start_sink d 0 0; D=$SINK_PORT
start_relay relay3 "$(it_port)" --urls "http://127.0.0.1:$D/rule" --verdicts all --rules "$RULE"
wait_processed d "$WITH_RULE"
sleep 1
it_check "the relay filtered by rule sent exactly the touchpoints with a finding of it" cmp -s \
    <(psql_q -c "SELECT DISTINCT touchpoint_id FROM findings WHERE rule = '$RULE'" | sort) <(processed d)
it_stop relay3

# Retry-After: a receiver answering 503 with "Retry-After: 2" is asked again
# after 2 s, not after the 5-40 ms backoff, and then gets everything
start_sink e 1 0 2; E=$SINK_PORT
RELAY4_HTTP=$(it_port)
start_relay relay4 "$RELAY4_HTTP" --urls "http://127.0.0.1:$E/later" --verdicts violation
it_check "the receiver that said Retry-After gets every violation" wait_processed e "$VIOLATIONS"
GAP_MS=$(awk 'NR == 1 {t = $1} NR == 2 {print $1 - t}' "$IT_DIR/sink-e.log")
it_log "Retry-After: 2 -> asked again after $GAP_MS ms"
it_eq "the retry waited the 2 s of Retry-After" "$(( GAP_MS >= 2000 && GAP_MS < 5000 ))" 1
it_eq "the Retry-After metric" "$(it_metric "$RELAY4_HTTP" 'dualtrack_relay_retry_after_waits_total{url="1"}')" 1
it_check "the POST failed line names the wait" grep -q 'retry_after_ms=2000 wait_ms=2000' "$IT_DIR/relay4.log"
it_stop relay4
it_eq "the filtered relay is ready" "$(it_http "$RELAY2_HTTP" /readyz | head -n 1)" 200

# A clean stop writes the cursor: the last seq
sleep 1.5
it_stop relay1; it_eq "the relay exits 0 on SIGTERM" "$?" 0
it_eq "its cursor is the last seq" "$(url_seq relay1 "$A")" "$(psql_q -c 'SELECT max(seq) FROM touchpoint_ids')"
sleep 1.2
it_eq "the URL back up has the last seq too" "$(url_seq relay5 "$F")" "$(psql_q -c 'SELECT max(seq) FROM touchpoint_ids')"
it_stop relay2; it_stop relay5
"$BIN/dualtrack" relay --urls "ftp://x" --security plain > "$IT_DIR/bad.out" 2>&1
it_eq "a bad URL is refused" "$?" 2
it_check "naming the option" grep -q "urls: 'ftp://x'" "$IT_DIR/bad.out"
for s in a b c d e f g; do it_stop "sink_$s"; done
it_done
