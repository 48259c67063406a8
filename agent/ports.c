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

#include "agent/ports.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/vlog.h>

#include "agent/pipeline-tables.h"
#include "agent/switch-ports.h"
#include "agent/vm-ports.h"
#include "lib/util.h"
#include "ovsdb/query.h"
#include "ovsdb/replica.h"

VLOG_DEFINE_THIS_MODULE(ports);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

void
ports_init(struct ports *ports)
{
    shash_init(&ports->by_name);
    ports->sorted = NULL;
    ports->n = 0;
    ports->faults = json_object();
    ports->ambiguities = json_object();
    ports->acls = json_object();
}

static void
port_destroy(struct port *port)
{
    for (size_t i = 0; i < port->n_bindings; i++) {
        free(port->bindings[i].ls);
        free(port->bindings[i].acl);
    }
    free(port->bindings);
    free(port->ips);
    free(port->name);
    free(port->uuid);
    free(port->interface);
    free(port);
}

void
ports_destroy(struct ports *ports)
{
    for (size_t i = 0; i < ports->n; i++) {
        port_destroy(CONST_CAST(struct port *, ports->sorted[i]));
    }
    shash_destroy(&ports->by_name);
    free(ports->sorted);
    json_decref(ports->faults);
    json_decref(ports->ambiguities);
    json_decref(ports->acls);
}

void
ports_swap(struct ports *a, struct ports *b)
{
    const struct port **sorted = a->sorted;
    size_t n = a->n;
    json_t *faults = a->faults;
    json_t *ambiguities = a->ambiguities;
    json_t *acls = a->acls;

    shash_swap(&a->by_name, &b->by_name);
    a->sorted = b->sorted;
    a->n = b->n;
    a->faults = b->faults;
    a->ambiguities = b->ambiguities;
    a->acls = b->acls;
    b->sorted = sorted;
    b->n = n;
    b->faults = faults;
    b->ambiguities = ambiguities;
    b->acls = acls;
}

/* Returns the port named 'name' in 'ports', or NULL. */
const struct port *
ports_find(const struct ports *ports, const char *name)
{
    return shash_find_data(&ports->by_name, name);
}

/* Returns the binding of 'port' for 'vlan', or NULL. */
const struct port_binding *
port_find_binding(const struct port *port, int vlan)
{
    for (size_t i = 0; i < port->n_bindings; i++) {
        if (port->bindings[i].vlan == vlan) {
            return &port->bindings[i];
        }
    }
    return NULL;
}

static bool
port_nullable_streq(const char *a, const char *b)
{
    return a && b ? !strcmp(a, b) : a == b;
}

static bool
port_binding_equal(const struct port_binding *a,
                   const struct port_binding *b)
{
    return (a->vlan == b->vlan
            && !strcmp(a->ls, b->ls)
            && port_nullable_streq(a->acl, b->acl)
            && a->owns_mac == b->owns_mac);
}

static bool
port_address_equal(const struct port_address *a,
                   const struct port_address *b)
{
    return (a->family == b->family
            && (a->family == AF_INET
                ? a->ipv4.s_addr == b->ipv4.s_addr
                : !memcmp(&a->ipv6, &b->ipv6, sizeof a->ipv6)));
}

/* Returns true if 'a' and 'b' are the same in everything. */
bool
port_equal(const struct port *a, const struct port *b)
{
    if (strcmp(a->name, b->name)
        || strcmp(a->uuid, b->uuid)
        || !port_nullable_streq(a->interface, b->interface)
        || a->ofport != b->ofport
        || strcmp(a->mac, b->mac)
        || a->n_bindings != b->n_bindings
        || a->checks_ips != b->checks_ips
        || a->n_ips != b->n_ips) {
        return false;
    }
    for (size_t i = 0; i < a->n_bindings; i++) {
        if (!port_binding_equal(&a->bindings[i], &b->bindings[i])) {
            return false;
        }
    }
    for (size_t i = 0; i < a->n_ips; i++) {
        if (!port_address_equal(&a->ips[i], &b->ips[i])) {
            return false;
        }
    }
    return true;
}

/* Parses 's' as an IPv4 or IPv6 address into '*a'; returns false if it is
 * neither. */
bool
port_address_parse(const char *s, struct port_address *a)
{
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, s, &a->ipv4) == 1) {
        a->family = AF_INET;
        return true;
    } else if (inet_pton(AF_INET6, s, &a->ipv6) == 1) {
        a->family = AF_INET6;
        return true;
    }
    return false;
}

