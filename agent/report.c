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

#include "agent/report.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/shash.h>
#include <openvswitch/util.h>

#include "agent/acl.h"
#include "agent/overlay.h"
#include "agent/switch-ports.h"
#include "agent/vm-ports.h"
#include "lib/util.h"
#include "model/vtep-idl.h"
#include "ovsdb/idl.h"
#include "ovsdb/query.h"

/* Returns a new reference to the operations that make the hardware_vtep
 * database, as its model 'vtep' shows it, hold this switch's
 * Physical_Switch row as 'spec' describes it (its name, tunnel address
 * and "switch_fault_status", which is iovpd's alone: "unspecified_fault"
 * or nothing); NULL when it already does. */
json_t *
report_physical_switch(const struct odb_idl *vtep,
                       const struct report_spec *spec)
{
    const struct hwvtep_global *global = hwvtep_global_first(vtep);
    const struct hwvtep_physical_switch *ps;
    json_t *ops = json_array();

    ps = switch_ports_find_switch(vtep, spec->switch_name);
    if (!ps) {
        json_t *row = json_pack("{s:s}", "name", spec->switch_name);
        if (spec->tunnel_ip) {
            json_object_set_new(row, "tunnel_ips",
                                json_string(spec->tunnel_ip));
        }
        json_array_append_new(ops, json_pack(
            "{s:s, s:s, s:[[s, s, s]], s:[s], s:s, s:[], s:i}",
            "op", "wait", "table", "Physical_Switch",
            "where", "name", "==", spec->switch_name, "columns", "name",
            "until", "==", "rows", "timeout", 0));
        json_array_append_new(ops, json_pack(
            "{s:s, s:s, s:o, s:s}", "op", "insert",
            "table", "Physical_Switch", "row", row, "uuid-name", "ps"));
        if (global) {
            json_array_append_new(ops, json_pack(
                "{s:s, s:s, s:o, s:[[s, s, [s, s]]]}",
                "op", "mutate", "table", "Global",
                "where", odb_idl_row_where(&global->header_),
                "mutations", "switches", "insert", "named-uuid", "ps"));
        } else {
            /* Guarded: another client (vtep-ctl, say) may be making the
             * one Global row at this moment. */
            json_array_append_new(ops, json_pack(
                "{s:s, s:s, s:[], s:[s], s:s, s:[], s:i}",
                "op", "wait", "table", "Global", "where",
                "columns", "switches", "until", "==", "rows", "timeout", 0));
            json_array_append_new(ops, json_pack(
                "{s:s, s:s, s:{s:[s, s]}}", "op", "insert",
                "table", "Global", "row", "switches", "named-uuid", "ps"));
        }
    } else {
        if (spec->tunnel_ip
            && (ps->n_tunnel_ips != 1
                || strcmp(ps->tunnel_ips[0], spec->tunnel_ip))) {
            json_array_append_new(ops, json_pack(
                "{s:s, s:s, s:o, s:{s:s}}", "op", "update",
                "table", "Physical_Switch",
                "where", odb_idl_row_where(&ps->header_),
                "row", "tunnel_ips", spec->tunnel_ip));
        }

        bool faulty = (ps->n_switch_fault_status == 1
                       && !strcmp(ps->switch_fault_status[0],
                                  "unspecified_fault"));
        if (spec->switch_fault ? !faulty : ps->n_switch_fault_status) {
            json_array_append_new(ops, json_pack(
                "{s:s, s:s, s:o, s:{s:o}}", "op", "update",
                "table", "Physical_Switch",
                "where", odb_idl_row_where(&ps->header_),
                "row", "switch_fault_status",
                (spec->switch_fault ? json_string("unspecified_fault")
                 : json_pack("[s, []]", "set"))));
        }

        bool listed = false;
        for (size_t i = 0; global && i < global->n_switches; i++) {
            listed = listed || global->switches[i] == ps;
        }
        if (global && !listed) {
            json_array_append_new(ops, json_pack(
                "{s:s, s:s, s:o, s:[[s, s, o]]}",
                "op", "mutate", "table", "Global",
                "where", odb_idl_row_where(&global->header_),
                "mutations", "switches", "insert",
                odb_idl_row_uuid(&ps->header_)));
        }
    }

    return odb_txn_finish(ops, "iovpd: reporting this switch");
}

/* Returns the "other_config:'key'" of 'pp', or NULL if it has none. */
static const char *
report_other_config(const struct hwvtep_physical_port *pp, const char *key)
{
    return odb_idl_map_get(pp->key_other_config, pp->value_other_config,
                           pp->n_other_config, key);
}

/* Returns true if iovpd made 'pp': its "other_config:iovp-created" is
 * "true". */
static bool
report_is_created(const struct hwvtep_physical_port *pp)
{
    const char *created = report_other_config(pp, "iovp-created");

    return created && !strcmp(created, "true");
}

/* Returns "other_config:iovp-down-since" of 'pp' if iovpd made the row:
 * the time, in seconds since the epoch as iovpd wrote it, since which the
 * row's VM port has been gone.  NULL if the row is not iovpd's or its port
 * is not down.  The string is the model's: valid until its next update. */
static const char *
report_down_since(const struct hwvtep_physical_port *pp)
{
    return (report_is_created(pp)
            ? report_other_config(pp, "iovp-down-since")
            : NULL);
}

/* Returns a new reference to an operation that deletes
 * "other_config:iovp-down-since" from 'pp' and, if 'since' is nonnegative,
 * writes it anew as 'since'.  A mutation rather than an update, so that
 * what a controller keeps in "other_config" is left as it is. */
static json_t *
report_mark_down(const struct hwvtep_physical_port *pp, long long int since)
{
    json_t *mutations = json_pack("[[s, s, [s, [s]]]]", "other_config",
                                  "delete", "set", "iovp-down-since");

    if (since >= 0) {
        char *value = iovp_xasprintf("%lld", since);
        json_array_append_new(mutations, json_pack(
            "[s, s, [s, [[s, s]]]]", "other_config", "insert", "map",
            "iovp-down-since", value));
        free(value);
    }
    return json_pack("{s:s, s:s, s:o, s:o}", "op", "mutate",
                     "table", "Physical_Port",
                     "where", odb_idl_row_where(&pp->header_),
                     "mutations", mutations);
}

