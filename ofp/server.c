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

#include "ofp/server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <openvswitch/list.h>
#include <openvswitch/ofp-protocol.h>
#include <openvswitch/ofpbuf.h>
#include <openvswitch/vlog.h>

#include "lib/byte-stream.h"
#include "lib/tls.h"
#include "lib/util.h"
#include "ofp/ofconn.h"

VLOG_DEFINE_THIS_MODULE(ofp_server);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

struct ofp_server {
    uv_loop_t *loop;
    char *target;
    bool is_unix;
    struct tls_context *tls;    /* For pssl:, else NULL. */
    char *path;                 /* punix: the socket's file name. */
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } listener;
    uint32_t versions;
    int probe_interval;
    struct ofp_server_cbs cbs;
    void *aux;
    struct ovs_list conns;      /* "struct ofp_server_conn"s. */
    unsigned int n_accepted;
};

struct ofp_server_conn {
    struct ovs_list node;       /* In its server's 'conns'. */
    struct ofp_server *server;
    void *aux;                  /* From the 'accepted' callback. */
    char *name;
    struct bstream *stream;
    struct tls_conn *tls;       /* For pssl:, else NULL. */
    struct ofconn *session;
    uv_timer_t probe;
    bool heard;                 /* A message came since the last tick. */
    bool probed;                /* An echo request is out, unanswered. */
    bool closing;
    long long int connected_at;
};

static void ofp_server_conn_flush(struct ofp_server_conn *);
static void ofp_server_free(uv_handle_t *listener);
static void ofp_server_conn_write(struct ofp_server_conn *, char *data,
                                  size_t n);

/* Returns true if 'target' names a passive listener. */
bool
ofp_server_is_target(const char *target)
{
    return (!strncmp(target, "ptcp:", 5) || !strncmp(target, "pssl:", 5)
            || !strncmp(target, "punix:", 6));
}

static void
ofp_server_conn_free(uv_handle_t *timer)
{
    struct ofp_server_conn *conn = timer->data;

    free(conn->name);
    free(conn);
}

/* Closes 'conn' for 'reason': its owner hears of it through 'closed', at
 * once.  Accepts a connection that is already closing. */
void
ofp_server_conn_close(struct ofp_server_conn *conn, const char *reason)
{
    if (conn->closing) {
        return;
    }
    conn->closing = true;
    VLOG_INFO("%s: %s", conn->name, reason);
    ovs_list_remove(&conn->node);
    conn->server->cbs.closed(conn, reason, conn->aux);
    bstream_close(conn->stream);
    tls_conn_destroy(conn->tls);
    ofconn_destroy(conn->session);
    uv_timer_stop(&conn->probe);
    uv_close((uv_handle_t *) &conn->probe, ofp_server_conn_free);
}

/* Takes the 'n' bytes at 'data' of OpenFlow from the peer. */
static void
ofp_server_conn_input(struct ofp_server_conn *conn, const char *data,
                      size_t n)
{
    bool was_active = ofconn_get_state(conn->session) == OFCONN_ACTIVE;
    char *error = ofconn_receive(conn->session, data, n);

    conn->heard = true;
    conn->probed = false;
    if (!was_active && ofconn_get_state(conn->session) == OFCONN_ACTIVE) {
        conn->server->cbs.active(conn, ofconn_get_version(conn->session),
                                 conn->aux);
    }
    if (!conn->closing) {
        ofp_server_conn_flush(conn);
    }
    if (error) {
        VLOG_WARN_RL(&rl, "%s: %s", conn->name, error);
        ofp_server_conn_close(conn, error);
        free(error);
    }
}

/* Sends on 'conn' the 'n' bytes at 'data' (malloc()'d, taken), through its
 * TLS session if it has one. */
static void
ofp_server_conn_write(struct ofp_server_conn *conn, char *data, size_t n)
{
    if (!conn->tls) {
        bstream_send(conn->stream, data, n);
        return;
    }
    int error = tls_conn_write(conn->tls, data, n);
    free(data);
    if (error) {
        ofp_server_conn_close(conn, tls_conn_error(conn->tls));
        return;
    }

    size_t out_n;
    char *out = tls_conn_output(conn->tls, &out_n);
    if (out) {
        bstream_send(conn->stream, out, out_n);
    }
}

