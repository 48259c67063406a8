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
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include <openvswitch/vlog.h>

#include "lib/jsonrpc-stream.h"
#include "lib/reconnect.h"
#include "lib/util.h"

VLOG_DEFINE_THIS_MODULE(jrpc_client);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* A remote, parsed. */
struct jrpc_remote {
    char *name;                 /* As the user wrote it. */
    bool is_unix;
    char *path;                 /* unix: the socket's file name. */
    struct sockaddr_storage ss; /* tcp: the address. */
};

struct jrpc_client {
    uv_loop_t *loop;
    uv_timer_t timer;
    struct jrpc_client_cbs cbs;
    void *aux;

    struct jrpc_remote *remotes;
    size_t n_remotes;
    size_t cur;                 /* The remote in use or next to try. */

    struct reconn fsm;
    size_t max_msg_size;
    struct jrpc_stream *stream; /* Connecting or connected, or NULL. */
    bool connecting;
    char *last_error;
};

/* A connection attempt, which may outlive the stream it was for. */
struct jrpc_connect {
    uv_connect_t req;
    struct jrpc_client *client;
    struct jrpc_stream *stream;
};

static void jrpc_client_schedule(struct jrpc_client *);

static void
jrpc_remote_destroy(struct jrpc_remote *remote)
{
    free(remote->name);
    free(remote->path);
}

/* Parses one remote 'name' into 'remote'. */
static char *
jrpc_remote_parse(const char *name, struct jrpc_remote *remote)
{
    memset(remote, 0, sizeof *remote);
    if (!strncmp(name, "unix:", 5)) {
        if (!name[5]) {
            return iovp_xasprintf("%s: missing socket file name", name);
        }
        remote->is_unix = true;
        remote->path = iovp_xstrdup(name + 5);
    } else if (!strncmp(name, "tcp:", 4)) {
        const char *host = name + 4;
        const char *colon;
        char *addr;

        if (host[0] == '[') {
            const char *end = strchr(host, ']');
            if (!end || end[1] != ':') {
                return iovp_xasprintf("%s: expected tcp:[IPv6]:PORT", name);
            }
            addr = iovp_xasprintf("%.*s", (int) (end - host - 1), host + 1);
            colon = end + 1;
        } else {
            colon = strrchr(host, ':');
            if (!colon) {
                return iovp_xasprintf("%s: expected tcp:IP:PORT", name);
            }
            addr = iovp_xasprintf("%.*s", (int) (colon - host), host);
        }

        char *end;
        long int port = strtol(colon + 1, &end, 10);
        int error = (*end || port <= 0 || port > 65535 ? UV_EINVAL
                     : host[0] == '['
                     ? uv_ip6_addr(addr, port,
                                   (struct sockaddr_in6 *) &remote->ss)
                     : uv_ip4_addr(addr, port,
                                   (struct sockaddr_in *) &remote->ss));
        free(addr);
        if (error) {
            return iovp_xasprintf("%s: bad address or port", name);
        }
    } else {
        return iovp_xasprintf("%s: unknown remote (use unix:PATH or "
                              "tcp:IP:PORT)", name);
    }
    remote->name = iovp_xstrdup(name);
    return NULL;
}

/* Splits the comma-separated 'remotes' into a malloc()'d array of
 * malloc()'d names in '*remotesp' ('*np' of them), checking each.  Returns
 * NULL, or a malloc()'d error with nothing allocated. */
char *
jrpc_client_parse_remotes(const char *remotes, char ***remotesp, size_t *np)
{
    char *copy = iovp_xstrdup(remotes);
    char **names = NULL;
    size_t n = 0;
    char *save = NULL;
    char *error = NULL;

    for (char *name = strtok_r(copy, ", ", &save); name;
         name = strtok_r(NULL, ", ", &save)) {
        struct jrpc_remote remote;
        error = jrpc_remote_parse(name, &remote);
        if (error) {
            break;
        }
        jrpc_remote_destroy(&remote);
        names = iovp_xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = iovp_xstrdup(name);
    }
    if (!error && !n) {
        error = iovp_xasprintf("no remote given");
    }
    free(copy);
    if (error) {
        for (size_t i = 0; i < n; i++) {
            free(names[i]);
        }
        free(names);
        names = NULL;
        n = 0;
    }
    *remotesp = names;
    *np = n;
    return error;
}

static void
jrpc_client_set_error(struct jrpc_client *c, const char *reason)
{
    free(c->last_error);
    c->last_error = iovp_xstrdup(reason);
}

/* Drops the connection or attempt, if any, for 'reason', and moves on to
 * the next remote. */
