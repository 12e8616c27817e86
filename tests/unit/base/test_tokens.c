/*  test_tokens.c - bearer tokens (services/base/tokens.c): SHA-256 against
    the FIPS 180-2 example, new tokens' form, file names, and a directory
    read, checked, changed and re-read.
*/
#include "base/tokens.h"
#include "unit/testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void
s_write (const char *dir, const char *name, const char *text)
{
    char path [512];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen (path, "w");
    fputs (text, file);
    fclose (file);
}

int
main (void)
{
    char hex [65];
    dt_token_hash_hex ("abc", 3, hex);
    CHECK_STR (hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    char token [DT_TOKEN_TEXT], other [DT_TOKEN_TEXT];
    CHECK_INT (dt_token_new (token), 0);
    CHECK_INT (dt_token_new (other), 0);
    CHECK_INT ((int) strlen (token), DT_TOKEN_TEXT - 1);
    CHECK (strncmp (token, "dt_", 3) == 0 && strcmp (token, other) != 0);

    CHECK (dt_token_name_valid ("crm-system_2.eu"));
    CHECK (!dt_token_name_valid (""));
    CHECK (!dt_token_name_valid (".hidden"));
    CHECK (!dt_token_name_valid ("a/b"));
    CHECK (!dt_token_name_valid ("caf\xc3\xa9"));

    char dir [] = "/tmp/dt-tokens-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    char line [80];
    dt_token_hash_hex (token, strlen (token), hex);
    snprintf (line, sizeof line, "  %s\n", hex);
    s_write (dir, "crm", line);
    s_write (dir, "broken", "not a hash\n");
    char err [256], name [DT_TOKEN_NAME_MAX + 1];
    CHECK (dt_tokens_new ("/nonexistent/dir", err, sizeof err) == NULL);
    dt_tokens_t *tokens = dt_tokens_new (dir, err, sizeof err);
    CHECK (tokens != NULL);
    CHECK_INT (dt_tokens_check (tokens, token, strlen (token), name, sizeof name), 0);
    CHECK_STR (name, "crm");
    CHECK_INT (dt_tokens_check (tokens, other, strlen (other), name, sizeof name), -1);
    CHECK_INT (dt_tokens_check (tokens, token, strlen (token) - 1, name, sizeof name), -1);
    CHECK_INT (dt_tokens_check (tokens, hex, 64, name, sizeof name), -1);    //  the hash is no token

    //  A second system, seen after a reload; a deleted file revokes
    dt_token_hash_hex (other, strlen (other), hex);
    s_write (dir, "erp", hex);
    CHECK_INT (dt_tokens_reload (tokens), 2);
    CHECK_INT (dt_tokens_check (tokens, other, strlen (other), name, sizeof name), 0);
    CHECK_STR (name, "erp");
    char path [512];
    snprintf (path, sizeof path, "%s/crm", dir);
    unlink (path);
    CHECK_INT (dt_tokens_reload (tokens), 1);
    CHECK_INT (dt_tokens_check (tokens, token, strlen (token), name, sizeof name), -1);
    dt_tokens_destroy (&tokens);
    dt_tokens_destroy (&tokens);
    CHECK (tokens == NULL);

    snprintf (path, sizeof path, "%s/erp", dir);
    unlink (path);
    snprintf (path, sizeof path, "%s/broken", dir);
    unlink (path);
    rmdir (dir);
    return TESTING_DONE ();
}
