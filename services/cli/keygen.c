/*  keygen.c - `dualtrack keygen`: CURVE certificates for daemons and
    clients, and the client side of CURVE for the other subcommands.
*/
#include "cli/cli.h"
#include "base/curve.h"

#include <getopt.h>
#include <stdio.h>

int
dt_cli_keygen (int argc, char *argv [])
{
    const char *dir = "keys";
    static struct option longopts [] = {
        { "dir", required_argument, 0, 'd' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long (argc, argv, "d:h", longopts, NULL)) != -1) {
        if (opt == 'd')
            dir = optarg;
        else {
            printf ("Usage: dualtrack keygen [--dir DIR] NAME...\n"
                    "Writes DIR/NAME.cert (public: copy it into the allow-list directory of\n"
                    "the servers NAME may connect to, or give it to clients as the server\n"
                    "key) and DIR/NAME.cert_secret (keep it private: mode 0600).\n");
            return opt == 'h'? 0: 2;
        }
    }
    if (optind >= argc) {
        fprintf (stderr, "keygen: name at least one certificate\n");
        return 2;
    }
    if (zsys_dir_create ("%s", dir)) {
        fprintf (stderr, "keygen: can not create %s\n", dir);
        return 2;
    }
    for (int i = optind; i < argc; i++) {
        char path [1024];
        snprintf (path, sizeof path, "%s/%s.cert", dir, argv [i]);
        zcert_t *cert = zcert_new ();
        zcert_set_meta (cert, "name", "%s", argv [i]);
        zcert_set_meta (cert, "made-by", "dualtrack keygen");
        //  zcert_save writes the secret twin with mode 0600
        if (zcert_save (cert, path)) {
            fprintf (stderr, "keygen: can not write %s\n", path);
            zcert_destroy (&cert);
            return 2;
        }
        printf ("%s  public key %s\n", path, zcert_public_txt (cert));
        zcert_destroy (&cert);
    }
    return 0;
}

int
dt_cli_secure (zsock_t *sock, const char *cert, const char *server_cert)
{
    if (!cert && !server_cert)
        return 0;
    if (!cert || !server_cert) {
        fprintf (stderr, "CURVE needs both --cert (yours) and --server-cert (the server's)\n");
        return -1;
    }
    char err [512];
    dt_curve_t *curve = dt_curve_new (cert, NULL, err, sizeof err);
    int rc = curve? dt_curve_client (curve, sock, server_cert, err, sizeof err): -1;
    if (rc)
        fprintf (stderr, "%s\n", err);
    dt_curve_destroy (&curve);
    return rc;
}
