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

#include "lib/byte-client.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include <openvswitch/vlog.h>

#include "lib/byte-stream.h"
#include "lib/reconnect.h"
#include "lib/tls.h"
#include "lib/util.h"

VLOG_DEFINE_THIS_MODULE(bclient);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* A remote, parsed. */
struct bclient_remote {
    char *name;                 /* As the user wrote it. */
    bool is_unix;
    bool is_ssl;                /* ssl: TCP with TLS over it. */
    char *path;                 /* unix: the socket's file name. */
    struct sockaddr_storage ss; /* tcp, ssl: the address. */
};

struct bclient {
    uv_loop_t *loop;
    uv_timer_t timer;
    struct bclient_cbs cbs;
    void *aux;

    struct bclient_remote *remotes;
    size_t n_remotes;
    size_t cur;                 /* The remote in use or next to try. */

    struct reconn fsm;
    struct bstream *stream; /* Connecting or connected, or NULL. */
    bool connecting;            /* Until TCP is up, and TLS if any. */
    char *last_error;

    struct tls_context *tls_context;    /* For ssl: remotes, or NULL. */
    struct tls_conn *tls;       /* TLS over 'stream', or NULL. */
    bool tls_heard;             /* Data came over 'tls' after handshake. */
};

/* A connection attempt, which may outlive the stream it was for. */
struct bclient_connect {
    uv_connect_t req;
    struct bclient *client;
    struct bstream *stream;
};

static void bclient_schedule(struct bclient *);

static void
bclient_remote_destroy(struct bclient_remote *remote)
{
    free(remote->name);
    free(remote->path);
}

