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

/* "offload-placement [--smoke] [--classbench=DIR] [--sets=NAME,...]
 * [--packets=N]": how much
 * traffic the offload planner puts in a NIC of limited size, against two
 * baselines from CacheFlow (Katta et al., "CacheFlow: Dependency-Aware
 * Rule-Caching for Software-Defined Networks", SOSR 2016), in one run.
 *
 * For each of the ClassBench sets acl1, fw1 and ipc1 (10k rules; 1k with
 * --smoke; or the files NAME_10k.rules, NAME_1k.rules of --sets in the
 * directory; a set's traffic is drawn with a seed of its position in the
 * list) as one VM port's ingress ACL (line N is sequence N + 1,
 * permitting when N is even), with one destination VM: traffic is
 * Zipf-distributed over the rules (s = 1.0 and 0.8; the ranks a seeded
 * random permutation of the rules), each frame a random point of its rule,
 * its true fate from the reference model (agent/reference.h).  Traffic
 * weights come from a first sample of frames; the hit rate (the share of a
 * second sample that the NIC decides) and the disagreements with the
 * reference are measured with the "sim" backend, for NICs of 1%, 5%, 10%
 * and 20% as many entries as the set has rules, each with at most 32
 * tuples, and for these placements of the port's rules (the same
 * flattened rules, agent/xlate-offload.h, for all):
 *
 *   iovp           offload/planner.c, each tuple of one mask (buckets of
 *                  one entry: the xdp backend's program).
 *   iovp-relaxed   offload/planner.c with relaxed tuples, buckets of 8.
 *   cover-set      CacheFlow's cover-set: a rule goes in with each rule of
 *                  higher priority that overlaps it as a cover (to OVS),
 *                  chosen greedily by traffic per entry.
 *   dependent-set  CacheFlow's dependent-set: a rule goes in with every
 *                  rule it depends on, transitively, each as itself,
 *                  chosen greedily by the traffic of the set per entry.
 *
 *   cover-set*     cover-set with no limit on masks.
 *   bound          the dependency-free upper bound: the share of the
 *                  traffic (the first sample's) that the hottest rules
 *                  decide, as many rules as the NIC has entries.
 *
 * Both baselines take "depends on" as "has a higher priority and
 * overlaps", as CacheFlow's dependency graph does before its refinement
 * that subtracts the rules in between; and but for cover-set*, both keep
 * to the 32 masks.  Prints a table; never fails on a figure. */

#include <config.h>

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/flow.h>
#include <openvswitch/util.h>

#include "agent/acl.h"
#include "agent/reference.h"
#include "agent/xlate-acl.h"
#include "agent/xlate-offload.h"
#include "lib/util.h"
#include "offload/backend.h"
#include "offload/planner.h"
#include "tests/classbench.h"

static const struct eth_addr port_mac = ETH_ADDR_C(02,00,00,00,00,01);
static const struct eth_addr dest_mac = ETH_ADDR_C(02,00,00,00,00,02);

/* Draws a frame of rule 'r' into 'f': a random point of it, from the port
 * to the destination. */
static void
draw(const struct classbench_rule *r, struct flow *f)
{
    static const int protos[] = { 6, 17, 1 };

    memset(f, 0, sizeof *f);
    f->dl_src = port_mac;
    f->dl_dst = dest_mac;
    f->dl_type = htons(0x0800);
    f->nw_src = htonl(r->src | ((uint32_t) classbench_random()
                                & ~r->src_mask));
    f->nw_dst = htonl(r->dst | ((uint32_t) classbench_random()
                                & ~r->dst_mask));
    f->nw_proto = r->proto >= 0 ? r->proto : protos[classbench_below(3)];
    if (f->nw_proto == 6 || f->nw_proto == 17) {
        f->tp_src = htons(classbench_between(r->sport_lo, r->sport_hi));
        f->tp_dst = htons(classbench_between(r->dport_lo, r->dport_hi));
        if (f->nw_proto == 6) {
            f->tcp_flags = htons(classbench_below(0x1000));
        }
    } else if (f->nw_proto == 1) {
        f->tp_src = htons(classbench_below(20));
    }
}

