# Consent through the real daemons: `dualtrack suppress` writes the table of
# migration 014, the coordinator reloads it at once (NOTIFY) and the rule
# `suppressed` judges by it, stored touches and the check API alike: a
# promotional touch to a suppressed contact is a violation, a transactional
# one passes a promotional suppression but not an `all` one, an alias of
# the contact is suppressed too, a suppression whose `until` has passed no
# longer suppresses, and removing one lifts it. Every invalid change is
# refused naming the row (by the CLI, by the table's constraints, and by the
# coordinator for a row that got past them) and the set in force stays.
source "$(dirname "$0")/lib.sh"
it_start
it_eq "migration 014 applied" \
    "$(it_wait_value "SELECT to_regclass ('suppression_reloads') IS NOT NULL" t)" t

SUP=("$BIN/dualtrack" suppress --pg "$PG_URI")
OUT=$IT_DIR/out; ERR=$IT_DIR/err
reloads() { it_reloads suppression_reloads; }
last_reload() { it_last_reload suppression_reloads; }
# Run a change, then wait until the coordinator has loaded it: prints the
# reload's row
applied() { it_applied suppression_reloads "$@"; }
# Whether a stored touch got a finding of rule suppressed (other rules may
# fire too: contact pressure, collisions)
suppressed() { psql_q -c "SELECT count(*) > 0 FROM findings WHERE touchpoint_id = '$1' AND rule = 'suppressed'"; }
# The same for the check API's reply in $OUT
answered() { grep -q '^  suppressed (' "$OUT" && echo t || echo f; }
# Ask the check API about a planned touch: its reply in $OUT
check() {       # track, account, contact, category, "YYYY-MM-DD HH:MM"
    local stage=awareness; [ "$1" = sales ] && stage=intent
    local planned='{"id": "plan", "source": "test", "account": "'$2'", "contact": "'$3'", "stage": "'$stage'", "channel": "email", "kind": "note", "category": "'$4'", "occurred_at": '$(it_ms "$5 UTC")'}'
    echo "$planned" | "$BIN/dualtrack" check --endpoint "tcp://127.0.0.1:$CHECK_PORT" --timeout 5000 --track "$1" > "$OUT"
}

it_eq "the coordinator loaded the set at start" \
    "$(it_wait_value "SELECT ok || ' ' || message FROM suppression_reloads ORDER BY at LIMIT 1" "true suppressions +0 -0 (0 rows, 0 in force now)")" \
    "true suppressions +0 -0 (0 rows, 0 in force now)"

# Bob is known to the CRM as 003Dn00000Xk2
"$BIN/dualtrack" identity --pg "$PG_URI" add --contact 003Dn00000Xk2 bob@acme.com --source crm > /dev/null
it_wait_value "SELECT count(*) FROM identity_reloads WHERE message LIKE 'contact aliases +1 %'" 1 > /dev/null

# --- a suppression added with the CLI is in force at once
it_eq "add: reloaded at once" \
    "$(applied "${SUP[@]}" add --contact Bob@Acme.com --reason unsubscribed --source marketo --since "2026-05-01 00:00Z")" \
    "true suppressions +1 -0 (1 rows, 1 in force now)"
it_eq "add prints what it did" "$(cat "$OUT")" \
    "suppressed contact 'Bob@Acme.com' (promotional) since 2026-05-01 00:00:00 UTC: suppression 1"
it_eq "the row as written, with who and when" \
    "$(psql_q -c "SELECT kind || ' ' || id || ' ' || scope || ' ' || reason || ' ' || source || ' ' || (until IS NULL) || ' ' || (created_by = current_user) FROM suppressions")" \
    "contact Bob@Acme.com promotional unsubscribed marketo true true"
it_check "and logged" grep -q 'msg="suppressions reloaded" added=1 removed=0 rows=1 in_force=1' "$IT_DIR/coordinator.log"
it_eq "the same suppression again is not stored twice" \
    "$("${SUP[@]}" add --contact Bob@Acme.com --reason again --since "2026-06-01 00:00Z")" \
    "already there: contact 'Bob@Acme.com' is suppressed (promotional) by suppression 1"

# --- the rule on stored touches
it_pub_one marketing m1 acme.com bob@acme.com awareness email newsletter "2026-05-02 09:00" '"category": "promotional"'
it_eq "a promotional touch to a suppressed contact" "$(suppressed m1)" t
it_eq "is a violation" "$(psql_q -c "SELECT verdict FROM touchpoints WHERE id = 'm1'")" violation
it_eq "the finding says who, the scope, since when and why" \
    "$(psql_q -c "SELECT message FROM findings WHERE touchpoint_id = 'm1'")" \
    "marketing touched contact bob@acme.com at account acme.com on 2 May 2026, but contact Bob@Acme.com is suppressed for promotional touchpoints since 1 May 2026: unsubscribed."
