# Scenario tests: touchpoint sequences written as data (tests/scenarios/,
# format in tests/scenarios/README.md) run through the real daemons. For each
# scenario, in name order: apply NAME.sql to the tone book if there is one
# (and wait for the coordinator to reload it), publish NAME.jsonl one line at
# a time through the track the line names, waiting after each until the
# coordinator has judged and stored it, then compare the findings stored for
# the scenario's touchpoints with NAME.expect (exact multiset of
# "EVENT_ID RULE") and check its "EVENT_ID verdict VERDICT" lines. An id
# sent again is a resend: no new row, so a barrier event on the same track
# tells when the coordinator has judged it. NAME.policy (a `rules:` section)
# is applied with `dualtrack policy apply` over the exported policy before
# the scenario, and the exported policy applied again after it.
#   SCENARIOS="01-stage-crossing 07-collision" tests/run scenarios   runs only those
source "$(dirname "$0")/lib.sh"
SCN_DIR=${SCN_DIR:-$ROOT/tests/scenarios}

# Wait until a query returns the wanted value, polling fast (at most ~20 s)
scn_wait() {    # sql, want
    local got
    for _ in $(seq 1 1000); do
        got=$(psql_q -c "$1" 2>/dev/null)
        [ "$got" = "$2" ] && break
        sleep 0.02
    done
    echo "$got"
}

# A SQL string literal
scn_lit() { printf "'%s'" "${1//\'/\'\'}"; }

# Publish one event (a JSON line without "track") through a track; 0 if accepted
scn_publish() {     # track, json
    local out
    out=$(printf '%s\n' "$2" | it_publish "$1" --quiet --batch 1 2>&1)
    [ "$out" = "published 1 events: accepted 1, rejected 0, invalid lines 0" ] && return 0
    echo "# publish refused: $out"
    return 1
}

# A resent id is acknowledged but stores no row: to know the coordinator has
# judged it, send a harmless event after it on the same track (a track's
# events reach the coordinator in order) and wait for that one's row
barrier_no=0
scn_barrier() {     # scenario, track
    local stage=awareness other=sales
    [ "$2" = sales ] && { stage=intent; other=marketing; }
    barrier_no=$((barrier_no + 1))
    local id="barrier-$1-$barrier_no"
    scn_publish "$2" "{\"id\": \"$id\", \"source\": \"scenarios\", \"account\": \"barrier-$1\", \"stage\": \"$stage\", \"channel\": \"other\", \"kind\": \"barrier\", \"occurred_at\": 1767225600000, \"advisors\": [\"$other\"], \"category\": \"transactional\"}" || return 1
    [ "$(scn_wait "SELECT count(*) FROM touchpoints WHERE id = $(scn_lit "$id")" 1)" = 1 ]
}

it_start
run_started=$(date +%s)
scenario_count=0
declare -A published=()     # ids sent so far: sending one again is a resend

if [ -n "${SCENARIOS:-}" ]; then
    files=(); for name in $SCENARIOS; do files+=("$SCN_DIR/$name.jsonl"); done