/* Zipf over 'n' ranks with exponent 's': the cumulative distribution. */
static double *
zipf_cdf(size_t n, double s)
{
    double *cdf = iovp_xmalloc(n * sizeof *cdf);
    double sum = 0;

    for (size_t k = 0; k < n; k++) {
        sum += 1.0 / pow(k + 1, s);
        cdf[k] = sum;
    }
    for (size_t k = 0; k < n; k++) {
        cdf[k] /= sum;
    }
    return cdf;
}

static size_t
zipf_draw(const double *cdf, size_t n)
{
    double u = (classbench_random() >> 11) * (1.0 / 9007199254740992.0);
    size_t lo = 0, hi = n - 1;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cdf[mid] < u) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* The port's flattened rules, sorted by descending priority, with each
 * rule's direct dependencies for the baselines. */
struct bench_rules {
    struct planner_rule *rules;
    size_t n;
    size_t **deps;              /* Indexes of the higher rules overlapping. */
    size_t *n_deps;
};

static int
compare_priority(const void *a_, const void *b_)
{
    const struct planner_rule *a = a_, *b = b_;

    if (a->priority != b->priority) {
        return a->priority > b->priority ? -1 : 1;
    }
    return a->id < b->id ? -1 : a->id > b->id;
}

static void
bench_deps(struct bench_rules *br)
{
    br->deps = iovp_xzalloc(br->n * sizeof *br->deps);
    br->n_deps = iovp_xzalloc(br->n * sizeof *br->n_deps);
    for (size_t i = 0; i < br->n; i++) {
        size_t allocated = 0;
        for (size_t h = 0; h < i; h++) {
            if (br->rules[h].priority > br->rules[i].priority
                && fp_match_overlaps(&br->rules[h].match,
                                     &br->rules[i].match)) {
                if (br->n_deps[i] >= allocated) {
                    allocated = allocated ? 2 * allocated : 8;
                    br->deps[i] = iovp_xrealloc(
                        br->deps[i], allocated * sizeof *br->deps[i]);
                }
                br->deps[i][br->n_deps[i]++] = h;
            }
        }
    }
}

/* Placement state for the baselines: which rules are in the NIC, and how
 * (0: not, 1: as a cover, 2: as itself). */
struct bench_nic {
    const struct bench_rules *br;
    const struct offload_caps *caps;
    uint8_t *state;
    size_t n_entries;
    struct fp_key *masks;       /* Room for BENCH_MAX_MASKS. */
    size_t n_masks;
};

/* The most masks a baseline may use ("cover-set*"). */
#define BENCH_MAX_MASKS 4096

static bool
bench_rule_ok(const struct planner_rule *r, const struct offload_caps *caps)
{
    return r->fate == FP_TO_OVS || planner_rule_installable(r, caps);
}

/* The mask 'r' has in the NIC, as itself or as a cover. */
static struct fp_key
bench_mask(const struct bench_nic *nic, size_t i, bool self)
{
    struct fp_match m;

    if (self && nic->br->rules[i].fate != FP_TO_OVS) {
        return nic->br->rules[i].match.mask;
    }
    planner_cover_match(&nic->br->rules[i], nic->caps, &m);
    return m.mask;
}

/* Adds the rules 'set' ('n' of them; 'self[i]' says as itself or as a
 * cover) if entries and masks allow.  Returns true if it did. */
static bool
bench_try_add(struct bench_nic *nic, const size_t *set, const bool *self,
              size_t n)
{
    size_t n_new = 0, n_extra = 0;
    struct fp_key *extra = iovp_xmalloc(MAX(n, 1) * sizeof *extra);
    bool fits = true;

    for (size_t i = 0; i < n && fits; i++) {
        uint8_t want = self[i] ? 2 : 1;
        if (nic->state[set[i]] >= want) {
            continue;
        }
        n_new += nic->state[set[i]] == 0;
        struct fp_key m = bench_mask(nic, set[i], self[i]);
        bool known = false;
        for (size_t j = 0; j < nic->n_masks && !known; j++) {
            known = fp_key_equal(&nic->masks[j], &m);
        }
        for (size_t j = 0; j < n_extra && !known; j++) {
            known = fp_key_equal(&extra[j], &m);
        }
        if (!known) {
            fits = nic->n_masks + n_extra < MIN(nic->caps->max_masks,
                                                BENCH_MAX_MASKS);
            extra[n_extra++] = m;
        }
    }
    fits = fits && nic->n_entries + n_new <= nic->caps->max_entries;
    if (fits) {
        for (size_t i = 0; i < n; i++) {
            uint8_t want = self[i] ? 2 : 1;
            if (nic->state[set[i]] < want) {
                nic->state[set[i]] = want;
            }
        }
        memcpy(&nic->masks[nic->n_masks], extra, n_extra * sizeof *extra);
        nic->n_masks += n_extra;
        nic->n_entries += n_new;
    }
    free(extra);
    return fits;
}

