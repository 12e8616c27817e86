/*  normalise.h - how the rules compare a buyer's ids: ids that differ only
    in writing are one id. Pure, no state; the alias maps (rules/identity.h)
    normalise their rows and every id looked up with it.

    Normalisation:
      - an e-mail address (one '@' with text on both sides, no white space
        inside once trimmed) is trimmed of white space and case-folded as a
        whole with Unicode simple case folding (base/utf8.h; for an ASCII
        address this is lower case). The domain is case-insensitive by DNS;
        the local part is case-sensitive by RFC 5321 in theory, but no mail
        system in use treats it so, and two tracks writing Bob@ and bob@
        mean one person.
      - a phone number (once trimmed: starts with '+' or a digit and holds
        only digits, spaces, dashes, dots and parentheses, '+' only first)
        is reduced to its leading '+', if any, and its digits:
        "+49 (30) 123-45.67" becomes "+49301234567".
      - any other id (a CRM id, a domain used as an account id) is compared
        exactly, as sent.
*/
#ifndef DT_NORMALISE_H
#define DT_NORMALISE_H

#include "proto/event.h"

//  The longest alias, canonical id or source a row may hold, in bytes
#define DT_IDENTITY_ID_MAX      DT_TEXT_MAX
//  The longest normalised id (folding may lengthen UTF-8 by half)
#define DT_IDENTITY_NORM_MAX    (DT_TEXT_MAX * 3 / 2 + 4)

//  Normalise id as above, whatever a map's setting for its kind. Writes the
//  result to out (DT_IDENTITY_NORM_MAX bytes) when it differs; returns the
//  result, which points into id or out. Ids longer than DT_IDENTITY_ID_MAX
//  are returned as they are.
dt_str_t dt_identity_normalise (dt_str_t id, char *out);

//  The same, and dt_hash (seed 0) of the result in *hash: for most ids one
//  pass over the bytes does both (a lookup's first step)
dt_str_t dt_identity_normalise_hash (dt_str_t id, char *out, uint64_t *hash);

#endif
