# Shared by the integration tests: a private PostgreSQL and the three daemons
# on free loopback ports, real processes, torn down on exit.
# A test sources this, calls it_start, makes checks with it_check / it_eq,
# and ends with it_done.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd)
VARIANT=${VARIANT:-asan}
BIN=$ROOT/build/$VARIANT/bin
TOOLS=$ROOT/build/$VARIANT/tests
IT_DIR=$(mktemp -d /tmp/dualtrack-it.XXXXXX)
chmod 755 "$IT_DIR"
it_passed=0; it_failed=0
declare -A IT_PID=()

it_log() { echo "# $*"; }

it_check() {    # description, command...
    local what=$1; shift
    if "$@"; then it_passed=$((it_passed + 1)); echo "ok - $what"
    else it_failed=$((it_failed + 1)); echo "FAIL - $what"; fi
}

it_eq() {       # description, got, want
    if [ "$2" = "$3" ]; then it_passed=$((it_passed + 1)); echo "ok - $1 ($2)"
    else it_failed=$((it_failed + 1)); echo "FAIL - $1: got '$2', want '$3'"; fi
}

# A free TCP port on loopback
it_port() {
    local port
    while true; do
        # below the kernel's ephemeral range (32768+), where outgoing
        # connections would take a port between this check and the bind
        port=$((15000 + RANDOM % 17000))
        # never the same port twice in one test (each call is a subshell)
        grep -qx "$port" "$IT_DIR/ports" 2>/dev/null && continue
        (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null ||
            { echo "$port" >> "$IT_DIR/ports"; echo $port; return; }
    done
}

PG_PORT=$(it_port)
PG_URI=""
LINK_PORT=$(it_port); MKT_PORT=$(it_port); SALES_PORT=$(it_port)
COORD_HTTP=$(it_port); MKT_HTTP=$(it_port); SALES_HTTP=$(it_port)
DEC_PORT=$(it_port); CHECK_PORT=$(it_port); CATCHUP_PORT=$(it_port)
MKT_EP=tcp://127.0.0.1:$MKT_PORT
SALES_EP=tcp://127.0.0.1:$SALES_PORT

psql_q() { psql -X -q -At "$PG_URI" "$@"; }

it_start_pg() {
    PG_URI=$("$ROOT/scripts/pg-local" start "$IT_DIR/pg" "$PG_PORT") || { echo "FAIL - PostgreSQL did not start"; exit 1; }
}

it_start_coordinator() {
    "$BIN/dualtrack-coordinator" --pg.uri "$PG_URI" --links "tcp://127.0.0.1:$LINK_PORT" \
        --decisions "tcp://127.0.0.1:$DEC_PORT" --check "tcp://127.0.0.1:$CHECK_PORT" \
        --catchup "tcp://127.0.0.1:$CATCHUP_PORT" \
        --http "127.0.0.1:$COORD_HTTP" ${IT_SECURITY:---security plain} "$@" \
        >>"$IT_DIR/coordinator.log" 2>&1 &
    IT_PID[coordinator]=$!
}

it_start_track() {  # marketing|sales [options]
    local track=$1; shift
    local port=$MKT_PORT http=$MKT_HTTP; [ "$track" = sales ] && port=$SALES_PORT http=$SALES_HTTP
    "$BIN/dualtrack-trackd" --track "$track" --ingress "tcp://127.0.0.1:$port" \
        --coordinator "tcp://127.0.0.1:$LINK_PORT" --journal.dir "$IT_DIR/journal-$track" \
        --http "127.0.0.1:$http" ${IT_SECURITY:---security plain} \
        --liveness.ms 1500 "$@" >>"$IT_DIR/$track.log" 2>&1 &
    IT_PID[$track]=$!
}

# Wait until the schema exists (the coordinator migrated); generous, since
# CI machines can be slow while other work runs
it_wait_schema() {
    for _ in $(seq 1 300); do
        [ "$(psql_q -c "SELECT to_regclass('touchpoints') IS NOT NULL" 2>/dev/null)" = t ] && return 0
        sleep 0.1
    done
    return 1
}

# Wait until a query returns the wanted value (at most ~30 s): accepted
# events reach PostgreSQL shortly after the publisher's acknowledgement
it_wait_value() {   # sql, want [tenths of a second, default 300]
    local got
    for _ in $(seq 1 "${3:-300}"); do
        got=$(psql_q -c "$1" 2>/dev/null)
        [ "$got" = "$2" ] && break
        sleep 0.1
    done
    echo "$got"
}

it_start() {
    it_start_pg
    it_start_coordinator
    it_start_track marketing
    it_start_track sales
    it_wait_schema || { echo "FAIL - coordinator did not create the schema"; cat "$IT_DIR/coordinator.log"; exit 1; }
}

# SIGTERM a daemon and return its exit status
it_stop() {
    local name=$1 pid=${IT_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"; local rc=$?
    unset "IT_PID[$name]"
    return $rc
}

# GET a path from a daemon's HTTP port: prints the status code, then the body
it_http() {     # port, path
    local reply
    #  (Refused while a daemon restarts: 000, quietly)
    reply=$({ exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null && printf 'GET %s HTTP/1.0\r\nHost: x\r\n\r\n' "$2" >&3 && cat <&3) ||
        { echo 000; return; }
    echo "$reply" | head -n 1 | awk '{print $2}'
    echo "$reply" | sed '1,/^\r*$/d'
}

# The value of one metric line (exact name with labels) from /metrics
it_metric() {   # port, 'name{label="x"}'
    it_http "$1" /metrics | awk -v m="$2" '$1 == m {print $2}'
}

it_publish() {  # track, then publish options/files
    local track=$1; shift
    local ep=$MKT_EP; [ "$track" = sales ] && ep=$SALES_EP
    "$BIN/dualtrack" publish --endpoint "$ep" --timeout 3000 --retries 5 "$@"
}

# The coordinator's reload logs (suppression_reloads, contact_setting_reloads:
# at, ok, message): how many rows, and the last as "true|false message"
it_reloads() { psql_q -c "SELECT count(*) FROM $1"; }
it_last_reload() { psql_q -c "SELECT ok || ' ' || message FROM $1 ORDER BY at DESC LIMIT 1"; }
# Run a change (its output in $OUT, errors in $ERR), wait until the
# coordinator has recorded a reload in the table, print that reload
it_applied() {  # table, command...
    local table=$1 before; shift
    before=$(it_reloads "$table")
    "$@" > "$OUT" 2> "$ERR" || echo "# $*: $(cat "$ERR")"
    it_wait_value "SELECT count(*) > $before FROM $table" t > /dev/null
    it_last_reload "$table"
}

# Milliseconds since the epoch of a UTC date ("2026-05-01 09:00 UTC")
it_ms() { echo $(($(date -u -d "$1" +%s) * 1000)); }

# Publish one event and wait until it is stored; counts it in it_published.
# IT_SOURCE names the source field.
it_published=0
it_pub_one() {  # track, id, account, contact, stage, channel, kind, "YYYY-MM-DD HH:MM", extra JSON fields
    local extra=${9:-}
    [ -n "$extra" ] && extra=", $extra"
    local line="{\"id\": \"$2\", \"source\": \"${IT_SOURCE:-test}\", \"account\": \"$3\", \"contact\": \"$4\", \"stage\": \"$5\", \"channel\": \"$6\", \"kind\": \"$7\", \"occurred_at\": $(it_ms "$8 UTC")$extra}"
    local out
    out=$(printf '%s\n' "$line" | it_publish "$1" --quiet --batch 1 2>&1)
    [ "$out" = "published 1 events: accepted 1, rejected 0, invalid lines 0" ] || echo "# publish $2: $out"
    [ "$(it_wait_value "SELECT count(*) FROM touchpoints WHERE id = '$2'" 1)" = 1 ] &&
        it_published=$((it_published + 1))
}

# The accounts acme, beta and gamma that views.sh and report.sh assert on
# (views.sh explains each finding), in the order they are judged; each
# script publishes the rest of its seed after them
it_pub_views_seed() {
    it_pub_one marketing m1 acme ann awareness email newsletter "2026-05-01 09:00" '"theme": "cloud-first"'
    it_pub_one sales     s1 acme ann intent phone call "2026-05-02 10:00"
    it_pub_one marketing m2 acme bob negotiation email offer "2026-05-03 09:00" '"body": "A guaranteed discount for you."'
    it_pub_one sales     s2 acme carl awareness meeting intro "2026-05-04 12:00" '"theme": "legacy-savings", "advisors": ["marketing"]'
    it_pub_one sales     s4 beta dan intent phone call "2026-05-05 10:00"
    it_pub_one marketing m3 beta dan interest email newsletter "2026-05-05 23:30"
    it_pub_one marketing m4 beta eve consideration webinar webinar "2026-05-06 08:00" '"claims": {"support": "9-5"}'
    it_pub_one sales     s5 beta dan negotiation meeting negotiation "2026-05-06 09:00"
    it_pub_one sales     s7 beta dan negotiation email quote "2026-05-06 10:00"
    it_pub_one marketing m5 gamma fay awareness event booth "2026-05-07 09:00" '"theme": "secure-by-default", "advisors": ["sales"]'
    it_pub_one sales     s6 gamma fay purchase meeting signing "2026-05-07 10:00" '"advisors": ["marketing"]'
    it_pub_one marketing m6 gamma gus evaluation webinar demo "2026-05-08 10:00" '"theme": "fast-onboarding", "advisors": ["sales"]'
}

it_cleanup() {
    for name in "${!IT_PID[@]}"; do kill -9 "${IT_PID[$name]}" 2>/dev/null; done
    wait 2>/dev/null
    "$ROOT/scripts/pg-local" stop "$IT_DIR/pg" >/dev/null 2>&1
    if [ "$it_failed" -ne 0 ] || [ -n "${IT_KEEP:-}" ]; then
        for f in "$IT_DIR"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
    fi
    if [ -n "${IT_KEEP:-}" ]; then echo "# kept: $IT_DIR"; else rm -rf "$IT_DIR"; fi
}
trap it_cleanup EXIT

it_done() {
    for name in coordinator marketing sales; do
        [ -n "${IT_PID[$name]:-}" ] || continue
        it_stop "$name"; it_eq "$name exits 0 on SIGTERM" "$?" 0
    done
    if grep -q "ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer" "$IT_DIR"/*.log 2>/dev/null; then
        it_failed=$((it_failed + 1)); echo "FAIL - sanitizer reports in daemon logs"
        grep -h -A5 "ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer" "$IT_DIR"/*.log | head -n 40
    fi
    echo "$(basename "$0"): $it_passed passed, $it_failed failed"
    [ "$it_failed" -eq 0 ]
}

# A page as a person sees it, in headless Chromium (Debian's chromium,
# installed by scripts/deps --test)

# it_browser_check NAME PAGE: the page loads without a script error or a
# console error, it has SVG charts and each has a size on screen, and a
# screenshot is written to build/test-logs/NAME.png
it_browser_check() {
    local name=$1 page=$2 probe dir=$IT_DIR/browser-$1 shot=$ROOT/build/test-logs/$1.png
    if ! command -v chromium >/dev/null; then
        it_check "$name: chromium is installed (scripts/deps --test)" false
        return
    fi
    mkdir -p "$dir" "$(dirname "$shot")"
    # A probe before the page's own scripts: it records errors and, once
    # loaded, every SVG's size on screen, in an attribute --dump-dom shows
    local probe_js='
window.dtErrors = [];
addEventListener("error", function (e) { dtErrors.push(String(e.message)); });
var dtConsoleError = console.error;
console.error = function () { dtErrors.push([].join.call(arguments, " ")); dtConsoleError.apply(console, arguments); };
addEventListener("load", function () {
    var sizes = [].map.call(document.querySelectorAll("svg"), function (s) {
        var r = s.getBoundingClientRect(); return Math.round(r.width) + "x" + Math.round(r.height); });
    document.documentElement.setAttribute("data-probe", JSON.stringify({ errors: dtErrors, svgs: sizes }));
});'
    awk -v probe="$probe_js" '!done && (at = index($0, "<head>")) {
        $0 = substr($0, 1, at + 5) "<script>" probe "</script>" substr($0, at + 6); done = 1 }
        { print }' "$page" > "$dir/probe.html"
    local flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
                 --disable-background-networking --disable-component-update --disable-sync
                 --user-data-dir="$dir/profile" --virtual-time-budget=5000)
    timeout 120 chromium "${flags[@]}" --enable-logging=stderr --v=0 --dump-dom \
        "file://$dir/probe.html" > "$dir/dom.html" 2> "$dir/console.log"
    it_eq "$name: chromium loads the page" "$?" 0
    probe=$(grep -o 'data-probe="[^"]*"' "$dir/dom.html" | sed 's/^data-probe="//; s/"$//; s/&quot;/"/g')
    it_check "$name: the probe ran" test -n "$probe"
    it_eq "$name: no script or console error" "$(echo "$probe" | jq -c '.errors')" "[]"
    it_check "$name: no uncaught error in the log" bash -c "! grep -q 'Uncaught' '$dir/console.log'"
    it_check "$name: SVG charts are there" test "$(echo "$probe" | jq '.svgs | length')" -gt 0
    it_eq "$name: every chart has a size on screen" \
        "$(echo "$probe" | jq '[.svgs[] | select(test("^0x|x0$"))] | length')" 0
    rm -f "$shot"
    timeout 120 chromium "${flags[@]}" --screenshot="$shot" --window-size=1280,2400 \
        "file://$page" > /dev/null 2>&1
    it_check "$name: a screenshot is written ($shot)" test -s "$shot"
}