static void
jrpc_client_drop(struct jrpc_client *c, const char *reason)
{
    const char *name = c->remotes[c->cur].name;
    long long int now = uv_now(c->loop);
    bool was_connected;

    if (!c->stream) {
        return;
    }
    was_connected = !c->connecting;
    jrpc_stream_close(c->stream);
    c->stream = NULL;
    c->connecting = false;
    jrpc_client_set_error(c, reason);
    if (was_connected) {
        VLOG_INFO("%s: connection dropped (%s)", name, reason);
        reconn_disconnected(&c->fsm, now);
    } else {
        VLOG_INFO_RL(&rl, "%s: connection attempt failed (%s)", name,
                     reason);
        reconn_connect_failed(&c->fsm, now);
    }
    c->cur = (c->cur + 1) % c->n_remotes;
    if (was_connected) {
        c->cbs.disconnected(c, reason, c->aux);
    }
    jrpc_client_schedule(c);
}

static void
jrpc_client_stream_msg(struct jrpc_stream *stream OVS_UNUSED, json_t *msg,
                       void *c_)
{
    struct jrpc_client *c = c_;

    reconn_activity(&c->fsm, uv_now(c->loop));
    c->cbs.msg(c, msg, c->aux);
    jrpc_client_schedule(c);
}

static void
jrpc_client_stream_error(struct jrpc_stream *stream OVS_UNUSED, int error,
                         const char *reason, void *c_)
{
    struct jrpc_client *c = c_;

    /* A peer that goes away is an event (logged by jrpc_client_drop()); a
     * peer that sends what cannot be parsed is a fault. */
    if (error == -EPROTO || error == -EMSGSIZE) {
        VLOG_WARN_RL(&rl, "%s: %s", c->remotes[c->cur].name, reason);
    }
    jrpc_client_drop(c, reason);
}

static void
jrpc_client_connect_cb(uv_connect_t *req, int status)
{
    struct jrpc_connect *attempt = req->data;
    struct jrpc_client *c = attempt->client;
    struct jrpc_stream *stream = attempt->stream;

    free(attempt);
    if (status == UV_ECANCELED || c->stream != stream) {
        /* The attempt was abandoned (timed out, or the client went). */
        return;
    }
    if (status < 0) {
        jrpc_client_drop(c, uv_strerror(status));
        return;
    }

    const char *name = c->remotes[c->cur].name;
    int error = jrpc_stream_start(stream, name);
    if (error) {
        jrpc_client_drop(c, uv_strerror(error));
        return;
    }
    VLOG_INFO("%s: connected", name);
    c->connecting = false;
    reconn_connected(&c->fsm, uv_now(c->loop));
    c->cbs.connected(c, c->aux);
    jrpc_client_schedule(c);
}

static void
jrpc_client_connect(struct jrpc_client *c)
{
    static const struct jrpc_stream_cbs stream_cbs = {
        .msg = jrpc_client_stream_msg,
        .error = jrpc_client_stream_error,
    };
    const struct jrpc_remote *remote = &c->remotes[c->cur];
    struct jrpc_connect *attempt;
    int error = 0;

    c->stream = jrpc_stream_create(c->loop,
                                   remote->is_unix ? UV_NAMED_PIPE : UV_TCP,
                                   c->max_msg_size, &stream_cbs, c);
    c->connecting = true;
    reconn_connecting(&c->fsm, uv_now(c->loop));
    VLOG_DBG("%s: connecting", remote->name);

    attempt = iovp_xmalloc(sizeof *attempt);
    attempt->req.data = attempt;
    attempt->client = c;
    attempt->stream = c->stream;
    if (remote->is_unix) {
        uv_pipe_connect(&attempt->req,
                        (uv_pipe_t *) jrpc_stream_handle(c->stream),
                        remote->path, jrpc_client_connect_cb);
    } else {
        error = uv_tcp_connect(&attempt->req,
                               (uv_tcp_t *) jrpc_stream_handle(c->stream),
                               (const struct sockaddr *) &remote->ss,
                               jrpc_client_connect_cb);
    }
    if (error) {
        free(attempt);
        jrpc_client_drop(c, uv_strerror(error));
    }
}

static void
jrpc_client_timer_cb(uv_timer_t *timer)
{
    struct jrpc_client *c = timer->data;

    switch (reconn_run(&c->fsm, uv_now(c->loop))) {
    case RECONN_CONNECT:
        jrpc_client_connect(c);
        break;
    case RECONN_DISCONNECT:
        jrpc_client_drop(c, (c->connecting
                             ? "connection attempt timed out"
                             : "no response to inactivity probe"));
        break;
    case RECONN_PROBE:
        c->cbs.probe(c, c->aux);
        break;
    case RECONN_NONE:
        break;
    }
    jrpc_client_schedule(c);
}

