# `dualtrack identity` on the tables of migration 007: aliases added and
# listed, exported and imported back unchanged, and every invalid change
# (an alias with two canonical ids, a chain, an alias that is another
# buyer's canonical id, a bad CSV, a missing row) refused with its reason,
# nothing written, the old mapping as it was. Also: the tables notify, the
# roles read them, and the running daemons are not disturbed.
source "$(dirname "$0")/lib.sh"
it_start
# it_start waits for the first tables: wait for the last migration's too
it_eq "migration 007 applied" \
    "$(it_wait_value "SELECT to_regclass ('account_aliases') IS NOT NULL" t)" t

ID=("$BIN/dualtrack" identity --pg "$PG_URI")
OUT=$IT_DIR/out; ERR=$IT_DIR/err

# Run a change that must be refused: exit 1, the reason on stderr, the
# mapping exactly as before
it_refused() {  # description, expected reason (a fixed string), identity args...
    local what=$1 reason=$2; shift 2
    "${ID[@]}" export > "$IT_DIR/before.csv"
    "${ID[@]}" "$@" > "$OUT" 2> "$ERR"; local rc=$?
    it_eq "$what: exit 1" "$rc" 1
    it_check "$what: the reason names the rows" grep -qF -- "$reason" "$ERR" ||
        { echo "# stderr: $(cat "$ERR")"; }
    "${ID[@]}" export > "$IT_DIR/after.csv"
    it_check "$what: the mapping is unchanged" cmp -s "$IT_DIR/before.csv" "$IT_DIR/after.csv"
}

# --- adding and listing
"${ID[@]}" add --contact Bob@Acme.com 003Dn00000Xk2 --source marketo > "$OUT"
it_eq "add prints what it did" "$(cat "$OUT")" "added contact alias 'Bob@Acme.com' -> '003Dn00000Xk2'"
"${ID[@]}" add --contact "+49 30 1234567" 003Dn00000Xk2 --source calls > /dev/null
"${ID[@]}" add --contact alice@acme.com 003Dn00000Al1 > /dev/null
"${ID[@]}" add --account acme.com 001Dn000ACME --source marketo > /dev/null
"${ID[@]}" add --account "ACME GmbH" 001Dn000ACME --source erp > /dev/null
it_eq "the rows are stored as written" \
    "$(psql_q -c "SELECT string_agg (alias || '>' || canonical || '>' || coalesce (source, '-'), ' ' ORDER BY alias) FROM contact_aliases")" \
    "+49 30 1234567>003Dn00000Xk2>calls Bob@Acme.com>003Dn00000Xk2>marketo alice@acme.com>003Dn00000Al1>-"
it_eq "created_at and created_by are filled in" \
    "$(psql_q -c "SELECT count(*) FROM account_aliases WHERE created_at > now() - interval '1 hour' AND created_by = current_user")" 2
it_eq "the same row again changes nothing" \
    "$("${ID[@]}" add --contact Bob@Acme.com 003Dn00000Xk2)" \
    "already there: contact alias 'Bob@Acme.com' -> '003Dn00000Xk2'"
"${ID[@]}" list > "$OUT"
it_eq "list: one line per alias and the counts" "$(wc -l < "$OUT")" 6
it_check "list: a line names alias, canonical id and source" \
    grep -q '^contact  Bob@Acme.com -> 003Dn00000Xk2  (marketo, ' "$OUT"
it_eq "list --account" "$("${ID[@]}" list --account | tail -n 1)" "0 contact aliases, 2 account aliases"

# --- export and import: a round trip
"${ID[@]}" add --contact 'carl "the boss", sales@acme.com' 003Dn00000Cc3 > /dev/null
"${ID[@]}" export > "$IT_DIR/all.csv"
it_eq "export: a header and a row per alias" "$(wc -l < "$IT_DIR/all.csv")" 7
it_eq "export: the header" "$(head -n 1 "$IT_DIR/all.csv")" "kind,alias,canonical,source"
it_check "export: quotes what needs it" \
    grep -qF 'contact,"carl ""the boss"", sales@acme.com",003Dn00000Cc3,' "$IT_DIR/all.csv"
"${ID[@]}" remove --contact alice@acme.com > "$OUT"
it_eq "remove" "$(cat "$OUT")" "removed contact alias 'alice@acme.com'"
it_eq "removed" "$(psql_q -c "SELECT count(*) FROM contact_aliases WHERE alias = 'alice@acme.com'")" 0
"${ID[@]}" import "$IT_DIR/all.csv" > "$OUT"
it_eq "import adds what is missing" "$(cat "$OUT")" "imported 6 rows: 1 new, 5 already there"
"${ID[@]}" export > "$IT_DIR/again.csv"
it_check "export, remove, import: the same mapping" cmp -s "$IT_DIR/all.csv" "$IT_DIR/again.csv"
"${ID[@]}" import --replace "$IT_DIR/all.csv" > "$OUT"
it_eq "import --replace" "$(cat "$OUT")" "imported 6 rows: 6 new, 0 already there (replacing every alias)"
"${ID[@]}" export > "$IT_DIR/again.csv"
it_check "import --replace of an export: the same mapping" cmp -s "$IT_DIR/all.csv" "$IT_DIR/again.csv"
printf 'kind,alias,canonical,source\r\naccount,Acme Inc.,001Dn000ACME,crm\r\n' | "${ID[@]}" import - > "$OUT"
it_eq "import from standard input, CRLF lines" "$(cat "$OUT")" "imported 1 rows: 1 new, 0 already there"

