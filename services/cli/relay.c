/*  relay.c - `dualtrack relay`: the decisions feed out as webhooks. A
    long-running daemon (config by flags, environment or file; logfmt logs;
    SIGTERM stops it cleanly; /healthz, /readyz and /metrics) that follows
    the feed with catch-up (follow.c, the same path as `dualtrack watch
    --cursor`), keeps the verdicts that match its topic prefixes, verdicts
    and rules, and POSTs each as JSON to every URL (libcurl), with the
    touchpoint id as Idempotency-Key (proto/PROTOCOL.md, "Webhooks").

    Delivery is at least once and in seq order (so in order per account):
    a verdict goes to every live URL before the next one, and a failed POST
    is tried again after an exponential backoff with jitter, or after the
    receiver's Retry-After when that is longer (relaypolicy.c). A URL that
    fails attempts times in a row, or for park.ms, at one verdict is parked
    (a log line, a metric) and the others go on without it. Each URL keeps
    its own cursor (relaycursor.c): a parked one stays before the verdict it
    failed, and is probed again after probe.ms (doubling up to probe.max_ms)
    with that verdict; when it answers, it is unparked and catches up from
    its own cursor through the catch-up API (a follower of its own, without
    the live feed), in order, then rejoins the live feed. The catch-up goes
    a page (BEHIND_PAGE verdicts) per turn of the relay's one thread, so
    the live URLs wait at most a page's POSTs, not the whole catch-up.
*/
#include "cli/cli.h"
#include "cli/follow.h"
#include "cli/relaycursor.h"
#include "cli/relaymsg.h"
#include "cli/relaypolicy.h"
#include "cli/topics.h"
#include "base/buf.h"
#include "base/config.h"
#include "base/httpd.h"
#include "base/jsonmp.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/signals.h"

#include <curl/curl.h>
#include <czmq.h>
#include <errno.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define TARGETS_MAX 16
//  Verdicts a URL behind catches up by, between the live feed's turns
#define BEHIND_PAGE 100

//  A URL behind: its own follower of the catch-up API, from its cursor
typedef struct s_behind s_behind_t;
struct s_behind {
    struct s_relay *relay;
    struct s_target *target;
    dt_follow_t *follow;        //  NULL between attempts
    int passes;                 //  catch-ups that ended short of the live feed
};

static const dt_option_t s_options [] = {
    { "urls", "", "where to POST, separated by spaces or commas (http or https); "
      "a URL written slack:URL gets a Slack-compatible body {\"text\": ...} (required)" },
    { "decisions", "tcp://127.0.0.1:7710", "the coordinator's decisions feed" },
    { "catchup", "tcp://127.0.0.1:7712", "the coordinator's catch-up API" },
    { "cursor", "relay.cursor", "file keeping each URL's last seq (and the seq every URL has)" },
    { "since", "0", "without a cursor file: start after this seq (0: every stored verdict)" },
    { "topics", "", "topic prefixes, separated by spaces or commas (sales. marketing.violation); "
      "none: every verdict topic (advisory.* only when named)" },
    { "verdicts", "warn,violation", "the verdicts relayed (ok, warn, violation; all: every one)" },
    { "rules", "", "relay only verdicts with a finding of one of these rules (none: any)" },
    { "attempts", "8", "park a URL after this many failed attempts at one verdict" },
    { "park.ms", "60000", "or after failing this long at one verdict" },
    { "probe.ms", "300000", "probe a parked URL again after this long (0: parked until restart)" },
    { "probe.max_ms", "3600000", "the probe period doubles while probes fail, up to this" },
    { "backoff.ms", "200", "the first retry's delay; it doubles each time, with jitter" },
    { "backoff.max_ms", "10000", "the longest delay between retries" },
    { "timeout.ms", "10000", "one POST's time limit" },
    { "http", "127.0.0.1:9730", "health (/healthz, /readyz) and /metrics on HOST:PORT; off: none" },
    { "security", "curve", "curve (encrypted, this relay on the coordinator's allow-list) or plain" },
    { "curve.cert", "keys/relay.cert", "the relay's certificate from dualtrack keygen" },
    { "curve.coordinator", "keys/coordinator.cert", "the coordinator's public certificate" },
    { "log.level", "info", "debug, info, warn or error" },
    { NULL, NULL, NULL }
};

