/*  envelope.h - the ROUTER side of a request/reply: who asked (the routing
    id), and whether a REQ client put an empty delimiter before its payload,
    so the reply goes back in the same envelope. Shared by the ingress of the
    tracks and the coordinator's check API.
*/
#ifndef DT_ENVELOPE_H
#define DT_ENVELOPE_H

#include <czmq.h>
#include <stdbool.h>

//  Pop the routing id (returned, the caller owns it) and, from a REQ
//  client, the empty delimiter; what is left in msg is the payload
zframe_t *dt_envelope_open (zmsg_t *msg, bool *req_envelope);

//  Send a reply of one frame in the envelope; takes the identity. Returns 0,
//  or -1 if the peer is gone (ROUTER_MANDATORY) or would block.
int dt_envelope_reply (zsock_t *router, zframe_t **identity_p, bool req_envelope,
                       const void *data, size_t size);

#endif
