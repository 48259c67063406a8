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

#include "agent/xlate-nic.h"

#include <arpa/inet.h>
#include <endian.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/flow.h>
#include <openvswitch/match.h>
#include <openvswitch/shash.h>

#include "agent/acl.h"
#include "agent/overlay.h"
#include "agent/pipeline.h"
#include "agent/ports.h"
#include "agent/reference.h"
#include "agent/xlate-acl.h"
#include "agent/xlate-capture.h"
#include "agent/xlate-lb.h"
#include "agent/xlate-offload.h"
#include "agent/xlate-steer.h"
#include "lib/util.h"
#include "offload/nicctrl.h"
#include "offload/planner.h"
#include "northbound/switch.h"
#include "northbound/xlate.h"
#include "ofp/ofctrl.h"
#include "ofp/oflow.h"

/* One VM port whose fast path the NIC can run, with its destinations. */
struct nic_model {
    const char *name;
    const char *device;
    const char *ls;             /* Its logical switch. */
    const char **dest_names;    /* Each destination's port name. */
    const char *acl;            /* Its ingress ACL's name, or NULL. */
    const char **dest_acls;     /* Each destination's egress ACL's. */
    int ofport;
    struct xlate_offload_port port;
    ovs_be32 *ipv4;
    struct xlate_offload_dest *dests;
    int *dest_ofports;
    struct xlate_offload_remote *remotes;
    struct xlate_offload_flow *flows;   /* OpenFlow mode, and the flows */
    const struct oflow **oflows;        /* of table 0 they are. */
    struct fp_match *punts;     /* What the load balancers must see. */
    double *weights;            /* Its share of its ACL's weights. */
};

/* An ACL's effect, as the state keeps it. */
struct nic_acl {
    struct xlate_acl_effect effect;
    uint64_t version;           /* xlate_acl_version() when read. */
    uint64_t weighed;           /* The state's 'reads' when weighed, or
                                 * UINT64_MAX. */
    bool kept;                  /* In the state (else the models'). */
};

/* A port's rules as last flattened, with what they came from. */
struct nic_flat {
    uint64_t inputs;            /* nic_model_hash(). */
    uint64_t weights;           /* nic_model_weights(). */
    struct planner_rule *rules;
    struct xlate_offload_origin *origins;
    size_t n;
};

struct xlate_nic {
    struct shash ports;         /* "struct nic_traffic_port"s, by name. */
    struct shash acls;          /* "struct nic_acl"s, by name. */
    struct shash flats;         /* "struct nic_flat"s, by port name. */
    uint64_t acl_counters;      /* As xlate_nic_read_traffic() last got. */
    uint64_t reads;             /* Reads that found the ingress ACLs'
                                 * counters changed. */
    struct nic_shared_flows *shared;    /* See nic_shared_flows(). */
};

static void nic_shared_flows_destroy(struct nic_shared_flows *);

/* The models of every such port, and the ACLs they share. */
struct nic_models {
    struct nic_model *models;
    size_t n;
    struct shash acls;          /* Name -> "struct nic_acl". */
    bool weighed;               /* The ACLs' entries carry their traffic. */
    bool keep;                  /* Keep what is read in the state. */
};

static void
nic_acl_destroy(struct nic_acl *a)
{
    xlate_acl_effect_free(&a->effect);
    free(a);
}

/* Returns the effect of ACL 'name' (or of none, if NULL): as the state
 * keeps it if the ACL has not changed since, else read now (and kept, if
 * 'ms->keep'); weighed if 'ms->weighed', once after each read of the
 * counters. */
static struct xlate_acl_effect
nic_acl(struct nic_models *ms, const struct xlate_nic_policy *p,
        const char *name)
{
    struct xlate_acl_effect none = { .n = 0 };

    if (!name) {
        return none;
    }
    struct nic_acl *a = shash_find_data(&ms->acls, name);
    if (a) {
        return a->effect;
    }

    struct xlate_nic *xn = p->state;
    uint64_t version = xlate_acl_version(p->xacl, name);
    a = xn ? shash_find_data(&xn->acls, name) : NULL;
    if (a && a->version != version) {
        if (ms->keep) {
            shash_find_and_delete(&xn->acls, name);
            nic_acl_destroy(a);
        }
        a = NULL;
    }
    if (!a) {
        a = iovp_xzalloc(sizeof *a);
        xlate_acl_effect(p->xacl, name, NULL, NULL, &a->effect);
        a->version = version;
        a->weighed = UINT64_MAX;
        a->kept = xn && ms->keep;
        if (a->kept) {
            shash_add(&xn->acls, name, a);
        }
    }
    uint64_t reads = xn ? xn->reads : 0;
    if (ms->weighed && a->weighed != reads) {
        xlate_acl_effect_weigh(name, p->desired, p->installed, &a->effect);
        a->weighed = reads;
    }
    shash_add(&ms->acls, name, a);
    return a->effect;
}

/* A VM port, as nic_models_build() first reads it. */
struct nic_vm_port {
    const struct port *vp;
    const struct port_binding *b;   /* Its untagged binding, or NULL. */
    struct eth_addr mac;
    uint32_t port_id;           /* The backend's name for its device. */
    bool usable;                /* Its fast path can run in the NIC. */
};

/* Reads 'vp' into 'np': a port whose fast path the NIC can run has an
 * untagged binding, an OpenFlow port, a MAC that it owns in the binding's
 * logical switch, and a network device that the backend knows; or, in
 * OpenFlow mode, the controller's table 0 known ('table0'), an OpenFlow
 * port that the bridge forwards as its flows say (no port_mod made it
 * down or drop), its MAC and a network device; and its profile is not
 * "plain" (everything in OVS) nor "capture". */
static void
nic_vm_port_read(const struct nicctrl *nc, const struct xlate_nic_policy *p,
                 const struct oflow_table *table0, const struct port *vp,
                 struct nic_vm_port *np)
{
    np->vp = vp;
    np->b = vp->openflow ? NULL : port_find_binding(vp, 0);
    np->usable = (vp->profile != PORT_PROFILE_PLAIN
                  && vp->profile != PORT_PROFILE_CAPTURE
                  && (vp->openflow
                      ? (table0 && nbswitch_port_forwards(
                             p->openflow, (OVS_FORCE ofp_port_t) vp->ofport))
                      : np->b && np->b->owns_mac)
                  && vp->ofport > 0
                  && port_parse_mac(vp, &np->mac)
                  && vp->interface && vp->interface[0]);
    np->port_id = np->usable ? nicctrl_port_id(nc, vp->interface) : 0;
    np->usable = np->usable && np->port_id;
}

/* Traffic: which destinations each port sent frames to lately. */

/* How long a destination stays warm for a port after the last sign of
 * frames between them, in ms: a dozen reads of the counters. */
#define NIC_WARM_MS 60000

/* A port whose rules could number this many or fewer has every
 * destination warm, traffic or not: it is flattened whole. */
#define NIC_EAGER_RULES 4096

/* One VM port's traffic, as xlate_nic_read_traffic() saw it. */
struct nic_traffic_port {
    uint64_t from, to;          /* OVS's counts of frames from it, to it. */
    long long int sent_until;   /* OVS counted frames from it lately... */
    long long int received_until;   /* ...to it. */
    struct shash decided;       /* Destination name -> "long long int":
                                 * until when the NIC's frames toward it
                                 * keep it warm. */
    struct shash warm;          /* Its destinations that are not cold
                                 * (no data). */
    bool seen;
};

struct xlate_nic *
xlate_nic_create(void)
{
    struct xlate_nic *xn = iovp_xzalloc(sizeof *xn);

    shash_init(&xn->ports);
    shash_init(&xn->acls);
    shash_init(&xn->flats);
    return xn;
}

static void
nic_traffic_port_destroy(struct nic_traffic_port *tp)
{
    shash_destroy_free_data(&tp->decided);
    shash_destroy(&tp->warm);
    free(tp);
}

static void
nic_flat_destroy(struct nic_flat *f)
{
    free(f->rules);
    free(f->origins);
    free(f);
}

