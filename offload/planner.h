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

#ifndef IOVP_OFFLOAD_PLANNER_H
#define IOVP_OFFLOAD_PLANNER_H 1

/* The planner: which rules of a port's policy run in the NIC.
 *
 * Its input is the port's policy flattened into one table of rules
 * (agent/xlate-offload.h makes it from the pipeline): each rule a match, a
 * priority and the fate the full pipeline gives the frames it matches when
 * no rule of higher priority matches them.  Rules of equal priority do not
 * overlap, or have the same fate.  A rule whose match needs fields a fast
 * path lacks carries a wider match over the fields it has, and is marked
 * inexact.
 *
 * Its output is the port's fast path: some rules as themselves, and, for
 * each rule as itself, every rule of higher priority that overlaps it and
 * has another fate, either as itself too or as a "cover", an entry of its
 * (possibly widened) match that sends frames to OVS.  Then a frame the
 * fast path decides is decided by the rule that decides it in the full
 * pipeline, or by one of the same fate: the NIC never gives a frame a fate
 * OVS would not (the invariant of ../DESIGN.md, "Offload").
 *
 * Within the backend's limits (entries, distinct masks, fields, fates) it
 * chooses the rules that carry the most traffic for the entries they cost
 * (their covers included, shared covers counted once), preferring by a
 * margin the rules already in the NIC, so that a re-plan does not churn,
 * and keeping each entry the NIC holds in the tuple it is in, if it can,
 * so that what a plan counts on is what the NIC has.
 *
 * Pure: no I/O, no clock, no globals. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "offload/backend.h"
#include "offload/fastpath.h"

/* An entry id with this bit is a rule's cover; without, the rule itself. */
#define PLANNER_COVER_ID 0x80000000u

struct planner_rule {
    struct fp_match match;
    bool exact;                 /* False: 'match' is wider than the rule. */
    uint32_t priority;
    enum fp_fate fate;
    uint32_t out_port;          /* FP_FORWARD: the backend's port. */
    uint32_t id;                /* Unique in the port, nonzero, without
                                 * PLANNER_COVER_ID; stable across plans. */
    double weight;              /* Traffic it decides (any unit). */
};

struct planner_plan {
    struct fp_entry *entries;   /* Covers first, then rules as themselves,
                                 * each in descending priority. */
    size_t n_entries;
    size_t n_covers;
    size_t n_masks;
    double weight;              /* Of the rules as themselves. */
    double total_weight;        /* Of all the rules. */
};

void planner_plan(const struct planner_rule *rules, size_t n,
                  const struct offload_caps *,
                  const struct fp_entry *installed, size_t n_installed,
                  struct planner_plan *);
void planner_plan_destroy(struct planner_plan *);

bool planner_rule_installable(const struct planner_rule *,
                              const struct offload_caps *);
void planner_cover_match(const struct planner_rule *,
                         const struct offload_caps *, struct fp_match *);

#endif /* offload/planner.h */
