# A buyer's own time zone through the real daemons: table contact_settings
# (migration 018), one row written with SQL, one with `dualtrack identity
# tz`; the coordinator loads it at once (NOTIFY dualtrack_settings) and the
# contact budget counts each contact's calendar days in its own zone, over
# the events' attrs.tz (which here say the opposite) and the default (UTC):
# the same two instants are one day for one contact and two days for the
# other. A contact known by an alias gets its canonical id's zone. A zone
# changed with the CLI takes effect without a restart. A bad zone is
# refused by the CLI and by the table naming the field, and one that got
# past the table (its constraint dropped) by the coordinator naming the
# row, recorded and logged, while the zones in force go on judging. A
# change drops the memory of the accounts it touches, so their touches are
# counted again in the new zone. `dualtrack whatif` judges with the table
# too: the live policy replayed finds exactly what was stored.
source "$(dirname "$0")/lib.sh"
it_start_pg
# One email a calendar day per contact; the old weekly limit out of the way
it_start_coordinator --budget.caps "daily: contact channel=email 1 per day" \
    --budget.timezone UTC --pressure.contact.max 15 --pressure.account.max 15
it_start_track marketing
it_start_track sales
it_wait_schema || { echo "FAIL - coordinator did not create the schema"; cat "$IT_DIR/coordinator.log"; exit 1; }
it_eq "migration 018 applied" \
    "$(it_wait_value "SELECT to_regclass ('contact_setting_reloads') IS NOT NULL" t)" t

TZ_CLI=("$BIN/dualtrack" identity --pg "$PG_URI" tz)
OUT=$IT_DIR/out; ERR=$IT_DIR/err
reloads() { it_reloads contact_setting_reloads; }
# Run a change, then wait until the coordinator has loaded it: prints the
# reload's row
applied() { it_applied contact_setting_reloads "$@"; }
# The cap's finding of a stored touch ("-" for none)
over_cap() {
    psql_q -c "SELECT coalesce ((SELECT message FROM findings WHERE touchpoint_id = '$1'
               AND rule = 'contact_pressure' AND message LIKE '%over cap daily%'), '-')"
}
# Two emails to a contact, at 20:00 and 23:30 UTC of a day, each with the
# attrs.tz given (the first under contact, the second under contact2)
two_emails() {  # id prefix, contact, contact2, day, attrs.tz
    it_pub_one marketing "$1-1" acme.com "$2" awareness email newsletter "$4 20:00" "\"attrs\": {\"tz\": \"$5\"}"
    it_pub_one sales     "$1-2" acme.com "$3" intent email offer "$4 23:30" "\"attrs\": {\"tz\": \"$5\"}"
}

it_eq "the coordinator loaded the table at start" \
    "$(it_wait_value "SELECT ok || ' ' || message FROM contact_setting_reloads ORDER BY at LIMIT 1" "true contact settings +0 -0 ~0 (0 rows); 0 accounts' memory dropped")" \
    "true contact settings +0 -0 ~0 (0 rows); 0 accounts' memory dropped"

# Ann is known to the CRM as 003ANN
"$BIN/dualtrack" identity --pg "$PG_URI" add --contact 003ANN ann@acme.com --source crm > /dev/null
it_wait_value "SELECT count(*) FROM identity_reloads WHERE message LIKE 'contact aliases +1 %'" 1 > /dev/null

# --- one zone by SQL, one by the CLI
it_eq "SQL: a row is in force at once" \
    "$(applied psql_q -c "INSERT INTO contact_settings (kind, id, tz, source) VALUES ('contact', 'ann@acme.com', 'Europe/Berlin', 'crm')")" \
    "true contact settings +1 -0 ~0 (1 rows); 0 accounts' memory dropped"
it_eq "CLI: tz set, in force at once" \
    "$(applied "${TZ_CLI[@]}" set --contact ned@acme.com America/New_York --source cli)" \
    "true contact settings +1 -0 ~0 (2 rows); 0 accounts' memory dropped"
