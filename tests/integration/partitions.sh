# touchpoints partitioned by month (migration 006): events of three months
# land in their monthly partitions, one far outside the created months in
# touchpoints_default (and ensure_touchpoint_partitions splits it out); a
# resend, alone or mixed with new events, stores nothing twice; the analyst
# views still answer; the analyst role can not write or create partitions.
source "$(dirname "$0")/lib.sh"
it_start

# Milliseconds of the 10th of this month, next month and the month after
ms_of() { psql_q -c "SELECT (extract (epoch FROM date_trunc ('month', now () AT TIME ZONE 'UTC') + interval '$1 month' + interval '9 days 10 hours') * 1000)::bigint"; }
M0=$(ms_of 0); M1=$(ms_of 1); M2=$(ms_of 2)
FAR=3786912000000       # 2090-01-01: no partition made ahead that far
event() {   # id, occurred_at ms, stage
    printf '{"id":"%s","source":"crm","account":"acct-p","contact":"c@p","stage":"%s","channel":"email","kind":"newsletter","occurred_at":%s}\n' "$1" "$3" "$2"
}
{ for i in 1 2 3; do
      event "pm-m0-$i" "$((M0 + i * 60000))" awareness
      event "pm-m1-$i" "$((M1 + i * 60000))" interest
      event "pm-m2-$i" "$((M2 + i * 60000))" consideration
  done
  event pm-far-1 "$FAR" awareness; } > "$IT_DIR/m.jsonl"
{ for i in 1 2 3; do
      event "ps-m0-$i" "$((M0 + i * 120000))" intent
      event "ps-m1-$i" "$((M1 + i * 120000))" evaluation
      event "ps-m2-$i" "$((M2 + i * 120000))" negotiation
  done; } > "$IT_DIR/s.jsonl"
it_publish marketing --quiet "$IT_DIR/m.jsonl" > "$IT_DIR/pub-m.out"
it_publish sales --quiet "$IT_DIR/s.jsonl" > "$IT_DIR/pub-s.out"
it_eq "marketing: all acknowledged" "$(cat "$IT_DIR/pub-m.out")" \
    "published 10 events: accepted 10, rejected 0, invalid lines 0"
it_eq "sales: all acknowledged" "$(cat "$IT_DIR/pub-s.out")" \
    "published 9 events: accepted 9, rejected 0, invalid lines 0"
it_eq "rows stored" "$(it_wait_value 'SELECT count(*) FROM touchpoints' 19)" 19

it_eq "touchpoints is partitioned by range on occurred_at" \
    "$(psql_q -c "SELECT pg_get_partkeydef ('touchpoints'::regclass)")" "RANGE (occurred_at)"
part() { psql_q -c "SELECT to_char (date_trunc ('month', now () AT TIME ZONE 'UTC') + interval '$1 month', '\"touchpoints_y\"YYYY\"m\"MM')"; }
P0=$(part 0); P1=$(part 1); P2=$(part 2)
it_eq "every event in its month's partition" \
    "$(psql_q -c "SELECT string_agg (p || '=' || n, ',' ORDER BY p) FROM (SELECT tableoid::regclass::text p, count(*) n FROM touchpoints GROUP BY 1) x")" \
    "touchpoints_default=1,$P0=6,$P1=6,$P2=6"
it_eq "the partition is the event's month" \
    "$(psql_q -c "SELECT count(*) FROM touchpoints WHERE tableoid::regclass::text <> 'touchpoints_default' AND tableoid::regclass::text <> to_char (occurred_at AT TIME ZONE 'UTC', '\"touchpoints_y\"YYYY\"m\"MM')")" 0
it_eq "partitions made ahead: at least 12 months from now" \
    "$(psql_q -c "SELECT to_regclass ('$(part 11)') IS NOT NULL")" t
it_eq "every id in touchpoint_ids, with its occurred_at" \
    "$(psql_q -c "SELECT count(*) FROM touchpoints t JOIN touchpoint_ids i ON i.id = t.id AND i.occurred_at = t.occurred_at")" 19
