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

#include "agent/xlate-offload.h"

#include <stdlib.h>
#include <string.h>

#include <openvswitch/hmap.h>
#include <openvswitch/match.h>
#include <openvswitch/ofp-flow.h>

#include "agent/acl.h"
#include "agent/xlate-acl.h"
#include "lib/util.h"
#include "offload/planner.h"

/* One entry of an effective ACL, as fast-path matches. */
struct xo_item {
    int index;                  /* In the ACL's entries, or -1. */
    int priority;               /* OpenFlow priority, -1 for "none". */
    bool permit;
    double weight;              /* Its traffic in OVS. */
    struct fp_match *matches;
    bool *exact;
    size_t n;
};

struct xo_rules {
    struct planner_rule *rules;
    struct xlate_offload_origin *origins;
    size_t n, allocated;
    struct xlate_offload_origin origin;     /* Of the rules added now. */
};

static void
xo_item_catchall(struct xo_item *item, int priority, bool permit)
{
    item->index = -1;
    item->weight = 0;
    item->priority = priority;
    item->permit = permit;
    item->matches = iovp_xmalloc(sizeof *item->matches);
    item->exact = iovp_xmalloc(sizeof *item->exact);
    fp_match_init_catchall(&item->matches[0]);
    item->exact[0] = true;
    item->n = 1;
}

static void
xo_item_entry(struct xo_item *item, const struct acl_entry *e, int priority)
{
    struct match *matches;
    size_t n;

    xlate_acl_entry_matches(e, &matches, &n);
    item->priority = priority;
    item->permit = e->permit;
    item->matches = iovp_xmalloc(MAX(n, 1) * sizeof *item->matches);
    item->exact = iovp_xmalloc(MAX(n, 1) * sizeof *item->exact);
    item->n = n;
    for (size_t i = 0; i < n; i++) {
        item->exact[i] = fp_match_from_match(&matches[i], &item->matches[i]);
    }
    free(matches);
}

static int
xo_item_compare(const void *a_, const void *b_)
{
    const struct xo_item *a = a_, *b = b_;

    return a->priority > b->priority ? -1 : a->priority < b->priority;
}

/* Stores in '*itemsp' and '*n' the entries of 'acl' in direction
 * 'ingress' in first-match order, ending in the permit of "no entry
 * matched". */
static void
xo_items(const struct xlate_acl_effect *acl, bool ingress,
         struct xo_item **itemsp, size_t *n)
{
    struct xo_item *items = iovp_xmalloc((acl->n + 2) * sizeof *items);
    size_t k = 0;

    if (acl->deny_all) {
        xo_item_catchall(&items[k++], XLATE_ACL_FAIL_CLOSED, false);
    } else {
        int lowest = XLATE_ACL_TOP + 1;
        bool beyond = false;
        for (size_t i = 0; i < acl->n; i++) {
            const struct acl_entry *e = &acl->entries[i];
            if (e->ingress != ingress) {
                continue;
            } else if (acl->priorities[i] < 0) {
                beyond = true;
            } else {
                xo_item_entry(&items[k], e, acl->priorities[i]);
                items[k].index = i;
                items[k++].weight = acl->weights ? acl->weights[i] : 0;
                lowest = MIN(lowest, acl->priorities[i]);
            }
        }
        if (beyond) {
            /* What does not fit in the priority space is denied below the
             * last entry that does (see xlate-acl.h). */
            xo_item_catchall(&items[k++], lowest - 1, false);
        }
    }
    xo_item_catchall(&items[k++], -1, true);
    qsort(items, k, sizeof *items, xo_item_compare);
    *itemsp = items;
    *n = k;
}

static void
xo_items_destroy(struct xo_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(items[i].matches);
        free(items[i].exact);
    }
    free(items);
}

/* The rule priority of ingress priority 'in' and egress position 'out'. */
static uint32_t
xo_priority(int in, uint32_t out)
{
    return ((uint32_t) (in + 2) << 16) | out;
}