it_eq "tz set prints what it did" "$(cat "$OUT")" "contact 'ned@acme.com' is in America/New_York"
it_eq "the rows as written, with who and when" \
    "$(psql_q -c "SELECT string_agg (kind || ' ' || id || ' ' || tz || ' ' || source || ' ' || (created_by = current_user) || ' ' || (updated_at = created_at), '; ' ORDER BY id) FROM contact_settings")" \
    "contact ann@acme.com Europe/Berlin crm true true; contact ned@acme.com America/New_York cli true true"
it_check "and logged" grep -q 'msg="contact settings reloaded" added=1 removed=0 changed=0 rows=2 overridden=0 accounts_dropped=0' "$IT_DIR/coordinator.log"
reloads_before=$(reloads)
it_eq "the same zone again changes nothing" \
    "$("${TZ_CLI[@]}" set --contact ned@acme.com America/New_York)" "already set: contact 'ned@acme.com' is in America/New_York"
sleep 0.5
it_eq "and reaches no coordinator" "$(reloads)" "$reloads_before"

# --- the same instants, Sunday 27 December 2026 20:00 and 23:30 UTC: in
# Berlin 21:00 Sunday and 00:30 Monday (two days), in New York 15:00 and
# 18:30 Sunday (one day). attrs.tz says the opposite and loses. Ann's
# second email goes to her CRM id.
two_emails ann ann@acme.com 003ANN 2026-12-27 America/New_York
two_emails ned ned@acme.com ned@acme.com 2026-12-27 Europe/Berlin
it_eq "Berlin (the row by SQL, through the alias): the second email is on Monday, within the cap" \
    "$(over_cap ann-2)" "-"
it_eq "New York (the row by the CLI): both on Sunday, the second is over the cap, in New York's day" \
    "$(over_cap ned-2)" \
    "contact ned@acme.com at account acme.com is over cap daily (1 per day): 2 touches in the day 27 December 2026 (America/New_York), this one from sales on 27 December 2026 18:30 America/New_York; next free slot: 28 December 2026 00:00 America/New_York."
it_eq "first emails within the cap" "$(over_cap ann-1) $(over_cap ned-1)" "- -"

# --- a changed zone takes effect without a restart: Ann moves to New York
coordinator_pid=${IT_PID[coordinator]}
it_eq "CLI: tz set a new zone, reloaded at once" \
    "$(applied "${TZ_CLI[@]}" set --contact ann@acme.com America/New_York)" \
    "true contact settings +0 -0 ~1 (2 rows); 1 accounts' memory dropped"
it_eq "tz set says what it was" "$(cat "$OUT")" "contact 'ann@acme.com' is in America/New_York (was Europe/Berlin)"
it_eq "updated_at and updated_by follow the change" \
    "$(psql_q -c "SELECT updated_at > created_at, updated_by = current_user FROM contact_settings WHERE id = 'ann@acme.com'")" "t|t"
# Counted again in her new zone: her emails of Sunday 20:00 and 23:30 UTC
# were Sunday and Monday in Berlin, both Sunday in New York, so Monday
# 12:00 UTC is her first touch of Monday (the account's memory was dropped
# and read back from the store; kept, Berlin's Monday would count it second)
it_pub_one marketing ann3 acme.com ann@acme.com awareness email newsletter "2026-12-28 12:00"
it_eq "her earlier touches are counted again in New York's days" "$(over_cap ann3)" "-"
two_emails ann2 ann@acme.com 003ANN 2026-12-29 Europe/Berlin
it_eq "Ann's two emails of Tuesday 20:00 and 23:30 UTC are now one day (New York)" \
    "$(over_cap ann2-2 | grep -o '2 touches in the day 29 December 2026 (America/New_York)')" \
    "2 touches in the day 29 December 2026 (America/New_York)"
it_check "the same coordinator process" kill -0 "$coordinator_pid"

# --- bad zones: refused naming the field, nothing written, zones in force stay
reloads_before=$(reloads)
"${TZ_CLI[@]}" set --contact zed@acme.com Europe/Berln > "$OUT" 2> "$ERR"
it_eq "CLI: an unknown zone, exit 1" "$?" 1
it_eq "CLI: the reason names the field" "$(cat "$ERR")" \
    "identity: tz: contact setting 1 (contact zed@acme.com): tz 'Europe/Berln' is not a time zone of the tz database (an IANA name such as Europe/Berlin)"
