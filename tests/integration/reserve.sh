# Reservations of the contact budget through the real daemons (issue 17):
# `dualtrack check --reserve` holds the last slot of a contact's day and
# prints its token; a second request is refused and told who holds it; the
# event carrying the token uses it (stored with it, no finding), a bad token
# is stored with an info finding; a reservation survives a coordinator
# restart; a higher priority takes a lower one's slot and the holder hears
# of it on its next check; bad requests name the field. Then the race: two
# check clients (two processes) ask for the last slot of the same contact
# at the same moment, 1,000 times: exactly one gets it each time.
source "$(dirname "$0")/lib.sh"
CAPS="daily: contact 1 per day"
it_start_pg
it_start_coordinator --budget.caps "$CAPS"
it_start_track marketing
it_start_track sales
it_wait_schema || { echo "FAIL - no schema"; cat "$IT_DIR/coordinator.log"; exit 1; }
it_eq "migration 016 applied" \
    "$(it_wait_value "SELECT to_regclass ('reservation_states') IS NOT NULL" t)" t
it_wait_value "SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name LIKE 'dualtrack%'" t > /dev/null

OUT=$IT_DIR/out
# Ask the check API: reply in $OUT, exit status returned
check() {       # track, contact, "YYYY-MM-DD HH:MM", check options...
    local track=$1 contact=$2 when=$3; shift 3
    local stage=awareness channel=email; [ "$track" = sales ] && stage=intent channel=phone
    local contact_field=""; [ -n "$contact" ] && contact_field=', "contact": "'$contact'"'
    echo '{"id": "plan", "source": "test", "account": "acme.com"'"$contact_field"', "stage": "'$stage'", "channel": "'$channel'", "kind": "note", "occurred_at": '$(it_ms "$when UTC")'}' |
        "$BIN/dualtrack" check --endpoint "tcp://127.0.0.1:$CHECK_PORT" --timeout 5000 --track "$track" "$@" > "$OUT"
}
token() { sed -n 's/^reservation: \([0-9a-f-]*\) until .*/\1/p' "$OUT"; }
state() { psql_q -c "SELECT state FROM reservation_states WHERE token = '$1'"; }

# --- the last slot of ann's day, held
check marketing ann "2026-06-01 10:00" --reserve --owner mail-tool; rc=$?
T1=$(token)
it_eq "reserve: exit status 0" "$rc" 0
it_check "reserve: a token (a uuid)" [ "${#T1}" -eq 36 ]
it_check "reserve: says until when (15 minutes)" grep -q "^reservation: $T1 until 20..-..-..T..:..:..Z$" "$OUT"
it_eq "stored before the reply" "$(state "$T1")" held
it_eq "stored with the buyer, the planned touch and its owner" \
    "$(psql_q -c "SELECT owner || ' ' || account_key || ' ' || contact_key || ' ' || track || ' ' || channel || ' ' || priority || ' ' || (expires_at - created_at) FROM reservations WHERE token = '$T1'")" \
    "mail-tool acme.com ann marketing email 0 00:15:00"

# --- a second request for the slot is told who holds it
check sales ann "2026-06-01 11:00" --reserve --owner dialer; rc=$?
it_eq "the second request: exit status 4 (not reserved)" "$rc" 4
it_check "and names the reservation and its owner" grep -q "1 of them is reserved: reservation $T1 holds one for mail-tool until " "$OUT"
it_check "and says it holds nothing" grep -q '^reservation: none' "$OUT"
check sales ann "2026-06-01 11:00"; rc=$?
it_eq "a plain check sees the slot taken too (warn)" "$rc" 1

# --- the event carrying the token uses the slot
it_pub_one marketing sent-1 acme.com ann awareness email note "2026-06-01 10:05" "\"reservation\": \"$T1\""
it_eq "the touch with the token: no finding" \
    "$(psql_q -c "SELECT verdict || ' ' || reservation FROM touchpoints WHERE id = 'sent-1'")" "ok $T1"
it_eq "the reservation is used, by it" "$(psql_q -c "SELECT state || ' ' || used_by FROM reservation_states WHERE token = '$T1'")" "used sent-1"
it_pub_one sales sent-2 acme.com ann intent phone note "2026-06-01 12:00"
it_eq "the next touch of the day is over the cap" \
    "$(psql_q -c "SELECT count(*) FROM findings WHERE touchpoint_id = 'sent-2' AND rule = 'contact_pressure' AND severity = 'warn'")" 1
it_pub_one sales sent-3 acme.com bob intent phone note "2026-06-01 12:00" "\"reservation\": \"$T1\""
it_eq "a used token again: stored, an info finding, no reservation" \
    "$(psql_q -c "SELECT t.verdict || ' ' || coalesce (t.reservation, '-') || ' ' || f.severity FROM touchpoints t JOIN findings f ON f.touchpoint_id = t.id WHERE t.id = 'sent-3'")" "ok - info"
