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

#include "lib/jsonrpc-client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/vlog.h>

#include "lib/byte-client.h"
#include "lib/json-encode.h"
#include "lib/jsonrpc.h"
#include "lib/util.h"

VLOG_DEFINE_THIS_MODULE(jrpc_client);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

struct jrpc_client {
    struct bclient *bytes;
    struct jrpc_parser parser;  /* Framing of the current connection. */
    size_t max_msg_size;
    struct jrpc_client_cbs cbs;
    void *aux;
    unsigned long long int n_bytes;     /* Received, on every connection. */

    /* jrpc_client_pause(): the bytes of this connection that arrived
     * while paused, unparsed. */
    bool paused;
    struct ds held;
};

static void
jrpc_client_connected(struct bclient *bytes OVS_UNUSED, void *c_)
{
    struct jrpc_client *c = c_;

    /* Each connection starts its framing afresh. */
    jrpc_parser_destroy(&c->parser);
    jrpc_parser_init(&c->parser, c->max_msg_size);
    c->paused = false;
    ds_clear(&c->held);
    c->cbs.connected(c, c->aux);
}

static void
jrpc_client_disconnected(struct bclient *bytes OVS_UNUSED,
                         const char *reason, void *c_)
{
    struct jrpc_client *c = c_;

    c->paused = false;
    ds_clear(&c->held);
    c->cbs.disconnected(c, reason, c->aux);
}

/* Drops the connection for a message that cannot be framed: a fault of the
 * peer's, worth a warning. */
static void
jrpc_client_fault(struct jrpc_client *c, const char *reason)
{
    VLOG_WARN_RL(&rl, "%s: %s", bclient_remote(c->bytes), reason);
    bclient_reconnect(c->bytes, reason);
}

static void
jrpc_client_data(struct bclient *bytes, const char *p, size_t n, void *c_)
{
    struct jrpc_client *c = c_;
    unsigned int connection = bclient_n_connections(bytes);

    if (c->paused) {
        if (c->held.length + n > c->max_msg_size) {
            jrpc_client_fault(c, "server sends more than it lets us take "
                              "in");
            return;
        }
        ds_put_buffer(&c->held, p, n);
        return;
    }

    c->n_bytes += n;
    while (n) {
        size_t used = jrpc_parser_feed(&c->parser, p, n);
        p += used;
        n -= used;

        if (jrpc_parser_is_done(&c->parser)) {
            json_t *msg;
            char *error = jrpc_parser_finish(&c->parser, &msg);
            if (error) {
                jrpc_client_fault(c, error);
                free(error);
                return;
            }
            c->cbs.msg(c, msg, c->aux);
            jrpc_parser_release(&c->parser, msg);

            /* The owner may have dropped this connection: the rest of
             * these bytes belong to it, not to the next one. */
            if (!bclient_is_connected(bytes)
                || bclient_n_connections(bytes) != connection) {
                return;
            }
            if (c->paused) {
                c->n_bytes -= n;
                ds_put_buffer(&c->held, p, n);
                return;
            }
        } else if (jrpc_parser_get_error(&c->parser)) {
            jrpc_client_fault(c, jrpc_parser_get_error(&c->parser));
            return;
        }
    }
}

static void
jrpc_client_probe(struct bclient *bytes OVS_UNUSED, void *c_)
{
    struct jrpc_client *c = c_;

    c->cbs.probe(c, c->aux);
}

static void
jrpc_client_sent(struct bclient *bytes OVS_UNUSED, void *c_)
{
    struct jrpc_client *c = c_;

    if (c->cbs.sent) {
        c->cbs.sent(c, c->aux);
    }
}

/* Creates a client on 'loop' for 'remotes' (see lib/byte-client.h) and
 * starts connecting.  Returns NULL and the client in '*clientp', or a
 * malloc()'d error (a bad remote) and NULL. */