typedef struct s_target {
    char *url;
    char label [12];                //  "1", "2"...: the metrics' label (URLs may hold secrets)
    char where [128];               //  scheme://host[:port] for the logs
    uint64_t key;                   //  dt_relay_url_key of the URL as configured
    bool slack;
    //  Its own position: off the live feed (behind) it has everything up
    //  to cursor; on it, cursor only says what it had at start (it skips
    //  those seqs) and the live feed's position is its own
    uint64_t cursor;
    bool behind;                    //  parked, or unparked and not caught up yet
    bool parked;
    int64_t parked_at;              //  zclock_mono of the park
    int64_t next_try;               //  zclock_mono: the next probe, or catch-up attempt
    int64_t probe_period;           //  ms until the next probe after a failed one
    int64_t retry_after_ms;         //  the last answer's Retry-After, -1: none
    CURL *curl;                     //  one handle per URL keeps its connection open
    s_behind_t catching;            //  behind: its catch-up, a page per turn
} s_target_t;

typedef struct s_relay {
    s_target_t targets [TARGETS_MAX];
    int count;
    dt_relay_filter_t filter;
    int64_t attempts, park_ms, probe_ms, probe_max_ms, backoff_ms, backoff_max_ms, timeout_ms;
    dt_follow_opts_t opts;          //  the live follower's; a parked URL's catch-up borrows them
    dt_follow_t *follow;            //  the live follower
    const char *cursor_path;
    char *saved;                    //  the cursor file's text last written
    int64_t saved_at;
    atomic_int parked;
    atomic_bool caught_up;
    dt_metrics_t *metrics;
    dt_counter_t *delivered;        //  by url
    dt_counter_t *failures;         //  by url
    dt_counter_t *parks;            //  by url
    dt_counter_t *probes;           //  by url
    dt_counter_t *unparks;          //  by url
    dt_counter_t *retry_afters;     //  by url: waits the receiver's Retry-After made longer
    dt_counter_t *skipped;          //  filtered out
    dt_gauge_t *parked_gauge;
    dt_gauge_t *last_gauge;
    dt_gauge_t *cursor_gauge;
} s_relay_t;

static size_t
s_discard (char *data, size_t size, size_t count, void *ctx)
{
    (void) data;
    (void) ctx;
    return size * count;
}

//  Each header line of an answer: keep its Retry-After (a new status line,
//  after a redirect or a 100 Continue, forgets the one before)
static size_t
s_header (char *data, size_t size, size_t count, void *ctx)
{
    s_target_t *target = ctx;
    size_t len = size * count;
    if (len >= 5 && memcmp (data, "HTTP/", 5) == 0)
        target->retry_after_ms = -1;
    else
    if (len > 12 && strncasecmp (data, "Retry-After:", 12) == 0)
        target->retry_after_ms = dt_relay_retry_after_ms (data + 12, len - 12, (int64_t) time (NULL));
    return len;
}

//  One POST: the HTTP status, or 0 when there was no answer (error says why)
static long
s_post (s_relay_t *self, s_target_t *target, const char *body, size_t size,
        struct curl_slist *headers, char *error)
{
    CURL *curl = target->curl;
    error [0] = 0;
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long) size);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long) self->timeout_ms);
    curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, error);
    target->retry_after_ms = -1;
    if (curl_easy_perform (curl) != CURLE_OK)
        return 0;
    long status = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

//  Sleep ms, waking for a stop request: false if one came
static bool
s_pause (int64_t ms)
{
    int64_t until = zclock_mono () + ms;
    while (!dt_stop_requests && zclock_mono () < until)
        zclock_sleep ((int) (until - zclock_mono () < 50? until - zclock_mono (): 50));
    return !dt_stop_requests;
}

//  Deliver one verdict to one URL: 0 delivered or parked, -1 a stop request

//  A verdict ready to POST: its JSON body, the Slack body (made when a
//  slack: URL first needs it) and the headers
typedef struct {
    const msgpack_object *message;
    uint64_t seq;
    dt_buf_t body;
    char *slack;
    struct curl_slist *headers;
} s_verdict_t;