/* Sets the timer for the state machine's next deadline. */
static void
jrpc_client_schedule(struct jrpc_client *c)
{
    long long int deadline = reconn_timeout(&c->fsm);

    if (deadline == LLONG_MAX) {
        uv_timer_stop(&c->timer);
    } else {
        long long int now = uv_now(c->loop);
        uv_timer_start(&c->timer, jrpc_client_timer_cb,
                       deadline > now ? deadline - now : 0, 0);
    }
}

/* Creates a client on 'loop' for 'remotes' (see the top of this file) and
 * starts connecting.  Returns NULL and the client in '*clientp', or a
 * malloc()'d error (a bad remote) and NULL. */
char *
jrpc_client_create(struct uv_loop_s *loop, const char *remotes,
                   const struct jrpc_client_options *options,
                   const struct jrpc_client_cbs *cbs, void *aux,
                   struct jrpc_client **clientp)
{
    char **names;
    size_t n;
    char *error;

    *clientp = NULL;
    error = jrpc_client_parse_remotes(remotes, &names, &n);
    if (error) {
        return error;
    }

    struct jrpc_client *c = iovp_xzalloc(sizeof *c);
    unsigned int seed = options->seed;
    c->loop = loop;
    c->cbs = *cbs;
    c->aux = aux;
    c->remotes = iovp_xmalloc(n * sizeof *c->remotes);
    c->n_remotes = n;
    for (size_t i = 0; i < n; i++) {
        jrpc_remote_parse(names[i], &c->remotes[i]);
        free(names[i]);
    }
    free(names);

    /* As OVS's client does, try a cluster's members in a shuffled order,
     * so that its clients spread over them. */
    for (size_t i = n; i > 1; i--) {
        size_t j = rand_r(&seed) % i;
        struct jrpc_remote tmp = c->remotes[i - 1];
        c->remotes[i - 1] = c->remotes[j];
        c->remotes[j] = tmp;
    }

    c->max_msg_size = (options->max_msg_size ? options->max_msg_size
                       : JRPC_CLIENT_MAX_MSG_SIZE);
    reconn_init(&c->fsm, options->seed);
    reconn_set_backoff(&c->fsm,
                       (options->min_backoff ? options->min_backoff
                        : JRPC_CLIENT_MIN_BACKOFF),
                       (options->max_backoff ? options->max_backoff
                        : JRPC_CLIENT_MAX_BACKOFF));
    reconn_set_probe_interval(&c->fsm, options->probe_interval);
    reconn_set_free_tries(&c->fsm, n);

    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    reconn_enable(&c->fsm, uv_now(loop));
    jrpc_client_schedule(c);

    *clientp = c;
    return NULL;
}

static void
jrpc_client_close_cb(uv_handle_t *timer)
{
    struct jrpc_client *c = timer->data;

    for (size_t i = 0; i < c->n_remotes; i++) {
        jrpc_remote_destroy(&c->remotes[i]);
    }
    free(c->remotes);
    free(c->last_error);
    free(c);
}

/* Closes the connection, if any, and frees 'c' once libuv has closed its
 * handles.  No callback is made.  Accepts NULL. */
void
jrpc_client_destroy(struct jrpc_client *c)
{
    if (c) {
        jrpc_stream_close(c->stream);
        c->stream = NULL;
        uv_close((uv_handle_t *) &c->timer, jrpc_client_close_cb);
    }
}

/* Sends 'msg' (stolen, even on failure).  Returns 0, or -ENOTCONN when not
 * connected, or another negative errno value. */
int
jrpc_client_send(struct jrpc_client *c, json_t *msg)
{
    if (!c->stream || c->connecting) {
        json_decref(msg);
        return -ENOTCONN;
    }
    return jrpc_stream_send(c->stream, msg);
}

/* Drops the connection for 'reason', if there is one, and tries the next
 * remote. */
void
jrpc_client_reconnect(struct jrpc_client *c, const char *reason)
{
    jrpc_client_drop(c, reason);
}

bool
jrpc_client_is_connected(const struct jrpc_client *c)
{
    return c->stream && !c->connecting;
}

/* Returns the remote in use, or the next one to try. */
const char *
jrpc_client_remote(const struct jrpc_client *c)
{
    return c->remotes[c->cur].name;
}

/* Returns the name of the connection's state. */
const char *
jrpc_client_state(const struct jrpc_client *c)
{
    return reconn_state_to_string(c->fsm.state);
}

/* Returns how many connections have been made. */
unsigned int
jrpc_client_n_connections(const struct jrpc_client *c)
{
    return c->fsm.n_connections;
}

/* Returns why the last connection or attempt ended, or NULL. */
const char *
jrpc_client_last_error(const struct jrpc_client *c)
{
    return c->last_error;
}