"${TZ_CLI[@]}" set --person zed@acme.com UTC > /dev/null 2> "$ERR"
it_eq "CLI: an unknown option, exit 2" "$?" 2
"${TZ_CLI[@]}" set zed@acme.com UTC > /dev/null 2> "$ERR"
it_eq "CLI: set without a kind, exit 2" "$?:$(cat "$ERR")" "2:identity: tz set needs --contact or --account"
"${TZ_CLI[@]}" remove --account nobody.com > /dev/null 2> "$ERR"
it_eq "CLI: removing what is not there, exit 1" "$?:$(cat "$ERR")" \
    "1:identity: tz: account 'nobody.com' has no time zone of its own"
psql_q -c "INSERT INTO contact_settings (kind, id, tz) VALUES ('contact', 'zed@acme.com', 'Mars/Olympus')" 2> "$ERR"
it_check "SQL: the table refuses an unknown zone, naming the constraint" \
    grep -q 'violates check constraint "contact_settings_tz"' "$ERR"
psql_q -c "INSERT INTO contact_settings (kind, id, tz) VALUES ('contact', 'zed@acme.com', '../../etc/passwd')" 2> "$ERR"
it_check "SQL: and a path" grep -q 'violates check constraint "contact_settings_tz"' "$ERR"
for zone in PST UTC+3 Europe/Berlin+1; do
    psql_q -c "INSERT INTO contact_settings (kind, id, tz) VALUES ('contact', 'zed@acme.com', '$zone')" 2> "$ERR"
    it_check "SQL: and $zone (an abbreviation, offsets: PostgreSQL's, not zones)" \
        grep -q 'violates check constraint "contact_settings_tz"' "$ERR"
done
it_eq "SQL: zone names that are abbreviations too, and Etc/GMT offsets, are zones" \
    "$(psql_q -c "SELECT dualtrack_zone_known ('UTC'), dualtrack_zone_known ('EST'), dualtrack_zone_known ('Etc/GMT-14'), dualtrack_zone_known ('America/Port-au-Prince')")" "t|t|t|t"
psql_q -c "INSERT INTO contact_settings (kind, id, tz) VALUES ('person', 'zed@acme.com', 'UTC')" 2> "$ERR"
it_check "SQL: and a bad kind" grep -q 'violates check constraint "contact_settings_kind"' "$ERR"
sleep 0.5
it_eq "a refused change reaches no coordinator" "$(reloads)" "$reloads_before"
it_eq "nothing written" "$(psql_q -c "SELECT count(*) FROM contact_settings")" 2

# A zone past the table's check (dropped by hand): the coordinator refuses
# the whole change naming the row, records and logs it; the zones in force
# judge on
psql_q -c "ALTER TABLE contact_settings DROP CONSTRAINT contact_settings_tz"
it_eq "a refused change is recorded, naming the row and the field" \
    "$(applied psql_q -c "INSERT INTO contact_settings (kind, id, tz) VALUES ('contact', 'zed@acme.com', 'Mars/Olympus')")" \
    "false contact_settings: contact setting 3 (contact zed@acme.com): tz 'Mars/Olympus' is not a time zone of the tz database (an IANA name such as Europe/Berlin)"
it_check "and logged" grep -q 'msg="contact settings change refused; the settings in force stay" error="contact_settings: contact setting 3 (contact zed@acme.com): tz ' "$IT_DIR/coordinator.log"
# Ned: New York still (the events say Berlin: there they would be two days)
two_emails ned2 ned@acme.com ned@acme.com 2026-12-30 Europe/Berlin
it_eq "the zones in force still judge (Ned in New York)" \
    "$(over_cap ned2-2 | grep -o '(America/New_York)' | head -n 1)" "(America/New_York)"
it_eq "mended: accepted" \
    "$(applied psql_q -c "UPDATE contact_settings SET tz = 'Asia/Tokyo' WHERE id = 'zed@acme.com'")" \
    "true contact settings +1 -0 ~0 (3 rows); 0 accounts' memory dropped"

# --- list and remove
"${TZ_CLI[@]}" list > "$OUT"
it_check "list: a line per buyer, with where from and who" \
    grep -q "^contact  ned@acme.com  America/New_York  (cli, .* by " "$OUT"