it_pub_one sales s1 acme.com bob@acme.com intent email invoice "2026-05-02 10:00" '"category": "transactional"'
it_eq "a transactional touch passes a promotional suppression" "$(suppressed s1)" f
it_pub_one sales s2 acme.com 003Dn00000Xk2 intent phone call "2026-05-02 11:00"
it_eq "the contact under its CRM id (an alias) is suppressed too" "$(suppressed s2)" t
it_pub_one marketing m2 acme.com carl@acme.com awareness email newsletter "2026-05-02 12:00"
it_eq "another contact of the account is not" "$(suppressed m2)" f

# --- scope all: transactional touches too
applied "${SUP[@]}" add --account globex.com --scope all --reason "legal hold" --since "2026-05-01 00:00Z" > /dev/null
it_pub_one sales s3 globex.com dan@globex.com purchase email invoice "2026-05-03 09:00" '"category": "transactional"'
it_eq "scope all: a transactional touch is suppressed" "$(suppressed s3)" t

# --- until: a suppression that has ended no longer suppresses
it_eq "a suppression with until" \
    "$(applied "${SUP[@]}" add --contact erin@acme.com --reason complaint --since "2026-05-01 00:00Z" --until "2026-05-03 00:00Z")" \
    "true suppressions +1 -0 (3 rows, 2 in force now)"
it_pub_one marketing m3 acme.com erin@acme.com awareness email newsletter "2026-05-02 13:00"
it_eq "a touch before until is suppressed" "$(suppressed m3)" t
it_pub_one marketing m4 acme.com erin@acme.com awareness email newsletter "2026-05-03 09:00"
it_eq "a touch from until on is not (until in the past)" "$(suppressed m4)" f

# --- the check API answers it before anything is sent
check marketing acme.com 003Dn00000Xk2 promotional "2026-05-04 09:00"; rc=$?
it_eq "check API: a suppressed contact (through its alias)" "$(answered)" t
it_eq "check API: is a violation" "$(grep '^verdict' "$OUT")" "verdict: violation"
it_check "check API: names the rule" grep -q 'suppressed (violation): .*is suppressed for promotional touchpoints since 1 May 2026: unsubscribed' "$OUT"
it_eq "check API: exit status 2 (violation)" "$rc" 2
check sales acme.com bob@acme.com transactional "2026-05-04 09:00"
it_eq "check API: a transactional touch passes" "$(answered)" f
it_eq "a check stores nothing" "$(psql_q -c "SELECT count(*) FROM touchpoints WHERE id = 'plan'")" 0

# --- removing lifts it: the suppression ends now, the row stays as the record
soon=$(date -u -d '+3 minutes' '+%Y-%m-%d %H:%M')
check marketing acme.com bob@acme.com promotional "$soon"
it_eq "before remove: a touch in a few minutes would be suppressed" "$(answered)" t
it_eq "remove: reloaded at once" \
    "$(applied "${SUP[@]}" remove --contact Bob@Acme.com)" \
    "true suppressions +1 -1 (3 rows, 1 in force now)"
it_eq "remove prints what it did" "$(cat "$OUT")" \
    "lifted contact 'Bob@Acme.com': 1 suppression ended now (kept as the record), 0 not yet begun deleted"
check marketing acme.com bob@acme.com promotional "$soon"
it_eq "after remove: the touch passes" "$(answered)" f
check marketing acme.com bob@acme.com promotional "2026-05-04 09:00"
it_eq "a touch while it was in force is still judged by it" "$(answered)" t
it_eq "list: what is in force or to come" "$("${SUP[@]}" list | tail -n 1)" "0 contact and 1 account suppressions in force or to come"
"${SUP[@]}" list --all > "$OUT"
it_check "list --all: the ended ones too, marked" grep -q '^contact  Bob@Acme.com  promotional  since 2026-05-01 00:00:00 UTC until .* (unsubscribed, from marketo; #1 by .*)  \[ended\]$' "$OUT"
it_check "list: a line names the buyer, scope, range and reason" grep -q '^account  globex.com  all  since 2026-05-01 00:00:00 UTC, open  (legal hold; #2 by ' "$OUT"

