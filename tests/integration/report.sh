# `dualtrack report` on a small data set published through the real daemons
# (one event at a time, each stored before the next): the page shows the
# figures worked out by hand below, escapes what it prints, and is
# self-contained (inline SVG and CSS, nothing from the network).
#
#   id  track      account     contact stage         when (UTC)        findings
#   m1  marketing  acme        ann     awareness     2026-05-01 09:00  -
#   s1  sales      acme        ann     intent        2026-05-02 10:00  collision
#   m2  marketing  acme        bob     negotiation   2026-05-03 09:00  stage_crossing, banned_phrase
#   s2  sales      acme        carl    awareness     2026-05-04 12:00  unknown_theme, lead_violation
#   s4  sales      beta        dan     intent        2026-05-05 10:00  sequence
#   m3  marketing  beta        dan     interest      2026-05-05 23:30  collision
#   m4  marketing  beta        eve     consideration 2026-05-06 08:00  claim_conflict
#   s5  sales      beta        dan     negotiation   2026-05-06 09:00  collision
#   s7  sales      beta        dan     negotiation   2026-05-06 10:00  collision, contact_pressure
#   m5  marketing  gamma       fay     awareness     2026-05-07 09:00  -
#   s6  sales      gamma       fay     purchase      2026-05-07 10:00  -
#   m6  marketing  gamma       gus     evaluation    2026-05-08 10:00  lead_violation
#   m7  marketing  R&D <Labs>  hal     interest      2026-05-10 09:00  -
#   s8  sales      R&D <Labs>  hal     intent        2026-05-10 10:00  collision
#   s3  sales      acme        ann     evaluation    2026-05-20 10:00  theme_stage
# (tests/integration/views.sh explains each finding.)
source "$(dirname "$0")/lib.sh"
# DT_REPORT_CLI: a dualtrack binary to take the report from (development)
REPORT=("${DT_REPORT_CLI:-$BIN/dualtrack}" report)
it_start

IT_SOURCE=report-test

it_pub_views_seed
it_pub_one marketing m7 "R&D <Labs>" hal interest email newsletter "2026-05-10 09:00"
it_pub_one sales     s8 "R&D <Labs>" hal intent phone call "2026-05-10 10:00"
it_pub_one sales     s3 acme ann evaluation meeting demo "2026-05-20 10:00" '"theme": "cloud-first"'
it_eq "the seed is stored, one touchpoint at a time" "$it_published" 15
it_eq "the seed's findings" "$(psql_q -c "SELECT string_agg (touchpoint_id || ':' || rule, ' ' ORDER BY touchpoint_id, finding_no) FROM findings")" \
    "m2:stage_crossing m2:banned_phrase m3:collision m4:claim_conflict m6:lead_violation s1:collision s2:unknown_theme s2:lead_violation s3:theme_stage s4:sequence s5:collision s7:collision s7:contact_pressure s8:collision"

PAGE=$IT_DIR/may.html
"${REPORT[@]}" --pg "$PG_URI" --from 2026-05-01 --to 2026-05-31 --out "$PAGE" 2>"$IT_DIR/report.err"
it_eq "report for May exits 0" "$?" 0
[ -s "$IT_DIR/report.err" ] && cat "$IT_DIR/report.err"
has() { grep -qF -- "$2" "$1"; }
has_not() { ! grep -qiE -- "$2" "$1"; }

# Counts per track
it_check "touchpoints: marketing 7" has "$PAGE" '<td class="n" id="touchpoints-marketing">7</td>'
it_check "touchpoints: sales 8" has "$PAGE" '<td class="n" id="touchpoints-sales">8</td>'
it_check "touchpoints: 15 in all" has "$PAGE" '<td class="n" id="touchpoints-total">15</td>'
it_check "findings: marketing 5" has "$PAGE" '<td class="n" id="findings-marketing">5</td>'
it_check "findings: sales 9" has "$PAGE" '<td class="n" id="findings-sales">9</td>'
it_check "findings: 14 in all" has "$PAGE" '<td class="n" id="findings-total">14</td>'
# Volumes per stage: owner, marketing, sales, total, joint, outside ownership, not joint
it_check "volumes: negotiation" has "$PAGE" '<tr><th scope="row">negotiation</th><td>sales</td><td class="n">1</td><td class="n">2</td><td class="n">3</td><td class="n">0</td><td class="n">1</td><td class="n">1</td></tr>'
it_check "volumes: awareness" has "$PAGE" '<tr><th scope="row">awareness</th><td>marketing</td><td class="n">2</td><td class="n">1</td><td class="n">3</td><td class="n">2</td><td class="n">1</td><td class="n">0</td></tr>'
it_check "volumes: intent" has "$PAGE" '<tr><th scope="row">intent</th><td>sales</td><td class="n">0</td><td class="n">3</td><td class="n">3</td><td class="n">0</td><td class="n">0</td><td class="n">0</td></tr>'
# Rule names with their counts
for pair in collision:5 lead_violation:2 stage_crossing:1 banned_phrase:1 unknown_theme:1 \
            sequence:1 claim_conflict:1 contact_pressure:1 theme_stage:1; do
    it_check "findings per rule: ${pair%:*} ${pair#*:}" has "$PAGE" \
        "<tr><th scope=\"row\">${pair%:*}</th><td class=\"n\" id=\"rule-${pair%:*}\">${pair#*:}</td>"
done
it_check "no rule that did not fire" has_not "$PAGE" 'id="rule-key_project_solo"'
it_check "findings per day: 6 May has 2 collisions (column order: collision first)" \
    has "$PAGE" '<tr><th scope="row">2026-05-06</th><td class="n">2</td>'