/* Feeds the 'n' bytes at 'data' from the peer to the TLS session of
 * 'conn', and the OpenFlow they carry to the session. */
static void
ofp_server_tls_data(struct ofp_server_conn *conn, const char *data,
                    size_t n)
{
    bool was_established = tls_conn_is_established(conn->tls);
    int error = tls_conn_input(conn->tls, data, n);
    size_t out_n;
    char *out = tls_conn_output(conn->tls, &out_n);

    if (out) {
        bstream_send(conn->stream, out, out_n);
    }
    if (error) {
        ofp_server_conn_close(conn, tls_conn_error(conn->tls));
        return;
    }
    if (!was_established && tls_conn_is_established(conn->tls)) {
        char *s = tls_conn_describe(conn->tls);
        VLOG_INFO("%s: %s", conn->name, s);
        free(s);
        ofconn_connected(conn->session);
        ofp_server_conn_flush(conn);
    }
    while (!conn->closing) {
        char buf[16384];
        ssize_t got = tls_conn_read(conn->tls, buf, sizeof buf);

        if (got < 0) {
            ofp_server_conn_close(conn, tls_conn_error(conn->tls));
        } else if (!got) {
            break;
        } else {
            ofp_server_conn_input(conn, buf, got);
        }
    }
}

static void
ofp_server_stream_data(struct bstream *stream OVS_UNUSED, const char *data,
                       size_t n, void *conn_)
{
    struct ofp_server_conn *conn = conn_;

    if (conn->tls) {
        ofp_server_tls_data(conn, data, n);
    } else {
        ofp_server_conn_input(conn, data, n);
    }
}

static void
ofp_server_stream_error(struct bstream *stream OVS_UNUSED, int error,
                        const char *reason, void *conn_)
{
    struct ofp_server_conn *conn = conn_;

    ofp_server_conn_close(conn, error == UV_EOF ? "connection closed by peer"
                          : reason);
}

static void
ofp_server_probe_cb(uv_timer_t *timer)
{
    struct ofp_server_conn *conn = timer->data;

    if (conn->heard) {
        conn->heard = false;
    } else if (conn->probed) {
        ofp_server_conn_close(conn, "no response to inactivity probe");
    } else {
        conn->probed = true;
        ofconn_probe(conn->session);
        ofp_server_conn_flush(conn);
    }
}

/* Sends what the session has queued and hands on what it received. */
static void
ofp_server_conn_flush(struct ofp_server_conn *conn)
{
    struct ofpbuf *msg;

    while (!conn->closing && (msg = ofconn_pop(conn->session))) {
        size_t size = msg->size;
        ofp_server_conn_write(conn, ofpbuf_steal_data(msg), size);
        ofpbuf_delete(msg);
    }
    while (!conn->closing && (msg = ofconn_pop_received(conn->session))) {
        conn->server->cbs.msg(conn, msg, conn->aux);
    }
}

/* Returns a malloc()'d name for the peer of 'stream', accepted by
 * 'server'. */
static char *
ofp_server_peer_name(struct ofp_server *server, uv_stream_t *stream)
{
    if (!server->is_unix) {
        struct sockaddr_storage ss;
        int len = sizeof ss;
        char ip[INET6_ADDRSTRLEN] = "?";
        int port = 0;

        if (!uv_tcp_getpeername((uv_tcp_t *) stream, (struct sockaddr *) &ss,
                                &len)) {
            if (ss.ss_family == AF_INET6) {
                const struct sockaddr_in6 *sin6 = (void *) &ss;
                uv_ip6_name(sin6, ip, sizeof ip);
                port = ntohs(sin6->sin6_port);
                return iovp_xasprintf("tcp:[%s]:%d", ip, port);
            }
            const struct sockaddr_in *sin = (void *) &ss;
            uv_ip4_name(sin, ip, sizeof ip);
            port = ntohs(sin->sin_port);
        }
        return iovp_xasprintf("tcp:%s:%d", ip, port);
    }
    return iovp_xasprintf("unix#%u", server->n_accepted);
}

