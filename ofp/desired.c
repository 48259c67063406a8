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

#include "ofp/desired.h"

#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/shash.h>
#include <openvswitch/ofp-actions.h>
#include <openvswitch/ofpbuf.h>
#include <openvswitch/vlog.h>

#include "lib/util.h"

VLOG_DEFINE_THIS_MODULE(desired);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* A group of desired flows.  Its flows are its claims: each is either the
 * desired flow of its identity (in 'flows' of the desired table) or, when
 * other groups claim that identity too, one of a contest's claims. */
struct desired_group {
    struct hmap_node node;      /* In 'groups', by hash of 'key'. */
    struct oflow **flows;       /* Its claims, which it owns: '&one' for
                                 * a group of one claim (most are). */
    struct oflow *one;
    size_t n_flows;
    char key[];                 /* Allocated with the group. */
};

/* An identity that more than one group claims.
 *
 * The desired flow of the identity follows from the claims alone, never
 * from the order of events that left them, so that a restart (which makes
 * the same claims in another order) changes nothing:
 *
 *   - claims that are all conjunction clauses (an ACL's conjunctive entries
 *     of one priority may share a clause) give one flow with every
 *     conjunction action, sorted, each once;
 *
 *   - otherwise the claim, not a clause, of the group whose key sorts
 *     first.  A flow with a final action at a priority decides what a
 *     clause of that priority would have helped to decide: within one ACL,
 *     entries of one priority have one action, so the conjunction's
 *     packets that match it get that action anyway.
 *
 * Claims, not clauses, with different actions are a translation's mistake:
 * logged. */
struct desired_contest {
    struct hmap_node node;      /* In 'contests', by oflow_hash(). */
    struct oflow **claims;      /* In no particular order. */
    size_t n_claims, allocated;
};

/* Frees group 'g' (not its claims). */
static void
desired_group_free(struct desired_group *g)
{
    if (g->flows != &g->one) {
        free(g->flows);
    }
    free(g);
}

void
desired_init(struct desired *d)
{
    oflow_table_init(&d->flows);
    hmap_init(&d->groups);
    hmap_init(&d->contests);
    oflow_table_init(&d->tracked);
    d->slabs = NULL;
    d->n_slabs = d->slab_used = 0;
    d->n_changes = 0;
    hmap_init(&d->meters);
}

/* Frees what 'd' holds.  Accepts NULL. */
void
desired_destroy(struct desired *d)
{
    if (d) {
        struct desired_meter *meter;
        HMAP_FOR_EACH_POP (meter, node, &d->meters) {
            free(meter);
        }
        hmap_destroy(&d->meters);

        struct desired_contest *c;
        HMAP_FOR_EACH_POP (c, node, &d->contests) {
            free(c->claims);
            free(c);
        }
        hmap_destroy(&d->contests);

        /* Merged flows belong to the table, claims to their groups. */
        struct oflow *f;
        OFLOW_TABLE_FOR_EACH_SAFE (f, &d->flows) {
            oflow_table_remove(&d->flows, f);
            if (!f->group) {
                oflow_destroy(f);
            }
        }
        oflow_table_destroy(&d->flows);

        struct desired_group *g;
        HMAP_FOR_EACH_POP (g, node, &d->groups) {
            for (size_t i = 0; i < g->n_flows; i++) {
                oflow_destroy(g->flows[i]);
            }
            desired_group_free(g);
        }
        hmap_destroy(&d->groups);
        desired_clear_tracked(d);
        oflow_table_destroy(&d->tracked);
    }
}

static uint32_t
desired_hash_key(const char *key)
{
    return (uint32_t) iovp_hash_string64(key);
}

static struct desired_group *
desired_find_group(const struct desired *d, const char *key)
{
    struct desired_group *g;

    HMAP_FOR_EACH_WITH_HASH (g, node, desired_hash_key(key), &d->groups) {
        if (!strcmp(g->key, key)) {
            return g;
        }
    }
    return NULL;
}

