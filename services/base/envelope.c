/*  envelope.c - see envelope.h
*/
#include "base/envelope.h"

zframe_t *
dt_envelope_open (zmsg_t *msg, bool *req_envelope)
{
    zframe_t *identity = zmsg_pop (msg);
    *req_envelope = false;
    zframe_t *first = zmsg_first (msg);
    if (first && zframe_size (first) == 0 && zmsg_size (msg) > 1) {
        zframe_t *delimiter = zmsg_pop (msg);
        zframe_destroy (&delimiter);
        *req_envelope = true;
    }
    return identity;
}

int
dt_envelope_reply (zsock_t *router, zframe_t **identity_p, bool req_envelope,
                   const void *data, size_t size)
{
    zmsg_t *reply = zmsg_new ();
    zmsg_append (reply, identity_p);
    if (req_envelope)
        zmsg_addmem (reply, NULL, 0);
    zmsg_addmem (reply, data, size);
    if (zmsg_send (&reply, router) < 0) {
        zmsg_destroy (&reply);
        return -1;
    }
    return 0;
}
