/*  signals.c - see signals.h
*/
#include "base/signals.h"

#include <czmq.h>
#include <pthread.h>
#include <string.h>

volatile sig_atomic_t dt_stop_requests = 0;
volatile sig_atomic_t dt_reload_requested = 0;

static void
s_on_stop (int signum)
{
    (void) signum;
    dt_stop_requests++;
}

static void
s_on_hup (int signum)
{
    (void) signum;
    dt_reload_requested = 1;
}

void
dt_signals_install (void)
{
    zsys_handler_set (NULL);
    struct sigaction action;
    memset (&action, 0, sizeof action);
    sigemptyset (&action.sa_mask);
    action.sa_handler = s_on_stop;
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGINT, &action, NULL);
    action.sa_handler = s_on_hup;
    sigaction (SIGHUP, &action, NULL);
    signal (SIGPIPE, SIG_IGN);
}

void
dt_signals_block_thread (void)
{
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGTERM);
    sigaddset (&signals, SIGINT);
    sigaddset (&signals, SIGHUP);
    pthread_sigmask (SIG_BLOCK, &signals, NULL);
}
