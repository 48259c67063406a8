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
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/list.h>
#include <openvswitch/ofp-bundle.h>
#include <openvswitch/ofp-errors.h>
#include <openvswitch/ofp-flow.h>
#include <openvswitch/ofp-meter.h>
#include <openvswitch/ofp-monitor.h>
#include <openvswitch/ofp-msgs.h>
#include <openvswitch/ofp-protocol.h>
#include <openvswitch/ofp-switch.h>
#include <openvswitch/ofp-util.h>
#include <openvswitch/ofpbuf.h>
#include <openvswitch/vlog.h>

#include "lib/util.h"
#include "ofp/desired.h"

VLOG_DEFINE_THIS_MODULE(ofctrl);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

#define OFCTRL_STATES                                   \
    OFCTRL_STATE(DISCONNECTED, "disconnected")          \
    OFCTRL_STATE(SYNCING, "reading the switch's flows") \
    OFCTRL_STATE(READY, "ready")                        \
    OFCTRL_STATE(UPDATING, "bundle in flight")

enum ofctrl_state {
#define OFCTRL_STATE(ENUM, NAME) S_##ENUM,
    OFCTRL_STATES
#undef OFCTRL_STATE
};

static const char *
ofctrl_state_name(enum ofctrl_state state)
{
    switch (state) {
#define OFCTRL_STATE(ENUM, NAME) case S_##ENUM: return NAME;
        OFCTRL_STATES
#undef OFCTRL_STATE
    }
    return "?";
}

/* A read of every flow that the switch holds, for ofctrl_dump_flows(). */
struct ofctrl_dump {
    ovs_be32 xid;               /* Of the request. */
    struct oflow_table flows;   /* What the replies brought so far. */
    char *error;                /* Why the read cannot be complete (a reply
                                 * that did not decode), or NULL. */
    ofctrl_dump_cb *cb;
    void *aux;
};

/* One flow_mod of the bundle in flight. */
enum ofctrl_op { OP_DELETE, OP_MODIFY, OP_ADD };
struct ofctrl_change {
    struct hmap_node node;      /* In 'pending', by xid. */
    ovs_be32 xid;
    enum ofctrl_op op;
    struct oflow *flow;         /* The desired flow, or for OP_DELETE the
                                 * installed one: a copy, owned. */
    char *error;                /* The switch refused it: why. */
};

/* A meter the switch refused, as it was. */
struct ofctrl_meter_rejection {
    uint32_t id, rate, burst;
};

/* A meter_mod of the update in flight, for the switch's error. */
struct ofctrl_meter_mod {
    ovs_be32 xid;
    uint16_t command;
    uint32_t id, rate, burst;
};

struct ofctrl {
    enum ofctrl_state state;
    enum ofp_version version;
    bool owns[256];             /* The tables it owns, by number. */

    /* The flows the switch holds with iovpd's mark, valid from the end of
     * the first dump after a connection. */
    struct oflow_table installed;
    uint64_t installed_seqno;   /* New when a flow joins or leaves it. */
    struct oflow_table dumping; /* The dump in progress. */
    ovs_be32 sync_xid;          /* Of that dump, or 0. */
    bool synced;                /* A dump completed on this connection. */
    ovs_be32 stats_xids[OFCTRL_MAX_STATS_TABLES];  /* Of the dumps for */
    size_t n_stats_xids;                           /* counters only. */
    uint64_t counters_seqno[256];   /* By table: new when a read of the
                                     * counters finds one changed. */
    uint8_t slice_bits[256];    /* By table: its counters are read in
                                 * 2**N slices, one a read... */
    uint32_t next_slice[256];   /* ...this one next. */

    /* The bundle in flight (state S_UPDATING). */
    uint32_t bundle_id;         /* The last used. */
    struct hmap pending;        /* Its "struct ofctrl_change"s, by xid. */
    struct ofctrl_change **unsent;  /* Its changes yet to be queued, */
    size_t n_unsent, next_unsent;   /* ofctrl_put_more()'s: 'next_unsent'
                                     * is the next. */
    ovs_be32 open_xid, commit_xid, barrier_xid;
    bool committed;             /* The switch confirmed the commit. */

    /* iovpd's meters (ids from 'meter_base' up) that the switch holds,
     * read with its flows; the meter_mods of the update in flight; the
     * meters to delete once its bundle is committed; those the switch
     * refused. */
    uint32_t meter_base;
    struct hmap meters;         /* "struct ofctrl_meter"s. */
    ovs_be32 meter_sync_xid;    /* Of the read of their configuration. */
    ovs_be32 meter_stats_xid;   /* Of the read of their counters. */
    struct ofctrl_meter_mod *meter_mods;
    size_t n_meter_mods;
    uint32_t *meter_dels;
    size_t n_meter_dels;
    struct ofctrl_meter_rejection *meter_rejections;
    size_t n_meter_rejections;
    uint64_t n_meter_mods_total;

    /* The next put compares all flows, not only those the desired flows
     * tracked as changed: after a read of the switch's flows, a bundle
     * that failed, or a change that someone else made. */
    bool need_full;
    bool compared_all;          /* The last put compared every flow. */

    /* The flow monitor: the switch tells ofctrl of every change to its
     * flows that iovpd did not make itself (its own come back abbreviated
     * to their xids). */
    ovs_be32 monitor_xid;       /* Of the request. */
    char *monitor_error;        /* The switch refused it: why; or NULL. */
    bool monitor_paused;        /* Updates are being lost: read again. */
    bool need_sync;             /* Read the switch's flows again as soon as
                                 * no read or bundle is in flight. */
    size_t n_foreign;           /* Changes by others since the last put. */

    /* The read of every flow under way, for ofctrl_dump_flows(), or NULL.
     * One at most: each is a full copy of the switch's flows, and its
     * replies share the connection with the bundles. */
    struct ofctrl_dump *dump;

    /* Flows the switch refused, with why. */
    struct ofctrl_rejection *rejections;
    size_t n_rejections;

    /* Counters, since ofctrl_create(). */
    uint64_t n_bundles;         /* Bundles committed. */
    uint64_t n_failed_bundles;  /* Bundles that failed. */
    uint64_t n_flow_mods;       /* flow_mods in committed bundles. */
    uint64_t n_syncs;           /* Complete reads of the switch's flows. */
    uint64_t n_puts;            /* Comparisons of desired and installed. */
    uint64_t n_foreign_total;   /* Changes to iovpd's flows by others. */
    uint64_t n_repairs;         /* Puts that undid such changes. */
    uint64_t n_dumps;           /* ofctrl_dump_flows() reads started. */
    uint64_t n_stats_reads;     /* ofctrl_read_stats() reads complete. */
    uint64_t n_monitor_pauses;  /* Times the switch paused the monitor. */
};

/* Returns true if 'table' is one of the tables that 'c' owns. */
static bool
ofctrl_owns(const struct ofctrl *c, uint8_t table)
{
    return c->owns[table];
}

/* A flow joined or left the installed flows: their sequence number takes
 * a value that no ofctrl's installed flows had before (see
 * ofctrl_installed_seqno()). */
static void
ofctrl_installed_changed(struct ofctrl *c)
{
    static uint64_t next_seqno;

    c->installed_seqno = ++next_seqno;
}

/* Creates an ofctrl for the flows of the 'n' tables in 'tables': flows in
 * the switch's other tables, whatever their cookies, are someone else's
 * (iovpd's OpenFlow controller's, northbound/), never installed flows, and
 * their changes are not monitored; so are meters below 'meter_base'. */
struct ofctrl *
ofctrl_create(const uint8_t *tables, size_t n, uint32_t meter_base)
{
    struct ofctrl *c = iovp_xzalloc(sizeof *c);

    c->meter_base = meter_base;
    hmap_init(&c->meters);

    for (size_t i = 0; i < n; i++) {
        c->owns[tables[i]] = true;
    }
    oflow_table_init(&c->installed);
    ofctrl_installed_changed(c);
    oflow_table_init(&c->dumping);
    hmap_init(&c->pending);
    return c;
}

/* Frees the changes of the bundle in flight that ofctrl_put_more() has yet
 * to queue (none, once it has queued the last). */
