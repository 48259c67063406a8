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

#include "offload/planner.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/hmap.h>

#include "lib/util.h"

/* A rule already in the NIC counts this much more, so that a re-plan
 * replaces it only for a rule that is clearly better. */
#define PLANNER_KEEP_BONUS 1.25

/* What a rule of no measured traffic is worth: enough to order rules of no
 * traffic by their cost, too little to outweigh any traffic. */
#define PLANNER_PRIOR 1e-9

/* How often the planner goes over the candidates, each time with the costs
 * that the covers chosen before have lowered. */
#define PLANNER_PASSES 3

enum planner_state {
    PL_NONE,                    /* Not in the NIC. */
    PL_COVER,                   /* In the NIC as a cover. */
    PL_SELF,                    /* In the NIC as itself. */
};

struct planner_candidate {
    size_t rule;                /* Index in 'pl->order'. */
    size_t *deps;               /* Indexes in 'pl->order' of the rules above
                                 * it that overlap it with another fate. */
    size_t n_deps;
    bool infeasible;            /* Needs more covers than the NIC holds. */
    double value;
    double ratio;
};

/* A bucket of a tuple: the entries whose values, masked by the tuple's
 * mask, are 'key'. */
struct planner_bucket {
    struct hmap_node node;      /* In 'pl->buckets'. */
    size_t tuple;
    struct fp_key key;
    struct fp_match *matches;   /* Its entries' distinct matches. */
    size_t n;
};

/* An entry the NIC holds: its id and its tuple's mask. */
struct planner_held {
    uint32_t id;
    struct fp_key tuple;
};

struct planner {
    const struct planner_rule *rules;
    const struct offload_caps *caps;
    struct planner_held *held;  /* The NIC's entries, by id. */
    size_t n_held;
    size_t *order;              /* Rule indexes, by descending priority. */
    size_t n;
    enum planner_state *state;  /* By position in 'order'. */
    size_t *tuple_of;           /* By position: the tuple of its entry. */
    struct fp_key *tuples;      /* The tuples' masks. */
    size_t n_tuples;
    struct hmap buckets;        /* "struct planner_bucket"s. */
    size_t n_entries;
};

/* What placing an entry did, to undo. */
struct planner_placed {
    struct planner_bucket *bucket;
    bool new_bucket;            /* It made 'bucket'... */
    bool new_match;             /* ...or added a match to it... */
    bool new_tuple;             /* ...and it made the bucket's tuple. */
};

/* Returns true if 'r' can run in a NIC of 'caps' as itself. */
bool
planner_rule_installable(const struct planner_rule *r,
                         const struct offload_caps *caps)
{
    if (!r->exact
        || (r->fate == FP_DROP && !caps->drop)
        || (r->fate == FP_FORWARD && !caps->forward)
        || r->fate == FP_TO_OVS) {
        return false;
    }

    const uint8_t *mask = (const uint8_t *) &r->match.mask;
    const uint8_t *fields = (const uint8_t *) &caps->fields;
    for (size_t i = 0; i < sizeof r->match.mask; i++) {
        if (mask[i] & ~fields[i]) {
            return false;
        }
    }
    return true;
}

/* Stores in 'cover' the match of 'r''s cover in a NIC of 'caps': 'r''s
 * match on just the fields the NIC has, which matches every frame that 'r'
 * matches. */
void
planner_cover_match(const struct planner_rule *r,
                    const struct offload_caps *caps, struct fp_match *cover)
{
    fp_key_and(&r->match.mask, &caps->fields, &cover->mask);
    fp_key_and(&r->match.value, &cover->mask, &cover->value);
}

static const struct planner_rule *
planner_rule_at(const struct planner *pl, size_t pos)
{
    return &pl->rules[pl->order[pos]];
}

