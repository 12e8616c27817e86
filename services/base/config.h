/*  config.h - daemon configuration from flags, environment and an optional
    file, in that precedence, over documented defaults.

    Each program declares its options once (key, default, help); the same
    table drives parsing, --help and the env names: key "pg.uri" is the flag
    --pg.uri, the variable DT_PG_URI and the file line "pg.uri = ...".
*/
#ifndef DT_CONFIG_H
#define DT_CONFIG_H

#include <stdint.h>

typedef struct {
    const char *key;
    const char *value;      //  default
    const char *help;
} dt_option_t;

typedef struct _dt_config_t dt_config_t;

//  Parse. options ends with a {NULL} entry. Returns NULL when the program
//  should exit at once with *exit_code: 0 after --help or --version, 2 after
//  a usage error (already printed to stderr).
dt_config_t *dt_config_new (const char *program, const char *summary,
                            const dt_option_t *options, int argc, char **argv,
                            int *exit_code);
void dt_config_destroy (dt_config_t **self_p);

//  The value of a declared key (never NULL)
const char *dt_config_get (dt_config_t *self, const char *key);

//  The value as an integer; exits with a message if it is not one
int64_t dt_config_int (dt_config_t *self, const char *key);

//  Where a key's value came from: "flag", "env", "file" or "default"
const char *dt_config_origin (dt_config_t *self, const char *key);

#define DT_VERSION "0.1.0"

#endif