# --- invalid changes: refused, nothing written
it_refused "an alias with two canonical ids (however written)" \
    "contact alias 'bob@acme.com' points at two canonical ids: rows 'Bob@Acme.com' -> '003Dn00000Xk2' (from marketo) and ' BOB@acme.com' -> '003Dn00000Zz9'" \
    add --contact " BOB@acme.com" 003Dn00000Zz9
it_refused "a chain" \
    "contact alias row 'bobby@acme.com' -> '+49 (30) 123-4567' makes a chain: '+49301234567' is itself an alias (row '+49 30 1234567' -> '003Dn00000Xk2' (from calls)); point the alias at '003Dn00000Xk2' instead" \
    add --contact bobby@acme.com "+49 (30) 123-4567"
it_refused "an alias that is another buyer's canonical id" \
    "account alias row '001Dn000ACME' -> '001Dn000GROUP' (from crm) makes '001Dn000ACME' an alias, but '001Dn000ACME' is the canonical id of another buyer (row 'ACME GmbH' -> '001Dn000ACME' (from erp)); point that buyer's aliases elsewhere first" \
    add --account 001Dn000ACME 001Dn000GROUP --source crm
printf 'kind,alias,canonical,source\ncontact,dave@acme.com,003Dn00000Dd4,crm\ncontact,d.smith@acme.com,dave@acme.com,crm\n' > "$IT_DIR/chain.csv"
it_refused "an import with a chain inside the file (its good rows are not written either)" \
    "contact alias row 'd.smith@acme.com' -> 'dave@acme.com' (from crm) makes a chain" \
    import "$IT_DIR/chain.csv"
it_eq "no row of the refused import" "$(psql_q -c "SELECT count(*) FROM contact_aliases WHERE alias = 'dave@acme.com'")" 0
printf 'kind,alias,canonical,source\ncontact,erin@acme.com,003Dn00000Ee5,\nperson,x,y,\n' > "$IT_DIR/kind.csv"
it_refused "an import with an unknown kind" "line 3: kind 'person' is neither contact nor account" \
    import "$IT_DIR/kind.csv"
printf 'kind,alias,canonical,source\ncontact,,003Dn00000Ee5,\n' > "$IT_DIR/empty.csv"
it_refused "an import with an empty alias" "line 2: contact alias '' (-> '003Dn00000Ee5') is empty" \
    import "$IT_DIR/empty.csv"
printf 'alias,canonical\nx,y\n' > "$IT_DIR/header.csv"
it_refused "an import without the header" "the first line must be the header kind,alias,canonical,source" \
    import "$IT_DIR/header.csv"
it_refused "import --replace of a broken file (the old mapping is kept)" \
    "makes a chain: 'dave@acme.com' is itself an alias" import --replace "$IT_DIR/chain.csv"
it_refused "removing an alias that is not there" "there is no account alias 'nobody.com'" \
    remove --account nobody.com
"${ID[@]}" add > /dev/null 2>&1
it_eq "a usage error exits 2" "$?" 2

# --- the tables notify (as the tone book does), the roles read them
it_eq "a change notifies dualtrack_identity" \
    "$(psql_q -c "LISTEN dualtrack_identity" -c "DELETE FROM account_aliases WHERE alias = 'Acme Inc.'" 2>&1 | grep -c 'notification "dualtrack_identity" with payload "account_aliases"')" 1
it_eq "dualtrack_writer reads the aliases, writes none" \
    "$(psql_q -c "SELECT has_table_privilege ('dualtrack_writer', 'contact_aliases', 'SELECT'), has_table_privilege ('dualtrack_writer', 'account_aliases', 'SELECT'), has_table_privilege ('dualtrack_writer', 'contact_aliases', 'INSERT')")" "t|t|f"
it_eq "dualtrack_analyst reads them" \
    "$(psql_q -c "SELECT has_table_privilege ('dualtrack_analyst', 'contact_aliases', 'SELECT'), has_table_privilege ('dualtrack_analyst', 'account_aliases', 'SELECT')")" "t|t"