static void
ofctrl_clear_unsent(struct ofctrl *c)
{
    for (size_t i = c->next_unsent; i < c->n_unsent; i++) {
        oflow_destroy(c->unsent[i]->flow);
        free(c->unsent[i]);
    }
    free(c->unsent);
    c->unsent = NULL;
    c->n_unsent = c->next_unsent = 0;
}

/* Ends the read of the switch's flows under way in 'c', if any: calls its
 * callback with the flows it read, or, if 'error' is nonnull or a reply
 * did not decode, with NULL and why, and frees it.  The read is detached
 * first, so that the callback may start another. */
static void
ofctrl_finish_dump(struct ofctrl *c, const char *error)
{
    struct ofctrl_dump *d = c->dump;

    if (d) {
        c->dump = NULL;
        error = error ? error : d->error;
        d->cb(error ? NULL : &d->flows, error, d->aux);
        oflow_table_destroy(&d->flows);
        free(d->error);
        free(d);
    }
}

static void
ofctrl_clear_pending(struct ofctrl *c)
{
    struct ofctrl_change *ch;

    HMAP_FOR_EACH_SAFE (ch, node, &c->pending) {
        hmap_remove(&c->pending, &ch->node);
        oflow_destroy(ch->flow);
        free(ch->error);
        free(ch);
    }
    ofctrl_clear_unsent(c);
}

static void
ofctrl_clear_meters(struct ofctrl *c)
{
    struct ofctrl_meter *meter;

    HMAP_FOR_EACH_POP (meter, node, &c->meters) {
        free(meter);
    }
}

static struct ofctrl_meter *
ofctrl_find_meter(const struct ofctrl *c, uint32_t id)
{
    struct ofctrl_meter *meter;

    HMAP_FOR_EACH_WITH_HASH (meter, node, id, &c->meters) {
        if (meter->id == id) {
            return meter;
        }
    }
    return NULL;
}

static void
ofctrl_clear_rejections(struct ofctrl *c)
{
    for (size_t i = 0; i < c->n_rejections; i++) {
        oflow_destroy(c->rejections[i].flow);
        free(c->rejections[i].error);
    }
    free(c->rejections);
    c->rejections = NULL;
    c->n_rejections = 0;
}

/* Frees 'c', first calling the callback of each read of the switch's
 * flows under way with NULL.  Accepts NULL. */
void
ofctrl_destroy(struct ofctrl *c)
{
    if (c) {
        ofctrl_finish_dump(c, "iovpd is shutting down");
        oflow_table_destroy(&c->installed);
        oflow_table_destroy(&c->dumping);
        ofctrl_clear_pending(c);
        hmap_destroy(&c->pending);
        ofctrl_clear_rejections(c);
        ofctrl_clear_meters(c);
        hmap_destroy(&c->meters);
        free(c->meter_mods);
        free(c->meter_dels);
        free(c->meter_rejections);
        free(c->monitor_error);
        free(c);
    }
}

static ovs_be32
ofctrl_xid(const struct ofpbuf *msg)
{
    return ((const struct ofp_header *) msg->data)->xid;
}

/* Queues on 'out' a request for the flows with iovpd's mark (or, if
 * 'any_cookie', for every flow) in table 'table_id' (0xff: every table),
 * and returns its xid. */
static ovs_be32
ofctrl_queue_dump__(const struct ofctrl *c, uint8_t table_id,
                    bool any_cookie, uint32_t slice, uint8_t slice_bits,
                    struct ovs_list *out)
{
    struct ofputil_flow_stats_request fsr;
    uint64_t slice_mask = (UINT64_C(1) << slice_bits) - 1;

    memset(&fsr, 0, sizeof fsr);
    match_init_catchall(&fsr.match);
    if (!any_cookie) {
        fsr.cookie = htobe64(OFCTRL_COOKIE_MAGIC | (slice & slice_mask));
        fsr.cookie_mask = htobe64(OFCTRL_COOKIE_MASK | slice_mask);
    }
    fsr.out_port = OFPP_ANY;
    fsr.out_group = OFPG_ANY;
    fsr.table_id = table_id;

    struct ofpbuf *request = ofputil_encode_flow_stats_request(
        &fsr, ofputil_protocol_from_ofp_version(c->version));
    ovs_list_push_back(out, &request->list_node);
    return ofctrl_xid(request);
}

/* Queues on 'out' a request for the flows with iovpd's mark in table
 * 'table_id' (0xff: every table), and returns its xid. */
static ovs_be32
ofctrl_queue_dump(const struct ofctrl *c, uint8_t table_id,
                  struct ovs_list *out)
{
    return ofctrl_queue_dump__(c, table_id, false, 0, 0, out);
}

/* Queues on 'out' the requests of a flow monitor on every flow of each of
 * the tables that 'c' owns, one a request (OpenFlow 1.4 takes one a
 * message), all with one xid, which it returns.  The monitor cannot
 * select by cookie: the updates for flows that are not iovpd's are
 * skipped as they come. */
static ovs_be32
ofctrl_queue_monitor(const struct ofctrl *c, struct ovs_list *out)
{
    ovs_be32 xid = 0;
    uint32_t id = 1;

    for (int table = 0; table < 255; table++) {
        if (!ofctrl_owns(c, table)) {
            continue;
        }

        struct ofputil_flow_monitor_request fmr = {
            .id = id++,
            .command = OFPFMC_ADD,
            .flags = (OFPFMF_ADD | OFPFMF_REMOVED | OFPFMF_MODIFY
                      | OFPFMF_INSTRUCTIONS),
            .out_port = OFPP_ANY,
            .out_group = OFPG_ANY,
            .table_id = table,
        };
        struct ofpbuf *request = ofpbuf_new(128);

        match_init_catchall(&fmr.match);
        ofputil_append_flow_monitor_request(
            &fmr, request, ofputil_protocol_from_ofp_version(c->version));
        ofpmsg_update_length(request);
        if (!xid) {
            xid = ofctrl_xid(request);
        }
        ((struct ofp_header *) request->data)->xid = xid;
        ovs_list_push_back(out, &request->list_node);
    }
    return xid;
}

/* Queues on 'out' a meter request of 'type' for every meter, and returns
 * its xid. */
static ovs_be32
ofctrl_queue_meter_request(const struct ofctrl *c,
                           enum ofputil_meter_request_type type,
                           struct ovs_list *out)
{
    struct ofpbuf *request = ofputil_encode_meter_request(c->version, type,
                                                          OFPM13_ALL);
    ovs_list_push_back(out, &request->list_node);
    return ofctrl_xid(request);
}

/* Starts a read of the switch's meters and flows (queued on 'out'): the
 * meters' replies come first, so the flows' last one ends both. */
static void
ofctrl_start_sync(struct ofctrl *c, struct ovs_list *out)
{
    c->state = S_SYNCING;
    c->need_sync = false;
    oflow_table_clear(&c->dumping);
    ofctrl_clear_meters(c);
    c->meter_sync_xid = ofctrl_queue_meter_request(c, OFPUTIL_METER_CONFIG,
                                                   out);
    c->sync_xid = ofctrl_queue_dump(c, 0xff, out);
}

/* Queues on 'out' the switch configuration that the flows assume: IP
 * fragments match their L4 fields where they have them ("nx-match").  In
 * OpenFlow's "normal" handling OVS zeroes the ports of every fragment, the
 * first one's too, so that no flow that matches a port could judge one.
 * OVS forgets the setting when it restarts, so it is sent on every
 * connection.
 *
 * The message also sets the connection's miss_send_len, which stays 0 as
 * it was: iovpd wants no packet-ins, and OVS sends a service connection
 * such as iovpd's no asynchronous message at all (port status, flow
 * removed) while it is 0. */
static void
ofctrl_queue_config(const struct ofctrl *c, struct ovs_list *out)
{
    const struct ofputil_switch_config config = {
        .frag = OFPUTIL_FRAG_NX_MATCH,
        .invalid_ttl_to_controller = -1,
        .miss_send_len = 0,
    };
    struct ofpbuf *msg = ofputil_encode_set_config(&config, c->version);

    ovs_list_push_back(out, &msg->list_node);
}

