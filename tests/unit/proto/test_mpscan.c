/*  test_mpscan.c - the msgpack pre-scanner: every type, every truncation,
    hostile counts, depth and object limits, trailing bytes; and a cross-check
    against msgpack_unpack_next on random documents and their mutations.
*/
#include "proto/mpscan.h"
#include "unit/testing.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

static dt_error_t err;

//  Bytes from "dd 05 f5 e1 00" (spaces ignored); returns the length
static size_t
hex (const char *text, uint8_t *out)
{
    size_t len = 0;
    while (*text) {
        if (*text == ' ') {
            text++;
            continue;
        }
        unsigned int byte;
        sscanf (text, "%2x", &byte);
        out [len++] = (uint8_t) byte;
        text += 2;
    }
    return len;
}

static int
scan_with (const void *data, size_t size, const dt_scan_limits_t *limits)
{
    memset (&err, 0, sizeof err);
    return dt_msgpack_scan ((const char *) data, size, limits, &err);
}

static int
scan (const void *data, size_t size)
{
    return scan_with (data, size, NULL);
}

//  True if msgpack-c reads exactly one value that fills the buffer
static bool
unpacks (const void *data, size_t size)
{
    msgpack_unpacked result;
    msgpack_unpacked_init (&result);
    size_t offset = 0;
    msgpack_unpack_return rc = msgpack_unpack_next (&result, (const char *) data, size, &offset);
    msgpack_unpacked_destroy (&result);
    return rc == MSGPACK_UNPACK_SUCCESS && offset == size;
}

//  One sample of each msgpack type (and each length-field width)
static const char *samples [] = {
    "00", "7f", "e0", "ff",                                     //  fixint
    "cc ff", "cd ff ff", "ce ff ff ff ff", "cf ff ff ff ff ff ff ff ff",
    "d0 80", "d1 80 00", "d2 80 00 00 00", "d3 80 00 00 00 00 00 00 00",
    "c0", "c2", "c3",                                           //  nil, false, true
    "ca 3f 80 00 00", "cb 3f f0 00 00 00 00 00 00",             //  float 32, 64
    "a0", "a3 61 62 63",                                        //  fixstr
    "bf 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61",
    "d9 00", "d9 03 61 62 63", "da 00 03 61 62 63", "db 00 00 00 03 61 62 63",
    "c4 00", "c4 02 00 01", "c5 00 02 00 01", "c6 00 00 00 02 00 01",
    "d4 01 aa", "d5 01 aa bb", "d6 ff 01 02 03 04", "d7 01 01 02 03 04 05 06 07 08",
    "d8 01 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10",   //  fixext 1..16
    "c7 00 01", "c7 02 01 aa bb", "c8 00 02 01 aa bb", "c9 00 00 00 02 01 aa bb",
    "90", "91 01", "9f 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e",
    "dc 00 00", "dc 00 01 01", "dd 00 00 00 00", "dd 00 00 00 01 01",
    "80", "81 01 02", "82 a1 61 c0 a1 62 91 c3",
    "de 00 00", "de 00 01 01 02", "df 00 00 00 00", "df 00 00 00 01 01 02",
    NULL
};

static void
test_types (void)
{
    uint8_t bytes [256];
    for (int i = 0; samples [i]; i++) {
        size_t len = hex (samples [i], bytes);
        int rc = scan (bytes, len);
        if (rc)
            fprintf (stderr, "sample %s: %s\n", samples [i], err.message);
        CHECK_INT (rc, 0);
        CHECK (unpacks (bytes, len));
    }
    //  Large forms made by the packer: array32, map32, str32, bin32, ext32
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, 5);
    msgpack_pack_array (&pk, 70000);
    for (int i = 0; i < 70000; i++)
        msgpack_pack_nil (&pk);
    msgpack_pack_map (&pk, 70000);
    for (int i = 0; i < 70000; i++) {
        msgpack_pack_uint32 (&pk, (uint32_t) i);
        msgpack_pack_true (&pk);
    }
    static char blob [70000];
    msgpack_pack_str (&pk, sizeof blob);
    msgpack_pack_str_body (&pk, blob, sizeof blob);
    msgpack_pack_bin (&pk, sizeof blob);
    msgpack_pack_bin_body (&pk, blob, sizeof blob);
    msgpack_pack_ext (&pk, sizeof blob, 7);
    msgpack_pack_ext_body (&pk, blob, sizeof blob);
    CHECK_INT ((uint8_t) sbuf.data [1], 0xdd);
    CHECK_INT (scan (sbuf.data, sbuf.size), 0);
    CHECK (unpacks (sbuf.data, sbuf.size));
    msgpack_sbuffer_destroy (&sbuf);
}

