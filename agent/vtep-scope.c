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

#include "agent/vtep-scope.h"

#include <string.h>

#include <openvswitch/shash.h>

#include "agent/switch-ports.h"
#include "lib/util.h"
#include "model/vtep-idl.h"
#include "ovsdb/idl.h"

/* UUIDs as text, each set a table's rows (or, for 'ls' and 'ports', what
 * other tables' rows refer to). */
struct vtep_scope {
    struct shash ports;         /* Physical_Port. */
    struct shash tunnels;       /* Tunnel. */
    struct shash ls;            /* Logical_Switch. */
    struct shash stats;         /* Logical_Binding_Stats. */
    struct shash acls;          /* ACL. */
    struct shash locator_sets;  /* Physical_Locator_Set. */
    struct shash locators;      /* Physical_Locator. */
    struct shash qos;           /* Iovp_QoS. */
    struct shash backends;      /* Iovp_LB_Backend. */
};

/* Adds to 'where' the clause 'column' == each of the 'n' UUIDs 'uuids',
 * which are sorted and distinct.
 *
 * A condition on "_uuid" always has a clause, one that matches no row when
 * 'uuids' is empty: ovsdb-server (3.1) adds the columns that a condition
 * names to a monitor that sessions with the same request share, and a
 * column added by a monitor_cond_change, while changes are recorded for
 * the old columns, makes it read past a row's values and crash (seen with
 * 10 iovpds on one cluster: a segfault in
 * ovsdb_condition_match_any_clause_optimized()).  "_uuid" is the one
 * column of a condition that the monitor does not ask for, so with it in
 * the first request no later change adds a column. */
static void
scope_add_uuid_clauses(json_t *where, const char *column,
                       const char *const *uuids, size_t n)
{
    if (!strcmp(column, "_uuid") && !n) {
        json_array_append_new(where, json_pack(
                                  "[s, s, [s, s]]", column, "==", "uuid",
                                  "00000000-0000-0000-0000-000000000000"));
        return;
    }

    /* The words that every clause repeats are one value each: an ACL of
     * 100,000 entries makes as many clauses, which the session keeps. */
    json_t *column_ = json_string(column);
    json_t *eq = json_string("==");
    json_t *uuid = json_string("uuid");

    for (size_t i = 0; i < n; i++) {
        /* Made by hand: json_pack() took twice as long, reading its format
         * for each clause.  (A UUID, from the model, is valid UTF-8.) */
        json_t *ref = json_array();
        json_array_append(ref, uuid);
        json_array_append_new(ref, json_string_nocheck(uuids[i]));

        json_t *clause = json_array();
        json_array_append(clause, column_);
        json_array_append(clause, eq);
        json_array_append_new(clause, ref);
        json_array_append_new(where, clause);
    }
    json_decref(column_);
    json_decref(eq);
    json_decref(uuid);
}

/* Adds to 'where' the clause 'column' == each of 'uuids' (see
 * scope_add_uuid_clauses()). */
static void
scope_add_clauses(json_t *where, const char *column,
                  const struct shash *uuids)
{
    size_t n = shash_count(uuids);
    const struct shash_node **nodes = shash_sort(uuids);
    const char **names = iovp_xmalloc(MAX(1, n) * sizeof *names);

    for (size_t i = 0; i < n; i++) {
        names[i] = nodes[i]->name;
    }
    scope_add_uuid_clauses(where, column, names, n);
    free(names);
    free(nodes);
}

/* Sets 'table''s condition in 'conds' to 'where' (stolen), or to [false]
 * if 'where' has no clause: a server takes an empty condition for every
 * row. */
static void
scope_set(json_t *conds, const char *table, json_t *where)
{
    if (!json_array_size(where)) {
        json_array_append_new(where, json_false());
    }
    json_object_set_new(conds, table, where);
}

/* Returns a new reference to a digest of the set 'uuids', the same for
 * the same set whatever its order: its size and the sum of its members'
 * 64-bit hashes. */