struct bench_cand {
    size_t rule;
    double ratio;
};

static int
compare_ratio(const void *a_, const void *b_)
{
    const struct bench_cand *a = a_, *b = b_;

    if (a->ratio != b->ratio) {
        return a->ratio > b->ratio ? -1 : 1;
    }
    return a->rule < b->rule ? -1 : a->rule > b->rule;
}

/* Collects in 'set' the rules rule 'i' depends on, transitively, and 'i'
 * itself; returns their number, or SIZE_MAX if more than 'max'. */
static size_t
bench_closure(const struct bench_rules *br, size_t i, size_t max,
              unsigned int *stamp, unsigned int now, size_t *set)
{
    size_t n = 0, head = 0;

    set[n++] = i;
    stamp[i] = now;
    while (head < n) {
        size_t r = set[head++];
        for (size_t d = 0; d < br->n_deps[r]; d++) {
            size_t h = br->deps[r][d];
            if (stamp[h] != now) {
                if (n >= max) {
                    return SIZE_MAX;
                }
                stamp[h] = now;
                set[n++] = h;
            }
        }
    }
    return n;
}

/* A baseline's placement, as a plan of entries. */
static void
bench_baseline(const struct bench_rules *br, const struct offload_caps *caps,
               bool dependent_set, struct planner_plan *plan)
{
    struct bench_nic nic = {
        .br = br, .caps = caps,
        .state = iovp_xzalloc(br->n),
        .masks = iovp_xmalloc(BENCH_MAX_MASKS * sizeof *nic.masks),
    };
    struct bench_cand *cands = iovp_xmalloc(br->n * sizeof *cands);
    size_t *set = iovp_xmalloc((caps->max_entries + 2) * sizeof *set);
    bool *self = iovp_xmalloc((caps->max_entries + 2) * sizeof *self);
    unsigned int *stamp = iovp_xzalloc(br->n * sizeof *stamp);
    unsigned int now = 0;

    for (int pass = 0; pass < 3; pass++) {
        size_t n_cands = 0;
        for (size_t i = 0; i < br->n; i++) {
            const struct planner_rule *r = &br->rules[i];
            if (nic.state[i] == 2 || r->fate == FP_TO_OVS
                || !planner_rule_installable(r, caps)) {
                continue;
            }
            double value = r->weight + 1e-9;
            size_t cost;
            if (dependent_set) {
                size_t n = bench_closure(br, i, caps->max_entries, stamp,
                                         ++now, set);
                if (n == SIZE_MAX) {
                    continue;
                }
                cost = 0;
                value = 1e-9;
                for (size_t j = 0; j < n; j++) {
                    cost += nic.state[set[j]] == 0;
                    value += br->rules[set[j]].weight;
                }
            } else {
                if (br->n_deps[i] + 1 > caps->max_entries) {
                    continue;
                }
                cost = nic.state[i] == 0;
                for (size_t d = 0; d < br->n_deps[i]; d++) {
                    cost += nic.state[br->deps[i][d]] == 0;
                }
            }
            cands[n_cands++] = (struct bench_cand) {
                .rule = i, .ratio = value / MAX(cost, 1),
            };
        }
        qsort(cands, n_cands, sizeof *cands, compare_ratio);

        bool added = false;
        for (size_t c = 0; c < n_cands
             && nic.n_entries < caps->max_entries; c++) {
            size_t i = cands[c].rule, n;
            if (nic.state[i] == 2) {
                continue;
            }
            if (dependent_set) {
                n = bench_closure(br, i, caps->max_entries, stamp, ++now,
                                  set);
                if (n == SIZE_MAX) {
                    continue;
                }
                for (size_t j = 0; j < n; j++) {
                    self[j] = bench_rule_ok(&br->rules[set[j]], caps);
                    if (!self[j] && br->rules[set[j]].fate != FP_TO_OVS) {
                        /* It cannot run as itself: nor can what needs
                         * it. */
                        n = SIZE_MAX;
                        break;
                    }
                }
                if (n == SIZE_MAX) {
                    continue;
                }
            } else {
                n = 0;
                set[n] = i;
                self[n++] = true;
                for (size_t d = 0; d < br->n_deps[i]; d++) {
                    set[n] = br->deps[i][d];
                    self[n++] = false;
                }
            }
            added |= bench_try_add(&nic, set, self, n);
        }
        if (!added) {
            break;
        }
    }

    memset(plan, 0, sizeof *plan);
    plan->entries = iovp_xmalloc(MAX(nic.n_entries, 1)
                                 * sizeof *plan->entries);
    for (size_t i = 0; i < br->n; i++) {
        const struct planner_rule *r = &br->rules[i];
        if (!nic.state[i]) {
            continue;
        }

        /* A table has one entry per match: of rules of the same match,
         * the first (of the highest priority) is the one that counts. */
        bool dup = false;
        for (size_t j = 0; j < plan->n_entries && !dup; j++) {
            struct fp_match m;
            if (nic.state[i] == 2 && r->fate != FP_TO_OVS) {
                m = r->match;
            } else {
                planner_cover_match(r, caps, &m);
            }
            dup = fp_match_equal(&plan->entries[j].match, &m);
        }
        if (dup) {
            continue;
        }
        struct fp_entry *e = &plan->entries[plan->n_entries++];
        memset(e, 0, sizeof *e);
        e->priority = r->priority;
        if (nic.state[i] == 2 && r->fate != FP_TO_OVS) {
            e->match = r->match;
            e->fate = r->fate;
            e->out_port = r->out_port;
            e->id = r->id;
        } else {
            planner_cover_match(r, caps, &e->match);
            e->fate = FP_TO_OVS;
            e->id = r->id | PLANNER_COVER_ID;
            plan->n_covers++;
        }
        e->tuple = e->match.mask;
    }
    plan->n_masks = nic.n_masks;
    free(nic.masks);
    free(nic.state);
    free(cands);
    free(set);
    free(self);
    free(stamp);
}