static void
s_verdict_open (s_verdict_t *self, dt_str_t topic, const msgpack_object *message)
{
    *self = (s_verdict_t) { .message = message };
    dt_map_uint (message, "seq", &self->seq);
    dt_relay_json_body (&self->body, message);
    dt_buf_t key = { 0 };
    dt_buf_append (&key, "Idempotency-Key: ", 17);
    dt_relay_header_value (&key, dt_map_get (message, "id"));
    dt_buf_append (&key, "", 1);
    char topic_header [96], seq_header [48];
    snprintf (topic_header, sizeof topic_header, "Dualtrack-Topic: %.*s", (int) (topic.len > 64? 64: topic.len),
              topic.ptr);
    snprintf (seq_header, sizeof seq_header, "Dualtrack-Seq: %llu", (unsigned long long) self->seq);
    self->headers = curl_slist_append (NULL, "Content-Type: application/json");
    self->headers = curl_slist_append (self->headers, key.data);
    self->headers = curl_slist_append (self->headers, topic_header);
    self->headers = curl_slist_append (self->headers, seq_header);
    //  libcurl would otherwise wait for "100 Continue" on large bodies
    self->headers = curl_slist_append (self->headers, "Expect:");
    dt_buf_free (&key);
}

//  The body for target (the Slack one for a slack: URL)
static const char *
s_verdict_body (s_verdict_t *self, s_target_t *target, size_t *size)
{
    if (!target->slack) {
        *size = self->body.size;
        return self->body.data;
    }
    if (!self->slack)
        self->slack = dt_relay_slack_body (self->message);
    *size = strlen (self->slack);
    return self->slack;
}

static void
s_verdict_close (s_verdict_t *self)
{
    curl_slist_free_all (self->headers);
    free (self->slack);
    dt_buf_free (&self->body);
}

//  Park target at the verdict seq it failed (it has everything before it),
//  or keep it parked after a failed probe with the probe period doubled;
//  the next probe comes after that period, or the receiver's Retry-After
//  when longer
static void
s_park (s_relay_t *self, s_target_t *target, uint64_t seq, int64_t attempts, int64_t retry_after)
{
    int64_t now = zclock_mono ();
    if (seq > 0 && seq - 1 > target->cursor)
        target->cursor = seq - 1;
    target->behind = true;
    bool again = target->parked;
    if (again)
        target->probe_period = dt_relay_double (target->probe_period, self->probe_max_ms);
    else {
        target->parked = true;
        target->parked_at = now;
        target->probe_period = self->probe_ms;
        atomic_fetch_add (&self->parked, 1);
        dt_counter_add (self->parks, target->label, 1);
        dt_gauge_set (self->parked_gauge, atomic_load (&self->parked));
    }
    int64_t wait = self->probe_ms? dt_relay_wait_ms (target->probe_period, retry_after): -1;
    target->next_try = wait < 0? INT64_MAX: now + wait;
    if (again)
        dt_warn ("URL still parked: the probe failed", "url=%s where=%s seq=%llu parked_ms=%lld probe_in_ms=%lld",
                 target->label, target->where, (unsigned long long) seq, (long long) (now - target->parked_at),
                 (long long) wait);
    else
        dt_error ("URL parked: it keeps failing; the relay goes on without it and probes it later",
                  "url=%s where=%s seq=%llu attempts=%lld probe_in_ms=%lld", target->label, target->where,
                  (unsigned long long) seq, (long long) attempts, (long long) wait);
}

//  A parked URL answered: it catches up from its own cursor
static void
s_unpark (s_relay_t *self, s_target_t *target, uint64_t seq)
{
    target->parked = false;
    atomic_fetch_sub (&self->parked, 1);
    dt_counter_add (self->unparks, target->label, 1);
    dt_gauge_set (self->parked_gauge, atomic_load (&self->parked));
    dt_info ("URL unparked: it answered; it catches up from its own cursor",
             "url=%s where=%s seq=%llu parked_ms=%lld", target->label, target->where,
             (unsigned long long) seq, (long long) (zclock_mono () - target->parked_at));
}

typedef enum { SENT, PARKED, STOPPED } s_sent_t;

