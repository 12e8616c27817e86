/*  tokens.c - see tokens.h. Hashes come from GnuTLS (libmicrohttpd's TLS
    library, already linked for HTTPS); randomness from getrandom.
*/
#include "base/tokens.h"
#include "base/clock.h"
#include "base/log.h"

#include <dirent.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

typedef struct {
    char name [DT_TOKEN_NAME_MAX + 1];
    unsigned char digest [32];
} entry_t;

struct _dt_tokens_t {
    char *dir;
    pthread_mutex_t lock;
    entry_t *entries;
    size_t count;
    uint64_t signature;             //  of the directory as last read
    int64_t looked_at;              //  monotonic ms of the last change check
};

int
dt_token_name_valid (const char *name)
{
    size_t len = strlen (name);
    if (len == 0 || len > DT_TOKEN_NAME_MAX || name [0] == '.')
        return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
           || *c == '.' || *c == '_' || *c == '-'))
            return 0;
    return 1;
}

static void
s_sha256 (const char *data, size_t len, unsigned char digest [32])
{
    //  GNUTLS_DIG_SHA256 is always built in: a failure is a broken library
    if (gnutls_hash_fast (GNUTLS_DIG_SHA256, data, len, digest) != 0)
        abort ();
}

void
dt_token_hash_hex (const char *token, size_t len, char hex [65])
{
    unsigned char digest [32];
    s_sha256 (token, len, digest);
    for (int i = 0; i < 32; i++)
        snprintf (hex + 2 * i, 3, "%02x", digest [i]);
}

int
dt_token_new (char token [DT_TOKEN_TEXT])
{
    unsigned char bytes [DT_TOKEN_BYTES];
    if (getrandom (bytes, sizeof bytes, 0) != (ssize_t) sizeof bytes)
        return -1;
    memcpy (token, "dt_", 3);
    for (int i = 0; i < DT_TOKEN_BYTES; i++)
        snprintf (token + 3 + 2 * i, 3, "%02x", bytes [i]);
    return 0;
}

static int
s_hex_digit (char c)
{
    return c >= '0' && c <= '9'? c - '0': c >= 'a' && c <= 'f'? c - 'a' + 10:
           c >= 'A' && c <= 'F'? c - 'A' + 10: -1;
}

//  One token file: 64 hex digits, surrounding white space allowed
static int
s_read_hash (const char *path, unsigned char digest [32])
{
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    char text [160];
    size_t len = fread (text, 1, sizeof text - 1, file);
    fclose (file);
    text [len] = 0;
    char *start = text;
    while (*start == ' ' || *start == '\t' || *start == '\n' || *start == '\r')
        start++;
    size_t digits = 0;
    while (s_hex_digit (start [digits]) >= 0)
        digits++;
    for (const char *rest = start + digits; *rest; rest++)
        if (*rest != ' ' && *rest != '\t' && *rest != '\n' && *rest != '\r')
            return -1;
    if (digits != 64)
        return -1;
    for (int i = 0; i < 32; i++)
        digest [i] = (unsigned char) (s_hex_digit (start [2 * i]) << 4 | s_hex_digit (start [2 * i + 1]));
    return 0;
}

//  What the directory looks like: names, sizes and times of its files
static uint64_t
s_signature (const char *dir)
{
    uint64_t hash = 1469598103934665603ULL;
    struct stat st;
    if (stat (dir, &st) == 0) {
        hash = (hash ^ (uint64_t) st.st_mtim.tv_sec) * 1099511628211ULL;
        hash = (hash ^ (uint64_t) st.st_mtim.tv_nsec) * 1099511628211ULL;
    }
    DIR *handle = opendir (dir);
    if (!handle)
        return hash;
    struct dirent *entry;
    char path [4096];
    while ((entry = readdir (handle))) {
        if (entry->d_name [0] == '.')
            continue;
        for (const char *c = entry->d_name; *c; c++)
            hash = (hash ^ (unsigned char) *c) * 1099511628211ULL;
        snprintf (path, sizeof path, "%s/%s", dir, entry->d_name);
        if (stat (path, &st) == 0) {
            hash = (hash ^ (uint64_t) st.st_mtim.tv_sec) * 1099511628211ULL;
            hash = (hash ^ (uint64_t) st.st_mtim.tv_nsec) * 1099511628211ULL;
            hash = (hash ^ (uint64_t) st.st_size) * 1099511628211ULL;
        }
    }
    closedir (handle);
    return hash;
}