void
port_address_format(const struct port_address *a, char s[INET6_ADDRSTRLEN])
{
    if (!inet_ntop(a->family, &a->ipv4, s, INET6_ADDRSTRLEN)) {
        s[0] = '\0';
    }
}

/* Adds 'token' to the faults of the Physical_Port row whose UUID is
 * 'uuid' in 'faults'. */
static void
ports_fault(json_t *faults, const char *uuid, const char *token)
{
    json_t *list = json_object_get(faults, uuid);

    if (!list) {
        list = json_array();
        json_object_set_new(faults, uuid, list);
    }
    size_t i;
    json_t *t;
    json_array_foreach (list, i, t) {
        if (!strcmp(json_string_value(t), token)) {
            return;
        }
    }
    json_array_append_new(list, json_string(token));
}

/* Notes an ambiguity that iovpd resolved, described by 'text' (stolen). */
static void
ports_ambiguity(struct ports *ports, char *text)
{
    json_object_set_new(ports->ambiguities, text, json_true());
    free(text);
}

/* Returns the name of the ACL that the "acl_bindings" of 'pp' (a row of
 * 'pports') bind to 'vlan', else to 0 (the whole port), or NULL. */
const char *
ports_binding_acl(const struct odb_replica_table *pports,
                  const struct odb_row *pp,
                  const struct odb_replica_table *acls, int vlan)
{
    const json_t *map = json_array_get(odb_row_get(pports, pp,
                                                   "acl_bindings"), 1);
    const char *uuid = NULL;
    size_t i;
    json_t *pair;

    json_array_foreach (map, i, pair) {
        json_int_t key = json_integer_value(json_array_get(pair, 0));
        if (key == vlan || (key == 0 && !uuid)) {
            uuid = json_string_value(json_array_get(json_array_get(pair, 1),
                                                    1));
        }
    }
    const struct odb_row *acl = (uuid && acls
                                 ? odb_replica_find_row(acls, uuid) : NULL);
    return acl ? json_string_value(odb_row_get(acls, acl, "acl_name")) : NULL;
}

/* Returns the name of the logical switch of 'pair', a [VLAN, ["uuid",
 * UUID]] pair of a Physical_Port's "vlan_bindings", from 'lswitches'
 * (which may be NULL), or NULL if there is no such row or it has no
 * name. */
static const char *
ports_binding_ls(const json_t *pair, const struct odb_replica_table *lswitches)
{
    const char *uuid = json_string_value(
        json_array_get(json_array_get(pair, 1), 1));
    const struct odb_row *ls = (uuid && lswitches
                                ? odb_replica_find_row(lswitches, uuid)
                                : NULL);
    const char *name = (ls ? json_string_value(odb_row_get(lswitches, ls,
                                                           "name"))
                        : NULL);
    return name && name[0] ? name : NULL;
}

/* Returns NULL if the pipeline applies binding 'idx' of 'map' (the
 * canonical map, sorted by VLAN, of a Physical_Port's "vlan_bindings"),
 * else why not, malloc()'d: its logical switch is not in 'lswitches'
 * (which may be NULL) or has no name, or the port is bound to it through
 * a lower VLAN already (a frame flooded from one would have to leave by
 * the port it came in on).  Either is the port's "invalid_vlan_map". */
char *
ports_binding_fault(const json_t *map, size_t idx,
                    const struct odb_replica_table *lswitches)
{
    const char *ls = ports_binding_ls(json_array_get(map, idx), lswitches);

    if (!ls) {
        return iovp_xstrdup("its logical switch is unknown or has no name");
    }
    for (size_t i = 0; i < idx; i++) {
        const json_t *pair = json_array_get(map, i);
        const char *other = ports_binding_ls(pair, lswitches);
        if (other && !strcmp(other, ls)) {
            return iovp_xasprintf("logical switch %s is bound through VLAN "
                                  "%"JSON_INTEGER_FORMAT" already", ls,
                                  json_integer_value(json_array_get(pair,
                                                                    0)));
        }
    }
    return NULL;
}

/* Reads the bindings of 'port' from 'pp' (a row of 'pports'), checked,
 * with faults recorded in 'ports'. */
static void
ports_read_bindings(struct ports *ports,
                    const struct odb_replica_table *pports,
                    const struct odb_row *pp,
                    const struct odb_replica_table *lswitches,
                    const struct odb_replica_table *acls,
                    struct port *port)
{
    const json_t *map = json_array_get(odb_row_get(pports, pp,
                                                   "vlan_bindings"), 1);
    size_t i;
    json_t *pair;