else
    files=("$SCN_DIR"/*.jsonl)
fi

SCN_RULES="stage_crossing collision unknown_theme theme_stage banned_phrase claim_conflict lead_violation sequence key_project_solo contact_pressure quiet_hours"

# A scenario's rule settings: its NAME.policy (a `rules:` section) replaces
# the rules of the policy in force (exported once, tone book and all), and
# that policy comes back after the scenario. 0 when the coordinator took it.
scn_policy_base=""
scn_apply() {   # file, note
    local out
    out=$("$BIN/dualtrack" policy --pg "$PG_URI" apply "$1" --note "$2" 2>&1)
    [[ "$out" == *"live: the coordinator took version"* ]] && return 0
    echo "# policy not taken: $out"
    return 1
}
scn_policy() {  # name
    if [ -z "$scn_policy_base" ]; then
        # The coordinator records its options once it has migrated
        scn_wait "SELECT to_regclass ('policy_defaults') IS NOT NULL
                  AND EXISTS (SELECT 1 FROM policy_defaults)" t >/dev/null
        scn_policy_base=$IT_DIR/scenario-policy-base.yaml
        "$BIN/dualtrack" policy --pg "$PG_URI" export > "$scn_policy_base" || return 1
    fi
    { sed '/^rules:/,$d' "$scn_policy_base"; cat "$SCN_DIR/$1.policy"; } > "$IT_DIR/scenario-policy.yaml"
    scn_apply "$IT_DIR/scenario-policy.yaml" "scenario $1"
}
track_re='^(.*[{,])[[:space:]]*"track"[[:space:]]*:[[:space:]]*"([a-z]*)"[[:space:]]*(,?)(.*)$'
id_re='[{,][[:space:]]*"id"[[:space:]]*:[[:space:]]*"([^"\\]*)"'

for jsonl in "${files[@]}"; do
    name=$(basename "$jsonl" .jsonl)
    expect=$SCN_DIR/$name.expect
    scenario_count=$((scenario_count + 1))
    if [ ! -f "$jsonl" ] || [ ! -f "$expect" ]; then
        it_check "scenario $name: has $name.jsonl and $name.expect" false
        continue
    fi
    it_log "scenario $name"

    # Tone book changes first: wait until the coordinator has reloaded
    if [ -f "$SCN_DIR/$name.sql" ]; then
        before=$(psql_q -c "SELECT count(*) FROM tonebook_reloads")
        if psql_q -v ON_ERROR_STOP=1 -1 -f "$SCN_DIR/$name.sql" >/dev/null; then
            scn_wait "SELECT count(*) > $before FROM tonebook_reloads" t >/dev/null
            it_eq "scenario $name: tone book change reloaded" \
                "$(psql_q -c "SELECT ok FROM tonebook_reloads ORDER BY at DESC LIMIT 1")" t
        else
            it_check "scenario $name: $name.sql applies" false
        fi
    fi

    if [ -f "$SCN_DIR/$name.policy" ]; then
        it_check "scenario $name: its policy is live" scn_policy "$name"
    fi

    ids=()
    line_no=0
    problems=""
    while IFS= read -r line || [ -n "$line" ]; do
        line_no=$((line_no + 1))
        [[ "$line" =~ ^[[:space:]]*$ ]] && continue
        if ! [[ "$line" =~ $track_re ]]; then
            problems+=" line $line_no has no \"track\";"; continue
        fi
        track=${BASH_REMATCH[2]}
        head=${BASH_REMATCH[1]} comma=${BASH_REMATCH[3]} tail=${BASH_REMATCH[4]}
        # Drop the key and its comma: {"track": "x", "id": ...} or ..., "track": "x"}
        if [ -n "$comma" ]; then event="$head$tail"
        else event="${head%,}$tail"; fi
        if [ "$track" != marketing ] && [ "$track" != sales ]; then
            problems+=" line $line_no: track \"$track\";"; continue
        fi
        if ! [[ "$event" =~ $id_re ]]; then
            problems+=" line $line_no has no \"id\";"; continue
        fi
        id=${BASH_REMATCH[1]}
        ids+=("$id")
        if ! scn_publish "$track" "$event"; then
            problems+=" line $line_no ($id) not accepted;"; continue
        fi
        if [ -z "${published[$id]:-}" ]; then
            published[$id]=1
            [ "$(scn_wait "SELECT count(*) FROM touchpoints WHERE id = $(scn_lit "$id")" 1)" = 1 ] \
                || problems+=" line $line_no ($id) never stored;"
        else
            scn_barrier "$name" "$track" || problems+=" line $line_no ($id): barrier not stored;"
        fi
    done < "$jsonl"
    [ -z "$problems" ] || it_check "scenario $name: every line published and stored:$problems" false

    # The stored findings against the expected ones, as sorted multisets
    id_list=""
    for id in "${ids[@]}"; do id_list+="${id_list:+,}$(scn_lit "$id")"; done
    [ -n "$id_list" ] || id_list="''"
    want=$(grep -v '^[[:space:]]*\(#.*\)\?$' "$expect" | awk '$2 != "verdict" {print $1 " " $2}' | LC_ALL=C sort)
    bad=$(grep -v '^[[:space:]]*\(#.*\)\?$' "$expect" | awk -v rules=" $SCN_RULES " \
        'NF < 2 || ($2 == "verdict" ? (NF != 3 || $3 !~ /^(ok|warn|violation)$/) : (NF != 2 || index(rules, " " $2 " ") == 0))')
    [ -z "$bad" ] || it_check "scenario $name: $name.expect lines are valid: $(echo "$bad" | paste -sd ';')" false
    got=$(psql_q -c "SELECT touchpoint_id || ' ' || rule FROM findings WHERE touchpoint_id IN ($id_list)" | LC_ALL=C sort)
    if [ "$got" != "$want" ]; then
        echo "# $name: findings differ (< expected, > stored):"
        diff <(printf '%s\n' "$want" | sed '/^$/d') <(printf '%s\n' "$got" | sed '/^$/d') \
            | grep '^[<>]' | sed 's/^/#   /'
        psql_q -F ' | ' -c "SELECT touchpoint_id, rule, severity, message FROM findings WHERE touchpoint_id IN ($id_list) ORDER BY touchpoint_id, finding_no" | sed 's/^/#   stored: /'
    fi
    it_eq "scenario $name: findings" "$(echo "$got" | paste -sd ';')" "$(echo "$want" | paste -sd ';')"

    if [ -f "$SCN_DIR/$name.policy" ]; then
        it_check "scenario $name: the policy before it is live again" \
            scn_apply "$scn_policy_base" "after scenario $name"
    fi

    # Verdicts
    while read -r vid word verdict _; do
        [ "$word" = verdict ] || continue
        it_eq "scenario $name: verdict of $vid" \
            "$(psql_q -c "SELECT verdict FROM touchpoints WHERE id = $(scn_lit "$vid")")" "$verdict"
    done < <(grep -v '^[[:space:]]*#' "$expect")
done

it_check "at least one scenario ran" [ "$scenario_count" -gt 0 ]
it_log "$scenario_count scenarios in $(( $(date +%s) - run_started )) s"
it_done
