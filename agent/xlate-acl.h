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

#ifndef IOVP_AGENT_XLATE_ACL_H
#define IOVP_AGENT_XLATE_ACL_H 1

/* Translation of one ACL (its entries, read and checked by agent/acl.h)
 * into flows of the pipeline's ACL tables: ingress entries in table 10,
 * egress entries in table 40.  A pure function; iovpd(8) documents it.
 *
 * The flows of an ACL are shared by every port and VLAN it is bound to:
 * table 0 loads the ACL's id into xreg2 for what a binding admits (the
 * ingress ACL), tables 30 load the destination binding's ACL id into xreg4
 * (the egress ACL), and the ACL's flows match that register.
 *
 * Priorities: entries apply by ascending sequence, deny before permit for
 * entries of one sequence.  While every sequence of the ACL is in 0 to
 * XLATE_ACL_MAX_SEQUENCE, an entry's priority is a function of its
 * sequence and action alone, XLATE_ACL_TOP - 2 * sequence - (permit ? 1 :
 * 0), so that adding or removing an entry changes no other entry's flows.
 * Otherwise the entries are ranked in that order and the rank takes the
 * sequence's place; entries beyond XLATE_ACL_MAX_SEQUENCE + 1 ranks do not
 * fit, and the ACL then denies, below its last entry that fits, everything
 * else in each direction that has entries that do not fit
 * (resource_shortage).
 *
 * Port ranges become the fewest value/mask pairs; an entry with two ranges
 * that both need more than one pair uses a conjunctive match instead of
 * their product, with a conjunction id derived from the ACL's name and the
 * entry's UUID.
 *
 * Incremental (xlate_acl_run()): each entry's flows are a group of the
 * desired flows (ofp/desired.h), made again only when the entry, or its
 * priority, changes.
 *
 * Bad policy: an ACL with an entry that iovpd cannot
 * apply keeps in force the last valid version of it that this iovpd saw.
 * Where it saw none (the ACL was bad from the start, or iovpd restarted
 * since), the flows of that ACL that the switch holds stay as they are:
 * a restarted iovpd recovers the last version it installed from the switch.
 * Where the switch holds none either, everything that the ACL is bound to
 * is denied, both ways, until the ACL is fixed (fail closed). */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct acl_entry;
struct desired;
struct flow;
struct match;
struct odb_idl;
struct shash;
struct oflow;
struct oflow_table;
struct xlate_acl;

#define XLATE_ACL_TOP 60000
#define XLATE_ACL_MAX_SEQUENCE 29000
#define XLATE_ACL_FAIL_CLOSED (XLATE_ACL_TOP + 1)

void xlate_acl_entry_flows(const char *acl_name, const struct acl_entry *,
                           int priority, struct oflow_table *);
void xlate_acl_priorities(const struct acl_entry *, size_t n,
                          int *priorities);
void xlate_acl_fail_closed(const char *acl_name, struct oflow_table *);
void xlate_acl_entry_matches(const struct acl_entry *, struct match **,
                             size_t *n);

/* The effective ACL of a port or destination in one direction.  'entries'
 * are the version in force sorted by acl_entry_compare(), with their
 * OpenFlow priorities (xlate_acl_priorities(), -1 beyond the priority
 * space); entries of the other direction are ignored. */
struct xlate_acl_effect {
    const struct acl_entry *entries;
    const int *priorities;
    const double *weights;      /* Each ingress entry's traffic in OVS
                                 * (its flows' packets; 0 for an egress
                                 * entry), or NULL. */
    size_t n;
    bool deny_all;              /* Fails closed: denies everything. */
    bool unknown;               /* Its effect is not known as entries (the
                                 * flows recovered from the switch): nothing
                                 * it decides runs in the NIC. */
};

struct xlate_acl *xlate_acl_create(void);
bool xlate_acl_is_done(const struct xlate_acl *);
void xlate_acl_destroy(struct xlate_acl *);
bool xlate_acl_run(struct xlate_acl *, const struct odb_idl *vtep,
                   const struct shash *bound,
                   const struct shash *changed_acls,
                   const struct shash *changed_entries,
                   const struct oflow_table *installed, struct desired *);
json_t *xlate_acl_faults(const struct xlate_acl *);
size_t xlate_acl_memory(const struct xlate_acl *);
json_t *xlate_acl_evaluate(const struct xlate_acl *, const char *name,
                           bool ingress, const struct flow *,
                           const struct desired *);
void xlate_acl_effect(const struct xlate_acl *, const char *name,
                      const struct desired *,
                      const struct oflow_table *installed,
                      struct xlate_acl_effect *);
void xlate_acl_effect_weigh(const char *name, const struct desired *,
                            const struct oflow_table *installed,
                            struct xlate_acl_effect *);
void xlate_acl_effect_free(struct xlate_acl_effect *);
uint64_t xlate_acl_version(const struct xlate_acl *, const char *name);
void xlate_acl_entry_installed(const struct desired *,
                               const struct oflow_table *installed,
                               const char *acl, const char *uuid,
                               const struct oflow ***flowsp, size_t *n);
json_t *xlate_acl_describe(const struct xlate_acl *, const char *name,
                           const struct desired *,
                           const struct oflow_table *installed);

#endif /* agent/xlate-acl.h */