//  Deliver one verdict to one URL, trying up to attempts times (a probe: 1)
//  within park.ms; PARKED when it could not, STOPPED when a stop request
//  came first (the verdict is not delivered)
static s_sent_t
s_deliver (s_relay_t *self, s_target_t *target, s_verdict_t *verdict, int64_t attempts)
{
    size_t size;
    const char *body = s_verdict_body (verdict, target, &size);
    int64_t first = zclock_mono ();
    int64_t delay = self->backoff_ms;
    for (int64_t attempt = 1; ; attempt++) {
        if (dt_stop_requests)
            return STOPPED;
        char error [CURL_ERROR_SIZE];
        long status = s_post (self, target, body, size, verdict->headers, error);
        if (status >= 200 && status < 300) {
            dt_counter_add (self->delivered, target->label, 1);
            return SENT;
        }
        dt_counter_add (self->failures, target->label, 1);
        char what [CURL_ERROR_SIZE + 32];
        if (status)
            snprintf (what, sizeof what, "HTTP %ld", status);
        else
            snprintf (what, sizeof what, "%s", *error? error: "no answer");
        //  The receiver's Retry-After (429, 503) when it asks for longer
        //  than the backoff would wait
        int64_t backoff = dt_relay_jitter (delay, (uint64_t) random ());
        int64_t retry_after = dt_relay_honours_retry_after (status)? target->retry_after_ms: -1;
        int64_t wait = dt_relay_wait_ms (backoff, retry_after);
        dt_warn ("POST failed", "url=%s where=%s seq=%llu attempt=%lld error=\"%s\" retry_after_ms=%lld wait_ms=%lld",
                 target->label, target->where, (unsigned long long) verdict->seq, (long long) attempt, what,
                 (long long) retry_after, (long long) wait);
        int64_t spent = zclock_mono () - first;
        //  Parked when out of attempts or time, or when the receiver asks
        //  to wait past the time left
        if (attempt >= attempts || spent >= self->park_ms
        ||  (wait > backoff && spent + wait > self->park_ms)) {
            s_park (self, target, verdict->seq, attempt, retry_after);
            return PARKED;
        }
        if (wait > backoff)
            dt_counter_add (self->retry_afters, target->label, 1);
        if (!s_pause (wait))
            return STOPPED;
        delay = dt_relay_double (delay, self->backoff_max_ms);
    }
}

//  Write the cursor file if it changed: at once, or (now false) at most
//  once a second. A URL on the live feed has the live follower's seq (or
//  its own, when it started ahead); one behind has its own.
static int
s_save (s_relay_t *self, bool now)
{
    if (!now && zclock_mono () - self->saved_at < 1000)
        return 0;
    uint64_t live = self->follow? dt_follow_last (self->follow): self->opts.since;
    dt_relay_mark_t marks [TARGETS_MAX];
    uint64_t lowest = live;
    for (int i = 0; i < self->count; i++) {
        s_target_t *target = &self->targets [i];
        uint64_t seq = target->behind || target->cursor > live? target->cursor: live;
        marks [i] = (dt_relay_mark_t) { target->key, seq, target->where };
        lowest = seq < lowest? seq: lowest;
    }
    dt_gauge_set (self->cursor_gauge, (double) lowest);
    dt_buf_t text = { 0 };
    dt_relay_cursor_format (&text, marks, self->count, live);
    dt_buf_append (&text, "", 1);
    int rc = 0;
    if (!self->saved || strcmp (self->saved, text.data) != 0) {
        if (dt_cli_write_atomic (self->cursor_path, text.data, text.size - 1, 0600) == 0) {
            free (self->saved);
            self->saved = strdup (text.data);
            self->saved_at = zclock_mono ();
        }
        else {
            dt_error ("can not write the cursor", "cursor=%s error=\"%s\"", self->cursor_path, strerror (errno));
            rc = -1;
        }
    }
    dt_buf_free (&text);
    return rc;
}

//  The live feed's verdicts: to every URL on it, one after the other
static dt_follow_act_t
s_relay_live (void *ctx, dt_str_t topic, const msgpack_object *message)
{
    s_relay_t *self = ctx;
    s_save (self, false);       //  the cursor follows within a catch-up page
    if (!dt_relay_filter_matches (&self->filter, topic, message)) {
        dt_counter_add (self->skipped, NULL, 1);
        return DT_FOLLOW_NEXT;
    }
    s_verdict_t verdict;
    s_verdict_open (&verdict, topic, message);
    dt_follow_act_t act = DT_FOLLOW_NEXT;
    for (int i = 0; i < self->count && act == DT_FOLLOW_NEXT; i++) {
        s_target_t *target = &self->targets [i];
        //  Behind: it gets this later, from its own cursor; a URL that
        //  started ahead of the others has it already
        if (target->behind || (verdict.seq && verdict.seq <= target->cursor))
            continue;
        if (s_deliver (self, target, &verdict, self->attempts) == STOPPED)
            act = DT_FOLLOW_STOP;
    }
    s_verdict_close (&verdict);
    return act;
}