# --- import: rows of a CSV file, none stored twice
printf 'kind,id,scope,reason,source,since,until\ncontact,"fay, the buyer",,unsubscribed,crm,2026-05-01 00:00Z,\r\naccount,initech.com,all,legal hold,,,\n' > "$IT_DIR/in.csv"
it_eq "import" "$(applied "${SUP[@]}" import "$IT_DIR/in.csv" | cut -d' ' -f1-3; cat "$OUT")" \
    "true suppressions +2
imported 2 rows: 2 new, 0 already there"
it_eq "import again: nothing twice" "$("${SUP[@]}" import "$IT_DIR/in.csv")" "imported 2 rows: 0 new, 2 already there"
it_eq "imported as written (quotes, empty fields: defaults)" \
    "$(psql_q -c "SELECT string_agg (id || '|' || scope || '|' || coalesce (source, '-'), ' ' ORDER BY suppression_no) FROM suppressions WHERE suppression_no > 3")" \
    "fay, the buyer|promotional|crm initech.com|all|-"

# --- invalid changes: refused naming the row, nothing written, the set stays
reloads_before=$(reloads)
it_refused() {  # description, exit status, expected reason (fixed string), suppress args...
    local what=$1 want=$2 reason=$3; shift 3
    local before; before=$(psql_q -c "SELECT count(*), max(suppression_no) FROM suppressions")
    "${SUP[@]}" "$@" > "$OUT" 2> "$ERR"; local rc=$?
    it_eq "$what: exit $want" "$rc" "$want"
    it_check "$what: the reason" grep -qF -- "$reason" "$ERR" || echo "# stderr: $(cat "$ERR")"
    it_eq "$what: nothing written" "$(psql_q -c "SELECT count(*), max(suppression_no) FROM suppressions")" "$before"
}
it_refused "a bad scope" 1 "suppression 1 (gil@acme.com): scope must be promotional or all, not 'some'" \
    add --contact gil@acme.com --reason x --scope some
it_refused "no reason" 2 "add needs --reason" add --contact gil@acme.com
it_refused "an empty reason" 1 "reason must be 1 to 1000 bytes" add --contact gil@acme.com --reason ""
it_refused "until before since" 1 'suppressions_until' \
    add --contact gil@acme.com --reason x --since "2026-05-02 00:00Z" --until "2026-05-01 00:00Z"
it_refused "a time PostgreSQL cannot read" 1 'invalid input syntax for type timestamp' add --contact gil@acme.com --reason x --since "next tuesday"
printf 'kind,id,scope,reason,source,since,until\ncontact,hal@acme.com,,unsubscribed,,,\nperson,x,,unsubscribed,,,\n' > "$IT_DIR/kind.csv"
it_refused "an import with a bad row (its good rows not written either)" 1 \
    "line 3: suppression 2 (x): kind must be contact or account, not 'person'" import "$IT_DIR/kind.csv"
printf 'kind,id,reason\ncontact,x,y\n' > "$IT_DIR/header.csv"
it_refused "an import without the header" 1 "the first line must be the header kind,id,scope,reason,source,since,until" \
    import "$IT_DIR/header.csv"
bulk() {        # file, row number whose until comes before its since (0: none)
    { echo "kind,id,scope,reason,source,since,until"
      for i in $(seq 1 600); do
          if [ "$i" = "$2" ]; then echo "contact,bulk-$i@acme.example,,unsubscribed,,2026-05-02 00:00Z,2026-05-01 00:00Z"
          else echo "contact,bulk-$i@acme.example,,unsubscribed,,,"; fi
      done; } > "$1"
}
bulk "$IT_DIR/bulk-bad.csv" 400
it_refused "an import of 600 rows, one refused by the table (past the first 256 sent)" 1 \
    'line 401: contact bulk-400@acme.example: ERROR:  new row for relation "suppressions" violates check constraint "suppressions_until"' \
    import "$IT_DIR/bulk-bad.csv"
it_refused "removing what is not there" 1 "there is no suppression of account 'nobody.com' in force or to come" \
    remove --account nobody.com
sleep 0.5
it_eq "a refused change reaches no coordinator" "$(reloads)" "$reloads_before"
psql_q -c "INSERT INTO suppressions (kind, id, scope, reason) VALUES ('contact', 'x', 'sometimes', 'y')" 2> "$ERR"
it_check "SQL: the table refuses a bad row, naming the constraint" grep -q 'violates check constraint "suppressions_scope"' "$ERR"

