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

#ifndef IOVP_BYTE_CLIENT_H
#define IOVP_BYTE_CLIENT_H 1

/* A client connection that keeps itself up, over libuv, carrying bytes.
 *
 * It is given a comma-separated list of remotes, "unix:PATH", "tcp:IP:PORT"
 * or "ssl:IP:PORT" (an IPv6 address in brackets), tries them in a shuffled
 * order, one after another, with the back-off of lib/reconnect.h, and
 * probes a connection that goes quiet.  It knows nothing of what the bytes
 * mean: its owner (lib/jsonrpc-client.c for OVSDB, ofp/ for OpenFlow) hears
 * of connections coming and going and of the bytes that arrive, sends its
 * own, answers probes (by sending a request the peer must answer) and drops
 * a connection whose peer it finds unfit with bclient_reconnect(), which
 * moves on to the next remote.
 *
 * An ssl: remote is TCP with TLS over it (lib/tls.h): the connection is
 * up, for the owner, once the handshake is done and the peer's certificate
 * verified; a handshake that fails drops the attempt, logged as a warning
 * with the reason (also bclient_last_error()), and one that takes longer
 * than the connection attempt may counts as timed out.  The owner sees
 * only plaintext.
 *
 * This header does not include uv.h: its users need not know libuv. */

#include <stdbool.h>
#include <stddef.h>

struct uv_loop_s;
struct bclient;

struct bclient_cbs {
    void (*connected)(struct bclient *, void *aux);
    void (*disconnected)(struct bclient *, const char *reason, void *aux);
    void (*data)(struct bclient *, const char *data, size_t n, void *aux);
    void (*probe)(struct bclient *, void *aux);

    /* Optional: bytes queued on the connection were written, so
     * bclient_backlog() went down. */
    void (*sent)(struct bclient *, void *aux);
};

struct tls_context;

struct bclient_options {
    int min_backoff, max_backoff;   /* ms. */
    int probe_interval;             /* ms, 0 for none. */
    int connect_timeout;            /* ms for TCP and TLS handshake. */
    unsigned int seed;              /* Shuffles remotes, jitters back-off. */
    struct tls_context *tls;        /* For ssl: remotes; must outlive. */
};

/* The fields of 'options' that are 0 take these defaults (no 'tls': no
 * ssl: remote). */
#define BCLIENT_MIN_BACKOFF 1000
#define BCLIENT_MAX_BACKOFF 8000
#define BCLIENT_CONNECT_TIMEOUT 10000

char *bclient_parse_remotes(const char *remotes, char ***remotesp,
                            size_t *np);
char *bclient_create(struct uv_loop_s *, const char *remotes,
                     const struct bclient_options *,
                     const struct bclient_cbs *, void *aux,
                     struct bclient **);
void bclient_destroy(struct bclient *);

int bclient_send(struct bclient *, char *data, size_t n);
void bclient_reconnect(struct bclient *, const char *reason);

bool bclient_is_connected(const struct bclient *);
const char *bclient_remote(const struct bclient *);
const char *bclient_state(const struct bclient *);
long long int bclient_sec_connected(const struct bclient *);
size_t bclient_backlog(const struct bclient *);
unsigned int bclient_n_connections(const struct bclient *);
unsigned int bclient_n_attempts(const struct bclient *);
const char *bclient_last_error(const struct bclient *);

#endif /* byte-client.h */