static dt_follow_act_t
s_relay_behind (void *ctx, dt_str_t topic, const msgpack_object *message)
{
    s_behind_t *behind = ctx;
    s_relay_t *self = behind->relay;
    s_target_t *target = behind->target;
    if (dt_follow_last (behind->follow) > target->cursor)
        target->cursor = dt_follow_last (behind->follow);
    s_save (self, false);
    if (!dt_relay_filter_matches (&self->filter, topic, message))
        return DT_FOLLOW_NEXT;
    s_verdict_t verdict;
    s_verdict_open (&verdict, topic, message);
    //  Parked: this is the probe, one attempt
    s_sent_t sent = s_deliver (self, target, &verdict, target->parked? 1: self->attempts);
    if (sent == SENT && target->parked)
        s_unpark (self, target, verdict.seq);
    s_verdict_close (&verdict);
    return sent == SENT? DT_FOLLOW_NEXT: DT_FOLLOW_STOP;
}

//  Probe a parked URL, or go on catching one up: from its cursor to where
//  the live feed is, then it is back on the live feed. A page per turn of
//  the relay's loop, so the live URLs get theirs in between.
static void
s_catch_up_behind (s_relay_t *self, s_target_t *target)
{
    s_behind_t *behind = &target->catching;
    if (!behind->follow) {
        if (target->parked)
            dt_counter_add (self->probes, target->label, 1);
        dt_follow_opts_t opts = self->opts;
        opts.endpoint = NULL;
        opts.cursor_path = NULL;
        opts.since = target->cursor;
        opts.page_limit = BEHIND_PAGE;
        behind->relay = self;
        behind->target = target;
        behind->passes = 0;
        behind->follow = dt_follow_new (&opts, s_relay_behind, behind);
    }
    uint64_t live = dt_follow_last (self->follow);
    bool more = false;
    int rc = behind->follow? dt_follow_catch_up_pages (behind->follow, 1, &more): -1;
    if (behind->follow && dt_follow_last (behind->follow) > target->cursor)
        target->cursor = dt_follow_last (behind->follow);
    //  Failed, or stopped (a probe not answered, a stop request)
    bool ended = rc || !behind->follow || dt_follow_done (behind->follow);
    if (!ended && !more) {
        if (target->cursor >= live) {
            if (target->parked)         //  nothing was pending for it
                s_unpark (self, target, 0);
            target->behind = false;
            dt_info ("URL caught up: back on the live feed", "url=%s where=%s last_seq=%llu",
                     target->label, target->where, (unsigned long long) target->cursor);
            ended = true;
        }
        else
        //  The store has what the live feed carried (stored before it is
        //  published); asked again next turn if it seems not to
        if (++behind->passes >= 3)
            ended = true;
    }
    if (ended)
        dt_follow_destroy (&behind->follow);
    //  Its next page at the next turn; after a failure again later (a
    //  probe after its period, an unparked URL in a second)
    int64_t now = zclock_mono ();
    if (target->behind && behind->follow)
        target->next_try = now;
    else
    if (target->behind && target->next_try <= now)
        target->next_try = now + (target->parked? target->probe_period: 1000);
    s_save (self, !target->behind || !behind->follow);
}

//  Probe the parked URLs whose time has come, catch up the unparked ones
static void
s_tend (s_relay_t *self)
{
    for (int i = 0; i < self->count && !dt_stop_requests; i++) {
        s_target_t *target = &self->targets [i];
        if (target->behind && zclock_mono () >= target->next_try)
            s_catch_up_behind (self, target);
    }
}

static bool
s_is_ready (void *ctx, char *reason, size_t len)
{
    s_relay_t *self = ctx;
    if (!atomic_load (&self->caught_up))
        snprintf (reason, len, "catching up from the store");
    else
    if (atomic_load (&self->parked) >= self->count)
        snprintf (reason, len, "every URL is parked");
    else
        return true;
    return false;
}