//  Every sample in one array16, then cut short at every byte
static void
test_truncated (void)
{
    static uint8_t whole [4096];
    size_t size = 3, count = 0;
    for (int i = 0; samples [i]; i++, count++)
        size += hex (samples [i], whole + size);
    whole [0] = 0xdc;
    whole [1] = (uint8_t) (count >> 8);
    whole [2] = (uint8_t) count;
    CHECK_INT (scan (whole, size), 0);
    CHECK (unpacks (whole, size));
    int refused = 0, agreed = 0;
    for (size_t cut = 0; cut < size; cut++) {
        refused += scan (whole, cut) == -1 && strcmp (err.code, "bad_request") == 0;
        agreed += !unpacks (whole, cut);
    }
    CHECK_INT (refused, size);
    CHECK_INT (agreed, size);
    //  And each sample alone
    uint8_t bytes [256];
    for (int i = 0; samples [i]; i++) {
        size_t len = hex (samples [i], bytes);
        for (size_t cut = 0; cut < len; cut++)
            CHECK_INT (scan (bytes, cut), -1);
    }
    CHECK_INT (scan ("", 0), -1);
    CHECK_STR (err.message, "empty frame: send one msgpack map");
    CHECK_STR (err.field, "");
    uint8_t bytes2 [16];
    CHECK_INT (scan (bytes2, hex ("cd 01", bytes2)), -1);
    CHECK_STR (err.message, "frame is not msgpack: it ends inside a value");
}

static void
refuses (const char *text, const char *message)
{
    static uint8_t bytes [256];
    size_t len = hex (text, bytes);
    CHECK_INT (scan (bytes, len), -1);
    CHECK_STR (err.code, "bad_request");
    CHECK_STR (err.message, message);
}

static void
test_hostile (void)
{
    refuses ("dd 05 f5 e1 00", "frame is not msgpack: an array declares 100000000 items in 5 bytes");
    refuses ("dd ff ff ff ff 01 02", "frame is not msgpack: an array declares 4294967295 items in 7 bytes");
    refuses ("df ff ff ff ff", "frame is not msgpack: a map declares 4294967295 entries in 5 bytes");
    refuses ("de ff ff 01 02 03", "frame is not msgpack: a map declares 65535 entries in 6 bytes");
    refuses ("dc ff ff 01 02 03", "frame is not msgpack: an array declares 65535 items in 6 bytes");
    refuses ("82 01 02 03", "frame is not msgpack: a map declares 2 entries in 4 bytes");
    //  Each count fits alone, their sum does not
    refuses ("92 93 01 01 01", "frame is not msgpack: 4 values are still due but only 3 bytes follow");
    refuses ("81 01 dc 00 02 01",
             "frame is not msgpack: an array declares 2 items in 6 bytes");
    //  Bodies past the end
    refuses ("db ff ff ff ff 61",
             "frame is not msgpack: a string at offset 0 declares 4294967295 bytes, only 1 follow");
    refuses ("91 a5 61 62", "frame is not msgpack: a string at offset 1 declares 5 bytes, only 2 follow");
    refuses ("c6 7f ff ff ff 00", "frame is not msgpack: a bin at offset 0 declares 2147483647 bytes, only 1 follow");
    //  ext32 of 0xffffffff bytes: msgpack-c adds the type byte in 32 bits and wraps to 0
    refuses ("c9 ff ff ff ff 01", "frame is not msgpack: an ext at offset 0 declares 4294967296 bytes, only 1 follow");
    refuses ("d8 01 00", "frame is not msgpack: an ext at offset 0 declares 17 bytes, only 2 follow");
    refuses ("c7 05 01 00", "frame is not msgpack: an ext at offset 0 declares 6 bytes, only 2 follow");
    //  Reserved byte
    refuses ("c1", "frame is not msgpack: byte 0xc1 at offset 0 is reserved");
    refuses ("93 01 02 c1", "frame is not msgpack: byte 0xc1 at offset 3 is reserved");
    refuses ("81 c1 01", "frame is not msgpack: byte 0xc1 at offset 1 is reserved");
    //  Trailing bytes
    refuses ("c0 c0", "frame holds 1 bytes after the first msgpack value: send one map");
    refuses ("91 01 02 03", "frame holds 2 bytes after the first msgpack value: send one map");
    refuses ("80 00", "frame holds 1 bytes after the first msgpack value: send one map");
}

//  levels containers, each holding the next, the innermost holding inner
static size_t
nest (uint8_t *out, int levels, uint8_t container, const char *inner)
{
    size_t len = 0;
    for (int i = 0; i < levels; i++) {
        if (container == 0x81)
            out [len++] = 0x81, out [len++] = 0xa0;     //  {"": ...}
        else
            out [len++] = container;
    }
    return len + hex (inner, out + len);
}