static void
ofp_server_connection_cb(uv_stream_t *listener, int status)
{
    static const struct bstream_cbs stream_cbs = {
        .data = ofp_server_stream_data,
        .error = ofp_server_stream_error,
    };
    struct ofp_server *server = listener->data;

    if (status < 0) {
        VLOG_WARN_RL(&rl, "%s: accept failed (%s)", server->target,
                     uv_strerror(status));
        return;
    }

    struct ofp_server_conn *conn = iovp_xzalloc(sizeof *conn);
    conn->server = server;
    conn->stream = bstream_create(server->loop, server->listener.handle.type,
                                  &stream_cbs, conn);
    if (!conn->stream) {
        free(conn);
        return;
    }
    int error = uv_accept(listener, bstream_handle(conn->stream));
    if (error) {
        VLOG_WARN_RL(&rl, "%s: accept failed (%s)", server->target,
                     uv_strerror(error));
        bstream_close(conn->stream);
        free(conn);
        return;
    }
    server->n_accepted++;
    conn->name = ofp_server_peer_name(server, bstream_handle(conn->stream));
    conn->session = ofconn_create(server->versions);
    conn->connected_at = uv_now(server->loop);
    uv_timer_init(server->loop, &conn->probe);
    conn->probe.data = conn;
    ovs_list_push_back(&server->conns, &conn->node);
    VLOG_INFO("%s: accepted on %s", conn->name, server->target);

    conn->aux = server->cbs.accepted(conn, server->aux);
    if (bstream_start(conn->stream, conn->name)) {
        ofp_server_conn_close(conn, "could not read from the connection");
        return;
    }
    if (server->probe_interval > 0) {
        uv_timer_start(&conn->probe, ofp_server_probe_cb,
                       server->probe_interval, server->probe_interval);
    }
    if (server->tls) {
        /* OpenFlow's hello once the TLS handshake is done. */
        conn->tls = tls_conn_create_server(server->tls);
    } else {
        ofconn_connected(conn->session);
        ofp_server_conn_flush(conn);
    }
}

/* Parses 'target' into 'server' and binds its listener.  Returns NULL or
 * a malloc()'d error. */
static char *
ofp_server_bind(struct ofp_server *server, const char *target)
{
    int error;

    if (!strncmp(target, "punix:", 6)) {
        if (!target[6]) {
            return iovp_xasprintf("%s: missing socket file name", target);
        }
        server->is_unix = true;
        server->path = iovp_xstrdup(target + 6);
        uv_pipe_init(server->loop, &server->listener.pipe, 0);
        unlink(server->path);
        mode_t old_umask = umask(0077);
        error = uv_pipe_bind(&server->listener.pipe, server->path);
        umask(old_umask);
    } else if (!strncmp(target, "ptcp:", 5) || !strncmp(target, "pssl:", 5)) {
        const char *port_s = target + 5;
        const char *colon = strchr(port_s, ':');
        char *ip = iovp_xstrdup(colon ? colon + 1 : "0.0.0.0");
        char *end;
        long int port = strtol(port_s, &end, 10);
        struct sockaddr_storage ss;

        if (ip[0] == '[' && ip[strlen(ip) - 1] == ']') {
            memmove(ip, ip + 1, strlen(ip) - 2);
            ip[strlen(ip) - 2] = '\0';
        }
        if ((*end && *end != ':') || port < 0 || port > 65535
            || (uv_ip4_addr(ip, port, (struct sockaddr_in *) &ss)
                && uv_ip6_addr(ip, port, (struct sockaddr_in6 *) &ss))) {
            free(ip);
            return iovp_xasprintf("%s: expected %.5sPORT[:IP]", target,
                                  target);
        }
        free(ip);
        uv_tcp_init(server->loop, &server->listener.tcp);
        error = uv_tcp_bind(&server->listener.tcp, (struct sockaddr *) &ss,
                            0);
    } else {
        return iovp_xasprintf("%s: unknown listener (use ptcp:PORT[:IP], "
                              "pssl:PORT[:IP] or punix:PATH)", target);
    }
    server->listener.handle.data = server;
    if (!error) {
        error = uv_listen(&server->listener.stream, 16,
                          ofp_server_connection_cb);
    }
    if (error) {
        uv_close(&server->listener.handle, ofp_server_free);
        return iovp_xasprintf("%s: cannot listen (%s)", target,
                              uv_strerror(error));
    }
    return NULL;
}

