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

#ifndef IOVP_RECONNECT_H
#define IOVP_RECONNECT_H 1

/* When to connect, when to probe, when to give up: a state machine that does
 * no I/O, in the manner of Open vSwitch's lib/reconnect.c.  Every call takes
 * 'now', in milliseconds on a monotonic clock; reconn_run() says what
 * the caller should do, reconn_timeout() when to call it again.
 *
 * Back-off: a failed attempt, or a connection that drops, waits before the
 * next attempt, doubling from 'min_backoff' up to 'max_backoff', each wait
 * drawn at random from its upper half (jitter), so that thousands of hosts
 * that lost one server do not all come back at the same moment.  The first
 * 'free_tries' attempts after a connection drops are made at once, without
 * waiting: a client with several remotes tries each of them once before it
 * backs off.
 *
 * Probing: once connected, a connection with no activity for
 * 'probe_interval' ms gets a probe (RECONN_PROBE: the caller sends an
 * echo); with no activity for another 'probe_interval' ms it is dropped
 * (RECONN_DISCONNECT).  A 'probe_interval' of 0 disables probing. */

#include <stdbool.h>
#include <stdint.h>

#define RECONN_STATES                    \
    RECONN_STATE(VOID, "VOID")           \
    RECONN_STATE(BACKOFF, "BACKOFF")     \
    RECONN_STATE(CONNECTING, "CONNECTING") \
    RECONN_STATE(ACTIVE, "ACTIVE")       \
    RECONN_STATE(IDLE, "IDLE")

enum reconn_state {
#define RECONN_STATE(ENUM, NAME) RECONN_S_##ENUM,
    RECONN_STATES
#undef RECONN_STATE
};

const char *reconn_state_to_string(enum reconn_state);

/* What reconn_run() asks of the caller. */
enum reconn_action {
    RECONN_NONE,         /* Nothing now. */
    RECONN_CONNECT,      /* Start connecting. */
    RECONN_DISCONNECT,   /* Drop the connection: it is dead. */
    RECONN_PROBE,        /* Send a probe. */
};

struct reconn {
    /* Configuration. */
    int min_backoff;            /* ms. */
    int max_backoff;            /* ms. */
    int probe_interval;         /* ms, 0 for none. */
    int connect_timeout;        /* ms an attempt may take. */
    unsigned int free_tries;    /* Attempts without back-off. */

    /* State. */
    enum reconn_state state;
    long long int state_entered;
    int backoff;                /* Current back-off, ms. */
    int wait;                   /* This back-off's wait, jittered, ms. */
    long long int last_activity;
    long long int connected_at; /* When the connection came up. */
    unsigned int free_left;     /* Free tries left. */
    uint64_t random;            /* Jitter's generator state. */

    /* Statistics. */
    unsigned int n_attempts;
    unsigned int n_connections;
};

void reconn_init(struct reconn *, uint64_t seed);
void reconn_set_backoff(struct reconn *, int min_backoff,
                               int max_backoff);
void reconn_set_probe_interval(struct reconn *, int ms);
void reconn_set_free_tries(struct reconn *, unsigned int);
void reconn_set_connect_timeout(struct reconn *, int ms);

void reconn_enable(struct reconn *, long long int now);
void reconn_connecting(struct reconn *, long long int now);
void reconn_connected(struct reconn *, long long int now);
void reconn_connect_failed(struct reconn *, long long int now);
void reconn_disconnected(struct reconn *, long long int now);
void reconn_activity(struct reconn *, long long int now);

enum reconn_action reconn_run(struct reconn *,
                                            long long int now);
long long int reconn_timeout(const struct reconn *);
bool reconn_is_connected(const struct reconn *);

#endif /* reconnect.h */