static int
compare_double_desc(const void *a_, const void *b_)
{
    double a = *(const double *) a_, b = *(const double *) b_;

    return a > b ? -1 : a < b;
}

/* Returns the dependency-free upper bound of a NIC of 'max' entries: the
 * share of the rules' weight that the 'max' heaviest rules carry. */
static double
bench_bound(const struct bench_rules *br, size_t max)
{
    double *w = iovp_xmalloc(MAX(br->n, 1) * sizeof *w);
    double total = 0, top = 0;

    for (size_t i = 0; i < br->n; i++) {
        w[i] = br->rules[i].weight;
        total += w[i];
    }
    qsort(w, br->n, sizeof *w, compare_double_desc);
    for (size_t i = 0; i < MIN(max, br->n); i++) {
        top += w[i];
    }
    free(w);
    return total ? top / total : 0;
}

/* Measures 'plan' on the 'n' frames 'frames' with their reference fates:
 * stores the share the NIC decided in '*hit' and the disagreements in
 * '*bad'. */
static void
bench_measure(const struct planner_plan *plan, const struct flow *frames,
              const struct reference_verdict *verdicts, size_t n,
              double *hit, size_t *bad)
{
    struct offload *nic;
    char spec[64];

    /* As many tuples and as large buckets as a plan may use: the
     * placements keep to their own limits. */
    snprintf(spec, sizeof spec, "sim:entries=%zu,masks=4096,bucket=64",
             MAX(plan->n_entries, 1));
    char *error = offload_open(spec, &nic);
    if (error
        || nic->class->put(nic, "p", plan->entries, plan->n_entries)) {
        iovp_fatal(-1, "sim: cannot hold the plan");
    }
    size_t decided = 0;
    *bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t buf[128];
        struct fp_entry e;
        size_t len = fp_frame_from_flow(&frames[i], buf, sizeof buf);
        nic->class->classify(nic, "p", buf, len, &e);
        if (e.fate == FP_TO_OVS) {
            continue;
        }
        decided++;
        *bad += !reference_agrees(&verdicts[i], &e);
    }
    *hit = n ? (double) decided / n : 0;
    offload_close(nic);
}

