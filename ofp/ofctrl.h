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

#ifndef IOVP_OFP_OFCTRL_H
#define IOVP_OFP_OFCTRL_H 1

/* ofctrl: brings the switch's flows in line with a desired table, as
 * ovn-controller's ofctrl does, without its I/O: each function takes the
 * switch's messages in and queues its own on a list for the caller to send.
 *
 * ofctrl keeps the installed table: the flows with iovpd's mark that the
 * switch holds.  When a connection becomes active it reads them from the
 * switch (a flow stats request for iovpd's cookie mark), and until that
 * read is complete it sends nothing; so an iovpd that restarts, or
 * reconnects, changes only what differs.
 *
 * ofctrl_put() sends the difference between the desired flows (ofp/desired.h)
 * and the installed ones as one ordered, atomic bundle (OpenFlow 1.4 bundles,
 * or their 1.3 extension) followed by a barrier, and takes no other put until
 * the barrier's reply.  It queues the bundle's flow_mods a slice at a time:
 * the first, and each call of ofctrl_put_more() the next, then the commit.  Within the bundle: deletions, then modifications, then
 * additions.  A flow whose actions changed is modified in place (its counters
 * keep counting); one whose cookie changed is added again.
 *
 * When the switch rejects a message of a bundle, the error's xid names the
 * flow.  The switch then rolls the whole bundle back; ofctrl records the
 * rejection and the next put sends the rest without that flow.  A rejected
 * flow is tried again when its desired version changes, when a later put
 * deletes flows (a full table may have room), and after a reconnection.
 *
 * Nobody else is meant to change iovpd's flows, but an operator's
 * ovs-ofctl can, and so can the switch itself (OVS deletes every flow of a
 * bridge whose fail mode changes).  So on each connection ofctrl asks for
 * a flow monitor before it reads the switch's flows, and takes every
 * change that it did not make (the switch abbreviates ofctrl's own to
 * their xids) into the installed flows; the next put, comparing all of
 * them, puts back what the desired flows say: a "repair".  When the
 * switch pauses the monitor (it had too many updates queued), or a change
 * comes while a bundle is in flight, ofctrl reads the switch's flows
 * again instead.
 *
 * The meters that iovpd's flows use are iovpd's from an id up (the ids
 * below are someone else's: the OpenFlow controller's).  ofctrl reads them
 * with the flows, and a put adds and modifies the desired ones before the
 * bundle (OVS takes no meter_mod in a bundle), and deletes the others once
 * the bundle is committed (OVS deletes the flows that use a meter with
 * it).  A meter the switch refuses is not tried again until its desired
 * version changes or the connection is new; the flows that use it are
 * refused in turn.
 *
 * ofctrl_read_stats() refreshes the installed flows' counters of some tables,
 * and the meters', without holding up puts.  ofctrl_dump_flows() reads every
 * flow the switch holds, whoever added it, for inspection: what the switch
 * says, not what ofctrl believes; one such read at a time. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openflow/openflow.h>
#include <openvswitch/hmap.h>

#include "ofp/oflow.h"

struct desired;
struct ofpbuf;
struct ofctrl;
struct ovs_list;

#define OFCTRL_COOKIE_MAGIC 0x10f0000000000000ULL
#define OFCTRL_COOKIE_MASK  0xffff000000000000ULL

/* The cookie of a flow that came from 'origin' (only its low 48 bits
 * count). */
static inline uint64_t
ofctrl_cookie(uint64_t origin)
{
    return OFCTRL_COOKIE_MAGIC | (origin & ~OFCTRL_COOKIE_MASK);
}

/* What a message from the switch meant to ofctrl. */
enum ofctrl_event {
    OFCTRL_IGNORED,             /* Not ofctrl's. */
    OFCTRL_HANDLED,             /* Taken; nothing new to do. */
    OFCTRL_READY,               /* ofctrl can take a put now (and may
                                 * have one to make). */
    OFCTRL_STATS,               /* The installed flows' counters are new. */
    OFCTRL_FAILED,              /* The bundle failed for no reason a flow
                                 * explains; put again later. */
};

/* One of iovpd's meters that the switch holds (ofctrl_meters()), with its
 * counters as of the last read (ofctrl_read_stats()). */
struct ofctrl_meter {
    struct hmap_node node;      /* By id. */
    uint32_t id;
    uint32_t rate;              /* kbit/s. */
    uint32_t burst;             /* kbit. */
    uint64_t n_packets;         /* That reached it. */
    uint64_t n_bytes;
    uint64_t n_dropped_packets; /* That its band dropped. */
    uint64_t n_dropped_bytes;

    /* OVS zeroes a meter's counters when it modifies it: these are the
     * counts as of the last read before the last modification, which the
     * counters above include; 'stale' while a read that was under way at
     * the modification is not over. */
    uint64_t base[4];
    bool stale;
};

/* A flow the switch refused. */
struct ofctrl_rejection {
    struct oflow *flow;
    char *error;                /* The switch's error, e.g. "OFPFMFC_..." */
};

struct ofctrl *ofctrl_create(const uint8_t *tables, size_t n,
                             uint32_t meter_base);
void ofctrl_destroy(struct ofctrl *);

void ofctrl_connected(struct ofctrl *, enum ofp_version, struct ovs_list *);
void ofctrl_disconnected(struct ofctrl *);
enum ofctrl_event ofctrl_receive(struct ofctrl *, const struct ofpbuf *,
                                 struct ovs_list *);

bool ofctrl_is_ready(const struct ofctrl *);
size_t ofctrl_put(struct ofctrl *, struct desired *, struct ovs_list *);
#define OFCTRL_PUT_SLICE 10000
bool ofctrl_put_more(struct ofctrl *, struct ovs_list *);
bool ofctrl_is_putting(const struct ofctrl *);
#define OFCTRL_MAX_STATS_TABLES 6
bool ofctrl_read_stats(struct ofctrl *, const uint8_t *tables, size_t n,
                       struct ovs_list *);
void ofctrl_slice_stats(struct ofctrl *, uint8_t table_id, unsigned int bits);

/* Called by ofctrl_dump_flows() with the flows the switch holds and a
 * null 'error', or with null 'flows' and why they could not be read. */
typedef void ofctrl_dump_cb(const struct oflow_table *flows,
                            const char *error, void *aux);
int ofctrl_dump_flows(struct ofctrl *, ofctrl_dump_cb *, void *aux,
                      struct ovs_list *);
bool ofctrl_is_dumping_flows(const struct ofctrl *);

bool ofctrl_has_installed(const struct ofctrl *);
bool ofctrl_put_compared_all(const struct ofctrl *);
const struct oflow_table *ofctrl_installed(const struct ofctrl *);
uint64_t ofctrl_installed_seqno(const struct ofctrl *);
uint64_t ofctrl_counters_seqno(const struct ofctrl *, uint8_t table_id);
const struct hmap *ofctrl_meters(const struct ofctrl *);
const struct ofctrl_rejection *ofctrl_rejections(const struct ofctrl *,
                                                 size_t *n);
json_t *ofctrl_status(const struct ofctrl *);

#endif /* ofp/ofctrl.h */