static void
xo_add(struct xo_rules *rs, const struct fp_match *m, bool exact,
       uint32_t priority, enum fp_fate fate, uint32_t out_port,
       double weight)
{
    if (rs->n >= rs->allocated) {
        rs->allocated = MAX(64, 2 * rs->allocated);
        rs->rules = iovp_xrealloc(rs->rules,
                                  rs->allocated * sizeof *rs->rules);
        rs->origins = iovp_xrealloc(rs->origins,
                                    rs->allocated * sizeof *rs->origins);
    }
    rs->origins[rs->n] = rs->origin;
    rs->rules[rs->n++] = (struct planner_rule) {
        .match = *m,
        .exact = exact,
        .priority = priority,
        .fate = fate,
        .out_port = fate == FP_FORWARD ? out_port : 0,
        .weight = weight,
    };
}

/* The match of untagged frames. */
static void
xo_untagged(struct fp_match *m)
{
    fp_match_init_catchall(m);
    m->mask.vlan_tci = htons(FP_VLAN_CFI);
}

/* The matches of the IPv4 frames anti-spoofing admits from 'port', in
 * '*guardsp' (malloc()'d) and '*n': from its MAC, and from each of its IPv4
 * addresses when it checks them (none if it has none). */
static void
xo_guards(const struct xlate_offload_port *port, struct fp_match **guardsp,
          size_t *n)
{
    struct fp_match g;

    xo_untagged(&g);
    memcpy(g.value.dl_src, port->mac.ea, 6);
    memset(g.mask.dl_src, 0xff, 6);
    g.value.dl_type = htons(0x0800);    /* IPv4. */
    g.mask.dl_type = OVS_BE16_MAX;

    *guardsp = iovp_xmalloc(MAX(port->n_ipv4, 1) * sizeof **guardsp);
    *n = 0;
    if (!port->check_ipv4) {
        (*guardsp)[(*n)++] = g;
        return;
    }
    for (size_t i = 0; i < port->n_ipv4; i++) {
        g.value.nw_src = port->ipv4[i];
        g.mask.nw_src = OVS_BE32_MAX;
        (*guardsp)[(*n)++] = g;
    }
}

/* Gives each rule of 'rs' an id: a hash of all of it (priority, match,
 * exactness, fate), made unique. */
static void
xo_assign_ids(struct xo_rules *rs)
{
    size_t size = 1;
    while (size < 2 * rs->n + 2) {
        size *= 2;
    }
    uint32_t *used = iovp_xzalloc(size * sizeof *used);

    for (size_t i = 0; i < rs->n; i++) {
        struct planner_rule *r = &rs->rules[i];
        uint32_t basis = (r->priority ^ ((uint32_t) r->fate << 28)
                          ^ ((uint32_t) r->exact << 31) ^ r->out_port);
        uint32_t id = fp_key_hash(&r->match.value,
                                  fp_key_hash(&r->match.mask, basis));
        for (;;) {
            id &= ~PLANNER_COVER_ID;
            id += !id;
            size_t slot = id & (size - 1);
            while (used[slot] && used[slot] != id) {
                slot = (slot + 1) & (size - 1);
            }
            if (!used[slot]) {
                used[slot] = id;
                break;
            }
            id = id * 0x9e3779b1u + 1;  /* Taken: try another. */
        }
        r->id = id;
    }
    free(used);
}

/* A port's ACLs as items, in first-match order, and the matches of
 * what its anti-spoofing admits. */
struct xo_acls {
    struct xo_item *ingress;    /* Its ingress ACL's. */
    size_t n_ingress;
    struct xo_item **egress;    /* Each destination's egress ACL's, or */
    size_t *n_egress;           /* NULL for one known only as flows, or
                                 * cold. */
    size_t n_warm;              /* Destinations that are not cold, */
    double traffic;             /* and the sum of their 'traffic'. */
    size_t max_egress;          /* The most items of one of those. */
    struct fp_match *guards;    /* xo_guards(). */
    size_t n_guards;
};

static void
xo_acls_init(const struct xlate_offload_port *port, struct xo_acls *a)
{
    xo_items(&port->acl, true, &a->ingress, &a->n_ingress);
    a->egress = iovp_xzalloc(MAX(port->n_dests, 1) * sizeof *a->egress);
    a->n_egress = iovp_xzalloc(MAX(port->n_dests, 1) * sizeof *a->n_egress);
    a->max_egress = 0;
    a->n_warm = 0;
    a->traffic = 0;
    for (size_t d = 0; d < port->n_dests; d++) {
        a->n_warm += !port->dests[d].cold;
        a->traffic += port->dests[d].cold ? 0 : port->dests[d].traffic;
        if (!port->dests[d].acl.unknown && !port->dests[d].cold) {
            xo_items(&port->dests[d].acl, false, &a->egress[d],
                     &a->n_egress[d]);
            a->max_egress = MAX(a->max_egress, a->n_egress[d]);
        }
    }
    xo_guards(port, &a->guards, &a->n_guards);
}

