/*  fuzz_assert.h - a broken property aborts with what broke, so libFuzzer
    keeps the input as a crash (every target)
*/
#ifndef DT_FUZZ_ASSERT_H
#define DT_FUZZ_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_ASSERT(cond, ...) do { \
    if (!(cond)) { \
        fprintf (stderr, "fuzz: %s:%d: %s: ", __FILE__, __LINE__, #cond); \
        fprintf (stderr, __VA_ARGS__); \
        fputc ('\n', stderr); \
        abort (); \
    } \
} while (0)

#endif
