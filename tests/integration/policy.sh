# `dualtrack policy` against real daemons (docs/policy.md): a file with
# three errors gets three located messages; a store without versions
# exports its tone-book tables and the coordinator's options (here a
# collision window of 48h); diff says what changes; apply makes a version
# live within a second with no restart (a finding names the new phrase's
# replacement, the severity changed, both stored with policy_version 1);
# once a policy exists the tables are not read; a broken version is refused
# and the old one kept; export -> apply -> export gives the same bytes;
# rollback stores an old text as a new version.
source "$(dirname "$0")/lib.sh"
it_start_pg
it_start_coordinator --collision.window 48h
it_start_track marketing
it_start_track sales
it_wait_schema || { echo "FAIL - coordinator did not create the schema"; exit 1; }
it_eq "migration 011 applied" \
    "$(it_wait_value "SELECT to_regclass ('policy_versions') IS NOT NULL" t)" t
it_eq "the coordinator records its options as the policy's defaults" \
    "$(it_wait_value "SELECT value FROM policy_defaults WHERE setting = 'collision.window'" 48h)" 48h
COORD_PID=${IT_PID[coordinator]}

POL=("$BIN/dualtrack" policy --pg "$PG_URI")
OUT=$IT_DIR/out; ERR=$IT_DIR/err

# --- validate: every error located
cat > "$IT_DIR/bad.yaml" <<'EOF'
# three mistakes
tone:
  themes:
    cloud-first:
      stages: [awareness, shopping]
  banned:
    - guaranteed
    - phrase: risk-free
      insted: low-risk
rules:
  collision:
    window: 30 days
EOF
"${POL[@]}" validate "$IT_DIR/bad.yaml" > "$OUT" 2> "$ERR"
it_eq "validate: exit 1 on errors" "$?" 1
it_eq "validate: three messages" "$(wc -l < "$ERR")" 3
it_check "validate: the stage, located" \
    grep -qF "$IT_DIR/bad.yaml:5:27: theme 'cloud-first': 'shopping' is not a configured stage" "$ERR"
it_check "validate: the misspelt key, located" \
    grep -qF "$IT_DIR/bad.yaml:9:7: 'insted' is not a banned phrase setting" "$ERR"
it_check "validate: the duration, located" \
    grep -qF "$IT_DIR/bad.yaml:12:13: collision window: " "$ERR"

# --- before any policy: the tables and the options, version 0
it_pub_one marketing p1 acme ann awareness email newsletter "2026-05-01 09:00" '"body": "A guaranteed discount."'
it_eq "before a policy: judged under version 0" \
    "$(psql_q -c "SELECT rule, severity, policy_version FROM findings WHERE touchpoint_id = 'p1'")" \
    "banned_phrase|violation|0"
"${POL[@]}" history > "$OUT"
it_check "history: none yet" grep -q "no policy applied yet" "$OUT"
"${POL[@]}" export > "$IT_DIR/start.yaml"
it_eq "export without versions: exit 0" "$?" 0
it_check "export without versions: the tables' themes" grep -q "^    secure-by-default:$" "$IT_DIR/start.yaml"
it_check "export without versions: the tables' phrases" grep -q "^    - guaranteed$" "$IT_DIR/start.yaml"
it_check "export without versions: the coordinator's options" grep -q "^    window: 48h$" "$IT_DIR/start.yaml"
"${POL[@]}" validate "$IT_DIR/start.yaml" > "$OUT"
it_eq "the export validates" "$?" 0

# --- diff and apply
sed -e 's/^    - guaranteed$/    - guaranteed\n    - phrase: unbeatable\n      instead: competitive/' \
    -e 's/^    banned_phrase: violation$/    banned_phrase: warn/' \
    -e 's/^    window: 48h$/    window: 60d/' "$IT_DIR/start.yaml" > "$IT_DIR/v1.yaml"
