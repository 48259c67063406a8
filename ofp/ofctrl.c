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

#include "ofp/ofctrl.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/match.h>
#include <openvswitch/ofp-flow.h>
#include <openvswitch/ofp-msgs.h>
#include <openvswitch/ofp-protocol.h>
#include <openvswitch/ofpbuf.h>
#include <openvswitch/vlog.h>

#include "lib/util.h"

VLOG_DEFINE_THIS_MODULE(ofctrl);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

struct ofctrl {
    ovs_be32 dump_xid;          /* Of the flow dump in progress, or 0. */
    bool dumped;                /* 'installed' is a complete dump. */

    /* The flows the switch holds with iovpd's mark, as ovs-ofctl prints
     * them (with their counters), from the last complete dump. */
    char **installed;
    size_t n_installed;
    char **dumping;             /* The dump in progress. */
    size_t n_dumping, allocated_dumping;
};

struct ofctrl *
ofctrl_create(void)
{
    return iovp_xzalloc(sizeof(struct ofctrl));
}

static void
ofctrl_free_flows(char **flows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(flows[i]);
    }
    free(flows);
}

/* Frees 'c'.  Accepts NULL. */
void
ofctrl_destroy(struct ofctrl *c)
{
    if (c) {
        ofctrl_free_flows(c->installed, c->n_installed);
        ofctrl_free_flows(c->dumping, c->n_dumping);
        free(c);
    }
}

/* A connection to the switch became active at 'version': returns the
 * request (for the caller to send) that reads the flows with iovpd's mark
 * in every table. */
struct ofpbuf *
ofctrl_connected(struct ofctrl *c, enum ofp_version version)
{
    struct ofputil_flow_stats_request fsr;

    memset(&fsr, 0, sizeof fsr);
    match_init_catchall(&fsr.match);
    fsr.cookie = htobe64(OFCTRL_COOKIE_MAGIC);
    fsr.cookie_mask = htobe64(OFCTRL_COOKIE_MASK);
    fsr.out_port = OFPP_ANY;
    fsr.out_group = OFPG_ANY;
    fsr.table_id = 0xff;

    struct ofpbuf *request = ofputil_encode_flow_stats_request(
        &fsr, ofputil_protocol_from_ofp_version(version));
    c->dump_xid = ((const struct ofp_header *) request->data)->xid;
    ofctrl_free_flows(c->dumping, c->n_dumping);
    c->dumping = NULL;
    c->n_dumping = c->allocated_dumping = 0;
    c->dumped = false;
    return request;
}

/* The connection is gone: what the switch holds is unknown until the next
 * dump. */
void
ofctrl_disconnected(struct ofctrl *c)
{
    c->dump_xid = 0;
    c->dumped = false;
}

/* Takes the message 'msg' from the switch if it is ofctrl's (a reply to
 * its dump), and returns true if so. */
bool
ofctrl_receive(struct ofctrl *c, const struct ofpbuf *msg)
{
    const struct ofp_header *oh = msg->data;
    enum ofptype type;

    if (!c->dump_xid || oh->xid != c->dump_xid
        || ofptype_decode(&type, oh) || type != OFPTYPE_FLOW_STATS_REPLY) {
        return false;
    }

    struct ofpbuf b = ofpbuf_const_initializer(msg->data, msg->size);
    struct ofpbuf ofpacts;
    ofpbuf_init(&ofpacts, 64);
    for (;;) {
        struct ofputil_flow_stats fs;
        int retval = ofputil_decode_flow_stats_reply(&fs, &b, false,
                                                     &ofpacts);
        if (retval) {
            if (retval != EOF) {
                VLOG_WARN_RL(&rl, "bad flow stats reply");
            }
            break;
        }

        struct ds s = DS_EMPTY_INITIALIZER;
        ofputil_flow_stats_format(&s, &fs, NULL, NULL, true);
        if (c->n_dumping >= c->allocated_dumping) {
            c->allocated_dumping = MAX(16, 2 * c->allocated_dumping);
            c->dumping = iovp_xrealloc(
                c->dumping, c->allocated_dumping * sizeof *c->dumping);
        }
        c->dumping[c->n_dumping++] = ds_steal_cstr(&s);
    }
    ofpbuf_uninit(&ofpacts);

    if (!ofpmp_more(oh)) {
        ofctrl_free_flows(c->installed, c->n_installed);
        c->installed = c->dumping;
        c->n_installed = c->n_dumping;
        c->dumping = NULL;
        c->n_dumping = c->allocated_dumping = 0;
        c->dump_xid = 0;
        c->dumped = true;
        VLOG_INFO("the switch holds %zu of iovpd's flows", c->n_installed);
    }
    return true;
}

/* Returns true once a dump of the switch's flows is complete. */
bool
ofctrl_has_installed(const struct ofctrl *c)
{
    return c->dumped;
}

/* Returns the number of iovpd's flows the switch held at the last dump. */
size_t
ofctrl_n_installed(const struct ofctrl *c)
{
    return c->n_installed;
}

/* Returns a malloc()'d text of the flows the switch held at the last dump,
 * one a line, sorted, in ovs-ofctl's syntax with their counters. */
char *
ofctrl_installed_text(const struct ofctrl *c)
{
    char **sorted = iovp_xmalloc(MAX(1, c->n_installed) * sizeof *sorted);
    struct ds s = DS_EMPTY_INITIALIZER;

    memcpy(sorted, c->installed, c->n_installed * sizeof *sorted);
    qsort(sorted, c->n_installed, sizeof *sorted, iovp_compare_strings);
    for (size_t i = 0; i < c->n_installed; i++) {
        ds_put_format(&s, "%s\n", sorted[i]);
    }
    free(sorted);
    return ds_steal_cstr(&s);
}
