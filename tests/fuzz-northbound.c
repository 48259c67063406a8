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

/* A libFuzzer target for the OpenFlow northbound's decoder: what a
 * controller's bytes go through in iovpd (ofp/ofconn.c's framing, hello
 * and echo, then northbound/switch.c and northbound/xlate.c, decoding by
 * libopenvswitch), and the bridge's answers to what the switch relays.
 *
 * Each input is a controller's byte stream.  A message whose xid has its
 * top bit set is the bridge's instead: its xid's low byte N makes it the
 * answer to the Nth message the switch sent the bridge.  Every message the
 * switch sends, either way, must be one that libopenvswitch decodes.  The
 * switch keeps the copy of the controller's table 0 that offload reads,
 * which the callbacks read as offload does.  Whatever the input, nothing
 * may crash or leak.  "test-iovp nb-seeds DIR"
 * writes the seed corpus. */

#include <config.h>

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/list.h>
#include <openvswitch/ofp-msgs.h>
#include <openvswitch/ofp-port.h>
#include <openvswitch/ofpbuf.h>
#include <openvswitch/vlog.h>
#include <openflow/openflow.h>

#include "lib/util.h"
#include "northbound/switch.h"
#include "ofp/ofconn.h"
#include "ofp/oflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_XIDS 256

/* The xids of what the switch sent the bridge, in order. */
struct sent {
    ovs_be32 xids[MAX_XIDS];
    size_t n;
};

/* Aborts unless 'msg' is a message that libopenvswitch decodes, once its
 * length is set as the session sets it before sending. */
static void
check(struct ofpbuf *msg)
{
    enum ofptype type;

    ofpmsg_update_length(msg);
    if (ofptype_decode(&type, msg->data)) {
        fprintf(stderr, "fuzz-northbound: the switch sent a message that "
                "does not decode\n");
        abort();
    }
}

static void
send_cb(void *io OVS_UNUSED, struct ovs_list *msgs, void *aux OVS_UNUSED)
{
    struct ofpbuf *msg;

    LIST_FOR_EACH_POP (msg, list_node, msgs) {
        check(msg);
        ofpbuf_delete(msg);
    }
}

static size_t
backlog_cb(void *io OVS_UNUSED, void *aux OVS_UNUSED)
{
    return 0;
}

/* The switch, for the callbacks that read it as offload does. */
static struct nbswitch *the_switch;

static void
table0_read_cb(void *aux OVS_UNUSED)
{
    const struct oflow_table *t = nbswitch_table0(the_switch);

    if (t) {
        const struct oflow *f;
        OFLOW_TABLE_FOR_EACH (f, t) {
            nbswitch_table0_is_changing(the_switch, f);
        }

        const struct oflow **adding;
        size_t n;
        nbswitch_table0_adding(the_switch, &adding, &n);
        free(adding);
    }
    for (int port = 0; port < 4; port++) {
        nbswitch_port_forwards(the_switch, (OVS_FORCE ofp_port_t) port);
    }
}

static void
table0_counts_cb(const struct oflow *key OVS_UNUSED, uint64_t *packets,
                 uint64_t *bytes, void *aux OVS_UNUSED)
{
    *packets = 1;
    *bytes = 64;
}

static void
send_bridge_cb(struct ovs_list *msgs, void *sent_)
{
    struct sent *sent = sent_;
    struct ofpbuf *msg;

    LIST_FOR_EACH_POP (msg, list_node, msgs) {
        const struct ofp_header *oh = msg->data;

        check(msg);
        if (sent->n < MAX_XIDS) {
            sent->xids[sent->n++] = oh->xid;
        }
        ofpbuf_delete(msg);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct nbswitch_cbs cbs = {
        .send = send_cb,
        .send_bridge = send_bridge_cb,
        .backlog = backlog_cb,
        .table0_changing = table0_read_cb,
        .table0_changed = table0_read_cb,
        .table0_counts = table0_counts_cb,
    };
    static bool initialized;
    struct sent sent = { .n = 0 };

    if (!initialized) {
        vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
        initialized = true;
    }

    struct nbswitch *sw = nbswitch_create(&cbs, &sent);
    the_switch = sw;
    nbswitch_watch_table0(sw, true);
    struct nbswitch_port ports[2];
    memset(ports, 0, sizeof ports);
    for (int i = 0; i < 2; i++) {
        ports[i].pp.port_no = (OVS_FORCE ofp_port_t) (i + 1);
        snprintf(ports[i].pp.name, sizeof ports[i].pp.name, "vm%d", i + 1);
        ports[i].pp.hw_addr.ea[5] = i + 1;
        ports[i].bridge_hw_addr.ea[5] = 0x10 + i;
    }
    nbswitch_set_datapath_id(sw, 0x1234);
    nbswitch_set_ports(sw, ports, 2);
    nbswitch_bridge_active(sw, OFP15_VERSION);
    nbswitch_flush(sw);

    struct ofconn *session = ofconn_create((1u << OFP13_VERSION)
                                           | (1u << OFP14_VERSION)
                                           | (1u << OFP15_VERSION));
    struct nbconn *conn = nbswitch_connect(sw, "fuzz", NULL);
    struct ofpbuf *msg;

    ofconn_connected(session);
    free(ofconn_receive(session, (const char *) data, size));
    if (ofconn_get_state(session) == OFCONN_ACTIVE) {
        nbswitch_conn_active(sw, conn, ofconn_get_version(session));
        while ((msg = ofconn_pop_received(session))) {
            struct ofp_header *oh = msg->data;
            uint32_t xid = ntohl(oh->xid);

            if (xid & 0x80000000) {
                size_t i = xid & 0xff;
                if (i < sent.n) {
                    oh->xid = sent.xids[i];
                }
                nbswitch_bridge_receive(sw, msg);
            } else {
                nbswitch_receive(sw, conn, msg);
            }
            nbswitch_flush(sw);
        }
        json_decref(nbswitch_status(sw));
        json_decref(nbswitch_conn_status(conn));
        nbswitch_set_ports(sw, ports, 1);
        nbswitch_bridge_disconnected(sw);
        nbswitch_flush(sw);
    }
    while ((msg = ofconn_pop(session))) {
        ofpbuf_delete(msg);
    }
    while ((msg = ofconn_pop_received(session))) {
        ofpbuf_delete(msg);
    }
    ofconn_destroy(session);
    nbswitch_destroy(sw);
    return 0;
}
