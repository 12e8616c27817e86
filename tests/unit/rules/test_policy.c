/*  test_policy.c - the policy file: a full file parsed into settings and
    tone-book rows, every error located (line:column and reason, all of
    them, not just the first), the canonical text stable under a round
    trip, the readable diff, and a suggested replacement named by the
    banned_phrase finding.
*/
#include "rules/policy.h"
#include "rules/engine.h"
#include "base/utf8.h"
#include "unit/testing.h"

#include <stdlib.h>

static dt_stageset_t stages;

static const char *s_full =
    "# the policy, as operations write it\n"
    "tone:\n"
    "  themes:\n"
    "    secure-by-default:\n"
    "      stages: [awareness, interest]   # upper funnel\n"
    "      note: the 2026 positioning\n"
    "    spring-2026:\n"
    "      stages: all\n"
    "      from: 2026-05-03\n"
    "      until: 2026-06-01T12:00:00Z\n"
    "    legacy-savings:\n"
    "      stages: [awareness]\n"
    "      retired: true\n"
    "  claims:\n"
    "    support: 24/7\n"
    "    \"price: list\": \"from $10\"\n"
    "  banned:\n"
    "    - guaranteed\n"
    "    - phrase: risk-free\n"
    "      instead: low-risk\n"
    "rules:\n"
    "  severity:\n"
    "    collision: violation\n"
    "    sequence: off\n"
    "  collision:\n"
    "    window: 30d\n"
    "    scope: account\n"
    "  pressure:\n"
    "    max per contact: 5\n"
    "    period: 14d\n";

static dt_policy_t *
s_parse (const char *text, dt_policy_errors_t *errors)
{
    return dt_policy_parse (text, strlen (text), NULL, &stages, errors);
}

static void
test_full_file (void)
{
    dt_policy_errors_t errors;
    dt_policy_t *policy = s_parse (s_full, &errors);
    CHECK (policy);
    CHECK_INT (errors.count, 0);
    if (!policy)
        return;
    CHECK_INT ((int) dt_policy_themes (policy), 3);
    CHECK_INT ((int) dt_policy_claims (policy), 2);
    CHECK_INT ((int) dt_policy_banned (policy), 2);
    const dt_rules_config_t *cfg = dt_policy_config (policy);
    CHECK_INT (cfg->severity [DT_RULE_COLLISION], DT_SEV_VIOLATION);
    CHECK_INT (cfg->severity [DT_RULE_SEQUENCE], DT_SEV_OFF);
    CHECK_INT (cfg->severity [DT_RULE_BANNED_PHRASE], DT_SEV_VIOLATION);   //  default kept
    CHECK (cfg->collision_window == 30 * 86400000LL);
    CHECK_INT (cfg->collision_scope, DT_SCOPE_ACCOUNT);
    CHECK_INT (cfg->pressure_contact_max, 5);
    CHECK_INT (cfg->pressure_account_max, 10);
    CHECK (cfg->pressure_period == 14 * 86400000LL);
    char err [256];
    dt_tonebook_t *book = dt_policy_tonebook (policy, err, sizeof err);
    CHECK (book);
    CHECK_INT (dt_tonebook_validate (book, &stages, err, sizeof err), 0);
    dt_str_t spring = { "spring-2026", 11 };
    CHECK_INT (dt_tonebook_theme (book, spring, 1777766400000LL - 1, 0, NULL, NULL),
               DT_THEME_NOT_YET);
    dt_tonebook_destroy (&book);
    dt_policy_destroy (&policy);
}

//  Defaults passed in stay for what the file leaves out
static void
test_defaults_kept (void)
{
    dt_rules_config_t defaults;
    dt_rules_config_default (&defaults);
    defaults.memory_window = 60 * 86400000LL;
    const char *text = "rules:\n  collision:\n    window: 48h\n";
    dt_policy_errors_t errors;
    dt_policy_t *policy = dt_policy_parse (text, strlen (text), &defaults, &stages, &errors);
    CHECK (policy);
    if (policy) {
        CHECK (dt_policy_config (policy)->memory_window == 60 * 86400000LL);
        CHECK (dt_policy_config (policy)->collision_window == 48 * 3600000LL);
        CHECK_INT ((int) dt_policy_themes (policy), 0);
    }
    dt_policy_destroy (&policy);
}

