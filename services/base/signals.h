/*  signals.h - SIGTERM/SIGINT and SIGHUP as flags the poll loops read.

    We take the signals from czmq (zsys_handler_set (NULL)) because after its
    handler fires every zpoller stops at once, and a daemon that drains on the
    first SIGTERM (as PgBouncer does) must keep polling its sockets.
*/
#ifndef DT_SIGNALS_H
#define DT_SIGNALS_H

#include <signal.h>

//  Number of SIGTERM/SIGINT received: 1 = drain and exit, 2 = exit now
extern volatile sig_atomic_t dt_stop_requests;
//  Set by SIGHUP; the daemon's loop clears it when it has re-read its
//  CURVE allow-list (docs/operations.md)
extern volatile sig_atomic_t dt_reload_requested;

//  Install the handlers; call before any czmq socket is made
void dt_signals_install (void);

//  Call first in every thread but the main loop's (actors): the signals then
//  go to the main thread, whose loop reads the flags at once. An actor's
//  poll or receive that a signal interrupted would take it for its end.
void dt_signals_block_thread (void);

#endif