# Collisions: the top colliding account, then the others by name
it_check "collisions: 5 on 3 accounts" has "$PAGE" '<b id="collisions-total">5</b> on <b id="colliding-accounts">3</b> accounts'
it_check "top colliding account: beta, 3 (1 by marketing, 2 by sales, 1 contact)" has "$PAGE" \
    '<tr id="top-1"><td class="n">1</td><th scope="row">beta</th><td class="n">3</td><td class="n">1</td><td class="n">2</td><td class="n">1</td></tr>'
it_check "second: the account with markup in its name, escaped" has "$PAGE" \
    '<tr id="top-2"><td class="n">2</td><th scope="row">R&amp;D &lt;Labs&gt;</th><td class="n">1</td>'
it_check "third: acme" has "$PAGE" '<tr id="top-3"><td class="n">3</td><th scope="row">acme</th><td class="n">1</td>'
it_check "the raw account name appears nowhere" has_not "$PAGE" 'R&D|<Labs>'
# Tone compliance per track
it_check "tone: marketing 4 of 7" has "$PAGE" '<td class="n" id="tone-marketing">57.1%</td>'
it_check "tone: sales 6 of 8" has "$PAGE" '<td class="n" id="tone-sales">75.0%</td>'
it_check "tone chart label" has "$PAGE" '75.0% (6 of 8)'
# Self-contained
it_eq "four inline SVG charts" "$(grep -c '<svg ' "$PAGE")" 4
it_check "inline CSS" has "$PAGE" '<style>'
it_check "no http(s) anywhere" has_not "$PAGE" 'https?://'
it_check "no src or href" has_not "$PAGE" '(src|href)[[:space:]]*='
it_check "no script, link, img, iframe, object, @import or url()" has_not "$PAGE" '<script|<link|<img|<iframe|<object|@import|url\('
it_check "well formed: every element closed" \
    test "$(grep -o '<svg ' "$PAGE" | wc -l)" = "$(grep -o '</svg>' "$PAGE" | wc -l)" -a \
         "$(grep -o '<table>' "$PAGE" | wc -l)" = "$(grep -o '</table>' "$PAGE" | wc -l)"
it_check "ends the document" test "$(tail -n 1 "$PAGE")" = "</html>"

# A range is UTC days, both ends included: m3 (23:30 on 5 May) is in 5 May
"${REPORT[@]}" --pg "$PG_URI" --from 2026-05-05 --to 2026-05-05 > "$IT_DIR/day.html"
it_eq "report to standard output exits 0" "$?" 0
it_check "5 May: marketing 1 (m3)" has "$IT_DIR/day.html" '<td class="n" id="touchpoints-marketing">1</td>'
it_check "5 May: sales 1 (s4)" has "$IT_DIR/day.html" '<td class="n" id="touchpoints-sales">1</td>'
it_check "5 May: collision 1" has "$IT_DIR/day.html" '<td class="n" id="rule-collision">1</td>'
it_check "5 May: no theme_stage (20 May)" has_not "$IT_DIR/day.html" 'id="rule-theme_stage"'
it_check "5 May: top colliding account beta" has "$IT_DIR/day.html" '<tr id="top-1"><td class="n">1</td><th scope="row">beta</th><td class="n">1</td>'
# --top limits the accounts
"${REPORT[@]}" --pg "$PG_URI" --from 2026-05-01 --to 2026-05-31 --top 1 > "$IT_DIR/top1.html"
it_check "--top 1: one account" bash -c "grep -q 'id=\"top-1\"' '$IT_DIR/top1.html' && ! grep -q 'id=\"top-2\"' '$IT_DIR/top1.html'"
# An empty range renders, with zeros
"${REPORT[@]}" --pg "$PG_URI" --from 2020-01-01 --to 2020-12-31 --out "$IT_DIR/empty.html"
it_eq "an empty range exits 0" "$?" 0
it_check "an empty range: 0 touchpoints" has "$IT_DIR/empty.html" '<td class="n" id="touchpoints-total">0</td>'
it_check "an empty range: compliance n/a, charts drawn" \
    bash -c "grep -q 'id=\"tone-sales\">n/a<' '$IT_DIR/empty.html' && test \$(grep -c '<svg ' '$IT_DIR/empty.html') = 4"

# Usage errors exit 2, an unreachable store 1, and --out is not left half written
"${REPORT[@]}" --pg "$PG_URI" --from 2026-02-30 --to 2026-03-01 >/dev/null 2>&1
it_eq "an impossible date: exit 2" "$?" 2
"${REPORT[@]}" --pg "$PG_URI" --from 2026-05-02 --to 2026-05-01 >/dev/null 2>&1
it_eq "--to before --from: exit 2" "$?" 2
"${REPORT[@]}" --pg "$PG_URI" --from 2026-05-01 >/dev/null 2>&1
it_eq "no --to: exit 2" "$?" 2
"${REPORT[@]}" --pg "postgresql://nobody@127.0.0.1:$(it_port)/none?connect_timeout=2" \
    --from 2026-05-01 --to 2026-05-02 --out "$IT_DIR/none.html" >/dev/null 2>&1
it_eq "an unreachable store: exit 1" "$?" 1
it_check "and no page" test ! -e "$IT_DIR/none.html"
"${REPORT[@]}" --help > "$IT_DIR/help.out"
it_eq "--help exits 0" "$?" 0
it_check "--help names the options" grep -q -- "--from YYYY-MM-DD --to YYYY-MM-DD" "$IT_DIR/help.out"

# As a person sees it: headless Chromium loads the page without errors,
# draws its charts, and a screenshot is kept
it_browser_check report "$PAGE"
it_done
