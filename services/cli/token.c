/*  token.c - `dualtrack token new NAME DIR`: a bearer token for a system
    that publishes over HTTP (services/base/tokens.h). The token is printed
    once, on stdout; DIR/NAME gets only its SHA-256, so the directory the
    track daemons read holds nothing a publisher could use.
*/
#include "cli/cli.h"
#include "base/tokens.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
s_usage (int rc)
{
    printf ("Usage: dualtrack token new NAME DIR\n"
            "Makes a bearer token for the publishing system NAME (A-Z a-z 0-9 . _ -,\n"
            "at most 64) and writes its SHA-256 to DIR/NAME, the track daemons'\n"
            "--http.tokens directory (re-read when it changes). Prints the token once:\n"
            "give it to the system, which sends 'Authorization: Bearer TOKEN'.\n"
            "Refuses to replace an existing DIR/NAME: delete it first to revoke.\n");
    return rc;
}

int
dt_cli_token (int argc, char *argv [])
{
    if (argc >= 2 && (strcmp (argv [1], "--help") == 0 || strcmp (argv [1], "-h") == 0))
        return s_usage (0);
    if (argc != 4 || strcmp (argv [1], "new") != 0)
        return s_usage (2);
    const char *name = argv [2], *dir = argv [3];
    if (!dt_token_name_valid (name)) {
        fprintf (stderr, "token: bad name \"%s\": 1 to %d of A-Z a-z 0-9 . _ -, not starting with '.'\n",
                 name, DT_TOKEN_NAME_MAX);
        return 2;
    }
    if (mkdir (dir, 0755) && errno != EEXIST) {
        fprintf (stderr, "token: can not create %s: %s\n", dir, strerror (errno));
        return 2;
    }
    char token [DT_TOKEN_TEXT], hex [65], path [4096];
    if (dt_token_new (token)) {
        fprintf (stderr, "token: no randomness from the system\n");
        return 2;
    }
    dt_token_hash_hex (token, strlen (token), hex);
    snprintf (path, sizeof path, "%s/%s", dir, name);
    //  Written beside, then renamed: a daemon never reads half a file
    char temp [4200];
    snprintf (temp, sizeof temp, "%s/.%s.new", dir, name);
    int fd = open (temp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || dprintf (fd, "%s\n", hex) != 65 || fsync (fd) || close (fd)) {
        fprintf (stderr, "token: can not write %s: %s\n", temp, strerror (errno));
        unlink (temp);
        return 2;
    }
    if (link (temp, path)) {        //  fails if path exists: no silent replacement
        fprintf (stderr, "token: can not create %s: %s\n", path, strerror (errno));
        unlink (temp);
        return 2;
    }
    unlink (temp);
    printf ("%s\n", token);
    fprintf (stderr, "token: %s holds the hash of a new token for %s (printed once, above)\n", path, name);
    return 0;
}