static int
planner_compare_order(const void *a_, const void *b_, void *rules_)
{
    const struct planner_rule *rules = rules_;
    const struct planner_rule *a = &rules[*(const size_t *) a_];
    const struct planner_rule *b = &rules[*(const size_t *) b_];

    if (a->priority != b->priority) {
        return a->priority > b->priority ? -1 : 1;
    }
    return a->id < b->id ? -1 : a->id > b->id;
}

static bool
planner_same_fate(const struct planner_rule *a, const struct planner_rule *b)
{
    return (a->fate == b->fate
            && (a->fate != FP_FORWARD || a->out_port == b->out_port));
}

/* Finds the rules above the rule at 'pos' that it depends on, at most
 * 'max' of them (more makes it infeasible). */
static void
planner_find_deps(const struct planner *pl, size_t pos, size_t max,
                  struct planner_candidate *c)
{
    const struct planner_rule *r = planner_rule_at(pl, pos);
    size_t allocated = 0;

    c->rule = pos;
    c->deps = NULL;
    c->n_deps = 0;
    c->infeasible = false;
    for (size_t h = 0; h < pos; h++) {
        const struct planner_rule *hr = planner_rule_at(pl, h);
        if (hr->priority <= r->priority) {
            break;
        }
        if (planner_same_fate(hr, r)
            || !fp_match_overlaps(&hr->match, &r->match)) {
            continue;
        }
        if (c->n_deps >= max) {
            c->infeasible = true;
            free(c->deps);
            c->deps = NULL;
            c->n_deps = 0;
            return;
        }
        if (c->n_deps >= allocated) {
            allocated = MAX(8, 2 * allocated);
            c->deps = iovp_xrealloc(c->deps, allocated * sizeof *c->deps);
        }
        c->deps[c->n_deps++] = h;
    }
}

static struct planner_bucket *
planner_find_bucket(const struct planner *pl, size_t tuple,
                    const struct fp_key *key, uint32_t hash)
{
    struct planner_bucket *b;

    HMAP_FOR_EACH_WITH_HASH (b, node, hash, &pl->buckets) {
        if (b->tuple == tuple && fp_key_equal(&b->key, key)) {
            return b;
        }
    }
    return NULL;
}

/* Returns the mask of a relaxed tuple for an entry of mask 'mask': IPv4
 * address prefixes shortened to a multiple of 8 bits, L4 ports kept only
 * where exact, the rest as it is, so that entries of many masks share it
 * (TupleMerge's relaxation). */
static struct fp_key
planner_relax(const struct fp_key *mask)
{
    struct fp_key r = *mask;
    ovs_be32 *addrs[] = { &r.nw_src, &r.nw_dst };

    for (size_t i = 0; i < IOVP_ARRAY_SIZE(addrs); i++) {
        uint32_t m = ntohl(*addrs[i]);
        int len = 0;
        while (len < 32 && m & (UINT32_C(1) << (31 - len))) {
            len++;
        }
        if (len == 32 || m == (len ? UINT32_MAX << (32 - len) : 0)) {
            len &= ~7;
            *addrs[i] = htonl(len ? UINT32_MAX << (32 - len) : 0);
        }
    }
    if (r.tp_src != htons(0xffff)) {
        r.tp_src = 0;
    }
    if (r.tp_dst != htons(0xffff)) {
        r.tp_dst = 0;
    }
    return r;
}

static int
planner_compare_held(const void *a_, const void *b_)
{
    const struct planner_held *a = a_, *b = b_;

    return a->id < b->id ? -1 : a->id > b->id;
}

/* Returns the mask of the tuple in which the NIC holds the entry of id
 * 'id', or NULL if it holds none. */
static const struct fp_key *
planner_held_tuple(const struct planner *pl, uint32_t id)
{
    struct planner_held key = { .id = id };
    const struct planner_held *h = bsearch(&key, pl->held, pl->n_held,
                                           sizeof *pl->held,
                                           planner_compare_held);
    return h ? &h->tuple : NULL;
}