/* A connection to the switch became active at 'version': queues on 'out'
 * the switch's configuration, the flow monitor and then the read of what
 * the switch holds.  In that order, a change that the read misses is one
 * the monitor reports. */
void
ofctrl_connected(struct ofctrl *c, enum ofp_version version,
                 struct ovs_list *out)
{
    ofctrl_disconnected(c);
    c->version = version;
    ofctrl_queue_config(c, out);
    c->monitor_xid = ofctrl_queue_monitor(c, out);
    ofctrl_start_sync(c, out);
}

/* The connection is gone: what the switch holds is unknown until the next
 * read, and a bundle in flight may or may not have been committed. */
void
ofctrl_disconnected(struct ofctrl *c)
{
    c->state = S_DISCONNECTED;
    c->sync_xid = 0;
    c->synced = false;
    c->n_stats_xids = 0;
    c->monitor_xid = 0;
    free(c->monitor_error);
    c->monitor_error = NULL;
    c->monitor_paused = false;
    c->need_sync = false;
    c->n_foreign = 0;
    c->meter_sync_xid = c->meter_stats_xid = 0;
    c->n_meter_mods = c->n_meter_dels = c->n_meter_rejections = 0;
    ofctrl_clear_pending(c);
    ofctrl_clear_rejections(c);
    ofctrl_finish_dump(c, "the connection to the switch went down");
}

/* Adds to 'table' (or, when 'stats_only', to the counters of the installed
 * flows) the flows in 'msg', a flow stats reply.  Returns NULL if every
 * flow in 'msg' decoded, else why not (malloc()'d): then the flows after
 * the one that did not decode are left out. */
static char *
ofctrl_take_dump(struct ofctrl *c, const struct ofpbuf *msg,
                 struct oflow_table *table, bool stats_only)
{
    struct ofpbuf b = ofpbuf_const_initializer(msg->data, msg->size);
    struct ofpbuf ofpacts;
    char *error = NULL;

    ofpbuf_init(&ofpacts, 64);
    for (;;) {
        struct ofputil_flow_stats fs;
        int retval = ofputil_decode_flow_stats_reply(&fs, &b, false,
                                                     &ofpacts);
        if (retval) {
            if (retval != EOF) {
                error = iovp_xasprintf("a flow stats reply from the switch "
                                       "did not decode (%s)",
                                       ofperr_to_string(retval));
                VLOG_WARN_RL(&rl, "%s", error);
            }
            break;
        }

        if (table == &c->dumping && !ofctrl_owns(c, fs.table_id)) {
            continue;
        }

        struct oflow_data key_data;
        struct oflow key = {
            .data = &key_data,
            .table_id = fs.table_id,
            .priority = fs.priority,
            .cookie = be64toh(fs.cookie),
        };
        minimatch_init(&key_data.match, &fs.match);
        struct oflow *f = oflow_table_find(stats_only ? &c->installed
                                           : table, &key);
        if (!f && !stats_only) {
            f = oflow_create(fs.table_id, fs.priority, be64toh(fs.cookie),
                             &fs.match, fs.ofpacts, fs.ofpacts_len);
            oflow_table_insert(table, f);
        }
        if (f) {
            struct oflow_stats st = *oflow_get_stats(f);
            uint64_t n_packets = (fs.packet_count == UINT64_MAX ? 0
                                  : fs.packet_count);
            if (stats_only && n_packets != st.n_packets) {
                c->counters_seqno[fs.table_id]++;
            }
            st.n_packets = n_packets;
            st.n_bytes = fs.byte_count == UINT64_MAX ? 0 : fs.byte_count;
            oflow_set_stats(f, &st);
            f->duration_sec = fs.duration_sec;
        }
        minimatch_destroy(&key_data.match);
    }
    ofpbuf_uninit(&ofpacts);
    return error;
}

/* Returns the rejection of a flow identical to 'f' (same identity, cookie
 * and actions), or NULL. */
static const struct ofctrl_rejection *
ofctrl_find_rejection(const struct ofctrl *c, const struct oflow *f)
{
    for (size_t i = 0; i < c->n_rejections; i++) {
        const struct oflow *r = c->rejections[i].flow;
        if (r->table_id == f->table_id && r->priority == f->priority
            && minimatch_equal(&r->data->match, &f->data->match)
            && oflow_same_actions(r, f)) {
            return &c->rejections[i];
        }
    }
    return NULL;
}

/* Queues on 'out' a meter_mod 'command' for meter 'id' of 'rate' kbit/s and
 * a bucket of 'burst' kbit (for a deletion, both 0), and returns its
 * xid. */
static ovs_be32
ofctrl_queue_meter_mod(struct ofctrl *c, uint16_t command, uint32_t id,
                       uint32_t rate, uint32_t burst, struct ovs_list *out)
{
    struct ofputil_meter_band band = {
        .type = OFPMBT13_DROP,
        .rate = rate,
        .burst_size = burst,
    };
    struct ofputil_meter_mod mm = {
        .command = command,
        .meter = {
            .meter_id = id,
            .flags = OFPMF13_KBPS | OFPMF13_BURST | OFPMF13_STATS,
            .n_bands = command == OFPMC13_DELETE ? 0 : 1,
            .bands = &band,
        },
    };
    struct ofpbuf *msg = ofputil_encode_meter_mod(c->version, &mm);

    VLOG_DBG("meter %"PRIu32": %s, %"PRIu32" kbit/s, burst %"PRIu32" kbit",
             id, (command == OFPMC13_ADD ? "add"
                  : command == OFPMC13_MODIFY ? "modify" : "delete"),
             rate, burst);
    ovs_list_push_back(out, &msg->list_node);
    c->n_meter_mods_total++;
    return ofctrl_xid(msg);
}

/* Queues on 'out' the deletion of the meters that the update just
 * committed left unused, and forgets them. */
static void
ofctrl_delete_meters(struct ofctrl *c, struct ovs_list *out)
{
    for (size_t i = 0; i < c->n_meter_dels; i++) {
        struct ofctrl_meter *meter = ofctrl_find_meter(c, c->meter_dels[i]);
        if (meter) {
            ofctrl_queue_meter_mod(c, OFPMC13_DELETE, meter->id, 0, 0, out);
            hmap_remove(&c->meters, &meter->node);
            free(meter);
        }
    }
    c->n_meter_dels = 0;
}

/* Returns true if the switch refused meter 'm' as it is. */
static bool
ofctrl_meter_is_rejected(const struct ofctrl *c,
                         const struct desired_meter *m)
{
    for (size_t i = 0; i < c->n_meter_rejections; i++) {
        const struct ofctrl_meter_rejection *r = &c->meter_rejections[i];
        if (r->id == m->id && r->rate == m->rate && r->burst == m->burst) {
            return true;
        }
    }
    return false;
}

/* Queues on 'out' the meter_mods that give the switch the meters of 'd'
 * (taken as installed at once; a refusal undoes that), notes the
 * installed meters that 'd' does not have for deletion after the flows'
 * bundle, and returns the number of meter_mods queued. */
static size_t
ofctrl_put_meters(struct ofctrl *c, const struct desired *d,
                  struct ovs_list *out)
{
    const struct desired_meter *want;

    c->n_meter_mods = 0;
    HMAP_FOR_EACH (want, node, &d->meters) {
        struct ofctrl_meter *have = ofctrl_find_meter(c, want->id);
        if ((have && have->rate == want->rate && have->burst == want->burst)
            || ofctrl_meter_is_rejected(c, want)) {
            continue;
        }

        uint16_t command = have ? OFPMC13_MODIFY : OFPMC13_ADD;
        if (have) {
            /* OVS zeroes the counters: they go on from the last read
             * (what the meter counted since then is lost), and a read
             * under way, which may show them from before, is not taken. */
            have->base[0] = have->n_packets;
            have->base[1] = have->n_bytes;
            have->base[2] = have->n_dropped_packets;
            have->base[3] = have->n_dropped_bytes;
            have->stale = c->meter_stats_xid != 0;
        } else {
            have = iovp_xzalloc(sizeof *have);
            have->id = want->id;
            hmap_insert(&c->meters, &have->node, have->id);
        }
        have->rate = want->rate;
        have->burst = want->burst;
        c->meter_mods = iovp_xrealloc(
            c->meter_mods, (c->n_meter_mods + 1) * sizeof *c->meter_mods);
        c->meter_mods[c->n_meter_mods++] = (struct ofctrl_meter_mod) {
            .xid = ofctrl_queue_meter_mod(c, command, want->id, want->rate,
                                          want->burst, out),
            .command = command,
            .id = want->id, .rate = want->rate, .burst = want->burst,
        };
    }

