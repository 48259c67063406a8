/*
 * Copyright (c) 2026 The iovp authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at:
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

#include <config.h>

#include "lib/reconnect.h"

#include <limits.h>
#include <sys/param.h>

#include <openvswitch/vlog.h>

VLOG_DEFINE_THIS_MODULE(reconn);

const char *
reconn_state_to_string(enum reconn_state state)
{
    switch (state) {
#define RECONN_STATE(ENUM, NAME) \
        case RECONN_S_##ENUM: return NAME;
        RECONN_STATES
#undef RECONN_STATE
    }
    return "(unknown)";
}

/* Initializes 'r', disabled (state VOID), with OVS's defaults: back-off
 * from 1 to 8 seconds, a probe every 5 seconds, 10 seconds to connect, no
 * free tries.  'seed' seeds the jitter. */
void
reconn_init(struct reconn *r, uint64_t seed)
{
    *r = (struct reconn) {
        .min_backoff = 1000,
        .max_backoff = 8000,
        .probe_interval = 5000,
        .connect_timeout = 10000,
        .state = RECONN_S_VOID,
        .random = seed ? seed : 0x9e3779b97f4a7c15ULL,
    };
}

/* Sets the bounds of the back-off, in ms ('max_backoff' is raised to
 * 'min_backoff' if it is lower). */
void
reconn_set_backoff(struct reconn *r, int min_backoff,
                          int max_backoff)
{
    r->min_backoff = MAX(1, min_backoff);
    r->max_backoff = MAX(r->min_backoff, max_backoff);
    r->backoff = MIN(r->backoff, r->max_backoff);
}

/* Sets the inactivity probe interval, in ms; 0 disables probing. */
void
reconn_set_probe_interval(struct reconn *r, int ms)
{
    r->probe_interval = ms > 0 ? MAX(ms, 100) : 0;
}

/* Sets how many attempts after a drop are made without back-off. */
void
reconn_set_free_tries(struct reconn *r, unsigned int n)
{
    r->free_tries = n;
}

/* Sets how long, in ms, a connection attempt may take (at least 100). */
void
reconn_set_connect_timeout(struct reconn *r, int ms)
{
    r->connect_timeout = MAX(ms, 100);
}

static void
reconn_transition(struct reconn *r, long long int now,
                         enum reconn_state state)
{
    if (r->state != state) {
        VLOG_DBG("%s -> %s", reconn_state_to_string(r->state),
                 reconn_state_to_string(state));
    }
    r->state = state;
    r->state_entered = now;
}

/* xorshift64*: cheap, and deterministic for a given seed. */
static uint64_t
reconn_random(struct reconn *r)
{
    r->random ^= r->random >> 12;
    r->random ^= r->random << 25;
    r->random ^= r->random >> 27;
    return r->random * 0x2545f4914f6cdd1dULL;
}

/* Enters BACKOFF after a failure or a drop: a free try goes at once,
 * otherwise the back-off doubles (within its bounds) and the wait is drawn
 * from its upper half. */
static void
reconn_backoff(struct reconn *r, long long int now)
{
    if (r->free_left) {
        r->free_left--;
        r->wait = 0;
    } else {
        if (!r->backoff) {
            r->backoff = r->min_backoff;
        } else {
            r->backoff = (r->backoff >= r->max_backoff / 2
                          ? r->max_backoff : r->backoff * 2);
        }
        int half = r->backoff / 2;
        r->wait = half + (int) (reconn_random(r) % (half + 1));
    }
    reconn_transition(r, now, RECONN_S_BACKOFF);
}

/* Starts 'r': the first attempt is due at once. */
void
reconn_enable(struct reconn *r, long long int now)
{
    if (r->state == RECONN_S_VOID) {
        r->backoff = 0;
        r->wait = 0;
        /* The first attempt is due now; the free tries are the others. */
        r->free_left = r->free_tries ? r->free_tries - 1 : 0;
        reconn_transition(r, now, RECONN_S_BACKOFF);
    }
}

/* The caller started connecting. */
void
reconn_connecting(struct reconn *r, long long int now)
{
    r->n_attempts++;
    reconn_transition(r, now, RECONN_S_CONNECTING);
}

/* The connection is up. */
void
reconn_connected(struct reconn *r, long long int now)
{
    r->n_connections++;
    r->last_activity = now;
    r->connected_at = now;
    reconn_transition(r, now, RECONN_S_ACTIVE);
}

/* The attempt failed. */
void
reconn_connect_failed(struct reconn *r, long long int now)
{
    reconn_backoff(r, now);
}

/* An established connection dropped (or the caller dropped it).  Only a
 * connection that stayed up for at least the minimum back-off, and at
 * least the current back-off, counts as a success: then the back-off
 * starts again from nothing and the free tries are renewed.  A peer that
 * accepts and is dropped at once (say, a cluster member unfit to use)
 * keeps backing off, so that the client never spins. */
void
reconn_disconnected(struct reconn *r, long long int now)
{
    if (r->state == RECONN_S_ACTIVE || r->state == RECONN_S_IDLE) {
        long long int lasted = now - r->connected_at;
        if (lasted >= MAX(r->min_backoff, r->backoff)) {
            r->backoff = 0;
            r->free_left = r->free_tries;
        }
    }
    reconn_backoff(r, now);
}

/* Something arrived on the connection: it is alive. */
void
reconn_activity(struct reconn *r, long long int now)
{
    r->last_activity = now;
    if (r->state == RECONN_S_IDLE) {
        reconn_transition(r, now, RECONN_S_ACTIVE);
    }
}

/* Returns when reconn_run() has something to do next, or LLONG_MAX
 * if nothing will happen until another event. */
long long int
reconn_timeout(const struct reconn *r)
{
    switch (r->state) {
    case RECONN_S_VOID:
        return LLONG_MAX;
    case RECONN_S_BACKOFF:
        return r->state_entered + r->wait;
    case RECONN_S_CONNECTING:
        return r->state_entered + r->connect_timeout;
    case RECONN_S_ACTIVE:
        return (r->probe_interval
                ? MAX(r->last_activity, r->state_entered) + r->probe_interval
                : LLONG_MAX);
    case RECONN_S_IDLE:
        return r->state_entered + r->probe_interval;
    }
    return LLONG_MAX;
}

/* Returns what the caller should do at 'now'. */
enum reconn_action
reconn_run(struct reconn *r, long long int now)
{
    if (now < reconn_timeout(r)) {
        return RECONN_NONE;
    }

    switch (r->state) {
    case RECONN_S_VOID:
        return RECONN_NONE;
    case RECONN_S_BACKOFF:
        return RECONN_CONNECT;
    case RECONN_S_CONNECTING:
        return RECONN_DISCONNECT;
    case RECONN_S_ACTIVE:
        reconn_transition(r, now, RECONN_S_IDLE);
        return RECONN_PROBE;
    case RECONN_S_IDLE:
        return RECONN_DISCONNECT;
    }
    return RECONN_NONE;
}

/* Returns true if a connection is up. */
bool
reconn_is_connected(const struct reconn *r)
{
    return (r->state == RECONN_S_ACTIVE
            || r->state == RECONN_S_IDLE);
}
