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

#include "northbound/switch.h"

#include <stdlib.h>
#include <string.h>

#include <openflow/openflow-common.h>
#include <openvswitch/hmap.h>
#include <openvswitch/ofp-bundle.h>
#include <openvswitch/list.h>
#include <openvswitch/match.h>
#include <openvswitch/ofp-actions.h>
#include <openvswitch/ofp-connection.h>
#include <openvswitch/ofp-errors.h>
#include <openvswitch/ofp-flow.h>
#include <openvswitch/ofp-group.h>
#include <openvswitch/ofp-meter.h>
#include <openvswitch/ofp-monitor.h>
#include <openvswitch/ofp-msgs.h>
#include <openvswitch/ofp-packet.h>
#include <openvswitch/ofp-port.h>
#include <openvswitch/ofp-protocol.h>
#include <openvswitch/ofp-switch.h>
#include <openvswitch/ofp-table.h>
#include <openvswitch/ofp-util.h>
#include <openvswitch/ofpbuf.h>
#include <openvswitch/token-bucket.h>
#include <openvswitch/vlog.h>

#include "agent/pipeline-tables.h"
#include "lib/util.h"
#include "northbound/xlate.h"
#include "ofp/oflow.h"

VLOG_DEFINE_THIS_MODULE(nb_switch);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* Bytes of messages that wait, at most: for the bridge's connection, and
 * on a connection whose delete with an out_port reads the bridge's flows;
 * beyond, each is refused (OFPBRC_EPERM). */
#define NB_MAX_HELD (64 * 1024 * 1024)

/* The first bytes of a request that an error quotes. */
#define NB_ERROR_BYTES 64

/* A controller's connection. */
struct nbconn {
    struct ovs_list node;       /* In the switch's 'conns'. */
    char *name;
    void *io;
    bool active;
    enum ofp_version version;
    enum ofp12_controller_role role;
    struct ofputil_async_cfg async;
    uint16_t miss_send_len;
    struct token_bucket packet_ins;
    struct ovs_list out;        /* Queued for it. */
    struct ovs_list bundles;    /* Its open bundles ("struct nb_bundle"s). */

    /* While a flow_mod with an out_port waits for the bridge's flows
     * (nb_flow_mod_out_port()), what the controller sends next waits
     * here, in order. */
    unsigned int n_blocking;
    struct ovs_list held;
    size_t held_bytes;          /* At most NB_MAX_HELD. */

    /* Statistics. */
    unsigned long long int n_packet_ins, n_packet_ins_dropped;
    unsigned long long int n_errors;
};

/* A controller's bundle, and the bridge's that carries it. */
struct nb_bundle {
    struct ovs_list node;       /* In its connection's 'bundles'. */
    uint32_t id;                /* The controller's. */
    uint32_t bridge_id;
    uint16_t flags;
    ovs_be32 open_xid;          /* The bridge's xid of its open request,
                                 * whose errors (a bundle that timed out)
                                 * come until it is committed or
                                 * discarded. */
};

/* What a request sent to the bridge waits for. */
enum nb_request_kind {
    NB_REQ_ERRORS,              /* Nothing but a possible error. */
    NB_REQ_BARRIER,             /* The controller's barrier. */
    NB_REQ_OWN_BARRIER,         /* The switch's own, to retire requests. */
    NB_REQ_FLOW_STATS,
    NB_REQ_AGGREGATE,
    NB_REQ_TABLE_STATS,
    NB_REQ_OUT_PORT,            /* The flows a flow_mod's out_port picks. */
    NB_REQ_BUNDLE_CTRL,
    NB_REQ_PORT_STATS,
    NB_REQ_GROUP_DESC,
    NB_REQ_GROUP_STATS,
    NB_REQ_GROUP_FEATURES,
    NB_REQ_METER_CONFIG,
    NB_REQ_METER_STATS,
    NB_REQ_METER_FEATURES,
};

/* A message taken to the bridge for a controller. */
struct nb_request {
    struct hmap_node node;      /* In 'requests', by 'bridge_xid'. */
    struct ovs_list fifo;       /* In 'fifo', in the order sent, or in
                                 * 'bundled' if added to the bridge's
                                 * bundle 'bridge_bundle_id'. */
    ovs_be32 bridge_xid;
    enum nb_request_kind kind;
    unsigned int n_parts;       /* Messages under 'bridge_xid' whose last
                                 * reply is awaited. */
    struct nbconn *conn;        /* NULL once it disconnected. */
    uint8_t header[NB_ERROR_BYTES]; /* The controller's message's start. */
    size_t header_len;          /* How much of it 'header' holds. */

    /* NB_REQ_FLOW_STATS, NB_REQ_AGGREGATE, NB_REQ_PORT_STATS. */
    ofp_port_t out_port;
    struct ovs_list replies;
    struct ofputil_aggregate_stats aggregate;

    /* NB_REQ_BUNDLE_CTRL: the controller's bundle id, the bridge's, and
     * the request's type (OFPBCT_*). */
    uint32_t bundle_id;
    uint32_t bridge_bundle_id;
    uint16_t bundle_type;


    /* NB_REQ_OUT_PORT's (every other kind has NULL: a bundle of
     * thousands of flow_mods is thousands of requests). */
    struct nb_out_port *out;

    /* NB_REQ_OWN_BARRIER: the generation of changes to the controller's
     * table 0 that its reply confirms (see nb_change_record()), or 0. */
    uint64_t gen;
};

/* A delete with an out_port (nb_flow_mod_out_port()), while the bridge's
 * flows are read: the flow_mod, and the bundle it is in, if
 * 'has_bundle'. */
struct nb_out_port {
    struct ofputil_flow_mod fm;
    bool has_bundle;
    struct nb_bundle bundle;
};

struct nbswitch {
    struct nbswitch_cbs cbs;
    void *aux;
    uint64_t datapath_id;
    int rate_limit, burst_limit;

    struct ovs_list conns;      /* "struct nbconn"s. */
    bool have_generation_id;
    uint64_t generation_id;

    struct nbswitch_port *ports;        /* By port number. */
    size_t n_ports;

    /* The bridge. */
    bool bridge_active;
    enum ofp_version bridge_version;
    uint32_t next_xid;
    struct ovs_list bridge_out;     /* Queued for it. */
    struct ovs_list held;           /* For it, until it is active. */
    size_t n_held;              /* Bytes in 'held'. */
    struct hmap requests;
    struct ovs_list fifo;       /* Requests not in a bundle, in order. */
    struct ovs_list bundled;    /* Requests added to the bridge's bundles. */
    bool errors_pending;        /* NB_REQ_ERRORS requests since a barrier. */
    uint32_t next_bundle_id;

    /* While a controller's OFPT_BUNDLE_ADD_MESSAGE is translated, the
     * bridge's bundle that its message goes into. */
    const struct nb_bundle *adding;

    /* Offload's copy of the controller's table 0, kept by a flow monitor
     * on the bridge's table while the owner watches it
     * (nbswitch_watch_table0()). */
    bool watch_table0;
    struct oflow_table table0;
    ovs_be32 monitor_xid;       /* Of the monitor's request, or 0. */
    uint32_t monitor_id;        /* Its id. */
    bool table0_known;          /* Its initial flows came, not paused. */

    /* The changes sent to the bridge that may change what the table does
     * with a frame, each until the barrier after it comes back (see
     * nb_change_record()). */
    struct ovs_list in_bundles; /* Changes in bundles not yet committed or
                                 * discarded (the bridge applies nothing of
                                 * them yet). */
    struct ovs_list sent;       /* The others, by generation. */
    size_t n_sent;
    struct hmap changes;        /* Of those, each of one flow, by
                                 * oflow_hash(), one for each flow. */
    struct ovs_list loose;      /* Of those, of every flow that a match
                                 * overlaps... */
    size_t n_loose;
    struct ovs_list port_changes;   /* ...and of a port. */
    uint64_t next_gen;          /* Of the changes the next barrier
                                 * confirms. */
    bool announce;              /* Changes to announce before sending. */
    bool settle_pending;        /* Changes that need a barrier. */

    /* The bridge's configuration of each of its ports (OFPUTIL_PC_*), as
     * its port descriptions and status messages say: a port_mod, the
     * controller's or anyone's, may have made one drop what it receives
     * or would send. */
    struct nb_port_config *configs;
    size_t n_configs;
    bool configs_known;         /* The bridge's port descriptions came. */
    ovs_be32 port_desc_xid;     /* Of their request, or 0. */
};

struct nb_port_config {
    ofp_port_t port_no;
    enum ofputil_port_config config;
};

/* A change that the switch sent to the bridge, or put in a bundle of the
 * bridge's, that may change what the controller's table 0 does with a
 * frame. */
enum nb_change_kind {
    NB_CHANGE_ONE,              /* Of the flow of 'flow''s identity. */
    NB_CHANGE_ADD,              /* The same, or a flow added there. */
    NB_CHANGE_LOOSE,            /* Of every flow that 'flow''s match
                                 * overlaps. */
    NB_CHANGE_PORT,             /* Of port 'port''s configuration. */
};

struct nb_change {
    struct ovs_list list_node;  /* In 'in_bundles' or 'sent'. */
    struct hmap_node node;      /* Sent: in 'changes' (NB_CHANGE_ONE,
                                 * _ADD)... */
    struct ovs_list kind_node;  /* ...or in 'loose' or 'port_changes'. */
    enum nb_change_kind kind;
    struct oflow *flow;         /* Table, priority, match; no actions. */
    struct match match;         /* NB_CHANGE_LOOSE: 'flow''s, expanded. */
    ofp_port_t port;            /* NB_CHANGE_PORT. */
    uint64_t gen;               /* The barrier that confirms it, or
                                 * UINT64_MAX while in a bundle. */
    uint32_t bundle_id;         /* The bridge's bundle it is in, or 0. */
};

/* Beyond this many changes in flight, or this many of every flow a match
 * overlaps, the switch does not follow them (nbswitch_table0() is NULL
 * until they are confirmed). */
#define NB_MAX_CHANGES 10000
#define NB_MAX_LOOSE 16

static struct nb_request *nb_find_request(const struct nbswitch *,
                                          ovs_be32 xid);
static void nb_bundle_destroy(struct nbswitch *, struct nb_bundle *);
static struct nb_request *nb_to_bridge(struct nbswitch *, struct nbconn *,
                                       const struct ofp_header *,
                                       enum nb_request_kind,
                                       struct ofpbuf *);

struct nbswitch *
nbswitch_create(const struct nbswitch_cbs *cbs, void *aux)
{
    struct nbswitch *sw = iovp_xzalloc(sizeof *sw);

    sw->cbs = *cbs;
    sw->aux = aux;
    sw->rate_limit = NBSWITCH_RATE_LIMIT;
    sw->burst_limit = NBSWITCH_BURST_LIMIT;
    sw->next_xid = 1;
    ovs_list_init(&sw->conns);
    ovs_list_init(&sw->bridge_out);
    ovs_list_init(&sw->held);
    hmap_init(&sw->requests);
    ovs_list_init(&sw->fifo);
    ovs_list_init(&sw->bundled);
    oflow_table_init(&sw->table0);
    ovs_list_init(&sw->in_bundles);
    ovs_list_init(&sw->sent);
    hmap_init(&sw->changes);
    ovs_list_init(&sw->loose);
    ovs_list_init(&sw->port_changes);
    sw->next_gen = 1;
    return sw;
}

static void nb_unblock(struct nbswitch *, struct nbconn *);

static enum ofp_version
nb_bridge_version(const struct nbswitch *sw)
{
    return sw->bridge_version ? sw->bridge_version : OFP15_VERSION;
}

static enum ofputil_protocol
nb_bridge_protocol(const struct nbswitch *sw)
{
    return ofputil_protocol_from_ofp_version(sw->bridge_version
                                             ? sw->bridge_version
                                             : OFP15_VERSION);
}

/* Offload's copy of the controller's table 0. */

/* Returns true if nbswitch_table0() would return the table. */
static bool
nb_table0_available(const struct nbswitch *sw)
{
    return (sw->watch_table0 && sw->table0_known
            && sw->n_sent <= NB_MAX_CHANGES && sw->n_loose <= NB_MAX_LOOSE);
}

/* Returns the change sent of kind NB_CHANGE_ONE or NB_CHANGE_ADD with the
 * identity of 'f', or NULL. */
static struct nb_change *
nb_find_change(const struct nbswitch *sw, const struct oflow *f)
{
    struct nb_change *c;

    HMAP_FOR_EACH_WITH_HASH (c, node, oflow_hash(f), &sw->changes) {
        if (oflow_same_identity(c->flow, f)) {
            return c;
        }
    }
    return NULL;
}

static void nb_change_destroy(struct nbswitch *, struct nb_change *);

/* Takes 'c' as sent, to be confirmed by the next barrier, announced to the
 * owner before it goes.  A change of a flow that one sent already concerns
 * merges into that one, which the next barrier confirms now. */