    const struct ofctrl_meter *have;
    c->n_meter_dels = 0;
    HMAP_FOR_EACH (have, node, &c->meters) {
        if (!desired_find_meter(d, have->id)) {
            c->meter_dels = iovp_xrealloc(
                c->meter_dels, (c->n_meter_dels + 1) * sizeof *c->meter_dels);
            c->meter_dels[c->n_meter_dels++] = have->id;
        }
    }
    return c->n_meter_mods;
}

/* The barrier after the update in flight came back: its meter_mods and
 * its bundle are done, one way or the other. */
static enum ofctrl_event
ofctrl_finish_bundle(struct ofctrl *c, struct ovs_list *out)
{
    struct ofctrl_change *ch;
    bool explained = false;

    HMAP_FOR_EACH (ch, node, &c->pending) {
        if (ch->error) {
            struct ds s = DS_EMPTY_INITIALIZER;
            oflow_format(ch->flow, false, &s);
            VLOG_WARN("the switch refused flow %s: %s", ds_cstr(&s),
                      ch->error);
            ds_destroy(&s);

            c->rejections = iovp_xrealloc(
                c->rejections,
                (c->n_rejections + 1) * sizeof *c->rejections);
            c->rejections[c->n_rejections++] = (struct ofctrl_rejection) {
                .flow = oflow_clone(ch->flow),
                .error = iovp_xstrdup(ch->error),
            };
            explained = true;
        }
    }

    enum ofctrl_event event = OFCTRL_READY;
    if (c->committed) {
        HMAP_FOR_EACH (ch, node, &c->pending) {
            struct oflow *old = oflow_table_find(&c->installed, ch->flow);
            if (ch->error) {
                continue;
            } else if (ch->op == OP_DELETE) {
                if (old) {
                    oflow_table_remove(&c->installed, old);
                    oflow_destroy(old);
                    ofctrl_installed_changed(c);
                }
                continue;
            }

            /* The change's copy of the flow becomes the installed one. */
            struct oflow *f = ch->flow;
            ch->flow = NULL;
            bool kept = old && ch->op == OP_MODIFY;
            oflow_set_stats(f, kept ? oflow_get_stats(old) : NULL);
            f->duration_sec = kept ? old->duration_sec : 0;
            if (old) {
                oflow_table_remove(&c->installed, old);
                oflow_destroy(old);
            }
            oflow_table_insert(&c->installed, f);
            ofctrl_installed_changed(c);
        }
        if (c->open_xid) {
            c->n_bundles++;
            c->n_flow_mods += hmap_count(&c->pending);
        }
        ofctrl_delete_meters(c, out);
    } else {
        c->n_failed_bundles++;
        c->need_full = true;
        if (!explained) {
            VLOG_WARN_RL(&rl, "the switch refused a bundle of %zu "
                         "flow_mods without naming one",
                         hmap_count(&c->pending));
            event = OFCTRL_FAILED;
        }
    }
    ofctrl_clear_pending(c);
    c->n_meter_mods = c->n_meter_dels = 0;
    c->open_xid = c->commit_xid = c->barrier_xid = 0;
    c->state = S_READY;
    if (c->need_sync) {
        /* Someone changed the switch's flows while the bundle was in
         * flight: which came first is not known, so read them again. */
        ofctrl_start_sync(c, out);
        return OFCTRL_HANDLED;
    }
    return event;
}

/* Reads the switch's flows again, now (queued on 'out') if nothing is in
 * flight, otherwise as soon as it is done. */
static void
ofctrl_resync(struct ofctrl *c, struct ovs_list *out)
{
    if (c->state == S_READY) {
        ofctrl_start_sync(c, out);
    } else {
        c->need_sync = true;
    }
}

/* The switch paused the flow monitor: it had more updates queued than it
 * would keep.  Until it resumes, updates are lost. */
static void
ofctrl_monitor_paused(struct ofctrl *c)
{
    if (!c->monitor_paused) {
        VLOG_INFO("the switch paused the flow monitor: its flows will be "
                  "read again when it resumes");
        c->monitor_paused = true;
        c->n_monitor_pauses++;
    }
}

/* The switch resumed the flow monitor: what changed meanwhile is known
 * only from a new read of its flows (queued on 'out' when it can be). */
static void
ofctrl_monitor_resumed(struct ofctrl *c, struct ovs_list *out)
{
    c->monitor_paused = false;
    c->n_foreign++;
    ofctrl_resync(c, out);
}

/* Returns true if 'fu', a change to the switch's flows, concerns the
 * installed flows: a flow with iovpd's mark, or one that took the place
 * of such a flow. */
static bool
ofctrl_is_ours(const struct ofctrl *c, const struct ofputil_flow_update *fu,
               struct oflow **oldp)
{
    struct oflow_data key_data;
    struct oflow key = {
        .data = &key_data,
        .table_id = fu->table_id,
        .priority = fu->priority,
    };

    if (!ofctrl_owns(c, fu->table_id)) {
        *oldp = NULL;
        return false;
    }
    minimatch_init(&key_data.match, &fu->match);
    *oldp = oflow_table_find(&c->installed, &key);
    minimatch_destroy(&key_data.match);
    return *oldp || ((be64toh(fu->cookie) & OFCTRL_COOKIE_MASK)
                     == OFCTRL_COOKIE_MAGIC);
}

/* Takes 'fu', a change to one of iovpd's flows (ofctrl_is_ours()) that
 * someone other than iovpd made, or the switch itself (as when it flushes
 * a bridge's flows), into the installed flows.  'old' is the installed
 * flow it replaces or removes, or NULL. */
static void
ofctrl_take_foreign_change(struct ofctrl *c,
                           const struct ofputil_flow_update *fu,
                           struct oflow *old)
{
    uint64_t cookie = be64toh(fu->cookie);

    if (VLOG_IS_DBG_ENABLED()) {
        struct ds s = DS_EMPTY_INITIALIZER;

        ds_put_format(&s, "%s by another: cookie=%#"PRIx64", table=%"PRIu8
                      ", ",
                      (fu->event == OFPFME_REMOVED ? "removed"
                       : fu->event == OFPFME_MODIFIED ? "modified"
                       : "added"),
                      cookie, fu->table_id);
        match_format(&fu->match, NULL, &s, fu->priority);
        VLOG_DBG("%s", ds_cstr(&s));
        ds_destroy(&s);
    }

    if (old) {
        oflow_table_remove(&c->installed, old);
        oflow_destroy(old);
        ofctrl_installed_changed(c);
    }
    if (fu->event != OFPFME_REMOVED
        && (cookie & OFCTRL_COOKIE_MASK) == OFCTRL_COOKIE_MAGIC) {
        oflow_table_insert(&c->installed, oflow_create(
                               fu->table_id, fu->priority, cookie,
                               &fu->match, fu->ofpacts, fu->ofpacts_len));
        ofctrl_installed_changed(c);
    }
}

/* Takes 'msg', a flow monitor reply: the switch's report of changes to its
 * flows.  Queues on 'out' a new read of the switch's flows if it is due. */
static enum ofctrl_event
ofctrl_take_monitor_reply(struct ofctrl *c, const struct ofpbuf *msg,
                          struct ovs_list *out)
{
    struct ofpbuf b = ofpbuf_const_initializer(msg->data, msg->size);
    bool changed = false;
    struct ofpbuf ofpacts;

