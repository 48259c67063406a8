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

/* A libFuzzer target for what a switch's bytes go through in iovpd: the
 * OpenFlow session (ofp/ofconn.c: framing, hello, echo) and ofctrl
 * (ofp/ofctrl.c: flow stats replies, errors, bundle replies, barrier
 * replies and flow monitor updates, decoded by libopenvswitch).
 *
 * Each input is a byte stream from a switch.  Its messages' xids 1, 2, 3...
 * stand for the xids of the requests that ofctrl has sent so far, in order
 * (the flow monitor's, the first read's, then each bundle's messages and each
 * read of counters), so that the fuzzer reaches the answers ofctrl waits for.
 * Whenever ofctrl is ready, it is given a put of a few desired flows, after
 * each message a read of counters when it takes one, and a look at its status
 * and installed flows.  Whatever the input, nothing may crash or leak.
 * "test-iovp ofp-seeds DIR" writes the seed corpus. */

#include <config.h>

#include <endian.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/list.h>
#include <openvswitch/ofpbuf.h>
#include <openvswitch/vlog.h>
#include <openflow/openflow.h>

#include "lib/util.h"
#include "ofp/desired.h"
#include "ofp/ofconn.h"
#include "ofp/ofctrl.h"
#include "ofp/oflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_XIDS 64

/* The xids of what ofctrl sent, in order. */
struct sent {
    ovs_be32 xids[MAX_XIDS];
    size_t n;
};

/* Records the xids of the messages on 'out' in 'sent' and frees them. */
static void
take_sent(struct sent *sent, struct ovs_list *out)
{
    struct ofpbuf *msg;

    LIST_FOR_EACH_POP (msg, list_node, out) {
        const struct ofp_header *oh = msg->data;
        /* The flow monitor's requests, one a table, share one xid. */
        if (sent->n < MAX_XIDS
            && (!sent->n || sent->xids[sent->n - 1] != oh->xid)) {
            sent->xids[sent->n++] = oh->xid;
        }
        ofpbuf_delete(msg);
    }
}

/* Sets the desired flows that each put tries to install. */
static void
make_desired(struct desired *d)
{
    static const char *const flows[] = {
        "table=0,priority=0,actions=drop",
        "table=0,priority=100,in_port=1,actions=goto_table:10",
        "table=10,priority=5,ip,nw_src=10.0.0.1,actions=drop",
        "table=30,priority=50,dl_dst=02:00:00:00:00:01,actions=output:1",
    };
    struct oflow_table t;

    desired_init(d);
    oflow_table_init(&t);
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(flows); i++) {
        char *error = oflow_table_add_text(&t, ofctrl_cookie(i), flows[i]);
        if (error) {
            fprintf(stderr, "fuzz-ofp: %s: %s\n", flows[i], error);
            abort();
        }
    }
    desired_set_group(d, "fuzz", &t);
    oflow_table_destroy(&t);
}

/* Looks at what ofctrl shows of itself, as iovpd's commands do. */
static void
inspect(const struct ofctrl *c)
{
    const struct oflow *f;
    size_t n;

    json_decref(ofctrl_status(c));
    OFLOW_TABLE_FOR_EACH (f, ofctrl_installed(c)) {
        struct ds s = DS_EMPTY_INITIALIZER;
        oflow_format(f, true, &s);
        ds_destroy(&s);
    }
    ofctrl_rejections(c, &n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t stats_tables[] = { 0, 10 };
    static bool initialized;
    struct ovs_list out = OVS_LIST_INITIALIZER(&out);
    struct sent sent = { .n = 0 };
    struct desired d;

    if (!initialized) {
        vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
        initialized = true;
    }

    struct ofconn *conn = ofconn_create((1u << OFP13_VERSION)
                                        | (1u << OFP14_VERSION)
                                        | (1u << OFP15_VERSION));
    static const uint8_t tables[] = { 0, 10, 20, 30, 40, 50 };
    struct ofctrl *c = ofctrl_create(tables, IOVP_ARRAY_SIZE(tables),
                                     0x80000000u);
    struct ofpbuf *msg;
    bool connected = false;

    make_desired(&d);
    ofconn_connected(conn);
    char *error = ofconn_receive(conn, (const char *) data, size);
    free(error);

    if (ofconn_get_state(conn) == OFCONN_ACTIVE) {
        ofctrl_connected(c, ofconn_get_version(conn), &out);
        take_sent(&sent, &out);
        connected = true;
    }
    while ((msg = ofconn_pop_received(conn))) {
        if (connected && msg->size >= sizeof(struct ofp_header)) {
            struct ofp_header *oh = msg->data;
            uint32_t i = be32toh(oh->xid);
            if (i >= 1 && i <= sent.n) {
                oh->xid = sent.xids[i - 1];
            }

            enum ofctrl_event event = ofctrl_receive(c, msg, &out);
            take_sent(&sent, &out);
            if (event == OFCTRL_READY && ofctrl_is_ready(c)) {
                ofctrl_put(c, &d, &out);
                while (ofctrl_put_more(c, &out)) {
                    continue;
                }
                take_sent(&sent, &out);
            }
            if (ofctrl_read_stats(c, stats_tables,
                                  IOVP_ARRAY_SIZE(stats_tables), &out)) {
                take_sent(&sent, &out);
            }
            inspect(c);
        }
        ofpbuf_delete(msg);
    }
    while ((msg = ofconn_pop(conn))) {
        ofpbuf_delete(msg);
    }

    ofctrl_disconnected(c);
    ofconn_disconnected(conn);
    ofctrl_destroy(c);
    ofconn_destroy(conn);
    desired_destroy(&d);
    return 0;
}