/* Returns the index of the tuple of mask 'mask', or SIZE_MAX. */
static size_t
planner_find_tuple(const struct planner *pl, const struct fp_key *mask)
{
    for (size_t i = 0; i < pl->n_tuples; i++) {
        if (fp_key_equal(&pl->tuples[i], mask)) {
            return i;
        }
    }
    return SIZE_MAX;
}

/* Places an entry of match 'm' in tuple 't', if its bucket there has room
 * (or holds the same match already), recording it in '*placed'.  Returns
 * true if it did. */
static bool
planner_place_in(struct planner *pl, size_t t, const struct fp_match *m,
                 struct planner_placed *placed)
{
    size_t bucket_size = MAX(pl->caps->bucket_size, 1);
    const struct fp_key *tm = &pl->tuples[t];
    if (bucket_size > 1 ? !fp_key_is_subset(tm, &m->mask)
        : !fp_key_equal(tm, &m->mask)) {
        return false;
    }

    struct fp_key key;
    fp_key_and(&m->value, tm, &key);
    uint32_t hash = fp_key_hash(&key, t);
    struct planner_bucket *b = planner_find_bucket(pl, t, &key, hash);
    if (b) {
        for (size_t i = 0; i < b->n; i++) {
            if (fp_match_equal(&b->matches[i], m)) {
                placed->bucket = b;
                return true;
            }
        }
        if (b->n >= bucket_size) {
            return false;
        }
    } else {
        b = iovp_xzalloc(sizeof *b);
        b->tuple = t;
        b->key = key;
        b->matches = iovp_xmalloc(bucket_size * sizeof *b->matches);
        hmap_insert(&pl->buckets, &b->node, hash);
        placed->new_bucket = true;
    }
    b->matches[b->n++] = *m;
    placed->bucket = b;
    placed->new_match = true;
    return true;
}

/* Adds a tuple of mask 'mask' and returns its index, or SIZE_MAX if the
 * NIC has no room for another. */
static size_t
planner_add_tuple(struct planner *pl, const struct fp_key *mask,
                  struct planner_placed *placed)
{
    if (pl->n_tuples >= pl->caps->max_masks) {
        return SIZE_MAX;
    }
    pl->tuples[pl->n_tuples] = *mask;
    placed->new_tuple = true;
    return pl->n_tuples++;
}

/* Places an entry of match 'm' in a tuple: in that of mask 'want' (where
 * the NIC holds it), if not NULL and it can; else in the first whose mask
 * it may have (its own mask, with buckets of one entry; else any subset of
 * it) and whose bucket for it has room; else in a new tuple, relaxed, or
 * of its own mask if a tuple of the relaxed mask is there already.  An
 * entry of the same match as one placed shares its place.  Stores what it
 * did in '*placed' and the tuple in '*tuplep'; returns false if there is
 * no room. */
static bool
planner_place(struct planner *pl, const struct fp_match *m,
              const struct fp_key *want, size_t *tuplep,
              struct planner_placed *placed)
{
    bool relaxed = pl->caps->bucket_size > 1;
    size_t t;

    memset(placed, 0, sizeof *placed);
    if (want && (relaxed ? fp_key_is_subset(want, &m->mask)
                 : fp_key_equal(want, &m->mask))) {
        t = planner_find_tuple(pl, want);
        if (t == SIZE_MAX) {
            t = planner_add_tuple(pl, want, placed);
        }
        if (t != SIZE_MAX && planner_place_in(pl, t, m, placed)) {
            *tuplep = t;
            return true;
        }
    }
    for (t = 0; t < pl->n_tuples; t++) {
        if (planner_place_in(pl, t, m, placed)) {
            *tuplep = t;
            return true;
        }
    }