    ofpbuf_init(&ofpacts, 64);
    for (;;) {
        struct ofputil_flow_update fu;
        struct oflow *old;
        int retval = ofputil_decode_flow_update(&fu, &b, &ofpacts);
        if (retval) {
            if (retval != EOF) {
                /* What follows cannot be read: what changed is unknown. */
                VLOG_WARN_RL(&rl, "bad flow monitor reply (%s)",
                             ofperr_to_string(retval));
                c->n_foreign++;
                ofctrl_resync(c, out);
            }
            break;
        }

        switch (fu.event) {
        case OFPFME_ABBREV:
            /* iovpd's own change. */
            break;
        case OFPFME_PAUSED:
            ofctrl_monitor_paused(c);
            break;
        case OFPFME_RESUMED:
            ofctrl_monitor_resumed(c, out);
            break;
        case OFPFME_INITIAL:
        case OFPFME_ADDED:
        case OFPFME_REMOVED:
        case OFPFME_MODIFIED:
        default:
            /* While paused, the switch reports only some changes, and
             * those of iovpd's own in full: they wait for the read that
             * follows the resumption.  While the switch's flows are being
             * read, the read shows the change.  While a bundle is in
             * flight, neither the order of the two nor what the change
             * met (a flow the bundle adds is not installed yet) is
             * known: any change by another means a new read. */
            if (c->monitor_paused || c->state == S_SYNCING) {
                break;
            } else if (c->state == S_UPDATING) {
                c->need_sync = true;
                c->n_foreign++;
                c->n_foreign_total++;
            } else if (ofctrl_is_ours(c, &fu, &old)) {
                ofctrl_take_foreign_change(c, &fu, old);
                c->need_full = true;
                c->n_foreign++;
                c->n_foreign_total++;
                changed = true;
            }
            break;
        }
    }
    ofpbuf_uninit(&ofpacts);
    return changed && c->state == S_READY ? OFCTRL_READY : OFCTRL_HANDLED;
}

/* Takes 'msg', a meter configuration reply to the read of the switch's
 * meters, into the installed meters: iovpd's only. */
static void
ofctrl_take_meter_configs(struct ofctrl *c, const struct ofpbuf *msg)
{
    struct ofpbuf b = ofpbuf_const_initializer(msg->data, msg->size);
    struct ofpbuf bands;

    ofpbuf_init(&bands, 64);
    for (;;) {
        struct ofputil_meter_config mc;
        int retval = ofputil_decode_meter_config(&b, &mc, &bands);
        if (retval) {
            if (retval != EOF) {
                VLOG_WARN_RL(&rl, "a meter configuration reply from the "
                             "switch did not decode (%s)",
                             ofperr_to_string(retval));
            }
            break;
        }
        if (mc.meter_id < c->meter_base || mc.meter_id > OFPM13_MAX
            || ofctrl_find_meter(c, mc.meter_id)) {
            continue;
        }

        /* A meter whose configuration is not one iovpd makes reads as
         * rate 0, which no desired meter has: it is modified. */
        struct ofctrl_meter *meter = iovp_xzalloc(sizeof *meter);
        meter->id = mc.meter_id;
        if (mc.n_bands == 1 && mc.bands[0].type == OFPMBT13_DROP
            && mc.flags == (OFPMF13_KBPS | OFPMF13_BURST | OFPMF13_STATS)) {
            meter->rate = mc.bands[0].rate;
            meter->burst = mc.bands[0].burst_size;
        }
        hmap_insert(&c->meters, &meter->node, meter->id);
    }
    ofpbuf_uninit(&bands);
}

/* The read of the meters' counters under way ended: the next one is good
 * for every meter. */
static void
ofctrl_meters_fresh(struct ofctrl *c)
{
    struct ofctrl_meter *meter;

    HMAP_FOR_EACH (meter, node, &c->meters) {
        meter->stale = false;
    }
}

/* Takes 'msg', a meter stats reply, into the installed meters' counters. */
static void
ofctrl_take_meter_stats(struct ofctrl *c, const struct ofpbuf *msg)
{
    struct ofpbuf b = ofpbuf_const_initializer(msg->data, msg->size);
    struct ofpbuf bands;

    ofpbuf_init(&bands, 64);
    for (;;) {
        struct ofputil_meter_stats ms;
        int retval = ofputil_decode_meter_stats(&b, &ms, &bands);
        if (retval) {
            if (retval != EOF) {
                VLOG_WARN_RL(&rl, "a meter stats reply from the switch did "
                             "not decode (%s)", ofperr_to_string(retval));
            }
            break;
        }

        struct ofctrl_meter *meter = ofctrl_find_meter(c, ms.meter_id);
        if (meter && !meter->stale) {
            meter->n_packets = meter->base[0] + ms.packet_in_count;
            meter->n_bytes = meter->base[1] + ms.byte_in_count;
            meter->n_dropped_packets = meter->base[2];
            meter->n_dropped_bytes = meter->base[3];
            for (size_t i = 0; i < ms.n_bands; i++) {
                meter->n_dropped_packets += ms.bands[i].packet_count;
                meter->n_dropped_bytes += ms.bands[i].byte_count;
            }
        }
    }
    ofpbuf_uninit(&bands);
}

/* If 'xid' is that of a meter_mod of the update in flight, which the
 * switch refused with 'error', takes the refusal and returns true. */
static bool
ofctrl_take_meter_error(struct ofctrl *c, ovs_be32 xid, const char *error)
{
    for (size_t i = 0; i < c->n_meter_mods; i++) {
        const struct ofctrl_meter_mod *mm = &c->meter_mods[i];
        if (mm->xid != xid) {
            continue;
        }

        VLOG_WARN("the switch refused meter %"PRIu32" (%"PRIu32" kbit/s, "
                  "burst %"PRIu32" kbit): %s", mm->id, mm->rate, mm->burst,
                  error);
        struct ofctrl_meter *meter = ofctrl_find_meter(c, mm->id);
        if (meter && mm->command == OFPMC13_ADD) {
            /* The switch holds no such meter. */
            hmap_remove(&c->meters, &meter->node);
            free(meter);
        } else if (meter) {
            /* It holds the meter as it was, which no desired meter is:
             * the next put modifies it again, or deletes it. */
            meter->rate = meter->burst = 0;
        }
        c->meter_rejections = iovp_xrealloc(
            c->meter_rejections,
            (c->n_meter_rejections + 1) * sizeof *c->meter_rejections);
        c->meter_rejections[c->n_meter_rejections++]
            = (struct ofctrl_meter_rejection) {
                .id = mm->id, .rate = mm->rate, .burst = mm->burst,
            };
        return true;
    }
    return false;
}

/* Returns true if 'xid' is that of a read of counters under way. */
static bool
ofctrl_is_stats_xid(const struct ofctrl *c, ovs_be32 xid)
{
    for (size_t i = 0; i < c->n_stats_xids; i++) {
        if (c->stats_xids[i] == xid) {
            return true;
        }
    }
    return false;
}

/* A part of a read of the counters (a table's flows, or the meters) is
 * complete: returns OFCTRL_STATS, counting the read, if it was the last
 * part, else OFCTRL_HANDLED. */
static enum ofctrl_event
ofctrl_stats_part_done(struct ofctrl *c)
{
    if (c->n_stats_xids || c->meter_stats_xid) {
        return OFCTRL_HANDLED;
    }
    c->n_stats_reads++;
    return OFCTRL_STATS;
}

/* Takes 'msg' from the switch if it concerns ofctrl, queues on 'out'
 * what ofctrl sends in answer, and says what it meant. */
enum ofctrl_event
ofctrl_receive(struct ofctrl *c, const struct ofpbuf *msg,
               struct ovs_list *out)
{
    const struct ofp_header *oh = msg->data;
    ovs_be32 xid = oh->xid;
    enum ofptype type;

    if (c->state == S_DISCONNECTED || ofptype_decode(&type, oh)) {
        return OFCTRL_IGNORED;
    }