void
xlate_nic_destroy(struct xlate_nic *xn)
{
    if (xn) {
        struct shash_node *node;
        SHASH_FOR_EACH (node, &xn->ports) {
            nic_traffic_port_destroy(node->data);
        }
        shash_destroy(&xn->ports);
        SHASH_FOR_EACH (node, &xn->acls) {
            nic_acl_destroy(node->data);
        }
        shash_destroy(&xn->acls);
        SHASH_FOR_EACH (node, &xn->flats) {
            nic_flat_destroy(node->data);
        }
        shash_destroy(&xn->flats);
        nic_shared_flows_destroy(xn->shared);
        free(xn);
    }
}

/* Writes MAC 'ea' into 'key' as 12 hex digits, for a "by MAC" shash. */
static void
nic_mac_key(const uint8_t ea[6], char key[13])
{
    snprintf(key, 13, "%02x%02x%02x%02x%02x%02x",
             ea[0], ea[1], ea[2], ea[3], ea[4], ea[5]);
}

/* What nic_traffic_decided() reads. */
struct nic_traffic_visit {
    struct nic_traffic_port *tp;
    const struct shash *by_mac;     /* MAC -> VM port name. */
    long long int until;
};

/* nicctrl_rule_cb: a rule toward one destination (of one MAC) decided
 * frames in the NIC, so that destination stays warm. */