    struct fp_key mask = relaxed ? planner_relax(&m->mask) : m->mask;
    if (planner_find_tuple(pl, &mask) != SIZE_MAX) {
        mask = m->mask;
        if (planner_find_tuple(pl, &mask) != SIZE_MAX) {
            return false;       /* Tried already: its bucket is full. */
        }
    }
    t = planner_add_tuple(pl, &mask, placed);
    if (t == SIZE_MAX || !planner_place_in(pl, t, m, placed)) {
        return false;
    }
    *tuplep = t;
    return true;
}

/* Undoes 'placed' (planner_place()'s, the last first). */
static void
planner_unplace(struct planner *pl, const struct planner_placed *placed)
{
    struct planner_bucket *b = placed->bucket;

    if (b && placed->new_match) {
        b->n--;
    }
    if (b && placed->new_bucket) {
        hmap_remove(&pl->buckets, &b->node);
        free(b->matches);
        free(b);
    }
    if (placed->new_tuple) {
        pl->n_tuples--;
    }
}

/* The entries that candidate 'c' would add now, counting the covers it
 * needs that are not yet in the NIC. */
static size_t
planner_cost(const struct planner *pl, const struct planner_candidate *c)
{
    size_t cost = pl->state[c->rule] == PL_COVER ? 0 : 1;

    for (size_t i = 0; i < c->n_deps; i++) {
        cost += pl->state[c->deps[i]] == PL_NONE;
    }
    return cost;
}

/* Adds candidate 'c' and its covers if the NIC has room for their entries
 * in its tuples; returns true if it did. */
static bool
planner_try_add(struct planner *pl, const struct planner_candidate *c)
{
    size_t cost = planner_cost(pl, c);
    if (pl->n_entries + cost > pl->caps->max_entries) {
        return false;
    }

    /* Its new covers and itself (unless a cover of its own match is its
     * place already), each placed in a tuple, or none. */
    struct planner_placed *placed = iovp_xmalloc((c->n_deps + 1)
                                                 * sizeof *placed);
    size_t *tuples = iovp_xmalloc((c->n_deps + 1) * sizeof *tuples);
    size_t *where = iovp_xmalloc((c->n_deps + 1) * sizeof *where);
    size_t n_placed = 0;
    bool fits = true;
    for (size_t i = 0; i <= c->n_deps && fits; i++) {
        struct fp_match m;
        size_t pos = i == c->n_deps ? c->rule : c->deps[i];
        if (i == c->n_deps) {
            m = planner_rule_at(pl, pos)->match;
        } else if (pl->state[pos] == PL_NONE) {
            planner_cover_match(planner_rule_at(pl, pos), pl->caps, &m);
        } else {
            continue;
        }
        /* Where the NIC holds it, as itself or as a cover: nicctrl turns
         * one into the other in place, by match. */
        const struct planner_rule *r = planner_rule_at(pl, pos);
        uint32_t self = r->id, cover = r->id | PLANNER_COVER_ID;
        const struct fp_key *want = planner_held_tuple(
            pl, i == c->n_deps ? self : cover);
        if (!want) {
            want = planner_held_tuple(pl, i == c->n_deps ? cover : self);
        }
        fits = planner_place(pl, &m, want, &tuples[n_placed],
                             &placed[n_placed]);
        if (fits) {
            where[n_placed++] = pos;
        }
    }
    if (fits) {
        for (size_t i = 0; i < n_placed; i++) {
            pl->tuple_of[where[i]] = tuples[i];
        }
        for (size_t i = 0; i < c->n_deps; i++) {
            if (pl->state[c->deps[i]] == PL_NONE) {
                pl->state[c->deps[i]] = PL_COVER;
            }
        }
        pl->state[c->rule] = PL_SELF;
        pl->n_entries += cost;
    } else {
        while (n_placed--) {
            planner_unplace(pl, &placed[n_placed]);
        }
    }
    free(placed);
    free(tuples);
    free(where);
    return fits;
}