    struct ofctrl_dump *d = c->dump && c->dump->xid == xid ? c->dump : NULL;
    if (d && type == OFPTYPE_FLOW_STATS_REPLY) {
        /* After a reply that does not decode, the read goes on to its last
         * reply, whose xid would otherwise be a stranger's, but only to
         * fail: flows left out would read as missing from the switch. */
        if (!d->error) {
            d->error = ofctrl_take_dump(c, msg, &d->flows, false);
        }
        if (!ofpmp_more(oh)) {
            ofctrl_finish_dump(c, NULL);
        }
        return OFCTRL_HANDLED;
    } else if (d && type == OFPTYPE_ERROR) {
        enum ofperr error = ofperr_decode_msg(oh, NULL);
        char *why = iovp_xasprintf("the switch refused to list its flows "
                                   "(%s)", (error ? ofperr_get_name(error)
                                            : "unknown error"));
        VLOG_WARN_RL(&rl, "%s", why);
        ofctrl_finish_dump(c, why);
        free(why);
        return OFCTRL_HANDLED;
    }

    if (type == OFPTYPE_METER_CONFIG_STATS_REPLY
        && xid == c->meter_sync_xid) {
        ofctrl_take_meter_configs(c, msg);
        if (!ofpmp_more(oh)) {
            c->meter_sync_xid = 0;
        }
        return OFCTRL_HANDLED;
    } else if (type == OFPTYPE_ERROR && xid == c->meter_sync_xid) {
        /* A switch without meters: it holds none of iovpd's. */
        enum ofperr error = ofperr_decode_msg(oh, NULL);
        VLOG_WARN_RL(&rl, "the switch refused to list its meters (%s)",
                     error ? ofperr_get_name(error) : "unknown error");
        c->meter_sync_xid = 0;
        return OFCTRL_HANDLED;
    } else if (type == OFPTYPE_METER_STATS_REPLY
               && xid == c->meter_stats_xid) {
        ofctrl_take_meter_stats(c, msg);
        if (ofpmp_more(oh)) {
            return OFCTRL_HANDLED;
        }
        c->meter_stats_xid = 0;
        ofctrl_meters_fresh(c);
        return ofctrl_stats_part_done(c);
    } else if (type == OFPTYPE_ERROR && xid == c->meter_stats_xid) {
        c->meter_stats_xid = 0;
        ofctrl_meters_fresh(c);
        return ofctrl_stats_part_done(c);
    }

    if (type == OFPTYPE_FLOW_STATS_REPLY && xid == c->sync_xid) {
        /* XXX A flow left out here reads as absent, to be added again;
         * a stale one of iovpd's stays.  Logged by ofctrl_take_dump(). */
        free(ofctrl_take_dump(c, msg, &c->dumping, false));
        if (ofpmp_more(oh)) {
            return OFCTRL_HANDLED;
        }
        oflow_table_swap(&c->installed, &c->dumping);
        oflow_table_clear(&c->dumping);
        ofctrl_installed_changed(c);
        c->sync_xid = 0;
        c->synced = true;
        c->n_syncs++;
        c->need_full = true;
        c->state = S_READY;
        VLOG_INFO("the switch holds %zu of iovpd's flows",
                  oflow_table_count(&c->installed));
        if (c->need_sync) {
            ofctrl_start_sync(c, out);
            return OFCTRL_HANDLED;
        }
        return OFCTRL_READY;
    } else if (type == OFPTYPE_FLOW_MONITOR_STATS_REPLY) {
        return ofctrl_take_monitor_reply(c, msg, out);
    } else if (type == OFPTYPE_FLOW_MONITOR_PAUSED) {
        ofctrl_monitor_paused(c);
        return OFCTRL_HANDLED;
    } else if (type == OFPTYPE_FLOW_MONITOR_RESUMED) {
        ofctrl_monitor_resumed(c, out);
        return OFCTRL_HANDLED;
    } else if (type == OFPTYPE_ERROR && xid == c->monitor_xid) {
        enum ofperr error = ofperr_decode_msg(oh, NULL);
        free(c->monitor_error);
        c->monitor_error = iovp_xstrdup(error ? ofperr_get_name(error)
                                        : "unknown error");
        VLOG_WARN("the switch refused the flow monitor (%s): changes that "
                  "others make to iovpd's flows go unnoticed",
                  c->monitor_error);
        return OFCTRL_HANDLED;
    } else if (type == OFPTYPE_FLOW_STATS_REPLY
               && ofctrl_is_stats_xid(c, xid)) {
        free(ofctrl_take_dump(c, msg, NULL, true));
        if (ofpmp_more(oh)) {
            return OFCTRL_HANDLED;
        }
        /* This dump is complete: forget its xid. */
        for (size_t i = 0; i < c->n_stats_xids; i++) {
            if (c->stats_xids[i] == xid) {
                c->stats_xids[i] = c->stats_xids[--c->n_stats_xids];
                break;
            }
        }
        return ofctrl_stats_part_done(c);
    } else if (c->state != S_UPDATING) {
        return OFCTRL_IGNORED;
    }

    if (type == OFPTYPE_ERROR) {
        enum ofperr error = ofperr_decode_msg(oh, NULL);
        const char *name = error ? ofperr_get_name(error) : "unknown error";
        struct ofctrl_change *ch;

        if (ofctrl_take_meter_error(c, xid, name)) {
            return OFCTRL_HANDLED;
        }
        HMAP_FOR_EACH_WITH_HASH (ch, node, be32toh(xid), &c->pending) {
            if (ch->xid == xid) {
                free(ch->error);
                ch->error = iovp_xstrdup(name);
                return OFCTRL_HANDLED;
            }
        }
        if (xid == c->open_xid || xid == c->commit_xid) {
            VLOG_DBG("bundle %"PRIu32" failed: %s", c->bundle_id, name);
            return OFCTRL_HANDLED;
        }
        return OFCTRL_IGNORED;
    } else if (type == OFPTYPE_BUNDLE_CONTROL
               && (xid == c->commit_xid || xid == c->open_xid)) {
        struct ofputil_bundle_ctrl_msg bc;
        if (!ofputil_decode_bundle_ctrl(oh, &bc)
            && bc.type == OFPBCT_COMMIT_REPLY && xid == c->commit_xid) {
            c->committed = true;
        }
        return OFCTRL_HANDLED;
    } else if (type == OFPTYPE_BARRIER_REPLY && xid == c->barrier_xid) {
        return ofctrl_finish_bundle(c, out);
    }
    return OFCTRL_IGNORED;
}

/* Returns true if ofctrl can take a put: it knows what the switch holds and
 * has no bundle in flight. */
bool
ofctrl_is_ready(const struct ofctrl *c)
{
    return c->state == S_READY;
}

/* Adds change 'ch' (taken, with its op and its flow's copy) to the bundle
 * being built, its flow_mod queued on 'out'. */
static void
ofctrl_queue_change(struct ofctrl *c, struct ofctrl_change *ch,
                    struct ovs_list *out)
{
    const struct oflow *f = ch->flow;
    enum ofctrl_op op = ch->op;
    static const uint16_t commands[] = {
        [OP_DELETE] = OFPFC_DELETE_STRICT,
        [OP_MODIFY] = OFPFC_MODIFY_STRICT,
        [OP_ADD] = OFPFC_ADD,
    };
    enum ofputil_protocol protocol
        = ofputil_protocol_from_ofp_version(c->version);
    struct ofputil_flow_mod fm = {
        .match = f->data->match,
        .priority = f->priority,
        .new_cookie = op == OP_ADD ? htobe64(f->cookie) : OVS_BE64_MAX,
        .table_id = f->table_id,
        .command = commands[op],
        .buffer_id = UINT32_MAX,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .ofpacts = op == OP_DELETE ? NULL : CONST_CAST(struct ofpact *,
                                                      f->data->ofpacts),
        .ofpacts_len = op == OP_DELETE ? 0 : f->data->ofpacts_len,
    };
    struct ofpbuf *fm_msg = ofputil_encode_flow_mod(&fm, protocol);
    struct ofputil_bundle_add_msg bam = {
        .bundle_id = c->bundle_id,
        .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
        .msg = fm_msg->data,
    };
    struct ofpbuf *add = ofputil_encode_bundle_add(c->version, &bam);
    ofpbuf_delete(fm_msg);