//  Read the directory into a new table; the caller holds the lock
static int
s_load (dt_tokens_t *self)
{
    uint64_t signature = s_signature (self->dir);
    DIR *handle = opendir (self->dir);
    if (!handle) {
        dt_warn ("can not read the token directory", "dir=%s error=\"%s\"", self->dir, strerror (errno));
        return -1;
    }
    entry_t *entries = NULL;
    size_t count = 0, alloc = 0;
    struct dirent *entry;
    while ((entry = readdir (handle))) {
        if (entry->d_name [0] == '.')
            continue;
        char path [4096];
        snprintf (path, sizeof path, "%s/%s", self->dir, entry->d_name);
        struct stat st;
        if (stat (path, &st) || !S_ISREG (st.st_mode))
            continue;
        unsigned char digest [32];
        if (!dt_token_name_valid (entry->d_name) || s_read_hash (path, digest)) {
            dt_warn ("token file skipped: want a file named after the system holding "
                     "the token's SHA-256 in 64 hex digits", "file=%s", path);
            continue;
        }
        if (count == alloc) {
            alloc = alloc? 2 * alloc: 8;
            entries = realloc (entries, alloc * sizeof *entries);
        }
        //  A valid name fits (dt_token_name_valid)
        memcpy (entries [count].name, entry->d_name, strlen (entry->d_name) + 1);
        memcpy (entries [count].digest, digest, 32);
        count++;
    }
    closedir (handle);
    free (self->entries);
    self->entries = entries;
    self->count = count;
    self->signature = signature;
    return (int) count;
}

dt_tokens_t *
dt_tokens_new (const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (!dir || stat (dir, &st) || !S_ISDIR (st.st_mode)) {
        snprintf (err, errlen, "the token directory %s does not exist", dir? dir: "(none)");
        return NULL;
    }
    dt_tokens_t *self = calloc (1, sizeof *self);
    self->dir = strdup (dir);
    pthread_mutex_init (&self->lock, NULL);
    if (s_load (self) < 0) {
        snprintf (err, errlen, "can not read the token directory %s: %s", dir, strerror (errno));
        dt_tokens_destroy (&self);
        return NULL;
    }
    self->looked_at = dt_mono_ms ();
    dt_info ("token directory read", "dir=%s tokens=%zu", dir, self->count);
    return self;
}

void
dt_tokens_destroy (dt_tokens_t **self_p)
{
    if (*self_p) {
        dt_tokens_t *self = *self_p;
        pthread_mutex_destroy (&self->lock);
        free (self->entries);
        free (self->dir);
        free (self);
        *self_p = NULL;
    }
}

int
dt_tokens_reload (dt_tokens_t *self)
{
    pthread_mutex_lock (&self->lock);
    int count = s_load (self);
    self->looked_at = dt_mono_ms ();
    pthread_mutex_unlock (&self->lock);
    return count;
}

int
dt_tokens_check (dt_tokens_t *self, const char *token, size_t len, char *name, size_t namelen)
{
    unsigned char digest [32];
    s_sha256 (token, len, digest);
    pthread_mutex_lock (&self->lock);
    int64_t now = dt_mono_ms ();
    if (now - self->looked_at >= 1000) {
        self->looked_at = now;
        if (s_signature (self->dir) != self->signature) {
            int count = s_load (self);
            dt_info ("token directory changed: re-read", "dir=%s tokens=%d", self->dir, count);
        }
    }
    //  Every entry compared whole, without an early exit, so the time taken
    //  tells nothing about which hash or how much of one matched
    size_t found = self->count;
    for (size_t i = 0; i < self->count; i++) {
        unsigned char diff = 0;
        for (int b = 0; b < 32; b++)
            diff |= (unsigned char) (self->entries [i].digest [b] ^ digest [b]);
        size_t same = (size_t) 0 - (size_t) (diff == 0);    //  all ones when equal
        found = (found & ~same) | (i & same);
    }
    int rc = -1;
    if (found < self->count) {
        snprintf (name, namelen, "%s", self->entries [found].name);
        rc = 0;
    }
    pthread_mutex_unlock (&self->lock);
    return rc;
}