//  "scheme://host[:port]" of a URL, without credentials or path
static void
s_where (const char *url, char *where, size_t len)
{
    const char *host = strstr (url, "://");
    host = host? host + 3: url;
    const char *end = host + strcspn (host, "/?#");
    const char *at = memchr (host, '@', (size_t) (end - host));
    if (at)
        host = at + 1;
    snprintf (where, len, "%.*s%.*s", (int) (strstr (url, "://")? strstr (url, "://") + 3 - url: 0), url,
              (int) (end - host), host);
}

//  Each URL's cursor from the file (none yet: since for all); the live
//  follower starts from the lowest. 0, or -1 after saying why.
static int
s_load (s_relay_t *self, uint64_t since)
{
    uint64_t first = since;
    dt_relay_mark_t marks [TARGETS_MAX * 4];
    int count = 0, line = 0;
    if (access (self->cursor_path, F_OK) == 0) {
        size_t len;
        char *text = dt_cli_read_file ("relay", self->cursor_path, &len);
        if (!text)
            return -1;
        int rc = dt_relay_cursor_parse (text, &first, marks, TARGETS_MAX * 4, &count, &line);
        free (text);
        if (rc) {
            fprintf (stderr, "relay: cursor: line %d of %s is not \"SEQ\" (the first) or \"SEQ KEY WHERE\"\n",
                     line, self->cursor_path);
            return -1;
        }
    }
    else
    if (errno != ENOENT) {
        fprintf (stderr, "relay: cursor: cannot read %s: %s\n", self->cursor_path, strerror (errno));
        return -1;
    }
    self->opts.since = UINT64_MAX;
    for (int i = 0; i < self->count; i++) {
        s_target_t *target = &self->targets [i];
        //  A URL the file does not name starts where the others all are
        target->cursor = dt_relay_cursor_find (marks, count, target->key, first);
        if (target->cursor < self->opts.since)
            self->opts.since = target->cursor;
    }
    return 0;
}

