# The analyst views (deploy/migrations/005_analyst_views.sql) on a small data
# set published through the real daemons, one event at a time in the order
# below, each stored (and judged) before the next. Every expected value was
# worked out by hand from the seed and the rules of docs/rules.md with the
# default configuration and the tone book of migration 003.
#
#   id  track      account contact stage         when (UTC)        extra            findings
#   m1  marketing  acme    ann     awareness     2026-05-01 09:00  cloud-first      -
#   s1  sales      acme    ann     intent        2026-05-02 10:00                   collision (m1)
#   m2  marketing  acme    bob     negotiation   2026-05-03 09:00  "guaranteed"     stage_crossing, banned_phrase
#   s2  sales      acme    carl    awareness     2026-05-04 12:00  legacy-savings,  unknown_theme (retired),
#                                                                  advisor mkt      lead_violation
#   s4  sales      beta    dan     intent        2026-05-05 10:00                   sequence
#   m3  marketing  beta    dan     interest      2026-05-05 23:30                   collision (s4)
#   m4  marketing  beta    eve     consideration 2026-05-06 08:00  support=9-5      claim_conflict
#   s5  sales      beta    dan     negotiation   2026-05-06 09:00                   collision (m3)
#   s7  sales      beta    dan     negotiation   2026-05-06 10:00                   collision (m3), contact_pressure
#   m5  marketing  gamma   fay     awareness     2026-05-07 09:00  secure-by-default, advisor sales   -
#   s6  sales      gamma   fay     purchase      2026-05-07 10:00  advisor mkt      -
#   m6  marketing  gamma   gus     evaluation    2026-05-08 10:00  fast-onboarding, advisor sales     lead_violation
#   s3  sales      acme    ann     evaluation    2026-05-20 10:00  cloud-first      theme_stage
source "$(dirname "$0")/lib.sh"
it_start

IT_SOURCE=views-test

it_pub_views_seed
it_pub_one sales     s3 acme ann evaluation meeting demo "2026-05-20 10:00" '"theme": "cloud-first"'
it_eq "the seed is stored, one touchpoint at a time" "$it_published" 13

# The judgement the views are built on (if this differs, the rule engine
# changed and the expected values below must be worked out again)
it_eq "the seed's findings" "$(psql_q -c "SELECT string_agg (touchpoint_id || ':' || rule, ' ' ORDER BY touchpoint_id, finding_no) FROM findings")" \
    "m2:stage_crossing m2:banned_phrase m3:collision m4:claim_conflict m6:lead_violation s1:collision s2:unknown_theme s2:lead_violation s3:theme_stage s4:sequence s5:collision s7:collision s7:contact_pressure"

# The configuration tables
it_eq "stage_owners holds the default funnel" "$(psql_q -c "SELECT string_agg (stage || ':' || owner, ',' ORDER BY position) FROM stage_owners")" \
    "awareness:marketing,interest:marketing,consideration:marketing,intent:sales,evaluation:sales,negotiation:sales,purchase:sales"
it_eq "rule_catalog: the tone rules" "$(psql_q -c "SELECT string_agg (rule, ',' ORDER BY rule) FROM rule_catalog WHERE tone")" \
    "banned_phrase,claim_conflict,lead_violation,theme_stage,unknown_theme"
it_eq "rule_catalog: every rule id" "$(psql_q -c "SELECT count(*) FROM rule_catalog")" 12

# findings_daily: UTC days, whatever the session's time zone (m3 is on
# 5 May in UTC, 6 May in Tokyo)
want_daily="2026-05-02|collision|sales|1|0|1|0|1|1
2026-05-03|banned_phrase|marketing|1|1|0|0|1|1
2026-05-03|stage_crossing|marketing|1|1|0|0|1|1
2026-05-04|lead_violation|sales|1|0|1|0|1|1
2026-05-04|unknown_theme|sales|1|0|1|0|1|1
2026-05-05|collision|marketing|1|0|1|0|1|1
2026-05-05|sequence|sales|1|0|1|0|1|1
2026-05-06|claim_conflict|marketing|1|1|0|0|1|1
2026-05-06|collision|sales|2|0|2|0|2|1
2026-05-06|contact_pressure|sales|1|0|1|0|1|1
2026-05-08|lead_violation|marketing|1|0|1|0|1|1
2026-05-20|theme_stage|sales|1|0|1|0|1|1"
daily_sql="SELECT day, rule, track, findings, violations, warnings, infos, touchpoints, accounts FROM findings_daily ORDER BY day, rule, track"
it_eq "findings_daily" "$(psql_q -c "$daily_sql")" "$want_daily"
it_eq "findings_daily in another session time zone" "$(PGTZ=Asia/Tokyo psql_q -c "$daily_sql")" "$want_daily"
it_eq "findings_daily: a date range" "$(psql_q -c "SELECT rule, sum(findings) FROM findings_daily WHERE day BETWEEN '2026-05-05' AND '2026-05-06' GROUP BY rule ORDER BY rule")" \
    "claim_conflict|1
