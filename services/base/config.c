/*  config.c - flags > environment > file > defaults (see config.h)
*/
#include "base/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const dt_option_t *option;
    char *value;
    const char *origin;
} entry_t;

struct _dt_config_t {
    entry_t *entries;
    int count;
};

static entry_t *
s_find (dt_config_t *self, const char *key, size_t len)
{
    for (int i = 0; i < self->count; i++)
        if (strlen (self->entries [i].option->key) == len
        &&  memcmp (self->entries [i].option->key, key, len) == 0)
            return &self->entries [i];
    return NULL;
}

static void
s_set (entry_t *entry, const char *value, const char *origin)
{
    free (entry->value);
    entry->value = strdup (value);
    entry->origin = origin;
}

static void
s_env_name (const char *key, char *name, size_t size)
{
    size_t len = (size_t) snprintf (name, size, "DT_%s", key);
    for (size_t i = 3; i < len && i < size; i++)
        name [i] = (name [i] == '.' || name [i] == '-')? '_': (char) toupper ((unsigned char) name [i]);
}

static void
s_usage (const char *program, const char *summary, const dt_option_t *options)
{
    printf ("Usage: %s [--KEY=VALUE]... [--config FILE]\n%s\n\n", program, summary);
    printf ("Each option is also read from the environment (DT_KEY, dots as _) and\n"
            "from a config file of 'key = value' lines; flags win over the\n"
            "environment, which wins over the file.\n\n");
    for (const dt_option_t *o = options; o->key; o++) {
        char name [96];
        s_env_name (o->key, name, sizeof name);
        printf ("  --%-22s %s\n  %-24s env %s, default \"%s\"\n", o->key, o->help, "", name, o->value);
    }
    printf ("  --%-22s %s\n  --%-22s %s\n  --%-22s %s\n", "config FILE",
            "read options from FILE (env DT_CONFIG)", "help", "show this", "version",
            "print the version");
}

static int
s_load_file (dt_config_t *self, const char *path)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        fprintf (stderr, "config: can not open %s: %s\n", path, strerror (errno));
        return -1;
    }
    char line [4096];
    int number = 0;
    while (fgets (line, sizeof line, file)) {
        number++;
        char *start = line;
        while (isspace ((unsigned char) *start))
            start++;
        if (*start == '#' || *start == 0)
            continue;
        char *equals = strchr (start, '=');
        if (!equals) {
            fprintf (stderr, "config: %s:%d: expected 'key = value'\n", path, number);
            fclose (file);
            return -1;
        }
        char *key_end = equals;
        while (key_end > start && isspace ((unsigned char) key_end [-1]))
            key_end--;
        char *value = equals + 1;
        while (isspace ((unsigned char) *value))
            value++;
        char *value_end = value + strlen (value);
        while (value_end > value && isspace ((unsigned char) value_end [-1]))
            *--value_end = 0;
        entry_t *entry = s_find (self, start, (size_t) (key_end - start));
        if (!entry) {
            fprintf (stderr, "config: %s:%d: unknown key '%.*s'\n", path, number,
                     (int) (key_end - start), start);
            fclose (file);
            return -1;
        }
        s_set (entry, value, "file");
    }
    fclose (file);
    return 0;
}

dt_config_t *
dt_config_new (const char *program, const char *summary, const dt_option_t *options,
               int argc, char **argv, int *exit_code)
{
    dt_config_t *self = calloc (1, sizeof *self);
    for (const dt_option_t *o = options; o->key; o++)
        self->count++;
    self->entries = calloc ((size_t) self->count, sizeof (entry_t));
    for (int i = 0; i < self->count; i++) {
        self->entries [i].option = &options [i];
        s_set (&self->entries [i], options [i].value, "default");
    }
    *exit_code = 2;

    //  First pass: --help, --version and --config, which decide what follows
    const char *config_path = getenv ("DT_CONFIG");
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv [i], "--help") == 0 || strcmp (argv [i], "-h") == 0) {
            s_usage (program, summary, options);
            *exit_code = 0;
            goto fail;
        }
        if (strcmp (argv [i], "--version") == 0) {
            printf ("%s %s\n", program, DT_VERSION);
            *exit_code = 0;
            goto fail;
        }
        if (strcmp (argv [i], "--config") == 0 && i + 1 < argc)
            config_path = argv [i + 1];
        else
        if (strncmp (argv [i], "--config=", 9) == 0)
            config_path = argv [i] + 9;
    }
    if (config_path && *config_path && s_load_file (self, config_path))
        goto fail;
    for (int i = 0; i < self->count; i++) {
        char name [96];
        s_env_name (self->entries [i].option->key, name, sizeof name);
        const char *value = getenv (name);
        if (value)
            s_set (&self->entries [i], value, "env");
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv [i];
        if (strncmp (arg, "--", 2) != 0) {
            fprintf (stderr, "%s: unexpected argument '%s' (see --help)\n", program, arg);
            goto fail;
        }
        arg += 2;
        const char *equals = strchr (arg, '=');
        size_t key_len = equals? (size_t) (equals - arg): strlen (arg);
        const char *value = equals? equals + 1: NULL;
        if (!value) {
            if (i + 1 >= argc) {
                fprintf (stderr, "%s: --%s needs a value\n", program, arg);
                goto fail;
            }
            value = argv [++i];
        }
        if (key_len == 6 && strncmp (arg, "config", 6) == 0)
            continue;
        entry_t *entry = s_find (self, arg, key_len);
        if (!entry) {
            fprintf (stderr, "%s: unknown option --%.*s (see --help)\n", program,
                     (int) key_len, arg);
            goto fail;
        }
        s_set (entry, value, "flag");
    }
    *exit_code = 0;
    return self;
fail:
    dt_config_destroy (&self);
    return NULL;
}

void
dt_config_destroy (dt_config_t **self_p)
{
    if (*self_p) {
        dt_config_t *self = *self_p;
        for (int i = 0; i < self->count; i++)
            free (self->entries [i].value);
        free (self->entries);
        free (self);
        *self_p = NULL;
    }
}

const char *
dt_config_get (dt_config_t *self, const char *key)
{
    entry_t *entry = s_find (self, key, strlen (key));
    return entry? entry->value: "";
}

const char *
dt_config_origin (dt_config_t *self, const char *key)
{
    entry_t *entry = s_find (self, key, strlen (key));
    return entry? entry->origin: "none";
}

int64_t
dt_config_int (dt_config_t *self, const char *key)
{
    const char *value = dt_config_get (self, key);
    char *end;
    errno = 0;
    long long number = strtoll (value, &end, 10);
    if (errno || end == value || *end) {
        fprintf (stderr, "config: %s must be an integer, got '%s'\n", key, value);
        exit (2);
    }
    return number;
}
