# The coordinator's judgement through the real daemons: a subscriber started
# before publishing sees every verdict of a 10,000-event run; the check API
# answers while the data path is under load; a tone book change made with SQL
# takes effect for the next touchpoint (a broken one is refused); collisions
# still count after a coordinator restart, and for a late event whose
# account memory had let go.
source "$(dirname "$0")/lib.sh"
it_start
CHECK=("$BIN/dualtrack" check --endpoint "tcp://127.0.0.1:$CHECK_PORT" --timeout 5000)

"$BIN/dualtrack" watch --endpoint "tcp://127.0.0.1:$DEC_PORT" --topic marketing. --topic sales. \
    --quiet --count 10000 --timeout 60000 > "$IT_DIR/watch.out" & watcher=$!
sleep 0.5       # a PUB/SUB subscription takes a moment to reach the publisher
"$BIN/dualtrack" gen --count 5000 --track marketing --seed 31 --accounts 300 > "$IT_DIR/m.jsonl"
"$BIN/dualtrack" gen --count 5000 --track sales --seed 32 --accounts 300 > "$IT_DIR/s.jsonl"
it_publish marketing --quiet "$IT_DIR/m.jsonl" > /dev/null & pm=$!
it_publish sales --quiet "$IT_DIR/s.jsonl" > /dev/null & ps=$!

# The check API under load
planned='{"id":"plan-1","source":"mailer","account":"acct-1","contact":"contact-1-0","stage":"negotiation","channel":"email","kind":"quote","occurred_at":1767300000000,"body":"A guaranteed price."}'
answered=0
for _ in $(seq 1 10); do
    echo "$planned" | "${CHECK[@]}" --track marketing > "$IT_DIR/check.out" 2>&1
    [ $? -le 2 ] && grep -q "^verdict: " "$IT_DIR/check.out" && answered=$((answered + 1))
done
it_eq "check API answers under load" "$answered" 10
it_check "check finds the banned phrase and the stage crossing" \
    grep -q "banned_phrase (violation)" "$IT_DIR/check.out"
it_check "check reports stage_crossing" grep -q "stage_crossing" "$IT_DIR/check.out"
wait $pm; wait $ps
wait $watcher
it_eq "the subscriber saw every verdict" "$(cat "$IT_DIR/watch.out")" "watched 10000 verdicts"
it_eq "every touchpoint stored" "$(it_wait_value 'SELECT count(*) FROM touchpoints' 10000)" 10000
it_eq "check did not store the planned touchpoint" \
    "$(psql_q -c "SELECT count(*) FROM touchpoints WHERE id = 'plan-1'")" 0
it_check "findings were stored" test "$(psql_q -c 'SELECT count(*) FROM findings')" -gt 100
it_eq "verdicts agree with findings" "$(psql_q -c "
    SELECT count(*) FROM touchpoints t WHERE verdict <> coalesce ((
        SELECT CASE max (CASE severity WHEN 'violation' THEN 2 WHEN 'warn' THEN 1 ELSE 0 END)
               WHEN 2 THEN 'violation' WHEN 1 THEN 'warn' ELSE 'ok' END
        FROM findings f WHERE f.touchpoint_id = t.id), 'ok')")" 0

# A tone book change with SQL applies to the next touchpoint, no restart
psql_q -c "INSERT INTO tone_banned VALUES ('zorblax')"
it_eq "the reload is recorded" "$(it_wait_value "SELECT count(*) FROM tonebook_reloads WHERE ok" 1)" 1
zorb='{"id":"zorb-1","source":"mailer","account":"zorb","stage":"awareness","channel":"email","kind":"newsletter","occurred_at":1767300000000,"body":"Try Zorblax today"}'
echo "$zorb" | "${CHECK[@]}" --track marketing > "$IT_DIR/zorb.out"
it_check "the new banned phrase is found by check" grep -q "banned_phrase" "$IT_DIR/zorb.out"
echo "$zorb" | it_publish marketing --quiet > /dev/null
it_eq "and by the data path" "$(it_wait_value "SELECT rule FROM findings WHERE touchpoint_id = 'zorb-1'" banned_phrase)" banned_phrase
# A broken tone book is refused with a reason, and the old one stays
psql_q -c "INSERT INTO tone_themes (name, stages) VALUES ('broken', '{nowhere}')"
it_check "a broken tone book is refused with its reason" test -n \
    "$(it_wait_value "SELECT 1 FROM tonebook_reloads WHERE NOT ok AND message LIKE '%nowhere%'" 1)"
echo "$zorb" | "${CHECK[@]}" --track marketing > "$IT_DIR/zorb2.out"
it_check "the previous tone book stays in force" grep -q "banned_phrase" "$IT_DIR/zorb2.out"
psql_q -c "DELETE FROM tone_themes WHERE name = 'broken'"

# Memory across a restart: marketing touched a contact, the coordinator
# restarts, sales touches the same contact an hour later: a collision
now=$(($(date +%s) * 1000))
echo "{\"id\":\"mem-m\",\"source\":\"t\",\"account\":\"memco\",\"contact\":\"ann\",\"stage\":\"interest\",\"channel\":\"email\",\"kind\":\"newsletter\",\"occurred_at\":$((now - 7200000))}" |
    it_publish marketing --quiet > /dev/null
it_wait_value "SELECT count(*) FROM touchpoints WHERE id = 'mem-m'" 1 > /dev/null
it_stop coordinator; it_eq "coordinator exits 0" "$?" 0
it_start_coordinator
echo "{\"id\":\"mem-s\",\"source\":\"t\",\"account\":\"memco\",\"contact\":\"ann\",\"stage\":\"intent\",\"channel\":\"phone\",\"kind\":\"call\",\"occurred_at\":$((now - 3600000))}" |
    it_publish sales --quiet > /dev/null
it_eq "a collision is found across the restart" \
    "$(it_wait_value "SELECT string_agg (rule || ':' || array_to_string (related, ','), ' ') FROM findings WHERE touchpoint_id = 'mem-s' AND rule = 'collision'" "collision:mem-m")" "collision:mem-m"
# An evicted account comes back for a late event: marketing touched eve 40
# days ago (past the 30-day window behind the stream's clock, so memory lets
# the account go within moments), then a sales touch of the same day
# arrives late: the account's history is loaded from the store for that
# event's time, and the collision is found
echo "{\"id\":\"late-m\",\"source\":\"t\",\"account\":\"lateco\",\"contact\":\"eve\",\"stage\":\"interest\",\"channel\":\"email\",\"kind\":\"newsletter\",\"occurred_at\":$((now - 40 * 86400000))}" |
    it_publish marketing --quiet > /dev/null
it_wait_value "SELECT count(*) FROM touchpoints WHERE id = 'late-m'" 1 > /dev/null
sleep 1         # eviction looks at the whole (small) memory every 100 ms
echo "{\"id\":\"late-s\",\"source\":\"t\",\"account\":\"lateco\",\"contact\":\"eve\",\"stage\":\"intent\",\"channel\":\"phone\",\"kind\":\"call\",\"occurred_at\":$((now - 40 * 86400000 + 3600000))}" |
    it_publish sales --quiet > /dev/null
it_eq "a late event sees its evicted account's history" \
    "$(it_wait_value "SELECT string_agg (rule || ':' || array_to_string (related, ','), ' ') FROM findings WHERE touchpoint_id = 'late-s' AND rule = 'collision'" "collision:late-m")" "collision:late-m"
it_done