/* Appends to 'ops' the operations that delete 'pp' from switch 'ps' (and
 * so from the database), guarded: if a controller bound the row
 * meanwhile, the transaction fails and nothing is deleted, so that iovpd
 * never deletes bindings. */
static void
report_delete_port(const struct hwvtep_physical_switch *ps,
                   const struct hwvtep_physical_port *pp, json_t *ops)
{
    json_array_append_new(ops, json_pack(
        "{s:s, s:s, s:o, s:[s, s], s:s, s:[{s:[s, []], s:[s, []]}], s:i}",
        "op", "wait", "table", "Physical_Port",
        "where", odb_idl_row_where(&pp->header_),
        "columns", "vlan_bindings", "acl_bindings", "until", "==",
        "rows", "vlan_bindings", "map", "acl_bindings", "map",
        "timeout", 0));
    json_array_append_new(ops, json_pack(
        "{s:s, s:s, s:o, s:[[s, s, o]]}",
        "op", "mutate", "table", "Physical_Switch",
        "where", odb_idl_row_where(&ps->header_),
        "mutations", "ports", "delete", odb_idl_row_uuid(&pp->header_)));
}

/* Parses 'since', an "iovp-down-since", into '*t'.  Returns false if it
 * is not a time iovpd could have written by 'now' (a controller's, say, or
 * one from a clock set back since): such a mark is written anew, so that
 * no value keeps an unbound row beyond its grace period. */
static bool
report_parse_time(const char *since, long long int now, long long int *t)
{
    char *end;

    *t = strtoll(since, &end, 10);
    return since[0] && !*end && *t >= 0 && *t <= now;
}

/* Adds to 'ops' what the Physical_Port row 'pp' of switch 'ps', whose VM
 * port is gone, needs (see the top of report.h): its port marked down, or
 * the row deleted once it is unbound and its grace period over.  'pp' is
 * one of 'n_named' rows of its name.  The time at which something will be
 * due for the row goes in '*deadline' if it is earlier, and what was done
 * in 'notes'. */
static void
report_port_gone(const struct hwvtep_physical_switch *ps,
                 const struct hwvtep_physical_port *pp, size_t n_named,
                 const struct report_spec *spec, long long int *deadline,
                 json_t *ops, json_t *notes)
{
    const char *since = report_down_since(pp);
    const char *uuid = pp->header_.uuid;
    bool bound = switch_port_is_bound(pp);
    long long int t;

    if (!bound && (n_named > 1 || !spec->port_grace)) {
        /* Nothing to keep: the row carries no configuration, and another
         * row of its name is the port's, or no grace period is asked
         * for. */
        report_delete_port(ps, pp, ops);
        json_array_append_new(notes, json_sprintf(
            "port %s: its VM port is gone and Physical_Port %s is unbound"
            "%s: deleted", pp->name, uuid,
            n_named > 1 ? " beside another row of its name" : ""));
    } else if (!since || !report_parse_time(since, spec->now, &t)) {
        /* Down from now: the row and its bindings stay, as a TOR keeps
         * the configuration of a port whose link went down. */
        json_array_append_new(ops, report_mark_down(pp, spec->now));
        if (bound) {
            json_array_append_new(notes, json_sprintf(
                "port %s: its VM port is gone: Physical_Port %s stays, "
                "down, with its bindings, until the port comes back or "
                "the controller deletes the row", pp->name, uuid));
        } else {
            json_array_append_new(notes, json_sprintf(
                "port %s: its VM port is gone: Physical_Port %s stays, "
                "down, for %lld s unless the port comes back or is bound",
                pp->name, uuid, spec->port_grace));
            *deadline = MIN(*deadline, spec->now + spec->port_grace);
        }
    } else if (!bound && spec->now >= t + spec->port_grace) {
        report_delete_port(ps, pp, ops);
        json_array_append_new(notes, json_sprintf(
            "port %s: down since %lld, unbound, for longer than %lld s: "
            "Physical_Port %s deleted", pp->name, t, spec->port_grace,
            uuid));
    } else if (!bound) {
        *deadline = MIN(*deadline, t + spec->port_grace);
    }
}

/* Returns a new reference to the "ports" of 'ps' as an OVSDB set, for a
 * "wait" on it. */
static json_t *
report_port_set(const struct hwvtep_physical_switch *ps)
{
    json_t *uuids = json_array();

    for (size_t i = 0; i < ps->n_ports; i++) {
        json_array_append_new(uuids,
                              odb_idl_row_uuid(&ps->ports[i]->header_));
    }
    return json_pack("[s, o]", "set", uuids);
}

/* Returns a new reference to the operations that make this switch's
 * Physical_Port rows in the hardware_vtep model 'vtep' match the VM ports
 * on 'bridge' in the Open_vSwitch model 'ovs' (see the top of report.h),
 * at time 'spec->now'; NULL when they already do, or when the switch's own
 * row is not there yet.  Sets '*deadline' to the time (seconds since the
 * epoch) at which an unbound down port's grace period ends, the earliest,
 * or LLONG_MAX if none will; appends to 'notes' (a JSON array) a line to
 * log for each port that goes down, comes back or is deleted. */