    port->bindings = iovp_xmalloc(MAX(1, json_array_size(map))
                                  * sizeof *port->bindings);
    port->n_bindings = 0;

    /* A canonical map is sorted by key: by VLAN, so that of two VLANs of
     * one port in one logical switch, the lower is the one kept. */
    json_array_foreach (map, i, pair) {
        const char *ls_name = ports_binding_ls(pair, lswitches);
        int vlan = json_integer_value(json_array_get(pair, 0));
        char *why = ports_binding_fault(map, i, lswitches);

        if (why) {
            if (ls_name) {
                VLOG_WARN_RL(&rl, "port %s: VLAN %d is not applied: %s",
                             port->name, vlan, why);
            }
            ports_fault(ports->faults, port->uuid, "invalid_vlan_map");
            free(why);
            continue;
        }

        const char *acl = ports_binding_acl(pports, pp, acls, vlan);
        port->bindings[port->n_bindings++] = (struct port_binding) {
            .vlan = vlan,
            .ls = iovp_xstrdup(ls_name),
            .metadata = pipeline_ls_metadata(ls_name),
            .acl = acl ? iovp_xstrdup(acl) : NULL,
        };
        if (acl && port->ofport >= 0) {
            json_object_set_new(ports->acls, acl, json_true());
        }
    }

    /* An ACL bound to a VLAN (not 0, the whole port) that the port has no
     * binding for applies to nothing: the controller meant something
     * else, and is told. */
    const json_t *acl_map = json_array_get(odb_row_get(pports, pp,
                                                       "acl_bindings"), 1);
    json_array_foreach (acl_map, i, pair) {
        json_int_t vlan = json_integer_value(json_array_get(pair, 0));
        bool bound = vlan == 0;
        size_t j;
        const json_t *binding;

        json_array_foreach (map, j, binding) {
            bound = bound || json_integer_value(json_array_get(binding, 0))
                             == vlan;
        }
        if (!bound) {
            VLOG_WARN_RL(&rl, "port %s: the ACL bound to VLAN %"
                         JSON_INTEGER_FORMAT" applies to nothing: the port "
                         "has no binding for that VLAN", port->name, vlan);
            ports_fault(ports->faults, port->uuid, "invalid_ACL_binding");
        }
    }
}

/* The 'n' rows of 'rows' (odb_named_rows_sort()'s, the first one used) are
 * Physical_Port rows of switch 'switch_name' with one name: each has an
 * "unspecified_fault", and the ambiguity is noted. */
static void
ports_duplicate_rows(struct ports *ports, const char *switch_name,
                     const struct odb_named_row *rows, size_t n)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_format(&s, "Physical_Switch %s has %zu ports named \"%s\": "
                  "using Physical_Port %s, ignoring", switch_name, n,
                  rows[0].name, rows[0].row->uuid);
    for (size_t i = 0; i < n; i++) {
        ports_fault(ports->faults, rows[i].row->uuid, "unspecified_fault");
        if (i) {
            ds_put_format(&s, "%s %s", i > 1 ? "," : "", rows[i].row->uuid);
        }
    }
    ports_ambiguity(ports, ds_steal_cstr(&s));
}

/* 'vm', vm_ports_find()'s VM port for 'port', has "ignored" Interfaces:
 * others with its "iface-id" on 'bridge'.  The port has an
 * "unspecified_fault", and the ambiguity is noted. */
static void
ports_duplicate_ifaces(struct ports *ports, const char *bridge,
                       const struct port *port, const json_t *vm)
{
    const json_t *ignored = json_object_get(vm, "ignored");
    struct ds s = DS_EMPTY_INITIALIZER;
    size_t i;
    json_t *iface;

    ds_put_format(&s, "bridge %s has %zu interfaces with "
                  "external_ids:iface-id \"%s\": using Interface %s (%s), "
                  "ignoring", bridge, json_array_size(ignored) + 1,
                  port->name,
                  json_string_value(json_object_get(vm, "uuid")),
                  json_string_value(json_object_get(vm, "interface")));
    json_array_foreach (ignored, i, iface) {
        ds_put_format(&s, "%s %s (%s)", i ? "," : "",
                      json_string_value(json_object_get(iface, "uuid")),
                      json_string_value(json_object_get(iface,
                                                        "interface")));
    }
    ports_fault(ports->faults, port->uuid, "unspecified_fault");
    ports_ambiguity(ports, ds_steal_cstr(&s));
}

/* Gives 'port' the addresses of 'ips', an Iovp_Port's "ips" (a canonical
 * set); an address that does not parse is a fault of the port. */