static json_t *
scope_digest(const struct shash *uuids)
{
    uint64_t sum = 0;
    const struct shash_node *node;

    SHASH_FOR_EACH (node, uuids) {
        sum += iovp_hash_string64(node->name);
    }
    return json_pack("[I, I]", (json_int_t) shash_count(uuids),
                     (json_int_t) sum);
}

/* Sets 'table''s condition in 'conds': its rows whose 'column' is one of
 * 'uuids' ("_uuid" for the rows themselves).  With 'digests', leaves it
 * out if 'digests' says the last condition came from the same set, and
 * otherwise records this set's: an ACL's 100,000 entries make as many
 * clauses, which need not be made again, nor compared with the session's,
 * when a change elsewhere made the conditions be computed again. */
static void
scope_set_refs(json_t *conds, json_t *digests, const char *table,
               const char *column, const struct shash *uuids)
{
    if (digests) {
        json_t *digest = scope_digest(uuids);
        if (json_equal(digest, json_object_get(digests, table))) {
            json_decref(digest);
            return;
        }
        json_object_set_new(digests, table, digest);
    }

    json_t *where = json_array();
    scope_add_clauses(where, column, uuids);
    scope_set(conds, table, where);
}

/* UUIDs as text, as a growing array. */
struct scope_list {
    const char **uuids;
    size_t n, allocated;
};

static void
scope_list_add(const char *uuid, void *list_)
{
    struct scope_list *list = list_;

    if (list->n >= list->allocated) {
        list->allocated = MAX(64, 2 * list->allocated);
        list->uuids = iovp_xrealloc(list->uuids,
                                    list->allocated * sizeof *list->uuids);
    }
    list->uuids[list->n++] = uuid;
}

static int
scope_compare_uuids(const void *a_, const void *b_)
{
    const char *const *a = a_;
    const char *const *b = b_;

    return strcmp(*a, *b);
}

/* Sets ACL_entry's condition in 'conds': the entries of the ACLs that
 * 'vtep' holds.  With 'digests', as
 * scope_set_refs() does, but from a digest of the references themselves,
 * taken first, so that the set, 100,000 entries for 100 ACLs of 1,000, is
 * built only when they changed (each time the conditions are computed
 * again while ACLs arrive).  The set is an array, sorted, not a shash: at
 * that size, a copy and a hash-table node for each UUID took half of the
 * time that the conditions took on a restart. */
static void
scope_set_entries(json_t *conds, json_t *digests, const struct odb_idl *vtep)
{
    const struct hwvtep_acl *acl;
    json_t *digest = NULL;

    if (digests) {
        uint64_t sum = 0;
        size_t n = 0;
        HWVTEP_ACL_FOR_EACH (acl, vtep) {
            odb_idl_row_hash_refs(&acl->header_, HWVTEP_ACL_COL_ACL_ENTRIES,
                                  &n, &sum);
        }
        digest = json_pack("[I, I]", (json_int_t) n, (json_int_t) sum);
        if (json_equal(digest, json_object_get(digests, "ACL_entry"))) {
            json_decref(digest);
            return;
        }
    }

    struct scope_list entries = { NULL, 0, 0 };
    HWVTEP_ACL_FOR_EACH (acl, vtep) {
        odb_idl_row_for_each_ref(&acl->header_, HWVTEP_ACL_COL_ACL_ENTRIES,
                                 scope_list_add, &entries);
    }
    if (entries.n) {
        qsort(entries.uuids, entries.n, sizeof *entries.uuids,
              scope_compare_uuids);
    }
    size_t n = 0;
    for (size_t i = 0; i < entries.n; i++) {
        if (!n || strcmp(entries.uuids[i], entries.uuids[n - 1])) {
            entries.uuids[n++] = entries.uuids[i];
        }
    }

    json_t *where = json_array();
    scope_add_uuid_clauses(where, "_uuid", entries.uuids, n);
    scope_set(conds, "ACL_entry", where);
    free(entries.uuids);
    if (digest) {
        json_object_set_new(digests, "ACL_entry", digest);
    }
}

