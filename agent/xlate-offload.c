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

#include <openvswitch/match.h>

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

    struct xo_item *ingress;
    size_t n_ingress;
    xo_items(&port->acl, true, &ingress, &n_ingress);

    struct xo_item **egress = iovp_xzalloc(MAX(port->n_dests, 1)
                                           * sizeof *egress);
    size_t *n_egress = iovp_xzalloc(MAX(port->n_dests, 1)
                                    * sizeof *n_egress);
    for (size_t d = 0; d < port->n_dests; d++) {
        if (!port->dests[d].acl.unknown) {
            xo_items(&port->dests[d].acl, false, &egress[d], &n_egress[d]);
        }
    }

    struct fp_match *guards;
    size_t n_guards;
    xo_guards(port, &guards, &n_guards);

    struct fp_match untagged;
    xo_untagged(&untagged);
    for (size_t i = 0; i < n_ingress; i++) {
        const struct xo_item *in = &ingress[i];
        for (size_t k = 0; k < in->n; k++) {
            struct fp_match im;
            if (!fp_match_intersect(&in->matches[k], &untagged, &im)) {
                continue;
            }
            double share = in->weight / in->n;
            rs.origin = (struct xlate_offload_origin) {
                .ingress = in->index, .dest = -1, .egress = -1,
            };
            if (!in->permit) {
                xo_add(&rs, &im, in->exact[k], xo_priority(in->priority,
                                                           0xffff),
                       FP_DROP, 0, share);
                continue;
            }
            share /= MAX(port->n_dests, 1);
            for (size_t d = 0; d < port->n_dests; d++) {
                const struct xlate_offload_dest *dest = &port->dests[d];
                for (size_t g = 0; g < n_guards && egress[d]; g++) {
                    struct fp_match base;
                    if (!fp_match_intersect(&im, &guards[g], &base)) {
                        continue;
                    }
                    memcpy(base.value.dl_dst, dest->mac.ea, 6);
                    memset(base.mask.dl_dst, 0xff, 6);
                    if (!fp_match_overlaps(&base, &im)) {
                        continue;   /* 'im' matches another dl_dst. */
                    }
                    for (size_t j = 0; j < n_egress[d]; j++) {
                        const struct xo_item *out = &egress[d][j];
                        rs.origin = (struct xlate_offload_origin) {
                            .ingress = in->index, .dest = d,
                            .egress = out->index,
                        };
                        for (size_t l = 0; l < out->n; l++) {
                            struct fp_match r;
                            if (fp_match_intersect(&base, &out->matches[l],
                                                   &r)) {
                                xo_add(&rs, &r, in->exact[k] && out->exact[l],
                                       xo_priority(in->priority,
                                                   out->priority + 2),
                                       out->permit ? FP_FORWARD : FP_DROP,
                                       dest->out_port, share);
                            }
                        }
                    }
                }
            }
            rs.origin = (struct xlate_offload_origin) {
                .ingress = in->index, .dest = -1, .egress = -1,
            };
            xo_add(&rs, &im, in->exact[k], xo_priority(in->priority, 0),
                   FP_TO_OVS, 0, 0);
        }
    }

    xo_assign_ids(&rs);
    for (size_t d = 0; d < port->n_dests; d++) {
        if (egress[d]) {
            xo_items_destroy(egress[d], n_egress[d]);
        }
    }
    free(egress);
    free(n_egress);
    xo_items_destroy(ingress, n_ingress);
    free(guards);
    *rulesp = rs.rules;
    *n = rs.n;
    if (originsp) {
        *originsp = rs.origins;
    } else {
        free(rs.origins);
    }
}