static void
ports_read_ips(struct ports *ports, struct port *port, const json_t *ips)
{
    const json_t *list = json_array_get(ips, 1);
    size_t i;
    json_t *ip;

    port->checks_ips = json_array_size(list) > 0;
    port->ips = iovp_xmalloc(MAX(1, json_array_size(list))
                             * sizeof *port->ips);
    json_array_foreach (list, i, ip) {
        const char *s = json_string_value(ip);
        if (s && port_address_parse(s, &port->ips[port->n_ips])) {
            port->n_ips++;
        } else {
            VLOG_WARN_RL(&rl, "port %s: \"%s\" is not an IP address",
                         port->name, s ? s : "");
            ports_fault(ports->faults, port->uuid, "unspecified_fault");
        }
    }
}

/* Gives each port of 'ports' the addresses of the Iovp_Port row of 'vtep'
 * that names its Physical_Port row.  Of several such rows, the one with
 * the lowest UUID (odb_named_rows_sort()) gives them: the port has an
 * "unspecified_fault", and the ambiguity is noted.  Rows that name a port
 * iovpd does not use are ignored. */
static void
ports_read_addresses(struct ports *ports, const struct odb_replica *vtep)
{
    const struct odb_replica_table *iports = odb_replica_find_table(
        vtep, "Iovp_Port");

    if (!iports || !ports->n) {
        return;
    }

    /* The rows, by the Physical_Port row they name. */
    struct odb_named_row *rows = iovp_xmalloc(
        MAX(1, hmap_count(&iports->rows)) * sizeof *rows);
    size_t n_rows = 0;
    const struct odb_row *ip;
    HMAP_FOR_EACH (ip, node, &iports->rows) {
        const char *uuid = json_string_value(json_array_get(
            odb_row_get(iports, ip, "physical_port"), 1));
        if (uuid) {
            rows[n_rows++] = (struct odb_named_row) {
                .name = uuid, .row = ip,
            };
        }
    }
    odb_named_rows_sort(rows, n_rows);

    struct shash by_uuid = SHASH_INITIALIZER(&by_uuid);
    for (size_t i = 0; i < ports->n; i++) {
        shash_add(&by_uuid, ports->sorted[i]->uuid,
                  CONST_CAST(struct port *, ports->sorted[i]));
    }
    for (size_t i = 0, next; i < n_rows; i = next) {
        struct port *port = shash_find_data(&by_uuid, rows[i].name);

        next = odb_named_rows_next(rows, n_rows, i);
        if (!port) {
            continue;
        }
        ports_read_ips(ports, port, odb_row_get(iports, rows[i].row, "ips"));
        if (next - i > 1) {
            struct ds s = DS_EMPTY_INITIALIZER;

            ds_put_format(&s, "%zu Iovp_Port rows name port \"%s\" (%s): "
                          "using Iovp_Port %s, ignoring", next - i,
                          port->name, port->uuid, rows[i].row->uuid);
            for (size_t j = i + 1; j < next; j++) {
                ds_put_format(&s, "%s %s", j > i + 1 ? "," : "",
                              rows[j].row->uuid);
            }
            ports_fault(ports->faults, port->uuid, "unspecified_fault");
            ports_ambiguity(ports, ds_steal_cstr(&s));
        }
    }
    shash_destroy(&by_uuid);
    free(rows);
}

/* Decides which port each MAC of each logical switch leads to: of the
 * ports with an OpenFlow port that have one MAC in one logical switch, the
 * first by name; the others' are noted as an ambiguity. */
static void
ports_assign_macs(struct ports *ports)
{
    struct shash owners = SHASH_INITIALIZER(&owners);

    for (size_t i = 0; i < ports->n; i++) {
        struct port *port = CONST_CAST(struct port *, ports->sorted[i]);

        if (port->ofport < 0 || !port->mac[0]) {
            continue;
        }
        for (size_t j = 0; j < port->n_bindings; j++) {
            struct port_binding *b = &port->bindings[j];
            char *key = iovp_xasprintf("%s %s", b->ls, port->mac);
            const struct port *owner = shash_find_data(&owners, key);

            if (!owner) {
                shash_add_nocopy(&owners, key, port);
                b->owns_mac = true;
                continue;
            }
            ports_ambiguity(ports, iovp_xasprintf(
                "ports %s and %s have MAC %s in logical switch %s: it "
                "leads to %s", owner->name, port->name, port->mac, b->ls,
                owner->name));
            free(key);
        }
    }
    shash_destroy(&owners);
}