# A row past the constraints (dropped by hand): the coordinator refuses the
# set naming the row, records and logs it, and the set in force judges on
psql_q -c "ALTER TABLE suppressions DROP CONSTRAINT suppressions_reason"
before=$(reloads)
psql_q -c "INSERT INTO suppressions (kind, id, reason) VALUES ('contact', 'ivy@acme.com', '')"
bad=$(psql_q -c "SELECT suppression_no FROM suppressions WHERE id = 'ivy@acme.com'")
it_eq "a refused set is recorded" "$(it_wait_value "SELECT count(*) > $before FROM suppression_reloads" t)" t
it_eq "with the reason naming the row" "$(last_reload)" \
    "false suppressions row suppression_no $bad (contact ivy@acme.com): suppression 6 (ivy@acme.com): reason must be 1 to 1000 bytes of valid UTF-8 (why the buyer must not be touched)"
it_check "and logged" grep -q "msg=\"suppression change refused; the set in force stays\" error=\"suppressions row suppression_no $bad " "$IT_DIR/coordinator.log"
check sales globex.com dan@globex.com transactional "2026-05-04 09:00"
it_eq "the set in force still judges" "$(answered)" t
check marketing acme.com ivy@acme.com promotional "$soon"
it_eq "and the refused row does not" "$(answered)" f
it_eq "mended: accepted" \
    "$(applied psql_q -c "UPDATE suppressions SET reason = 'unsubscribed' WHERE id = 'ivy@acme.com'")" \
    "true suppressions +1 -0 (6 rows, 4 in force now)"
check marketing acme.com ivy@acme.com promotional "$soon"
it_eq "and in force" "$(answered)" t

bulk "$IT_DIR/bulk.csv" 0
it_eq "an import of 600 rows: one reload" \
    "$(applied "${SUP[@]}" import "$IT_DIR/bulk.csv")" "true suppressions +600 -0 (606 rows, 604 in force now)"
it_eq "all stored" "$(cat "$OUT")" "imported 600 rows: 600 new, 0 already there"

# --- the table notifies, the roles read it, ids compare byte for byte
it_eq "a change notifies dualtrack_suppressions" \
    "$(psql_q -c "LISTEN dualtrack_suppressions" -c "DELETE FROM suppressions WHERE id = 'initech.com'" 2>&1 | grep -c 'notification "dualtrack_suppressions" with payload "suppressions"')" 1
it_eq "dualtrack_writer reads the table, writes only the reload log" \
    "$(psql_q -c "SELECT has_table_privilege ('dualtrack_writer', 'suppressions', 'SELECT'), has_table_privilege ('dualtrack_writer', 'suppressions', 'INSERT'), has_table_privilege ('dualtrack_writer', 'suppression_reloads', 'INSERT')")" "t|f|t"
it_eq "dualtrack_analyst reads both" \
    "$(psql_q -c "SELECT has_table_privilege ('dualtrack_analyst', 'suppressions', 'SELECT'), has_table_privilege ('dualtrack_analyst', 'suppression_reloads', 'SELECT'), has_table_privilege ('dualtrack_analyst', 'suppressions', 'INSERT')")" "t|t|f"
it_eq "id compares byte for byte (C collation)" \
    "$(psql_q -c "SELECT collation_name FROM information_schema.columns WHERE table_name = 'suppressions' AND column_name = 'id'")" "C"
# --- remove finds the buyer by any of its ids, as the rules compare them
"$BIN/dualtrack" identity --pg "$PG_URI" add --contact crm-carol carol@acme.com --source crm > /dev/null
"${SUP[@]}" add --contact Carol@Acme.com --reason unsubscribed --since "2026-05-01 00:00Z" > /dev/null
it_eq "remove by an alias: the suppression of the canonical id ends" \
    "$("${SUP[@]}" remove --contact crm-carol)" \
    "lifted contact 'crm-carol': 1 suppression ended now (kept as the record), 0 not yet begun deleted"
it_eq "the row as written is the one ended" \
    "$(psql_q -c "SELECT id || ' ' || (until IS NOT NULL) FROM suppressions WHERE id = 'Carol@Acme.com'")" "Carol@Acme.com true"
"${SUP[@]}" add --contact crm-carol --reason complaint --since "2026-05-01 00:00Z" > /dev/null
it_eq "remove by the e-mail in another case: the alias's row ends" \
    "$("${SUP[@]}" remove --contact CAROL@acme.com)" \
    "lifted contact 'CAROL@acme.com': 1 suppression ended now (kept as the record), 0 not yet begun deleted"

"${SUP[@]}" > /dev/null 2>&1
it_eq "no command: usage, exit 2" "$?" 2
it_check "--help says every command" sh -c "'$BIN/dualtrack' suppress --help | grep -q 'import FILE.csv'"
it_done