it_eq "the id columns compare byte for byte (C collation)" \
    "$(psql_q -c "SELECT string_agg (DISTINCT collation_name, ',') FROM information_schema.columns WHERE table_name IN ('contact_aliases', 'account_aliases') AND column_name IN ('alias', 'canonical')")" "C"

# --- the coordinator: every change reloaded at once, judged by canonical ids
reloads() { psql_q -c "SELECT count(*) FROM identity_reloads"; }
last_reload() { psql_q -c "SELECT ok || ' ' || message FROM identity_reloads ORDER BY at DESC LIMIT 1"; }
it_eq "the coordinator applied the last change" \
    "$(it_wait_value "SELECT message LIKE '%account aliases +0 -1 (4 and 2 rows)%' FROM identity_reloads ORDER BY at DESC LIMIT 1" t)" t
it_pub_one sales id-1 acme.com Bob@Acme.com intent email call "2026-05-02 10:00"
it_eq "an event is stored as sent, with the canonical ids it was judged by" \
    "$(psql_q -c "SELECT account || ' ' || contact || ' ' || account_key || ' ' || contact_key FROM touchpoints WHERE id = 'id-1'")" \
    "acme.com Bob@Acme.com 001Dn000ACME 003Dn00000Xk2"

# An invalid change over SQL (no CLI to check it): the coordinator refuses
# it naming the rows, records and logs it, and the old mapping judges on
before=$(reloads)
psql_q -c "INSERT INTO contact_aliases (alias, canonical, source) VALUES ('bobby@acme.com', '+49 (30) 123-4567', 'sql')"
it_eq "a refused change is recorded" "$(it_wait_value "SELECT count(*) > $before FROM identity_reloads" t)" t
it_eq "with the reason naming the rows" "$(last_reload)" \
    "false contact alias row '+49 30 1234567' -> '003Dn00000Xk2' (from calls) makes '+49301234567' an alias, but '+49301234567' is the canonical id of another buyer (row 'bobby@acme.com' -> '+49 (30) 123-4567' (from sql)); point that buyer's aliases elsewhere first"
it_check "and logged" grep -q "msg=\"alias change refused; the mapping in force stays\" error=\".*'bobby@acme.com' -> '+49 (30) 123-4567' (from sql)" "$IT_DIR/coordinator.log"
# Marketing under the other ids of both: the account's ERP name and Bob's
# phone written otherwise; the old mapping finds the collision with id-1
planned='{"id": "plan-1", "source": "test", "account": "ACME GmbH", "contact": "+49 (30) 123-4567", "stage": "awareness", "channel": "email", "kind": "newsletter", "occurred_at": '$(it_ms "2026-05-02 11:00 UTC")'}'
echo "$planned" | "$BIN/dualtrack" check --endpoint "tcp://127.0.0.1:$CHECK_PORT" --timeout 5000 --track marketing > "$OUT"
it_check "the check API answers by the mapping in force" grep -q 'collision' "$OUT" || sed 's/^/# check: /' "$OUT"
it_check "and says the canonical ids" grep -qx 'judged as: account 001Dn000ACME, contact 003Dn00000Xk2' "$OUT"
it_pub_one marketing id-2 "ACME GmbH" "+49 (30) 123-4567" awareness email newsletter "2026-05-02 11:00"
it_eq "a touch after the refused change is judged by the old mapping" \
    "$(psql_q -c "SELECT rule || ' ' || related::text || ' ' || account_key FROM findings WHERE touchpoint_id = 'id-2'")" \
    "collision {id-1} 001Dn000ACME"
# The CLI refuses before writing: no reload happens, the mapping judges on
before=$(reloads)
"${ID[@]}" add --account 001Dn000ACME 001Dn000GROUP > /dev/null 2>&1
it_eq "a change the CLI refused reaches no coordinator" "$(reloads)" "$before"
it_pub_one marketing id-3 acme.com 003Dn00000Xk2 awareness email newsletter "2026-05-02 12:00"
it_eq "and the mapping keeps judging" \
    "$(psql_q -c "SELECT f.rule || ' ' || f.account_key || ' ' || t.contact_key FROM findings f JOIN touchpoints t ON t.id = f.touchpoint_id WHERE f.touchpoint_id = 'id-3'")" \
    "collision 001Dn000ACME 003Dn00000Xk2"
# Mended: the next reload is accepted and says what changed
before=$(reloads)
psql_q -c "UPDATE contact_aliases SET canonical = '003Dn00000Xk2' WHERE alias = 'bobby@acme.com'"
it_eq "a mended change is accepted and says what changed" \
    "$(it_wait_value "SELECT count(*) > $before FROM identity_reloads" t >/dev/null; last_reload)" \
    "true contact aliases +1 -0, account aliases +0 -0 (5 and 2 rows); 1 accounts' memory dropped"
it_check "and logged" grep -q 'msg="alias maps reloaded" contacts_added=1 contacts_removed=0 accounts_added=0' "$IT_DIR/coordinator.log"
it_done
