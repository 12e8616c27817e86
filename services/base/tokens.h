/*  tokens.h - who may publish over HTTP: bearer tokens, one per publishing
    system, kept as SHA-256 hashes in a directory (the HTTP ingress's
    counterpart of the CURVE allow-list, services/base/curve.h).

    The directory holds one file per system, named after it (1-64 bytes of
    A-Z a-z 0-9 . _ -, not starting with a dot); the file holds the token's
    SHA-256 as 64 hex digits (`dualtrack token new NAME DIR` makes both).
    Other files are skipped with a log line. The directory is re-read when
    it changes (looked at, at most once a second, by the next check) and at
    once on dt_tokens_reload (SIGHUP). Thread-safe: the HTTP threads check,
    the daemon's loop reloads.
*/
#ifndef DT_TOKENS_H
#define DT_TOKENS_H

#include <stddef.h>

#define DT_TOKEN_NAME_MAX   64
#define DT_TOKEN_BYTES      32          //  random bytes in a token made here

typedef struct _dt_tokens_t dt_tokens_t;

//  Read the directory. NULL with err if it does not exist or can not be read.
dt_tokens_t *dt_tokens_new (const char *dir, char *err, size_t errlen);
void dt_tokens_destroy (dt_tokens_t **self_p);

//  The system holding this token: 0 with its name in name (namelen bytes,
//  at least DT_TOKEN_NAME_MAX + 1), or -1. Every known hash is compared in
//  constant time, whichever matches.
int dt_tokens_check (dt_tokens_t *self, const char *token, size_t len, char *name, size_t namelen);

//  Re-read the directory now. Returns the number of tokens, or -1 (logged;
//  the tokens read before stay).
int dt_tokens_reload (dt_tokens_t *self);

//  The SHA-256 of a token as 64 lowercase hex digits and a NUL
void dt_token_hash_hex (const char *token, size_t len, char hex [65]);

//  A new random token: "dt_" and 2 * DT_TOKEN_BYTES hex digits, with a NUL
//  (size DT_TOKEN_TEXT). 0, or -1 if the system gave no randomness.
#define DT_TOKEN_TEXT   (3 + 2 * DT_TOKEN_BYTES + 1)
int dt_token_new (char token [DT_TOKEN_TEXT]);

//  A name a token file may have (see above)
int dt_token_name_valid (const char *name);

#endif