json_t *
report_physical_ports(const struct odb_idl *vtep, const struct odb_idl *ovs,
                      const struct report_spec *spec, const char *bridge,
                      long long int *deadline, json_t *notes)
{
    const struct hwvtep_physical_switch *ps = switch_ports_find_switch(
        vtep, spec->switch_name);

    *deadline = LLONG_MAX;
    if (!ps) {
        return NULL;
    }

    size_t n_vms;
    struct vm_iface *vms = vm_ifaces_find(ovs, bridge, &n_vms);
    bool *has_row = iovp_xzalloc(MAX(1, n_vms) * sizeof *has_row);
    json_t *ops = json_array();
    size_t n_pps;
    struct odb_named_row *pps = switch_ports_rows(vtep, spec->switch_name,
                                                  &n_pps);

    /* The switch's ports, of each name: those whose VM port is there, back
     * from down perhaps, and those iovpd made for a VM port that is
     * gone. */
    for (size_t i = 0, next; i < n_pps; i = next) {
        next = odb_named_rows_next(pps, n_pps, i);
        const struct vm_iface *vm = vm_ifaces_lookup(vms, n_vms,
                                                     pps[i].name);
        for (size_t j = i; j < next; j++) {
            const struct hwvtep_physical_port *pp = pps[j].row;
            if (vm && report_down_since(pp)) {
                json_array_append_new(ops, report_mark_down(pp, -1));
                json_array_append_new(notes, json_sprintf(
                    "port %s: its VM port is back: Physical_Port %s is up",
                    pp->name, pp->header_.uuid));
            } else if (!vm && report_is_created(pp)) {
                report_port_gone(ps, pp, next - i, spec, deadline, ops,
                                 notes);
            }
        }
        if (vm) {
            has_row[vm - vms] = true;
        }
    }
    free(pps);

    /* The VM ports the switch has no row for yet, in order of
     * "iface-id". */
    size_t n = 0;
    for (size_t i = 0; i < n_vms; i++) {
        if (has_row[i]) {
            continue;
        }
        char *uuid_name = iovp_xasprintf("port%zu", n++);
        json_array_append_new(ops, json_pack(
            "{s:s, s:s, s:{s:s, s:[s, [[s, s]]]}, s:s}",
            "op", "insert", "table", "Physical_Port",
            "row", "name", vms[i].iface_id, "other_config", "map",
            "iovp-created", "true", "uuid-name", uuid_name));
        json_array_append_new(ops, json_pack(
            "{s:s, s:s, s:o, s:[[s, s, [s, s]]]}",
            "op", "mutate", "table", "Physical_Switch",
            "where", odb_idl_row_where(&ps->header_),
            "mutations", "ports", "insert", "named-uuid", uuid_name));
        free(uuid_name);
    }
    free(has_row);
    vm_ifaces_free(vms, n_vms);

    if (json_array_size(ops)) {
        /* Guard: the switch's ports are still those this was computed
         * from. */
        json_array_insert_new(ops, 0, json_pack(
            "{s:s, s:s, s:o, s:[s], s:s, s:[{s:o}], s:i}",
            "op", "wait", "table", "Physical_Switch",
            "where", odb_idl_row_where(&ps->header_), "columns", "ports",
            "until", "==", "rows", "ports", report_port_set(ps),
            "timeout", 0));
    }
    return odb_txn_finish(ops, "iovpd: reporting this switch's ports");
}

/* Returns this host's locator in 'vtep': the Physical_Locator of a VXLAN
 * tunnel to 'tunnel_ip' with no key, or NULL if there is none.  Of
 * several, the one with the lowest UUID, whatever the model's hash
 * order. */
static const struct hwvtep_physical_locator *
report_find_locator(const struct odb_idl *vtep, const char *tunnel_ip)
{
    const struct hwvtep_physical_locator *loc, *best = NULL;

    HWVTEP_PHYSICAL_LOCATOR_FOR_EACH (loc, vtep) {
        if (!strcmp(loc->dst_ip, tunnel_ip)
            && !loc->n_tunnel_key
            && !strcmp(loc->encapsulation_type, "vxlan_over_ipv4")
            && (!best || strcmp(loc->header_.uuid, best->header_.uuid) < 0)) {
            best = loc;
        }
    }
    return best;
}

/* Returns a new reference to the operation that inserts this host's
 * locator (see report_find_locator()), named "loc" in its transaction. */
static json_t *
report_insert_locator(const struct report_spec *spec)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s}, s:s}",
                     "op", "insert", "table", "Physical_Locator",
                     "row", "encapsulation_type", "vxlan_over_ipv4",
                     "dst_ip", spec->tunnel_ip, "uuid-name", "loc");
}

/* Returns a new reference to the operations that make the Ucast_Macs_Local
 * rows behind this host's locator in the hardware_vtep model 'vtep' those
 * of the VM ports on 'bridge' in the Open_vSwitch model 'ovs' (see the top
 * of report.h); NULL when they already are, or when the host has no tunnel
 * address or its switch no row yet. */
json_t *
report_ucast_macs_local(const struct odb_idl *vtep,
                        const struct odb_idl *ovs,
                        const struct report_spec *spec, const char *bridge)
{
    size_t n_pps;
    const struct hwvtep_physical_port **pps = switch_ports_used_rows(
        vtep, spec->switch_name, &n_pps);

    if (!spec->tunnel_ip || !pps) {
        free(pps);
        return NULL;
    }

    const struct hwvtep_physical_locator *loc = report_find_locator(
        vtep, spec->tunnel_ip);

    /* What should be: "MAC LS-UUID" for each VM MAC in each logical switch
     * its port is bound to. */
    size_t n_vms;
    struct vm_iface *vms = vm_ifaces_find(ovs, bridge, &n_vms);
    json_t *want = json_object();
    for (size_t j = 0; j < n_pps; j++) {
        const struct hwvtep_physical_port *pp = pps[j];
        const struct vm_iface *vm = vm_ifaces_lookup(vms, n_vms, pp->name);
        if (!vm || !vm->mac[0]) {
            continue;
        }

        for (size_t i = 0; i < pp->n_vlan_bindings; i++) {
            char *key = iovp_xasprintf(
                "%s %s", vm->mac, pp->value_vlan_bindings[i]->header_.uuid);
            json_object_set_new(want, key, json_true());
            free(key);
        }
    }
    free(pps);
    vm_ifaces_free(vms, n_vms);

    /* What is: the rows behind this host's locator. */
    json_t *ops = json_array();
    if (loc) {
        const struct hwvtep_ucast_macs_local *row;
        HWVTEP_UCAST_MACS_LOCAL_FOR_EACH (row, vtep) {
            if (row->locator != loc) {
                continue;
            }
            char *key = (row->logical_switch
                         ? iovp_xasprintf("%s %s", row->MAC,
                                          row->logical_switch->header_.uuid)
                         : NULL);
            if (key && json_object_get(want, key)) {
                json_object_del(want, key);
            } else {
                json_array_append_new(ops, json_pack(
                    "{s:s, s:s, s:o}", "op", "delete",
                    "table", "Ucast_Macs_Local",
                    "where", odb_idl_row_where(&row->header_)));
            }
            free(key);
        }
    }

    /* What is missing. */
    const char *key;
    json_t *value;
    json_object_foreach (want, key, value) {
        char *mac = iovp_xstrdup(key);
        char *ls = strchr(mac, ' ');
        *ls++ = '\0';
        json_t *locator = (loc ? odb_idl_row_uuid(&loc->header_)
                           : json_pack("[s, s]", "named-uuid", "loc"));
        json_array_append_new(ops, json_pack(
            "{s:s, s:s, s:{s:s, s:[s, s], s:o}}",
            "op", "insert", "table", "Ucast_Macs_Local",
            "row", "MAC", mac, "logical_switch", "uuid", ls,
            "locator", locator));
        free(mac);
    }
    if (!loc && json_object_size(want)) {
        json_array_insert_new(ops, 0, report_insert_locator(spec));
    }
    json_decref(want);

    return odb_txn_finish(ops, "iovpd: reporting local MACs");
}