static void
nb_change_send(struct nbswitch *sw, struct nb_change *c)
{
    c->gen = sw->next_gen;
    c->bundle_id = 0;
    sw->settle_pending = true;
    sw->announce = true;

    if (c->kind == NB_CHANGE_ONE || c->kind == NB_CHANGE_ADD) {
        struct nb_change *same = nb_find_change(sw, c->flow);
        if (same) {
            if (c->kind == NB_CHANGE_ADD) {
                same->kind = NB_CHANGE_ADD;
            }
            same->gen = c->gen;
            ovs_list_remove(&same->list_node);
            ovs_list_push_back(&sw->sent, &same->list_node);
            oflow_destroy(c->flow);
            free(c);
            return;
        }
        hmap_insert(&sw->changes, &c->node, oflow_hash(c->flow));
    } else if (c->kind == NB_CHANGE_LOOSE) {
        ovs_list_push_back(&sw->loose, &c->kind_node);
        sw->n_loose++;
    } else {
        ovs_list_push_back(&sw->port_changes, &c->kind_node);
    }
    ovs_list_push_back(&sw->sent, &c->list_node);
    sw->n_sent++;
}

/* Records that what is about to go to the bridge (or into the bundle of
 * the bridge's that 'sw->adding' names) may change what the controller's
 * table 0 does with a frame: 'kind' of change, of flows like 'fm''s in
 * table 0 or of port 'port'.  Until the barrier that the next
 * nbswitch_flush() sends after it comes back (or, in a bundle, the one
 * after its commit or discard, before which the bridge applies none of
 * it), the copy may not show it, and flows it may change are to be taken
 * as changing (nbswitch_table0_is_changing(), nbswitch_table0_adding(),
 * nbswitch_port_forwards()); nbswitch_flush() tells the owner before it
 * sends it. */
static void
nb_change_record(struct nbswitch *sw, enum nb_change_kind kind,
                 const struct ofputil_flow_mod *fm, ofp_port_t port)
{
    if (!sw->watch_table0) {
        return;
    }

    struct nb_change *c = iovp_xzalloc(sizeof *c);
    c->kind = kind;
    c->port = port;
    if (fm) {
        struct match m;
        minimatch_expand(&fm->match, &m);
        c->flow = oflow_create(PIPELINE_OF_TABLE0, fm->priority, 0, &m,
                               NULL, 0);
        if (kind == NB_CHANGE_LOOSE) {
            c->match = m;
        }
    }
    if (sw->adding) {
        c->gen = UINT64_MAX;
        c->bundle_id = sw->adding->bridge_id;
        ovs_list_push_back(&sw->in_bundles, &c->list_node);
    } else {
        nb_change_send(sw, c);
    }
}

static void
nb_change_destroy(struct nbswitch *sw, struct nb_change *c)
{
    if (c->gen != UINT64_MAX) {
        if (c->kind == NB_CHANGE_LOOSE) {
            ovs_list_remove(&c->kind_node);
            sw->n_loose--;
        } else if (c->kind == NB_CHANGE_PORT) {
            ovs_list_remove(&c->kind_node);
        } else {
            hmap_remove(&sw->changes, &c->node);
        }
        sw->n_sent--;
    }
    ovs_list_remove(&c->list_node);
    oflow_destroy(c->flow);
    free(c);
}

/* The bridge's bundle 'bundle_id' is being committed or discarded, or is
 * gone: its changes are sent now, to be confirmed by the next barrier. */
static void
nb_changes_release_bundle(struct nbswitch *sw, uint32_t bundle_id)
{
    struct nb_change *c;

    LIST_FOR_EACH_SAFE (c, list_node, &sw->in_bundles) {
        if (c->bundle_id == bundle_id) {
            ovs_list_remove(&c->list_node);
            nb_change_send(sw, c);
        }
    }
}

static void nb_request_port_desc(struct nbswitch *);

/* The barrier of generation 'gen' came back: the bridge's table, and the
 * copy, have every change of that generation and before. */
static void
nb_changes_confirmed(struct nbswitch *sw, uint64_t gen)
{
    bool any = false, port = false;

    while (!ovs_list_is_empty(&sw->sent)) {
        struct nb_change *c = CONTAINER_OF(ovs_list_front(&sw->sent),
                                           struct nb_change, list_node);
        if (c->gen > gen) {
            break;
        }
        port = port || c->kind == NB_CHANGE_PORT;
        nb_change_destroy(sw, c);
        any = true;
    }
    if (port && sw->bridge_version < OFP15_VERSION) {
        /* Before OpenFlow 1.5 the bridge tells no port status of a
         * port_mod to the connection that sent it: it is read again. */
        nb_request_port_desc(sw);
    }
    if (any && nb_table0_available(sw) && sw->cbs.table0_changed) {
        sw->cbs.table0_changed(sw->aux);
    }
}

static void
nb_changes_clear(struct nbswitch *sw)
{
    struct nb_change *c;

    LIST_FOR_EACH_SAFE (c, list_node, &sw->in_bundles) {
        nb_change_destroy(sw, c);
    }
    LIST_FOR_EACH_SAFE (c, list_node, &sw->sent) {
        nb_change_destroy(sw, c);
    }
    sw->announce = false;
    sw->settle_pending = false;
}

/* The copy is as the bridge's table is, or was lost: tells the owner. */
static void
nb_table0_changed(struct nbswitch *sw)
{
    if (sw->cbs.table0_changed) {
        sw->cbs.table0_changed(sw->aux);
    }
}

/* Forgets the copy (the bridge went away, or the monitor lost updates). */
static void
nb_table0_lost(struct nbswitch *sw)
{
    bool was_available = nb_table0_available(sw);

    oflow_table_clear(&sw->table0);
    sw->table0_known = false;
    sw->monitor_xid = 0;
    if (was_available && sw->cbs.table0_changing) {
        sw->cbs.table0_changing(sw->aux);
    }
}

static void nb_queue(struct nbswitch *, struct ofpbuf *);

/* Asks the bridge for every flow of the controller's table 0, and for
 * every change to them, ours in full too (OVS's OFPFMF_ONLY_OWN). */
static void
nb_table0_monitor(struct nbswitch *sw)
{
    enum ofputil_protocol protocol = nb_bridge_protocol(sw);

    if (sw->monitor_id) {
        struct ofpbuf *cancel = ofputil_encode_flow_monitor_cancel(
            sw->monitor_id, protocol);
        ((struct ofp_header *) cancel->data)->xid = htonl(sw->next_xid++);
        nb_queue(sw, cancel);
    }
    struct ofputil_flow_monitor_request fmr = {
        .id = ++sw->monitor_id,
        .command = OFPFMC_ADD,
        .flags = (OFPFMF_INITIAL | OFPFMF_ADD | OFPFMF_REMOVED
                  | OFPFMF_MODIFY | OFPFMF_INSTRUCTIONS | OFPFMF_ONLY_OWN),
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .table_id = PIPELINE_OF_TABLE0,
    };
    struct ofpbuf *request = ofpbuf_new(128);
    match_init_catchall(&fmr.match);
    ofputil_append_flow_monitor_request(&fmr, request, protocol);
    ofpmsg_update_length(request);

    struct ofp_header *oh = request->data;
    oh->xid = htonl(sw->next_xid++);
    sw->monitor_xid = oh->xid;
    oflow_table_clear(&sw->table0);
    sw->table0_known = false;
    nb_queue(sw, request);
}

/* Takes 'oh', a part of the monitor's initial reply or an update.  What
 * comes before the initial reply is older than it, and ignored. */
static void
nb_take_monitor_reply(struct nbswitch *sw, const struct ofp_header *oh)
{
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    uint64_t stub[1024 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    bool initial = sw->monitor_xid && oh->xid == sw->monitor_xid;
    bool changed = false;

    while (sw->watch_table0) {
        struct ofputil_flow_update fu;
        int retval = ofputil_decode_flow_update(&fu, &b, &ofpacts);
        if (retval) {
            if (retval != EOF) {
                VLOG_WARN_RL(&rl, "bad flow monitor reply from the bridge "
                             "(%s): reading its table again",
                             ofperr_to_string(retval));
                nb_table0_lost(sw);
                nb_table0_monitor(sw);
                initial = false;
            }
            break;
        }
        if (fu.event == OFPFME_PAUSED) {
            nb_table0_lost(sw);
            initial = false;
            continue;
        } else if (fu.event == OFPFME_RESUMED) {
            nb_table0_monitor(sw);
            initial = false;
            continue;
        } else if (fu.event == OFPFME_ABBREV
                   || fu.table_id != PIPELINE_OF_TABLE0
                   || (!initial && !sw->table0_known)) {
            continue;
        }

        struct oflow_data key_data;
        struct oflow key = { .data = &key_data, .table_id = fu.table_id,
                             .priority = fu.priority };
        minimatch_init(&key_data.match, &fu.match);
        struct oflow *old = oflow_table_find(&sw->table0, &key);
        minimatch_destroy(&key_data.match);
        if (old) {
            oflow_table_remove(&sw->table0, old);
            oflow_destroy(old);
        }
        if (fu.event != OFPFME_REMOVED) {
            struct oflow *f = oflow_create(fu.table_id, fu.priority,
                                           be64toh(fu.cookie), &fu.match,
                                           fu.ofpacts, fu.ofpacts_len);
            oflow_set_stats(f, &(struct oflow_stats) {
                                .idle_timeout = fu.idle_timeout,
                                .hard_timeout = fu.hard_timeout });
            oflow_table_insert(&sw->table0, f);
        }
        changed = true;
    }
    ofpbuf_uninit(&ofpacts);

    if (initial && !ofpmp_more(oh)) {
        sw->table0_known = true;
        changed = true;
    }
    if (changed && nb_table0_available(sw)) {
        nb_table0_changed(sw);
    }
}

/* Starts or stops keeping a copy of the controller's table 0, for
 * offload. */
void
nbswitch_watch_table0(struct nbswitch *sw, bool watch)
{
    if (watch != sw->watch_table0) {
        nb_table0_lost(sw);
        nb_changes_clear(sw);
        sw->watch_table0 = watch;
        if (watch && sw->bridge_active) {
            nb_table0_monitor(sw);
        }
    }
}

/* Returns the copy of the bridge's table PIPELINE_OF_TABLE0 (the
 * controller's table 0), if it is watched and known, and the changes in
 * flight to it few enough to follow; otherwise NULL.  The bridge may have
 * changes that the switch sent that the copy does not show yet: see
 * nbswitch_table0_is_changing() and nbswitch_table0_adding(). */
const struct oflow_table *
nbswitch_table0(const struct nbswitch *sw)
{
    return nb_table0_available(sw) ? &sw->table0 : NULL;
}

/* Returns true if the values that two matches both match on differ
 * nowhere: some frame matches both. */
static bool
nb_matches_overlap(const struct match *a, const struct match *b)
{
    const uint64_t *fa = (const uint64_t *) &a->flow;
    const uint64_t *fb = (const uint64_t *) &b->flow;
    const uint64_t *ma = (const uint64_t *) &a->wc.masks;
    const uint64_t *mb = (const uint64_t *) &b->wc.masks;

    for (size_t i = 0; i < sizeof a->flow / sizeof *fa; i++) {
        if ((fa[i] ^ fb[i]) & ma[i] & mb[i]) {
            return false;
        }
    }
    return true;
}

/* Returns true if a change in flight, which the copy may not show yet,
 * may change what flow 'f' of nbswitch_table0() does. */
bool
nbswitch_table0_is_changing(const struct nbswitch *sw, const struct oflow *f)
{
    const struct nb_change *c;

    if (nb_find_change(sw, f)) {
        return true;
    }
    if (sw->n_loose) {
        struct match m;
        minimatch_expand(&f->data->match, &m);
        LIST_FOR_EACH (c, kind_node, &sw->loose) {
            if (nb_matches_overlap(&c->match, &m)) {
                return true;
            }
        }
    }
    return false;
}

/* Stores in '*flowsp' (malloc()'d, for the caller to free) and '*n' the
 * flows that changes in flight may add to the controller's table 0, which
 * the copy may not show yet: their identities, without actions. */
void
nbswitch_table0_adding(const struct nbswitch *sw,
                       const struct oflow ***flowsp, size_t *n)
{
    const struct nb_change *c;

    *flowsp = iovp_xmalloc(MAX(hmap_count(&sw->changes), 1)
                           * sizeof **flowsp);
    *n = 0;
    HMAP_FOR_EACH (c, node, &sw->changes) {
        if (c->kind == NB_CHANGE_ADD) {
            (*flowsp)[(*n)++] = c->flow;
        }
    }
}

/* The configuration bits of a port that change what the bridge does with
 * its frames, beyond its flows. */
#define NB_PC_RESTRICTING (OFPUTIL_PC_PORT_DOWN | OFPUTIL_PC_NO_RECV     \
                           | OFPUTIL_PC_NO_FWD)

/* The configuration bits that only OpenFlow knows (the Interface's
 * administrative state shows the others), shown to the controllers. */
