# Malformed input: each broken frame or event gets its documented error code
# naming the field, lands in rejects with its raw bytes, and the daemons keep
# serving.
source "$(dirname "$0")/lib.sh"
it_start
"$TOOLS/malformed" "$SALES_EP" > "$IT_DIR/malformed.out" 2>&1
rc=$?
cat "$IT_DIR/malformed.out"
it_eq "every malformed case answered as documented" "$rc" 0

# 7 frame-level rejects + 6 bad events + 1 bad event in the REQ request
it_eq "rejects recorded" "$(it_wait_value 'SELECT count(*) FROM rejects' 14)" 14
it_eq "rejects by code" "$(psql_q -c "SELECT string_agg (code || '=' || n, ',' ORDER BY code) FROM (SELECT code, count(*) n FROM rejects GROUP BY 1) x")" \
    "bad_request=4,bad_value=2,frame_too_large=1,missing_field=2,too_long=1,too_many_events=1,unknown_field=1,unsupported_version=1,wrong_type=1"
it_eq "event rejects name their field and event" \
    "$(psql_q -c "SELECT field || ':' || event_id FROM rejects WHERE code = 'unknown_field'")" "colour:bad-unknown-1"
it_eq "raw bytes kept (not msgpack frame)" \
    "$(psql_q -c "SELECT encode (raw, 'escape') FROM rejects WHERE error LIKE 'frame is not msgpack%'")" '\301 not msgpack'
it_eq "the oversize frame is kept up to 64 KiB" \
    "$(psql_q -c "SELECT length (raw) FROM rejects WHERE code = 'frame_too_large'")" 65536
it_eq "rejects are tagged with the track" "$(psql_q -c "SELECT DISTINCT track FROM rejects")" sales
it_eq "plain ZeroMQ: no publisher recorded (migration 017)" \
    "$(psql_q -c "SELECT count(*) FROM rejects WHERE publisher IS NOT NULL")" 0
it_eq "good events around the bad ones stored" \
    "$(it_wait_value "SELECT string_agg (id, ',' ORDER BY id) FROM touchpoints" "good-after-1,good-req-1")" "good-after-1,good-req-1"

# The CLI reports rejections with line numbers and a summary
printf '%s\n' '{"id":"cli-1","source":"t","account":"A","stage":"intent","channel":"email","kind":"quote","occurred_at":1777593600000}' \
    '{"id":"cli-2","source":"t","account":"A","stage":"intent","channel":"fax","kind":"quote","occurred_at":1777593600000}' \
    'not json' > "$IT_DIR/cli.jsonl"
it_publish sales "$IT_DIR/cli.jsonl" > "$IT_DIR/cli.out" 2>&1; rc=$?
it_eq "publish exits 1 when something was rejected" "$rc" 1
it_check "publish names the line, id, code and field" grep -q "rejected: line 2: id cli-2: bad_value: channel: 'fax'" "$IT_DIR/cli.out"
it_check "publish reports lines that are not JSON" grep -q "invalid: .*cli.jsonl line 3: not JSON" "$IT_DIR/cli.out"
it_check "publish summary" grep -q "published 2 events: accepted 1, rejected 1, invalid lines 1" "$IT_DIR/cli.out"
# An event the codec passes but PostgreSQL refuses (here: a constraint added
# for the test) becomes a store_refused reject; its batch-mates are stored
psql_q -c "ALTER TABLE touchpoints ADD CONSTRAINT test_no_poison CHECK (kind <> 'poison')"
for k in quote poison demo; do
    echo "{\"id\":\"iso-$k\",\"source\":\"t\",\"account\":\"A\",\"stage\":\"intent\",\"channel\":\"email\",\"kind\":\"$k\",\"occurred_at\":1777593600000}"
done > "$IT_DIR/poison.jsonl"
it_publish sales --quiet --batch 3 "$IT_DIR/poison.jsonl" > /dev/null
it_eq "a refused event does not hold back the others" \
    "$(it_wait_value "SELECT string_agg (id, ',' ORDER BY id) FROM touchpoints WHERE id LIKE 'iso-%'" "iso-demo,iso-quote")" "iso-demo,iso-quote"
it_eq "the refused event is a store_refused reject" \
    "$(it_wait_value "SELECT event_id FROM rejects WHERE code = 'store_refused'" iso-poison)" iso-poison
it_done