/* The addresses to which a remote VTEP sends this host its BFD frames:
 * Open vSwitch's defaults, as Open vSwitch's VTEP emulator writes them. */
#define REPORT_BFD_DST_MAC "00:23:20:00:00:01"
#define REPORT_BFD_DST_IP "169.254.1.0"

/* Returns a new reference to the bfd_status that Tunnel row 'ot' should
 * have: with BFD on, the status of Open vSwitch's BFD on its port (state,
 * forwarding, diagnostics, the remote's state and diagnostic) and
 * "enabled"; with BFD off, nothing. */
static json_t *
report_bfd_status(const struct overlay_tunnel *ot)
{
    static const char *const keys[] = {
        "state", "forwarding", "diagnostic", "remote_state",
        "remote_diagnostic",
    };
    json_t *status = json_object();

    if (json_object_size(ot->bfd)) {
        json_object_set_new(status, "enabled", json_string("true"));
        for (size_t i = 0; i < IOVP_ARRAY_SIZE(keys); i++) {
            json_t *value = json_object_get(ot->bfd_status, keys[i]);
            if (value) {
                json_object_set(status, keys[i], value);
            }
        }
    }
    return status;
}

/* Returns a new reference to the operations that give this host's
 * Physical_Switch a Tunnel row toward each remote VTEP of 'overlay' (the
 * one the controller made, or one from this host's locator to the VTEP's),
 * with bfd_config_local (where the VTEP sends its BFD frames) and
 * bfd_status (Open vSwitch's BFD on the tunnel's port, see
 * report_bfd_status()), and take away its Tunnel rows toward VTEPs that no
 * switch uses; NULL when there is nothing to do, or no tunnel address. */
json_t *
report_tunnels(const struct odb_idl *vtep, const struct report_spec *spec,
               const struct overlay *overlay)
{
    const struct hwvtep_physical_switch *ps;

    ps = hwvtep_physical_switch_find_by_string(
        vtep, HWVTEP_PHYSICAL_SWITCH_COL_NAME, spec->switch_name);
    if (!ps || !spec->tunnel_ip) {
        return NULL;
    }

    json_t *local = json_pack("{s:s, s:s}", "bfd_dst_ip", REPORT_BFD_DST_IP,
                              "bfd_dst_mac", REPORT_BFD_DST_MAC);
    json_t *ops = json_array();
    for (size_t i = 0; i < ps->n_tunnels; i++) {
        const struct hwvtep_tunnel *t = ps->tunnels[i];
        const struct overlay_tunnel *ot = (
            t->remote ? overlay_find_tunnel(overlay, t->remote->dst_ip)
            : NULL);

        if (!ot || ot->tunnel != t) {
            json_array_append_new(ops, json_pack(
                "{s:s, s:s, s:o, s:[[s, s, o]]}",
                "op", "mutate", "table", "Physical_Switch",
                "where", odb_idl_row_where(&ps->header_),
                "mutations", "tunnels", "delete",
                odb_idl_row_uuid(&t->header_)));
            continue;
        }

        json_t *status = report_bfd_status(ot);
        if (!odb_map_equals_object(t->key_bfd_status, t->value_bfd_status,
                                   t->n_bfd_status, status)
            || !odb_map_equals_object(t->key_bfd_config_local,
                                      t->value_bfd_config_local,
                                      t->n_bfd_config_local, local)) {
            json_array_append_new(ops, json_pack(
                "{s:s, s:s, s:o, s:{s:o, s:o}}",
                "op", "update", "table", "Tunnel",
                "where", odb_idl_row_where(&t->header_),
                "row", "bfd_status", odb_map_from_object(status),
                "bfd_config_local", odb_map_from_object(local)));
        }
        json_decref(status);
    }

    /* The missing ones, from this host's locator to the VTEP's. */
    const struct hwvtep_physical_locator *loc = report_find_locator(
        vtep, spec->tunnel_ip);
    const struct overlay_tunnel *ot;
    size_t n = 0;
    HMAP_FOR_EACH (ot, node, &overlay->tunnels) {
        const struct hwvtep_physical_locator *remote = (
            ot->tunnel ? NULL : report_find_locator(vtep, ot->ip));
        if (!remote) {
            continue;
        }
        char name[32];
        snprintf(name, sizeof name, "tunnel%zu", n++);
        json_array_append_new(ops, json_pack(
            "{s:s, s:s, s:{s:o, s:o, s:o}, s:s}",
            "op", "insert", "table", "Tunnel",
            "row", "local", (loc ? odb_idl_row_uuid(&loc->header_)
                             : json_pack("[s, s]", "named-uuid", "loc")),
            "remote", odb_idl_row_uuid(&remote->header_),
            "bfd_config_local", odb_map_from_object(local),
            "uuid-name", name));
        json_array_append_new(ops, json_pack(
            "{s:s, s:s, s:o, s:[[s, s, [s, s]]]}",
            "op", "mutate", "table", "Physical_Switch",
            "where", odb_idl_row_where(&ps->header_),
            "mutations", "tunnels", "insert", "named-uuid", name));
    }
    if (!loc && n) {
        json_array_insert_new(ops, 0, report_insert_locator(spec));
    }
    json_decref(local);
    return odb_txn_finish(ops, "iovpd: reporting the overlay's tunnels");
}