//  Every error, located, in one pass
static void
test_errors_located (void)
{
    const char *text =
        "tone:\n"
        "  themes:\n"
        "    cloud-first:\n"
        "      stages: [awareness, shopping]\n"
        "  claims:\n"
        "    support: 24/7\n"
        "  banned:\n"
        "    - guaranteed\n"
        "    - GUARANTEED\n"
        "rules:\n"
        "  collision:\n"
        "    window: 30 days\n"
        "    colour: blue\n";
    dt_policy_errors_t errors;
    dt_policy_t *policy = s_parse (text, &errors);
    CHECK (!policy);
    CHECK_INT (errors.count, 4);
    CHECK_INT (errors.error [0].line, 4);
    CHECK_INT (errors.error [0].column, 27);
    CHECK (strstr (errors.error [0].reason, "'shopping' is not a configured stage"));
    CHECK_INT (errors.error [1].line, 9);
    CHECK_INT (errors.error [1].column, 7);
    CHECK (strstr (errors.error [1].reason, "listed twice"));
    CHECK_INT (errors.error [2].line, 12);
    CHECK_INT (errors.error [2].column, 13);
    CHECK (strstr (errors.error [2].reason, "collision window"));
    CHECK (strstr (errors.error [2].reason, "'30 days'"));
    CHECK_INT (errors.error [3].line, 13);
    CHECK_INT (errors.error [3].column, 5);
    CHECK (strstr (errors.error [3].reason, "'colour' is not a collision setting"));

    //  Not YAML at all: where libyaml gave up
    const char *broken = "tone:\n  themes: [a\n";
    policy = s_parse (broken, &errors);
    CHECK (!policy);
    CHECK_INT (errors.count, 1);
    CHECK (strstr (errors.error [0].reason, "not valid YAML"));
    CHECK_INT (errors.error [0].line, 3);

    //  Wrong shapes and values
    const char *shapes =
        "tone:\n"
        "  themes:\n"
        "    a:\n"
        "      stages: awareness\n"
        "      from: 2026-02-30\n"
        "    b: {}\n"
        "  claims: [x]\n"
        "rules:\n"
        "  severity:\n"
        "    collisions: warn\n"
        "    collision: loud\n"
        "  pressure:\n"
        "    max per contact: 99\n"
        "extra: 1\n";
    policy = s_parse (shapes, &errors);
    CHECK (!policy);
    CHECK_INT (errors.count, 8);
    int lines [] = { 4, 5, 6, 7, 10, 11, 13, 14 };
    for (int i = 0; i < 8 && i < errors.count; i++)
        CHECK_INT (errors.error [i].line, lines [i]);
    //  A quoted name cut at its limit keeps whole characters (found by
    //  fuzz_policy): the reason stays valid UTF-8
    const char *cut =
        "tone:\n  themes:\n"
        "    aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9:\n"
        "      stages: [nowhere]\n";
    policy = s_parse (cut, &errors);
    CHECK (!policy);
    CHECK_INT (errors.count, 1);
    CHECK (dt_utf8_valid (errors.error [0].reason, strlen (errors.error [0].reason)));
    CHECK (strstr (errors.error [0].reason, "'nowhere' is not a configured stage"));
    //  Three more checks: an empty file, a list, a duplicate key
    policy = s_parse ("", &errors);
    CHECK (!policy);
    CHECK_INT (errors.count, 1);
    policy = s_parse ("- a\n", &errors);
    CHECK (!policy);
    policy = s_parse ("rules:\n  memory:\n    window: 1d\n    window: 2d\n", &errors);
    CHECK (!policy);
    CHECK_INT (errors.count, 1);
    CHECK (strstr (errors.error [0].reason, "given twice"));
}