/* Returns a new reference to the conditions, {TABLE: <condition>} for each
 * table of hardware_vtep that iovpd monitors, that select what switch
 * 'switch_name' needs of the rows that 'vtep' holds now: see
 * agent/vtep-scope.h.  'tunnel_ip', if nonnull, is the switch's tunnel
 * address, whose locator it reports.
 *
 * 'digests', if nonnull, is an object that the caller keeps from one call
 * to the next: the tables that select their rows from a set of references
 * are left out when their set is the same as at the last call, whose
 * conditions the caller still has. */
json_t *
vtep_scope_conditions(const struct odb_idl *vtep, const char *switch_name,
                      const char *tunnel_ip, json_t *digests)
{
    const struct hwvtep_physical_switch *ps = (switch_name
                                               ? switch_ports_find_switch(
                                                   vtep, switch_name)
                                               : NULL);
    struct vtep_scope s;
    json_t *conds = json_object();

    shash_init(&s.ports);
    shash_init(&s.tunnels);
    shash_init(&s.ls);
    shash_init(&s.stats);
    shash_init(&s.acls);
    shash_init(&s.locator_sets);
    shash_init(&s.locators);
    shash_init(&s.qos);
    shash_init(&s.backends);

    /* The switch, and what it refers to. */
    json_object_set_new(conds, "Global", json_pack("[b]", true));
    scope_set(conds, "Physical_Switch",
              (switch_name
               ? json_pack("[[s, s, s]]", "name", "==", switch_name)
               : json_array()));
    if (ps) {
        odb_idl_row_add_refs(&ps->header_, HWVTEP_PHYSICAL_SWITCH_COL_PORTS,
                             &s.ports);
        odb_idl_row_add_refs(&ps->header_, HWVTEP_PHYSICAL_SWITCH_COL_TUNNELS,
                             &s.tunnels);
        for (size_t i = 0; i < ps->n_ports; i++) {
            const struct odb_idl_row *pp = &ps->ports[i]->header_;

            odb_idl_row_add_refs(pp, HWVTEP_PHYSICAL_PORT_COL_VLAN_BINDINGS,
                                 &s.ls);
            odb_idl_row_add_refs(pp, HWVTEP_PHYSICAL_PORT_COL_ACL_BINDINGS,
                                 &s.acls);
            odb_idl_row_add_refs(pp, HWVTEP_PHYSICAL_PORT_COL_VLAN_STATS,
                                 &s.stats);
        }
    }
    scope_set_refs(conds, digests, "Physical_Port", "_uuid", &s.ports);
    scope_set_refs(conds, digests, "Tunnel", "_uuid", &s.tunnels);
    scope_set_refs(conds, digests, "Logical_Switch", "_uuid", &s.ls);
    scope_set_refs(conds, digests, "Logical_Binding_Stats", "_uuid",
                   &s.stats);
    scope_set_refs(conds, digests, "ACL", "_uuid", &s.acls);

    /* The rows that the rows held refer to.  A row held that no longer
     * belongs leaves at the next change of conditions, and what it refers
     * to a change later. */
    scope_set_entries(conds, digests, vtep);

    const struct hwvtep_tunnel *tunnel;
    HWVTEP_TUNNEL_FOR_EACH (tunnel, vtep) {
        odb_idl_row_add_refs(&tunnel->header_, HWVTEP_TUNNEL_COL_LOCAL,
                             &s.locators);
        odb_idl_row_add_refs(&tunnel->header_, HWVTEP_TUNNEL_COL_REMOTE,
                             &s.locators);
    }
    const struct hwvtep_ucast_macs_local *ucl;
    HWVTEP_UCAST_MACS_LOCAL_FOR_EACH (ucl, vtep) {
        odb_idl_row_add_refs(&ucl->header_,
                             HWVTEP_UCAST_MACS_LOCAL_COL_LOCATOR,
                             &s.locators);
    }
    const struct hwvtep_ucast_macs_remote *ucr;
    HWVTEP_UCAST_MACS_REMOTE_FOR_EACH (ucr, vtep) {
        odb_idl_row_add_refs(&ucr->header_,
                             HWVTEP_UCAST_MACS_REMOTE_COL_LOCATOR,
                             &s.locators);
    }
    const struct hwvtep_mcast_macs_local *mcl;
    HWVTEP_MCAST_MACS_LOCAL_FOR_EACH (mcl, vtep) {
        odb_idl_row_add_refs(&mcl->header_,
                             HWVTEP_MCAST_MACS_LOCAL_COL_LOCATOR_SET,
                             &s.locator_sets);
    }
    const struct hwvtep_mcast_macs_remote *mcr;
    HWVTEP_MCAST_MACS_REMOTE_FOR_EACH (mcr, vtep) {
        odb_idl_row_add_refs(&mcr->header_,
                             HWVTEP_MCAST_MACS_REMOTE_COL_LOCATOR_SET,
                             &s.locator_sets);
    }
    const struct hwvtep_physical_locator_set *set;
    HWVTEP_PHYSICAL_LOCATOR_SET_FOR_EACH (set, vtep) {
        odb_idl_row_add_refs(&set->header_,
                             HWVTEP_PHYSICAL_LOCATOR_SET_COL_LOCATORS,
                             &s.locators);
    }

    /* The switch's own locators, also before any row refers to them: it
     * reports its local MACs with them, and must find them to do so; and
     * the rows it reported with them, also of logical switches that it no
     * longer has, so that it can take them away. */
    struct shash own_ips = SHASH_INITIALIZER(&own_ips);
    if (tunnel_ip) {
        shash_add_once(&own_ips, tunnel_ip, NULL);
    }
    for (size_t i = 0; ps && i < ps->n_tunnel_ips; i++) {
        shash_add_once(&own_ips, ps->tunnel_ips[i], NULL);
    }
    struct shash own_locators = SHASH_INITIALIZER(&own_locators);
    const struct hwvtep_physical_locator *loc;
    HWVTEP_PHYSICAL_LOCATOR_FOR_EACH (loc, vtep) {
        if (loc->dst_ip && shash_find(&own_ips, loc->dst_ip)) {
            shash_add_once(&own_locators, loc->header_.uuid, NULL);
        }
    }
    struct shash own_sets = SHASH_INITIALIZER(&own_sets);
    HWVTEP_PHYSICAL_LOCATOR_SET_FOR_EACH (set, vtep) {
        if (set->n_locators == 1
            && shash_find(&own_locators, set->locators[0]->header_.uuid)) {
            shash_add_once(&own_sets, set->header_.uuid, NULL);
        }
    }

    json_t *where = json_array();
    scope_add_clauses(where, "_uuid", &s.locators);
    const struct shash_node **ips = shash_sort(&own_ips);
    for (size_t i = 0; i < shash_count(&own_ips); i++) {
        json_array_append_new(where, json_pack("[s, s, s]", "dst_ip", "==",
                                               ips[i]->name));
    }
    free(ips);
    scope_set(conds, "Physical_Locator", where);

    where = json_array();
    scope_add_clauses(where, "_uuid", &s.locator_sets);
    scope_add_clauses(where, "locators", &own_locators);
    scope_set(conds, "Physical_Locator_Set", where);

    /* The MACs of the switch's logical switches, and those it reported. */
    where = json_array();
    scope_add_clauses(where, "logical_switch", &s.ls);
    scope_add_clauses(where, "locator", &own_locators);
    scope_set(conds, "Ucast_Macs_Local", where);
    where = json_array();
    scope_add_clauses(where, "logical_switch", &s.ls);
    scope_add_clauses(where, "locator_set", &own_sets);
    scope_set(conds, "Mcast_Macs_Local", where);
    scope_set_refs(conds, digests, "Ucast_Macs_Remote", "logical_switch",
                   &s.ls);
    scope_set_refs(conds, digests, "Mcast_Macs_Remote", "logical_switch",
                   &s.ls);
    shash_destroy(&own_ips);
    shash_destroy(&own_locators);
    shash_destroy(&own_sets);

    /* iovp's tables: of the switch, of its ports, of its logical
     * switches. */
    where = json_array();
    if (ps) {
        json_t *uuid = odb_idl_row_uuid(&ps->header_);

        json_array_append_new(where, json_pack("[s, s, o]", "physical_switch",
                                               "==", uuid));
    }
    scope_set(conds, "Iovp_Switch", json_deep_copy(where));
    scope_set(conds, "Iovp_Offload", where);

    scope_set_refs(conds, digests, "Iovp_Port", "physical_port", &s.ports);
    const struct hwvtep_iovp_port *ip;
    HWVTEP_IOVP_PORT_FOR_EACH (ip, vtep) {
        odb_idl_row_add_refs(&ip->header_, HWVTEP_IOVP_PORT_COL_QOS_BINDINGS,
                             &s.qos);
    }
    scope_set_refs(conds, digests, "Iovp_QoS", "_uuid", &s.qos);
    scope_set_refs(conds, digests, "Iovp_Steering", "port", &s.ports);

    where = json_array();
    scope_add_clauses(where, "source_port", &s.ports);
    scope_add_clauses(where, "destination", &s.ports);
    scope_add_clauses(where, "logical_switch", &s.ls);
    scope_set(conds, "Iovp_Capture", where);

    scope_set_refs(conds, digests, "Iovp_Load_Balancer", "logical_switch",
                   &s.ls);
    const struct hwvtep_iovp_load_balancer *lb;
    HWVTEP_IOVP_LOAD_BALANCER_FOR_EACH (lb, vtep) {
        odb_idl_row_add_refs(&lb->header_,
                             HWVTEP_IOVP_LOAD_BALANCER_COL_BACKENDS,
                             &s.backends);
    }
    scope_set_refs(conds, digests, "Iovp_LB_Backend", "_uuid", &s.backends);

    shash_destroy(&s.ports);
    shash_destroy(&s.tunnels);
    shash_destroy(&s.ls);
    shash_destroy(&s.stats);
    shash_destroy(&s.acls);
    shash_destroy(&s.locator_sets);
    shash_destroy(&s.locators);
    shash_destroy(&s.qos);
    shash_destroy(&s.backends);
    return conds;
}