/* Returns a new reference to the operations that give each logical switch
 * on 'overlay' an Mcast_Macs_Local row "unknown-dst" behind this host's
 * locator (alone in its locator set), so that the controller knows where
 * to send the switch's broadcast, unknown unicast and multicast; and
 * delete such rows of switches off the overlay.  NULL when there is
 * nothing to do, or no tunnel address. */
json_t *
report_mcast_macs_local(const struct odb_idl *vtep,
                        const struct report_spec *spec,
                        const struct overlay *overlay)
{
    if (!spec->tunnel_ip) {
        return NULL;
    }

    const struct hwvtep_physical_locator *loc = report_find_locator(
        vtep, spec->tunnel_ip);
    const struct hwvtep_physical_locator_set *set = NULL, *pls;
    HWVTEP_PHYSICAL_LOCATOR_SET_FOR_EACH (pls, vtep) {
        if (loc && pls->n_locators == 1 && pls->locators[0] == loc
            && (!set || strcmp(pls->header_.uuid, set->header_.uuid) < 0)) {
            set = pls;
        }
    }

    /* What should be. */
    struct shash want = SHASH_INITIALIZER(&want);
    struct shash_node *node;
    SHASH_FOR_EACH (node, &overlay->switches) {
        const struct hwvtep_logical_switch *ls;
        ls = hwvtep_logical_switch_find_by_string(
            vtep, HWVTEP_LOGICAL_SWITCH_COL_NAME, node->name);
        if (ls) {
            shash_add(&want, node->name, ls);
        }
    }

    /* What is: the rows behind this host's locator alone. */
    json_t *ops = json_array();
    const struct hwvtep_mcast_macs_local *row;
    HWVTEP_MCAST_MACS_LOCAL_FOR_EACH (row, vtep) {
        const struct hwvtep_physical_locator_set *rs = row->locator_set;
        if (!loc || !rs || rs->n_locators != 1 || rs->locators[0] != loc) {
            continue;
        }
        if (!strcmp(row->MAC, "unknown-dst") && row->logical_switch
            && shash_find_data(&want, row->logical_switch->name)
               == row->logical_switch) {
            shash_find_and_delete(&want, row->logical_switch->name);
        } else {
            json_array_append_new(ops, json_pack(
                "{s:s, s:s, s:o}", "op", "delete",
                "table", "Mcast_Macs_Local",
                "where", odb_idl_row_where(&row->header_)));
        }
    }

    /* What is missing. */
    SHASH_FOR_EACH (node, &want) {
        const struct hwvtep_logical_switch *ls = node->data;
        json_array_append_new(ops, json_pack(
            "{s:s, s:s, s:{s:s, s:o, s:o}}",
            "op", "insert", "table", "Mcast_Macs_Local",
            "row", "MAC", "unknown-dst",
            "logical_switch", odb_idl_row_uuid(&ls->header_),
            "locator_set", (set ? odb_idl_row_uuid(&set->header_)
                            : json_pack("[s, s]", "named-uuid", "set"))));
    }
    if (!set && !shash_is_empty(&want)) {
        json_array_insert_new(ops, 0, json_pack(
            "{s:s, s:s, s:{s:o}, s:s}",
            "op", "insert", "table", "Physical_Locator_Set",
            "row", "locators", (loc ? odb_idl_row_uuid(&loc->header_)
                                : json_pack("[s, s]", "named-uuid", "loc")),
            "uuid-name", "set"));
        if (!loc) {
            json_array_insert_new(ops, 0, report_insert_locator(spec));
        }
    }
    shash_destroy(&want);
    return odb_txn_finish(ops, "iovpd: reporting where the overlay's "
                          "flooding reaches this host");
}

/* Returns a new reference to the canonical OVSDB set of the strings in
 * 'tokens', a JSON array (or NULL): sorted, distinct. */
static json_t *
report_token_set(const json_t *tokens)
{
    size_t n = json_array_size(tokens);
    const char **sorted = iovp_xmalloc(MAX(1, n) * sizeof *sorted);

    for (size_t j = 0; j < n; j++) {
        sorted[j] = json_string_value(json_array_get(tokens, j));
    }
    qsort(sorted, n, sizeof *sorted, iovp_compare_strings);
    json_t *set = json_array();
    for (size_t j = 0; j < n; j++) {
        if (!j || strcmp(sorted[j], sorted[j - 1])) {
            json_array_append_new(set, json_string(sorted[j]));
        }
    }
    free(sorted);
    return json_pack("[s, o]", "set", set);
}

/* Returns true if 'set', a canonical set of strings as report_token_set()
 * makes it, holds the 'n' sorted strings 'strings' and no other. */
static bool
report_set_equals(const json_t *set, char *const *strings, size_t n)
{
    const json_t *elems = json_array_get(set, 1);

    if (json_array_size(elems) != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(elems, i));
        if (!s || strcmp(s, strings[i])) {
            return false;
        }
    }
    return true;
}