/* The tracked identities are copies of flows cut from arrays of this many,
 * all freed together by desired_clear_tracked().  Made one by one, as the
 * flows themselves are made, and freed together once put, they left a hole
 * beside each desired flow that the allocator kept (100,000 of them, 8 MB,
 * after a full sync: measured). */
#define DESIRED_SLAB_FLOWS 1024

/* Notes that the flow with the identity of 'f' changed. */
static void
desired_track(struct desired *d, const struct oflow *f)
{
    d->n_changes++;
    if (oflow_table_find(&d->tracked, f)) {
        return;
    }
    if (!d->n_slabs || d->slab_used == DESIRED_SLAB_FLOWS) {
        d->slabs = iovp_xrealloc(d->slabs,
                                 (d->n_slabs + 1) * sizeof *d->slabs);
        d->slabs[d->n_slabs++] = iovp_xmalloc(DESIRED_SLAB_FLOWS
                                              * sizeof **d->slabs);
        d->slab_used = 0;
    }

    struct oflow *copy = &d->slabs[d->n_slabs - 1][d->slab_used++];
    oflow_copy(copy, f);
    oflow_table_insert(&d->tracked, copy);
}

static struct desired_contest *
desired_find_contest(const struct desired *d, const struct oflow *f)
{
    struct desired_contest *c;

    HMAP_FOR_EACH_WITH_HASH (c, node, oflow_hash(f), &d->contests) {
        if (oflow_same_identity(c->claims[0], f)) {
            return c;
        }
    }
    return NULL;
}

/* Returns true if 'f''s actions are conjunction actions only. */
static bool
desired_is_clause(const struct oflow *f)
{
    const struct ofpact *a;

    OFPACT_FOR_EACH (a, f->data->ofpacts, f->data->ofpacts_len) {
        if (a->type != OFPACT_CONJUNCTION) {
            return false;
        }
    }
    return f->data->ofpacts_len > 0;
}

static int
desired_compare_conjunctions(const void *a_, const void *b_)
{
    const struct ofpact_conjunction *a = *(const struct ofpact_conjunction
                                           *const *) a_;
    const struct ofpact_conjunction *b = *(const struct ofpact_conjunction
                                           *const *) b_;

    if (a->id != b->id) {
        return a->id < b->id ? -1 : 1;
    } else if (a->clause != b->clause) {
        return a->clause < b->clause ? -1 : 1;
    } else {
        return a->n_clauses < b->n_clauses ? -1 : a->n_clauses > b->n_clauses;
    }
}

/* Returns a new flow with the identity of the claims of 'c', all
 * conjunction clauses, and all their conjunction actions, sorted, each
 * once. */
static struct oflow *
desired_merge_clauses(const struct desired_contest *c)
{
    const struct ofpact_conjunction **conjs = NULL;
    size_t n = 0, allocated = 0;

    for (size_t i = 0; i < c->n_claims; i++) {
        const struct oflow *f = c->claims[i];
        const struct ofpact *a;
        OFPACT_FOR_EACH (a, f->data->ofpacts, f->data->ofpacts_len) {
            if (n >= allocated) {
                allocated = allocated ? 2 * allocated : 8;
                conjs = iovp_xrealloc(conjs, allocated * sizeof *conjs);
            }
            conjs[n++] = ofpact_get_CONJUNCTION(a);
        }
    }
    qsort(conjs, n, sizeof *conjs, desired_compare_conjunctions);

    struct ofpbuf ofpacts;
    ofpbuf_init(&ofpacts, 0);
    for (size_t i = 0; i < n; i++) {
        if (!i || desired_compare_conjunctions(&conjs[i - 1], &conjs[i])) {
            struct ofpact_conjunction *conj = ofpact_put_CONJUNCTION(
                &ofpacts);
            conj->id = conjs[i]->id;
            conj->clause = conjs[i]->clause;
            conj->n_clauses = conjs[i]->n_clauses;
        }
    }
    free(conjs);

    const struct oflow *first = c->claims[0];
    struct match match;
    minimatch_expand(&first->data->match, &match);
    struct oflow *merged = oflow_create(first->table_id, first->priority,
                                        first->cookie, &match, ofpacts.data,
                                        ofpacts.size);
    ofpbuf_uninit(&ofpacts);
    return merged;
}