"${POL[@]}" diff "$IT_DIR/v1.yaml" > "$OUT"
it_eq "diff: exit 0" "$?" 0
it_eq "diff: what changes, one line each" "$(cat "$OUT")" "against the live policy (tables, version 0):
  banned phrase added: \"unbeatable\" (instead: \"competitive\")
  severity of banned_phrase: violation -> warn
  collision window: 48h -> 60d"
"${POL[@]}" apply "$IT_DIR/bad.yaml" --note "broken" > "$OUT" 2> "$ERR"
it_eq "apply of a broken file: exit 1" "$?" 1
it_eq "apply of a broken file: nothing stored" "$(psql_q -c "SELECT count(*) FROM policy_versions")" 0
"${POL[@]}" apply "$IT_DIR/v1.yaml" --note "unbeatable is banned" > "$OUT" 2> "$ERR"
it_eq "apply: exit 0" "$?" 0
it_check "apply: stored as version 1" grep -q "^stored as version 1 " "$OUT"
ms=$(sed -n 's/^live: the coordinator took version 1 after \([0-9]*\) ms$/\1/p' "$OUT")
it_check "apply: live within a second (${ms:-never} ms)" test -n "$ms" -a "${ms:-9999}" -lt 1000
server_ms=$(psql_q -c "SELECT round (extract (epoch FROM r.at - v.applied_at) * 1000) FROM policy_versions v, tonebook_reloads r WHERE v.number = 1 AND r.message = 'policy version 1 in force'")
it_check "apply: live within a second by the server's clocks (${server_ms:-never} ms from insert to load)" \
    test -n "$server_ms" -a "${server_ms:-9999}" -lt 1000
it_eq "apply: the text kept as written, comments too" \
    "$(psql_q -c "SELECT text = \$\$$(cat "$IT_DIR/v1.yaml")
\$\$ FROM policy_versions WHERE number = 1")" t
it_eq "apply: who and the note" \
    "$(psql_q -c "SELECT applied_by = current_user, note, length (hash) FROM policy_versions WHERE number = 1")" \
    "t|unbeatable is banned|64"
it_pub_one marketing p2 acme bob awareness email newsletter "2026-05-02 09:00" '"body": "An unbeatable offer."'
it_eq "the new phrase is judged, with its replacement, under version 1" \
    "$(psql_q -c "SELECT severity, policy_version, message LIKE '%say \"competitive\" instead of \"unbeatable\".' FROM findings WHERE touchpoint_id = 'p2'")" \
    "warn|1|t"
it_eq "the verdict records version 1" \
    "$(psql_q -c "SELECT verdict, policy_version FROM touchpoints WHERE id = 'p2'")" "warn|1"
it_eq "the earlier finding keeps version 0" \
    "$(psql_q -c "SELECT policy_version FROM findings WHERE touchpoint_id = 'p1'")" 0

# --- once a policy exists, the tone-book tables are not read
psql_q -c "INSERT INTO tone_banned (phrase) VALUES ('cheapest')"
sleep 0.5
it_pub_one marketing p3 acme cid awareness email newsletter "2026-05-03 09:00" '"body": "The cheapest plan."'
it_eq "a phrase added to the tables after a policy: not judged" \
    "$(psql_q -c "SELECT count(*) FROM findings WHERE touchpoint_id = 'p3' AND rule = 'banned_phrase'")" 0

# --- a broken version (written past the CLI) is refused, the old one kept
psql_q -c "INSERT INTO policy_versions (number, text, note) VALUES (2, 'rules: [', 'by hand')"
it_eq "a broken version: refused and recorded" \
    "$(it_wait_value "SELECT count(*) FROM tonebook_reloads WHERE NOT ok AND message LIKE 'policy version 2 refused%'" 1 20)" 1
it_pub_one marketing p4 acme dan awareness email newsletter "2026-05-04 09:00" '"body": "Unbeatable."'
it_eq "the old version stays in force" \
    "$(psql_q -c "SELECT severity, policy_version FROM findings WHERE touchpoint_id = 'p4'")" "warn|1"