static void
nic_traffic_decided(const struct planner_rule *rule,
                    uint64_t packets OVS_UNUSED, void *v_)
{
    const struct nic_traffic_visit *v = v_;
    static const uint8_t ones[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

    if (!memcmp(rule->match.mask.dl_dst, ones, 6)) {
        char mac[13];
        nic_mac_key(rule->match.value.dl_dst, mac);
        const char *dest = shash_find_data(v->by_mac, mac);
        if (dest) {
            long long int *until = shash_find_data(&v->tp->decided, dest);
            if (!until) {
                until = iovp_xmalloc(sizeof *until);
                shash_add(&v->tp->decided, dest, until);
            }
            *until = v->until;
        }
    }
}

/* Reads the signs of traffic since the last call, at time 'now' (ms): for
 * each VM port of 'p', the frames that OVS counted from it and to it in
 * 'p->installed', and the rules of its fast path by which the NIC decided
 * frames in its last read ('nc').  A destination is warm for a port, its
 * frames worth rules of their own, for NIC_WARM_MS after OVS last counted
 * frames from the port and to the destination's MAC (OVS's counters have
 * no pair: this takes every destination that received anything as one
 * the port may have sent to; but frames flooded to every port, as a VM's
 * IPv6 neighbour discovery, warm none), or after the NIC last decided
 * frames of the port toward it. */
void
xlate_nic_read_traffic(struct xlate_nic *t,
                         const struct nicctrl *nc,
                         const struct xlate_nic_policy *p,
                         uint64_t acl_counters, long long int now)
{
    const struct ports *ports = p->ports;
    struct nic_traffic_port **tps = iovp_xmalloc(MAX(ports->n, 1)
                                                 * sizeof *tps);
    struct shash by_mac = SHASH_INITIALIZER(&by_mac);
    struct shash_node *node;

    if (acl_counters != t->acl_counters) {
        t->acl_counters = acl_counters;
        t->reads++;
    }
    SHASH_FOR_EACH (node, &t->ports) {
        struct nic_traffic_port *tp = node->data;
        tp->seen = false;
    }
    for (size_t i = 0; i < ports->n; i++) {
        const struct port *vp = ports->sorted[i];
        struct nic_traffic_port *tp = shash_find_data(&t->ports, vp->name);
        if (!tp) {
            tp = iovp_xzalloc(sizeof *tp);
            tp->sent_until = tp->received_until = LLONG_MIN;
            shash_init(&tp->decided);
            shash_init(&tp->warm);
            shash_add(&t->ports, vp->name, tp);
        }
        tp->seen = true;
        tps[i] = tp;

        uint64_t from = 0, to = 0;
        if (p->desired && p->installed) {
            pipeline_port_packets(vp, p->desired, p->installed, &from, &to);
        }
        if (from != tp->from && from) {
            tp->sent_until = now + NIC_WARM_MS;
        }
        if (to != tp->to && to) {
            tp->received_until = now + NIC_WARM_MS;
        }
        tp->from = from;
        tp->to = to;

        struct eth_addr mac;
        if (port_parse_mac(vp, &mac)) {
            char key[13];
            nic_mac_key(mac.ea, key);
            shash_replace(&by_mac, key, vp->name);
        }
    }

    for (size_t i = 0; i < ports->n; i++) {
        const struct port *vp = ports->sorted[i];
        struct nic_traffic_port *tp = tps[i];
        struct nic_traffic_visit v = {
            .tp = tp, .by_mac = &by_mac, .until = now + NIC_WARM_MS,
        };
        if (nc) {
            nicctrl_rules_decided(nc, vp->name, nic_traffic_decided, &v);
        }

        shash_clear(&tp->warm);
        SHASH_FOR_EACH_SAFE (node, &tp->decided) {
            long long int *until = node->data;
            if (*until > now) {
                shash_add_once(&tp->warm, node->name, NULL);
            } else {
                free(until);
                shash_delete(&tp->decided, node);
            }
        }
        for (size_t j = 0; tp->sent_until > now && j < ports->n; j++) {
            if (j != i && tps[j]->received_until > now) {
                shash_add_once(&tp->warm, ports->sorted[j]->name, NULL);
            }
        }
    }

    SHASH_FOR_EACH_SAFE (node, &t->ports) {
        struct nic_traffic_port *tp = node->data;
        if (!tp->seen) {
            nic_traffic_port_destroy(tp);
            shash_delete(&t->ports, node);
        }
    }
    shash_destroy(&by_mac);
    free(tps);
}

/* Returns true if VM port 'src' sent nothing to 'dst' lately, as 't' (if
 * nonnull) last saw. */
static bool
nic_dest_cold(const struct xlate_nic *t, const char *src,
              const char *dst)
{
    const struct nic_traffic_port *tp = (t
                                         ? shash_find_data(&t->ports, src)
                                         : NULL);

    return t && (!tp || !shash_find(&tp->warm, dst));
}

/* Returns the frames that OVS counted from VM port 'name' ('to' false) or
 * to it ('to' true) as of the last read of the counters, or 0. */
static uint64_t
nic_traffic(const struct xlate_nic *xn, const char *name, bool to)
{
    const struct nic_traffic_port *tp = (xn
                                         ? shash_find_data(&xn->ports, name)
                                         : NULL);

    return !tp ? 0 : to ? tp->to : tp->from;
}

/* Gives each model of 'ms' what the planner knows of the split of traffic,
 * from 'xn': each destination's 'traffic' (the frames OVS counted to it),
 * and the port's share of its ingress ACL's weights, those of the ACL's
 * entries' flows, which every port bound to the ACL shares: in proportion
 * to the frames OVS counted from each such port (all of them if none
 * counted any). */
static void
nic_models_share(struct nic_models *ms, const struct xlate_nic *xn)
{
    struct shash sent = SHASH_INITIALIZER(&sent);   /* ACL -> frames. */

    for (size_t i = 0; xn && i < ms->n; i++) {
        const struct nic_model *m = &ms->models[i];
        if (m->acl) {
            double *total = shash_find_data(&sent, m->acl);
            if (!total) {
                total = iovp_xzalloc(sizeof *total);
                shash_add(&sent, m->acl, total);
            }
            *total += nic_traffic(xn, m->name, false);
        }
    }
    for (size_t i = 0; xn && i < ms->n; i++) {
        struct nic_model *m = &ms->models[i];
        for (size_t d = 0; d < m->port.n_dests; d++) {
            m->dests[d].traffic = nic_traffic(xn, m->dest_names[d], true);
        }

        const double *total = m->acl ? shash_find_data(&sent, m->acl) : NULL;
        const struct xlate_acl_effect *acl = &m->port.acl;
        if (total && *total > 0 && acl->weights) {
            double part = nic_traffic(xn, m->name, false) / *total;
            m->weights = iovp_xmalloc(MAX(acl->n, 1) * sizeof *m->weights);
            for (size_t j = 0; j < acl->n; j++) {
                m->weights[j] = acl->weights[j] * part;
            }
            m->port.acl.weights = m->weights;
        }
    }
    shash_destroy_free_data(&sent);
}

/* Makes every destination of 'm' warm if its rules, flattened whole,
 * could not number more than NIC_EAGER_RULES: at most (ingress entries +
 * 1) x the sum over destinations of (egress entries + 1). */
static void
nic_model_maybe_eager(struct nic_model *m)
{
    const struct xlate_offload_port *port = &m->port;
    double bound = 0;

    for (size_t d = 0; d < port->n_dests; d++) {
        bound += (double) (port->acl.n + 1) * (port->dests[d].acl.n + 1);
    }
    for (size_t d = 0; bound <= NIC_EAGER_RULES && d < port->n_dests; d++) {
        m->dests[d].cold = false;
    }
}

/* Returns true if the NIC may forward a frame from VM port 'src' to 'dst'
 * (both untagged, or in OpenFlow mode) as OVS would: if neither's QoS
 * acts on it.  The fast path has no meter, and rewrites no DSCP, so a
 * frame that 'src' sends under policing or marking, or one that 'dst'
 * receives under a limit, goes to OVS; an 802.1p priority only marks
 * tagged output, which is OVS's anyway.  (Frames that an ingress ACL
 * drops never meet QoS: the NIC may still drop them.) */
static bool
nic_qos_forwards(const struct port *src, const struct port *dst)
{
    const struct port_qos *sq = port_find_qos(src, 0);
    const struct port_qos *dq = port_find_qos(dst, 0);

    return ((!sq || (!sq->police_rate && sq->dscp < 0))
            && (!dq || !dq->receive_rate));
}

/* Gives 'm', the model of 'vp', the frames it sends that must go to OVS
 * whatever else would apply: those a load balancer NATs, and those a
 * capture copies. */
static void
nic_model_punts(const struct xlate_nic_policy *p, const struct port *vp,
                struct nic_model *m)
{
    struct fp_match *lb = NULL, *cap = NULL;
    size_t n_lb = 0, n_cap = 0;

    if (p->xlb) {
        xlate_lb_punts(p->xlb, vp, &lb, &n_lb);
    }
    if (p->xcap) {
        xlate_capture_punts(p->xcap, vp, &cap, &n_cap);
    }
    m->punts = iovp_xmalloc(MAX(n_lb + n_cap, 1) * sizeof *m->punts);
    if (n_lb) {
        memcpy(m->punts, lb, n_lb * sizeof *lb);
    }
    if (n_cap) {
        memcpy(&m->punts[n_lb], cap, n_cap * sizeof *cap);
    }
    m->port.punts = m->punts;
    m->port.n_punts = n_lb + n_cap;
    free(lb);
    free(cap);
}

/* A flow of the controller's table 0, read once for every port. */
struct nic_of_flow {
    const struct oflow *flow;
    enum xlate_offload_fate fate;
    int out_ofport;             /* XLATE_OFFLOAD_OUTPUT. */
};

static int
nic_of_flow_compare(const void *a_, const void *b_)
{
    const struct nic_of_flow *a = a_, *b = b_;

    return (a->flow->priority > b->flow->priority ? -1
            : a->flow->priority < b->flow->priority);
}

/* Reads 'table0', nb's copy of the controller's table 0 (or NULL), into
 * '*flowsp' and '*n', in descending priority.  A flow with a timeout is
 * OVS's: its counters, which the NIC's frames would not reach, decide when
 * it goes.  So is a flow that a change in flight may change, and one that
 * it may add, which the copy does not show yet. */
static void
nic_of_flows_read(const struct nbswitch *nb, const struct oflow_table *table0,
                  struct nic_of_flow **flowsp, size_t *n)
{
    const struct oflow **adding = NULL;
    size_t n_adding = 0;
    if (table0) {
        nbswitch_table0_adding(nb, &adding, &n_adding);
    }

    size_t n_flows = (table0 ? oflow_table_count(table0) : 0) + n_adding;
    struct nic_of_flow *fs = iovp_xmalloc(MAX(n_flows, 1) * sizeof *fs);
    const struct oflow *f;
    size_t k = 0;

    if (table0) {
        OFLOW_TABLE_FOR_EACH (f, table0) {
            ofp_port_t port;
            enum nbx_fate fate = nbx_flow_fate(f->data->ofpacts,
                                               f->data->ofpacts_len, &port);
            const struct oflow_stats *st = oflow_get_stats(f);
            fs[k++] = (struct nic_of_flow) {
                .flow = f,
                .fate = (st->idle_timeout || st->hard_timeout
                         || nbswitch_table0_is_changing(nb, f)
                         ? XLATE_OFFLOAD_OTHER
                         : fate == NBX_FATE_DROP ? XLATE_OFFLOAD_DROP
                         : fate == NBX_FATE_OUTPUT ? XLATE_OFFLOAD_OUTPUT
                         : XLATE_OFFLOAD_OTHER),
                .out_ofport = (OVS_FORCE uint16_t) port,
            };
        }
    }
    for (size_t i = 0; i < n_adding; i++) {
        if (!oflow_table_find(table0, adding[i])) {
            fs[k++] = (struct nic_of_flow) {
                .flow = adding[i],
                .fate = XLATE_OFFLOAD_OTHER,
            };
        }
    }
    free(adding);
    qsort(fs, k, sizeof *fs, nic_of_flow_compare);
    *flowsp = fs;
    *n = k;
}

/* Gives 'm', a port in OpenFlow mode, the controller's flows 'ofs', their
 * outputs to its destinations by index (an output to another port, or to
 * itself, is OVS's). */
static void
nic_model_add_flows(struct nic_model *m, const struct nic_of_flow *ofs,
                    size_t n)
{
    m->flows = iovp_xmalloc(MAX(n, 1) * sizeof *m->flows);
    m->oflows = iovp_xmalloc(MAX(n, 1) * sizeof *m->oflows);
    for (size_t i = 0; i < n; i++) {
        struct xlate_offload_flow *xf = &m->flows[i];

        m->oflows[i] = ofs[i].flow;
        xf->match = &ofs[i].flow->data->match;
        xf->priority = ofs[i].flow->priority;
        xf->fate = ofs[i].fate;
        xf->dest = 0;
        if (xf->fate == XLATE_OFFLOAD_OUTPUT) {
            xf->fate = XLATE_OFFLOAD_OTHER;
            for (size_t d = 0; d < m->port.n_dests; d++) {
                if (m->dest_ofports[d] == ofs[i].out_ofport) {
                    xf->fate = XLATE_OFFLOAD_OUTPUT;
                    xf->dest = d;
                    break;
                }
            }
        }
    }
    m->port.openflow = true;
    m->port.ofport = m->ofport;
    m->port.flows = m->flows;
    m->port.n_flows = n;
}

/* Builds in 'ms' the model of each VM port of policy 'p' whose fast path
 * 'nc''s NIC can run, with the other such ports of its logical switch as
 * its destinations. */
static void
nic_models_build(const struct nicctrl *nc, const struct xlate_nic_policy *p,
                 bool update, struct nic_models *ms)
{
    size_t n_vps = p->ports->n;

    memset(ms, 0, sizeof *ms);
    shash_init(&ms->acls);
    ms->weighed = ms->keep = update;
    ms->models = iovp_xzalloc(MAX(n_vps, 1) * sizeof *ms->models);

    /* Each port read once, and the usable ones of each logical switch
     * listed in order: the first index in 'by_ls' (plus one, so that it
     * is never NULL), each next one in 'next' (SIZE_MAX after the last),
     * the list built backward so that it runs forward. */
    struct nic_vm_port *nps = iovp_xmalloc(MAX(n_vps, 1) * sizeof *nps);
    size_t *next = iovp_xmalloc(MAX(n_vps, 1) * sizeof *next);
    struct shash by_ls = SHASH_INITIALIZER(&by_ls);
    const struct oflow_table *table0 = (p->openflow
                                        ? nbswitch_table0(p->openflow)
                                        : NULL);
    for (size_t i = n_vps; i-- > 0; ) {
        nic_vm_port_read(nc, p, table0, p->ports->sorted[i], &nps[i]);
        if (nps[i].usable) {
            /* The ports in OpenFlow mode are one another's
             * destinations, as if of one logical switch, "" (no logical
             * switch's name is empty). */
            const char *ls = nps[i].b ? nps[i].b->ls : "";
            struct shash_node *head = shash_find(&by_ls, ls);
            next[i] = head ? (uintptr_t) head->data - 1 : SIZE_MAX;
            if (head) {
                head->data = (void *) (uintptr_t) (i + 1);
            } else {
                shash_add(&by_ls, ls, (void *) (uintptr_t) (i + 1));
            }
        }
    }

    struct nic_of_flow *of_flows;
    size_t n_of_flows;
    nic_of_flows_read(p->openflow, table0, &of_flows, &n_of_flows);
    for (size_t i = 0; i < n_vps; i++) {
        const struct nic_vm_port *np = &nps[i];
        const struct port *vp = np->vp;
        const struct port_binding *b = np->b;
        struct nic_model *m = &ms->models[ms->n];

        if (!np->usable) {
            continue;
        }
        ms->n++;
        m->name = vp->name;
        m->device = vp->interface;
        m->ls = b ? b->ls : "";
        m->acl = b ? b->acl : vp->acl;
        m->ofport = vp->ofport;
        m->port.mac = np->mac;
        nic_model_punts(p, vp, m);
        m->port.acl = nic_acl(ms, p, m->acl);

        /* Anti-spoofing's IPv4 addresses, when Iovp_Port gives any. */
        m->ipv4 = iovp_xmalloc(MAX(vp->n_ips, 1) * sizeof *m->ipv4);
        m->port.check_ipv4 = vp->checks_ips;
        for (size_t j = 0; j < vp->n_ips; j++) {
            if (vp->ips[j].family == AF_INET) {
                m->ipv4[m->port.n_ipv4++] = vp->ips[j].ipv4.s_addr;
            }
        }
        m->port.ipv4 = m->ipv4;

        /* Its destinations: the other usable ports of its logical
         * switch. */
        size_t first = (uintptr_t) shash_find_data(&by_ls, m->ls) - 1;
        size_t n_members = 0;
        for (size_t j = first; j != SIZE_MAX; j = next[j]) {
            n_members++;
        }
        m->dests = iovp_xzalloc(n_members * sizeof *m->dests);
        m->dest_ofports = iovp_xzalloc(n_members * sizeof *m->dest_ofports);
        m->dest_acls = iovp_xzalloc(n_members * sizeof *m->dest_acls);
        m->dest_names = iovp_xzalloc(n_members * sizeof *m->dest_names);
        size_t n_dests = 0;
        for (size_t j = first; j != SIZE_MAX; j = next[j]) {
            const struct nic_vm_port *dp = &nps[j];
            if (j == i || !nic_qos_forwards(vp, dp->vp)
                || (p->xcap && xlate_capture_watches(p->xcap, dp->vp))) {
                continue;
            }
            const char *dest_acl = dp->b ? dp->b->acl : dp->vp->acl;
            m->dests[n_dests] = (struct xlate_offload_dest) {
                .mac = dp->mac,
                .out_port = dp->port_id,
                .acl = nic_acl(ms, p, dest_acl),
                .cold = (!vp->openflow
                         && nic_dest_cold(p->state, vp->name,
                                          dp->vp->name)),
            };
            m->dest_acls[n_dests] = dest_acl;
            m->dest_names[n_dests] = dp->vp->name;
            m->dest_ofports[n_dests++] = dp->vp->ofport;
        }
        m->port.dests = m->dests;
        m->port.n_dests = n_dests;
        nic_model_maybe_eager(m);
        if (vp->openflow) {
            nic_model_add_flows(m, of_flows, n_of_flows);
        }
    }
    if (update) {
        nic_models_share(ms, p->state);
    }
    shash_destroy(&by_ls);
    free(next);
    free(nps);
    free(of_flows);
}

/* Gives 'm' the remote MACs of its logical switch in 'overlay' (NULL: none)
 * whose tunnels have an OpenFlow port, for the reference model: the plan
 * needs none. */
static void
nic_model_add_remotes(struct nic_model *m, const struct overlay *overlay)
{
    const struct overlay_switch *sw = (overlay
                                       ? overlay_find_switch(overlay, m->ls)
                                       : NULL);
    size_t n_macs = sw ? sw->n_macs : 0;

    m->remotes = iovp_xmalloc(MAX(n_macs, 1) * sizeof *m->remotes);
    for (size_t i = 0; i < n_macs; i++) {
        if (sw->macs[i].tunnel->ofport >= 0) {
            m->remotes[m->port.n_remotes++] = (struct xlate_offload_remote) {
                .mac = sw->macs[i].ea,
                .tunnel_ofport = sw->macs[i].tunnel->ofport,
            };
        }
    }
    m->port.remotes = m->remotes;
}

static const struct nic_model *
nic_models_find(const struct nic_models *ms, const char *name)
{
    for (size_t i = 0; i < ms->n; i++) {
        if (!strcmp(ms->models[i].name, name)) {
            return &ms->models[i];
        }
    }
    return NULL;
}

static void
nic_models_destroy(struct nic_models *ms)
{
    struct shash_node *node;

    for (size_t i = 0; i < ms->n; i++) {
        free(ms->models[i].ipv4);
        free(ms->models[i].dests);
        free(ms->models[i].dest_ofports);
        free(ms->models[i].dest_acls);
        free(ms->models[i].dest_names);
        free(ms->models[i].remotes);
        free(ms->models[i].flows);
        free(ms->models[i].oflows);
        free(ms->models[i].punts);
        free(ms->models[i].weights);
    }
    free(ms->models);
    SHASH_FOR_EACH (node, &ms->acls) {
        struct nic_acl *a = node->data;
        if (!a->kept) {
            nic_acl_destroy(a);
        }
    }
    shash_destroy(&ms->acls);
}

/* Returns a hash of what 'm''s rules are flattened from, but its ingress
 * entries' weights: its model, its ACLs by version (a cold destination's
 * ACL makes no rule); or 0 for a port in OpenFlow mode, whose rules are
 * flattened each time. */
static uint64_t
nic_model_hash(const struct xlate_nic_policy *p, const struct nic_model *m)
{
    const struct xlate_offload_port *port = &m->port;

    if (port->openflow) {
        return 0;
    }
    uint64_t h = iovp_hash_string64(m->device);
    h = iovp_hash_bytes64(&port->mac, sizeof port->mac, h);
    h = iovp_hash_bytes64(&port->check_ipv4, sizeof port->check_ipv4, h);
    h = iovp_hash_bytes64(port->ipv4, port->n_ipv4 * sizeof *port->ipv4, h);
    h = iovp_hash_bytes64(port->punts, port->n_punts * sizeof *port->punts,
                          h);
    uint64_t version = m->acl ? xlate_acl_version(p->xacl, m->acl) : 0;
    h = iovp_hash_bytes64(&version, sizeof version, h);
    for (size_t d = 0; d < port->n_dests; d++) {
        const struct xlate_offload_dest *dest = &port->dests[d];
        version = (m->dest_acls[d] && !dest->cold
                   ? xlate_acl_version(p->xacl, m->dest_acls[d]) : 0);
        h = iovp_hash_bytes64(&version, sizeof version, h);
        h = iovp_hash_bytes64(&dest->mac, sizeof dest->mac, h);
        h = iovp_hash_bytes64(&dest->out_port, sizeof dest->out_port, h);
        h = iovp_hash_bytes64(&dest->cold, sizeof dest->cold, h);
    }
    return h | 1;
}

/* Returns a hash of the weights of 'm''s ingress entries, and of the
 * traffic of its destinations. */
static uint64_t
nic_model_weights(const struct nic_model *m)
{
    const struct xlate_acl_effect *acl = &m->port.acl;
    uint64_t h = iovp_hash_bytes64(acl->weights,
                                   (acl->weights
                                    ? acl->n * sizeof *acl->weights : 0), 0);

    for (size_t d = 0; d < m->port.n_dests; d++) {
        h = iovp_hash_bytes64(&m->dests[d].traffic,
                              sizeof m->dests[d].traffic, h);
    }
    return h;
}

/* Stores in '*rulesp', '*originsp' and '*n' the rules of 'm' and where
 * they came from: those the state kept, if 'm' is as it was when they were
 * flattened, else flattened now.  Returns true if they are the state's
 * (not to be freed, nor changed). */
static bool
nic_model_rules(const struct xlate_nic_policy *p, const struct nic_model *m,
                struct planner_rule **rulesp,
                struct xlate_offload_origin **originsp, size_t *n)
{
    uint64_t hash = nic_model_hash(p, m);
    const struct nic_flat *f = (hash && p->state
                                ? shash_find_data(&p->state->flats, m->name)
                                : NULL);

    if (f && f->inputs == hash) {
        *rulesp = f->rules;
        *originsp = f->origins;
        *n = f->n;
        return true;
    }
    xlate_offload_port(&m->port, rulesp, n, originsp);
    return false;
}

/* Gives 'nc' the rules of model 'm', flattened, unless the state has them
 * flattened from the same inputs and weights, and 'nc' has them. */
static void
nic_model_update(struct nicctrl *nc, const struct xlate_nic_policy *p,
                 const struct nic_model *m)
{
    struct xlate_nic *xn = p->state;
    uint64_t hash = nic_model_hash(p, m);
    uint64_t weights = nic_model_weights(m);
    struct nic_flat *f = xn ? shash_find_data(&xn->flats, m->name) : NULL;

    if (f && hash && f->inputs == hash && f->weights == weights
        && nicctrl_has_port(nc, m->name)) {
        return;
    }

    struct planner_rule *rules;
    struct xlate_offload_origin *origins;
    size_t n;
    xlate_offload_port(&m->port, &rules, &n, &origins);
    if (xn && hash) {
        if (!f) {
            f = iovp_xzalloc(sizeof *f);
            shash_add(&xn->flats, m->name, f);
        }
        free(f->rules);
        free(f->origins);
        f->rules = iovp_xmemdup(rules, n * sizeof *rules);
        f->origins = origins;
        f->n = n;
        f->inputs = hash;
        f->weights = weights;
    } else {
        free(origins);
        if (f) {
            shash_find_and_delete(&xn->flats, m->name);
            nic_flat_destroy(f);
        }
    }
    nicctrl_set_rules(nc, m->name, m->device, rules, n);
}

/* Forgets what the state holds of ports and ACLs that no model of 'ms' has
 * any more. */
static void
nic_state_trim(struct xlate_nic *xn, const struct nic_models *ms)
{
    struct shash_node *node;

    SHASH_FOR_EACH_SAFE (node, &xn->flats) {
        if (!nic_models_find(ms, node->name)) {
            nic_flat_destroy(node->data);
            shash_delete(&xn->flats, node);
        }
    }
    SHASH_FOR_EACH_SAFE (node, &xn->acls) {
        if (!shash_find(&ms->acls, node->name)) {
            nic_acl_destroy(node->data);
            shash_delete(&xn->acls, node);
        }
    }
}

/* Gives 'nc' the rules of every VM port whose fast path the NIC can run,
 * from policy 'p', and forgets the others.  To be called before OVS is
 * sent the flows of the same policy (nicctrl withdraws what the change
 * affects at once). */
void
xlate_nic_update(struct nicctrl *nc, const struct xlate_nic_policy *p)
{
    struct nic_models ms;
    nic_models_build(nc, p, true, &ms);

    const char **names = iovp_xmalloc((ms.n + p->ports->n + 1)
                                      * sizeof *names);
    size_t n_names = 0;
    for (size_t i = 0; i < ms.n; i++) {
        size_t n;
        nic_model_update(nc, p, &ms.models[i]);
        names[n_names++] = ms.models[i].name;

        const struct port *vp = ports_find(p->ports, ms.models[i].name);
        struct offload_steer *steers = NULL;
        if (p->xsteer && vp) {
            xlate_steer_port(p->xsteer, vp, &steers, &n);
        } else {
            n = 0;
        }
        nicctrl_set_steering(nc, ms.models[i].name, steers, n);
        free(steers);
    }

    /* A port in OpenFlow mode without a fast path for now (the controller's
     * table 0 not known yet, or changing) has its device taken over empty:
     * a fast path that an iovpd before this one left there would go on
     * deciding by a table that the controller may change. */
    for (size_t i = 0; i < p->ports->n; i++) {
        const struct port *vp = p->ports->sorted[i];
        if (vp->openflow && vp->interface && vp->interface[0]
            && nicctrl_port_id(nc, vp->interface)
            && !nic_models_find(&ms, vp->name)) {
            nicctrl_set_rules(nc, vp->name, vp->interface, NULL, 0);
            names[n_names++] = vp->name;
        }
    }
    nicctrl_retain(nc, names, n_names);
    free(names);
    if (p->state) {
        nic_state_trim(p->state, &ms);
    }
    nic_models_destroy(&ms);
}

/* Adds 'packets' and 'bytes' to the counters of 'key' in 'map', a JSON
 * object of {"packets", "bytes"} objects. */
static void
nic_add_stats(json_t *map, const char *key, uint64_t packets,
              uint64_t bytes)
{
    json_t *counts = json_object_get(map, key);
    if (!counts) {
        counts = json_pack("{s:I, s:I}", "packets", (json_int_t) 0,
                           "bytes", (json_int_t) 0);
        json_object_set_new(map, key, counts);
    }
    json_object_set_new(counts, "packets", json_integer(
        json_integer_value(json_object_get(counts, "packets")) + packets));
    json_object_set_new(counts, "bytes", json_integer(
        json_integer_value(json_object_get(counts, "bytes")) + bytes));
}

static void
nic_add_entry_stats(json_t *map, const char *acl, const char *uuid,
                    uint64_t packets, uint64_t bytes)
{
    json_t *entries = json_object_get(map, acl);
    if (!entries) {
        entries = json_object();
        json_object_set_new(map, acl, entries);
    }
    nic_add_stats(entries, uuid, packets, bytes);
}

/* Calls 'cb' for each rule of each port's fast path that the NIC decided
 * frames by, as of the last read of its counters, with where the rule came
 * from and how many frames and bytes. */
typedef void nic_decided_cb(const struct nic_model *,
                            const struct planner_rule *,
                            const struct xlate_offload_origin *,
                            uint64_t packets, uint64_t bytes, void *aux);

static void
nic_for_each_decided(const struct nicctrl *nc,
                     const struct xlate_nic_policy *p,
                     const struct nic_models *ms, nic_decided_cb *cb,
                     void *aux)
{
    for (size_t i = 0; i < ms->n; i++) {
        const struct nic_model *m = &ms->models[i];
        struct planner_rule *rules;
        struct xlate_offload_origin *origins;
        size_t n;

        if (!nicctrl_has_port(nc, m->name)) {
            continue;
        }
        bool kept = nic_model_rules(p, m, &rules, &origins, &n);
        for (size_t r = 0; r < n; r++) {
            uint64_t packets, bytes;
            nicctrl_rule_stats(nc, m->name, rules[r].id, &packets, &bytes);
            if (packets) {
                cb(m, &rules[r], &origins[r], packets, bytes, aux);
            }
        }
        if (!kept) {
            free(rules);
            free(origins);
        }
    }
}

static void
nic_add_entry_decided(const struct nic_model *m,
                      const struct planner_rule *rule OVS_UNUSED,
                      const struct xlate_offload_origin *o,
                      uint64_t packets, uint64_t bytes, void *map)
{
    if (o->ingress >= 0 && m->acl) {
        nic_add_entry_stats(map, m->acl,
                            m->port.acl.entries[o->ingress].uuid, packets,
                            bytes);
    }
    if (o->dest >= 0 && o->egress >= 0 && m->dest_acls[o->dest]) {
        const struct xlate_offload_dest *d = &m->port.dests[o->dest];
        nic_add_entry_stats(map, m->dest_acls[o->dest],
                            d->acl.entries[o->egress].uuid, packets, bytes);
    }
}

/* Returns a new reference to {"ACL": {"ENTRY-UUID": {"packets",
 * "bytes"}}}: the frames the NIC decided, in every port's fast path, by
 * rules that came from each ACL entry (as the ingress entry, or as the
 * destination's egress entry), as of the last read of the NIC's
 * counters. */
json_t *
xlate_nic_entry_stats(const struct nicctrl *nc,
                      const struct xlate_nic_policy *p)
{
    json_t *map = json_object();
    struct nic_models ms;

    nic_models_build(nc, p, false, &ms);
    nic_for_each_decided(nc, p, &ms, nic_add_entry_decided, map);
    nic_models_destroy(&ms);
    return map;
}

/* Returns the flow of the 'n' flows 'flows' that frames of 'rule' take in
 * OVS: the highest priority of those whose match overlaps the rule's on the
 * fast path's fields and, if 'metadata' is nonzero, matches that logical
 * switch; a conjunction's counting flow (conj_id) first.  NULL if none. */
static const struct oflow *
nic_pick_flow(const struct oflow *const *flows, size_t n,
              const struct fp_match *rule, uint64_t metadata)
{
    const struct oflow *best = NULL;

    for (size_t i = 0; i < n; i++) {
        struct match m;
        struct fp_match fm;

        minimatch_expand(&flows[i]->data->match, &m);
        if (m.wc.masks.conj_id) {
            return flows[i];
        }
        if (metadata && m.wc.masks.metadata
            && m.flow.metadata != (ovs_be64) htobe64(metadata)) {
            continue;
        }
        fp_match_from_match(&m, &fm);
        if (fp_match_overlaps(&fm, rule)
            && (!best || flows[i]->priority > best->priority)) {
            best = flows[i];
        }
    }
    return best;
}

/* What the NIC decided by one installed flow. */
struct nic_flow_count {
    struct hmap_node node;      /* In 'counts->flows', by nic_flow_hash(). */
    const struct oflow *flow;
    uint64_t packets, bytes;
};

static uint32_t
nic_flow_hash(const struct oflow *f)
{
    uintptr_t p = (uintptr_t) f;

    return (uint32_t) (p >> 4) ^ (uint32_t) ((uint64_t) p >> 36);
}

static struct nic_flow_count *
nic_flow_count_find(const struct xlate_nic_counts *counts,
                    const struct oflow *f)
{
    struct nic_flow_count *c;

    HMAP_FOR_EACH_WITH_HASH (c, node, nic_flow_hash(f), &counts->flows) {
        if (c->flow == f) {
            return c;
        }
    }
    return NULL;
}

/* Stores in '*packets' and '*bytes' what the NIC decided by installed flow
 * 'f', as 'counts' (xlate_nic_flow_stats()'s) says, and returns true; or
 * returns false, with both 0, if it decided nothing by it. */
bool
xlate_nic_counts_get(const struct xlate_nic_counts *counts,
                     const struct oflow *f, uint64_t *packets,
                     uint64_t *bytes)
{
    const struct nic_flow_count *c = nic_flow_count_find(counts, f);

    *packets = c ? c->packets : 0;
    *bytes = c ? c->bytes : 0;
    return c != NULL;
}

/* Initializes 'counts' empty: the NIC decided nothing. */
void
xlate_nic_counts_init(struct xlate_nic_counts *counts)
{
    hmap_init(&counts->flows);
}

void
xlate_nic_counts_destroy(struct xlate_nic_counts *counts)
{
    struct nic_flow_count *c;

    HMAP_FOR_EACH_POP (c, node, &counts->flows) {
        free(c);
    }
    hmap_destroy(&counts->flows);
}

/* A growable array of flows. */
struct nic_flows {
    const struct oflow **flows;
    size_t n, allocated;
};

static void
nic_flows_add(struct nic_flows *fs, const struct oflow *f)
{
    if (fs->n >= fs->allocated) {
        fs->allocated = fs->allocated ? 2 * fs->allocated : 8;
        fs->flows = iovp_xrealloc(fs->flows,
                                  fs->allocated * sizeof *fs->flows);
    }
    fs->flows[fs->n++] = f;
}

static void
nic_count_flow(struct xlate_nic_counts *counts, const struct oflow *f,
               uint64_t packets, uint64_t bytes)
{
    if (f) {
        struct nic_flow_count *c = nic_flow_count_find(counts, f);
        if (!c) {
            c = iovp_xzalloc(sizeof *c);
            c->flow = f;
            hmap_insert(&counts->flows, &c->node, nic_flow_hash(f));
        }
        c->packets += packets;
        c->bytes += bytes;
    }
}

/* The installed flows that every port's frames may take: found by a walk
 * of every installed flow, kept in the state while the installed flows are
 * the same (ofctrl_installed_seqno()). */
struct nic_shared_flows {
    const struct oflow_table *installed;
    uint64_t seqno;                 /* 0: not kept. */
    struct nic_flows defaults[2];   /* Tables 10 and 40, priority 0. */
    struct nic_flows qos;           /* Table 20. */
    struct nic_flows lb;            /* Table 25. */
};

static void
nic_shared_flows_clear(struct nic_shared_flows *sf)
{
    free(sf->defaults[0].flows);
    free(sf->defaults[1].flows);
    free(sf->qos.flows);
    free(sf->lb.flows);
    memset(sf, 0, sizeof *sf);
}

static void
nic_shared_flows_destroy(struct nic_shared_flows *sf)
{
    if (sf) {
        nic_shared_flows_clear(sf);
        free(sf);
    }
}

/* Returns the shared flows of 'p->installed': those the state keeps, if
 * it has them for the same installed flows, else found now (and kept, if
 * 'p' has a state and an installed_seqno), in '*tmp' if not kept. */
static const struct nic_shared_flows *
nic_shared_flows(const struct xlate_nic_policy *p,
                 struct nic_shared_flows *tmp)
{
    struct nic_shared_flows *sf = tmp;
    if (p->state && p->installed_seqno) {
        if (!p->state->shared) {
            p->state->shared = iovp_xzalloc(sizeof *p->state->shared);
        }
        sf = p->state->shared;
    }
    if (sf != tmp && sf->installed == p->installed
        && sf->seqno == p->installed_seqno) {
        return sf;
    }

    const struct oflow *f;
    nic_shared_flows_clear(sf);
    OFLOW_TABLE_FOR_EACH (f, p->installed) {
        if (!f->priority && (f->table_id == PIPELINE_T_INGRESS_ACL
                             || f->table_id == PIPELINE_T_EGRESS_ACL)) {
            nic_flows_add(&sf->defaults[f->table_id
                                        == PIPELINE_T_EGRESS_ACL], f);
        } else if (f->table_id == PIPELINE_T_QOS) {
            nic_flows_add(&sf->qos, f);
        } else if (f->table_id == PIPELINE_T_LB) {
            nic_flows_add(&sf->lb, f);
        }
    }
    if (sf != tmp) {
        sf->installed = p->installed;
        sf->seqno = p->installed_seqno;
    }
    return sf;
}

/* What xlate_nic_flow_stats() needs while it visits the rules the NIC decided
 * frames by: the switch's flows, read once for each port. */
struct nic_flow_visit {
    const struct xlate_nic_policy *p;
    struct xlate_nic_counts *counts;
    const struct nic_shared_flows *shared;
    const struct nic_model *model;  /* The port the rest is of. */
    uint64_t metadata;              /* Its logical switch. */
    struct nic_flows classify;      /* Its table 0 flows. */
    struct nic_flows *dest_flows;   /* Each destination's table 30 and 50
                                     * flows, two arrays a destination. */
};

/* Reads into 'v' the flows of 'm' and of its destinations. */
static void
nic_flow_visit_port(struct nic_flow_visit *v, const struct nic_model *m)
{
    free(v->classify.flows);
    for (size_t i = 0; v->model && i < 2 * v->model->port.n_dests; i++) {
        free(v->dest_flows[i].flows);
    }
    free(v->dest_flows);
    memset(&v->classify, 0, sizeof v->classify);
    v->dest_flows = iovp_xzalloc(MAX(2 * m->port.n_dests, 1)
                                 * sizeof *v->dest_flows);
    v->model = m;

    v->metadata = pipeline_ls_metadata(m->ls);

    uint64_t cookie = ofctrl_cookie(pipeline_port_origin(m->name));
    const struct oflow *f;
    OFLOW_TABLE_FOR_EACH (f, v->p->installed) {
        if (f->table_id == PIPELINE_T_CLASSIFY && f->cookie == cookie) {
            nic_flows_add(&v->classify, f);
        } else if (f->table_id == PIPELINE_T_L2
                   || f->table_id == PIPELINE_T_OUTPUT) {
            for (size_t d = 0; d < m->port.n_dests; d++) {
                bool output = f->table_id == PIPELINE_T_OUTPUT;
                if (f->cookie == ofctrl_cookie(pipeline_port_origin(
                                                   m->dest_names[d]))) {
                    nic_flows_add(&v->dest_flows[2 * d + output], f);
                }
            }
        }
    }
}

/* Adds to 'v->counts' the flow of ACL entry 'uuid' of 'acl' (or the
 * default flow of the ACL's table, 'which' 0 for ingress and 1 for egress,
 * if 'uuid' is NULL) that 'rule''s frames take. */
static void
nic_count_acl_flow(struct nic_flow_visit *v, int which, const char *acl,
                   const char *uuid, const struct fp_match *rule,
                   uint64_t packets, uint64_t bytes)
{
    if (acl && uuid) {
        const struct oflow **flows;
        size_t n;
        xlate_acl_entry_installed(v->p->desired, v->p->installed, acl, uuid,
                                  &flows, &n);
        nic_count_flow(v->counts, nic_pick_flow(flows, n, rule, 0), packets,
                       bytes);
        free(flows);
    } else {
        const struct nic_flows *fs = &v->shared->defaults[which];
        nic_count_flow(v->counts, nic_pick_flow(fs->flows, fs->n, rule, 0),
                       packets, bytes);
    }
}

static void
nic_add_flow_decided(const struct nic_model *m,
                     const struct planner_rule *rule,
                     const struct xlate_offload_origin *o,
                     uint64_t packets, uint64_t bytes, void *v_)
{
    struct nic_flow_visit *v = v_;
    const struct fp_match *rm = &rule->match;

    if (v->model != m) {
        nic_flow_visit_port(v, m);
    }
    nic_count_flow(v->counts, nic_pick_flow(v->classify.flows, v->classify.n,
                                            rm, 0), packets, bytes);
    nic_count_acl_flow(v, 0, m->acl,
                       o->ingress >= 0 ? m->port.acl.entries[o->ingress].uuid
                       : NULL, rm, packets, bytes);
    if (o->dest < 0) {
        return;                 /* Dropped by the ingress ACL, or by the
                                 * controller's table 0 (whose flows are
                                 * not iovpd's). */
    }

    const struct xlate_offload_dest *d = &m->port.dests[o->dest];
    if (!m->port.openflow) {
        nic_count_flow(v->counts, nic_pick_flow(v->shared->qos.flows,
                                                v->shared->qos.n, rm,
                                                v->metadata),
                       packets, bytes);
        nic_count_flow(v->counts, nic_pick_flow(v->shared->lb.flows,
                                                v->shared->lb.n, rm,
                                                v->metadata),
                       packets, bytes);
        const struct nic_flows *l2 = &v->dest_flows[2 * o->dest];
        nic_count_flow(v->counts, nic_pick_flow(l2->flows, l2->n, rm,
                                                v->metadata),
                       packets, bytes);
    }
    nic_count_acl_flow(v, 1, m->dest_acls[o->dest],
                       o->egress >= 0 ? d->acl.entries[o->egress].uuid
                       : NULL, rm, packets, bytes);
    if (rule->fate == FP_FORWARD) {
        const struct nic_flows *out = &v->dest_flows[2 * o->dest + 1];
        nic_count_flow(v->counts, nic_pick_flow(out->flows, out->n, rm,
                                                v->metadata), packets, bytes);
    }
}

/* Initializes 'counts' with the frames the NIC decided, by the installed
 * flow of 'p->installed' that each would have taken in OVS, from each
 * port's classification (table 0) through QoS (table 20) to its
 * destination's output (table 50): the frames to count in those flows'
 * counters, besides OVS's own, so that each frame counts once wherever it
 * was decided.  (A frame that the NIC sends to OVS is OVS's to count, and
 * the NIC counts it in no rule as itself.)  The flows are the installed
 * table's: 'counts' is valid while it does not change.  Free it with
 * xlate_nic_counts_destroy(). */
void
xlate_nic_flow_stats(const struct nicctrl *nc,
                     const struct xlate_nic_policy *p,
                     struct xlate_nic_counts *counts)
{
    struct nic_shared_flows tmp = { .seqno = 0 };
    struct nic_flow_visit v = {
        .p = p, .counts = counts, .shared = nic_shared_flows(p, &tmp),
    };
    struct nic_models ms;

    xlate_nic_counts_init(counts);

    nic_models_build(nc, p, false, &ms);
    nic_for_each_decided(nc, p, &ms, nic_add_flow_decided, &v);

    free(v.classify.flows);
    for (size_t i = 0; v.model && i < 2 * v.model->port.n_dests; i++) {
        free(v.dest_flows[i].flows);
    }
    free(v.dest_flows);
    nic_shared_flows_clear(&tmp);
    nic_models_destroy(&ms);
}

/* What xlate_nic_openflow_stats() calls back. */
struct nic_openflow_visit {
    xlate_nic_flow_cb *cb;
    void *aux;
};

static void
nic_add_openflow_decided(const struct nic_model *m,
                         const struct planner_rule *rule,
                         const struct xlate_offload_origin *o,
                         uint64_t packets, uint64_t bytes, void *v_)
{
    const struct nic_openflow_visit *v = v_;

    if (m->port.openflow && o->flow >= 0) {
        v->cb(m->name, rule->id, m->oflows[o->flow], packets, bytes,
              v->aux);
    }
}

/* Calls 'cb' for each rule of each port's fast path, in OpenFlow mode,
 * that the NIC decided frames by for a flow of the controller's table 0
 * (nbswitch_table0() of 'p->openflow'): the port, the rule's id, the flow,
 * and how many frames and bytes, as of the last read of the NIC's
 * counters (nicctrl's, which keep counting for a rule id across
 * plans). */
void
xlate_nic_openflow_stats(const struct nicctrl *nc,
                         const struct xlate_nic_policy *p,
                         xlate_nic_flow_cb *cb, void *aux)
{
    struct nic_openflow_visit v = { .cb = cb, .aux = aux };
    struct nic_models ms;

    nic_models_build(nc, p, false, &ms);
    nic_for_each_decided(nc, p, &ms, nic_add_openflow_decided, &v);
    nic_models_destroy(&ms);
}

/* xorshift64*, seeded: verify-offload draws the same frames for a seed. */
static uint64_t
nic_random(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545f4914f6cdd1dULL;
}

/* Draws a frame from 'm' into 'f': half of them a random point of a random
 * rule of its fast path, the rest anywhere near it. */
static void
nic_draw(const struct nic_model *m, const struct planner_rule *rules,
         size_t n_rules, uint64_t *state, struct flow *f)
{
    struct fp_key k;
    uint64_t r = nic_random(state);

    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < sizeof k; i += 8) {
        uint64_t w = nic_random(state);
        memcpy((uint8_t *) &k + i, &w, MIN(8, sizeof k - i));
    }
    k.pad = 0;
    if (n_rules && r % 2) {
        const struct fp_match *mt = &rules[nic_random(state) % n_rules].match;
        struct fp_key rnd = k;
        for (size_t i = 0; i < sizeof k; i++) {
            uint8_t mask = ((const uint8_t *) &mt->mask)[i];
            ((uint8_t *) &k)[i] = ((((const uint8_t *) &mt->value)[i] & mask)
                                   | (((uint8_t *) &rnd)[i] & ~mask));
        }
    } else {
        memcpy(k.dl_src, m->port.mac.ea, 6);
        k.dl_type = htons(0x0800);
        k.vlan_tci = 0;
        size_t n_dsts = m->port.n_dests + m->port.n_remotes;
        if (n_dsts) {
            size_t d = (r >> 8) % n_dsts;
            memcpy(k.dl_dst, (d < m->port.n_dests
                              ? m->port.dests[d].mac.ea
                              : m->port.remotes[d - m->port.n_dests].mac.ea),
                   6);
        }
        if (m->port.n_ipv4 && (r >> 16) % 2) {
            k.nw_src = m->port.ipv4[(r >> 20) % m->port.n_ipv4];
        }
        static const uint8_t protos[] = { 6, 17, 1, 47 };
        k.nw_proto = protos[(r >> 24) % 4];
    }

    /* Only what a frame can carry. */
    memcpy(f->dl_dst.ea, k.dl_dst, 6);
    memcpy(f->dl_src.ea, k.dl_src, 6);
    f->vlans[0].tci = (k.vlan_tci & htons(FP_VLAN_CFI)
                       ? k.vlan_tci | htons(FP_VLAN_CFI) : 0);
    f->dl_type = ntohs(k.dl_type) >= 0x600 ? k.dl_type : htons(0x0800);
    if (f->dl_type != htons(0x0800)) {
        return;
    }
    f->nw_src = k.nw_src;
    f->nw_dst = k.nw_dst;
    f->nw_proto = k.nw_proto;
    f->nw_ttl = 64;
    switch (k.nw_proto) {
    case 6:
        f->tcp_flags = k.tcp_flags & htons(0x0fff);
        /* Fall through. */
    case 17:
    case 132:
        f->tp_src = k.tp_src;
        f->tp_dst = k.tp_dst;
        break;
    case 1:
        f->tp_src = htons(ntohs(k.tp_src) & 0xff);
        f->tp_dst = htons(ntohs(k.tp_dst) & 0xff);
        break;
    }
}