/* The tables whose rows neither vtep_scope_conditions() nor
 * vtep_scope_changed() reads (they follow the references to them and read
 * nothing of the rows themselves), NULL-terminated: a snapshot's rows of
 * these need not be in the model before the first monitor request. */
const char *const vtep_scope_unread_tables[] = { "ACL_entry", NULL };

/* Returns true if a row that the tracked changes of 'vtep' inserted or
 * deleted, or a column of one that they modified, may change the
 * conditions: the references that they follow, and the switch's name and
 * tunnel addresses. */
bool
vtep_scope_changed(const struct odb_idl *vtep)
{
#define SCOPE_TOUCHED(ROW, COLUMN)                      \
    (odb_idl_row_is_new(&(ROW)->header_)                \
     || odb_idl_row_is_deleted(&(ROW)->header_)         \
     || odb_idl_row_is_updated(&(ROW)->header_, COLUMN))

    if (odb_idl_reloaded(vtep)) {
        return true;
    }

    const struct hwvtep_physical_switch *ps;
    HWVTEP_PHYSICAL_SWITCH_FOR_EACH_TRACKED (ps, vtep) {
        if (SCOPE_TOUCHED(ps, HWVTEP_PHYSICAL_SWITCH_COL_NAME)
            || odb_idl_row_is_updated(&ps->header_,
                                      HWVTEP_PHYSICAL_SWITCH_COL_PORTS)
            || odb_idl_row_is_updated(&ps->header_,
                                      HWVTEP_PHYSICAL_SWITCH_COL_TUNNELS)
            || odb_idl_row_is_updated(&ps->header_,
                                      HWVTEP_PHYSICAL_SWITCH_COL_TUNNEL_IPS)) {
            return true;
        }
    }
    const struct hwvtep_physical_port *pp;
    HWVTEP_PHYSICAL_PORT_FOR_EACH_TRACKED (pp, vtep) {
        if (SCOPE_TOUCHED(pp, HWVTEP_PHYSICAL_PORT_COL_VLAN_BINDINGS)
            || odb_idl_row_is_updated(&pp->header_,
                                      HWVTEP_PHYSICAL_PORT_COL_ACL_BINDINGS)
            || odb_idl_row_is_updated(&pp->header_,
                                      HWVTEP_PHYSICAL_PORT_COL_VLAN_STATS)) {
            return true;
        }
    }
    const struct hwvtep_acl *acl;
    HWVTEP_ACL_FOR_EACH_TRACKED (acl, vtep) {
        if (SCOPE_TOUCHED(acl, HWVTEP_ACL_COL_ACL_ENTRIES)) {
            return true;
        }
    }
    const struct hwvtep_tunnel *tunnel;
    HWVTEP_TUNNEL_FOR_EACH_TRACKED (tunnel, vtep) {
        if (SCOPE_TOUCHED(tunnel, HWVTEP_TUNNEL_COL_LOCAL)
            || odb_idl_row_is_updated(&tunnel->header_,
                                      HWVTEP_TUNNEL_COL_REMOTE)) {
            return true;
        }
    }
    const struct hwvtep_ucast_macs_local *ucl;
    HWVTEP_UCAST_MACS_LOCAL_FOR_EACH_TRACKED (ucl, vtep) {
        if (SCOPE_TOUCHED(ucl, HWVTEP_UCAST_MACS_LOCAL_COL_LOCATOR)) {
            return true;
        }
    }
    const struct hwvtep_ucast_macs_remote *ucr;
    HWVTEP_UCAST_MACS_REMOTE_FOR_EACH_TRACKED (ucr, vtep) {
        if (SCOPE_TOUCHED(ucr, HWVTEP_UCAST_MACS_REMOTE_COL_LOCATOR)) {
            return true;
        }
    }
    const struct hwvtep_mcast_macs_local *mcl;
    HWVTEP_MCAST_MACS_LOCAL_FOR_EACH_TRACKED (mcl, vtep) {
        if (SCOPE_TOUCHED(mcl, HWVTEP_MCAST_MACS_LOCAL_COL_LOCATOR_SET)) {
            return true;
        }
    }
    const struct hwvtep_mcast_macs_remote *mcr;
    HWVTEP_MCAST_MACS_REMOTE_FOR_EACH_TRACKED (mcr, vtep) {
        if (SCOPE_TOUCHED(mcr, HWVTEP_MCAST_MACS_REMOTE_COL_LOCATOR_SET)) {
            return true;
        }
    }
    const struct hwvtep_physical_locator *loc;
    HWVTEP_PHYSICAL_LOCATOR_FOR_EACH_TRACKED (loc, vtep) {
        if (SCOPE_TOUCHED(loc, HWVTEP_PHYSICAL_LOCATOR_COL_DST_IP)) {
            return true;
        }
    }
    const struct hwvtep_physical_locator_set *set;
    HWVTEP_PHYSICAL_LOCATOR_SET_FOR_EACH_TRACKED (set, vtep) {
        if (SCOPE_TOUCHED(set, HWVTEP_PHYSICAL_LOCATOR_SET_COL_LOCATORS)) {
            return true;
        }
    }
    const struct hwvtep_iovp_port *ip;
    HWVTEP_IOVP_PORT_FOR_EACH_TRACKED (ip, vtep) {
        if (SCOPE_TOUCHED(ip, HWVTEP_IOVP_PORT_COL_QOS_BINDINGS)) {
            return true;
        }
    }
    const struct hwvtep_iovp_load_balancer *lb;
    HWVTEP_IOVP_LOAD_BALANCER_FOR_EACH_TRACKED (lb, vtep) {
        if (SCOPE_TOUCHED(lb, HWVTEP_IOVP_LOAD_BALANCER_COL_BACKENDS)) {
            return true;
        }
    }
    return false;
#undef SCOPE_TOUCHED
}