/* Parses one remote 'name' into 'remote'. */
static char *
bclient_remote_parse(const char *name, struct bclient_remote *remote)
{
    memset(remote, 0, sizeof *remote);
    if (!strncmp(name, "unix:", 5)) {
        if (!name[5]) {
            return iovp_xasprintf("%s: missing socket file name", name);
        }
        remote->is_unix = true;
        remote->path = iovp_xstrdup(name + 5);
    } else if (!strncmp(name, "tcp:", 4) || !strncmp(name, "ssl:", 4)) {
        const char *host = name + 4;
        const char *colon;
        char *addr;

        remote->is_ssl = name[0] == 's';
        if (host[0] == '[') {
            const char *end = strchr(host, ']');
            if (!end || end[1] != ':') {
                return iovp_xasprintf("%s: expected %.3s:[IPv6]:PORT", name,
                                      name);
            }
            addr = iovp_xasprintf("%.*s", (int) (end - host - 1), host + 1);
            colon = end + 1;
        } else {
            colon = strrchr(host, ':');
            if (!colon) {
                return iovp_xasprintf("%s: expected %.3s:IP:PORT", name,
                                      name);
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
        return iovp_xasprintf("%s: unknown remote (use unix:PATH, "
                              "tcp:IP:PORT or ssl:IP:PORT)", name);
    }
    remote->name = iovp_xstrdup(name);
    return NULL;
}

/* Splits the comma-separated 'remotes' into a malloc()'d array of
 * malloc()'d names in '*remotesp' ('*np' of them), checking each.  Returns
 * NULL, or a malloc()'d error with nothing allocated. */
char *
bclient_parse_remotes(const char *remotes, char ***remotesp, size_t *np)
{
    char *copy = iovp_xstrdup(remotes);
    char **names = NULL;
    size_t n = 0;
    char *save = NULL;
    char *error = NULL;

    for (char *name = strtok_r(copy, ", ", &save); name;
         name = strtok_r(NULL, ", ", &save)) {
        struct bclient_remote remote;
        error = bclient_remote_parse(name, &remote);
        if (error) {
            break;
        }
        bclient_remote_destroy(&remote);
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
bclient_set_error(struct bclient *c, const char *reason)
{
    char *copy = iovp_xstrdup(reason);

    free(c->last_error);
    c->last_error = copy;
}

/* Closes the connection's stream, if any, and its TLS session, ending the
 * session with a close_notify alert if it is up. */
static void
bclient_close_stream(struct bclient *c)
{
    struct bstream *stream = c->stream;
    struct tls_conn *tls = c->tls;

    /* Detached first: a send that fails calls back into 'c'. */
    c->stream = NULL;
    c->tls = NULL;
    if (tls && stream) {
        size_t n;
        char *data;

        tls_conn_close_notify(tls);
        data = tls_conn_output(tls, &n);
        if (data) {
            bstream_send(stream, data, n);
        }
    }
    tls_conn_destroy(tls);
    bstream_close(stream);
}

/* Drops the connection or attempt, if any, for 'reason', logged as a
 * warning if 'warn' (a failure the operator should hear of, such as a
 * peer whose certificate does not verify), and moves on to the next
 * remote. */
static void
bclient_drop__(struct bclient *c, const char *reason, bool warn)
{
    const char *name = c->remotes[c->cur].name;
    long long int now = uv_now(c->loop);
    enum vlog_level level = warn ? VLL_WARN : VLL_INFO;
    bool was_connected;

    if (!c->stream) {
        return;
    }
    /* 'reason' may belong to the TLS session, which goes now. */
    bclient_set_error(c, reason);
    reason = c->last_error;
    was_connected = !c->connecting;
    bclient_close_stream(c);
    c->connecting = false;
    if (was_connected) {
        VLOG(level, "%s: connection dropped (%s)", name, reason);
        reconn_disconnected(&c->fsm, now);
    } else {
        VLOG_RL(&rl, level, "%s: connection attempt failed (%s)", name,
                reason);
        reconn_connect_failed(&c->fsm, now);
    }
    c->cur = (c->cur + 1) % c->n_remotes;
    if (was_connected) {
        c->cbs.disconnected(c, reason, c->aux);
    }
    bclient_schedule(c);
}

/* Drops the connection or attempt, if any, for 'reason', and moves on to
 * the next remote. */
static void
bclient_drop(struct bclient *c, const char *reason)
{
    bclient_drop__(c, reason, false);
}

/* The connection to the current remote is up, with TLS if it is an ssl:
 * remote: tells the owner. */
static void
bclient_established(struct bclient *c)
{
    const char *name = c->remotes[c->cur].name;

    if (c->tls) {
        char *s = tls_conn_describe(c->tls);
        VLOG_INFO("%s: connected (%s)", name, s);
        free(s);
    } else {
        VLOG_INFO("%s: connected", name);
    }
    c->connecting = false;
    reconn_connected(&c->fsm, uv_now(c->loop));
    c->cbs.connected(c, c->aux);
}

/* Sends what the TLS session 'tls' of 'c' has for the peer.  Returns
 * false if that failed and dropped the connection ('tls' is gone). */
static bool
bclient_tls_flush(struct bclient *c, struct tls_conn *tls)
{
    size_t n;
    char *data = tls_conn_output(tls, &n);

    if (data) {
        bstream_send(c->stream, data, n);
    }
    return c->tls == tls;
}

/* Drops the TLS connection of 'c', up but with nothing heard from the
 * peer yet, for 'reason', as a warning: with TLS 1.3, a server checks the
 * client's certificate after the client's side of the handshake is done,
 * and one that refuses it drops the connection at once. */
static void
bclient_tls_drop_unheard(struct bclient *c, const char *reason)
{
    char *s = iovp_xasprintf("%s right after the TLS handshake (does the "
                             "peer trust this host's certificate?)",
                             reason);
    bclient_drop__(c, s, true);
    free(s);
}

/* Feeds the 'n' bytes at 'data' from the peer to the TLS session of 'c',
 * and what they carry to the owner. */
static void
bclient_tls_data(struct bclient *c, const char *data, size_t n)
{
    struct tls_conn *tls = c->tls;
    bool was_established = tls_conn_is_established(tls);
    int error = tls_conn_input(tls, data, n);

    if (!bclient_tls_flush(c, tls)) {
        return;
    }
    if (error) {
        /* -EAGAIN: the CA certificate was bootstrapped, not a failure. */
        bclient_drop__(c, tls_conn_error(tls), error != -EAGAIN);
        return;
    }
    if (!was_established && tls_conn_is_established(tls)) {
        c->tls_heard = false;
        bclient_established(c);
        if (c->tls != tls) {
            return;
        }
    }

    for (;;) {
        char buf[16384];
        ssize_t got = tls_conn_read(tls, buf, sizeof buf);

        if (got < 0) {
            if (c->tls_heard) {
                bclient_drop__(c, tls_conn_error(tls), true);
            } else {
                bclient_tls_drop_unheard(c, tls_conn_error(tls));
            }
            return;
        } else if (!got) {
            break;
        }
        c->tls_heard = true;
        c->cbs.data(c, buf, got, c->aux);
        if (c->tls != tls) {
            return;
        }
    }
    bclient_tls_flush(c, tls);
}

static void
bclient_stream_data(struct bstream *stream OVS_UNUSED, const char *data,
                    size_t n, void *c_)
{
    struct bclient *c = c_;

    reconn_activity(&c->fsm, uv_now(c->loop));
    if (c->tls) {
        bclient_tls_data(c, data, n);
    } else {
        c->cbs.data(c, data, n, c->aux);
    }
    bclient_schedule(c);
}

static void
bclient_stream_sent(struct bstream *stream OVS_UNUSED, void *c_)
{
    struct bclient *c = c_;

    if (c->cbs.sent) {
        c->cbs.sent(c, c->aux);
    }
}

static void
bclient_stream_error(struct bstream *stream OVS_UNUSED, int error,
                     const char *reason, void *c_)
{
    struct bclient *c = c_;

    /* A peer that goes away is an event, logged by bclient_drop(), but a
     * peer that closes the connection in the TLS handshake (a plain TCP
     * server, say, that took the ClientHello for garbage) is worth a
     * warning.  (A reset is not: a server that exits resets the
     * connections still in its backlog.) */
    if (c->tls && !tls_conn_is_established(c->tls)) {
        bool eof = error == UV_EOF;
        char *s = iovp_xasprintf("%s during the TLS handshake%s", reason,
                                 eof ? " (is the peer a TLS server?)" : "");
        bclient_drop__(c, s, eof);
        free(s);
    } else if (c->tls && !c->tls_heard) {
        bclient_tls_drop_unheard(c, reason);
    } else {
        bclient_drop(c, reason);
    }
}

static void
bclient_connect_cb(uv_connect_t *req, int status)
{
    struct bclient_connect *attempt = req->data;
    struct bclient *c = attempt->client;
    struct bstream *stream = attempt->stream;

    free(attempt);
    if (status == UV_ECANCELED || c->stream != stream) {
        /* The attempt was abandoned (timed out, or the client went). */
        return;
    }
    if (status < 0) {
        bclient_drop(c, uv_strerror(status));
        return;
    }

    const struct bclient_remote *remote = &c->remotes[c->cur];
    int error = bstream_start(stream, remote->name);
    if (error) {
        bclient_drop(c, uv_strerror(error));
        return;
    }
    if (remote->is_ssl) {
        /* Still connecting, until the handshake is done: the connection
         * attempt's timeout covers a peer that stalls in it. */
        VLOG_DBG("%s: TCP connected, starting TLS", remote->name);
        c->tls = tls_conn_create(c->tls_context);
        if (tls_conn_error(c->tls)) {
            bclient_drop__(c, tls_conn_error(c->tls), true);
        } else {
            bclient_tls_flush(c, c->tls);
        }
    } else {
        bclient_established(c);
    }
    bclient_schedule(c);
}

static void
bclient_connect(struct bclient *c)
{
    static const struct bstream_cbs stream_cbs = {
        .data = bclient_stream_data,
        .error = bclient_stream_error,
        .sent = bclient_stream_sent,
    };
    const struct bclient_remote *remote = &c->remotes[c->cur];
    struct bclient_connect *attempt;
    int error = 0;

    c->stream = bstream_create(c->loop,
                               remote->is_unix ? UV_NAMED_PIPE : UV_TCP,
                               &stream_cbs, c);
    c->connecting = true;
    reconn_connecting(&c->fsm, uv_now(c->loop));
    VLOG_DBG("%s: connecting", remote->name);

    attempt = iovp_xmalloc(sizeof *attempt);
    attempt->req.data = attempt;
    attempt->client = c;
    attempt->stream = c->stream;
    if (remote->is_unix) {
        uv_pipe_connect(&attempt->req,
                        (uv_pipe_t *) bstream_handle(c->stream),
                        remote->path, bclient_connect_cb);
    } else {
        error = uv_tcp_connect(&attempt->req,
                               (uv_tcp_t *) bstream_handle(c->stream),
                               (const struct sockaddr *) &remote->ss,
                               bclient_connect_cb);
    }
    if (error) {
        free(attempt);
        bclient_drop(c, uv_strerror(error));
    }
}

static void
bclient_timer_cb(uv_timer_t *timer)
{
    struct bclient *c = timer->data;

    switch (reconn_run(&c->fsm, uv_now(c->loop))) {
    case RECONN_CONNECT:
        bclient_connect(c);
        break;
    case RECONN_DISCONNECT:
        if (c->tls && c->connecting) {
            bclient_drop__(c, "TLS handshake timed out", true);
        } else {
            bclient_drop(c, (c->connecting
                             ? "connection attempt timed out"
                             : "no response to inactivity probe"));
        }
        break;
    case RECONN_PROBE:
        c->cbs.probe(c, c->aux);
        break;
    case RECONN_NONE:
        break;
    }
    bclient_schedule(c);
}

/* Sets the timer for the state machine's next deadline. */
static void
bclient_schedule(struct bclient *c)
{
    long long int deadline = reconn_timeout(&c->fsm);

    if (deadline == LLONG_MAX) {
        uv_timer_stop(&c->timer);
    } else {
        long long int now = uv_now(c->loop);
        uv_timer_start(&c->timer, bclient_timer_cb,
                       deadline > now ? deadline - now : 0, 0);
    }
}

/* Creates a client on 'loop' for 'remotes' (see the top of this file) and
 * starts connecting.  Returns NULL and the client in '*clientp', or a
 * malloc()'d error (a bad remote) and NULL. */
char *
bclient_create(struct uv_loop_s *loop, const char *remotes,
                   const struct bclient_options *options,
                   const struct bclient_cbs *cbs, void *aux,
                   struct bclient **clientp)
{
    char **names;
    size_t n;
    char *error;

    *clientp = NULL;
    error = bclient_parse_remotes(remotes, &names, &n);
    if (error) {
        return error;
    }

    if (!options->tls) {
        for (size_t i = 0; i < n; i++) {
            if (!strncmp(names[i], "ssl:", 4)) {
                error = iovp_xasprintf("%s: TLS is not configured (give "
                                       "--private-key, --certificate and "
                                       "--ca-cert)", names[i]);
                break;
            }
        }
        if (error) {
            for (size_t i = 0; i < n; i++) {
                free(names[i]);
            }
            free(names);
            return error;
        }
    }

    struct bclient *c = iovp_xzalloc(sizeof *c);
    unsigned int seed = options->seed;
    c->loop = loop;
    c->tls_context = options->tls;
    c->cbs = *cbs;
    c->aux = aux;
    c->remotes = iovp_xmalloc(n * sizeof *c->remotes);
    c->n_remotes = n;
    for (size_t i = 0; i < n; i++) {
        bclient_remote_parse(names[i], &c->remotes[i]);
        free(names[i]);
    }
    free(names);

    /* As OVS's client does, try a cluster's members in a shuffled order,
     * so that its clients spread over them. */
    for (size_t i = n; i > 1; i--) {
        size_t j = rand_r(&seed) % i;
        struct bclient_remote tmp = c->remotes[i - 1];
        c->remotes[i - 1] = c->remotes[j];
        c->remotes[j] = tmp;
    }

    reconn_init(&c->fsm, options->seed);
    reconn_set_backoff(&c->fsm,
                       (options->min_backoff ? options->min_backoff
                        : BCLIENT_MIN_BACKOFF),
                       (options->max_backoff ? options->max_backoff
                        : BCLIENT_MAX_BACKOFF));
    reconn_set_probe_interval(&c->fsm, options->probe_interval);
    reconn_set_connect_timeout(&c->fsm,
                               (options->connect_timeout
                                ? options->connect_timeout
                                : BCLIENT_CONNECT_TIMEOUT));
    reconn_set_free_tries(&c->fsm, n);

    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    reconn_enable(&c->fsm, uv_now(loop));
    bclient_schedule(c);

    *clientp = c;
    return NULL;
}

static void
bclient_close_cb(uv_handle_t *timer)
{
    struct bclient *c = timer->data;

    for (size_t i = 0; i < c->n_remotes; i++) {
        bclient_remote_destroy(&c->remotes[i]);
    }
    free(c->remotes);
    free(c->last_error);
    free(c);
}

/* Closes the connection, if any, and frees 'c' once libuv has closed its
 * handles.  No callback is made.  Accepts NULL. */
void
bclient_destroy(struct bclient *c)
{
    if (c) {
        bclient_close_stream(c);
        uv_close((uv_handle_t *) &c->timer, bclient_close_cb);
    }
}

/* Sends the 'n' bytes at 'data' (malloc()'d; stolen, even on failure),
 * with a send buffer that takes them at once (bstream_fit_send_buffer()).
 * Returns 0, or -ENOTCONN when not connected, or another negative errno
 * value. */
int
bclient_send(struct bclient *c, char *data, size_t n)
{
    if (!c->stream || c->connecting) {
        free(data);
        return -ENOTCONN;
    }
    if (c->tls) {
        struct tls_conn *tls = c->tls;
        int error = tls_conn_write(tls, data, n);

        free(data);
        if (error) {
            bclient_drop__(c, tls_conn_error(tls), true);
            return error;
        }
        return bclient_tls_flush(c, tls) ? 0 : -EPIPE;
    }
    bstream_fit_send_buffer(c->stream, n);
    return bstream_send(c->stream, data, n);
}

/* Drops the connection for 'reason', if there is one, and tries the next
 * remote. */
void
bclient_reconnect(struct bclient *c, const char *reason)
{
    bclient_drop(c, reason);
}

bool
bclient_is_connected(const struct bclient *c)
{
    return c->stream && !c->connecting;
}

/* Returns the remote in use, or the next one to try. */
const char *
bclient_remote(const struct bclient *c)
{
    return c->remotes[c->cur].name;
}

/* Returns the name of the connection's state. */
const char *
bclient_state(const struct bclient *c)
{
    return reconn_state_to_string(c->fsm.state);
}

/* Returns the bytes queued on the connection that the peer has not read
 * yet (0 without a connection). */
size_t
bclient_backlog(const struct bclient *c)
{
    return c->stream ? bstream_backlog(c->stream) : 0;
}

/* Returns how long the connection has been up, in seconds, or -1 if it is
 * not. */
long long int
bclient_sec_connected(const struct bclient *c)
{
    return (bclient_is_connected(c)
            ? (uv_now(c->loop) - c->fsm.connected_at) / 1000 : -1);
}

/* Returns how many connections have been made. */
unsigned int
bclient_n_connections(const struct bclient *c)
{
    return c->fsm.n_connections;
}

/* Returns how many connection attempts have been made, successful or
 * not. */
unsigned int
bclient_n_attempts(const struct bclient *c)
{
    return c->fsm.n_attempts;
}

/* Returns why the last connection or attempt ended, or NULL. */
const char *
bclient_last_error(const struct bclient *c)
{
    return c->last_error;
}
