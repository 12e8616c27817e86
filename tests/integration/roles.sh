# The store's roles: the coordinator runs as a login in dualtrack_writer and
# stores events; a login in dualtrack_analyst reads everything and can not
# INSERT, UPDATE or DELETE anything.
source "$(dirname "$0")/lib.sh"
it_start            # the first start migrates, as the database owner
# it_start waits for the first migration only: the roles come with 004, and
# stopping the coordinator mid-way would leave the rest for the writer
it_eq "every migration applied" \
    "$(it_wait_value "SELECT count(*) FROM schema_migrations" "$(ls deploy/migrations/*.sql | wc -l)")" \
    "$(ls deploy/migrations/*.sql | wc -l)"
psql_q -c "CREATE ROLE coord_writer LOGIN IN ROLE dualtrack_writer"
psql_q -c "CREATE ROLE analyst_ann LOGIN IN ROLE dualtrack_analyst"
it_stop coordinator
WRITER_URI="postgresql://coord_writer@127.0.0.1:$PG_PORT/dualtrack"
"$BIN/dualtrack-coordinator" --pg.uri "$WRITER_URI" --links "tcp://127.0.0.1:$LINK_PORT" \
    --decisions "tcp://127.0.0.1:$DEC_PORT" --check "tcp://127.0.0.1:$CHECK_PORT" \
    --catchup "tcp://127.0.0.1:$CATCHUP_PORT" \
    --http "127.0.0.1:$COORD_HTTP" --security plain >> "$IT_DIR/coordinator.log" 2>&1 &
IT_PID[coordinator]=$!
"$BIN/dualtrack" gen --count 50 --track sales --seed 61 > "$IT_DIR/s.jsonl"
printf '%s\n' '{"id":"bad-role-1","source":"t","account":"A","stage":"nowhere","channel":"email","kind":"k","occurred_at":1767300000000}' >> "$IT_DIR/s.jsonl"
it_publish sales --quiet "$IT_DIR/s.jsonl" > /dev/null
it_eq "the writer role stores touchpoints" "$(it_wait_value 'SELECT count(*) FROM touchpoints' 50)" 50
it_eq "and rejects" "$(it_wait_value 'SELECT count(*) FROM rejects' 1)" 1
it_check "the writer is who wrote (connected as coord_writer)" test -n \
    "$(psql_q -c "SELECT 1 FROM pg_stat_activity WHERE usename = 'coord_writer' LIMIT 1")"
psql_q -c "UPDATE tone_claims SET value = '24/7/365' WHERE key = 'support'"
it_eq "the writer role reloads the tone book" \
    "$(it_wait_value "SELECT count(*) FROM tonebook_reloads WHERE ok" 1)" 1

ANALYST=(psql -X -q -At "postgresql://analyst_ann@127.0.0.1:$PG_PORT/dualtrack")
it_eq "the analyst reads touchpoints" "$("${ANALYST[@]}" -c 'SELECT count(*) FROM touchpoints')" 50
it_eq "the analyst reads the findings" \
    "$("${ANALYST[@]}" -c 'SELECT count(*) FROM findings')" "$(psql_q -c 'SELECT count(*) FROM findings')"
for sql in "INSERT INTO touchpoints (id, track, source, account, stage, channel, kind, occurred_at, received_at, lead) VALUES ('x','sales','t','A','intent','email','k',now(),now(),'sales')" \
           "UPDATE touchpoints SET kind = 'changed'" \
           "DELETE FROM touchpoints" \
           "DELETE FROM findings" \
           "UPDATE rejects SET code = 'x'" \
           "INSERT INTO tone_banned VALUES ('x')" \
           "TRUNCATE findings"; do
    "${ANALYST[@]}" -c "$sql" > "$IT_DIR/analyst.out" 2>&1
    it_check "the analyst can not: ${sql:0:40}" grep -q "permission denied" "$IT_DIR/analyst.out"
done
it_eq "nothing changed" "$(psql_q -c "SELECT count(*) FROM touchpoints WHERE kind = 'changed'")" 0
it_done