/* Returns the transaction (or NULL if none is needed) that sets the
 * "port_fault_status" of each Physical_Port row of this switch in 'vtep'
 * to its faults in 'faults', a JSON object that maps a row's UUID to an
 * array of the schema's tokens ("invalid_vlan_map", ...); a row it does
 * not name has none.  A row whose port is down (see the top of report.h)
 * has an "unspecified_fault" too.  Every row of the switch is set, those
 * that iovpd ignores (see agent/switch-ports.h) included.  The column is
 * ephemeral: after a database restart the faults are written again. */
json_t *
report_port_faults(const struct odb_idl *vtep,
                   const struct report_spec *spec, const json_t *faults)
{
    size_t n_pps;
    struct odb_named_row *pps = switch_ports_rows(vtep, spec->switch_name,
                                                  &n_pps);

    if (!pps) {
        return NULL;
    }

    json_t *ops = json_array();
    for (size_t i = 0; i < n_pps; i++) {
        const struct hwvtep_physical_port *pp = pps[i].row;
        json_t *tokens = json_deep_copy(json_object_get(faults,
                                                        pp->header_.uuid));
        if (report_down_since(pp)) {
            tokens = tokens ? tokens : json_array();
            json_array_append_new(tokens, json_string("unspecified_fault"));
        }
        json_t *set = report_token_set(tokens);
        json_decref(tokens);

        if (!report_set_equals(set, pp->port_fault_status,
                               pp->n_port_fault_status)) {
            json_array_append_new(ops, json_pack(
                "{s:s, s:s, s:o, s:{s:O}}", "op", "update",
                "table", "Physical_Port",
                "where", odb_idl_row_where(&pp->header_),
                "row", "port_fault_status", set));
        }
        json_decref(set);
    }
    free(pps);
    return odb_txn_finish(ops, "iovpd: reporting port faults");
}

/* Returns true if the counters of 'row' are those of 'counts', a JSON
 * object of pipeline_binding_stats()'s (a missing counter reads as 0). */
static bool
report_stats_equal(const struct hwvtep_logical_binding_stats *row,
                   const json_t *counts)
{
    return (row->packets_from_local == json_integer_value(
                json_object_get(counts, "packets_from_local"))
            && row->bytes_from_local == json_integer_value(
                json_object_get(counts, "bytes_from_local"))
            && row->packets_to_local == json_integer_value(
                json_object_get(counts, "packets_to_local"))
            && row->bytes_to_local == json_integer_value(
                json_object_get(counts, "bytes_to_local")));
}

/* Returns the transaction (or NULL if none is needed) that makes the
 * "vlan_stats" of this switch's Physical_Port rows in 'vtep' show 'stats',
 * as pipeline_binding_stats() returns them (by row UUID): a
 * Logical_Binding_Stats row for each binding that has counters, updated
 * where they changed; the entries of bindings that have none go, and so do
 * all those of a row that iovpd ignores (see agent/switch-ports.h). */
json_t *
report_vlan_stats(const struct odb_idl *vtep,
                  const struct report_spec *spec, const json_t *stats)
{
    size_t n_pps;
    struct odb_named_row *pps = switch_ports_rows(vtep, spec->switch_name,
                                                  &n_pps);

    if (!pps) {
        return NULL;
    }

    json_t *ops = json_array();
    for (size_t i = 0; i < n_pps; i++) {
        const struct hwvtep_physical_port *pp = pps[i].row;
        const json_t *want = json_object_get(stats, pp->header_.uuid);
        json_t *gone = json_array();
        json_t *added = json_array();

        /* The entries there: updated, or gone. */
        for (size_t j = 0; j < pp->n_vlan_stats; j++) {
            const struct hwvtep_logical_binding_stats *row
                = pp->value_vlan_stats[j];
            char vlan[24];
            snprintf(vlan, sizeof vlan, "%"PRId64, pp->key_vlan_stats[j]);
            const json_t *counts = json_object_get(want, vlan);
            if (!counts) {
                json_array_append_new(gone,
                                      json_integer(pp->key_vlan_stats[j]));
            } else if (!report_stats_equal(row, counts)) {
                json_array_append_new(ops, json_pack(
                    "{s:s, s:s, s:o, s:O}", "op", "update",
                    "table", "Logical_Binding_Stats",
                    "where", odb_idl_row_where(&row->header_),
                    "row", counts));
            }
        }

        /* The entries missing. */
        const char *vlan;
        json_t *counts;
        json_object_foreach (CONST_CAST(json_t *, want), vlan, counts) {
            bool there = false;
            for (size_t j = 0; j < pp->n_vlan_stats; j++) {
                there = there || pp->key_vlan_stats[j] == atoi(vlan);
            }
            if (!there) {
                char *id = iovp_xasprintf("stats_%zu_%s", i, vlan);
                json_array_append_new(ops, json_pack(
                    "{s:s, s:s, s:O, s:s}", "op", "insert",
                    "table", "Logical_Binding_Stats", "row", counts,
                    "uuid-name", id));
                json_array_append_new(added, json_pack(
                    "[i, [s, s]]", atoi(vlan), "named-uuid", id));
                free(id);
            }
        }

        if (json_array_size(gone) || json_array_size(added)) {
            json_t *mutations = json_array();
            if (json_array_size(gone)) {
                json_array_append_new(mutations, json_pack(
                    "[s, s, [s, O]]", "vlan_stats", "delete", "set", gone));
            }
            if (json_array_size(added)) {
                json_array_append_new(mutations, json_pack(
                    "[s, s, [s, O]]", "vlan_stats", "insert", "map",
                    added));
            }
            json_array_append_new(ops, json_pack(
                "{s:s, s:s, s:o, s:o}", "op", "mutate",
                "table", "Physical_Port",
                "where", odb_idl_row_where(&pp->header_),
                "mutations", mutations));
        }
        json_decref(gone);
        json_decref(added);
    }
    free(pps);
    return odb_txn_finish(ops, "iovpd: reporting VLAN statistics");
}

/* Returns the transaction (or NULL if none is needed) that sets the
 * "acl_fault_status" of each ACL named in 'acls' (a set of ACL names) and
 * the "acle_fault_status" of each of their entries to
 * what 'faults' says, as xlate_acl_build() gives them: {"acls": {"NAME":
 * [tokens]}, "entries": {"UUID": [tokens]}}.  Both columns are ephemeral:
 * after a database restart the faults are written again. */
