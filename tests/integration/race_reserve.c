/*  race_reserve.c - two check clients race for the last slot (reserve.sh):
    two processes, each with its own DEALER socket to the check API, are
    released at the same moment ROUNDS times; in round r both ask to reserve
    a touch of contact "race-r" (a fresh contact whose budget the
    coordinator's caps allow one touch a day). The parent tallies each
    round and prints "rounds N one N both N none N errors N"; tokens of the
    winners go to TOKENS, one per line, for the test to compare with the
    store.
    Usage: race_reserve CHECK_ENDPOINT ROUNDS TOKENS
*/
#include "proto/link.h"
#include "base/buf.h"

#include <czmq.h>
#include <sys/wait.h>
#include <unistd.h>

//  A child: per round, wait for the go byte, reserve, report one line
static int
s_client (const char *endpoint, int id, int rounds, int go_fd, int report_fd)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_rcvtimeo (dealer, 10000);
    if (zsock_connect (dealer, "%s", endpoint) < 0)
        return 1;
    dt_buf_t frame = { 0 };
    char contact [32], owner [24], line [160];
    snprintf (owner, sizeof owner, "racer-%d", id);
    for (int round = 0; round < rounds; round++) {
        char go;
        if (read (go_fd, &go, 1) != 1)
            break;
        snprintf (contact, sizeof contact, "race-%d", round);
        dt_buf_reset (&frame);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &frame, dt_buf_msgpack_write);
        dt_check_options_t options = { true, DT_TTL_MS_DEFAULT, 0, dt_str_c (owner) };
        dt_check_request_pack_head (&pk, (uint64_t) round, id? "sales": "marketing", &options);
        msgpack_pack_map (&pk, 8);
        const char *fields [][2] = {
            { "id", "planned" }, { "source", "race" }, { "account", "race.example" },
            { "contact", contact }, { "stage", id? "intent": "awareness" },
            { "channel", id? "phone": "email" }, { "kind", "note" }
        };
        for (int f = 0; f < 7; f++) {
            dt_pack_cstr (&pk, fields [f][0]);
            dt_pack_cstr (&pk, fields [f][1]);
        }
        dt_pack_cstr (&pk, "occurred_at");
        msgpack_pack_int64 (&pk, 1780304400000LL);     //  1 June 2026 09:00 UTC
        zframe_t *request = zframe_new (frame.data, frame.size);
        zframe_send (&request, dealer, 0);
        zframe_t *reply = zframe_recv (dealer);
        const char *result = "error -";
        char token [DT_TOKEN_MAX + 16];
        msgpack_unpacked answer;
        msgpack_unpacked_init (&answer);
        dt_error_t err;
        dt_check_reply_t opened;
        if (reply
        &&  dt_wire_unpack (&answer, (const char *) zframe_data (reply), zframe_size (reply), &err) == 0
        &&  dt_check_reply_open (&answer.data, &opened) == 0 && !opened.error) {
            if (opened.reservation.len) {
                snprintf (token, sizeof token, "held %.*s", (int) opened.reservation.len,
                          opened.reservation.ptr);
                result = token;
            }
            else
                result = "refused -";
        }
        snprintf (line, sizeof line, "%d %s\n", round, result);
        msgpack_unpacked_destroy (&answer);
        zframe_destroy (&reply);
        if (write (report_fd, line, strlen (line)) != (ssize_t) strlen (line))
            break;
    }
    dt_buf_free (&frame);
    zsock_destroy (&dealer);
    return 0;
}

int
main (int argc, char *argv [])
{
    if (argc != 4) {
        fprintf (stderr, "usage: race_reserve CHECK_ENDPOINT ROUNDS TOKENS\n");
        return 2;
    }
    int rounds = atoi (argv [2]);
    FILE *tokens = fopen (argv [3], "w");
    if (!tokens || rounds <= 0)
        return 2;
    int go [2][2], report [2][2];
    pid_t pids [2];
    for (int c = 0; c < 2; c++) {
        if (pipe (go [c]) || pipe (report [c]))
            return 2;
        pids [c] = fork ();
        if (pids [c] == 0) {
            close (go [c][1]);
            close (report [c][0]);
            _exit (s_client (argv [1], c, rounds, go [c][0], report [c][1]));
        }
        close (go [c][0]);
        close (report [c][1]);
    }
    FILE *from [2] = { fdopen (report [0][0], "r"), fdopen (report [1][0], "r") };
    int one = 0, both = 0, none = 0, errors = 0;
    for (int round = 0; round < rounds; round++) {
        //  Both released together: one write each, back to back
        if (write (go [0][1], "g", 1) != 1 || write (go [1][1], "g", 1) != 1)
            return 2;
        int held = 0;
        for (int c = 0; c < 2; c++) {
            char line [160], result [16] = "", token [DT_TOKEN_MAX + 1] = "";
            int got_round = -1;
            if (!fgets (line, sizeof line, from [c])
            ||  sscanf (line, "%d %15s %64s", &got_round, result, token) != 3
            ||  got_round != round || strcmp (result, "error") == 0) {
                errors++;
                continue;
            }
            if (strcmp (result, "held") == 0) {
                held++;
                fprintf (tokens, "%s\n", token);
            }
        }
        one += held == 1;
        both += held == 2;
        none += held == 0;
    }
    for (int c = 0; c < 2; c++) {
        close (go [c][1]);
        waitpid (pids [c], NULL, 0);
        fclose (from [c]);
    }
    fclose (tokens);
    printf ("rounds %d one %d both %d none %d errors %d\n", rounds, one, both, none, errors);
    return 0;
}