//  The options into self; 0, or -1 after saying which is wrong
static int
s_configure (s_relay_t *self, dt_config_t *config)
{
    zlist_t *urls = dt_topics_split (dt_config_get (config, "urls"));
    int rc = 0;
    if (zlist_size (urls) == 0 || zlist_size (urls) > TARGETS_MAX) {
        fprintf (stderr, "relay: urls: give 1 to %d URLs to POST to\n", TARGETS_MAX);
        rc = -1;
    }
    for (char *url = zlist_first (urls); url && rc == 0; url = zlist_next (urls)) {
        s_target_t *target = &self->targets [self->count];
        target->key = dt_relay_url_key (url);
        target->slack = strncmp (url, "slack:", 6) == 0;
        if (target->slack)
            url += 6;
        if (strncmp (url, "http://", 7) && strncmp (url, "https://", 8)) {
            fprintf (stderr, "relay: urls: '%s' is not an http:// or https:// URL\n", url);
            rc = -1;
            break;
        }
        for (int i = 0; i < self->count; i++)
            if (self->targets [i].key == target->key) {
                fprintf (stderr, "relay: urls: '%s' is given twice\n", url);
                rc = -1;
            }
        if (rc)
            break;
        target->url = strdup (url);
        snprintf (target->label, sizeof target->label, "%d", self->count + 1);
        s_where (url, target->where, sizeof target->where);
        target->curl = curl_easy_init ();
        curl_easy_setopt (target->curl, CURLOPT_URL, target->url);
        curl_easy_setopt (target->curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt (target->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt (target->curl, CURLOPT_WRITEFUNCTION, s_discard);
        curl_easy_setopt (target->curl, CURLOPT_HEADERFUNCTION, s_header);
        curl_easy_setopt (target->curl, CURLOPT_HEADERDATA, target);
        curl_easy_setopt (target->curl, CURLOPT_USERAGENT, "dualtrack-relay/" DT_VERSION);
        self->count++;
    }
    zlist_destroy (&urls);

    char err [256];
    if (rc == 0 && dt_relay_filter_init (&self->filter, dt_config_get (config, "topics"),
                                         dt_config_get (config, "verdicts"), dt_config_get (config, "rules"),
                                         err, sizeof err)) {
        fprintf (stderr, "relay: %s\n", err);
        rc = -1;
    }

    self->attempts = dt_config_int (config, "attempts");
    self->park_ms = dt_config_int (config, "park.ms");
    self->probe_ms = dt_config_int (config, "probe.ms");
    self->probe_max_ms = dt_config_int (config, "probe.max_ms");
    self->backoff_ms = dt_config_int (config, "backoff.ms");
    self->backoff_max_ms = dt_config_int (config, "backoff.max_ms");
    self->timeout_ms = dt_config_int (config, "timeout.ms");
    if (rc == 0 && (self->attempts < 1 || self->park_ms < 0 || self->backoff_ms < 1
                    || self->backoff_max_ms < self->backoff_ms || self->timeout_ms < 1)) {
        fprintf (stderr, "relay: attempts, backoff.ms and timeout.ms must be positive, park.ms 0 or more,"
                         " backoff.max_ms at least backoff.ms\n");
        rc = -1;
    }
    if (rc == 0 && (self->probe_ms < 0 || self->probe_max_ms < self->probe_ms)) {
        fprintf (stderr, "relay: probe.ms must be 0 (never) or more, probe.max_ms at least probe.ms\n");
        rc = -1;
    }
    return rc;
}

static void
s_relay_free (s_relay_t *self)
{
    for (int i = 0; i < self->count; i++) {
        dt_follow_destroy (&self->targets [i].catching.follow);
        curl_easy_cleanup (self->targets [i].curl);
        free (self->targets [i].url);
    }
    dt_relay_filter_free (&self->filter);
    free (self->saved);
    dt_metrics_destroy (&self->metrics);
}

int
dt_cli_relay (int argc, char *argv [])
{
    int exit_code;
    dt_config_t *config = dt_config_new ("dualtrack relay",
        "Follows the decisions feed without loss and POSTs each matching verdict\n"
        "as JSON to one or more URLs (webhooks): at least once, in seq order,\n"
        "with the touchpoint id as Idempotency-Key (proto/PROTOCOL.md, \"Webhooks\").",
        s_options, argc, argv, &exit_code);
    if (!config)
        return exit_code;
    dt_log_init ("relay", dt_config_get (config, "log.level"));
    s_relay_t self = { .count = 0 };
    //  The cursor file is the relay's (each URL's seq), not the follower's
    self.opts = (dt_follow_opts_t) {
        .prog = "relay", .logfmt = true, .resume = true,
        .endpoint = dt_config_get (config, "decisions"),
        .catchup = dt_config_get (config, "catchup")
    };
    self.cursor_path = dt_config_get (config, "cursor");
    int rc = s_configure (&self, config);
    const char *since_text = dt_config_get (config, "since");
    char *end = NULL;
    errno = 0;
    uint64_t since = strtoull (since_text, &end, 10);
    if (rc == 0 && (!*since_text || *end || errno || *since_text == '-')) {
        fprintf (stderr, "relay: since must be a seq (0 or more), not '%s'\n", since_text);
        rc = -1;
    }
    if (rc == 0 && !*self.cursor_path) {
        fprintf (stderr, "relay: cursor: a file is needed to resume exactly\n");
        rc = -1;
    }
    if (rc == 0)
        rc = s_load (&self, since);
    const char *security = dt_config_get (config, "security");
    if (strcmp (security, "curve") == 0) {
        self.opts.cert = dt_config_get (config, "curve.cert");
        self.opts.server_cert = dt_config_get (config, "curve.coordinator");
    }
    else
    if (rc == 0 && strcmp (security, "plain") != 0) {
        fprintf (stderr, "relay: security must be curve or plain\n");
        rc = -1;
    }
    if (rc) {
        s_relay_free (&self);
        dt_config_destroy (&config);
        return 2;
    }
    self.opts.topics = self.filter.topics;
    srandom ((unsigned) (zclock_time () ^ getpid ()));
    curl_global_init (CURL_GLOBAL_DEFAULT);
    dt_signals_install ();

    self.metrics = dt_metrics_new ("dualtrack_");
    self.delivered = dt_metrics_counter (self.metrics, "relay_delivered_total",
        "Verdicts a URL answered 2xx to, by URL (its place in urls, from 1).", "url");
    self.failures = dt_metrics_counter (self.metrics, "relay_failed_attempts_total",
        "POSTs that failed (no answer, or not 2xx), by URL.", "url");
    self.parks = dt_metrics_counter (self.metrics, "relay_parked_total",
        "Times a URL was parked for failing, by URL.", "url");
    self.probes = dt_metrics_counter (self.metrics, "relay_probes_total",
        "Probes of a parked URL (one attempt at the verdict it failed), by URL.", "url");
    self.unparks = dt_metrics_counter (self.metrics, "relay_unparked_total",
        "Times a parked URL answered a probe and was unparked, by URL.", "url");
    self.retry_afters = dt_metrics_counter (self.metrics, "relay_retry_after_waits_total",
        "Waits before a retry that a 429 or 503 answer's Retry-After made longer than the backoff, by URL.", "url");
    self.skipped = dt_metrics_counter (self.metrics, "relay_skipped_total",
        "Verdicts the filters (topics, verdicts, rules) left out.", NULL);
    self.parked_gauge = dt_metrics_gauge (self.metrics, "relay_urls_parked", "URLs parked now.");
    self.last_gauge = dt_metrics_gauge (self.metrics, "relay_last_seq",
        "The last seq handled on the live feed: every URL not behind has it.");
    self.cursor_gauge = dt_metrics_gauge (self.metrics, "relay_cursor_seq",
        "The last seq every URL has, parked ones included: the cursor file's first line.");
    for (int i = 0; i < self.count; i++) {
        dt_counter_t *by_url [] = { self.delivered, self.failures, self.parks, self.probes,
                                    self.unparks, self.retry_afters };
        for (size_t j = 0; j < sizeof by_url / sizeof by_url [0]; j++)
            dt_counter_add (by_url [j], self.targets [i].label, 0);
    }
    dt_gauge_set (self.last_gauge, (double) self.opts.since);
    dt_gauge_set (self.cursor_gauge, (double) self.opts.since);
    dt_httpd_t *httpd = NULL;
    const char *http = dt_config_get (config, "http");
    if (strcmp (http, "off") != 0) {
        char err [256];
        httpd = dt_httpd_new (http, self.metrics, s_is_ready, &self, err, sizeof err);
        if (!httpd) {
            dt_error ("can not serve health and metrics", "address=%s error=\"%s\"", http, err);
            rc = 1;
        }
    }
    self.follow = rc? NULL: dt_follow_new (&self.opts, s_relay_live, &self);
    if (!self.follow)
        rc = 1;
    if (self.follow) {
        dt_info ("relay started", "urls=%d cursor=%s last_seq=%llu", self.count, self.cursor_path,
                 (unsigned long long) self.opts.since);
        for (int i = 0; i < self.count; i++)
            dt_info ("URL resumes", "url=%s where=%s slack=%s last_seq=%llu", self.targets [i].label,
                     self.targets [i].where, self.targets [i].slack? "yes": "no",
                     (unsigned long long) self.targets [i].cursor);
        //  The store first; a coordinator away is waited for
        while (!dt_stop_requests && !dt_follow_done (self.follow) && dt_follow_catch_up (self.follow))
            s_pause (1000);
        atomic_store (&self.caught_up, true);
        while (!dt_stop_requests && !dt_follow_done (self.follow)) {
            int taken = dt_follow_poll (self.follow, 200);
            if (taken < 0)
                s_pause (1000);     //  the next message finds the gap and asks again
            //  What waits on the live feed goes too, up to a page's worth,
            //  before a URL behind gets its next page
            for (int n = 0; taken > 0 && n < BEHIND_PAGE && !dt_stop_requests
                         && !dt_follow_done (self.follow) && dt_follow_poll (self.follow, 0) > 0; n++)
                ;
            s_tend (&self);
            s_save (&self, taken <= 0);
            dt_gauge_set (self.last_gauge, (double) dt_follow_last (self.follow));
        }
        if (s_save (&self, true))
            rc = 1;
        dt_info ("relay stopped", "last_seq=%llu cursor_seq=%.0f", (unsigned long long) dt_follow_last (self.follow),
                 dt_gauge_value (self.cursor_gauge));
    }
    dt_follow_destroy (&self.follow);
    dt_httpd_destroy (&httpd);
    s_relay_free (&self);
    curl_global_cleanup ();
    dt_config_destroy (&config);
    return rc;
}