# --- export round trip, rollback, history
"${POL[@]}" export > "$IT_DIR/e1.yaml" 2> "$ERR"
it_check "export: says a broken version is skipped" grep -q "version 2 does not parse" "$ERR"
"${POL[@]}" apply "$IT_DIR/e1.yaml" --note "round trip" > "$OUT" 2>&1
it_check "apply of the export: version 3, no change in effect" \
    grep -q "no change in effect" "$OUT"
"${POL[@]}" export > "$IT_DIR/e2.yaml"
it_check "export -> apply -> export: the same bytes" cmp "$IT_DIR/e1.yaml" "$IT_DIR/e2.yaml"
"${POL[@]}" diff "$IT_DIR/start.yaml" > "$OUT"
it_check "diff back to the start: three changes" test "$(wc -l < "$OUT")" -eq 4
"${POL[@]}" rollback 1 > "$OUT" 2>&1
it_eq "rollback: exit 0" "$?" 0
it_eq "rollback: version 1's text as version 4" \
    "$(psql_q -c "SELECT a.text = b.text, b.note FROM policy_versions a, policy_versions b WHERE a.number = 1 AND b.number = 4")" \
    "t|rollback to version 1"
"${POL[@]}" history > "$OUT"
it_eq "history: four versions, newest first" "$(awk '{print $1}' "$OUT" | tr '\n' ' ')" "4 3 2 1 "
"${POL[@]}" rollback 9 > "$OUT" 2> "$ERR"
it_eq "rollback to a version that does not exist: exit 1" "$?" 1
"${POL[@]}" show 1 > "$OUT"
it_check "show: the text as applied" cmp "$OUT" "$IT_DIR/v1.yaml"

# --- roles: analysts read versions, the policy role applies
psql_q -c "CREATE ROLE pol_ops LOGIN IN ROLE dualtrack_policy; CREATE ROLE ana LOGIN IN ROLE dualtrack_analyst"
ANA_URI="${PG_URI/\?/?user=ana&}"; OPS_URI="${PG_URI/\?/?user=pol_ops&}"
[[ "$PG_URI" == *\?* ]] || { ANA_URI="$PG_URI?user=ana"; OPS_URI="$PG_URI?user=pol_ops"; }
"$BIN/dualtrack" policy --pg "$OPS_URI" --wait 0 apply "$IT_DIR/start.yaml" --note "ops" > "$OUT" 2>&1
it_eq "the policy role applies" "$(psql_q -c "SELECT applied_by FROM policy_versions WHERE number = 5")" pol_ops
"$BIN/dualtrack" policy --pg "$ANA_URI" --wait 0 apply "$IT_DIR/start.yaml" --note "no" > "$OUT" 2>&1
it_eq "an analyst may not apply" "$?" 1
it_eq "an analyst reads the history" "$("$BIN/dualtrack" policy --pg "$ANA_URI" history | wc -l)" 5

it_check "no restart: the same coordinator throughout" kill -0 "$COORD_PID"
it_eq "the coordinator was started once" "$(grep -c "rule memory rebuilt" "$IT_DIR/coordinator.log")" 1

# --- a restart: the newest version is loaded at start, over the options
it_stop coordinator
it_start_coordinator --collision.window 48h
it_eq "at start: the newest version in force (once live, once at the start)" \
    "$(it_wait_value "SELECT count(*) FROM tonebook_reloads WHERE ok AND message = 'policy version 5 in force'" 2)" 2
it_pub_one marketing p5 acme eve awareness email newsletter "2026-05-05 09:00" '"body": "Guaranteed, unbeatable."'
it_eq "after a restart: judged under version 5" \
    "$(psql_q -c "SELECT string_agg (rule || '|' || severity || '|' || policy_version, ',') FROM findings WHERE touchpoint_id = 'p5'")" \
    "banned_phrase|violation|5"
it_done