static void
xo_acls_destroy(const struct xlate_offload_port *port, struct xo_acls *a)
{
    for (size_t d = 0; d < port->n_dests; d++) {
        if (a->egress[d]) {
            xo_items_destroy(a->egress[d], a->n_egress[d]);
        }
    }
    free(a->egress);
    free(a->n_egress);
    xo_items_destroy(a->ingress, a->n_ingress);
    free(a->guards);
}

/* A port in OpenFlow mode. */

/* One of the controller's flows, as the fast path sees it for one port. */
struct xo_flow {
    size_t index;               /* In the port's 'flows'. */
    struct fp_match match;
    bool exact;
    enum xlate_offload_fate fate;
    size_t dest;
    bool ambiguous;             /* Another of its priority overlaps it with
                                 * another fate: OVS picks one of them. */
};

static int
xo_flow_compare_mask(const void *a_, const void *b_)
{
    const struct xo_flow *a = a_, *b = b_;

    return memcmp(&a->match.mask, &b->match.mask, sizeof a->match.mask);
}

static bool
xo_flow_same_fate(const struct xo_flow *a, const struct xo_flow *b)
{
    return (a->fate == b->fate
            && (a->fate != XLATE_OFFLOAD_OUTPUT || a->dest == b->dest));
}

/* Marks ambiguous the flows of 'fs', 'n' flows of one priority, that
 * overlap another of them with another fate.  Two matches overlap if their
 * values agree on the bits both masks have: the flows are taken a mask
 * against another, those of one mask hashed by their value on the bits
 * that both masks have. */
static void
xo_flows_mark_ambiguous(struct xo_flow *fs, size_t n)
{
    struct xo_flow_node {
        struct hmap_node node;
        struct xo_flow *flow;
        struct fp_key key;
    };

    qsort(fs, n, sizeof *fs, xo_flow_compare_mask);
    for (size_t i = 0; i < n; ) {
        size_t i_end = i + 1;
        while (i_end < n && !xo_flow_compare_mask(&fs[i], &fs[i_end])) {
            i_end++;
        }
        for (size_t j = i; j < n; ) {
            size_t j_end = j + 1;
            while (j_end < n && !xo_flow_compare_mask(&fs[j], &fs[j_end])) {
                j_end++;
            }

            struct fp_key common;
            fp_key_and(&fs[i].match.mask, &fs[j].match.mask, &common);
            struct hmap map = HMAP_INITIALIZER(&map);
            struct xo_flow_node *nodes = iovp_xmalloc((i_end - i)
                                                      * sizeof *nodes);
            for (size_t k = i; k < i_end; k++) {
                struct xo_flow_node *node = &nodes[k - i];
                node->flow = &fs[k];
                fp_key_and(&fs[k].match.value, &common, &node->key);
                hmap_insert(&map, &node->node, fp_key_hash(&node->key, 0));
            }
            for (size_t k = j; k < j_end; k++) {
                struct fp_key key;
                fp_key_and(&fs[k].match.value, &common, &key);

                struct xo_flow_node *hit;
                HMAP_FOR_EACH_WITH_HASH (hit, node, fp_key_hash(&key, 0),
                                         &map) {
                    if (hit->flow != &fs[k]
                        && fp_key_equal(&hit->key, &key)
                        && !xo_flow_same_fate(hit->flow, &fs[k])) {
                        hit->flow->ambiguous = true;
                        fs[k].ambiguous = true;
                    }
                }
            }
            hmap_destroy(&map);
            free(nodes);
            j = j_end;
        }
        i = i_end;
    }
}

/* Stores in '*flowsp' and '*n' the flows of 'port''s table 0 that can
 * match its frames, in descending priority, each as fast-path match. */