    if (VLOG_IS_DBG_ENABLED()) {
        static const char *const names[] = {
            [OP_DELETE] = "delete", [OP_MODIFY] = "modify", [OP_ADD] = "add",
        };
        struct ds s = DS_EMPTY_INITIALIZER;
        oflow_format(f, false, &s);
        VLOG_DBG("bundle %"PRIu32": %s %s", c->bundle_id, names[op],
                 ds_cstr(&s));
        ds_destroy(&s);
    }

    ch->xid = ofctrl_xid(add);
    hmap_insert(&c->pending, &ch->node, be32toh(ch->xid));
    ovs_list_push_back(out, &add->list_node);
}

/* A list of flows, for ofctrl_put(). */
struct ofctrl_flows {
    const struct oflow **flows;
    size_t n, allocated;
};

static void
ofctrl_flows_add(struct ofctrl_flows *list, const struct oflow *f)
{
    if (list->n >= list->allocated) {
        list->allocated = MAX(64, 2 * list->allocated);
        list->flows = iovp_xrealloc(list->flows,
                                    list->allocated * sizeof *list->flows);
    }
    list->flows[list->n++] = f;
}

/* Sorts desired flow 'want' into 'mods' or 'adds' if the switch does not
 * hold it as it is (and did not refuse it as it is). */
static void
ofctrl_classify(const struct ofctrl *c, const struct oflow *want,
                struct ofctrl_flows *mods, struct ofctrl_flows *adds)
{
    const struct oflow *have = oflow_table_find(&c->installed, want);

    if ((have && oflow_same_actions(have, want))
        || ofctrl_find_rejection(c, want)) {
        return;
    }
    ofctrl_flows_add(have && have->cookie == want->cookie ? mods : adds,
                     want);
}

/* Queues on 'out', in one ordered atomic bundle and a barrier, what turns
 * the installed flows into those of 'd', with the meter_mods for its
 * meters before and after it, and returns the number of flow_mods: 0 if
 * the flows already agree (then only meter_mods, and a barrier if they add
 * or modify one, are queued), or if ofctrl is not ready
 * (ofctrl_is_ready()).  After a new read of the switch's flows, a bundle
 * that failed or a change that someone else made to iovpd's flows, it
 * compares all of them, as it does when a deletion gives refused flows
 * another try; otherwise only those that 'd' tracked as changed.  It
 * clears 'd''s tracking. */
size_t
ofctrl_put(struct ofctrl *c, struct desired *d, struct ovs_list *out)
{
    const struct oflow_table *want = desired_flows(d);
    struct ofctrl_flows dels, mods, adds;
    const struct oflow *f;

    if (c->state != S_READY) {
        return 0;
    }

    bool full = c->need_full;
    for (;;) {
        memset(&dels, 0, sizeof dels);
        memset(&mods, 0, sizeof mods);
        memset(&adds, 0, sizeof adds);
        if (full) {
            OFLOW_TABLE_FOR_EACH (f, &c->installed) {
                if (!oflow_table_find(want, f)) {
                    ofctrl_flows_add(&dels, f);
                }
            }
            OFLOW_TABLE_FOR_EACH (f, want) {
                ofctrl_classify(c, f, &mods, &adds);
            }
        } else {
            OFLOW_TABLE_FOR_EACH (f, desired_tracked(d)) {
                const struct oflow *w = oflow_table_find(want, f);
                const struct oflow *h = oflow_table_find(&c->installed, f);
                if (w) {
                    ofctrl_classify(c, w, &mods, &adds);
                } else if (h) {
                    ofctrl_flows_add(&dels, h);
                }
            }
        }

        /* A deletion may make room for the flows the switch refused:
         * they get another try, which takes comparing all flows. */
        if (!dels.n || !c->n_rejections) {
            break;
        }
        ofctrl_clear_rejections(c);
        free(dels.flows);
        free(mods.flows);
        free(adds.flows);
        full = true;
    }
    c->need_full = false;
    c->compared_all = full;
    c->n_puts++;
    desired_clear_tracked(d);

    /* The changes, then the copies of their flows, then their flow_mods,
     * each in a pass of its own.  Each copy becomes an installed flow,
     * kept; the changes go at the reply, the flow_mods once sent.  Made
     * change by change, they would leave holes in the heap beside each
     * installed flow that the allocator cannot give back (17 MB at 100,000
     * flows, measured); made apart, they leave one stretch each. */
    struct {
        struct ofctrl_flows *flows;
        enum ofctrl_op op;
    } lists[] = {
        { &dels, OP_DELETE }, { &mods, OP_MODIFY }, { &adds, OP_ADD },
    };
    size_t n_changes = dels.n + mods.n + adds.n;
    struct ofctrl_change **chs = iovp_xmalloc(MAX(1, n_changes)
                                              * sizeof *chs);
    size_t i = 0;
    for (size_t l = 0; l < IOVP_ARRAY_SIZE(lists); l++) {
        for (size_t j = 0; j < lists[l].flows->n; j++) {
            chs[i] = iovp_xzalloc(sizeof *chs[i]);
            chs[i++]->op = lists[l].op;
        }
    }
    i = 0;
    for (size_t l = 0; l < IOVP_ARRAY_SIZE(lists); l++) {
        for (size_t j = 0; j < lists[l].flows->n; j++) {
            chs[i++]->flow = oflow_clone(lists[l].flows->flows[j]);
        }
    }

    c->bundle_id++;
    free(dels.flows);
    free(mods.flows);
    free(adds.flows);

    size_t n = n_changes;
    if (c->n_foreign && n) {
        /* Someone else changed iovpd's flows: this put undoes it.  (Not a
         * warning: an ovs-vswitchd that exits deletes every flow too.) */
        static struct vlog_rate_limit repair_rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_INFO_RL(&repair_rl, "putting back iovpd's flows that another "
                     "OpenFlow client or the switch changed (%zu changes "
                     "seen, %zu flow_mods: %zu deleted, %zu modified, %zu "
                     "added)", c->n_foreign, n, dels.n, mods.n, adds.n);
        c->n_repairs++;
    }
    c->n_foreign = 0;

    size_t n_meter_mods = ofctrl_put_meters(c, d, out);
    if (!n) {
        free(chs);
        c->bundle_id--;
        if (!n_meter_mods) {
            /* No flow changes: the meters that no flow uses can go. */
            ofctrl_delete_meters(c, out);
            return 0;
        }

        /* Meters alone: a barrier tells when the switch took them. */
        struct ofpbuf *barrier = ofputil_encode_barrier_request(c->version);
        c->barrier_xid = ofctrl_xid(barrier);
        ovs_list_push_back(out, &barrier->list_node);
        c->committed = true;
        c->state = S_UPDATING;
        return 0;
    }

    struct ofputil_bundle_ctrl_msg bc = {
        .bundle_id = c->bundle_id,
        .type = OFPBCT_OPEN_REQUEST,
        .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
    };
    struct ofpbuf *open = ofputil_encode_bundle_ctrl_request(c->version,
                                                             &bc);
    c->open_xid = ofctrl_xid(open);
    ovs_list_push_back(out, &open->list_node);

    c->unsent = chs;
    c->n_unsent = n_changes;
    c->next_unsent = 0;
    c->committed = false;
    c->state = S_UPDATING;
    VLOG_DBG("bundle %"PRIu32": %zu flow_mods", c->bundle_id, n);
    ofctrl_put_more(c, out);
    return n;
}

/* Returns true if the bundle of the last put has flow_mods that
 * ofctrl_put_more() has yet to queue. */
bool
ofctrl_is_putting(const struct ofctrl *c)
{
    return c->unsent != NULL;
}

/* Queues on 'out' the next OFCTRL_PUT_SLICE flow_mods of the bundle that
 * ofctrl_put() started, and after the last its commit and a barrier.
 * Returns true if the bundle has more to queue: ofctrl_put() queues its
 * first slice, and each call the next, so that no turn of the caller's
 * loop encodes 100,000 flow_mods.  The switch applies none of them before
 * the commit. */