static const char *
desired_claim_key(const struct oflow *f)
{
    const struct desired_group *g = f->group;
    return g->key;
}

/* Returns the desired flow of the identity that 'c''s claims make, as the
 * comment on "struct desired_contest" says: a claim, or a new merged flow
 * (with no group). */
static struct oflow *
desired_contest_flow(const struct desired_contest *c)
{
    struct oflow *best = NULL;
    for (size_t i = 0; i < c->n_claims; i++) {
        struct oflow *f = c->claims[i];
        if (!desired_is_clause(f)
            && (!best || strcmp(desired_claim_key(f),
                                desired_claim_key(best)) < 0)) {
            best = f;
        }
    }
    if (!best) {
        return desired_merge_clauses(c);
    }

    for (size_t i = 0; i < c->n_claims; i++) {
        struct oflow *f = c->claims[i];
        if (!desired_is_clause(f) && !oflow_same_actions(best, f)) {
            struct ds s = DS_EMPTY_INITIALIZER;
            oflow_format(f, false, &s);
            VLOG_WARN_RL(&rl, "%s: flow %s: %s makes that match and "
                         "priority with other actions, and has it in force",
                         desired_claim_key(f), ds_cstr(&s),
                         desired_claim_key(best));
            ds_destroy(&s);
        }
    }
    return best;
}

/* Makes the desired flow of the identity that 'c' is about the one its
 * claims now make, tracking it if it changed, and frees 'c' once a single
 * claim is left. */
static void
desired_settle(struct desired *d, struct desired_contest *c)
{
    struct oflow *cur = oflow_table_find(&d->flows, c->claims[0]);
    struct oflow *next = (c->n_claims == 1
                          ? c->claims[0]
                          : desired_contest_flow(c));

    if (cur != next) {
        bool same = cur && oflow_same_actions(cur, next);
        if (cur) {
            oflow_table_remove(&d->flows, cur);
            if (!cur->group) {
                oflow_destroy(cur);
            }
        }
        oflow_table_insert(&d->flows, next);
        if (!same) {
            desired_track(d, next);
        }
    }
    if (c->n_claims == 1) {
        hmap_remove(&d->contests, &c->node);
        free(c->claims);
        free(c);
    }
}

/* Adds 'f' as group 'g''s claim of its identity. */
static void
desired_claim(struct desired *d, struct desired_group *g, struct oflow *f)
{
    struct oflow *cur = oflow_table_find(&d->flows, f);

    f->group = g;
    if (!cur) {
        oflow_table_insert(&d->flows, f);
        desired_track(d, f);
        return;
    }

    struct desired_contest *c = desired_find_contest(d, f);
    if (!c) {
        c = iovp_xzalloc(sizeof *c);
        c->claims = iovp_xmalloc(2 * sizeof *c->claims);
        c->allocated = 2;
        c->claims[c->n_claims++] = cur;
        hmap_insert(&d->contests, &c->node, oflow_hash(f));
    } else if (c->n_claims >= c->allocated) {
        c->allocated *= 2;
        c->claims = iovp_xrealloc(c->claims,
                                  c->allocated * sizeof *c->claims);
    }
    c->claims[c->n_claims++] = f;
    desired_settle(d, c);
}

