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

#ifndef IOVP_OFP_CLIENT_H
#define IOVP_OFP_CLIENT_H 1

/* An OpenFlow client of a switch: the session of ofp/ofconn.h on a
 * connection that keeps itself up (lib/byte-client.h), as ovsdb/client.h
 * is for OVSDB.  What the switch sends that the session cannot take is
 * logged, rate-limited, with the remote and the reason, and the connection
 * is made again. */

#include <jansson.h>
#include <stddef.h>

#include <openflow/openflow.h>

#include "lib/byte-client.h"

struct uv_loop_s;
struct ofpbuf;
struct ovs_list;
struct ofp_client;

struct ofp_client_cbs {
    /* The session became active at 'version' (a new connection). */
    void (*active)(struct ofp_client *, enum ofp_version, void *aux);

    /* The connection is gone. */
    void (*disconnected)(struct ofp_client *, void *aux);

    /* A message from the switch that the session does not handle itself;
     * the callee owns 'msg'. */
    void (*msg)(struct ofp_client *, struct ofpbuf *msg, void *aux);
};

char *ofp_client_create(struct uv_loop_s *, const char *remote,
                        const struct bclient_options *,
                        const struct ofp_client_cbs *, void *aux,
                        struct ofp_client **);
void ofp_client_destroy(struct ofp_client *);
void ofp_client_send(struct ofp_client *, struct ovs_list *msgs);
void ofp_client_reconnect(struct ofp_client *, const char *reason);
size_t ofp_client_backlog(const struct ofp_client *);

json_t *ofp_client_status(const struct ofp_client *);

#endif /* ofp/client.h */