static void
test_depth (void)
{
    uint8_t bytes [128];
    size_t len;
    len = nest (bytes, 16, 0x91, "01");
    CHECK_INT (scan (bytes, len), 0);
    len = nest (bytes, 15, 0x91, "90");
    CHECK_INT (scan (bytes, len), 0);
    len = nest (bytes, 16, 0x81, "c0");
    CHECK_INT (scan (bytes, len), 0);
    CHECK (unpacks (bytes, len));

    len = nest (bytes, 17, 0x91, "01");
    CHECK_INT (scan (bytes, len), -1);
    CHECK_STR (err.message, "nesting deeper than 16 levels");
    CHECK (unpacks (bytes, len));                   //  msgpack-c would take it
    len = nest (bytes, 16, 0x91, "80");             //  empty containers count
    CHECK_INT (scan (bytes, len), -1);
    CHECK_STR (err.message, "nesting deeper than 16 levels");
    len = nest (bytes, 17, 0x81, "c0");
    CHECK_INT (scan (bytes, len), -1);
    CHECK_STR (err.message, "nesting deeper than 16 levels");

    dt_scan_limits_t limits = { 2, 100 };
    len = nest (bytes, 2, 0x91, "01");
    CHECK_INT (scan_with (bytes, len, &limits), 0);
    len = nest (bytes, 3, 0x91, "01");
    CHECK_INT (scan_with (bytes, len, &limits), -1);
    CHECK_STR (err.message, "nesting deeper than 2 levels");
    limits.depth = 0;
    CHECK_INT (scan_with ("\x01", 1, &limits), 0);
    CHECK_INT (scan_with ("\x90", 1, &limits), -1);

    //  Past msgpack-c's own stack: clamped to 32
    limits.depth = 1000;
    len = nest (bytes, 32, 0x91, "01");
    CHECK_INT (scan_with (bytes, len, &limits), 0);
    CHECK (unpacks (bytes, len));
    len = nest (bytes, 33, 0x91, "01");
    CHECK_INT (scan_with (bytes, len, &limits), -1);
    CHECK_STR (err.message, "nesting deeper than 32 levels");
    CHECK (!unpacks (bytes, len));
}

static void
test_objects (void)
{
    uint8_t bytes [64];
    dt_scan_limits_t limits = { 16, 10 };
    size_t len = hex ("99 01 01 01 01 01 01 01 01 01", bytes);     //  10 values
    CHECK_INT (scan_with (bytes, len, &limits), 0);
    len = hex ("9a 01 01 01 01 01 01 01 01 01 01", bytes);
    CHECK_INT (scan_with (bytes, len, &limits), -1);
    CHECK_STR (err.message, "frame holds more than 10 values");
    len = hex ("85 01 01 01 01 01 01 01 01 01 01", bytes);
    CHECK_INT (scan_with (bytes, len, &limits), -1);
    len = hex ("92 93 01 01 01 93 01 01 01", bytes);
    CHECK_INT (scan_with (bytes, len, &limits), 0);
    len = hex ("92 93 01 01 01 95 01 01 01 01 01", bytes);
    CHECK_INT (scan_with (bytes, len, &limits), -1);
    CHECK_STR (err.message, "frame holds more than 10 values");

    //  The default: 1,000,000 values in all
    dt_scan_limits_t defaults = dt_scan_limits_default ();
    CHECK_INT (defaults.depth, 16);
    CHECK_INT (defaults.objects, 1000000);
    size_t size = 5 + 1000000;
    uint8_t *big = calloc (1, size);
    big [0] = 0xdd;
    big [1] = 0x00; big [2] = 0x0f; big [3] = 0x42; big [4] = 0x3f;     //  999,999 items
    CHECK_INT (scan (big, size - 1), 0);
    big [4] = 0x40;                                                     //  1,000,000
    CHECK_INT (scan (big, size), -1);
    CHECK_STR (err.message, "frame holds more than 1000000 values");
    free (big);
}