//  format -> parse -> format gives the same bytes, and the same policy
static void
test_round_trip (void)
{
    dt_policy_errors_t errors;
    dt_policy_t *policy = s_parse (s_full, &errors);
    CHECK (policy);
    if (!policy)
        return;
    dt_policy_add_claim (policy, "odd: key", "yes", NULL, 0);
    dt_policy_add_banned (policy, "- dash \"quoted\" \\ back", NULL, NULL, 0);
    dt_policy_add_theme (policy, "ünïcode théme", "", 0, 1800000000123LL, false, "a\tnote",
                         NULL, 0);
    //  Characters YAML reads as line breaks (LINE and PARAGRAPH SEPARATOR,
    //  NEL) or refuses (BOM inside), which libyaml decodes from escapes:
    //  written escaped, in text that would otherwise go plain too
    dt_policy_add_claim (policy, "price\xE2\x80\xA8list: key", "from\xC2\x85 10", NULL, 0);
    dt_policy_add_banned (policy, "para\xE2\x80\xA9graph", NULL, NULL, 0);
    dt_policy_add_banned (policy, "zero\xEF\xBB\xBFwidth", NULL, NULL, 0);
    dt_buf_t first = { 0 }, second = { 0 };
    dt_policy_format (policy, &first);
    dt_buf_putc (&first, 0);
    CHECK (strstr (first.data, "\"price\\u2028list: key\": \"from\\u0085 10\""));
    CHECK (strstr (first.data, "\"para\\u2029graph\""));
    CHECK (strstr (first.data, "\"zero\\ufeffwidth\""));
    first.size--;
    dt_policy_t *again = dt_policy_parse (first.data, first.size, NULL, &stages, &errors);
    CHECK (again);
    for (int i = 0; i < errors.count; i++)
        fprintf (stderr, "%d:%d: %s\n", errors.error [i].line, errors.error [i].column,
                 errors.error [i].reason);
    if (again) {
        dt_policy_format (again, &second);
        CHECK_INT ((int) second.size, (int) first.size);
        CHECK (second.size == first.size && memcmp (first.data, second.data, first.size) == 0);
        dt_buf_t diff = { 0 };
        CHECK_INT (dt_policy_diff (policy, again, &diff), 0);
        if (diff.size)
            fprintf (stderr, "%.*s", (int) diff.size, diff.data);
        dt_buf_free (&diff);
    }
    dt_buf_free (&first);
    dt_buf_free (&second);
    dt_policy_destroy (&again);
    dt_policy_destroy (&policy);
}

static void
test_diff (void)
{
    dt_policy_errors_t errors;
    dt_policy_t *before = s_parse (s_full, &errors);
    const char *text =
        "tone:\n"
        "  themes:\n"
        "    secure-by-default:\n"
        "      stages: [awareness]\n"
        "    new-theme:\n"
        "      stages: all\n"
        "  claims:\n"
        "    support: business hours\n"
        "  banned:\n"
        "    - Guaranteed\n"
        "rules:\n"
        "  collision:\n"
        "    window: 60d\n";
    dt_policy_t *after = s_parse (text, &errors);
    CHECK (before && after);
    if (!before || !after)
        return;
    dt_buf_t diff = { 0 };
    int lines = dt_policy_diff (before, after, &diff);
    dt_buf_putc (&diff, 0);
    CHECK_INT (lines, 13);
    if (lines != 13)
        fprintf (stderr, "%s", diff.data);
    CHECK (strstr (diff.data, "theme changed: secure-by-default: stages [awareness, interest] "
                              "-> stages [awareness]\n"));
    CHECK (strstr (diff.data, "theme added: new-theme (stages all)\n"));
    CHECK (strstr (diff.data, "theme removed: spring-2026\n"));
    CHECK (strstr (diff.data, "claim changed: support = 24/7 -> business hours\n"));
    CHECK (strstr (diff.data, "claim removed: price: list\n"));
    CHECK (strstr (diff.data, "banned phrase removed: \"risk-free\"\n"));
    CHECK (!strstr (diff.data, "guaranteed"));
    CHECK (strstr (diff.data, "severity of collision: violation -> warn\n"));
    CHECK (strstr (diff.data, "collision window: 30d -> 60d\n"));
    CHECK (strstr (diff.data, "collision scope: account -> contact\n"));
    CHECK (strstr (diff.data, "theme removed: legacy-savings\n"));
    CHECK (strstr (diff.data, "pressure max per contact: 5 -> 3\n"));
    dt_buf_free (&diff);
    dt_policy_destroy (&before);
    dt_policy_destroy (&after);
}

