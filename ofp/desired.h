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

#ifndef IOVP_OFP_DESIRED_H
#define IOVP_OFP_DESIRED_H 1

/* The desired flows: what the policy asks the switch to hold, in groups.
 *
 * Translation makes flows a group at a time: a group is what one piece of
 * policy gives (an ACL entry, the switching pipeline), named by a key that
 * says which.  desired_set_group() replaces a group's flows with new ones
 * and notes, flow by flow, what that changed: a flow that comes out the
 * same is kept as it was.  ofctrl_put() then sends only those changes
 * (or, after it has read the switch's flows anew, the whole difference),
 * so that a change to one entry of a long ACL costs in proportion to the
 * entry, not to the ACL or to all the flows.
 *
 * The desired flows hold one flow for each identity (table, priority,
 * match).  Groups may make flows of one identity (an ACL's entries of one
 * sequence with one match, or sharing a conjunction clause): each group's
 * flow is its claim, and the desired flow of the identity follows from the
 * claims there are, whatever order they came and went in (desired.c says
 * how), so that removing one group never takes away a flow that another
 * still makes. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openvswitch/hmap.h>

#include "ofp/oflow.h"

struct shash;

/* A meter that desired flows use: a single band that drops what exceeds
 * 'rate' kbit/s, with a bucket of 'burst' kbit (0: the switch's default).
 * ofctrl (ofp/ofctrl.h) installs it before the flows that use it, and
 * removes it after them. */
struct desired_meter {
    struct hmap_node node;      /* In "struct desired"'s 'meters', by id. */
    uint32_t id;
    uint32_t rate;
    uint32_t burst;
};

struct desired {
    struct oflow_table flows;   /* Every group's flows. */
    struct hmap groups;         /* Contains "struct desired_group"s. */
    struct hmap contests;       /* Contains "struct desired_contest"s: the
                                 * identities that groups share. */
    struct oflow_table tracked; /* Identities changed since the last
                                 * desired_clear_tracked(), no actions. */
    struct oflow **slabs;       /* The copies in 'tracked', cut from */
    size_t n_slabs, slab_used;  /* arrays of DESIRED_SLAB_FLOWS. */
    unsigned long long int n_changes;   /* Changes of 'flows' and
                                         * 'meters' so far: a caller tells
                                         * by it whether an update changed
                                         * anything. */
    struct hmap meters;         /* Contains "struct desired_meter"s. */
};

void desired_init(struct desired *);
void desired_destroy(struct desired *);

void desired_set_group(struct desired *, const char *key,
                       struct oflow_table *flows);
void desired_remove_group(struct desired *, const char *key);
void desired_keep_groups(struct desired *, struct shash *old,
                         struct shash *new);
bool desired_has_group(const struct desired *, const char *key);
struct oflow *const *desired_group_flows(const struct desired *,
                                         const char *key, size_t *n);

void desired_set_meter(struct desired *, uint32_t id, uint32_t rate,
                       uint32_t burst);
void desired_remove_meter(struct desired *, uint32_t id);
const struct desired_meter *desired_find_meter(const struct desired *,
                                               uint32_t id);

const struct oflow_table *desired_flows(const struct desired *);
size_t desired_groups_memory(const struct desired *);
const struct oflow_table *desired_tracked(const struct desired *);
void desired_clear_tracked(struct desired *);

#endif /* ofp/desired.h */
