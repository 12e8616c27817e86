/*  fuzz_policy.c - libFuzzer target: a policy file (services/rules/policy.c)
    from arbitrary bytes, parsed the way `dualtrack policy validate` and the
    coordinator parse it.

    A text that is refused must say where and why (at least one error, each
    located at line and column 1 or more, its reason valid UTF-8); a text
    that is accepted must format to canonical text that parses again, to
    the same bytes when formatted again, with no difference between the two
    policies, and must give a tone book the default stages accept. Built
    and run by tests/fuzz/run.
*/
#include "rules/policy.h"
#include "base/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL_IF(cond, what) do { if (cond) { \
    fprintf (stderr, "fuzz: %s\n", what); abort (); } } while (0)

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    static dt_stageset_t stages;
    static int ready;
    if (!ready) {
        dt_stageset_default (&stages);
        ready = 1;
    }
    dt_policy_errors_t errors;
    dt_policy_t *policy = dt_policy_parse ((const char *) data, size, NULL, &stages, &errors);
    if (!policy) {
        FAIL_IF (errors.count < 1, "a refused policy has no error");
        for (int i = 0; i < errors.count; i++) {
            FAIL_IF (errors.error [i].line < 1 || errors.error [i].column < 1,
                     "an error is not located");
            FAIL_IF (!dt_utf8_valid (errors.error [i].reason, strlen (errors.error [i].reason)),
                     "an error's reason is not UTF-8");
        }
        return 0;
    }
    FAIL_IF (errors.count != 0, "an accepted policy has errors");
    dt_buf_t first = { 0 }, second = { 0 }, diff = { 0 };
    dt_policy_format (policy, &first);
    dt_policy_t *again = dt_policy_parse (first.data, first.size, NULL, &stages, &errors);
    if (!again)
        fprintf (stderr, "fuzz: %d:%d: %s\n%.*s", errors.error [0].line, errors.error [0].column,
                 errors.error [0].reason, (int) first.size, first.data);
    FAIL_IF (!again, "the canonical text of an accepted policy does not parse");
    dt_policy_format (again, &second);
    FAIL_IF (first.size != second.size || memcmp (first.data, second.data, first.size),
             "canonical text is not stable");
    FAIL_IF (dt_policy_diff (policy, again, &diff) != 0, "the round trip changed the policy");
    char err [256];
    dt_tonebook_t *book = dt_policy_tonebook (policy, err, sizeof err);
    FAIL_IF (!book, "an accepted policy gives no tone book");
    FAIL_IF (dt_tonebook_validate (book, &stages, err, sizeof err),
             "an accepted policy's tone book is refused");
    dt_tonebook_destroy (&book);
    dt_buf_free (&first);
    dt_buf_free (&second);
    dt_buf_free (&diff);
    dt_policy_destroy (&again);
    dt_policy_destroy (&policy);
    return 0;
}