it_eq "the indexes the views need" \
    "$(psql_q -c "SELECT string_agg (indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'touchpoints'")" \
    "touchpoints_account_time,touchpoints_id,touchpoints_occurred,touchpoints_reservation"

# A resend of every stored event (the fast path fails on touchpoint_ids and
# the staged path stores none), then a resend mixed with new events
it_publish marketing --quiet "$IT_DIR/m.jsonl" > "$IT_DIR/again-m.out"
it_publish sales --quiet "$IT_DIR/s.jsonl" > "$IT_DIR/again-s.out"
it_eq "resent events acknowledged" "$(cat "$IT_DIR/again-m.out" "$IT_DIR/again-s.out" | tr '\n' ' ')" \
    "published 10 events: accepted 10, rejected 0, invalid lines 0 published 9 events: accepted 9, rejected 0, invalid lines 0 "
{ cat "$IT_DIR/m.jsonl"; event pm-new-1 "$((M1 + 999000))" interest; event pm-new-2 "$((M2 + 999000))" interest; } > "$IT_DIR/mixed.jsonl"
it_publish marketing --quiet "$IT_DIR/mixed.jsonl" > /dev/null
it_eq "the new events of the mixed resend stored" "$(it_wait_value 'SELECT count(*) FROM touchpoints' 21)" 21
sleep 1
it_eq "nothing stored twice" \
    "$(psql_q -c "SELECT count(*) || '/' || count(DISTINCT id) FROM touchpoints")" "21/21"
it_eq "touchpoint_ids matches" "$(psql_q -c 'SELECT count(*) FROM touchpoint_ids')" 21
it_eq "findings once per touchpoint and number" \
    "$(psql_q -c "SELECT count(*) FROM (SELECT touchpoint_id, finding_no FROM findings GROUP BY 1, 2 HAVING count(*) > 1) x")" 0
it_eq "no rejects recorded" "$(psql_q -c 'SELECT count(*) FROM rejects')" 0

# The views, each over the partitioned table
for view in touchpoint_facts findings_daily tone_compliance account_timeline stage_ownership \
            collisions collisions_by_account; do
    psql_q -c "SELECT count(*) FROM $view" > "$IT_DIR/view.out" 2>&1
    it_check "view $view answers" grep -qx '[0-9][0-9]*' "$IT_DIR/view.out"
done
it_eq "touchpoint_facts sees every touchpoint" "$(psql_q -c 'SELECT count(*) FROM touchpoint_facts')" 21
it_eq "account_timeline sees every touchpoint" \
    "$(psql_q -c "SELECT count(*) FROM account_timeline WHERE account = 'acct-p'")" 21
it_eq "stage_ownership counts every touch" "$(psql_q -c 'SELECT sum (touches) FROM stage_ownership')" 21
it_eq "collisions joins findings to their touchpoints" \
    "$(psql_q -c "SELECT count(*) FROM collisions")" \
    "$(psql_q -c "SELECT count(*) FROM findings WHERE rule = 'collision'")"

# Splitting the default partition: the month's rows move into a new partition
it_eq "ensure_touchpoint_partitions makes the far month" \
    "$(psql_q -c "SELECT ensure_touchpoint_partitions ('2090-01-15', 1)")" 1
it_eq "and moves its row out of touchpoints_default" \
    "$(psql_q -c "SELECT tableoid::regclass FROM touchpoints WHERE id = 'pm-far-1'")" touchpoints_y2090m01
it_eq "called again it makes nothing" \
    "$(psql_q -c "SELECT ensure_touchpoint_partitions ('2090-01-15', 1)")" 0

# A restart: the coordinator calls ensure_touchpoint_partitions at connect
it_stop coordinator
it_start_coordinator
it_eq "the coordinator is ready again" "$(for _ in $(seq 1 100); do r=$(it_http "$COORD_HTTP" /readyz | head -n 1); [ "$r" = 200 ] && break; sleep 0.1; done; echo "$r")" 200
it_publish sales --quiet "$IT_DIR/s.jsonl" > /dev/null
sleep 1
it_eq "a resend after the restart stores nothing" "$(psql_q -c 'SELECT count(*) FROM touchpoints')" 21

# The analyst reads, and can not write, nor make partitions
psql_q -c "CREATE ROLE analyst_pat LOGIN IN ROLE dualtrack_analyst"
ANALYST=(psql -X -q -At "postgresql://analyst_pat@127.0.0.1:$PG_PORT/dualtrack")
it_eq "the analyst reads touchpoints" "$("${ANALYST[@]}" -c 'SELECT count(*) FROM touchpoints')" 21
it_eq "the analyst reads a partition" "$("${ANALYST[@]}" -c "SELECT count(*) FROM $P1")" 7
it_eq "the analyst reads touchpoint_ids" "$("${ANALYST[@]}" -c 'SELECT count(*) FROM touchpoint_ids')" 21
it_eq "the analyst reads the views" "$("${ANALYST[@]}" -c 'SELECT count(*) FROM account_timeline')" 21
for sql in "INSERT INTO touchpoints (id, track, source, account, stage, channel, kind, occurred_at, received_at, lead) VALUES ('x','sales','t','A','intent','email','k',now(),now(),'sales')" \
           "INSERT INTO $P0 (id, track, source, account, stage, channel, kind, occurred_at, received_at, lead) VALUES ('x','sales','t','A','intent','email','k',now(),now(),'sales')" \
           "INSERT INTO touchpoint_ids VALUES ('x', now())" \
           "DELETE FROM touchpoint_ids" \
           "UPDATE touchpoints SET kind = 'changed'" \
           "DELETE FROM touchpoints_default" \
           "SELECT ensure_touchpoint_partitions ('2095-01-01', 1)"; do
    "${ANALYST[@]}" -c "$sql" > "$IT_DIR/analyst.out" 2>&1
    it_check "the analyst can not: ${sql:0:48}" grep -q "permission denied" "$IT_DIR/analyst.out"
done
it_eq "nothing changed" "$(psql_q -c "SELECT count(*) FROM touchpoints WHERE kind <> 'changed'")" 21
it_eq "no partition for 2095" "$(psql_q -c "SELECT to_regclass ('touchpoints_y2095m01') IS NULL")" t
it_done