static int
planner_compare_ratio(const void *a_, const void *b_)
{
    const struct planner_candidate *a = a_, *b = b_;

    if (a->ratio != b->ratio) {
        return a->ratio > b->ratio ? -1 : 1;
    }
    return a->rule < b->rule ? -1 : a->rule > b->rule;
}

static bool
planner_was_installed(uint32_t id, const uint32_t *ids, size_t n)
{
    /* 'ids' is sorted (see planner_plan()). */
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ids[mid] == id) {
            return true;
        } else if (ids[mid] < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return false;
}

static int
planner_compare_u32(const void *a_, const void *b_)
{
    uint32_t a = *(const uint32_t *) a_, b = *(const uint32_t *) b_;

    return a < b ? -1 : a > b;
}

/* Plans the fast path of the 'n' rules 'rules' of one port for a NIC of
 * 'caps', into 'plan' (to free with planner_plan_destroy()).
 * 'installed' are the entries the NIC holds now (rules as themselves and
 * covers), which it prefers to keep, each in its tuple. */
void
planner_plan(const struct planner_rule *rules, size_t n,
             const struct offload_caps *caps,
             const struct fp_entry *installed_entries, size_t n_installed,
             struct planner_plan *plan)
{
    struct planner pl = {
        .rules = rules,
        .caps = caps,
        .n = n,
        .order = iovp_xmalloc(MAX(n, 1) * sizeof *pl.order),
        .state = iovp_xzalloc(MAX(n, 1) * sizeof *pl.state),
        .tuple_of = iovp_xzalloc(MAX(n, 1) * sizeof *pl.tuple_of),
        .tuples = iovp_xmalloc(MAX(caps->max_masks, 1) * sizeof *pl.tuples),
        .buckets = HMAP_INITIALIZER(&pl.buckets),
    };
    for (size_t i = 0; i < n; i++) {
        pl.order[i] = i;
    }
    qsort_r(pl.order, n, sizeof *pl.order, planner_compare_order,
            (void *) rules);

    uint32_t *installed = iovp_xmalloc(MAX(n_installed, 1)
                                       * sizeof *installed);
    pl.held = iovp_xmalloc(MAX(n_installed, 1) * sizeof *pl.held);
    pl.n_held = n_installed;
    for (size_t i = 0; i < n_installed; i++) {
        installed[i] = installed_entries[i].id;
        pl.held[i].id = installed_entries[i].id;
        pl.held[i].tuple = installed_entries[i].tuple;
    }
    qsort(installed, n_installed, sizeof *installed, planner_compare_u32);
    qsort(pl.held, n_installed, sizeof *pl.held, planner_compare_held);

    memset(plan, 0, sizeof *plan);
    for (size_t i = 0; i < n; i++) {
        plan->total_weight += rules[i].weight;
    }

    /* The candidates: rules that can run as themselves and are worth it. */
    struct planner_candidate *cands = iovp_xmalloc(MAX(n, 1)
                                                   * sizeof *cands);
    size_t n_cands = 0;
    for (size_t pos = 0; pos < n && caps->max_entries && caps->max_masks;
         pos++) {
        const struct planner_rule *r = planner_rule_at(&pl, pos);
        if (!planner_rule_installable(r, caps)) {
            continue;
        }
        struct planner_candidate *c = &cands[n_cands];
        planner_find_deps(&pl, pos, caps->max_entries - 1, c);
        if (c->infeasible) {
            continue;
        }
        c->value = r->weight + PLANNER_PRIOR;
        if (planner_was_installed(r->id, installed, n_installed)) {
            c->value *= PLANNER_KEEP_BONUS;
        }
        n_cands++;
    }