static void
xo_flows(const struct xlate_offload_port *port, struct xo_flow **flowsp,
         size_t *n)
{
    struct xo_flow *fs = iovp_xmalloc(MAX(port->n_flows, 1) * sizeof *fs);
    size_t k = 0;

    for (size_t i = 0; i < port->n_flows; i++) {
        const struct xlate_offload_flow *pf = &port->flows[i];
        struct match m;

        minimatch_expand(pf->match, &m);
        if ((m.wc.masks.in_port.ofp_port
             && m.flow.in_port.ofp_port
                != (OVS_FORCE ofp_port_t) port->ofport)
            || m.flow.metadata
            || m.flow.packet_type) {    /* Not Ethernet (PT_ETH, 0). */
            continue;           /* Never a frame of this port. */
        }
        m.wc.masks.in_port.ofp_port = 0;
        m.flow.in_port.ofp_port = 0;
        m.wc.masks.metadata = 0;
        m.wc.masks.packet_type = 0;

        struct xo_flow *f = &fs[k++];
        f->index = i;
        f->exact = fp_match_from_match(&m, &f->match);
        f->fate = pf->fate;
        f->dest = pf->dest;
        f->ambiguous = false;
    }
    for (size_t i = 0; i < k; ) {
        size_t j = i + 1;
        while (j < k && (port->flows[fs[j].index].priority
                         == port->flows[fs[i].index].priority)) {
            j++;
        }
        if (j - i > 1) {
            xo_flows_mark_ambiguous(&fs[i], j - i);
        }
        i = j;
    }
    *flowsp = fs;
    *n = k;
}

/* The rule priority of ingress rank 'in', controller priority 'flow' (-1:
 * below every flow) and egress rank 'out' (see xo_openflow_port()). */
static uint32_t
xo_of_priority(size_t in, int flow, uint32_t out)
{
    return ((uint32_t) in << 25) | ((uint32_t) (flow + 1) << 8) | out;
}

#define XO_OF_MAX_INGRESS 127
#define XO_OF_MAX_EGRESS 254
#define XO_OF_MAX_RULES 65536

/* Adds to 'rs' the rules of 'port', in OpenFlow mode: as for a port in
 * hardware_vtep mode, with the controller's table 0 in place of the L2
 * lookup.  A rule's priority has the ingress entry's rank (first 127 the
 * highest) in its top 7 bits, the controller's priority plus 1 in the next
 * 17, the egress entry's rank (254 the first) in the low 8; a port with
 * more entries than that in an ACL, or more than XO_OF_MAX_RULES rules,
 * has no rules.  A flow that is not a
 * drop or an output to a local destination, or that is ambiguous, sends
 * its frames to OVS. */
