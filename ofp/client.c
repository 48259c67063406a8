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

#include "ofp/client.h"

#include <stdbool.h>
#include <stdlib.h>

#include <openvswitch/list.h>
#include <openvswitch/ofp-protocol.h>
#include <openvswitch/ofpbuf.h>
#include <openvswitch/vlog.h>

#include "lib/util.h"
#include "ofp/ofconn.h"

VLOG_DEFINE_THIS_MODULE(ofp_client);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

struct ofp_client {
    struct bclient *conn;
    struct ofconn *session;
    struct ofp_client_cbs cbs;
    void *aux;
};

/* How many bytes of queued messages ofp_client_flush() writes at once, at
 * most (a message larger than that goes alone). */
#define OFP_CLIENT_WRITE_SIZE (64 * 1024)

/* Sends the bytes in 'out' and empties it. */
static void
ofp_client_write(struct ofp_client *c, struct ofpbuf *out)
{
    size_t size = out->size;

    bclient_send(c->conn, ofpbuf_steal_data(out), size);
    ofpbuf_init(out, 0);
}

/* Sends what the session has queued, several messages a write (a full
 * flow sync is tens of thousands of small messages: a write each cost
 * iovpd more than encoding them), and hands on what it received. */
static void
ofp_client_flush(struct ofp_client *c)
{
    struct ofpbuf out;
    struct ofpbuf *msg;

    ofpbuf_init(&out, 0);
    while ((msg = ofconn_pop(c->session))) {
        if (out.size && out.size + msg->size > OFP_CLIENT_WRITE_SIZE) {
            ofp_client_write(c, &out);
        }
        ofpbuf_put(&out, msg->data, msg->size);
        ofpbuf_delete(msg);
    }
    if (out.size) {
        ofp_client_write(c, &out);
    }
    ofpbuf_uninit(&out);
    while ((msg = ofconn_pop_received(c->session))) {
        c->cbs.msg(c, msg, c->aux);
    }
}

static void
ofp_client_connected(struct bclient *conn OVS_UNUSED, void *c_)
{
    struct ofp_client *c = c_;

    ofconn_connected(c->session);
    ofp_client_flush(c);
}

static void
ofp_client_disconnected(struct bclient *conn OVS_UNUSED,
                        const char *reason OVS_UNUSED, void *c_)
{
    struct ofp_client *c = c_;

    ofconn_disconnected(c->session);
    c->cbs.disconnected(c, c->aux);
}

static void
ofp_client_data(struct bclient *conn, const char *data, size_t n, void *c_)
{
    struct ofp_client *c = c_;
    bool was_active = ofconn_get_state(c->session) == OFCONN_ACTIVE;
    char *error = ofconn_receive(c->session, data, n);

    if (!was_active && ofconn_get_state(c->session) == OFCONN_ACTIVE) {
        c->cbs.active(c, ofconn_get_version(c->session), c->aux);
    }
    ofp_client_flush(c);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: %s; dropping the connection",
                     bclient_remote(conn), error);
        bclient_reconnect(conn, error);
        free(error);
    }
}

static void
ofp_client_probe(struct bclient *conn OVS_UNUSED, void *c_)
{
    struct ofp_client *c = c_;

    ofconn_probe(c->session);
    ofp_client_flush(c);
}

/* Creates a client of the switch at 'remote' (see lib/byte-client.h) that
 * speaks OpenFlow 1.3 to 1.5 and tells 'cbs', with 'aux', what happens.
 * Returns NULL and the client in '*clientp', or a malloc()'d error. */
char *
ofp_client_create(struct uv_loop_s *loop, const char *remote,
                  const struct bclient_options *options,
                  const struct ofp_client_cbs *client_cbs, void *aux,
                  struct ofp_client **clientp)
{
    static const struct bclient_cbs cbs = {
        .connected = ofp_client_connected,
        .disconnected = ofp_client_disconnected,
        .data = ofp_client_data,
        .probe = ofp_client_probe,
    };
    struct ofp_client *c = iovp_xzalloc(sizeof *c);
    char *error;

    *clientp = NULL;
    c->cbs = *client_cbs;
    c->aux = aux;
    c->session = ofconn_create((1u << OFP13_VERSION) | (1u << OFP14_VERSION)
                               | (1u << OFP15_VERSION));
    error = bclient_create(loop, remote, options, &cbs, c, &c->conn);
    if (error) {
        ofconn_destroy(c->session);
        free(c);
        return error;
    }
    *clientp = c;
    return NULL;
}

/* Closes 'c'.  Accepts NULL. */
void
ofp_client_destroy(struct ofp_client *c)
{
    if (c) {
        bclient_destroy(c->conn);
        ofconn_destroy(c->session);
        free(c);
    }
}

/* Sends the messages on 'msgs' (taken: the list is left empty) to the
 * switch, if connected; otherwise they are dropped, as the connection's
 * state will be read again on the next. */
void
ofp_client_send(struct ofp_client *c, struct ovs_list *msgs)
{
    bool active = ofconn_get_state(c->session) == OFCONN_ACTIVE;
    struct ofpbuf *msg;

    LIST_FOR_EACH_POP (msg, list_node, msgs) {
        if (active) {
            ofconn_send(c->session, msg);
        } else {
            ofpbuf_delete(msg);
        }
    }
    if (active) {
        ofp_client_flush(c);
    }
}

/* Drops the connection of 'c' for 'reason', to connect again after the
 * back-off. */
void
ofp_client_reconnect(struct ofp_client *c, const char *reason)
{
    bclient_reconnect(c->conn, reason);
}

/* Returns the bytes queued for the peer that it has not read yet. */
size_t
ofp_client_backlog(const struct ofp_client *c)
{
    return bclient_backlog(c->conn);
}

/* Returns a new reference to the status of 'c', for ofp/status. */
json_t *
ofp_client_status(const struct ofp_client *c)
{
    const struct ofconn_stats *stats = ofconn_get_stats(c->session);
    enum ofconn_state state = ofconn_get_state(c->session);
    const char *error = bclient_last_error(c->conn);

    return json_pack(
        "{s:s, s:s, s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
        "remote", bclient_remote(c->conn),
        "connection", bclient_state(c->conn),
        "sec_since_connect", (json_int_t) bclient_sec_connected(c->conn),
        "state", ofconn_state_to_string(state),
        "version", (state == OFCONN_ACTIVE
                    ? ofputil_version_to_string(
                        ofconn_get_version(c->session))
                    : "none"),
        "connections", (json_int_t) bclient_n_connections(c->conn),
        "received", (json_int_t) stats->n_received,
        "sent", (json_int_t) stats->n_sent,
        "echo_requests", (json_int_t) stats->n_echo_requests,
        "echo_replies", (json_int_t) stats->n_echo_replies,
        "errors", (json_int_t) stats->n_errors,
        "last_error", error ? json_string(error) : json_null());
}
