# The HTTP ingress (POST /v1/events) with real processes and curl: JSON and
# JSON lines accepted after the journal's fsync and stored with the
# publisher's name; every status of PROTOCOL.md's table produced and its
# body asserted (400 with code and field, 401, 404, 405, 413, 415, 503 with
# Retry-After); a token added while running works (re-read on change); the
# same events give identical rows (and findings) over ZeroMQ and HTTP (all
# columns but the times of arrival and storing, and the publisher: plain
# ZeroMQ has none);
# HTTPS with a self-signed certificate made here by openssl.
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "FAIL - curl is not installed"; exit 1; }
TOKENS=$IT_DIR/tokens
TOKEN=$("$BIN/dualtrack" token new crm "$TOKENS" 2>/dev/null)
it_check "dualtrack token new prints a token" test -n "$TOKEN"
it_eq "the token file holds its SHA-256" "$(cat "$TOKENS/crm")" \
    "$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)"
MKT_IN=$(it_port); SALES_IN=$(it_port)
it_start_pg
it_start_coordinator
it_start_track marketing --http.ingress "127.0.0.1:$MKT_IN" --http.tokens "$TOKENS"
it_wait_schema || { echo "FAIL - no schema"; exit 1; }
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$MKT_IN") 2>/dev/null && break; sleep 0.1; done

# post PORT BODY-FILE [curl options]: prints the status; the body is in
# $IT_DIR/reply, the headers in $IT_DIR/headers. AUTH and CT override the
# token and the content type.
post() {
    local port=$1 file=$2; shift 2
    curl -sS -o "$IT_DIR/reply" -D "$IT_DIR/headers" -w '%{http_code}' \
        -H "Authorization: Bearer ${AUTH:-$TOKEN}" -H "Content-Type: ${CT:-application/json}" \
        --data-binary "@$file" "$@" "http://127.0.0.1:$port/v1/events"
}
ev() {  # id [extra JSON fields]
    local extra=${2:-}; [ -n "$extra" ] && extra=", $extra"
    echo "{\"id\": \"$1\", \"source\": \"crm\", \"account\": \"acme\", \"stage\": \"awareness\", \"channel\": \"email\", \"kind\": \"newsletter\", \"occurred_at\": 1780000000000$extra}"
}

# 200, JSON
echo "{\"events\": [$(ev h1), $(ev h2 '"contact": "ann"')]}" > "$IT_DIR/ok.json"
it_eq "JSON body: 200" "$(post "$MKT_IN" "$IT_DIR/ok.json")" 200
it_eq "JSON body: the reply" "$(cat "$IT_DIR/reply")" '{"v":1,"accepted":2,"rejected":[]}'
it_eq "JSON body: stored with the publisher's name" \
    "$(it_wait_value "SELECT string_agg (id || ':' || publisher, ',' ORDER BY id) FROM touchpoints" "h1:crm,h2:crm")" "h1:crm,h2:crm"
# 200, JSON lines
{ ev h3; echo; ev h4; } > "$IT_DIR/ok.ndjson"
it_eq "JSON lines: 200" "$(CT=application/x-ndjson post "$MKT_IN" "$IT_DIR/ok.ndjson")" 200
it_eq "JSON lines: the reply" "$(cat "$IT_DIR/reply")" '{"v":1,"accepted":2,"rejected":[]}'
it_eq "JSON lines: stored" "$(it_wait_value "SELECT count(*) FROM touchpoints WHERE id IN ('h3', 'h4')" 2)" 2
# the same again: acknowledged, stored once
it_eq "a resend: 200" "$(post "$MKT_IN" "$IT_DIR/ok.json")" 200
sleep 0.5
it_eq "a resend is stored once" "$(psql_q -c "SELECT count(*) FROM touchpoints")" 4

# 400: an event refused, with code and field; the other one accepted
echo "{\"events\": [$(ev h5), {\"id\": \"h6\", \"source\": \"crm\", \"account\": \"acme\", \"stage\": \"awareness\", \"channel\": \"email\", \"occurred_at\": 1780000000000}]}" > "$IT_DIR/bad.json"
it_eq "a refused event: 400" "$(post "$MKT_IN" "$IT_DIR/bad.json")" 400
it_eq "a refused event: code and field" "$(jq -c '[.accepted, .rejected[0].index, .rejected[0].id, .rejected[0].code, .rejected[0].field]' "$IT_DIR/reply")" \
    '[1,1,"h6","missing_field","kind"]'