static void
xo_openflow_port(const struct xlate_offload_port *port, struct xo_rules *rs)
{
    struct xo_acls a;
    xo_acls_init(port, &a);
    bool fits = (a.n_ingress <= XO_OF_MAX_INGRESS
                 && a.max_egress <= XO_OF_MAX_EGRESS);

    struct xo_flow *flows;
    size_t n_flows;
    xo_flows(port, &flows, &n_flows);

    struct fp_match untagged;
    xo_untagged(&untagged);
    size_t first = rs->n;
    for (size_t i = 0; fits && i < a.n_ingress; i++) {
        const struct xo_item *in = &a.ingress[i];
        size_t in_rank = a.n_ingress - i;
        if (rs->n - first > XO_OF_MAX_RULES) {
            break;
        }
        for (size_t k = 0; k < in->n; k++) {
            struct fp_match im;
            if (!fp_match_intersect(&in->matches[k], &untagged, &im)) {
                continue;
            }
            double share = in->weight / in->n;
            rs->origin = (struct xlate_offload_origin) {
                .ingress = in->index, .dest = -1, .egress = -1, .flow = -1,
            };
            if (!in->permit) {
                xo_add(rs, &im, in->exact[k],
                       xo_of_priority(in_rank, 0xffff, 0xff), FP_DROP, 0,
                       share);
                continue;
            }
            share /= MAX(n_flows, 1);
            for (size_t g = 0; g < a.n_guards; g++) {
                struct fp_match base;
                if (!fp_match_intersect(&im, &a.guards[g], &base)) {
                    continue;
                }
                for (size_t fi = 0; fi < n_flows; fi++) {
                    const struct xo_flow *f = &flows[fi];
                    if (rs->n - first > XO_OF_MAX_RULES) {
                        break;
                    }
                    const struct xlate_offload_flow *pf
                        = &port->flows[f->index];
                    struct fp_match fm;
                    if (!fp_match_intersect(&base, &f->match, &fm)) {
                        continue;
                    }
                    bool exact = in->exact[k] && f->exact;
                    rs->origin = (struct xlate_offload_origin) {
                        .ingress = in->index, .dest = -1, .egress = -1,
                        .flow = f->index,
                    };
                    if (f->ambiguous || f->fate == XLATE_OFFLOAD_OTHER
                        || (f->fate == XLATE_OFFLOAD_OUTPUT
                            && !a.egress[f->dest])) {
                        xo_add(rs, &fm, exact,
                               xo_of_priority(in_rank, pf->priority, 0xff),
                               FP_TO_OVS, 0, 0);
                    } else if (f->fate == XLATE_OFFLOAD_DROP) {
                        xo_add(rs, &fm, exact,
                               xo_of_priority(in_rank, pf->priority, 0xff),
                               FP_DROP, 0, share);
                    } else {
                        const struct xlate_offload_dest *dest
                            = &port->dests[f->dest];
                        for (size_t j = 0; j < a.n_egress[f->dest]; j++) {
                            const struct xo_item *out = &a.egress[f->dest][j];
                            rs->origin.dest = f->dest;
                            rs->origin.egress = out->index;
                            for (size_t l = 0; l < out->n; l++) {
                                struct fp_match r;
                                if (fp_match_intersect(&fm, &out->matches[l],
                                                       &r)) {
                                    xo_add(rs, &r, exact && out->exact[l],
                                           xo_of_priority(
                                               in_rank, pf->priority,
                                               a.n_egress[f->dest] - j),
                                           out->permit ? FP_FORWARD
                                           : FP_DROP,
                                           dest->out_port, share);
                                }
                            }
                        }
                    }
                }
            }
            rs->origin = (struct xlate_offload_origin) {
                .ingress = in->index, .dest = -1, .egress = -1, .flow = -1,
            };
            xo_add(rs, &im, in->exact[k], xo_of_priority(in_rank, -1, 0),
                   FP_TO_OVS, 0, 0);
        }
    }

    if (rs->n - first > XO_OF_MAX_RULES) {
        rs->n = first;          /* Too many for the planner: OVS's. */
    }

    xo_acls_destroy(port, &a);
    free(flows);
}

/* Stores in '*rulesp' (malloc()'d) and '*n' the rules of 'port''s pipeline
 * for the planner: see the top of xlate-offload.h. */
void
xlate_offload_port(const struct xlate_offload_port *port,
                   struct planner_rule **rulesp, size_t *n,
                   struct xlate_offload_origin **originsp)
{
    struct xo_rules rs = { .rules = NULL };

    *rulesp = NULL;
    *n = 0;
    if (originsp) {
        *originsp = NULL;
    }
    static const struct eth_addr zero = ETH_ADDR_C(00,00,00,00,00,00);
    if (port->acl.unknown || !memcmp(port->mac.ea, zero.ea, 6)) {
        return;                 /* Nothing of it known well enough. */
    }
    rs.origin = (struct xlate_offload_origin) {
        .ingress = -1, .dest = -1, .egress = -1, .flow = -1,
    };
    for (size_t i = 0; i < port->n_punts; i++) {
        xo_add(&rs, &port->punts[i], false, UINT32_MAX, FP_TO_OVS, 0, 0);
    }
    if (port->openflow) {
        xo_openflow_port(port, &rs);
        goto done;
    }

    struct xo_acls a;
    xo_acls_init(port, &a);

