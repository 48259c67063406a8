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

#ifndef IOVP_OFFLOAD_NICCTRL_H
#define IOVP_OFFLOAD_NICCTRL_H 1

/* nicctrl: each VM port's fast path in the NIC kept in step with the
 * policy, as ofctrl keeps OVS's flows.
 *
 * For each port it holds the port's rules (offload/planner.h) and what the
 * backend holds (the entries of the last plan that it took), and keeps the
 * invariant of ../DESIGN.md, "Offload", through every change:
 *
 *   - nicctrl_set_rules(), called with a port's new rules before OVS is
 *     sent the bundle that makes them true, withdraws at once every entry
 *     the change affects: a rule as itself that is gone, or that a new rule
 *     above it, overlapping it with another fate, would now decide
 *     differently.  What is left stays right under both the old and the
 *     new policy.
 *   - nicctrl_commit(), called once OVS holds every flow (after the
 *     barrier), plans the ports whose rules changed and installs: covers
 *     first, then rules as themselves; what is removed goes in the other
 *     order.  A commit plans so many rules at most: the caller commits
 *     again while it says that ports are left.
 *   - nicctrl_replan() re-plans every port from traffic (the NIC's counters,
 *     decayed, and the weights the rules carry from OVS's).
 *
 * A backend that refuses a put, runs full or disappears only leaves the
 * entries concerned to OVS: nicctrl reads back what the backend holds,
 * lowers the port's capacity when it ran full, and tries a port that
 * failed again later. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "offload/backend.h"
#include "offload/planner.h"

struct nicctrl;

struct nicctrl *nicctrl_create(struct offload *);
void nicctrl_destroy(struct nicctrl *);
struct offload *nicctrl_backend(const struct nicctrl *);

bool nicctrl_set_rules(struct nicctrl *, const char *port,
                       const char *device, struct planner_rule *rules,
                       size_t n);
void nicctrl_remove_port(struct nicctrl *, const char *port);
void nicctrl_retain(struct nicctrl *, const char *const *ports, size_t n);
void nicctrl_withdraw_all(struct nicctrl *);
uint32_t nicctrl_port_id(const struct nicctrl *, const char *device);
bool nicctrl_has_port(const struct nicctrl *, const char *port);
bool nicctrl_commit(struct nicctrl *, long long int now);
void nicctrl_set_steering(struct nicctrl *, const char *port,
                          const struct offload_steer *, size_t n);
int nicctrl_steering_error(const struct nicctrl *, const char *port);
void nicctrl_steer_stats(const struct nicctrl *, const char *port,
                         struct offload_steer_stats **, size_t *n);
void nicctrl_replan(struct nicctrl *, long long int now);

/* What the NIC decided for a port, from its counters. */
struct nicctrl_port_stats {
    uint64_t decided;           /* Frames its rules as themselves took. */
    uint64_t dropped;           /* Of those, dropped. */
    uint64_t covered;           /* Frames its covers sent to OVS. */
};
void nicctrl_port_stats(const struct nicctrl *, const char *port,
                        struct nicctrl_port_stats *);
void nicctrl_rule_stats(const struct nicctrl *, const char *port,
                        uint32_t rule_id, uint64_t *packets,
                        uint64_t *bytes);
typedef void nicctrl_rule_cb(const struct planner_rule *, uint64_t packets,
                             void *aux);
void nicctrl_rules_decided(const struct nicctrl *, const char *port,
                           nicctrl_rule_cb *, void *aux);

json_t *nicctrl_show(const struct nicctrl *, const char *port);
json_t *nicctrl_summary(const struct nicctrl *);
json_t *nicctrl_verify_delivery(struct nicctrl *, const char *port,
                                size_t max);
int nicctrl_classify(struct nicctrl *, const char *port, const void *frame,
                     size_t len, struct fp_entry *);

#endif /* offload/nicctrl.h */