#define NB_PC_OPENFLOW (OFPUTIL_PC_NO_RECV | OFPUTIL_PC_NO_FWD           \
                        | OFPUTIL_PC_NO_PACKET_IN)

static struct nb_port_config *
nb_find_config(const struct nbswitch *sw, ofp_port_t port_no)
{
    for (size_t i = 0; i < sw->n_configs; i++) {
        if (sw->configs[i].port_no == port_no) {
            return &sw->configs[i];
        }
    }
    return NULL;
}

/* Returns true if the bridge is known to treat frames from and to port
 * 'port' as its flows say: its configuration read, and neither down nor
 * dropping what it receives or would send. */
bool
nbswitch_port_forwards(const struct nbswitch *sw, ofp_port_t port)
{
    const struct nb_port_config *c = nb_find_config(sw, port);
    const struct nb_change *change;

    if (!sw->configs_known || (c && c->config & NB_PC_RESTRICTING)) {
        return false;
    }
    LIST_FOR_EACH (change, kind_node, &sw->port_changes) {
        if (change->port == port) {
            return false;       /* A port_mod of it in flight. */
        }
    }
    return true;
}

/* Shows in 'pp' the bridge's configuration of its port that only
 * OpenFlow knows. */
static void
nb_port_show_config(const struct nbswitch *sw, struct ofputil_phy_port *pp)
{
    const struct nb_port_config *c = nb_find_config(sw, pp->port_no);

    pp->config = ((pp->config & ~NB_PC_OPENFLOW)
                  | (c ? c->config & NB_PC_OPENFLOW : 0));
}

static void nb_port_status(struct nbswitch *, enum ofp_port_reason,
                           const struct ofputil_phy_port *);

/* The bridge's configuration of its ports may have changed: the
 * controllers hear of what they see change, and the owner, for offload,
 * re-reads which ports forward as their flows say. */
static void
nb_configs_changed(struct nbswitch *sw)
{
    for (size_t i = 0; i < sw->n_ports; i++) {
        struct ofputil_phy_port *pp = &sw->ports[i].pp;
        enum ofputil_port_config old = pp->config;

        nb_port_show_config(sw, pp);
        if (pp->config != old) {
            nb_port_status(sw, OFPPR_MODIFY, pp);
        }
    }
    if (sw->watch_table0) {
        if (sw->cbs.table0_changing) {
            sw->cbs.table0_changing(sw->aux);
        }
        nb_table0_changed(sw);
    }
}

/* Takes 'pp', a port of the bridge's, with its configuration (or, if
 * 'deleted', its going).  Returns true if that changes what the switch
 * knew of it. */
static bool
nb_take_port_config(struct nbswitch *sw, const struct ofputil_phy_port *pp,
                    bool deleted)
{
    struct nb_port_config *c = nb_find_config(sw, pp->port_no);

    if (deleted) {
        if (c) {
            *c = sw->configs[--sw->n_configs];
        }
        return c != NULL;
    } else if (!c) {
        sw->configs = iovp_xrealloc(sw->configs, (sw->n_configs + 1)
                                    * sizeof *sw->configs);
        c = &sw->configs[sw->n_configs++];
        c->port_no = pp->port_no;
        c->config = pp->config;
        return true;
    } else if (c->config != pp->config) {
        c->config = pp->config;
        return true;
    }
    return false;
}

/* Takes 'oh', a part of the bridge's port descriptions. */
static void
nb_take_port_desc(struct nbswitch *sw, const struct ofp_header *oh)
{
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    struct ofputil_phy_port pp;

    ofpraw_pull_assert(&b);
    while (!ofputil_pull_phy_port(oh->version, &b, &pp)) {
        nb_take_port_config(sw, &pp, false);
    }
    if (!ofpmp_more(oh)) {
        sw->port_desc_xid = 0;
        sw->configs_known = true;
        nb_configs_changed(sw);
    }
}

/* Takes 'oh', the bridge's port status message. */
static void
nb_take_bridge_port_status(struct nbswitch *sw, const struct ofp_header *oh)
{
    struct ofputil_port_status ps;

    if (!ofputil_decode_port_status(oh, &ps)
        && nb_take_port_config(sw, &ps.desc, ps.reason == OFPPR_DELETE)
        && sw->configs_known) {
        nb_configs_changed(sw);
    }
}

/* Queues 'msg' for the bridge, or holds it while the bridge is away. */
static void
nb_queue(struct nbswitch *sw, struct ofpbuf *msg)
{
    if (sw->bridge_active) {
        ovs_list_push_back(&sw->bridge_out, &msg->list_node);
    } else {
        ovs_list_push_back(&sw->held, &msg->list_node);
        sw->n_held += msg->size;
    }
}

static void
nb_request_destroy(struct nbswitch *sw, struct nb_request *rq)
{
    hmap_remove(&sw->requests, &rq->node);
    ovs_list_remove(&rq->fifo);
    ofpbuf_list_delete(&rq->replies);
    if (rq->kind == NB_REQ_OUT_PORT) {
        minimatch_destroy(&rq->out->fm.match);
        free(rq->out);
    }
    free(rq);
}

/* Destroys 'rq', which the bridge answered, and lets its connection go on
 * if it waited for it. */
static void
nb_request_finish(struct nbswitch *sw, struct nb_request *rq)
{
    struct nbconn *conn = rq->kind == NB_REQ_OUT_PORT ? rq->conn : NULL;

    nb_request_destroy(sw, rq);
    if (conn) {
        nb_unblock(sw, conn);
    }
}

/* Forgets every request in flight, and every bundle (the bridge lost
 * them, or never had them: a later add or commit is refused); what the
 * controllers sent after a request they waited for goes on. */
static void
nb_requests_clear(struct nbswitch *sw)
{
    struct nb_request *rq;
    struct nbconn *conn;

    HMAP_FOR_EACH_SAFE (rq, node, &sw->requests) {
        nb_request_destroy(sw, rq);
    }
    LIST_FOR_EACH (conn, node, &sw->conns) {
        struct nb_bundle *b;
        LIST_FOR_EACH_POP (b, node, &conn->bundles) {
            nb_changes_release_bundle(sw, b->bridge_id);
            free(b);
        }
    }
    sw->errors_pending = false;
    LIST_FOR_EACH (conn, node, &sw->conns) {
        if (conn->n_blocking) {
            conn->n_blocking = 1;
            nb_unblock(sw, conn);
        }
    }
}

void
nbswitch_destroy(struct nbswitch *sw)
{
    if (sw) {
        struct nbconn *conn;

        LIST_FOR_EACH_SAFE (conn, node, &sw->conns) {
            nbswitch_disconnect(sw, conn);
        }
        nb_requests_clear(sw);
        hmap_destroy(&sw->requests);
        ofpbuf_list_delete(&sw->bridge_out);
        ofpbuf_list_delete(&sw->held);
        oflow_table_destroy(&sw->table0);
        nb_changes_clear(sw);
        hmap_destroy(&sw->changes);
        free(sw->configs);
        free(sw->ports);
        free(sw);
    }
}

void
nbswitch_set_datapath_id(struct nbswitch *sw, uint64_t datapath_id)
{
    sw->datapath_id = datapath_id;
}

/* Limits the packet-ins to each controller to 'rate' a second, with
 * bursts of 'burst'; 0 for no limit. */
void
nbswitch_set_rate_limit(struct nbswitch *sw, int rate, int burst)
{
    struct nbconn *conn;

    sw->rate_limit = rate;
    sw->burst_limit = burst;
    LIST_FOR_EACH (conn, node, &sw->conns) {
        token_bucket_set(&conn->packet_ins, rate, burst * 1000);
    }
}

static enum ofputil_protocol
nb_conn_protocol(const struct nbconn *conn)
{
    return ofputil_protocol_from_ofp_version(conn->version);
}

static void
nb_send(struct nbconn *conn, struct ofpbuf *msg)
{
    ovs_list_push_back(&conn->out, &msg->list_node);
}

static void
nb_send_error(struct nbconn *conn, enum ofperr error,
              const struct ofp_header *request)
{
    conn->n_errors++;
    nb_send(conn, ofperr_encode_reply(error, request));
}

/* Sends 'conn' 'error' for its request that 'rq' relayed, quoting the
 * request's first bytes as OpenFlow wants, with its header as it was. */
static void
nb_send_request_error(struct nbconn *conn, enum ofperr error,
                      const struct nb_request *rq)
{
    uint8_t quote[NB_ERROR_BYTES];
    struct ofp_header *oh = (struct ofp_header *) quote;

    /* ofperr_encode_reply() quotes as many bytes as the header's length
     * says: tell it what 'rq' holds, then put the length back. */
    memcpy(quote, rq->header, rq->header_len);
    oh->length = htons(rq->header_len);

    struct ofpbuf *reply = ofperr_encode_reply(error, oh);
    struct ofp_header *quoted = ofpbuf_at_assert(
        reply, reply->size - rq->header_len, sizeof *quoted);
    quoted->length = ((const struct ofp_header *) rq->header)->length;
    conn->n_errors++;
    nb_send(conn, reply);
}

/* Returns true if 'conn' wants asynchronous messages of 'type' for
 * 'reason'. */
static bool
nb_conn_wants(const struct nbconn *conn, enum ofputil_async_msg_type type,
              unsigned int reason)
{
    uint32_t bits = (conn->role == OFPCR12_ROLE_SECONDARY
                     ? conn->async.secondary[type]
                     : conn->async.primary[type]);
    return conn->active && (bits & (1u << reason));
}

/* Ports. */

static int
nb_port_compare(const void *a_, const void *b_)
{
    const struct nbswitch_port *a = a_, *b = b_;
    uint16_t pa = (OVS_FORCE uint16_t) a->pp.port_no;
    uint16_t pb = (OVS_FORCE uint16_t) b->pp.port_no;

    return pa < pb ? -1 : pa > pb;
}

static const struct nbswitch_port *
nb_find_port(const struct nbswitch *sw, ofp_port_t port_no)
{
    for (size_t i = 0; i < sw->n_ports; i++) {
        if (sw->ports[i].pp.port_no == port_no) {
            return &sw->ports[i];
        }
    }
    return NULL;
}

static void
nb_port_status(struct nbswitch *sw, enum ofp_port_reason reason,
               const struct ofputil_phy_port *pp)
{
    struct ofputil_port_status ps = { .reason = reason, .desc = *pp };
    struct nbconn *conn;

    LIST_FOR_EACH (conn, node, &sw->conns) {
        if (nb_conn_wants(conn, OAM_PORT_STATUS, reason)) {
            nb_send(conn, ofputil_encode_port_status(
                        &ps, nb_conn_protocol(conn)));
        }
    }
}

/* Makes the switch's ports the 'n' in 'ports', and tells the controllers
 * of each that came, went or changed. */