    struct fp_match untagged;
    xo_untagged(&untagged);
    for (size_t i = 0; i < a.n_ingress; i++) {
        const struct xo_item *in = &a.ingress[i];
        for (size_t k = 0; k < in->n; k++) {
            struct fp_match im;
            if (!fp_match_intersect(&in->matches[k], &untagged, &im)) {
                continue;
            }
            double share = in->weight / in->n;
            rs.origin = (struct xlate_offload_origin) {
                .ingress = in->index, .dest = -1, .egress = -1,
                .flow = -1,
            };
            if (!in->permit) {
                xo_add(&rs, &im, in->exact[k], xo_priority(in->priority,
                                                           0xffff),
                       FP_DROP, 0, share);
                continue;
            }
            for (size_t d = 0; d < port->n_dests; d++) {
                const struct xlate_offload_dest *dest = &port->dests[d];
                double dest_share = (a.traffic > 0
                                     ? share * dest->traffic / a.traffic
                                     : share / MAX(a.n_warm, 1));
                for (size_t g = 0; g < a.n_guards && a.egress[d]; g++) {
                    struct fp_match base;
                    if (!fp_match_intersect(&im, &a.guards[g], &base)) {
                        continue;
                    }
                    memcpy(base.value.dl_dst, dest->mac.ea, 6);
                    memset(base.mask.dl_dst, 0xff, 6);
                    if (!fp_match_overlaps(&base, &im)) {
                        continue;   /* 'im' matches another dl_dst. */
                    }
                    for (size_t j = 0; j < a.n_egress[d]; j++) {
                        const struct xo_item *out = &a.egress[d][j];
                        rs.origin = (struct xlate_offload_origin) {
                            .ingress = in->index, .dest = d,
                            .egress = out->index, .flow = -1,
                        };
                        for (size_t l = 0; l < out->n; l++) {
                            struct fp_match r;
                            if (fp_match_intersect(&base, &out->matches[l],
                                                   &r)) {
                                xo_add(&rs, &r, in->exact[k] && out->exact[l],
                                       xo_priority(in->priority,
                                                   out->priority + 2),
                                       out->permit ? FP_FORWARD : FP_DROP,
                                       dest->out_port, dest_share);
                            }
                        }
                    }
                }
            }
            rs.origin = (struct xlate_offload_origin) {
                .ingress = in->index, .dest = -1, .egress = -1,
                .flow = -1,
            };
            xo_add(&rs, &im, in->exact[k], xo_priority(in->priority, 0),
                   FP_TO_OVS, 0, 0);
        }
    }

    xo_acls_destroy(port, &a);

done:
    xo_assign_ids(&rs);
    *rulesp = rs.rules;
    *n = rs.n;
    if (originsp) {
        *originsp = rs.origins;
    } else {
        free(rs.origins);
    }
}

/* Parses 'text', a match of frames in ovs-ofctl's syntax as iovp's tables
 * give one (Iovp_Capture, Iovp_Steering; "" matches every frame), into
 * '*fp' for the fast path, and sets '*fp_ok' if the fast path can say it.
 * Returns NULL, or why 'text' is not such a match (malloc()'d). */
char *
xlate_offload_parse_match(const char *text, struct fp_match *fp,
                          bool *fp_ok)
{
    struct ofputil_flow_mod fm;
    enum ofputil_protocol usable;

    *fp_ok = false;
    /* Flows put actions after the match: it may have none. */
    if (strstr(text, "action")) {
        return iovp_xasprintf("its match \"%s\" may not have actions",
                              text);
    }
    char *flow = iovp_xasprintf("%s actions=drop", text);
    char *error = parse_ofp_str(&fm, OFPFC_ADD, flow, NULL, NULL, &usable);
    free(flow);
    if (error) {
        char *why = iovp_xasprintf("its match \"%s\" does not parse: %s",
                                   text, error);
        free(error);
        return why;
    }

    struct match m;
    minimatch_expand(&fm.match, &m);
    minimatch_destroy(&fm.match);
    free(fm.ofpacts);
    bool regs = false;
    for (size_t i = 0; i < FLOW_N_REGS; i++) {
        regs = regs || m.wc.masks.regs[i];
    }
    if (regs || m.wc.masks.in_port.ofp_port || m.wc.masks.metadata
        || fm.table_id != 0xff || fm.priority != OFP_DEFAULT_PRIORITY
        || fm.new_cookie || fm.cookie_mask || fm.idle_timeout
        || fm.hard_timeout || fm.importance || fm.flags) {
        return iovp_xasprintf("its match \"%s\" may not name a table, a "
                              "priority, a cookie, timeouts, flags, "
                              "in_port, metadata or registers", text);
    }
    *fp_ok = fp_match_from_match(&m, fp);
    return NULL;
}