json_t *
report_acl_faults(const struct odb_idl *vtep, const struct shash *acls,
                  const json_t *faults)
{
    const json_t *acl_faults = json_object_get(faults, "acls");
    const json_t *entry_faults = json_object_get(faults, "entries");
    json_t *ops = json_array();
    const struct shash_node *node;

    SHASH_FOR_EACH (node, acls) {
        const char *name = node->name;
        const struct hwvtep_acl *acl = acl_find_row(vtep, name);
        if (!acl) {
            continue;
        }
        json_t *set = report_token_set(json_object_get(acl_faults, name));
        if (!report_set_equals(set, acl->acl_fault_status,
                               acl->n_acl_fault_status)) {
            json_array_append_new(ops, json_pack(
                "{s:s, s:s, s:o, s:{s:O}}", "op", "update",
                "table", "ACL", "where", odb_idl_row_where(&acl->header_),
                "row", "acl_fault_status", set));
        }
        json_decref(set);

        for (size_t i = 0; i < acl->n_acl_entries; i++) {
            const struct hwvtep_acl_entry *entry = acl->acl_entries[i];

            set = report_token_set(json_object_get(entry_faults,
                                                   entry->header_.uuid));
            if (!report_set_equals(set, entry->acle_fault_status,
                                   entry->n_acle_fault_status)) {
                json_array_append_new(ops, json_pack(
                    "{s:s, s:s, s:o, s:{s:O}}", "op", "update",
                    "table", "ACL_entry",
                    "where", odb_idl_row_where(&entry->header_),
                    "row", "acle_fault_status", set));
            }
            json_decref(set);
        }
    }
    return odb_txn_finish(ops, "iovpd: reporting ACL faults");
}

/* Returns true if 'want' is a number equal to 'have', within what a real's
 * round trip through the database may change. */
static bool
report_number_equals(const json_t *want, double have)
{
    return (json_is_number(want)
            && fabs(json_number_value(want) - have) < 1e-9);
}

/* Returns a transaction that makes this switch's Iovp_Offload row say what
 * 'summary' says (nicctrl_summary()'s "backend", "capacity", "entries",
 * "masks", and a "hit_rate"): NULL when it says so already, or when the
 * database has no Iovp_Offload table (the stock hardware_vtep schema) or
 * the switch no row yet. */
json_t *
report_offload(const struct odb_idl *vtep, const struct report_spec *spec,
               const json_t *summary)
{
    const struct hwvtep_physical_switch *ps;

    ps = switch_ports_find_switch(vtep, spec->switch_name);
    if (!ps || !odb_idl_has_table(vtep, &hwvtep_idl_class,
                                  HWVTEP_TABLE_IOVP_OFFLOAD)) {
        return NULL;
    }

    const struct hwvtep_iovp_offload *row = NULL, *r;
    HWVTEP_IOVP_OFFLOAD_FOR_EACH (r, vtep) {
        if (r->physical_switch == ps) {
            row = r;
        }
    }

    double hit_rate = json_number_value(json_object_get(summary,
                                                        "hit_rate"));
    json_t *want = json_pack(
        "{s:O, s:O, s:O, s:O, s:f}",
        "backend", json_object_get(summary, "backend"),
        "capacity", json_object_get(summary, "capacity"),
        "entries_used", json_object_get(summary, "entries"),
        "masks_used", json_object_get(summary, "masks"),
        "hit_rate", round(hit_rate * 1000) / 1000);
    if (row) {
        const char *backend = json_string_value(json_object_get(want,
                                                                "backend"));
        if (backend && !strcmp(backend, row->backend)
            && report_number_equals(json_object_get(want, "capacity"),
                                    row->capacity)
            && report_number_equals(json_object_get(want, "entries_used"),
                                    row->entries_used)
            && report_number_equals(json_object_get(want, "masks_used"),
                                    row->masks_used)
            && report_number_equals(json_object_get(want, "hit_rate"),
                                    row->hit_rate)) {
            json_decref(want);
            return NULL;
        }
        return json_pack("[{s:s, s:s, s:o, s:o}]", "op", "update",
                         "table", "Iovp_Offload", "where",
                         odb_idl_row_where(&row->header_), "row", want);
    }
    json_object_set_new(want, "physical_switch",
                        odb_idl_row_uuid(&ps->header_));
    return json_pack("[{s:s, s:s, s:o}]", "op", "insert",
                     "table", "Iovp_Offload", "row", want);
}

/* Returns true if the "statistics" of 'q' are exactly 'want', an object
 * of integers. */
static bool
report_qos_stats_equal(const struct hwvtep_iovp_qos *q, const json_t *want)
{
    if (q->n_statistics != json_object_size(want)) {
        return false;
    }
    for (size_t i = 0; i < q->n_statistics; i++) {
        const json_t *v = json_object_get(want, q->key_statistics[i]);
        if (!v || json_integer_value(v) != q->value_statistics[i]) {
            return false;
        }
    }
    return true;
}

/* Returns the transaction (or NULL if none is needed) that makes the
 * "statistics" of the Iovp_QoS rows in 'vtep' that 'stats' names (by
 * UUID, pipeline_qos_stats()'s) show its counters.  Rows that this
 * switch's ports do not use are not touched: another switch may. */
json_t *
report_qos_stats(const struct odb_idl *vtep, const json_t *stats)
{
    json_t *ops = json_array();
    const char *uuid;
    json_t *want;

    json_object_foreach (CONST_CAST(json_t *, stats), uuid, want) {
        const struct hwvtep_iovp_qos *q = hwvtep_iovp_qos_get(vtep, uuid);
        if (!q || report_qos_stats_equal(q, want)) {
            continue;
        }

        json_t *pairs = json_array();
        const char *key;
        json_t *value;
        json_object_foreach (want, key, value) {
            json_array_append_new(pairs, json_pack("[s, O]", key, value));
        }
        json_array_append_new(ops, json_pack(
            "{s:s, s:s, s:o, s:{s:[s, o]}}", "op", "update",
            "table", "Iovp_QoS", "where", odb_idl_row_where(&q->header_),
            "row", "statistics", "map", pairs));
    }
    if (!json_array_size(ops)) {
        json_decref(ops);
        return NULL;
    }
    return ops;
}