    /* Greedy by traffic per entry, costs lowered by the covers that earlier
     * choices brought in. */
    for (int pass = 0; pass < PLANNER_PASSES; pass++) {
        size_t n_left = 0;
        for (size_t i = 0; i < n_cands; i++) {
            if (pl.state[cands[i].rule] != PL_SELF) {
                struct planner_candidate *c = &cands[i];
                c->ratio = c->value / MAX(planner_cost(&pl, c), 1);
                cands[n_left++] = *c;
            } else {
                free(cands[i].deps);
            }
        }
        n_cands = n_left;
        qsort(cands, n_cands, sizeof *cands, planner_compare_ratio);

        bool added = false;
        for (size_t i = 0; i < n_cands
             && pl.n_entries < caps->max_entries; i++) {
            added |= planner_try_add(&pl, &cands[i]);
        }
        if (!added) {
            break;
        }
    }
    for (size_t i = 0; i < n_cands; i++) {
        free(cands[i].deps);
    }
    free(cands);

    /* The plan: covers, then rules as themselves.  Of entries of the same
     * match, only the first (of the highest priority) can ever decide a
     * frame, so only it goes in: a NIC's table has one entry per match. */
    struct fp_entry *chosen = iovp_xmalloc(MAX(pl.n_entries, 1)
                                           * sizeof *chosen);
    size_t n_chosen = 0;
    struct hmap seen = HMAP_INITIALIZER(&seen);
    struct planner_seen {
        struct hmap_node node;
        const struct fp_match *match;
    } *seen_nodes = iovp_xmalloc(MAX(pl.n_entries, 1) * sizeof *seen_nodes);
    for (size_t pos = 0; pos < n; pos++) {
        const struct planner_rule *r = planner_rule_at(&pl, pos);
        if (pl.state[pos] == PL_NONE) {
            continue;
        }
        struct fp_entry *e = &chosen[n_chosen];
        memset(e, 0, sizeof *e);
        e->priority = r->priority;
        if (pl.state[pos] == PL_SELF) {
            e->match = r->match;
            e->fate = r->fate;
            e->out_port = r->fate == FP_FORWARD ? r->out_port : 0;
            e->id = r->id;
        } else {
            planner_cover_match(r, caps, &e->match);
            e->fate = FP_TO_OVS;
            e->id = r->id | PLANNER_COVER_ID;
        }
        e->tuple = pl.tuples[pl.tuple_of[pos]];

        uint32_t hash = fp_key_hash(&e->match.value,
                                    fp_key_hash(&e->match.mask, 0));
        bool dup = false;
        struct planner_seen *ps;
        HMAP_FOR_EACH_WITH_HASH (ps, node, hash, &seen) {
            dup = dup || fp_match_equal(ps->match, &e->match);
        }
        if (dup) {
            continue;
        }
        ps = &seen_nodes[n_chosen];
        ps->match = &e->match;
        hmap_insert(&seen, &ps->node, hash);
        if (e->fate != FP_TO_OVS) {
            plan->weight += r->weight;
        }
        n_chosen++;
    }
    hmap_destroy(&seen);
    free(seen_nodes);

    plan->entries = iovp_xmalloc(MAX(n_chosen, 1) * sizeof *plan->entries);
    for (int self = 0; self < 2; self++) {
        for (size_t i = 0; i < n_chosen; i++) {
            bool is_self = !(chosen[i].id & PLANNER_COVER_ID);
            if (is_self == self) {
                plan->entries[plan->n_entries++] = chosen[i];
                plan->n_covers += !self;
            }
        }
    }
    free(chosen);
    plan->n_masks = pl.n_tuples;

    struct planner_bucket *b;
    HMAP_FOR_EACH_POP (b, node, &pl.buckets) {
        free(b->matches);
        free(b);
    }
    hmap_destroy(&pl.buckets);
    free(installed);
    free(pl.held);
    free(pl.order);
    free(pl.state);
    free(pl.tuple_of);
    free(pl.tuples);
}

void
planner_plan_destroy(struct planner_plan *plan)
{
    if (plan) {
        free(plan->entries);
        plan->entries = NULL;
        plan->n_entries = 0;
    }
}