char *
jrpc_client_create(struct uv_loop_s *loop, const char *remotes,
                   const struct jrpc_client_options *options,
                   const struct jrpc_client_cbs *cbs, void *aux,
                   struct jrpc_client **clientp)
{
    static const struct bclient_cbs bytes_cbs = {
        .connected = jrpc_client_connected,
        .disconnected = jrpc_client_disconnected,
        .data = jrpc_client_data,
        .probe = jrpc_client_probe,
        .sent = jrpc_client_sent,
    };
    struct bclient_options bytes_options = {
        .min_backoff = options->min_backoff,
        .max_backoff = options->max_backoff,
        .probe_interval = options->probe_interval,
        .connect_timeout = options->connect_timeout,
        .seed = options->seed,
        .tls = options->tls,
    };
    struct jrpc_client *c = iovp_xzalloc(sizeof *c);
    char *error;

    *clientp = NULL;
    c->max_msg_size = (options->max_msg_size ? options->max_msg_size
                       : JRPC_CLIENT_MAX_MSG_SIZE);
    c->cbs = *cbs;
    c->aux = aux;
    jrpc_parser_init(&c->parser, c->max_msg_size);
    ds_init(&c->held);
    error = bclient_create(loop, remotes, &bytes_options, &bytes_cbs, c,
                           &c->bytes);
    if (error) {
        jrpc_parser_destroy(&c->parser);
        free(c);
        return error;
    }
    *clientp = c;
    return NULL;
}

/* Closes the connection, if any, and frees 'c'.  No callback is made.
 * Accepts NULL. */
void
jrpc_client_destroy(struct jrpc_client *c)
{
    if (c) {
        bclient_destroy(c->bytes);
        jrpc_parser_destroy(&c->parser);
        ds_destroy(&c->held);
        free(c);
    }
}

/* Stops delivering the messages of the current connection until
 * jrpc_client_resume(): the owner has work to finish before it takes
 * another.  May be called from the 'msg' callback, which is then not
 * called again for the rest of what arrived.  What arrives meanwhile is
 * held, up to the longest message allowed; a new connection is not
 * paused. */
void
jrpc_client_pause(struct jrpc_client *c)
{
    c->paused = bclient_is_connected(c->bytes);
}

/* Delivers again the messages of the current connection, starting with
 * those held while it was paused.  The owner's callbacks run from inside
 * this call, which must not be made from one of them. */
void
jrpc_client_resume(struct jrpc_client *c)
{
    if (c->paused) {
        struct ds held = c->held;

        c->paused = false;
        ds_init(&c->held);
        jrpc_client_data(c->bytes, held.string, held.length, c);
        ds_destroy(&held);
    }
}

/* Sends 'msg' (stolen, even on failure).  Returns 0, or -ENOTCONN when not
 * connected, or another negative errno value. */
int
jrpc_client_send(struct jrpc_client *c, json_t *msg)
{
    size_t len;
    char *text = msg ? iovp_json_encode(msg, &len) : NULL;

    json_decref(msg);
    return text ? bclient_send(c->bytes, text, len) : -EINVAL;
}

/* Drops the connection for 'reason', if there is one, and tries the next
 * remote. */
void
jrpc_client_reconnect(struct jrpc_client *c, const char *reason)
{
    bclient_reconnect(c->bytes, reason);
}

bool
jrpc_client_is_connected(const struct jrpc_client *c)
{
    return bclient_is_connected(c->bytes);
}

/* Returns the remote in use, or the next one to try. */
const char *
jrpc_client_remote(const struct jrpc_client *c)
{
    return bclient_remote(c->bytes);
}

/* Returns the name of the connection's state. */
const char *
jrpc_client_state(const struct jrpc_client *c)
{
    return bclient_state(c->bytes);
}

/* Returns how many connections have been made. */
unsigned int
jrpc_client_n_connections(const struct jrpc_client *c)
{
    return bclient_n_connections(c->bytes);
}

/* Returns how many connection attempts have been made. */
unsigned int
jrpc_client_n_attempts(const struct jrpc_client *c)
{
    return bclient_n_attempts(c->bytes);
}

/* Returns how many bytes have been received, on every connection. */
unsigned long long int
jrpc_client_n_bytes(const struct jrpc_client *c)
{
    return c->n_bytes;
}

/* Returns how many bytes wait to be written on the connection. */
size_t
jrpc_client_backlog(const struct jrpc_client *c)
{
    return bclient_backlog(c->bytes);
}

/* Returns why the last connection or attempt ended, or NULL. */
const char *
jrpc_client_last_error(const struct jrpc_client *c)
{
    return bclient_last_error(c->bytes);
}