/* Returns true if the string map ('keys', 'values', 'n') is exactly
 * 'want', an object of strings. */
static bool
report_smap_equal(char **keys, char **values, size_t n, const json_t *want)
{
    if (n != json_object_size(want)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const char *v = json_string_value(json_object_get(want, keys[i]));
        if (!v || strcmp(v, values[i])) {
            return false;
        }
    }
    return true;
}

/* Returns the OVSDB map of 'o', an object of strings or integers. */
static json_t *
report_map(const json_t *o)
{
    json_t *pairs = json_array();
    const char *key;
    json_t *value;

    json_object_foreach (CONST_CAST(json_t *, o), key, value) {
        json_array_append_new(pairs, json_pack("[s, O]", key, value));
    }
    return json_pack("[s, o]", "map", pairs);
}

/* Adds to 'ops' the update of row 'row' of 'table' whose "status" string
 * map and "statistics" integer map are the given ones, if they differ
 * from what 'want' has: {"status": {...}, "statistics": {...}} (the
 * latter optional: then left as they are). */
static void
report_status_update(json_t *ops, const char *table,
                     const struct odb_idl_row *row,
                     char **status_keys, char **status_values,
                     size_t n_status, char **stats_keys,
                     const int64_t *stats_values, size_t n_stats,
                     const json_t *want)
{
    const json_t *st = json_object_get(want, "status");
    const json_t *stats = json_object_get(want, "statistics");
    json_t *update = json_object();

    if (!report_smap_equal(status_keys, status_values, n_status, st)) {
        json_object_set_new(update, "status", report_map(st));
    }
    bool same_stats = stats && n_stats == json_object_size(stats);
    for (size_t i = 0; same_stats && i < n_stats; i++) {
        const json_t *v = json_object_get(stats, stats_keys[i]);
        same_stats = v && json_integer_value(v) == stats_values[i];
    }
    if (stats && !same_stats) {
        json_object_set_new(update, "statistics", report_map(stats));
    }
    if (json_object_size(update)) {
        json_array_append_new(ops, json_pack(
            "{s:s, s:s, s:o, s:o}", "op", "update", "table", table,
            "where", odb_idl_row_where(row), "row", update));
    } else {
        json_decref(update);
    }
}

/* Returns the transaction (or NULL if none is needed) that makes the
 * "status" of the Iovp_Load_Balancer rows and the "status" and
 * "statistics" of the Iovp_LB_Backend rows in 'vtep' show 'status', as
 * xlate_lb_status() gives it. */
json_t *
report_lb_status(const struct odb_idl *vtep, const json_t *status)
{
    json_t *ops = json_array();
    const char *uuid;
    json_t *want;

    json_object_foreach (json_object_get(status, "lbs"), uuid, want) {
        const struct hwvtep_iovp_load_balancer *lb
            = hwvtep_iovp_load_balancer_get(vtep, uuid);
        if (lb && !report_smap_equal(lb->key_status, lb->value_status,
                                     lb->n_status, want)) {
            json_array_append_new(ops, json_pack(
                "{s:s, s:s, s:o, s:{s:o}}", "op", "update",
                "table", "Iovp_Load_Balancer",
                "where", odb_idl_row_where(&lb->header_),
                "row", "status", report_map(want)));
        }
    }
    json_object_foreach (json_object_get(status, "backends"), uuid, want) {
        const struct hwvtep_iovp_lb_backend *be
            = hwvtep_iovp_lb_backend_get(vtep, uuid);
        if (be) {
            report_status_update(ops, "Iovp_LB_Backend", &be->header_,
                                 be->key_status, be->value_status,
                                 be->n_status, be->key_statistics,
                                 be->value_statistics, be->n_statistics,
                                 want);
        }
    }
    if (!json_array_size(ops)) {
        json_decref(ops);
        return NULL;
    }
    return ops;
}

/* Returns the transaction (or NULL if none is needed) that makes the
 * "status" and "statistics" of the Iovp_Steering rows in 'vtep' show
 * 'status', as xlate_steer_status() gives it. */
json_t *
report_steering_status(const struct odb_idl *vtep, const json_t *status)
{
    json_t *ops = json_array();
    const char *uuid;
    json_t *want;

    json_object_foreach (CONST_CAST(json_t *, status), uuid, want) {
        const struct hwvtep_iovp_steering *s
            = hwvtep_iovp_steering_get(vtep, uuid);
        if (s) {
            report_status_update(ops, "Iovp_Steering", &s->header_,
                                 s->key_status, s->value_status, s->n_status,
                                 s->key_statistics, s->value_statistics,
                                 s->n_statistics, want);
        }
    }
    if (!json_array_size(ops)) {
        json_decref(ops);
        return NULL;
    }
    return ops;
}

/* Returns the transaction (or NULL if none is needed) that makes the
 * "status" and "statistics" of the Iovp_Capture rows in 'vtep' show
 * 'status', as xlate_capture_status() gives it. */
json_t *
report_capture_status(const struct odb_idl *vtep, const json_t *status)
{
    json_t *ops = json_array();
    const char *uuid;
    json_t *want;

    json_object_foreach (CONST_CAST(json_t *, status), uuid, want) {
        const struct hwvtep_iovp_capture *c
            = hwvtep_iovp_capture_get(vtep, uuid);
        if (c) {
            report_status_update(ops, "Iovp_Capture", &c->header_,
                                 c->key_status, c->value_status, c->n_status,
                                 c->key_statistics, c->value_statistics,
                                 c->n_statistics, want);
        }
    }
    if (!json_array_size(ops)) {
        json_decref(ops);
        return NULL;
    }
    return ops;
}