/* Listens on 'target' for connections that speak OpenFlow of
 * 'allowed_versions' (a bitmap of "enum ofp_version"s), probed every
 * 'probe_interval' ms (0: never), over TLS in context 'tls' (which must
 * outlive the server) for a pssl: target, and tells 'cbs', with 'aux', of
 * each.
 * Returns NULL and the server in '*serverp', or a malloc()'d error. */
char *
ofp_server_create(struct uv_loop_s *loop, const char *target,
                  uint32_t allowed_versions, int probe_interval,
                  struct tls_context *tls,
                  const struct ofp_server_cbs *cbs, void *aux,
                  struct ofp_server **serverp)
{
    struct ofp_server *server = iovp_xzalloc(sizeof *server);

    *serverp = NULL;
    if (!strncmp(target, "pssl:", 5)) {
        if (!tls) {
            free(server);
            return iovp_xasprintf("%s: pssl: needs the TLS options "
                                  "(--private-key, --certificate, "
                                  "--ca-cert)", target);
        }
        server->tls = tls;
    }
    server->loop = loop;
    server->target = iovp_xstrdup(target);
    server->versions = allowed_versions;
    server->probe_interval = probe_interval;
    server->cbs = *cbs;
    server->aux = aux;
    ovs_list_init(&server->conns);

    char *error = ofp_server_bind(server, target);
    if (error) {
        /* The listener, if any, is closing: libuv frees 'server' with it
         * (ofp_server_free()). */
        if (!server->listener.handle.data) {
            free(server->path);
            free(server->target);
            free(server);
        }
        return error;
    }
    VLOG_INFO("%s: listening", target);
    *serverp = server;
    return NULL;
}

static void
ofp_server_free(uv_handle_t *listener)
{
    struct ofp_server *server = listener->data;

    free(server->target);
    free(server->path);
    free(server);
}

/* Closes 'server' and every connection it accepted.  Accepts NULL. */
void
ofp_server_destroy(struct ofp_server *server)
{
    if (server) {
        struct ofp_server_conn *conn;

        LIST_FOR_EACH_SAFE (conn, node, &server->conns) {
            ofp_server_conn_close(conn, "the switch stops listening");
        }
        if (server->path) {
            unlink(server->path);
        }
        uv_close(&server->listener.handle, ofp_server_free);
    }
}

const char *
ofp_server_target(const struct ofp_server *server)
{
    return server->target;
}

/* Sends the messages on 'msgs' (taken: the list is left empty) on 'conn',
 * if it is active; otherwise they are dropped. */
void
ofp_server_conn_send(struct ofp_server_conn *conn, struct ovs_list *msgs)
{
    bool active = (!conn->closing
                   && ofconn_get_state(conn->session) == OFCONN_ACTIVE);
    struct ofpbuf *msg;

    LIST_FOR_EACH_POP (msg, list_node, msgs) {
        if (active) {
            ofconn_send(conn->session, msg);
        } else {
            ofpbuf_delete(msg);
        }
    }
    if (active) {
        ofp_server_conn_flush(conn);
    }
}

const char *
ofp_server_conn_name(const struct ofp_server_conn *conn)
{
    return conn->name;
}

/* Returns the bytes queued on 'conn' that the peer has not read yet. */
size_t
ofp_server_conn_backlog(const struct ofp_server_conn *conn)
{
    return conn->closing ? 0 : bstream_backlog(conn->stream);
}

/* Returns a new reference to the status of 'conn'. */
json_t *
ofp_server_conn_status(const struct ofp_server_conn *conn)
{
    const struct ofconn_stats *stats = ofconn_get_stats(conn->session);
    enum ofconn_state state = ofconn_get_state(conn->session);

    return json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:I, s:I}",
        "remote", conn->name,
        "connection", "ACTIVE",
        "state", ofconn_state_to_string(state),
        "version", (state == OFCONN_ACTIVE
                    ? ofputil_version_to_string(
                        ofconn_get_version(conn->session))
                    : "none"),
        "sec_since_connect", (json_int_t) ((uv_now(conn->server->loop)
                                        - conn->connected_at) / 1000),
        "received", (json_int_t) stats->n_received,
        "sent", (json_int_t) stats->n_sent);
}