it_eq "list: the count" "$(tail -n 1 "$OUT")" "3 contacts and 0 accounts with a time zone of their own"
it_eq "list --account: none" "$("${TZ_CLI[@]}" list --account)" "0 contacts and 0 accounts with a time zone of their own"
it_eq "remove: reloaded at once" \
    "$(applied "${TZ_CLI[@]}" remove --contact ned@acme.com)" "true contact settings +0 -1 ~0 (2 rows); 1 accounts' memory dropped"
it_eq "remove prints what it did" "$(cat "$OUT")" \
    "contact 'ned@acme.com' is no longer in America/New_York: its events' attrs.tz or the policy's zone apply"
# Ned now follows his events' attrs.tz (Berlin): 20:00 and 23:30 UTC are two days
two_emails ned3 ned@acme.com ned@acme.com 2027-01-05 Europe/Berlin
it_eq "without a row, attrs.tz applies again" "$(over_cap ned3-2)" "-"
# An account's row: every contact of the account without a row of its own
it_eq "an account's row" \
    "$(applied "${TZ_CLI[@]}" set --account globex.com Asia/Tokyo)" "true contact settings +1 -0 ~0 (3 rows); 0 accounts' memory dropped"
it_pub_one marketing gx-1 globex.com gus@globex.com awareness email newsletter "2027-01-05 14:00"
it_pub_one sales     gx-2 globex.com gus@globex.com intent email offer "2027-01-05 16:00"
it_eq "the account's zone: 14:00 and 16:00 UTC are 23:00 and 01:00 in Tokyo, two days" "$(over_cap gx-2)" "-"

# --- dualtrack whatif judges with the same zones: the live policy again
# over 5 January finds what the coordinator stored, finding for finding
# (in UTC, Gus's two emails would be one day: a finding more)
"$BIN/dualtrack" policy --pg "$PG_URI" export > "$IT_DIR/live.yaml"
"$BIN/dualtrack" whatif --pg "$PG_URI" --policy "$IT_DIR/live.yaml" --from 2027-01-05 \
    --to 2027-01-06 --out "$IT_DIR/whatif.json" --findings "$IT_DIR/whatif.tsv" > "$OUT" 2> "$ERR"
it_eq "whatif: exit 0" "$?" 0
it_eq "whatif: the day's 4 touchpoints" "$(jq '.touchpoints' "$IT_DIR/whatif.json")" 4
psql_q -c "COPY (SELECT touchpoint_id, rule, severity, message, array_to_string (related, ',')
           FROM findings WHERE touchpoint_id IN ('ned3-1', 'ned3-2', 'gx-1', 'gx-2')) TO STDOUT" |
    LC_ALL=C sort > "$IT_DIR/stored.tsv"
it_eq "whatif: the findings stored, exactly" "$(LC_ALL=C sort "$IT_DIR/whatif.tsv")" "$(cat "$IT_DIR/stored.tsv")"

# --- the table notifies, the roles read it, ids compare byte for byte
it_eq "a change notifies dualtrack_settings" \
    "$(psql_q -c "LISTEN dualtrack_settings" -c "DELETE FROM contact_settings WHERE id = 'zed@acme.com'" 2>&1 | grep -c 'notification "dualtrack_settings" with payload "contact_settings"')" 1
it_eq "dualtrack_writer reads the table, writes only the reload log" \
    "$(psql_q -c "SELECT has_table_privilege ('dualtrack_writer', 'contact_settings', 'SELECT'), has_table_privilege ('dualtrack_writer', 'contact_settings', 'INSERT'), has_table_privilege ('dualtrack_writer', 'contact_setting_reloads', 'INSERT')")" "t|f|t"
it_eq "dualtrack_analyst reads both" \
    "$(psql_q -c "SELECT has_table_privilege ('dualtrack_analyst', 'contact_settings', 'SELECT'), has_table_privilege ('dualtrack_analyst', 'contact_setting_reloads', 'SELECT'), has_table_privilege ('dualtrack_analyst', 'contact_settings', 'UPDATE')")" "t|t|f"
it_eq "id compares byte for byte (C collation)" \
    "$(psql_q -c "SELECT collation_name FROM information_schema.columns WHERE table_name = 'contact_settings' AND column_name = 'id'")" C

it_done