collision|3
contact_pressure|1
sequence|1"
it_check "findings_daily: a date range can use the findings_day index" \
    bash -c "psql -X -At '$PG_URI' -c \"SET enable_seqscan = off; EXPLAIN SELECT * FROM findings_daily WHERE day = '2026-05-06'\" | grep -q findings_day"

# tone_compliance: marketing m2 (banned), m4 (claim), m6 (lead); sales s2
# (unknown theme and lead: counted once), s3 (theme_stage)
it_eq "tone_compliance" "$(psql_q -c "SELECT track, coalesce (theme, '-'), touchpoints, compliant, with_tone_findings, compliance FROM tone_compliance ORDER BY track, theme NULLS LAST")" \
    "marketing|cloud-first|1|1|0|1.0000
marketing|fast-onboarding|1|0|1|0.0000
marketing|secure-by-default|1|1|0|1.0000
marketing|-|3|1|2|0.3333
sales|cloud-first|1|0|1|0.0000
sales|legacy-savings|1|0|1|0.0000
sales|-|5|5|0|1.0000"
it_eq "tone compliance per track (summed from the view)" "$(psql_q -c "SELECT track, sum(touchpoints), sum(compliant), round (sum(compliant) / sum(touchpoints), 4) FROM tone_compliance GROUP BY track ORDER BY track")" \
    "marketing|6|3|0.5000
sales|7|5|0.7143"

# account_timeline: acme, both tracks side by side
it_eq "account_timeline for acme" "$(psql_q -c "SELECT day, id, contact, stage, owner, coalesce (marketing_touch, '-'), coalesce (marketing_role, '-'), coalesce (sales_touch, '-'), coalesce (sales_role, '-'), coalesce (theme, '-'), verdict, finding_count, rules FROM account_timeline WHERE account = 'acme' ORDER BY occurred_at")" \
    "2026-05-01|m1|ann|awareness|marketing|email newsletter|lead|-|-|cloud-first|ok|0|
2026-05-02|s1|ann|intent|sales|-|-|phone call|lead|-|warn|1|collision
2026-05-03|m2|bob|negotiation|sales|email offer|lead|-|-|-|violation|2|stage_crossing,banned_phrase
2026-05-04|s2|carl|awareness|marketing|-|advisor|meeting intro|lead|legacy-savings|warn|2|unknown_theme,lead_violation
2026-05-20|s3|ann|evaluation|sales|-|-|meeting demo|lead|cloud-first|warn|1|theme_stage"
it_eq "account_timeline: findings as JSON (rule, severity, related)" "$(psql_q -c "SELECT string_agg (x ->> 'rule' || '/' || (x ->> 'severity') || '/' || (x -> 'related')::text, ' ') FROM account_timeline, jsonb_array_elements (findings) x WHERE id IN ('s1', 'm2')")" \
    'collision/warn/["m1"] stage_crossing/violation/[] banned_phrase/violation/[]'
it_eq "account_timeline: a touchpoint without findings has []" "$(psql_q -c "SELECT findings FROM account_timeline WHERE id = 'm1'")" "[]"
it_eq "account_timeline for gamma: joint touches" "$(psql_q -c "SELECT id, coalesce (marketing_role, '-'), coalesce (sales_role, '-'), array_to_string (advisors, ',') FROM account_timeline WHERE account = 'gamma' ORDER BY occurred_at")" \
    "m5|lead|advisor|sales
s6|advisor|lead|marketing
m6|lead|advisor|sales"
it_eq "account_timeline: one row per touchpoint" "$(psql_q -c "SELECT count(*) FROM account_timeline")" 13

# stage_ownership, in funnel order
it_eq "stage_ownership" "$(psql_q -c "SELECT stage, position, owner, touches, marketing_touches, sales_touches, joint_touches, outside_ownership, outside_not_joint FROM stage_ownership ORDER BY position")" \
    "awareness|1|marketing|3|2|1|2|1|0