static int
ports_compare_by_name(const void *a_, const void *b_)
{
    const struct port *const *a = a_;
    const struct port *const *b = b_;

    return strcmp((*a)->name, (*b)->name);
}

/* Reads into 'ports' (which must be empty: just initialized) the VM ports
 * of switch 'switch_name' from the replicas 'vtep' and 'ovs', with the
 * Interface on 'bridge' that vm_ports_find() chooses: one for each name,
 * from the Physical_Port row that switch_ports_all() puts first.  Ports
 * that OVS does not show on the bridge are included with 'ofport' -1. */
void
ports_read(struct ports *ports, const struct odb_replica *vtep,
           const struct odb_replica *ovs, const char *switch_name,
           const char *bridge)
{
    const struct odb_replica_table *pports = odb_replica_find_table(
        vtep, "Physical_Port");
    const struct odb_replica_table *lswitches = odb_replica_find_table(
        vtep, "Logical_Switch");
    const struct odb_replica_table *acls = odb_replica_find_table(vtep,
                                                                  "ACL");
    size_t n_all;
    struct odb_named_row *all = (switch_name
                                 ? switch_ports_all(vtep, switch_name,
                                                    &n_all)
                                 : NULL);

    if (!all) {
        return;
    }

    json_t *vm_ports = vm_ports_find(ovs, bridge);
    ports->sorted = iovp_xmalloc(MAX(1, n_all) * sizeof *ports->sorted);
    for (size_t i = 0, next; i < n_all; i = next) {
        const struct odb_row *pp = all[i].row;
        const json_t *vm = json_object_get(vm_ports, all[i].name);
        const json_t *ofport = json_object_get(vm, "ofport");
        const char *iface = json_string_value(json_object_get(vm,
                                                              "interface"));
        const char *mac = json_string_value(json_object_get(vm, "mac"));
        struct port *port = iovp_xzalloc(sizeof *port);

        port->name = iovp_xstrdup(all[i].name);
        port->uuid = iovp_xstrdup(pp->uuid);
        port->interface = iface ? iovp_xstrdup(iface) : NULL;
        port->ofport = (json_is_integer(ofport)
                        ? json_integer_value(ofport) : -1);
        if (port->ofport <= 0 || port->ofport >= 0xff00) {
            port->ofport = -1;
        }
        snprintf(port->mac, sizeof port->mac, "%s", mac ? mac : "");
        ports_read_bindings(ports, pports, pp, lswitches, acls, port);

        shash_add(&ports->by_name, port->name, port);
        ports->sorted[ports->n++] = port;

        next = odb_named_rows_next(all, n_all, i);
        if (next - i > 1) {
            ports_duplicate_rows(ports, switch_name, &all[i], next - i);
        }
        if (json_object_get(vm, "ignored")) {
            ports_duplicate_ifaces(ports, bridge, port, vm);
        }
    }
    free(all);
    json_decref(vm_ports);

    qsort(ports->sorted, ports->n, sizeof *ports->sorted,
          ports_compare_by_name);
    ports_read_addresses(ports, vtep);
    ports_assign_macs(ports);
}

/* Adds to 'lswitches' the logical switch of each binding of 'port'. */
static void
ports_note_lswitches(const struct port *port, struct shash *lswitches)
{
    for (size_t i = 0; i < port->n_bindings; i++) {
        shash_replace(lswitches, port->bindings[i].ls, NULL);
    }
}

/* Adds to 'changed_ports' the name of each port that is in 'old' or 'new'
 * and not the same in both, and to 'changed_lswitches' each logical switch
 * that such a port is (or was) bound to: what the pipeline's flows of a
 * port and of a logical switch (its flooding) are made of.  The data of
 * both sets are NULL. */
void
ports_diff(const struct ports *old, const struct ports *new,
           struct shash *changed_ports, struct shash *changed_lswitches)
{
    for (size_t i = 0; i < new->n; i++) {
        const struct port *np = new->sorted[i];
        const struct port *op = ports_find(old, np->name);

        if (!op || !port_equal(op, np)) {
            shash_replace(changed_ports, np->name, NULL);
            ports_note_lswitches(np, changed_lswitches);
            if (op) {
                ports_note_lswitches(op, changed_lswitches);
            }
        }
    }
    for (size_t i = 0; i < old->n; i++) {
        const struct port *op = old->sorted[i];

        if (!ports_find(new, op->name)) {
            shash_replace(changed_ports, op->name, NULL);
            ports_note_lswitches(op, changed_lswitches);
        }
    }
}