//  The finding names what to say instead
static void
test_suggestion_in_finding (void)
{
    dt_policy_errors_t errors;
    dt_policy_t *policy = s_parse (s_full, &errors);
    CHECK (policy);
    if (!policy)
        return;
    dt_engine_t *engine = dt_engine_new (dt_policy_config (policy), &stages);
    char err [256];
    dt_tonebook_t *book = dt_policy_tonebook (policy, err, sizeof err);
    CHECK_INT (dt_engine_set_tonebook (engine, &book, err, sizeof err), 0);
    dt_event_t ev;
    memset (&ev, 0, sizeof ev);
    ev.id = (dt_str_t) { "e1", 2 };
    ev.track = DT_TRACK_MARKETING;
    ev.lead = DT_TRACK_MARKETING;
    ev.account = (dt_str_t) { "acme", 4 };
    ev.stage = (dt_str_t) { "awareness", 9 };
    ev.stage_index = 0;
    ev.body = (dt_str_t) { "A risk-free trial", 17 };
    ev.occurred_at = 1777766400000LL;
    dt_finding_t findings [8];
    dt_verdict_t verdict;
    int count = dt_engine_judge (engine, &ev, false, findings, 8, &verdict);
    bool named = false;
    for (int i = 0; i < count; i++)
        if (findings [i].rule == DT_RULE_BANNED_PHRASE)
            named = strstr (findings [i].message, "say \"low-risk\" instead of \"risk-free\"")
                 != NULL;
    CHECK (named);
    dt_engine_destroy (&engine);
    dt_policy_destroy (&policy);
}

//  Many rows: duplicates found through the indexes, wherever they are
static void
test_many_rows (void)
{
    dt_buf_t text = { 0 };
    dt_buf_puts (&text, "tone:\n  claims:\n");
    for (int i = 0; i < 3000; i++)
        dt_buf_printf (&text, "    key%d: value %d\n", i, i);
    dt_buf_puts (&text, "  banned:\n");
    for (int i = 0; i < 5000; i++)
        dt_buf_printf (&text, "    - banned  phrase %d\n", i);
    dt_buf_puts (&text, "    - Banned Phrase 4321\n");
    dt_policy_errors_t errors;
    dt_policy_t *policy = dt_policy_parse (text.data, text.size, NULL, &stages, &errors);
    CHECK (!policy);
    CHECK_INT (errors.count, 1);
    CHECK_INT (errors.error [0].line, 3000 + 5000 + 4);
    CHECK (strstr (errors.error [0].reason, "'Banned Phrase 4321' is listed twice"));
    //  Without it: accepted, and a diff against itself less one row
    text.size -= strlen ("    - Banned Phrase 4321\n");
    policy = dt_policy_parse (text.data, text.size, NULL, &stages, &errors);
    CHECK (policy);
    dt_policy_t *fewer = dt_policy_new (NULL);
    dt_policy_add_banned (fewer, "banned phrase 7", NULL, NULL, 0);
    dt_buf_t diff = { 0 };
    if (policy)
        CHECK_INT (dt_policy_diff (policy, fewer, &diff), 3000 + 4999);
    dt_buf_free (&diff);
    dt_buf_free (&text);
    dt_policy_destroy (&fewer);
    dt_policy_destroy (&policy);
}

int
main (void)
{
    dt_stageset_default (&stages);
    test_full_file ();
    test_defaults_kept ();
    test_errors_located ();
    test_round_trip ();
    test_diff ();
    test_suggestion_in_finding ();
    test_many_rows ();
    return TESTING_DONE ();
}