interest|2|marketing|1|1|0|0|0|0
consideration|3|marketing|1|1|0|0|0|0
intent|4|sales|2|0|2|0|0|0
evaluation|5|sales|2|1|1|1|1|0
negotiation|6|sales|3|1|2|0|1|1
purchase|7|sales|1|0|1|1|0|0"
it_eq "outside_not_joint agrees with stage_crossing findings" \
    "$(psql_q -c "SELECT (SELECT sum(outside_not_joint) FROM stage_ownership) = (SELECT count(*) FROM findings WHERE rule = 'stage_crossing')")" t

# The funnel is configuration: stage_ownership follows stage_owners at once,
# and a stored stage the table does not know shows up with no owner
it_eq "stage_ownership follows stage_owners" "$(psql_q -c "BEGIN" \
        -c "UPDATE stage_owners SET owner = 'sales' WHERE stage = 'consideration'" \
        -c "DELETE FROM stage_owners WHERE stage = 'purchase'" \
        -c "SELECT stage, coalesce (owner, '-'), touches, outside_ownership, outside_not_joint FROM stage_ownership WHERE stage IN ('consideration', 'purchase') ORDER BY stage" \
        -c "ROLLBACK")" \
    "consideration|sales|1|1|1
purchase|-|1|0|0"
it_eq "and the change was rolled back" "$(psql_q -c "SELECT count(*) FROM stage_owners WHERE owner = 'marketing'")" 3

# collisions (one row per collision finding) and collisions_by_account
it_eq "collisions" "$(psql_q -c "SELECT touchpoint_id, account, contact, track, severity, day, array_to_string (related, ',') FROM collisions ORDER BY occurred_at")" \
    "s1|acme|ann|sales|warn|2026-05-02|m1
m3|beta|dan|marketing|warn|2026-05-05|s4
s5|beta|dan|sales|warn|2026-05-06|m3
s7|beta|dan|sales|warn|2026-05-06|m3"
it_eq "collisions_by_account, most first" "$(psql_q -c "SELECT account, collisions, marketing, sales, contacts, touchpoints, to_char (first_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), to_char (last_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM collisions_by_account ORDER BY collisions DESC, account")" \
    "beta|3|1|2|1|4|2026-05-05 23:30|2026-05-06 10:00
acme|1|0|1|1|2|2026-05-02 10:00|2026-05-02 10:00"

# touchpoint_facts: the row-level view the others build on
it_eq "touchpoint_facts: flags of the outside touches" "$(psql_q -c "SELECT id, joint, outside_ownership, outside_not_joint, tone_ok FROM touchpoint_facts WHERE outside_ownership ORDER BY id")" \
    "m2|f|t|t|f
m6|t|t|f|f
s2|t|t|f|f"
it_eq "touchpoint_facts: a date range on occurred_at" "$(psql_q -c "SELECT track, count(*) FROM touchpoint_facts WHERE occurred_at >= '2026-05-05' AND occurred_at < '2026-05-07' GROUP BY track ORDER BY track")" \
    "marketing|2
sales|3"

# The examples in docs/schema.md run as written
if [ -f "$ROOT/docs/schema.md" ]; then
    n=0; bad=0
    while IFS= read -r -d '' sql; do
        n=$((n + 1))
        psql -X -q -At -v ON_ERROR_STOP=1 "$PG_URI" -c "$sql" >/dev/null 2>"$IT_DIR/example.err" ||
            { bad=$((bad + 1)); echo "# example failed: $sql"; cat "$IT_DIR/example.err"; }
    done < <(awk '/^```sql/{on=1; buf=""; next} /^```/{if(on){printf "%s%c", buf, 0}; on=0; next} on{buf=buf $0 "\n"}' "$ROOT/docs/schema.md")
    it_check "docs/schema.md has example queries ($n)" test "$n" -ge 5
    it_eq "every example query in docs/schema.md runs" "$bad" 0
    # Every table, view, index and column is named there (partitions aside)
    missing=""
    for name in $(psql_q -c "
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'i', 'I')
              AND NOT c.relispartition
            UNION
            SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                 JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
              AND NOT c.relispartition AND a.attnum > 0 AND NOT a.attisdropped"); do
        grep -qF "\`$name\`" "$ROOT/docs/schema.md" || missing="$missing $name"
    done
    it_eq "docs/schema.md names every table, view, index and column" "${missing:- none missing}" " none missing"
fi
it_done