it_eq "a refused event is in rejects" "$(it_wait_value "SELECT code || '/' || field FROM rejects WHERE event_id = 'h6'" missing_field/kind)" missing_field/kind
it_eq "with the publisher's name" "$(psql_q -c "SELECT publisher FROM rejects WHERE event_id = 'h6'")" crm
echo "{\"events\": [$(ev h7 '"occurred_at2": 1')]}" > "$IT_DIR/unknown.json"
post "$MKT_IN" "$IT_DIR/unknown.json" > /dev/null
it_eq "an unknown field: its name" "$(jq -c '[.rejected[0].code, .rejected[0].field]' "$IT_DIR/reply")" '["unknown_field","occurred_at2"]'
echo "{\"events\": [$(ev h8 '"publisher": "forged"')]}" > "$IT_DIR/forged.json"
post "$MKT_IN" "$IT_DIR/forged.json" > /dev/null
it_eq "publisher can not be sent as a field" "$(jq -c '[.rejected[0].code, .rejected[0].field]' "$IT_DIR/reply")" '["unknown_field","publisher"]'
# 400: frame-level
echo '{"events": [' > "$IT_DIR/broken.json"
it_eq "not JSON: 400" "$(post "$MKT_IN" "$IT_DIR/broken.json")" 400
it_eq "not JSON: bad_request" "$(jq -r '.error.code' "$IT_DIR/reply")" bad_request
it_eq "not JSON: recorded in rejects with the body" \
    "$(it_wait_value "SELECT count(*) FROM rejects WHERE code = 'bad_request' AND convert_from (raw, 'UTF8') = '{\"events\": [' || chr(10)" 1)" 1
it_eq "not JSON: its reject names the publisher too" \
    "$(psql_q -c "SELECT publisher FROM rejects WHERE code = 'bad_request' AND convert_from (raw, 'UTF8') = '{\"events\": [' || chr(10)")" crm
echo '{"events": [], "extra": 1}' > "$IT_DIR/extra.json"
it_eq "an extra key: 400" "$(post "$MKT_IN" "$IT_DIR/extra.json")" 400
it_eq "an extra key: named" "$(jq -c '[.error.code, .error.field]' "$IT_DIR/reply")" '["bad_request","extra"]'
echo '{"events": []}' > "$IT_DIR/none.json"
it_eq "no events: 400" "$(post "$MKT_IN" "$IT_DIR/none.json")" 400
it_eq "no events: too_many_events" "$(jq -r '.error.code' "$IT_DIR/reply")" too_many_events
echo '{"events": [{"id": "d", "id": "e"}]}' > "$IT_DIR/dup.json"
it_eq "a key given twice: 400" "$(post "$MKT_IN" "$IT_DIR/dup.json")" 400