/* Appends 'f', a frame from OpenFlow port 'ofport', to 's' in the flow
 * syntax ofproto/trace takes (which wants tcp_src, not tp_src). */
static void
nic_format_flow(const struct flow *f, int ofport, struct ds *s)
{
    const uint8_t *src = f->dl_src.ea, *dst = f->dl_dst.ea;

    ds_put_format(s, "in_port=%d,dl_src=%02x:%02x:%02x:%02x:%02x:%02x,"
                  "dl_dst=%02x:%02x:%02x:%02x:%02x:%02x",
                  ofport, src[0], src[1], src[2], src[3], src[4], src[5],
                  dst[0], dst[1], dst[2], dst[3], dst[4], dst[5]);
    if (f->vlans[0].tci & htons(FP_VLAN_CFI)) {
        ds_put_format(s, ",dl_vlan=%d", ntohs(f->vlans[0].tci) & 0xfff);
    }
    if (f->dl_type != htons(0x0800)) {
        ds_put_format(s, ",dl_type=%#06x", ntohs(f->dl_type));
        return;
    }

    const uint8_t *ns = (const uint8_t *) &f->nw_src;
    const uint8_t *nd = (const uint8_t *) &f->nw_dst;
    ds_put_format(s, ",ip,nw_src=%d.%d.%d.%d,nw_dst=%d.%d.%d.%d,nw_proto=%d",
                  ns[0], ns[1], ns[2], ns[3], nd[0], nd[1], nd[2], nd[3],
                  f->nw_proto);
    switch (f->nw_proto) {
    case 6:
        ds_put_format(s, ",tcp_src=%d,tcp_dst=%d,tcp_flags=%#x",
                      ntohs(f->tp_src), ntohs(f->tp_dst),
                      ntohs(f->tcp_flags));
        break;
    case 17:
        ds_put_format(s, ",udp_src=%d,udp_dst=%d", ntohs(f->tp_src),
                      ntohs(f->tp_dst));
        break;
    case 132:
        ds_put_format(s, ",sctp_src=%d,sctp_dst=%d", ntohs(f->tp_src),
                      ntohs(f->tp_dst));
        break;
    case 1:
        ds_put_format(s, ",icmp_type=%d,icmp_code=%d", ntohs(f->tp_src),
                      ntohs(f->tp_dst));
        break;
    }
}

