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

#ifndef IOVP_JSONRPC_CLIENT_H
#define IOVP_JSONRPC_CLIENT_H 1

/* A JSON-RPC client connection that keeps itself up: the JSON-RPC framing
 * (lib/jsonrpc.h) of a byte client (lib/byte-client.h), whose remotes,
 * back-off and probes it shares.  It knows nothing of what the messages
 * mean: its owner hears of connections coming and going and of each
 * message, sends its own messages, answers probes (with an "echo" for
 * OVSDB) and drops a connection whose peer it finds unfit with
 * jrpc_client_reconnect().  A message that is not well-formed JSON, or
 * larger than 'max_msg_size', is logged and drops the connection.
 *
 * This header does not include uv.h: its users need not know libuv. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct uv_loop_s;
struct jrpc_client;

struct jrpc_client_cbs {
    void (*connected)(struct jrpc_client *, void *aux);
    void (*disconnected)(struct jrpc_client *, const char *reason,
                         void *aux);
    void (*msg)(struct jrpc_client *, json_t *msg, void *aux);
    void (*probe)(struct jrpc_client *, void *aux);

    /* Optional: bytes queued on the connection were written, so
     * jrpc_client_backlog() went down. */
    void (*sent)(struct jrpc_client *, void *aux);
};

struct tls_context;

struct jrpc_client_options {
    int min_backoff, max_backoff;   /* ms. */
    int probe_interval;             /* ms, 0 for none. */
    int connect_timeout;            /* ms for TCP and TLS handshake. */
    size_t max_msg_size;            /* Bytes. */
    unsigned int seed;              /* Shuffles remotes, jitters back-off. */
    struct tls_context *tls;        /* For ssl: remotes; must outlive. */
};

/* The fields of 'options' that are 0 take the defaults of
 * lib/byte-client.h, and: */
#define JRPC_CLIENT_MAX_MSG_SIZE (256 * 1024 * 1024)

char *jrpc_client_create(struct uv_loop_s *, const char *remotes,
                         const struct jrpc_client_options *,
                         const struct jrpc_client_cbs *, void *aux,
                         struct jrpc_client **);
void jrpc_client_destroy(struct jrpc_client *);

int jrpc_client_send(struct jrpc_client *, json_t *msg);
void jrpc_client_reconnect(struct jrpc_client *, const char *reason);
void jrpc_client_pause(struct jrpc_client *);
void jrpc_client_resume(struct jrpc_client *);

bool jrpc_client_is_connected(const struct jrpc_client *);
const char *jrpc_client_remote(const struct jrpc_client *);
const char *jrpc_client_state(const struct jrpc_client *);
unsigned int jrpc_client_n_connections(const struct jrpc_client *);
unsigned int jrpc_client_n_attempts(const struct jrpc_client *);
unsigned long long int jrpc_client_n_bytes(const struct jrpc_client *);
size_t jrpc_client_backlog(const struct jrpc_client *);
const char *jrpc_client_last_error(const struct jrpc_client *);

#endif /* jsonrpc-client.h */