/* Withdraws claim 'f' (which the caller then frees). */
static void
desired_release(struct desired *d, struct oflow *f)
{
    struct desired_contest *c = desired_find_contest(d, f);

    if (!c) {
        oflow_table_remove(&d->flows, f);
        desired_track(d, f);
        return;
    }

    size_t i = 0;
    while (c->claims[i] != f) {
        i++;
    }
    memmove(&c->claims[i], &c->claims[i + 1],
            (c->n_claims - i - 1) * sizeof *c->claims);
    c->n_claims--;
    /* 'f' may be the desired flow still: settling takes it out. */
    desired_settle(d, c);
}

/* A claim of a group before desired_set_group() replaces its flows. */
struct desired_old_claim {
    struct hmap_node node;      /* By oflow_hash(). */
    struct oflow *flow;
};

/* Makes the flows of group 'key' in 'd' those of 'flows', whose flows it
 * takes (leaving 'flows' empty), and tracks what changed. */
void
desired_set_group(struct desired *d, const char *key,
                  struct oflow_table *flows)
{
    struct desired_group *g = desired_find_group(d, key);

    if (!g) {
        size_t len = strlen(key);
        g = iovp_xzalloc(sizeof *g + len + 1);
        memcpy(g->key, key, len + 1);
        g->flows = &g->one;
        hmap_insert(&d->groups, &g->node, desired_hash_key(key));
    }

    /* The group's old claims, to tell those kept from those gone. */
    struct hmap old = HMAP_INITIALIZER(&old);
    struct desired_old_claim *oc;
    for (size_t i = 0; i < g->n_flows; i++) {
        oc = iovp_xmalloc(sizeof *oc);
        oc->flow = g->flows[i];
        hmap_insert(&old, &oc->node, oflow_hash(oc->flow));
    }
    if (g->flows != &g->one) {
        free(g->flows);
    }

    size_t n = oflow_table_count(flows);
    g->flows = n > 1 ? iovp_xmalloc(n * sizeof *g->flows) : &g->one;
    g->n_flows = 0;

    struct oflow *f;
    OFLOW_TABLE_FOR_EACH_SAFE (f, flows) {
        oflow_table_remove(flows, f);

        struct oflow *prev = NULL;
        HMAP_FOR_EACH_WITH_HASH (oc, node, oflow_hash(f), &old) {
            if (oflow_same_identity(oc->flow, f)) {
                prev = oc->flow;
                hmap_remove(&old, &oc->node);
                free(oc);
                break;
            }
        }
        if (prev && oflow_same_actions(prev, f)) {
            /* The same as before: kept. */
            oflow_destroy(f);
            f = prev;
        } else {
            if (prev) {
                /* Changed: claims have no order, so the new one simply
                 * takes the old one's place. */
                desired_release(d, prev);
                oflow_destroy(prev);
            }
            desired_claim(d, g, f);
        }
        g->flows[g->n_flows++] = f;
    }

    HMAP_FOR_EACH_POP (oc, node, &old) {
        desired_release(d, oc->flow);
        oflow_destroy(oc->flow);
        free(oc);
    }
    hmap_destroy(&old);

    if (!g->n_flows) {
        hmap_remove(&d->groups, &g->node);
        desired_group_free(g);
    }
}

/* Removes group 'key' and its flows from 'd', if it is there. */
void
desired_remove_group(struct desired *d, const char *key)
{
    if (desired_find_group(d, key)) {
        struct oflow_table empty;

        oflow_table_init(&empty);
        desired_set_group(d, key, &empty);
        oflow_table_destroy(&empty);
    }
}

/* Returns true if 'd' has a group 'key' (with flows). */
bool
desired_has_group(const struct desired *d, const char *key)
{
    return desired_find_group(d, key) != NULL;
}

/* Returns the flows of group 'key' in 'd', and their number in '*n' (0 if
 * there is no such group). */
struct oflow *const *
desired_group_flows(const struct desired *d, const char *key, size_t *n)
{
    const struct desired_group *g = desired_find_group(d, key);

    *n = g ? g->n_flows : 0;
    return g ? g->flows : NULL;
}