void
nbswitch_set_ports(struct nbswitch *sw, const struct nbswitch_port *ports,
                   size_t n)
{
    struct nbswitch_port *new = iovp_xmalloc(MAX(1, n) * sizeof *new);

    memcpy(new, ports, n * sizeof *new);
    qsort(new, n, sizeof *new, nb_port_compare);
    for (size_t i = 0; i < n; i++) {
        nb_port_show_config(sw, &new[i].pp);
    }
    for (size_t i = 0; i < sw->n_ports; i++) {
        const struct nbswitch_port *old = &sw->ports[i];
        bool found = false;
        for (size_t j = 0; j < n && !found; j++) {
            found = new[j].pp.port_no == old->pp.port_no;
        }
        if (!found) {
            nb_port_status(sw, OFPPR_DELETE, &old->pp);
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct nbswitch_port *old = nb_find_port(sw,
                                                       new[i].pp.port_no);
        if (!old) {
            nb_port_status(sw, OFPPR_ADD, &new[i].pp);
        } else if (memcmp(&old->pp, &new[i].pp, sizeof old->pp)) {
            nb_port_status(sw, OFPPR_MODIFY, &new[i].pp);
        }
    }
    free(sw->ports);
    sw->ports = new;
    sw->n_ports = n;
}

/* Connections. */

struct nbconn *
nbswitch_connect(struct nbswitch *sw, const char *name, void *io)
{
    struct nbconn *conn = iovp_xzalloc(sizeof *conn);

    conn->name = iovp_xstrdup(name);
    conn->io = io;
    conn->role = OFPCR12_ROLE_EQUAL;
    ovs_list_init(&conn->out);
    ovs_list_init(&conn->bundles);
    ovs_list_init(&conn->held);
    token_bucket_init(&conn->packet_ins, sw->rate_limit,
                      sw->burst_limit * 1000);
    ovs_list_push_back(&sw->conns, &conn->node);
    return conn;
}

void
nbswitch_conn_active(struct nbswitch *sw OVS_UNUSED, struct nbconn *conn,
                     enum ofp_version version)
{
    conn->active = true;
    conn->version = version;
    conn->async = ofputil_async_cfg_default(version);
    conn->miss_send_len = OFP_DEFAULT_MISS_SEND_LEN;
}

void
nbswitch_disconnect(struct nbswitch *sw, struct nbconn *conn)
{
    struct nb_request *rq;

    HMAP_FOR_EACH (rq, node, &sw->requests) {
        if (rq->conn == conn) {
            rq->conn = NULL;
        }
    }
    /* The bridge keeps a bundle until its connection closes: each of the
     * controller's that is still open is discarded. */
    struct nb_bundle *b;
    LIST_FOR_EACH_SAFE (b, node, &conn->bundles) {
        struct ofputil_bundle_ctrl_msg bc = {
            .bundle_id = b->bridge_id,
            .type = OFPBCT_DISCARD_REQUEST,
            .flags = b->flags,
        };
        struct nb_request *discard = nb_to_bridge(
            sw, NULL, NULL, NB_REQ_BUNDLE_CTRL,
            ofputil_encode_bundle_ctrl_request(
                sw->bridge_version ? sw->bridge_version : OFP15_VERSION,
                &bc));
        discard->bridge_bundle_id = b->bridge_id;
        discard->bundle_type = OFPBCT_DISCARD_REQUEST;
        nb_bundle_destroy(sw, b);
    }
    ovs_list_remove(&conn->node);
    ofpbuf_list_delete(&conn->out);
    ofpbuf_list_delete(&conn->held);
    free(conn->name);
    free(conn);
}

/* Requests to the bridge. */

/* Queues 'msg' for the bridge, for a request of 'conn' (NULL: the
 * switch's own) that began with 'oh', waiting for 'kind'.  Returns the
 * request. */
static struct nb_request *
nb_to_bridge(struct nbswitch *sw, struct nbconn *conn,
             const struct ofp_header *oh, enum nb_request_kind kind,
             struct ofpbuf *msg)
{
    struct nb_request *rq = iovp_xzalloc(sizeof *rq);
    struct ofp_header *bh = msg->data;

    bh->xid = htonl(sw->next_xid++);
    rq->bridge_xid = bh->xid;
    rq->kind = kind;
    rq->conn = conn;
    if (oh) {
        rq->header_len = MIN(ntohs(oh->length), sizeof rq->header);
        memcpy(rq->header, oh, rq->header_len);
    }
    ovs_list_init(&rq->replies);
    hmap_insert(&sw->requests, &rq->node, ntohl(rq->bridge_xid));
    if (sw->adding) {
        rq->bridge_bundle_id = sw->adding->bridge_id;

        /* Into the bridge's bundle, under the same xid. */
        struct ofputil_bundle_add_msg bam = {
            .bundle_id = sw->adding->bridge_id,
            .flags = sw->adding->flags,
            .msg = msg->data,
        };
        struct ofpbuf *add = ofputil_encode_bundle_add(sw->bridge_version
                                                       ? sw->bridge_version
                                                       : OFP15_VERSION,
                                                       &bam);
        ofpbuf_delete(msg);
        msg = add;
    }
    if (sw->adding) {
        /* Its errors come until the bundle's commit is answered
         * (nb_bundle_done()): no barrier retires it. */
        ovs_list_push_back(&sw->bundled, &rq->fifo);
    } else {
        ovs_list_push_back(&sw->fifo, &rq->fifo);
        if (kind == NB_REQ_ERRORS) {
            sw->errors_pending = true;
        } else if (kind == NB_REQ_BARRIER || kind == NB_REQ_OWN_BARRIER) {
            /* Its reply retires what came before it. */
            sw->errors_pending = false;
        }
    }
    rq->n_parts = 1;
    nb_queue(sw, msg);
    return rq;
}

/* Queues 'msg' for the bridge, another part of 'rq' under its xid, whose
 * last reply 'rq' awaits too. */
static void
nb_to_bridge_more(struct nbswitch *sw, struct nb_request *rq,
                  struct ofpbuf *msg)
{
    ((struct ofp_header *) msg->data)->xid = rq->bridge_xid;
    rq->n_parts++;
    nb_queue(sw, msg);
}

/* Returns true if 'oh', a reply to 'rq', is the last that 'rq' awaits. */
static bool
nb_last_reply(struct nb_request *rq, const struct ofp_header *oh)
{
    return !ofpmp_more(oh) && !--rq->n_parts;
}

/* Reads the flows of the bridge that 'fsr' asks for, as 'rq' (the first
 * request's already made): for every table of the controller's, one
 * request a table, so that the bridge does not list iovp's own. */
static void
nb_flow_reads(struct nbswitch *sw, struct nb_request *rq,
              const struct ofputil_flow_stats_request *fsr, bool all)
{
    for (uint8_t t = 1; all && t < PIPELINE_OF_N_TABLES; t++) {
        struct ofputil_flow_stats_request more = *fsr;

        more.table_id = nbx_table_to_bridge(t);
        nb_to_bridge_more(sw, rq, ofputil_encode_flow_stats_request(
                              &more, nb_bridge_protocol(sw)));
    }
}

static struct nb_request *
nb_find_request(const struct nbswitch *sw, ovs_be32 xid)
{
    struct nb_request *rq;

    HMAP_FOR_EACH_WITH_HASH (rq, node, ntohl(xid),
                             &sw->requests) {
        if (rq->bridge_xid == xid) {
            return rq;
        }
    }
    return NULL;
}

/* Takes 'oh', a request whose reply the bridge's gives, to the bridge as
 * 'msg', waiting for 'kind': a multipart reply for the controller begins
 * now. */
static struct nb_request *
nb_relay(struct nbswitch *sw, struct nbconn *conn, const struct ofp_header *oh,
         enum nb_request_kind kind, struct ofpbuf *msg)
{
    struct nb_request *rq = nb_to_bridge(sw, conn, oh, kind, msg);

    if (ofpmsg_is_stat_request(oh)) {
        ofpmp_init(&rq->replies, oh);
    }
    return rq;
}

/* Sends what the switch queued for the bridge and for each controller,
 * through the callbacks given to nbswitch_create(). */
void
nbswitch_flush(struct nbswitch *sw)
{
    struct nbconn *conn;

    if (sw->announce) {
        /* Before it goes: the owner reads what the changes may change. */
        sw->announce = false;
        if (sw->cbs.table0_changing) {
            sw->cbs.table0_changing(sw->aux);
        }
    }
    if ((sw->errors_pending || sw->settle_pending) && sw->bridge_active) {
        /* A barrier after what may yet fail, whose reply retires the
         * requests before it, and, after changes to the controller's table
         * 0, confirms them: the copy shows them once it comes back (OVS
         * reports a flow_mod's changes to the monitor before it answers a
         * later barrier). */
        struct nb_request *rq = nb_to_bridge(
            sw, NULL, NULL, NB_REQ_OWN_BARRIER,
            ofputil_encode_barrier_request(sw->bridge_version));
        if (sw->settle_pending) {
            sw->settle_pending = false;
            rq->gen = sw->next_gen++;
        }
    }
    if (!ovs_list_is_empty(&sw->bridge_out)) {
        sw->cbs.send_bridge(&sw->bridge_out, sw->aux);
    }
    /* Sending may find a connection broken, and free it. */
    LIST_FOR_EACH_SAFE (conn, node, &sw->conns) {
        if (!ovs_list_is_empty(&conn->out)) {
            sw->cbs.send(conn->io, &conn->out, sw->aux);
        }
    }
}

/* The controller's messages. */

static void
nb_features(struct nbswitch *sw, struct nbconn *conn,
            const struct ofp_header *oh)
{
    struct ofputil_switch_features features = {
        .datapath_id = sw->datapath_id,
        .n_buffers = 0,
        .n_tables = PIPELINE_OF_N_TABLES,
        .capabilities = (OFPUTIL_C_FLOW_STATS | OFPUTIL_C_TABLE_STATS
                         | OFPUTIL_C_PORT_STATS | OFPUTIL_C_GROUP_STATS),
    };

    nb_send(conn, ofputil_encode_switch_features(
                &features, nb_conn_protocol(conn), oh->xid));
}

static void
nb_strlcpy(char *dst, const char *src, size_t size)
{
    snprintf(dst, size, "%s", src);
}

static void
nb_desc(struct nbconn *conn, const struct ofp_header *oh)
{
    struct ofpbuf *reply = ofpraw_alloc_stats_reply(oh, 0);
    struct ofp_desc_stats *ods = ofpbuf_put_zeros(reply, sizeof *ods);

    nb_strlcpy(ods->mfr_desc, "The iovp authors", sizeof ods->mfr_desc);
    nb_strlcpy(ods->hw_desc, "host as a TOR (Open vSwitch)",
                sizeof ods->hw_desc);
    nb_strlcpy(ods->sw_desc, "iovpd " PACKAGE_VERSION, sizeof ods->sw_desc);
    nb_strlcpy(ods->serial_num, "None", sizeof ods->serial_num);
    nb_strlcpy(ods->dp_desc, "iovp OpenFlow northbound",
                sizeof ods->dp_desc);
    nb_send(conn, reply);
}

static void
nb_port_desc(struct nbswitch *sw, struct nbconn *conn,
             const struct ofp_header *oh)
{
    ofp_port_t port_no;
    enum ofperr error = ofputil_decode_port_desc_stats_request(oh,
                                                               &port_no);
    if (error) {
        nb_send_error(conn, error, oh);
        return;
    }

    struct ovs_list replies;
    ofpmp_init(&replies, oh);
    for (size_t i = 0; i < sw->n_ports; i++) {
        if (port_no == OFPP_ANY || port_no == sw->ports[i].pp.port_no) {
            ofputil_append_port_desc_stats_reply(&sw->ports[i].pp, &replies);
        }
    }
    ovs_list_push_back_all(&conn->out, &replies);
}

static void
nb_get_config(struct nbconn *conn, const struct ofp_header *oh)
{
    struct ofputil_switch_config config = {
        .frag = OFPUTIL_FRAG_NORMAL,
        .invalid_ttl_to_controller = -1,
        .miss_send_len = conn->miss_send_len,
    };

    nb_send(conn, ofputil_encode_get_config_reply(oh, &config));
}

static enum ofperr
nb_set_config(struct nbconn *conn, const struct ofp_header *oh)
{
    struct ofputil_switch_config config;
    enum ofperr error = ofputil_decode_set_config(oh, &config);

    if (!error) {
        if (config.frag != OFPUTIL_FRAG_NORMAL) {
            return OFPERR_OFPSCFC_BAD_FLAGS;
        }
        conn->miss_send_len = config.miss_send_len;
    }
    return error;
}

static const char *
nb_role_name(enum ofp12_controller_role role)
{
    return (role == OFPCR12_ROLE_PRIMARY ? "master"
            : role == OFPCR12_ROLE_SECONDARY ? "slave" : "equal");
}

static enum ofperr
nb_role_request(struct nbswitch *sw, struct nbconn *conn,
                const struct ofp_header *oh)
{
    struct ofputil_role_request rr;
    enum ofperr error = ofputil_decode_role_message(oh, &rr);

    if (error) {
        return error;
    }
    if (rr.role != OFPCR12_ROLE_NOCHANGE && rr.role != OFPCR12_ROLE_EQUAL
        && rr.have_generation_id) {
        if (sw->have_generation_id
            && (int64_t) (rr.generation_id - sw->generation_id) < 0) {
            return OFPERR_OFPRRFC_STALE;
        }
        sw->have_generation_id = true;
        sw->generation_id = rr.generation_id;
    }
    if (rr.role != OFPCR12_ROLE_NOCHANGE && rr.role != conn->role) {
        if (rr.role == OFPCR12_ROLE_PRIMARY) {
            struct nbconn *other;
            LIST_FOR_EACH (other, node, &sw->conns) {
                if (other != conn && other->role == OFPCR12_ROLE_PRIMARY) {
                    other->role = OFPCR12_ROLE_SECONDARY;
                    /* As OVS does: OpenFlow 1.4's message, or 1.3's
                     * ONF extension, whatever the asynchronous
                     * configuration. */
                    if (other->active && other->version >= OFP13_VERSION) {
                        struct ofputil_role_status rs = {
                            .role = OFPCR12_ROLE_SECONDARY,
                            .reason = OFPCRR_PRIMARY_REQUEST,
                            .generation_id = sw->generation_id,
                        };
                        nb_send(other, ofputil_encode_role_status(
                                    &rs, nb_conn_protocol(other)));
                    }
                }
            }
        }
        VLOG_INFO("%s: role %s", conn->name, nb_role_name(rr.role));
        conn->role = rr.role;
    }

    struct ofputil_role_request reply = {
        .role = conn->role,
        .have_generation_id = sw->have_generation_id,
        .generation_id = sw->generation_id,
    };
    nb_send(conn, ofputil_encode_role_reply(oh, &reply));
    return 0;
}

static enum ofperr
nb_set_async(struct nbconn *conn, const struct ofp_header *oh)
{
    struct ofputil_async_cfg cfg;
    enum ofperr error = ofputil_decode_set_async_config(oh, false,
                                                        &conn->async, &cfg);
    if (!error) {
        conn->async = cfg;
    }
    return error;
}


/* Starts 'fm', a delete from 'conn' (message 'oh') with an out_port: the
 * bridge's flows output through clones, which its own out_port filter does
 * not see, so the switch reads the flows that the delete's match picks,
 * keeps those whose actions, translated back, output to the port, and
 * deletes each of them strictly (nb_take_out_port()).  Until then, what
 * the controller sends next waits, so that its order holds. */
static void
nb_flow_mod_out_port(struct nbswitch *sw, struct nbconn *conn,
                     const struct ofp_header *oh,
                     const struct ofputil_flow_mod *fm)
{
    struct ofputil_flow_stats_request fsr = {
        .aggregate = false,
        .out_port = OFPP_ANY,
        .out_group = fm->out_group,
        .cookie = fm->cookie,
        .cookie_mask = fm->cookie_mask,
        .table_id = nbx_table_to_bridge(fm->table_id == OFPTT_ALL
                                        ? 0 : fm->table_id),
    };
    minimatch_expand(&fm->match, &fsr.match);

    const struct nb_bundle *bundle = sw->adding;
    sw->adding = NULL;          /* The read is not the bundle's. */
    struct nb_request *rq = nb_to_bridge(
        sw, conn, oh, NB_REQ_OUT_PORT,
        ofputil_encode_flow_stats_request(&fsr, nb_bridge_protocol(sw)));
    nb_flow_reads(sw, rq, &fsr, fm->table_id == OFPTT_ALL);
    sw->adding = bundle;
    rq->out = iovp_xzalloc(sizeof *rq->out);
    if (bundle) {
        rq->out->has_bundle = true;
        rq->out->bundle = *bundle;
    }

    rq->out->fm = *fm;
    minimatch_clone(&rq->out->fm.match, &fm->match);
    rq->out->fm.ofpacts = NULL;
    rq->out->fm.ofpacts_len = 0;
    conn->n_blocking++;
}

/* Takes 'oh', a part of the bridge's flows for 'rq' (a delete with an
 * out_port): each of the controller's that outputs to the out_port, and
 * that a strict delete would pick too if the delete is strict, is deleted,
 * strictly. */
static void
nb_take_out_port(struct nbswitch *sw, struct nb_request *rq,
                 const struct ofp_header *oh)
{
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    uint64_t stub[1024 / 8], stub2[1024 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    struct ofpbuf controller_ofpacts = OFPBUF_STUB_INITIALIZER(stub2);
    const struct ofputil_flow_mod *fm = &rq->out->fm;
    bool strict = fm->command == OFPFC_DELETE_STRICT;

    for (;;) {
        struct ofputil_flow_stats fs;
        uint8_t table;

        if (ofputil_decode_flow_stats_reply(&fs, &b, false, &ofpacts)) {
            break;
        }
        if (!nbx_table_from_bridge(fs.table_id, &table)
            || !rq->conn) {
            continue;
        }

        struct minimatch mm;
        minimatch_init(&mm, &fs.match);
        bool picked = (!strict || (fs.priority == fm->priority
                                   && minimatch_equal(&mm, &fm->match)));
        ofpbuf_clear(&controller_ofpacts);
        nbx_actions_from_bridge(fs.ofpacts, fs.ofpacts_len, false,
                                &controller_ofpacts);
        picked = picked && ofpacts_output_to_port(controller_ofpacts.data,
                                                  controller_ofpacts.size,
                                                  fm->out_port);
        if (picked) {
            struct ofputil_flow_mod bfm = *fm;

            bfm.command = OFPFC_DELETE_STRICT;
            bfm.match = mm;
            bfm.priority = fs.priority;
            bfm.table_id = fs.table_id;
            bfm.cookie_mask = htobe64(0);
            bfm.out_port = OFPP_ANY;
            bfm.out_group = OFPG_ANY;
            bfm.ofpacts = NULL;
            bfm.ofpacts_len = 0;
            sw->adding = rq->out->has_bundle ? &rq->out->bundle : NULL;
            if (fs.table_id == PIPELINE_OF_TABLE0) {
                nb_change_record(sw, NB_CHANGE_ONE, &bfm, OFPP_NONE);
            }
            nb_to_bridge(sw, rq->conn, (const struct ofp_header *) rq->header,
                         NB_REQ_ERRORS,
                         ofputil_encode_flow_mod(&bfm,
                                                 nb_bridge_protocol(sw)));
            sw->adding = NULL;
        }
        minimatch_destroy(&mm);
    }
    ofpbuf_uninit(&ofpacts);
    ofpbuf_uninit(&controller_ofpacts);

    if (nb_last_reply(rq, oh)) {
        nb_request_finish(sw, rq);
    }
}

static enum ofperr
nb_flow_mod(struct nbswitch *sw, struct nbconn *conn,
            const struct ofp_header *oh)
{
    uint64_t stub[1024 / 8], stub2[1024 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    struct ofpbuf bridge_ofpacts = OFPBUF_STUB_INITIALIZER(stub2);
    struct ofputil_flow_mod fm;
    struct match match;
    enum ofperr error;

    error = ofputil_decode_flow_mod(&fm, oh, nb_conn_protocol(conn), NULL,
                                    NULL, &ofpacts, OFPP_MAX,
                                    PIPELINE_OF_N_TABLES);
    if (error) {
        goto out;
    }
    minimatch_expand(&fm.match, &match);
    if (fm.table_id >= PIPELINE_OF_N_TABLES
        && !(fm.table_id == OFPTT_ALL
             && (fm.command == OFPFC_DELETE
                 || fm.command == OFPFC_DELETE_STRICT))) {
        error = OFPERR_OFPBRC_BAD_TABLE_ID;
    } else if (fm.buffer_id != UINT32_MAX) {
        error = OFPERR_OFPBRC_BUFFER_UNKNOWN;
    } else {
        error = nbx_check_match(&match);
    }
    if (!error) {
        error = nbx_actions_to_bridge(fm.ofpacts, fm.ofpacts_len, NBX_FLOW,
                                      &bridge_ofpacts);
    }
    if (fm.command != OFPFC_DELETE && fm.command != OFPFC_DELETE_STRICT) {
        /* As OVS (and OpenFlow) do, only a delete heeds these. */
        fm.out_port = OFPP_ANY;
        fm.out_group = OFPG_ANY;
    }
    if (!error && fm.out_port != OFPP_ANY) {
        nb_flow_mod_out_port(sw, conn, oh, &fm);
    } else if (!error) {
        struct ofputil_flow_mod bfm = fm;
        uint8_t first = fm.table_id == OFPTT_ALL ? 0 : fm.table_id;
        uint8_t last = (fm.table_id == OFPTT_ALL ? PIPELINE_OF_N_TABLES - 1
                        : fm.table_id);

        bfm.ofpacts = bridge_ofpacts.data;
        bfm.ofpacts_len = bridge_ofpacts.size;
        if (!first) {
            nb_change_record(sw, (fm.command == OFPFC_ADD ? NB_CHANGE_ADD
                                  : (fm.command == OFPFC_MODIFY_STRICT
                                     || fm.command == OFPFC_DELETE_STRICT)
                                  ? NB_CHANGE_ONE : NB_CHANGE_LOOSE),
                             &fm, OFPP_NONE);
        }
        for (uint8_t t = first; t <= last; t++) {
            bfm.table_id = nbx_table_to_bridge(t);
            nb_to_bridge(sw, conn, oh, NB_REQ_ERRORS,
                         ofputil_encode_flow_mod(&bfm,
                                                 nb_bridge_protocol(sw)));
        }
    }
    minimatch_destroy(&fm.match);

out:
    ofpbuf_uninit(&ofpacts);
    ofpbuf_uninit(&bridge_ofpacts);
    return error;
}

static enum ofperr
nb_flow_stats(struct nbswitch *sw, struct nbconn *conn,
              const struct ofp_header *oh, bool aggregate)
{
    struct ofputil_flow_stats_request fsr;
    enum ofperr error = ofputil_decode_flow_stats_request(&fsr, oh, NULL,
                                                          NULL);
    if (error) {
        return error;
    }

    if (fsr.table_id != OFPTT_ALL && fsr.table_id >= PIPELINE_OF_N_TABLES) {
        error = OFPERR_OFPBRC_BAD_TABLE_ID;
    } else {
        error = nbx_check_match(&fsr.match);
    }
    if (!error) {
        struct ofputil_flow_stats_request bfsr = fsr;
        bool all = fsr.table_id == OFPTT_ALL;
        bfsr.aggregate = false;
        bfsr.out_port = OFPP_ANY;
        bfsr.table_id = nbx_table_to_bridge(all ? 0 : fsr.table_id);
        struct nb_request *rq = nb_relay(
            sw, conn, oh, aggregate ? NB_REQ_AGGREGATE : NB_REQ_FLOW_STATS,
            ofputil_encode_flow_stats_request(&bfsr,
                                              nb_bridge_protocol(sw)));
        nb_flow_reads(sw, rq, &bfsr, all);
        rq->out_port = fsr.out_port;
    }
    return error;
}

static enum ofperr
nb_table_features(struct nbconn *conn, const struct ofp_header *oh)
{
    const char *body = ofpmsg_body(oh);
    if ((const char *) oh + ntohs(oh->length) > body) {
        /* A request to change the tables' features. */
        return OFPERR_OFPTFFC_EPERM;
    }

    struct ovs_list replies;
    ofpmp_init(&replies, oh);
    for (uint8_t t = 0; t < PIPELINE_OF_N_TABLES; t++) {
        struct ofputil_table_features tf;
        nbx_table_features(t, &tf);
        ofputil_append_table_features(&tf, NULL, &replies);
    }
    ovs_list_push_back_all(&conn->out, &replies);
    return 0;
}

static void
nb_take_table_stats(struct nb_request *rq, const struct ofp_header *oh)
{
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    struct ofpbuf *reply = ofpbuf_from_list(ovs_list_back(&rq->replies));

    for (;;) {
        struct ofputil_table_stats stats;
        struct ofputil_table_features features;
        uint8_t table;

        if (ofputil_decode_table_stats_reply(&b, &stats, &features)) {
            break;
        }
        if (nbx_table_from_bridge(stats.table_id, &table)) {
            nbx_table_features(table, &features);
            stats.table_id = table;
            ofputil_append_table_stats_reply(reply, &stats, &features);
        }
    }
}

static enum ofperr
nb_packet_out(struct nbswitch *sw, struct nbconn *conn,
              const struct ofp_header *oh)
{
    uint64_t stub[1024 / 8], stub2[1024 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    struct ofpbuf bridge_ofpacts = OFPBUF_STUB_INITIALIZER(stub2);
    struct ofputil_packet_out po;
    enum ofperr error;

    error = ofputil_decode_packet_out(&po, oh, NULL, &ofpacts);
    if (!error) {
        ofp_port_t in_port = po.flow_metadata.flow.in_port.ofp_port;

        if (po.buffer_id != UINT32_MAX) {
            error = OFPERR_OFPBRC_BUFFER_UNKNOWN;
        } else if (in_port != OFPP_CONTROLLER && in_port != OFPP_NONE
                   && !nb_find_port(sw, in_port)) {
            error = OFPERR_OFPBRC_BAD_PORT;
        } else {
            error = nbx_check_match(&po.flow_metadata);
        }
    }
    if (!error) {
        error = nbx_actions_to_bridge(po.ofpacts, po.ofpacts_len,
                                      NBX_PACKET_OUT, &bridge_ofpacts);
    }
    if (!error) {
        struct ofputil_packet_out bpo = po;
        bpo.ofpacts = bridge_ofpacts.data;
        bpo.ofpacts_len = bridge_ofpacts.size;
        nb_to_bridge(sw, conn, oh, NB_REQ_ERRORS,
                     ofputil_encode_packet_out(&bpo,
                                               nb_bridge_protocol(sw)));
    }
    ofpbuf_uninit(&ofpacts);
    ofpbuf_uninit(&bridge_ofpacts);
    return error;
}


static enum ofperr
nb_port_stats(struct nbswitch *sw, struct nbconn *conn,
              const struct ofp_header *oh)
{
    ofp_port_t port_no;
    enum ofperr error = ofputil_decode_port_stats_request(oh, &port_no);

    if (!error) {
        struct nb_request *rq = nb_relay(
            sw, conn, oh, NB_REQ_PORT_STATS,
            ofputil_encode_dump_ports_request(nb_bridge_version(sw),
                                              OFPP_ANY));
        rq->out_port = port_no;
    }
    return error;
}

static enum ofperr
nb_port_mod(struct nbswitch *sw, struct nbconn *conn,
            const struct ofp_header *oh)
{
    struct ofputil_port_mod pm;
    enum ofperr error = ofputil_decode_port_mod(oh, &pm, false);

    if (error) {
        return error;
    }
    const struct nbswitch_port *port = nb_find_port(sw, pm.port_no);
    if (!port) {
        return OFPERR_OFPPMFC_BAD_PORT;
    }
    /* The bridge's port has the interface's MAC, not the VM's, which the
     * controller sees: the controller's is checked here. */
    if (memcmp(&pm.hw_addr, &port->pp.hw_addr, sizeof pm.hw_addr)) {
        return OFPERR_OFPPMFC_BAD_HW_ADDR;
    }
    pm.hw_addr = port->bridge_hw_addr;
    nb_change_record(sw, NB_CHANGE_PORT, NULL, pm.port_no);
    nb_to_bridge(sw, conn, oh, NB_REQ_ERRORS,
                 ofputil_encode_port_mod(&pm, nb_bridge_protocol(sw)));
    return 0;
}

/* Translates the actions of each bucket of 'buckets' with 'xlate'. */
static enum ofperr
nb_xlate_buckets(struct ovs_list *buckets, bool to_bridge)
{
    struct ofputil_bucket *b;

    LIST_FOR_EACH (b, list_node, buckets) {
        struct ofpbuf out;
        enum ofperr error = 0;

        ofpbuf_init(&out, b->ofpacts_len);
        if (to_bridge) {
            error = nbx_actions_to_bridge(b->ofpacts, b->ofpacts_len,
                                          NBX_ACTION_SET,
                                          &out);
        } else {
            nbx_actions_from_bridge(b->ofpacts, b->ofpacts_len, true, &out);
        }
        if (error) {
            ofpbuf_uninit(&out);
            return error;
        }
        free(b->ofpacts);
        b->ofpacts_len = out.size;
        b->ofpacts = ofpbuf_steal_data(&out);
    }
    return 0;
}

static enum ofperr
nb_group_mod(struct nbswitch *sw, struct nbconn *conn,
             const struct ofp_header *oh)
{
    struct ofputil_group_mod gm;
    enum ofperr error = ofputil_decode_group_mod(oh, &gm);

    if (error) {
        return error;
    }
    if (gm.group_id >= NBX_ID_LIMIT && gm.group_id != OFPG_ALL) {
        error = OFPERR_OFPGMFC_INVALID_GROUP;
    } else {
        error = nb_xlate_buckets(&gm.buckets, true);
    }
    if (!error) {
        nb_to_bridge(sw, conn, oh, NB_REQ_ERRORS,
                     ofputil_encode_group_mod(nb_bridge_version(sw), &gm,
                                              NULL, -1));
    }
    ofputil_uninit_group_mod(&gm);
    return error;
}

static enum ofperr
nb_meter_mod(struct nbswitch *sw, struct nbconn *conn,
             const struct ofp_header *oh)
{
    uint64_t stub[256 / 8];
    struct ofpbuf bands = OFPBUF_STUB_INITIALIZER(stub);
    struct ofputil_meter_mod mm;
    enum ofperr error = ofputil_decode_meter_mod(oh, &mm, &bands);

    if (!error) {
        if (mm.meter.meter_id >= NBX_ID_LIMIT
            && mm.meter.meter_id != OFPM13_ALL) {
            error = OFPERR_OFPMMFC_INVALID_METER;
        } else {
            nb_to_bridge(sw, conn, oh, NB_REQ_ERRORS,
                         ofputil_encode_meter_mod(nb_bridge_version(sw),
                                                  &mm));
        }
    }
    ofpbuf_uninit(&bands);
    return error;
}

/* Relays the controller's group or meter request 'oh' of 'type'. */
static void
nb_group_meter_request(struct nbswitch *sw, struct nbconn *conn,
                       const struct ofp_header *oh, enum ofptype type)
{
    enum ofp_version v = nb_bridge_version(sw);
    uint32_t id;

    switch (type) {
    case OFPTYPE_GROUP_DESC_STATS_REQUEST:
        id = ofputil_decode_group_desc_request(oh);
        nb_relay(sw, conn, oh, NB_REQ_GROUP_DESC,
                 ofputil_encode_group_desc_request(v, id));
        break;
    case OFPTYPE_GROUP_STATS_REQUEST:
        if (ofputil_decode_group_stats_request(oh, &id)) {
            nb_send_error(conn, OFPERR_OFPBRC_BAD_LEN, oh);
            return;
        }
        nb_relay(sw, conn, oh, NB_REQ_GROUP_STATS,
                 ofputil_encode_group_stats_request(v, id));
        break;
    case OFPTYPE_GROUP_FEATURES_STATS_REQUEST:
        nb_relay(sw, conn, oh, NB_REQ_GROUP_FEATURES,
                 ofputil_encode_group_features_request(v));
        break;
    case OFPTYPE_METER_CONFIG_STATS_REQUEST:
        ofputil_decode_meter_request(oh, &id);
        nb_relay(sw, conn, oh, NB_REQ_METER_CONFIG,
                 ofputil_encode_meter_request(v, OFPUTIL_METER_CONFIG, id));
        break;
    case OFPTYPE_METER_STATS_REQUEST:
        ofputil_decode_meter_request(oh, &id);
        nb_relay(sw, conn, oh, NB_REQ_METER_STATS,
                 ofputil_encode_meter_request(v, OFPUTIL_METER_STATS, id));
        break;
    case OFPTYPE_METER_FEATURES_STATS_REQUEST:
        nb_relay(sw, conn, oh, NB_REQ_METER_FEATURES,
                 ofputil_encode_meter_request(v, OFPUTIL_METER_FEATURES, 0));
        break;
    default:
        abort();
    }
}

/* Forgets 'b', a bundle of 'conn' that is being committed or discarded,
 * or that the bridge no longer has: its open request's errors are no
 * longer awaited. */
static void
nb_bundle_destroy(struct nbswitch *sw, struct nb_bundle *b)
{
    struct nb_request *open = nb_find_request(sw, b->open_xid);

    if (open && open->kind == NB_REQ_BUNDLE_CTRL
        && open->bundle_type == OFPBCT_OPEN_REQUEST) {
        nb_request_destroy(sw, open);
    }
    nb_changes_release_bundle(sw, b->bridge_id);
    ovs_list_remove(&b->node);
    free(b);
}

/* Forgets the requests of the messages added to the bridge's bundle
 * 'bridge_id', now committed or discarded. */
static void
nb_bundle_done(struct nbswitch *sw, uint32_t bridge_id)
{
    struct nb_request *rq;

    LIST_FOR_EACH_SAFE (rq, fifo, &sw->bundled) {
        if (rq->bridge_bundle_id == bridge_id) {
            nb_request_destroy(sw, rq);
        }
    }
}

static struct nb_bundle *
nb_find_bundle(const struct nbconn *conn, uint32_t id)
{
    struct nb_bundle *b;

    LIST_FOR_EACH (b, node, &conn->bundles) {
        if (b->id == id) {
            return b;
        }
    }
    return NULL;
}

/* The controller's OFPT_BUNDLE_CONTROL: relayed for the bridge's bundle
 * that carries the controller's, whose reply answers it. */
static enum ofperr
nb_bundle_control(struct nbswitch *sw, struct nbconn *conn,
                  const struct ofp_header *oh)
{
    struct ofputil_bundle_ctrl_msg bc;
    enum ofperr error = ofputil_decode_bundle_ctrl(oh, &bc);

    if (error) {
        return error;
    }

    struct nb_bundle *b = nb_find_bundle(conn, bc.bundle_id);
    if (bc.type == OFPBCT_OPEN_REQUEST) {
        if (b) {
            return OFPERR_OFPBFC_BAD_ID;
        }
        b = iovp_xzalloc(sizeof *b);
        b->id = bc.bundle_id;
        b->bridge_id = sw->next_bundle_id++;
        b->flags = bc.flags;
        ovs_list_push_back(&conn->bundles, &b->node);
    } else if (!b) {
        return OFPERR_OFPBFC_BAD_ID;
    }

    struct ofputil_bundle_ctrl_msg bbc = {
        .bundle_id = b->bridge_id,
        .type = bc.type,
        .flags = bc.flags,
    };
    struct nb_request *rq = nb_to_bridge(
        sw, conn, oh, NB_REQ_BUNDLE_CTRL,
        ofputil_encode_bundle_ctrl_request(nb_bridge_version(sw), &bbc));
    rq->bundle_id = bc.bundle_id;
    rq->bridge_bundle_id = b->bridge_id;
    rq->bundle_type = bc.type;
    if (bc.type == OFPBCT_OPEN_REQUEST) {
        b->open_xid = rq->bridge_xid;
    } else if (bc.type == OFPBCT_COMMIT_REQUEST
               || bc.type == OFPBCT_DISCARD_REQUEST) {
        nb_bundle_destroy(sw, b);
    }
    return 0;
}

static enum ofperr nb_dispatch(struct nbswitch *, struct nbconn *,
                               const struct ofp_header *, enum ofptype);

/* The controller's OFPT_BUNDLE_ADD_MESSAGE: its message, translated as
 * ever, goes into the bridge's bundle. */
static enum ofperr
nb_bundle_add(struct nbswitch *sw, struct nbconn *conn,
              const struct ofp_header *oh)
{
    struct ofputil_bundle_add_msg bam;
    enum ofptype type;
    enum ofperr error = ofputil_decode_bundle_add(oh, &bam, &type);

    if (error) {
        return error;
    }

    const struct nb_bundle *b = nb_find_bundle(conn, bam.bundle_id);
    if (!b) {
        return OFPERR_OFPBFC_BAD_ID;
    }
    if (type != OFPTYPE_FLOW_MOD && type != OFPTYPE_GROUP_MOD
        && type != OFPTYPE_PORT_MOD && type != OFPTYPE_PACKET_OUT) {
        return OFPERR_OFPBFC_MSG_UNSUP;
    }
    sw->adding = b;
    error = nb_dispatch(sw, conn, bam.msg, type);
    sw->adding = NULL;
    return error;
}

/* Returns true if a message of 'type' changes the switch: what a slave
 * may not send. */
static bool
nb_is_write(enum ofptype type)
{
    switch (type) {
    case OFPTYPE_FLOW_MOD:
    case OFPTYPE_PACKET_OUT:
    case OFPTYPE_GROUP_MOD:
    case OFPTYPE_METER_MOD:
    case OFPTYPE_PORT_MOD:
    case OFPTYPE_TABLE_MOD:
    case OFPTYPE_BUNDLE_CONTROL:
    case OFPTYPE_BUNDLE_ADD_MESSAGE:
        return true;
    default:
        return false;
    }
}

/* Handles 'oh', a message of 'type' from 'conn'.  Returns 0 or the error
 * to send back. */
static enum ofperr
nb_dispatch(struct nbswitch *sw, struct nbconn *conn,
            const struct ofp_header *oh, enum ofptype type)
{
    if (conn->role == OFPCR12_ROLE_SECONDARY && nb_is_write(type)) {
        return OFPERR_OFPBRC_IS_SECONDARY;
    }
    switch (type) {
    case OFPTYPE_FEATURES_REQUEST:
        nb_features(sw, conn, oh);
        break;
    case OFPTYPE_DESC_STATS_REQUEST:
        nb_desc(conn, oh);
        break;
    case OFPTYPE_PORT_DESC_STATS_REQUEST:
        nb_port_desc(sw, conn, oh);
        break;
    case OFPTYPE_GET_CONFIG_REQUEST:
        nb_get_config(conn, oh);
        break;
    case OFPTYPE_SET_CONFIG:
        return nb_set_config(conn, oh);
    case OFPTYPE_ROLE_REQUEST:
        return nb_role_request(sw, conn, oh);
    case OFPTYPE_GET_ASYNC_REQUEST:
        nb_send(conn, ofputil_encode_get_async_reply(oh, &conn->async));
        break;
    case OFPTYPE_SET_ASYNC_CONFIG:
        return nb_set_async(conn, oh);
    case OFPTYPE_BARRIER_REQUEST:
        nb_to_bridge(sw, conn, oh, NB_REQ_BARRIER,
                     ofputil_encode_barrier_request(
                         sw->bridge_version ? sw->bridge_version
                         : OFP15_VERSION));
        break;
    case OFPTYPE_FLOW_MOD:
        return nb_flow_mod(sw, conn, oh);
    case OFPTYPE_FLOW_STATS_REQUEST:
        return nb_flow_stats(sw, conn, oh, false);
    case OFPTYPE_AGGREGATE_STATS_REQUEST:
        return nb_flow_stats(sw, conn, oh, true);
    case OFPTYPE_PACKET_OUT:
        return nb_packet_out(sw, conn, oh);
    case OFPTYPE_PORT_STATS_REQUEST:
        return nb_port_stats(sw, conn, oh);
    case OFPTYPE_PORT_MOD:
        return nb_port_mod(sw, conn, oh);
    case OFPTYPE_GROUP_MOD:
        return nb_group_mod(sw, conn, oh);
    case OFPTYPE_METER_MOD:
        return nb_meter_mod(sw, conn, oh);
    case OFPTYPE_GROUP_DESC_STATS_REQUEST:
    case OFPTYPE_GROUP_STATS_REQUEST:
    case OFPTYPE_GROUP_FEATURES_STATS_REQUEST:
    case OFPTYPE_METER_CONFIG_STATS_REQUEST:
    case OFPTYPE_METER_STATS_REQUEST:
    case OFPTYPE_METER_FEATURES_STATS_REQUEST:
        nb_group_meter_request(sw, conn, oh, type);
        break;
    case OFPTYPE_BUNDLE_CONTROL:
        return nb_bundle_control(sw, conn, oh);
    case OFPTYPE_BUNDLE_ADD_MESSAGE:
        return nb_bundle_add(sw, conn, oh);
    case OFPTYPE_TABLE_FEATURES_STATS_REQUEST:
        return nb_table_features(conn, oh);
    case OFPTYPE_TABLE_STATS_REQUEST: {
        struct nb_request *rq = nb_to_bridge(
            sw, conn, oh, NB_REQ_TABLE_STATS,
            ofpraw_alloc(OFPRAW_OFPST_TABLE_REQUEST,
                         sw->bridge_version ? sw->bridge_version
                         : OFP15_VERSION, 0));
        ovs_list_push_back(&rq->replies, &ofputil_encode_table_stats_reply(
                               oh)->list_node);
        break;
    }
    case OFPTYPE_ECHO_REQUEST:
    case OFPTYPE_ECHO_REPLY:
    case OFPTYPE_HELLO:
        break;
    case OFPTYPE_ERROR:
        /* An error is never answered with an error. */
        VLOG_DBG_RL(&rl, "%s: the controller sent an error", conn->name);
        break;
    default:
        return (ofpmsg_is_stat_request(oh) ? OFPERR_OFPBRC_BAD_STAT
                 : OFPERR_OFPBRC_BAD_TYPE);
    }
    return 0;
}

static void nb_receive(struct nbswitch *, struct nbconn *, struct ofpbuf *);

/* Takes 'msg' (owned) from controller connection 'conn'. */
void
nbswitch_receive(struct nbswitch *sw, struct nbconn *conn,
                 struct ofpbuf *msg)
{
    if (!conn->n_blocking) {
        nb_receive(sw, conn, msg);
    } else if (conn->held_bytes + msg->size <= NB_MAX_HELD) {
        conn->held_bytes += msg->size;
        ovs_list_push_back(&conn->held, &msg->list_node);
    } else {
        nb_send_error(conn, OFPERR_OFPBRC_EPERM, msg->data);
        ofpbuf_delete(msg);
    }
}

/* A flow_mod of 'conn' that waited for the bridge's flows is done: what
 * came after it goes on, until another waits. */
static void
nb_unblock(struct nbswitch *sw, struct nbconn *conn)
{
    conn->n_blocking--;
    while (!conn->n_blocking && !ovs_list_is_empty(&conn->held)) {
        struct ofpbuf *msg = CONTAINER_OF(ovs_list_pop_front(&conn->held),
                                          struct ofpbuf, list_node);
        conn->held_bytes -= msg->size;
        nb_receive(sw, conn, msg);
    }
}

static void
nb_receive(struct nbswitch *sw, struct nbconn *conn, struct ofpbuf *msg)
{
    const struct ofp_header *oh = msg->data;
    enum ofptype type;
    enum ofperr error = ofptype_decode(&type, oh);

    if (!error) {
        error = nb_dispatch(sw, conn, oh, type);
    }
    if (error) {
        VLOG_DBG_RL(&rl, "%s: %s", conn->name, ofperr_to_string(error));
        nb_send_error(conn, error, oh);
    }
    if (sw->n_held > NB_MAX_HELD) {
        /* The bridge stays away: what waits for it is refused. */
        VLOG_WARN_RL(&rl, "the bridge is not connected: refusing the %zu "
                     "bytes of messages held for it", sw->n_held);
        struct nb_request *rq;
        HMAP_FOR_EACH (rq, node, &sw->requests) {
            if (rq->conn && rq->kind != NB_REQ_OWN_BARRIER) {
                nb_send_request_error(rq->conn, OFPERR_OFPBRC_EPERM, rq);
            }
        }
        nbswitch_bridge_reset(sw);
    }
    ofpbuf_delete(msg);
}

/* The bridge. */

void
nbswitch_bridge_active(struct nbswitch *sw, enum ofp_version version)
{
    struct ofputil_switch_config config = {
        .frag = OFPUTIL_FRAG_NORMAL,
        .invalid_ttl_to_controller = -1,
        .miss_send_len = UINT16_MAX,
    };
    struct ofputil_async_cfg async = {
        .primary[OAM_PACKET_IN] = ((1u << OFPR_ACTION)
                                   | (1u << OFPR_NO_MATCH)
                                   | (1u << OFPR_INVALID_TTL)
                                   | (1u << OFPR_ACTION_SET)
                                   | (1u << OFPR_GROUP)
                                   | (1u << OFPR_PACKET_OUT)),
        .primary[OAM_PORT_STATUS] = ((1u << OFPPR_ADD)
                                     | (1u << OFPPR_DELETE)
                                     | (1u << OFPPR_MODIFY)),
        .primary[OAM_FLOW_REMOVED] = ((1u << OFPRR_IDLE_TIMEOUT)
                                      | (1u << OFPRR_HARD_TIMEOUT)
                                      | (1u << OFPRR_DELETE)
                                      | (1u << OFPRR_GROUP_DELETE)
                                      | (1u << OFPRR_METER_DELETE)
                                      | (1u << OFPRR_EVICTION)),
    };
    struct ofpbuf *msg;

    sw->bridge_active = true;
    sw->bridge_version = version;

    /* This connection is a service connection of the bridge's: it hears
     * of packet-ins and flow removals only once it asks. */
    msg = ofputil_encode_set_config(&config, version);
    ovs_list_push_back(&sw->bridge_out, &msg->list_node);
    msg = ofputil_encode_set_async_config(
        &async, ((1u << OAM_PACKET_IN) | (1u << OAM_PORT_STATUS)
                 | (1u << OAM_FLOW_REMOVED)), version);
    ovs_list_push_back(&sw->bridge_out, &msg->list_node);

    /* The bridge's configuration of its ports, and its changes (the
     * status messages asked for above, which come after the reply). */
    sw->n_configs = 0;
    nb_request_port_desc(sw);

    /* What waited for the bridge, then the monitor, whose first reply
     * shows it all. */
    ovs_list_push_back_all(&sw->bridge_out, &sw->held);
    sw->n_held = 0;
    if (sw->watch_table0) {
        nb_table0_monitor(sw);
    }
}

/* Asks the bridge for its ports' descriptions, whose configurations are
 * not known until they come. */
static void
nb_request_port_desc(struct nbswitch *sw)
{
    struct ofpbuf *msg = ofputil_encode_port_desc_stats_request(
        nb_bridge_version(sw), OFPP_ANY);

    sw->configs_known = false;
    ((struct ofp_header *) msg->data)->xid = htonl(sw->next_xid++);
    sw->port_desc_xid = ((struct ofp_header *) msg->data)->xid;
    nb_queue(sw, msg);
}

/* Forgets the copy of table 0 and what was in flight to change it. */
static void
nb_table0_reset(struct nbswitch *sw)
{
    nb_table0_lost(sw);
    nb_changes_clear(sw);
    if (!sw->bridge_active) {
        sw->monitor_id = 0;     /* A new connection has no monitor. */
    } else if (sw->watch_table0) {
        nb_table0_monitor(sw);
    }
}

/* Drops what the switch holds for the bridge and the requests in flight,
 * with no answer: for when the controllers that sent them are being
 * dropped (the bridge may have restarted, and holds none of their flows,
 * so that they connect again and put them back). */
void
nbswitch_bridge_reset(struct nbswitch *sw)
{
    ofpbuf_list_delete(&sw->held);
    sw->n_held = 0;
    ofpbuf_list_delete(&sw->bridge_out);
    nb_table0_reset(sw);        /* First: clearing the requests lets */
    nb_requests_clear(sw);      /* controllers send more. */
}

void
nbswitch_bridge_disconnected(struct nbswitch *sw)
{
    struct nb_request *rq;

    /* What the bridge never answered fails. */
    HMAP_FOR_EACH_SAFE (rq, node, &sw->requests) {
        if (rq->conn && rq->kind != NB_REQ_OWN_BARRIER
            && rq->kind != NB_REQ_ERRORS) {
            nb_send_request_error(rq->conn, OFPERR_OFPBRC_EPERM, rq);
        }
    }
    sw->bridge_active = false;
    sw->bridge_version = 0;
    sw->n_configs = 0;
    sw->configs_known = false;
    sw->port_desc_xid = 0;
    ofpbuf_list_delete(&sw->bridge_out);
    nb_table0_reset(sw);
    nb_requests_clear(sw);
}

/* The bridge refused 'rq', a bundle control request, or reported that
 * its bundle (whose open 'rq' was) timed out: the controller's bundle is
 * gone, and a later add or commit of it is refused (OFPBFC_BAD_ID) rather
 * than committing part of it. */
static void
nb_bundle_failed(struct nbswitch *sw, struct nb_request *rq)
{
    if (rq->conn && (rq->bundle_type == OFPBCT_OPEN_REQUEST
                     || rq->bundle_type == OFPBCT_CLOSE_REQUEST)) {
        struct nb_bundle *b = nb_find_bundle(rq->conn, rq->bundle_id);
        if (b && b->bridge_id == rq->bridge_bundle_id) {
            struct ofputil_bundle_ctrl_msg bc = {
                .bundle_id = b->bridge_id,
                .type = OFPBCT_DISCARD_REQUEST,
                .flags = b->flags,
            };
            nb_to_bridge(sw, NULL, NULL, NB_REQ_ERRORS,
                         ofputil_encode_bundle_ctrl_request(
                             nb_bridge_version(sw), &bc));
            if (b->open_xid == rq->bridge_xid) {
                b->open_xid = 0;
            }
            nb_changes_release_bundle(sw, b->bridge_id);
            ovs_list_remove(&b->node);
            free(b);
        }
    }
    if (rq->bundle_type == OFPBCT_COMMIT_REQUEST
        || rq->bundle_type == OFPBCT_DISCARD_REQUEST) {
        nb_bundle_done(sw, rq->bridge_bundle_id);
    }
    nb_request_destroy(sw, rq);
}

/* Retires the requests sent before barrier 'done'. */
static void
nb_retire(struct nbswitch *sw, struct nb_request *done)
{
    struct nb_request *rq;

    LIST_FOR_EACH_SAFE (rq, fifo, &sw->fifo) {
        if (rq == done) {
            break;
        }
        if (rq->kind == NB_REQ_ERRORS) {
            nb_request_destroy(sw, rq);
        }
    }
}

static void
nb_take_flow_stats(struct nbswitch *sw, struct nb_request *rq,
                   const struct ofp_header *oh)
{
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    uint64_t stub[1024 / 8], stub2[1024 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    struct ofpbuf controller_ofpacts = OFPBUF_STUB_INITIALIZER(stub2);

    for (;;) {
        struct ofputil_flow_stats fs;
        int retval = ofputil_decode_flow_stats_reply(&fs, &b, false,
                                                     &ofpacts);
        if (retval) {
            if (retval != EOF) {
                VLOG_WARN_RL(&rl, "a flow stats reply from the bridge did "
                             "not decode (%s)", ofperr_to_string(retval));
            }
            break;
        }

        uint8_t table;
        if (!nbx_table_from_bridge(fs.table_id, &table)) {
            continue;
        }
        ofpbuf_clear(&controller_ofpacts);
        nbx_actions_from_bridge(fs.ofpacts, fs.ofpacts_len, false,
                                &controller_ofpacts);
        if (rq->out_port != OFPP_ANY
            && !ofpacts_output_to_port(controller_ofpacts.data,
                                       controller_ofpacts.size,
                                       rq->out_port)) {
            continue;
        }
        if (fs.table_id == PIPELINE_OF_TABLE0 && sw->cbs.table0_counts) {
            /* What the NIC decided by the flow counts too. */
            struct oflow_data key_data;
            struct oflow key = { .data = &key_data,
                                 .table_id = fs.table_id,
                                 .priority = fs.priority };
            uint64_t packets = 0, bytes = 0;

            minimatch_init(&key_data.match, &fs.match);
            sw->cbs.table0_counts(&key, &packets, &bytes, sw->aux);
            minimatch_destroy(&key_data.match);
            if (fs.packet_count != UINT64_MAX) {
                fs.packet_count += packets;
            }
            if (fs.byte_count != UINT64_MAX) {
                fs.byte_count += bytes;
            }
        }
        if (rq->kind == NB_REQ_AGGREGATE) {
            rq->aggregate.packet_count += fs.packet_count;
            rq->aggregate.byte_count += fs.byte_count;
            rq->aggregate.flow_count++;
        } else {
            fs.table_id = table;
            fs.ofpacts = controller_ofpacts.data;
            fs.ofpacts_len = controller_ofpacts.size;
            ofputil_append_flow_stats_reply(&fs, &rq->replies, NULL);
        }
    }
    ofpbuf_uninit(&ofpacts);
    ofpbuf_uninit(&controller_ofpacts);

    if (nb_last_reply(rq, oh)) {
        if (rq->conn) {
            if (rq->kind == NB_REQ_AGGREGATE) {
                nb_send(rq->conn, ofputil_encode_aggregate_stats_reply(
                            &rq->aggregate,
                            (const struct ofp_header *) rq->header));
            } else {
                ovs_list_push_back_all(&rq->conn->out, &rq->replies);
            }
        }
        nb_request_destroy(sw, rq);
    }
}

/* Takes 'oh', a part of the bridge's multipart reply to 'rq' (of a kind
 * that nb_relay() relayed), into the controller's reply. */
static void
nb_take_relayed(struct nbswitch *sw, struct nb_request *rq,
                const struct ofp_header *oh)
{
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    const struct ofp_header *request = (const struct ofp_header *) rq->header;
    uint64_t stub[256 / 8];
    struct ofpbuf bands = OFPBUF_STUB_INITIALIZER(stub);

    switch (rq->kind) {
    case NB_REQ_PORT_STATS:
        for (;;) {
            struct ofputil_port_stats ps;
            if (ofputil_decode_port_stats(&ps, &b)) {
                break;
            }
            if (nb_find_port(sw, ps.port_no)
                && (rq->out_port == OFPP_ANY || rq->out_port == ps.port_no)) {
                ofputil_append_port_stat(&rq->replies, &ps);
            }
            netdev_free_custom_stats_counters(&ps.custom_stats);
        }
        break;

    case NB_REQ_GROUP_DESC:
        for (;;) {
            struct ofputil_group_desc gd;
            if (ofputil_decode_group_desc_reply(&gd, &b, oh->version)) {
                break;
            }
            if (gd.group_id < NBX_ID_LIMIT) {
                nb_xlate_buckets(&gd.buckets, false);
                ofputil_append_group_desc_reply(&gd, &gd.buckets,
                                                &rq->replies);
            }
            ofputil_uninit_group_desc(&gd);
        }
        break;

    case NB_REQ_GROUP_STATS:
        for (;;) {
            struct ofputil_group_stats gs;
            if (ofputil_decode_group_stats_reply(&b, &gs)) {
                break;
            }
            if (gs.group_id < NBX_ID_LIMIT) {
                ofputil_append_group_stats(&rq->replies, &gs);
            }
            free(gs.bucket_stats);
        }
        break;

    case NB_REQ_METER_CONFIG:
        for (;;) {
            struct ofputil_meter_config mc;
            if (ofputil_decode_meter_config(&b, &mc, &bands)) {
                break;
            }
            if (mc.meter_id < NBX_ID_LIMIT) {
                ofputil_append_meter_config(&rq->replies, &mc);
            }
        }
        break;

    case NB_REQ_METER_STATS:
        for (;;) {
            struct ofputil_meter_stats ms;
            if (ofputil_decode_meter_stats(&b, &ms, &bands)) {
                break;
            }
            if (ms.meter_id < NBX_ID_LIMIT) {
                ofputil_append_meter_stats(&rq->replies, &ms);
            }
        }
        break;

    case NB_REQ_GROUP_FEATURES: {
        struct ofputil_group_features gf;
        ofputil_decode_group_features_reply(oh, &gf);
        ofpbuf_list_delete(&rq->replies);
        ovs_list_push_back(&rq->replies, &ofputil_encode_group_features_reply(
                               &gf, request)->list_node);
        break;
    }

    case NB_REQ_METER_FEATURES: {
        struct ofputil_meter_features mf;
        ofputil_decode_meter_features(oh, &mf);
        ofpbuf_list_delete(&rq->replies);
        ovs_list_push_back(&rq->replies, &ofputil_encode_meter_features_reply(
                               &mf, request)->list_node);
        break;
    }

    default:
        break;
    }
    ofpbuf_uninit(&bands);

    if (!ofpmp_more(oh)) {
        if (rq->conn) {
            ovs_list_push_back_all(&rq->conn->out, &rq->replies);
        }
        nb_request_destroy(sw, rq);
    }
}

static void
nb_packet_in(struct nbswitch *sw, const struct ofp_header *oh)
{
    struct ofputil_packet_in_private pin;
    size_t total_len;
    uint32_t buffer_id;
    enum ofperr error;
    uint8_t table;

    memset(&pin, 0, sizeof pin);
    error = ofputil_decode_packet_in(oh, true, NULL, NULL, &pin.base,
                                     &total_len, &buffer_id, NULL);
    if (error) {
        VLOG_WARN_RL(&rl, "a packet-in from the bridge did not decode (%s)",
                     ofperr_to_string(error));
        return;
    }
    if (nbx_table_from_bridge(pin.base.table_id, &table)) {
        pin.base.table_id = table;
    } else if (pin.base.reason == OFPR_PACKET_OUT) {
        /* A packet-out's own output to the controller, before any table:
         * reported as OVS reports it, from table 0. */
        pin.base.table_id = 0;
    } else {
        return;
    }
    nbx_strip_match(&pin.base.flow_metadata);

    struct nbconn *conn;
    LIST_FOR_EACH (conn, node, &sw->conns) {
        /* Before OpenFlow 1.4, the reasons that it added are "action", as
         * OVS sends them. */
        enum ofp_packet_in_reason reason = pin.base.reason;
        if (conn->version < OFP14_VERSION
            && (reason == OFPR_ACTION_SET || reason == OFPR_GROUP
                || reason == OFPR_PACKET_OUT)) {
            reason = OFPR_ACTION;
        }
        if (!nb_conn_wants(conn, OAM_PACKET_IN, reason)) {
            continue;
        }
        if ((sw->rate_limit > 0
             && !token_bucket_withdraw(&conn->packet_ins, 1000))
            || sw->cbs.backlog(conn->io, sw->aux)
               > NBSWITCH_PACKET_IN_BACKLOG) {
            conn->n_packet_ins_dropped++;
            continue;
        }
        conn->n_packet_ins++;
        nb_send(conn, ofputil_encode_packet_in_private(
                    &pin, nb_conn_protocol(conn),
                    OFPUTIL_PACKET_IN_STD));
    }
}

static void
nb_flow_removed(struct nbswitch *sw, const struct ofp_header *oh)
{
    struct ofputil_flow_removed fr;
    enum ofperr error = ofputil_decode_flow_removed(&fr, oh);
    uint8_t table;

    if (error || !nbx_table_from_bridge(fr.table_id, &table)) {
        return;
    }
    fr.table_id = table;

    struct nbconn *conn;
    LIST_FOR_EACH (conn, node, &sw->conns) {
        if (nb_conn_wants(conn, OAM_FLOW_REMOVED, fr.reason)) {
            nb_send(conn, ofputil_encode_flow_removed(
                        &fr, nb_conn_protocol(conn)));
        }
    }
}

/* Takes 'msg' (owned) from the bridge. */
void
nbswitch_bridge_receive(struct nbswitch *sw, struct ofpbuf *msg)
{
    const struct ofp_header *oh = msg->data;
    struct nb_request *rq = nb_find_request(sw, oh->xid);
    enum ofptype type;

    if (ofptype_decode(&type, oh)) {
        ofpbuf_delete(msg);
        return;
    }
    switch (type) {
    case OFPTYPE_ERROR:
        if (sw->monitor_xid && oh->xid == sw->monitor_xid) {
            enum ofperr error = ofperr_decode_msg(oh, NULL);
            VLOG_WARN("the bridge refused the flow monitor on the "
                      "controller's table 0 (%s): its flows are not "
                      "offloaded", error ? ofperr_get_name(error) : "?");
        } else if (rq) {
            enum ofperr error = ofperr_decode_msg(oh, NULL);
            if (rq->conn && error) {
                nb_send_request_error(rq->conn, error, rq);
            }
            if (rq->kind == NB_REQ_BUNDLE_CTRL) {
                nb_bundle_failed(sw, rq);
            } else if (rq->kind != NB_REQ_ERRORS) {
                nb_request_finish(sw, rq);
            }
        }
        break;

    case OFPTYPE_BARRIER_REPLY:
        if (rq && rq->kind == NB_REQ_OWN_BARRIER && rq->gen) {
            nb_changes_confirmed(sw, rq->gen);
        }
        if (rq) {
            nb_retire(sw, rq);
            if (rq->kind == NB_REQ_BARRIER && rq->conn) {
                nb_send(rq->conn, ofpraw_alloc_reply(
                            OFPRAW_OFPT11_BARRIER_REPLY,
                            (const struct ofp_header *) rq->header, 0));
            }
            nb_request_destroy(sw, rq);
        }
        break;

    case OFPTYPE_FLOW_STATS_REPLY:
        if (rq && (rq->kind == NB_REQ_FLOW_STATS
                   || rq->kind == NB_REQ_AGGREGATE)) {
            nb_take_flow_stats(sw, rq, oh);
        } else if (rq && rq->kind == NB_REQ_OUT_PORT) {
            nb_take_out_port(sw, rq, oh);
        }
        break;

    case OFPTYPE_TABLE_STATS_REPLY:
        if (rq && rq->kind == NB_REQ_TABLE_STATS) {
            nb_take_table_stats(rq, oh);
            if (!ofpmp_more(oh)) {
                if (rq->conn) {
                    ovs_list_push_back_all(&rq->conn->out, &rq->replies);
                }
                nb_request_destroy(sw, rq);
            }
        }
        break;

    case OFPTYPE_PORT_STATS_REPLY:
    case OFPTYPE_GROUP_DESC_STATS_REPLY:
    case OFPTYPE_GROUP_STATS_REPLY:
    case OFPTYPE_GROUP_FEATURES_STATS_REPLY:
    case OFPTYPE_METER_CONFIG_STATS_REPLY:
    case OFPTYPE_METER_STATS_REPLY:
    case OFPTYPE_METER_FEATURES_STATS_REPLY:
        if (rq && rq->kind >= NB_REQ_PORT_STATS) {
            nb_take_relayed(sw, rq, oh);
        }
        break;

    case OFPTYPE_BUNDLE_CONTROL:
        if (rq && rq->kind == NB_REQ_BUNDLE_CTRL) {
            struct ofputil_bundle_ctrl_msg bc;
            if (!ofputil_decode_bundle_ctrl(oh, &bc) && rq->conn) {
                bc.bundle_id = rq->bundle_id;
                nb_send(rq->conn, ofputil_encode_bundle_ctrl_reply(
                            (const struct ofp_header *) rq->header, &bc));
            }
            /* An open request stays for the bundle's errors, until the
             * bundle is committed or discarded (nb_bundle_destroy()). */
            if (rq->bundle_type != OFPBCT_OPEN_REQUEST) {
                if (rq->bundle_type == OFPBCT_COMMIT_REQUEST
                    || rq->bundle_type == OFPBCT_DISCARD_REQUEST) {
                    nb_bundle_done(sw, rq->bridge_bundle_id);
                }
                nb_request_destroy(sw, rq);
            }
        }
        break;

    case OFPTYPE_PACKET_IN:
        nb_packet_in(sw, oh);
        break;

    case OFPTYPE_FLOW_REMOVED:
        nb_flow_removed(sw, oh);
        break;

    case OFPTYPE_FLOW_MONITOR_STATS_REPLY:
        nb_take_monitor_reply(sw, oh);
        break;

    case OFPTYPE_PORT_DESC_STATS_REPLY:
        if (sw->port_desc_xid && oh->xid == sw->port_desc_xid) {
            nb_take_port_desc(sw, oh);
        }
        break;

    case OFPTYPE_PORT_STATUS:
        nb_take_bridge_port_status(sw, oh);
        break;

    case OFPTYPE_FLOW_MONITOR_PAUSED:
        if (sw->watch_table0) {
            nb_table0_lost(sw);
        }
        break;

    case OFPTYPE_FLOW_MONITOR_RESUMED:
        if (sw->watch_table0) {
            nb_table0_monitor(sw);
        }
        break;

    default:
        break;
    }
    ofpbuf_delete(msg);
}

/* Returns a new reference to the status of 'sw', for controller/show. */
json_t *
nbswitch_status(const struct nbswitch *sw)
{
    char dpid[17];

    snprintf(dpid, sizeof dpid, "%016"PRIx64, sw->datapath_id);
    return json_pack("{s:s, s:b, s:i}", "datapath_id", dpid,
                     "bridge_connected", sw->bridge_active,
                     "ports", (int) sw->n_ports);
}

/* Returns a new reference to the status of controller connection 'conn'
 * (NULL: not connected). */
json_t *
nbswitch_conn_status(const struct nbconn *conn)
{
    if (!conn || !conn->active) {
        return json_pack("{s:b}", "is_connected", false);
    }
    return json_pack("{s:b, s:s, s:s, s:I, s:I, s:I}",
                     "is_connected", true,
                     "role", nb_role_name(conn->role),
                     "version", ofputil_version_to_string(conn->version),
                     "packet_ins", (json_int_t) conn->n_packet_ins,
                     "packet_ins_dropped",
                     (json_int_t) conn->n_packet_ins_dropped,
                     "errors", (json_int_t) conn->n_errors);
}