# 401, 404, 405, 415, 413
it_eq "no token: 401" "$(curl -sS -o "$IT_DIR/reply" -D "$IT_DIR/headers" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "@$IT_DIR/ok.json" "http://127.0.0.1:$MKT_IN/v1/events")" 401
it_check "401 says Bearer" grep -qi '^WWW-Authenticate: Bearer' "$IT_DIR/headers"
it_eq "401: unauthorized" "$(jq -r '.error.code' "$IT_DIR/reply")" unauthorized
it_eq "a wrong token: 401" "$(AUTH=dt_0000 post "$MKT_IN" "$IT_DIR/ok.json")" 401
it_eq "a wrong path: 404" "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$MKT_IN/v1/other")" 404
it_eq "GET: 405" "$(curl -sS -o /dev/null -D "$IT_DIR/headers" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$MKT_IN/v1/events")" 405
it_check "405 says Allow: POST" grep -qi '^Allow: POST' "$IT_DIR/headers"
it_eq "text/plain: 415" "$(CT=text/plain post "$MKT_IN" "$IT_DIR/ok.json")" 415
head -c $((8 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' > "$IT_DIR/big.json"
it_eq "over 8 MiB: 413" "$(post "$MKT_IN" "$IT_DIR/big.json")" 413
it_eq "413: frame_too_large" "$(jq -r '.error.code' "$IT_DIR/reply")" frame_too_large

# A token added while running works once the directory is re-read
TOKEN2=$("$BIN/dualtrack" token new erp "$TOKENS" 2>/dev/null)
sleep 1.2
echo "{\"events\": [$(ev e1)]}" > "$IT_DIR/erp.json"
it_eq "a new token works without a restart" "$(AUTH=$TOKEN2 post "$MKT_IN" "$IT_DIR/erp.json")" 200
it_eq "recorded under its name" "$(it_wait_value "SELECT publisher FROM touchpoints WHERE id = 'e1'" erp)" erp
rm "$TOKENS/erp"; kill -HUP "${IT_PID[marketing]}"; sleep 0.3
it_eq "a deleted token is refused after SIGHUP" "$(AUTH=$TOKEN2 post "$MKT_IN" "$IT_DIR/erp.json")" 401

# HTTPS: a self-signed certificate; the sales track serves TLS
if command -v openssl >/dev/null; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
        -keyout "$IT_DIR/key.pem" -out "$IT_DIR/cert.pem" >/dev/null 2>&1
    it_start_track sales --http.ingress "127.0.0.1:$SALES_IN" --http.tokens "$TOKENS" \
        --http.cert "$IT_DIR/cert.pem" --http.key "$IT_DIR/key.pem"
    for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SALES_IN") 2>/dev/null && break; sleep 0.1; done
    echo "{\"events\": [$(ev t1 '"stage": "intent"' | sed 's/"stage": "awareness", //')]}" > "$IT_DIR/tls.json"
    it_eq "HTTPS: 200" "$(curl -sS -o "$IT_DIR/reply" -w '%{http_code}' --cacert "$IT_DIR/cert.pem" \
        -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        --data-binary "@$IT_DIR/tls.json" "https://localhost:$SALES_IN/v1/events")" 200
    it_eq "HTTPS: stored" "$(it_wait_value "SELECT track || ':' || publisher FROM touchpoints WHERE id = 't1'" sales:crm)" sales:crm
    it_check "HTTPS: plain HTTP is not served there" \
        bash -c "! curl -sS -o /dev/null --max-time 3 'http://127.0.0.1:$SALES_IN/v1/events' -d x 2>/dev/null | grep -q 200"
    it_stop sales
else
    it_check "openssl is installed (for the HTTPS test)" false
fi

# The same events over ZeroMQ, then over HTTP to a fresh store: same rows
"$BIN/dualtrack" gen --count 300 --track marketing --seed 7 > "$IT_DIR/same.jsonl"
dump() {
    psql_q -c "SELECT to_jsonb (t) - 'received_at' - 'stored_at' - 'publisher' FROM touchpoints t ORDER BY id"
    psql_q -c "SELECT to_jsonb (f) - 'found_at' FROM findings f ORDER BY touchpoint_id, finding_no"
}
# Drained first, so no batch is sent again into the emptied store
fresh_store() {
    it_stop marketing
    it_stop coordinator
    psql_q -c "TRUNCATE touchpoints, findings, rejects"
    it_start_coordinator
    it_start_track marketing --http.ingress "127.0.0.1:$MKT_IN" --http.tokens "$TOKENS"
    for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$MKT_IN") 2>/dev/null && break; sleep 0.1; done
}
fresh_store
it_eq "ZeroMQ: published" "$(it_publish marketing --quiet "$IT_DIR/same.jsonl")" \
    "published 300 events: accepted 300, rejected 0, invalid lines 0"
it_eq "ZeroMQ: stored" "$(it_wait_value "SELECT count(*) FROM touchpoints" 300)" 300
sleep 1
dump > "$IT_DIR/zmq.rows"
fresh_store
jq -s '{events: .}' "$IT_DIR/same.jsonl" > "$IT_DIR/same.json"
it_eq "HTTP: 200" "$(post "$MKT_IN" "$IT_DIR/same.json")" 200
it_eq "HTTP: stored" "$(it_wait_value "SELECT count(*) FROM touchpoints" 300)" 300
sleep 1
dump > "$IT_DIR/http.rows"
it_check "rows were dumped" test "$(wc -l < "$IT_DIR/zmq.rows")" -gt 300
it_check "ZeroMQ and HTTP store identical rows and findings" cmp -s "$IT_DIR/zmq.rows" "$IT_DIR/http.rows"
cmp -s "$IT_DIR/zmq.rows" "$IT_DIR/http.rows" ||
    diff "$IT_DIR/zmq.rows" "$IT_DIR/http.rows" | head -n 6 | cut -c 1-600
it_eq "HTTP rows name the publisher" "$(psql_q -c "SELECT count(*) FROM touchpoints WHERE publisher = 'crm'")" 300

# 503 with Retry-After: a track whose coordinator never answers fills its
# journal (--journal.max_bytes) and answers overloaded
it_start_track sales --http.ingress "127.0.0.1:$SALES_IN" --http.tokens "$TOKENS" \
    --coordinator "tcp://127.0.0.1:$(it_port)" --journal.dir "$IT_DIR/journal-full" --journal.max_bytes 3000
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SALES_IN") 2>/dev/null && break; sleep 0.1; done
got=""
for i in $(seq 1 40); do
    echo "{\"events\": [$(ev "o$i" '"stage": "intent"' | sed 's/"stage": "awareness", //')]}" > "$IT_DIR/o.json"
    got=$(post "$SALES_IN" "$IT_DIR/o.json")
    [ "$got" = 503 ] && break
done
it_eq "a full journal: 503" "$got" 503
it_check "503 has Retry-After" grep -qi '^Retry-After: 1' "$IT_DIR/headers"
it_eq "503: overloaded" "$(jq -r '.error.code // .rejected[0].code' "$IT_DIR/reply")" overloaded
it_stop sales
it_done