static const char *
bench_classbench_dir(const char *given)
{
    static const char *const dirs[] = {
        "../shared/classbench", "/work/shared/classbench",
    };
    char path[4096];

    if (given) {
        return given;
    }
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(dirs); i++) {
        snprintf(path, sizeof path, "%s/acl1_1k.rules", dirs[i]);
        FILE *f = fopen(path, "r");
        if (f) {
            fclose(f);
            return dirs[i];
        }
    }
    iovp_fatal(-1, "no ClassBench rule sets: give --classbench=DIR");
}

int
main(int argc, char *argv[])
{
    bool smoke = false;
    const char *dir = NULL;
    const char *sets_arg = "acl1,fw1,ipc1";
    size_t n_frames = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--smoke")) {
            smoke = true;
        } else if (!strncmp(argv[i], "--classbench=", 13)) {
            dir = argv[i] + 13;
        } else if (!strncmp(argv[i], "--packets=", 10)) {
            n_frames = strtoul(argv[i] + 10, NULL, 10);
        } else if (!strncmp(argv[i], "--sets=", 7)) {
            sets_arg = argv[i] + 7;
        } else {
            fprintf(stderr, "usage: %s [--smoke] [--classbench=DIR] "
                    "[--sets=NAME,...] [--packets=N]\n", argv[0]);
            return 2;
        }
    }
    dir = bench_classbench_dir(dir);
    if (!n_frames) {
        n_frames = smoke ? 5000 : 100000;
    }

    char *sets_copy = iovp_xstrdup(sets_arg), *save = NULL;
    const char *sets[64];
    size_t n_sets = 0;
    for (char *t = strtok_r(sets_copy, ",", &save); t && n_sets < 64;
         t = strtok_r(NULL, ",", &save)) {
        sets[n_sets++] = t;
    }
    static const double exponents[] = { 1.0, 0.8 };
    static const int percents[] = { 1, 5, 10, 20 };
    enum { ALGO_IOVP, ALGO_RELAXED, ALGO_COVER, ALGO_COVER_ALL,
           ALGO_DEPENDENT, N_ALGOS };
    static const char *const algos[N_ALGOS] = {
        "iovp", "iovp-relaxed", "cover-set", "cover-set*", "dependent-set",
    };

    printf("offload placement: ClassBench %s sets, %zu frames per run, "
           "NIC of N%% as many entries as rules, 32 tuples (cover-set*: "
           "any number); hit rate (disagreements)\n",
           smoke ? "1k" : "10k", n_frames);
    printf("%-5s %-4s %4s ", "set", "s", "NIC");
    for (size_t ai = 0; ai < N_ALGOS; ai++) {
        printf(" %-15s", algos[ai]);
    }
    printf(" %-8s %s\n", "bound", "gap");
    for (size_t si = 0; si < n_sets; si++) {
        char path[4096];
        size_t n_cb;
        snprintf(path, sizeof path, "%s/%s_%s.rules", dir, sets[si],
                 smoke ? "1k" : "10k");
        struct classbench_rule *cb = classbench_read(path, &n_cb);

        struct acl_entry *in = iovp_xmalloc(n_cb * sizeof *in);
        int *prio = iovp_xmalloc(n_cb * sizeof *prio);
        for (size_t i = 0; i < n_cb; i++) {
            classbench_to_entry(&cb[i], i + 1, true, i % 2 == 0, &in[i]);
        }
        xlate_acl_priorities(in, n_cb, prio);
        struct xlate_offload_dest dest = { .mac = dest_mac, .out_port = 2 };
        struct xlate_offload_port port = {
            .mac = port_mac,
            .acl = { .entries = in, .priorities = prio, .n = n_cb },
            .dests = &dest, .n_dests = 1,
        };
        struct bench_rules br;
        xlate_offload_port(&port, &br.rules, &br.n, NULL);
        qsort(br.rules, br.n, sizeof *br.rules, compare_priority);
        bench_deps(&br);

        for (size_t ei = 0; ei < IOVP_ARRAY_SIZE(exponents); ei++) {
            /* Ranks: a seeded permutation of the rules. */
            classbench_seed(1000 + si * 10 + ei);
            size_t *rank = iovp_xmalloc(n_cb * sizeof *rank);
            for (size_t i = 0; i < n_cb; i++) {
                rank[i] = i;
            }
            for (size_t i = n_cb - 1; i > 0; i--) {
                size_t j = classbench_below(i + 1), t = rank[i];
                rank[i] = rank[j];
                rank[j] = t;
            }
            double *cdf = zipf_cdf(n_cb, exponents[ei]);

            /* Weights from a first sample, by the rule that decides each
             * frame among the flattened rules. */
            for (size_t i = 0; i < br.n; i++) {
                br.rules[i].weight = 0;
            }
            for (size_t k = 0; k < n_frames; k++) {
                struct flow f;
                struct fp_key key;
                draw(&cb[rank[zipf_draw(cdf, n_cb)]], &f);
                fp_key_from_flow(&f, &key);
                for (size_t i = 0; i < br.n; i++) {
                    if (fp_match_matches(&br.rules[i].match, &key)) {
                        br.rules[i].weight += 1;
                        break;
                    }
                }
            }

            /* The frames measured, and their fates. */
            struct flow *frames = iovp_xmalloc(n_frames * sizeof *frames);
            struct reference_verdict *verdicts = iovp_xmalloc(
                n_frames * sizeof *verdicts);
            for (size_t k = 0; k < n_frames; k++) {
                draw(&cb[rank[zipf_draw(cdf, n_cb)]], &frames[k]);
                reference_evaluate(&port, &frames[k], &verdicts[k]);
            }

            for (size_t pi = 0; pi < IOVP_ARRAY_SIZE(percents); pi++) {
                struct offload_caps caps = {
                    .max_entries = MAX(1, n_cb * percents[pi] / 100),
                    .max_masks = 32,
                    .bucket_size = 1,
                    .drop = true, .forward = true,
                };
                memset(&caps.fields, 0xff, sizeof caps.fields);
                caps.fields.pad = 0;

                printf("%-5s %-4.1f %3d%% ", sets[si], exponents[ei],
                       percents[pi]);
                double best = 0;
                for (size_t ai = 0; ai < N_ALGOS; ai++) {
                    struct offload_caps c = caps;
                    struct planner_plan plan;
                    if (ai == ALGO_IOVP || ai == ALGO_RELAXED) {
                        c.bucket_size = ai == ALGO_RELAXED ? 8 : 1;
                        planner_plan(br.rules, br.n, &c, NULL, 0, &plan);
                    } else {
                        c.max_masks = ai == ALGO_COVER_ALL ? 4096 : 32;
                        bench_baseline(&br, &c, ai == ALGO_DEPENDENT,
                                       &plan);
                    }
                    double hit;
                    size_t bad;
                    bench_measure(&plan, frames, verdicts, n_frames, &hit,
                                  &bad);
                    char cell[64];
                    snprintf(cell, sizeof cell, "%6.2f%% (%zu)", hit * 100,
                             bad);
                    printf(" %-15s", cell);
                    if (ai == ALGO_IOVP || ai == ALGO_RELAXED) {
                        best = MAX(best, hit);
                    }
                    planner_plan_destroy(&plan);
                }
                double bound = bench_bound(&br, caps.max_entries);
                printf(" %6.2f%%  %+.2f\n", bound * 100,
                       (best - bound) * 100);
                fflush(stdout);
            }
            free(frames);
            free(verdicts);
            free(rank);
            free(cdf);
        }

        for (size_t i = 0; i < br.n; i++) {
            free(br.deps[i]);
        }
        free(br.deps);
        free(br.n_deps);
        free(br.rules);
        for (size_t i = 0; i < n_cb; i++) {
            acl_entry_destroy(&in[i]);
        }
        free(in);
        free(prio);
        free(cb);
    }
    free(sets_copy);
    return 0;
}