it_check "its finding says why" [ -n "$(psql_q -c "SELECT 1 FROM findings WHERE touchpoint_id = 'sent-3' AND message LIKE 'reservation $T1 of mail-tool was already used by touchpoint sent-1; contact bob %'")" ]
it_pub_one sales sent-4 acme.com carl intent phone note "2026-06-01 12:00" '"reservation": "no-such-token"'
it_check "an unknown token: stored, its finding says so" [ -n "$(psql_q -c "SELECT 1 FROM findings WHERE touchpoint_id = 'sent-4' AND severity = 'info' AND message LIKE 'reservation no-such-token is unknown %'")" ]

# --- a reservation survives a coordinator restart
check marketing dora "2026-06-02 10:00" --reserve --owner mail-tool
T2=$(token)
it_check "dora's slot held" [ -n "$T2" ]
it_stop coordinator; it_eq "coordinator exits 0 on SIGTERM" "$?" 0
it_start_coordinator --budget.caps "$CAPS"
for _ in $(seq 1 100); do [ "$(grep -c 'msg="reservations read from the store"' "$IT_DIR/coordinator.log")" -ge 2 ] && break; sleep 0.1; done
it_check "read back at start" grep -q 'msg="reservations read from the store" reservations=2 held=1' "$IT_DIR/coordinator.log"
check sales dora "2026-06-02 11:00" --reserve --owner dialer; rc=$?
it_eq "after the restart the slot is still held" "$rc" 4
it_check "by the same reservation" grep -q "reservation $T2 holds one for mail-tool" "$OUT"

# --- a higher priority takes the slot; the holder hears of it once
check sales dora "2026-06-02 11:00" --reserve --owner dialer --priority 5; rc=$?
T3=$(token)
it_eq "priority 5 over 0: held" "$rc" 0
it_eq "the store says who took it" "$(psql_q -c "SELECT state || ' ' || taken_by FROM reservation_states WHERE token = '$T2'")" "taken $T3"
check marketing erin "2026-06-02 10:00" --owner mail-tool
it_check "the holder's next check lists it" grep -q "^taken: reservation $T2 by $T3 of dialer$" "$OUT"
check marketing erin "2026-06-02 10:00" --owner mail-tool
it_eq "once" "$(grep -c '^taken:' "$OUT")" 0
it_pub_one marketing sent-5 acme.com dora awareness email note "2026-06-02 10:00" "\"reservation\": \"$T2\""
it_check "the taken token on an event: noted" [ -n "$(psql_q -c "SELECT 1 FROM findings WHERE touchpoint_id = 'sent-5' AND severity = 'info' AND message LIKE 'reservation $T2 of mail-tool was taken by reservation $T3 of dialer, %'")" ]

# --- bad requests name the field
check marketing "" "2026-06-03 10:00" --reserve; rc=$?
it_eq "reserve without a contact: an error" "$rc" 3
it_check "naming it" grep -q '^error: bad_request: contact: a reservation holds a slot of one contact' "$OUT"
check marketing ann "2026-06-03 10:00" --reserve --ttl-ms 10; rc=$?
it_check "a TTL under a second: refused" grep -q '^error: bad_request: ttl_ms: 10 is not from 1000 to 86400000' "$OUT"
check marketing ann "2026-06-03 10:00" --reserve --priority 5000
it_check "a priority out of range: refused" grep -q '^error: bad_request: priority: 5000 is not from -1000 to 1000' "$OUT"
it_eq "metrics: reservations held and taken since the restart" \
    "$(it_metric "$COORD_HTTP" 'dualtrack_coordinator_reservations_total') $(it_metric "$COORD_HTTP" 'dualtrack_coordinator_reservations_taken_total')" "1 1"

# --- the race: exactly one of two simultaneous requests gets the last slot
ROUNDS=${RACE_ROUNDS:-1000}
started=$(date +%s%N)
race=$("$TOOLS/race_reserve" "tcp://127.0.0.1:$CHECK_PORT" "$ROUNDS" "$IT_DIR/race.tokens")
it_log "race: $race in $(( ($(date +%s%N) - started) / 1000000 )) ms"
it_eq "race: exactly one held each round" "$race" "rounds $ROUNDS one $ROUNDS both 0 none 0 errors 0"
it_eq "race: the store has each winner, one per contact" \
    "$(psql_q -c "SELECT count(*) || ' ' || count (DISTINCT contact_key) FROM reservations WHERE account_key = 'race.example'")" \
    "$ROUNDS $ROUNDS"
sort "$IT_DIR/race.tokens" > "$IT_DIR/race.sorted"
psql_q -c "SELECT token FROM reservations WHERE account_key = 'race.example'" | sort > "$IT_DIR/race.stored"
it_check "race: the tokens handed out are the ones stored" cmp -s "$IT_DIR/race.sorted" "$IT_DIR/race.stored"
it_done