//  --------------------------------------------------------------------------
//  Cross-check with msgpack-c on random documents

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t
rng (void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static uint32_t
rng_below (uint32_t n)
{
    return (uint32_t) (rng () % n);
}

//  A length that hits every header width now and then
static uint32_t
random_length (void)
{
    switch (rng_below (20)) {
        case 0: return 32 + rng_below (300);       //  8 and 16-bit headers
        case 1: return 65536 + rng_below (100);    //  32-bit header
        default: return rng_below (20);
    }
}

static void
random_value (msgpack_packer *pk, int level, int max_level)
{
    static char filler [70000];
    int kinds = level < max_level? 14: 12;
    switch (rng_below ((uint32_t) kinds)) {
        case 0: msgpack_pack_nil (pk); break;
        case 1: rng_below (2)? msgpack_pack_true (pk): msgpack_pack_false (pk); break;
        case 2: {
            uint32_t shift = rng_below (64);
            msgpack_pack_uint64 (pk, rng () >> shift);
            break;
        }
        case 3: {
            uint32_t shift = 1 + rng_below (63);
            msgpack_pack_int64 (pk, -(int64_t) (rng () >> shift));
            break;
        }
        case 4: msgpack_pack_float (pk, (float) rng_below (1000) / 7.0f); break;
        case 5: msgpack_pack_double (pk, (double) rng () / 3.0); break;
        case 6: case 7: {
            uint32_t len = random_length ();
            msgpack_pack_str (pk, len);
            msgpack_pack_str_body (pk, filler, len);
            break;
        }
        case 8: case 9: {
            uint32_t len = random_length ();
            msgpack_pack_bin (pk, len);
            msgpack_pack_bin_body (pk, filler, len);
            break;
        }
        case 10: case 11: {
            uint32_t len = rng_below (3)? 1u << rng_below (5): random_length ();
            msgpack_pack_ext (pk, len, (int8_t) rng_below (128));
            msgpack_pack_ext_body (pk, filler, len);
            break;
        }
        case 12: {
            uint32_t n = rng_below (8) == 0? 16 + rng_below (8): rng_below (6);
            msgpack_pack_array (pk, n);
            for (uint32_t i = 0; i < n; i++)
                random_value (pk, level + 1, max_level);
            break;
        }
        default: {
            uint32_t n = rng_below (8) == 0? 16 + rng_below (4): rng_below (5);
            msgpack_pack_map (pk, n);
            for (uint32_t i = 0; i < n; i++) {
                random_value (pk, max_level, max_level);
                random_value (pk, level + 1, max_level);
            }
            break;
        }
    }
}

//  The root is a container, so documents reach every depth up to 16
static void
random_document (msgpack_packer *pk)
{
    int max_level = 1 + (int) rng_below (16);
    uint32_t n = 1 + rng_below (4);
    msgpack_pack_array (pk, n);
    for (uint32_t i = 0; i < n; i++)
        random_value (pk, 1, max_level);
}

static void
test_cross_check (void)
{
    int documents = 2000, accepted = 0, agreed = 0, mutants = 0, mutants_agreed = 0;
    int lied = 0, mutants_read = 0;
    dt_scan_limits_t wide = { DT_SCAN_DEPTH_MAX, UINT64_MAX };
    static char mutant [1 << 20];
    for (int d = 0; d < documents; d++) {
        msgpack_sbuffer sbuf;
        msgpack_packer pk;
        msgpack_sbuffer_init (&sbuf);
        msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
        random_document (&pk);
        if (scan (sbuf.data, sbuf.size) == 0)
            accepted++;
        else
            fprintf (stderr, "document %d refused: %s\n", d, err.message);
        agreed += unpacks (sbuf.data, sbuf.size);

        //  Mutants: the scanner accepts exactly what msgpack-c reads whole,
        //  except nesting deeper than the scanner allows
        if (sbuf.size > sizeof mutant - 2) {
            msgpack_sbuffer_destroy (&sbuf);
            continue;
        }
        for (int m = 0; m < 20; m++) {
            memcpy (mutant, sbuf.data, sbuf.size);
            size_t size = sbuf.size;
            size_t at = rng_below ((uint32_t) size);
            switch (m % 4) {
                case 0: mutant [at] = (char) rng (); break;
                case 1: mutant [at] ^= (char) (1 << rng_below (8)); break;
                case 2: size = at; break;
                default:
                    memmove (mutant + at + 1, mutant + at, size - at);
                    mutant [at] = (char) rng ();
                    size++;
            }
            bool scanned = scan_with (mutant, size, &wide) == 0;
            //  A count larger than the bytes left is proof enough, and
            //  msgpack-c would first allocate for it (what the scanner is for)
            bool lies = !scanned && (strstr (err.message, " declares ")
                                  || strstr (err.message, " still due "));
            bool read = lies? false: unpacks (mutant, size);
            lied += lies;
            mutants_read += read;
            bool deep = !scanned && strcmp (err.message, "nesting deeper than 32 levels") == 0;
            mutants++;
            if (scanned == read || (deep && read))
                mutants_agreed++;
            else
                fprintf (stderr, "mutant of document %d: scan %s, msgpack-c %s (%s)\n",
                         d, scanned? "accepts": "refuses", read? "reads it": "does not",
                         err.message);
        }
        msgpack_sbuffer_destroy (&sbuf);
    }
    printf ("cross-check: %d documents; %d mutants, %d whole, %d refused as lying\n",
            documents, mutants, mutants_read, lied);
    CHECK_INT (accepted, documents);
    CHECK_INT (agreed, documents);
    CHECK_INT (mutants_agreed, mutants);
}

int
main (void)
{
    test_types ();
    test_truncated ();
    test_hostile ();
    test_depth ();
    test_objects ();
    test_cross_check ();
    return TESTING_DONE ();
}
