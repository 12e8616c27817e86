/*  testing.h - the smallest test harness that does the job: each check prints
    a line only when it fails, each test binary ends with "N passed, N failed"
    for its own checks and exits non-zero if any failed. tests/run adds them up.
*/
#ifndef DT_TESTING_H
#define DT_TESTING_H

#include <stdio.h>
#include <string.h>

static int testing_passed, testing_failed;

#define CHECK(cond) do { \
    if (cond) testing_passed++; \
    else { testing_failed++; \
        fprintf (stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_STR(got, want) do { \
    const char *g_ = (got), *w_ = (want); \
    if (g_ && w_ && strcmp (g_, w_) == 0) testing_passed++; \
    else { testing_failed++; \
        fprintf (stderr, "FAIL %s:%d: %s is \"%s\", want \"%s\"\n", \
                 __FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } \
} while (0)

#define CHECK_INT(got, want) do { \
    long long g_ = (long long) (got), w_ = (long long) (want); \
    if (g_ == w_) testing_passed++; \
    else { testing_failed++; \
        fprintf (stderr, "FAIL %s:%d: %s is %lld, want %lld\n", \
                 __FILE__, __LINE__, #got, g_, w_); } \
} while (0)

//  End of a test program's main()
#define TESTING_DONE() ( \
    printf ("%s: %d passed, %d failed\n", __FILE__, testing_passed, testing_failed), \
    testing_failed ? 1 : 0)

#endif