/* Returns every desired flow. */
const struct oflow_table *
desired_flows(const struct desired *d)
{
    return &d->flows;
}

/* Returns the identities (table, priority, match) of the flows that
 * changed since the last desired_clear_tracked(): added, changed or
 * removed. */
const struct oflow_table *
desired_tracked(const struct desired *d)
{
    return &d->tracked;
}

void
desired_clear_tracked(struct desired *d)
{
    struct oflow *f;

    OFLOW_TABLE_FOR_EACH_SAFE (f, &d->tracked) {
        oflow_table_remove(&d->tracked, f);
        oflow_uninit(f);
    }
    for (size_t i = 0; i < d->n_slabs; i++) {
        free(d->slabs[i]);
    }
    free(d->slabs);
    d->slabs = NULL;
    d->n_slabs = d->slab_used = 0;
}

/* Returns the bytes of heap that the groups of 'd' take beyond their
 * flows (oflow_table_memory() of desired_flows() weighs those): each
 * group, its key and its array of claims, the contested identities, and
 * the copies that track changes.  See iovp_malloc_size(). */
size_t
desired_groups_memory(const struct desired *d)
{
    size_t n = ((d->groups.mask + 1) * sizeof *d->groups.buckets
                + (d->contests.mask + 1) * sizeof *d->contests.buckets);
    const struct desired_group *g;
    const struct desired_contest *c;

    HMAP_FOR_EACH (g, node, &d->groups) {
        n += iovp_malloc_size(g);
        if (g->flows != &g->one) {
            n += iovp_malloc_size(g->flows);
        }
    }
    HMAP_FOR_EACH (c, node, &d->contests) {
        n += iovp_malloc_size(c) + iovp_malloc_size(c->claims);
    }
    for (size_t i = 0; i < d->n_slabs; i++) {
        n += iovp_malloc_size(d->slabs[i]);
    }
    return n + iovp_malloc_size(d->slabs);
}

/* Returns the desired meter 'id', or NULL. */
const struct desired_meter *
desired_find_meter(const struct desired *d, uint32_t id)
{
    const struct desired_meter *meter;

    HMAP_FOR_EACH_WITH_HASH (meter, node, id, &d->meters) {
        if (meter->id == id) {
            return meter;
        }
    }
    return NULL;
}

/* Makes meter 'id' one of 'rate' kbit/s with a bucket of 'burst' kbit. */
void
desired_set_meter(struct desired *d, uint32_t id, uint32_t rate,
                  uint32_t burst)
{
    struct desired_meter *meter = CONST_CAST(struct desired_meter *,
                                             desired_find_meter(d, id));
    if (!meter) {
        meter = iovp_xzalloc(sizeof *meter);
        meter->id = id;
        hmap_insert(&d->meters, &meter->node, id);
    } else if (meter->rate == rate && meter->burst == burst) {
        return;
    }
    meter->rate = rate;
    meter->burst = burst;
    d->n_changes++;
}

/* Removes meter 'id', if there is one. */
void
desired_remove_meter(struct desired *d, uint32_t id)
{
    struct desired_meter *meter = CONST_CAST(struct desired_meter *,
                                             desired_find_meter(d, id));
    if (meter) {
        hmap_remove(&d->meters, &meter->node);
        free(meter);
        d->n_changes++;
    }
}

/* 'old' and 'new' are sets of group keys (shash with no data): the groups
 * a translation made before, and those it makes now.  Removes from 'd'
 * each group of 'old' that 'new' lacks, and leaves 'old' holding 'new''s
 * keys and 'new' empty. */
void
desired_keep_groups(struct desired *d, struct shash *old, struct shash *new)
{
    struct shash_node *node;

    SHASH_FOR_EACH (node, old) {
        if (!shash_find(new, node->name)) {
            desired_remove_group(d, node->name);
        }
    }
    shash_swap(old, new);
    shash_clear(new);
}
