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

#ifndef IOVP_OFP_SERVER_H
#define IOVP_OFP_SERVER_H 1

/* A passive OpenFlow listener ("ptcp:PORT[:IP]", "pssl:PORT[:IP]" with
 * TLS, or "punix:PATH") and the
 * connections it accepts: the counterpart of ofp/client.h for a switch
 * that controllers connect to.  Each connection speaks OpenFlow through
 * ofp/ofconn.h (hello, version negotiation, echo), and is probed for life
 * as OVS probes its controllers: after 'probe_interval' ms without a
 * message it sends an echo request, and after as long again without one
 * it closes the connection. */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include <openflow/openflow.h>

struct ofp_server;
struct ofp_server_conn;
struct ofpbuf;
struct ovs_list;
struct tls_context;
struct uv_loop_s;

struct ofp_server_cbs {
    /* A connection was accepted: returns what its callbacks get as
     * 'conn_aux'. */
    void *(*accepted)(struct ofp_server_conn *, void *aux);

    /* The connection negotiated 'version'. */
    void (*active)(struct ofp_server_conn *, enum ofp_version,
                   void *conn_aux);

    /* A message that the session does not handle itself; the callee owns
     * 'msg'. */
    void (*msg)(struct ofp_server_conn *, struct ofpbuf *msg,
                void *conn_aux);

    /* The connection is closed, for 'reason': no callback comes after
     * this one, and the connection is freed on return. */
    void (*closed)(struct ofp_server_conn *, const char *reason,
                   void *conn_aux);
};

char *ofp_server_create(struct uv_loop_s *, const char *target,
                        uint32_t allowed_versions, int probe_interval,
                        struct tls_context *,
                        const struct ofp_server_cbs *, void *aux,
                        struct ofp_server **);
void ofp_server_destroy(struct ofp_server *);
const char *ofp_server_target(const struct ofp_server *);
bool ofp_server_is_target(const char *target);

void ofp_server_conn_send(struct ofp_server_conn *, struct ovs_list *msgs);
void ofp_server_conn_close(struct ofp_server_conn *, const char *reason);
const char *ofp_server_conn_name(const struct ofp_server_conn *);
size_t ofp_server_conn_backlog(const struct ofp_server_conn *);
json_t *ofp_server_conn_status(const struct ofp_server_conn *);

#endif /* ofp/server.h */