bool
ofctrl_put_more(struct ofctrl *c, struct ovs_list *out)
{
    if (!c->unsent) {
        return false;
    }

    size_t end = MIN(c->n_unsent, c->next_unsent + OFCTRL_PUT_SLICE);
    for (; c->next_unsent < end; c->next_unsent++) {
        ofctrl_queue_change(c, c->unsent[c->next_unsent], out);
    }
    if (c->next_unsent < c->n_unsent) {
        return true;
    }
    ofctrl_clear_unsent(c);

    struct ofputil_bundle_ctrl_msg bc = {
        .bundle_id = c->bundle_id,
        .type = OFPBCT_COMMIT_REQUEST,
        .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
    };
    struct ofpbuf *commit = ofputil_encode_bundle_ctrl_request(c->version,
                                                               &bc);
    c->commit_xid = ofctrl_xid(commit);
    ovs_list_push_back(out, &commit->list_node);

    struct ofpbuf *barrier = ofputil_encode_barrier_request(c->version);
    c->barrier_xid = ofctrl_xid(barrier);
    ovs_list_push_back(out, &barrier->list_node);
    return false;
}

/* Queues on 'out' a read of the switch's counters for the installed flows
 * of the 'n' tables in 'tables' (0xff: every table; at most
 * OFCTRL_MAX_STATS_TABLES), unless a read is under way or ofctrl does not
 * know the installed flows yet.  Returns true if it queued the read. */
bool
ofctrl_read_stats(struct ofctrl *c, const uint8_t *tables, size_t n,
                  struct ovs_list *out)
{
    if ((c->state == S_READY || c->state == S_UPDATING)
        && !c->n_stats_xids && !c->meter_stats_xid) {
        for (size_t i = 0; i < MIN(n, OFCTRL_MAX_STATS_TABLES); i++) {
            uint8_t t = tables[i];
            c->stats_xids[c->n_stats_xids++] = ofctrl_queue_dump__(
                c, t, false, c->next_slice[t]++, c->slice_bits[t], out);
        }
        if (!hmap_is_empty(&c->meters)) {
            c->meter_stats_xid = ofctrl_queue_meter_request(
                c, OFPUTIL_METER_STATS, out);
        }
        return true;
    }
    return false;
}

/* Has each later read of the counters of table 'table_id' by
 * ofctrl_read_stats() take only one of 2**'bits' slices of its flows, each
 * in turn: those whose cookies have slice number in their low 'bits' bits
 * (at most 16).  A large table is read whole in 2**'bits' reads, each of
 * that much less work for the switch and for iovpd. */
void
ofctrl_slice_stats(struct ofctrl *c, uint8_t table_id, unsigned int bits)
{
    c->slice_bits[table_id] = MIN(bits, 16);
}

/* Queues on 'out' a request for every flow that the switch holds now,
 * whoever added it, with its counters, and returns 0; when the last reply
 * comes, ofctrl calls 'cb' with those flows, a null error and 'aux'.  (The
 * flows are ofctrl's, valid only during the call.)  If the connection
 * goes down first, or the switch refuses the request, or one of its
 * replies does not decode, or ofctrl is destroyed, 'cb' gets NULL flows
 * and why instead: never a part of the flows as if it were all of them.
 *
 * One read at most is under way (ofctrl_is_dumping_flows()): callers that
 * want the flows at once share it.  Returns -EBUSY if one is, -ENOTCONN
 * if there is no connection to the switch, and then never calls 'cb'.
 *
 * Unlike the installed flows (ofctrl_installed()), which are what ofctrl
 * believes the switch holds, this is what the switch says it holds. */
int
ofctrl_dump_flows(struct ofctrl *c, ofctrl_dump_cb *cb, void *aux,
                  struct ovs_list *out)
{
    if (c->state == S_DISCONNECTED) {
        return -ENOTCONN;
    } else if (c->dump) {
        return -EBUSY;
    }

    struct ofctrl_dump *d = iovp_xzalloc(sizeof *d);
    d->xid = ofctrl_queue_dump__(c, 0xff, true, 0, 0, out);
    oflow_table_init(&d->flows);
    d->cb = cb;
    d->aux = aux;
    c->dump = d;
    c->n_dumps++;
    return 0;
}

/* Returns true if a read of every flow (ofctrl_dump_flows()) is under
 * way. */
bool
ofctrl_is_dumping_flows(const struct ofctrl *c)
{
    return c->dump != NULL;
}

/* Returns true if the last ofctrl_put() compared every flow, not only those
 * that changed: after a read of the switch's flows (the end of a start, or
 * of a reconnection), a bundle that failed, a change that another client
 * or the switch made to iovpd's flows, or a deletion that gave refused
 * flows another try. */
bool
ofctrl_put_compared_all(const struct ofctrl *c)
{
    return c->compared_all;
}

/* Returns true once ofctrl knows what the switch holds: from the end of
 * the first read of its flows on a connection.  (A later read, after a
 * monitor's gap, refreshes what it knows.) */
bool
ofctrl_has_installed(const struct ofctrl *c)
{
    return c->synced;
}

/* Returns the flows the switch holds with iovpd's mark, with the counters
 * of the last read. */
const struct oflow_table *
ofctrl_installed(const struct ofctrl *c)
{
    return &c->installed;
}

/* Returns a number that changes each time a flow joins or leaves the
 * installed flows (ofctrl_installed()), and is never the same for the
 * flows of two ofctrls: while it stays the same, the installed flows are
 * the same objects (a read of the counters only updates them).  Never
 * 0. */
uint64_t
ofctrl_installed_seqno(const struct ofctrl *c)
{
    return c->installed_seqno;
}

/* Returns a number that changes each time a read of the counters finds one
 * changed among the installed flows of table 'table_id'. */
uint64_t
ofctrl_counters_seqno(const struct ofctrl *c, uint8_t table_id)
{
    return c->counters_seqno[table_id];
}

/* Returns iovpd's meters that the switch holds ("struct ofctrl_meter"s),
 * with the counters of the last read. */
const struct hmap *
ofctrl_meters(const struct ofctrl *c)
{
    return &c->meters;
}

/* Returns the flows the switch refused (and that were not tried again
 * since), and their number in '*n'. */
const struct ofctrl_rejection *
ofctrl_rejections(const struct ofctrl *c, size_t *n)
{
    *n = c->n_rejections;
    return c->rejections;
}

/* Returns the state of 'c''s flow monitor, in words. */
static const char *
ofctrl_monitor_state(const struct ofctrl *c)
{
    return (c->state == S_DISCONNECTED ? "none"
            : c->monitor_error ? "refused"
            : c->monitor_paused ? "paused"
            : "active");
}

/* Returns a new reference to a JSON object that describes 'c'. */
json_t *
ofctrl_status(const struct ofctrl *c)
{
    json_t *rejected = json_array();
    for (size_t i = 0; i < c->n_rejections; i++) {
        struct ds s = DS_EMPTY_INITIALIZER;
        oflow_format(c->rejections[i].flow, false, &s);
        json_array_append_new(rejected, json_pack(
                                  "{s:s, s:s}", "flow", ds_cstr(&s),
                                  "error", c->rejections[i].error));
        ds_destroy(&s);
    }
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
                     " s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
                     "state", ofctrl_state_name(c->state),
                     "monitor", ofctrl_monitor_state(c),
                     "foreign_changes", (json_int_t) c->n_foreign_total,
                     "repairs", (json_int_t) c->n_repairs,
                     "monitor_pauses", (json_int_t) c->n_monitor_pauses,
                     "installed", (json_int_t) oflow_table_count(
                         &c->installed),
                     "syncs", (json_int_t) c->n_syncs,
                     "puts", (json_int_t) c->n_puts,
                     "bundles", (json_int_t) c->n_bundles,
                     "failed_bundles", (json_int_t) c->n_failed_bundles,
                     "flow_mods", (json_int_t) c->n_flow_mods,
                     "dumps", (json_int_t) c->n_dumps,
                     "stats_reads", (json_int_t) c->n_stats_reads,
                     "dumps_in_flight", (json_int_t) (c->dump != NULL),
                     "meters", (json_int_t) hmap_count(&c->meters),
                     "meter_mods", (json_int_t) c->n_meter_mods_total,
                     "rejected_meters", (json_int_t) c->n_meter_rejections,
                     "rejected", rejected);
}