/* How many of a port's forward entries verify-offload sends a real frame
 * through. */
#define NIC_VERIFY_DELIVERIES 4

/* Checks 'port''s fast path by difference: 'count' frames drawn with
 * 'seed' (to the port's local destinations and the remote MACs of its logical
 * switch, or matching its rules) go through the NIC (the backend's classify)
 * and through the reference model; a frame the NIC drops or forwards must get
 * that fate from the reference.  Stores in '*resultp' a new reference to a
 * JSON object with the counts, the first disagreements, and a sample of frames
 * with the reference's fate, for the caller to check against OVS's
 * ofproto/trace, and whether frames that up to NIC_VERIFY_DELIVERIES of its
 * forward entries forward arrive (nicctrl_verify_delivery()).  Returns NULL if
 * successful, otherwise (no such port, or no fast path for it in the NIC) a
 * malloc()'d error message for the caller to free, with '*resultp' set to
 * NULL. */
char *
xlate_nic_verify(struct nicctrl *nc, const struct xlate_nic_policy *p,
                 const char *port, size_t count, uint64_t seed,
                 json_t **resultp)
{
    struct nic_models ms;

    *resultp = NULL;
    nic_models_build(nc, p, false, &ms);

    struct nic_model *m = NULL;
    for (size_t i = 0; i < ms.n && !m; i++) {
        if (!strcmp(ms.models[i].name, port)) {
            m = &ms.models[i];
        }
    }
    if (!m || !nicctrl_has_port(nc, port)) {
        nic_models_destroy(&ms);
        return iovp_xstrdup("no such port, or its fast path is not in the "
                            "NIC (an untagged binding or OpenFlow mode, a "
                            "known MAC and a network device are needed)");
    }
    nic_model_add_remotes(m, p->overlay);

    struct planner_rule *rules;
    size_t n_rules;
    xlate_offload_port(&m->port, &rules, &n_rules, NULL);

    uint64_t state = seed * 2 + 1;
    size_t decided = 0, disagreements = 0;
    json_t *examples = json_array();
    json_t *sample = json_array();
    for (size_t i = 0; i < count; i++) {
        struct flow f;
        uint8_t frame[128];
        struct fp_entry e;
        struct reference_verdict v;

        nic_draw(m, rules, n_rules, &state, &f);
        size_t len = fp_frame_from_flow(&f, frame, sizeof frame);
        if (nicctrl_classify(nc, port, frame, len, &e)) {
            e.fate = FP_TO_OVS;
        }
        reference_evaluate(&m->port, &f, &v);

        int out_ofport = v.fate == REFERENCE_TUNNEL ? v.out_port : 0;
        for (size_t d = 0; d < m->port.n_dests; d++) {
            if (v.fate == REFERENCE_FORWARD
                && m->port.dests[d].out_port == v.out_port) {
                out_ofport = m->dest_ofports[d];
            }
        }
        struct ds s = DS_EMPTY_INITIALIZER;
        nic_format_flow(&f, m->ofport, &s);
        if (i % MAX(count / 50, 1) == 0
            && v.fate != REFERENCE_OTHER) {
            json_array_append_new(sample, json_pack(
                "{s:s, s:s, s:i}", "flow", ds_cstr(&s),
                "reference", reference_fate_to_string(v.fate),
                "out_port", out_ofport));
        }
        if (e.fate != FP_TO_OVS) {
            decided++;
            if (!reference_agrees(&v, &e)) {
                disagreements++;
                if (json_array_size(examples) < 10) {
                    struct ds es = DS_EMPTY_INITIALIZER;
                    fp_entry_format(&e, &es);
                    json_array_append_new(examples, json_pack(
                        "{s:s, s:s, s:s, s:s}", "flow", ds_cstr(&s),
                        "nic", ds_cstr(&es),
                        "reference", reference_fate_to_string(v.fate),
                        "why", v.why));
                    ds_destroy(&es);
                }
            }
        }
        ds_destroy(&s);
    }
    free(rules);
    nic_models_destroy(&ms);
    *resultp = json_pack("{s:s, s:I, s:I, s:I, s:o, s:o, s:o}",
                         "port", port,
                         "frames", (json_int_t) count,
                         "decided_in_nic", (json_int_t) decided,
                         "disagreements", (json_int_t) disagreements,
                         "examples", examples,
                         "sample", sample,
                         "delivery", nicctrl_verify_delivery(
                             nc, port, NIC_VERIFY_DELIVERIES));
    return NULL;
}
