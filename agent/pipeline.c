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

#include "agent/pipeline.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/flow.h>
#include <openvswitch/vlog.h>

#include "agent/switch-ports.h"
#include "agent/vm-ports.h"
#include "agent/pipeline-tables.h"
#include "lib/util.h"
#include "ofp/ofctrl.h"
#include "ofp/oflow.h"
#include "ovsdb/query.h"
#include "ovsdb/replica.h"

VLOG_DEFINE_THIS_MODULE(pipeline);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* A VLAN binding of a port: frames of 'vlan' (0: untagged) belong to
 * logical switch 'ls'. */
struct pl_binding {
    int vlan;
    const char *ls;             /* The logical switch's name. */
    uint64_t metadata;          /* Its id in the pipeline. */
    const char *acl;            /* The ACL bound to it, or NULL. */
};

/* A VM port of this switch, as the policy and OVS see it. */
struct pl_port {
    const char *name;
    const char *uuid;           /* Its Physical_Port row's. */
    int ofport;                 /* Its OpenFlow port, or -1 if none yet. */
    const char *mac;            /* Lower case, "" if unknown. */
    struct pl_binding *bindings;    /* By VLAN. */
    size_t n_bindings;
    const json_t *ips;          /* Iovp_Port "ips", a canonical set. */
};

/* Adds the flow that 'format' gives to 'desired' with a cookie for
 * 'origin'.  A flow that does not parse, or conflicts with one already
 * there (the L2 flow of a MAC that two ports of one logical switch claim),
 * is logged and left out: the first one made stays. */
static void OVS_PRINTF_FORMAT(3, 4)
pl_flow(struct oflow_table *desired, uint64_t origin, const char *format,
        ...)
{
    va_list args;

    va_start(args, format);
    char *text = iovp_xvasprintf(format, args);
    va_end(args);

    char *error = oflow_table_add_text(desired, ofctrl_cookie(origin), text);
    if (error) {
        VLOG_WARN_RL(&rl, "%s", error);
        free(error);
    }
    free(text);
}

/* Adds 'token' to the faults of the Physical_Port row whose UUID is
 * 'uuid' in 'faults'. */
static void
pl_fault(json_t *faults, const char *uuid, const char *token)
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

/* Returns the name of the ACL that the "acl_bindings" of 'pp' (a row of
 * 'pports') bind to 'vlan', else to 0 (the whole port), or NULL. */
const char *
pipeline_binding_acl(const struct odb_replica_table *pports,
               const struct odb_row *pp, const struct odb_replica_table *acls,
               int vlan)
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
pl_binding_ls(const json_t *pair, const struct odb_replica_table *lswitches)
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
pipeline_binding_fault(const json_t *map, size_t idx,
                       const struct odb_replica_table *lswitches)
{
    const char *ls = pl_binding_ls(json_array_get(map, idx), lswitches);

    if (!ls) {
        return iovp_xstrdup("its logical switch is unknown or has no name");
    }
    for (size_t i = 0; i < idx; i++) {
        const json_t *pair = json_array_get(map, i);
        const char *other = pl_binding_ls(pair, lswitches);
        if (other && !strcmp(other, ls)) {
            return iovp_xasprintf("logical switch %s is bound through VLAN "
                                  "%"JSON_INTEGER_FORMAT" already", ls,
                                  json_integer_value(json_array_get(pair,
                                                                    0)));
        }
    }
    return NULL;
}

/* Reads port 'pp' (a row of 'pports') into 'port': its bindings, checked,
 * with faults recorded in 'faults'. */
static void
pl_read_bindings(const struct odb_replica_table *pports,
                 const struct odb_row *pp,
                 const struct odb_replica_table *lswitches,
                 const struct odb_replica_table *acls,
                 struct pl_port *port, json_t *faults)
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
        const char *ls_name = pl_binding_ls(pair, lswitches);
        int vlan = json_integer_value(json_array_get(pair, 0));
        char *why = pipeline_binding_fault(map, i, lswitches);

        if (why) {
            if (ls_name) {
                VLOG_WARN_RL(&rl, "port %s: VLAN %d is not applied: %s",
                             port->name, vlan, why);
            }
            pl_fault(faults, port->uuid, "invalid_vlan_map");
            free(why);
            continue;
        }

        port->bindings[port->n_bindings++] = (struct pl_binding) {
            .vlan = vlan,
            .ls = ls_name,
            .metadata = pipeline_ls_metadata(ls_name),
            .acl = pipeline_binding_acl(pports, pp, acls, vlan),
        };
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
            pl_fault(faults, port->uuid, "invalid_ACL_binding");
        }
    }
}

/* Notes an ambiguity that iovpd resolved, described by 'text' (stolen),
 * in 'ambiguities' (see pipeline_build()), if it is nonnull. */
static void
pl_ambiguity(json_t *ambiguities, char *text)
{
    if (ambiguities) {
        json_object_set_new(ambiguities, text, json_true());
    }
    free(text);
}

/* The 'n' rows of 'rows' (odb_named_rows_sort()'s, the first one used) are
 * Physical_Port rows of this switch with one name: each has an
 * "unspecified_fault" in 'faults', and the ambiguity goes in
 * 'ambiguities'. */
static void
pl_duplicate_ports(const struct pipeline_spec *spec,
                   const struct odb_named_row *rows, size_t n,
                   json_t *faults, json_t *ambiguities)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_format(&s, "Physical_Switch %s has %zu ports named \"%s\": "
                  "using Physical_Port %s, ignoring", spec->switch_name, n,
                  rows[0].name, rows[0].row->uuid);
    for (size_t i = 0; i < n; i++) {
        pl_fault(faults, rows[i].row->uuid, "unspecified_fault");
        if (i) {
            ds_put_format(&s, "%s %s", i > 1 ? "," : "", rows[i].row->uuid);
        }
    }
    pl_ambiguity(ambiguities, ds_steal_cstr(&s));
}

/* 'vm', vm_ports_find()'s VM port for 'port', has "ignored" Interfaces:
 * others with its "iface-id".  The port has an "unspecified_fault" in
 * 'faults', and the ambiguity goes in 'ambiguities'. */
static void
pl_duplicate_ifaces(const struct pipeline_spec *spec,
                    const struct pl_port *port, const json_t *vm,
                    json_t *faults, json_t *ambiguities)
{
    const json_t *ignored = json_object_get(vm, "ignored");
    struct ds s = DS_EMPTY_INITIALIZER;
    size_t i;
    json_t *iface;

    ds_put_format(&s, "bridge %s has %zu interfaces with "
                  "external_ids:iface-id \"%s\": using Interface %s (%s), "
                  "ignoring", spec->bridge, json_array_size(ignored) + 1,
                  port->name,
                  json_string_value(json_object_get(vm, "uuid")),
                  json_string_value(json_object_get(vm, "interface")));
    json_array_foreach (ignored, i, iface) {
        ds_put_format(&s, "%s %s (%s)", i ? "," : "",
                      json_string_value(json_object_get(iface, "uuid")),
                      json_string_value(json_object_get(iface,
                                                        "interface")));
    }
    pl_fault(faults, port->uuid, "unspecified_fault");
    pl_ambiguity(ambiguities, ds_steal_cstr(&s));
}

/* Gives each of the 'n' ports of 'ports' the addresses of the Iovp_Port row
 * of 'vtep' that names its Physical_Port row.  Of several such rows, the
 * one with the lowest UUID (odb_named_rows_sort()) gives them: the port has
 * an "unspecified_fault" in 'faults', and the ambiguity goes in
 * 'ambiguities'.  Rows that name a port iovpd does not use are ignored. */
static void
pl_read_addresses(const struct odb_replica *vtep, struct pl_port *ports,
                  size_t n, json_t *faults, json_t *ambiguities)
{
    const struct odb_replica_table *iports = odb_replica_find_table(
        vtep, "Iovp_Port");

    if (!iports || !n) {
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

    json_t *by_uuid = json_object();
    for (size_t i = 0; i < n; i++) {
        json_object_set_new(by_uuid, ports[i].uuid, json_integer(i));
    }
    for (size_t i = 0, next; i < n_rows; i = next) {
        const json_t *index = json_object_get(by_uuid, rows[i].name);

        next = odb_named_rows_next(rows, n_rows, i);
        if (!index) {
            continue;
        }
        struct pl_port *port = &ports[json_integer_value(index)];
        port->ips = odb_row_get(iports, rows[i].row, "ips");
        if (next - i > 1) {
            struct ds s = DS_EMPTY_INITIALIZER;

            ds_put_format(&s, "%zu Iovp_Port rows name port \"%s\" (%s): "
                          "using Iovp_Port %s, ignoring", next - i,
                          port->name, port->uuid, rows[i].row->uuid);
            for (size_t j = i + 1; j < next; j++) {
                ds_put_format(&s, "%s %s", j > i + 1 ? "," : "",
                              rows[j].row->uuid);
            }
            pl_fault(faults, port->uuid, "unspecified_fault");
            pl_ambiguity(ambiguities, ds_steal_cstr(&s));
        }
    }
    json_decref(by_uuid);
    free(rows);
}

/* Returns the VM ports of this switch, sorted by name, with their number in
 * '*n': one for each name, from the Physical_Port row that
 * switch_ports_all() puts first, and with the Interface that
 * vm_ports_find() chose in 'vm_ports'.  Ports that OVS does not show on
 * the bridge are included with 'ofport' -1.  Each port's faults go in
 * 'faults', by its row's UUID, and each ambiguity resolved (rows that
 * claim one name) in 'ambiguities', if nonnull (see pipeline_build()). */
static struct pl_port *
pl_read_ports(const struct odb_replica *vtep,
              const struct pipeline_spec *spec, json_t *vm_ports,
              json_t *faults, json_t *ambiguities, size_t *n)
{
    const struct odb_replica_table *pports = odb_replica_find_table(
        vtep, "Physical_Port");
    const struct odb_replica_table *lswitches = odb_replica_find_table(
        vtep, "Logical_Switch");
    const struct odb_replica_table *acls = odb_replica_find_table(vtep,
                                                                  "ACL");
    size_t n_all;
    struct odb_named_row *all = switch_ports_all(vtep, spec->switch_name,
                                                 &n_all);

    *n = 0;
    if (!all) {
        return NULL;
    }

    struct pl_port *ports = iovp_xmalloc(MAX(1, n_all) * sizeof *ports);
    for (size_t i = 0, next; i < n_all; i = next) {
        const struct odb_row *pp = all[i].row;
        const json_t *vm = json_object_get(vm_ports, all[i].name);
        struct pl_port *port = &ports[(*n)++];

        port->name = all[i].name;
        port->uuid = pp->uuid;
        port->ofport = (json_is_integer(json_object_get(vm, "ofport"))
                        ? json_integer_value(json_object_get(vm, "ofport"))
                        : -1);
        if (port->ofport <= 0 || port->ofport >= 0xff00) {
            port->ofport = -1;
        }
        port->mac = (vm ? json_string_value(json_object_get(vm, "mac"))
                     : "");
        port->ips = NULL;
        pl_read_bindings(pports, pp, lswitches, acls, port, faults);

        next = odb_named_rows_next(all, n_all, i);
        if (next - i > 1) {
            pl_duplicate_ports(spec, &all[i], next - i, faults,
                               ambiguities);
        }
        if (json_object_get(vm, "ignored")) {
            pl_duplicate_ifaces(spec, port, vm, faults, ambiguities);
        }
    }
    free(all);

    pl_read_addresses(vtep, ports, *n, faults, ambiguities);
    return ports;
}

/* Returns the VM ports of this switch, sorted by name, as the fast path
 * sees them (see pipeline.h), with their number in '*n'.  The strings are
 * the replicas': valid until they change. */
struct pipeline_vm_port *
pipeline_vm_ports(const struct odb_replica *vtep,
                  const struct odb_replica *ovs,
                  const struct pipeline_spec *spec, size_t *n)
{
    json_t *vm_ports = vm_ports_find(ovs, spec->bridge);
    json_t *faults = json_object();
    size_t n_ports;
    struct pl_port *ports = pl_read_ports(vtep, spec, vm_ports, faults, NULL,
                                          &n_ports);
    struct pipeline_vm_port *vps = iovp_xzalloc(MAX(1, n_ports)
                                                * sizeof *vps);

    for (size_t i = 0; i < n_ports; i++) {
        const struct pl_port *port = &ports[i];
        struct pipeline_vm_port *vp = &vps[i];

        const json_t *vm = json_object_get(vm_ports, port->name);
        vp->name = port->name;
        snprintf(vp->interface, sizeof vp->interface, "%s",
                 json_string_value(json_object_get(vm, "interface"))
                 ? json_string_value(json_object_get(vm, "interface"))
                 : "");
        vp->ofport = port->ofport;
        snprintf(vp->mac, sizeof vp->mac, "%s", port->mac ? port->mac : "");
        vp->ips = json_array_get(port->ips, 1);
        for (size_t j = 0; j < port->n_bindings; j++) {
            if (port->bindings[j].vlan == 0) {
                vp->ls = port->bindings[j].ls;
                vp->acl = port->bindings[j].acl;
            }
        }

        /* Of two ports with one MAC in one logical switch, the first by
         * name has it (as in table 30). */
        vp->owns_mac = vp->ls && vp->mac[0] && port->ofport > 0;
        for (size_t j = 0; j < i && vp->owns_mac; j++) {
            for (size_t k = 0; k < ports[j].n_bindings; k++) {
                if (ports[j].ofport > 0 && ports[j].mac
                    && !strcmp(ports[j].mac, vp->mac)
                    && !strcmp(ports[j].bindings[k].ls, vp->ls)) {
                    vp->owns_mac = false;
                }
            }
        }
    }
    for (size_t i = 0; i < n_ports; i++) {
        free(ports[i].bindings);
    }
    free(ports);
    json_decref(faults);
    json_decref(vm_ports);
    *n = n_ports;
    return vps;
}

/* Appends to 's' the match on the VLAN of 'b': untagged, or tagged
 * 'b->vlan'. */
static void
pl_match_vlan(struct ds *s, const struct pl_binding *b)
{
    if (b->vlan) {
        ds_put_format(s, ",dl_vlan=%d", b->vlan);
    } else {
        ds_put_cstr(s, ",vlan_tci=0x0000/0x1000");
    }
}

/* Writes to 'll' the IPv6 link-local address that the EUI-64 of 'mac'
 * gives, as a host takes it by default, and returns true; or returns false
 * if 'mac' is not a MAC. */
static bool
pl_link_local(const char *mac, char ll[INET6_ADDRSTRLEN])
{
    unsigned int m[6];
    struct in6_addr a;

    if (sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2], &m[3],
               &m[4], &m[5]) != 6) {
        return false;
    }
    memset(&a, 0, sizeof a);
    a.s6_addr[0] = 0xfe;
    a.s6_addr[1] = 0x80;
    a.s6_addr[8] = m[0] ^ 0x02;
    a.s6_addr[9] = m[1];
    a.s6_addr[10] = m[2];
    a.s6_addr[11] = 0xff;
    a.s6_addr[12] = 0xfe;
    a.s6_addr[13] = m[3];
    a.s6_addr[14] = m[4];
    a.s6_addr[15] = m[5];
    return inet_ntop(AF_INET6, &a, ll, INET6_ADDRSTRLEN) != NULL;
}

/* Table 0 for binding 'b' of 'port': what the VM may send in it.  'prefix'
 * is the match on the port, its VLAN and its MAC; 'classify' the actions
 * that admit a frame into the logical switch. */
static void
pl_classify(struct oflow_table *desired, json_t *faults,
            const struct pl_port *port, uint64_t origin,
            const char *prefix, const char *classify)
{
    const json_t *ips = json_array_get(port->ips, 1);

    if (!json_array_size(ips)) {
        /* No addresses given: the source MAC is all that is checked. */
        pl_flow(desired, origin, "table=0,priority=100,%s actions=%s",
                prefix, classify);
        return;
    }

    /* Addresses given: IPv4 and ARP only from the port's IPv4 addresses,
     * IPv6 only from its IPv6 addresses and its link-local address, and
     * what a host sends before it has an address: DHCP, and duplicate
     * address detection and router solicitation from "::". */
    size_t i;
    json_t *ip;
    json_array_foreach (ips, i, ip) {
        const char *addr = json_string_value(ip);
        struct in6_addr a6;
        struct in_addr a4;

        if (addr && inet_pton(AF_INET, addr, &a4) == 1) {
            pl_flow(desired, origin,
                    "table=0,priority=110,ip,%s,nw_src=%s actions=%s",
                    prefix, addr, classify);
            pl_flow(desired, origin,
                    "table=0,priority=110,arp,%s,arp_spa=%s%s%s actions=%s",
                    prefix, addr, port->mac[0] ? ",arp_sha=" : "",
                    port->mac, classify);
        } else if (addr && inet_pton(AF_INET6, addr, &a6) == 1) {
            pl_flow(desired, origin,
                    "table=0,priority=110,ipv6,%s,ipv6_src=%s actions=%s",
                    prefix, addr, classify);
        } else {
            VLOG_WARN_RL(&rl, "port %s: \"%s\" is not an IP address",
                         port->name, addr ? addr : "");
            pl_fault(faults, port->uuid, "unspecified_fault");
        }
    }

    char ll[INET6_ADDRSTRLEN];
    if (pl_link_local(port->mac, ll)) {
        pl_flow(desired, origin,
                "table=0,priority=110,ipv6,%s,ipv6_src=%s actions=%s",
                prefix, ll, classify);
    }
    pl_flow(desired, origin,
            "table=0,priority=110,udp,%s,nw_src=0.0.0.0,"
            "nw_dst=255.255.255.255,tp_src=68,tp_dst=67 actions=%s",
            prefix, classify);
    static const int icmp6_from_unspecified[] = {
        133,                    /* Router solicitation. */
        135,                    /* Neighbour solicitation (DAD). */
        143,                    /* MLDv2 report (DAD). */
    };
    for (i = 0; i < IOVP_ARRAY_SIZE(icmp6_from_unspecified); i++) {
        pl_flow(desired, origin,
                "table=0,priority=110,icmp6,%s,ipv6_src=::,icmp_type=%d "
                "actions=%s", prefix, icmp6_from_unspecified[i], classify);
    }
    static const char *const guarded[] = { "ip", "arp", "ipv6" };
    for (i = 0; i < IOVP_ARRAY_SIZE(guarded); i++) {
        pl_flow(desired, origin, "table=0,priority=105,%s,%s actions=drop",
                guarded[i], prefix);
    }
    pl_flow(desired, origin, "table=0,priority=100,%s actions=%s",
            prefix, classify);
}

/* Returns the actions that load the egress ACL of binding 'b' (toward the
 * VM), in 's', or "" if it has none. */
static const char *
pl_egress_acl(const struct pl_binding *b, struct ds *s)
{
    ds_clear(s);
    if (b->acl) {
        ds_put_format(s, "set_field:%#"PRIx64"->xreg4,",
                      pipeline_acl_id(b->acl));
    }
    return ds_cstr(s);
}

/* Adds to 'desired' the flows of binding 'b' of 'port': what the VM may
 * send in it (table 0), its MAC in the logical switch (table 30) and its
 * output (table 50). */
static void
pl_binding_flows(struct oflow_table *desired, json_t *faults,
                 const struct pl_port *port, const struct pl_binding *b)
{
    uint64_t origin = pipeline_port_origin(port->name);
    struct ds prefix = DS_EMPTY_INITIALIZER;
    struct ds classify = DS_EMPTY_INITIALIZER;
    struct ds egress = DS_EMPTY_INITIALIZER;

    ds_put_format(&prefix, "in_port=%d", port->ofport);
    pl_match_vlan(&prefix, b);
    if (port->mac[0]) {
        ds_put_format(&prefix, ",dl_src=%s", port->mac);
    }
    ds_put_format(&classify, "%sset_field:%#"PRIx64"->metadata,",
                  b->vlan ? "pop_vlan," : "", b->metadata);
    if (b->acl) {
        ds_put_format(&classify, "set_field:%#"PRIx64"->xreg2,",
                      pipeline_acl_id(b->acl));
    }
    ds_put_cstr(&classify, "goto_table:10");
    pl_classify(desired, faults, port, origin, ds_cstr(&prefix),
                ds_cstr(&classify));

    /* L2: the port's MAC in the logical switch.  Of two ports with
     * one MAC in one logical switch, the first by name has it. */
    if (port->mac[0]) {
        pl_flow(desired, origin,
                "table=30,priority=100,metadata=%#"PRIx64","
                "dl_dst=%s actions=set_field:%d->reg7,%sgoto_table:40",
                b->metadata, port->mac, port->ofport,
                pl_egress_acl(b, &egress));
    }

    /* Output, with the binding's tag pushed again. */
    if (b->vlan) {
        pl_flow(desired, origin,
                "table=50,priority=100,reg7=%d,metadata=%#"PRIx64
                " actions=push_vlan:0x8100,"
                "set_field:%d->vlan_vid,output:%d",
                port->ofport, b->metadata, 0x1000 | b->vlan,
                port->ofport);
    } else {
        pl_flow(desired, origin,
                "table=50,priority=100,reg7=%d,metadata=%#"PRIx64
                " actions=output:%d",
                port->ofport, b->metadata, port->ofport);
    }

    ds_destroy(&prefix);
    ds_destroy(&classify);
    ds_destroy(&egress);
}

/* Adds to 'desired' the flows that keep fragmentation from changing what an
 * ACL decides (RFC 1858, RFC 3128): a datagram's fate is decided once, on
 * its whole L4 header, and its fragments all share it.
 *
 * OVS reads ports and TCP flags only from a first fragment that holds them,
 * so ACL flows that match them cannot judge a tiny first fragment, nor any
 * later one, nor a fragment that overlaps another to rewrite what was
 * judged.  So every IP fragment is reassembled twice by OVS's userspace
 * conntrack (its "ipf" module), whose ct() without "commit" keeps no
 * connection state:
 *
 *   - Before the ingress ACL, in zone PIPELINE_CT_ZONE_DEFRAG: ipf holds
 *     the fragments until their datagram is complete, then lets them all
 *     go on together.  It marks invalid (and the flows below drop) a
 *     fragment that overlaps one it holds, a fragment other than the last
 *     shorter than its minimum (1200 bytes for IPv4, 1280 for IPv6: so a
 *     first fragment always holds a whole TCP or UDP header), and the
 *     fragments of a datagram that is not complete within 15 s.  The
 *     first fragment then meets the ACLs with its whole header; a later
 *     one has no header to judge, and passes both ACLs.
 *
 *   - Before output, in a zone of the output port (reg7: flooding sends
 *     one datagram to several ports, each its own reassembly): a datagram
 *     whose first fragment an ACL dropped never completes here, so its
 *     later fragments are held until ipf gives up on them, and are
 *     dropped as invalid.  What leaves is whole datagrams whose first
 *     fragment both ACLs permitted.
 *
 * A first fragment whose L4 header OVS could not read (IPv6 extension
 * headers that push it into the next fragment, which RFC 7112 forbids)
 * shows ports 0 and 0, or ICMPv6 type 0, which no real datagram has: it
 * is dropped.  With ipf off in OVS (dpctl/ipf-set-enabled), conntrack
 * marks every fragment invalid, so fragments are dropped: fail closed. */
static void
pl_fragment_flows(struct oflow_table *desired)
{
    static const char *const families[] = { "ip", "ipv6" };
    static const char *const l4[] = {
        "tcp", "udp", "sctp", "tcp6", "udp6", "sctp6",
    };
    const int zone = PIPELINE_CT_ZONE_DEFRAG;

    for (size_t i = 0; i < IOVP_ARRAY_SIZE(families); i++) {
        const char *f = families[i];

        /* Reassembly before the ingress ACL, and back into its table. */
        pl_flow(desired, 0, "table=%d,priority=%d,%s,nw_frag=yes,"
                "ct_state=+inv actions=drop", PIPELINE_T_INGRESS_ACL,
                PIPELINE_FRAG_PRIORITY + 20, f);
        pl_flow(desired, 0, "table=%d,priority=%d,%s,nw_frag=yes,"
                "ct_state=-trk actions=ct(zone=%d,table=%d)",
                PIPELINE_T_INGRESS_ACL, PIPELINE_FRAG_PRIORITY + 10, f,
                zone, PIPELINE_T_INGRESS_ACL);
        pl_flow(desired, 0, "table=%d,priority=%d,%s,nw_frag=later,"
                "ct_state=+trk,ct_zone=%d actions=goto_table:%d",
                PIPELINE_T_INGRESS_ACL, PIPELINE_FRAG_PRIORITY, f, zone,
                PIPELINE_T_QOS);
        pl_flow(desired, 0, "table=%d,priority=%d,%s,nw_frag=later "
                "actions=goto_table:%d", PIPELINE_T_EGRESS_ACL,
                PIPELINE_FRAG_PRIORITY, f, PIPELINE_T_OUTPUT);

        /* Reassembly before output, by output port. */
        pl_flow(desired, 0, "table=%d,priority=%d,%s,nw_frag=yes,"
                "ct_state=+inv actions=drop", PIPELINE_T_OUTPUT,
                PIPELINE_FRAG_PRIORITY + 20, f);
        pl_flow(desired, 0, "table=%d,priority=%d,%s,nw_frag=yes,"
                "ct_state=+trk,ct_zone=%d "
                "actions=ct(zone=NXM_NX_REG7[0..15],table=%d)",
                PIPELINE_T_OUTPUT, PIPELINE_FRAG_PRIORITY + 10, f, zone,
                PIPELINE_T_OUTPUT);
    }
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(l4); i++) {
        pl_flow(desired, 0, "table=%d,priority=%d,%s,nw_frag=first,"
                "ct_state=+trk,tp_src=0,tp_dst=0 actions=drop",
                PIPELINE_T_INGRESS_ACL, PIPELINE_FRAG_PRIORITY + 5, l4[i]);
    }
    pl_flow(desired, 0, "table=%d,priority=%d,icmp6,nw_frag=first,"
            "ct_state=+trk,icmp_type=0 actions=drop",
            PIPELINE_T_INGRESS_ACL, PIPELINE_FRAG_PRIORITY + 5);
}

/* Returns true if 'packet', an IP packet, is a first fragment that the
 * flows of pl_fragment_flows() drop before the ingress ACL: one whose L4
 * header OVS could not read (TCP, UDP or SCTP ports 0 and 0, or ICMPv6
 * type 0).  For trace, which must say what those flows do. */
bool
pipeline_fragment_is_dropped(const struct flow *packet)
{
    if ((packet->nw_frag & (FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER))
        != FLOW_NW_FRAG_ANY) {
        return false;
    }
    switch (packet->nw_proto) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
    case IPPROTO_SCTP:
        return !packet->tp_src && !packet->tp_dst;
    case IPPROTO_ICMPV6:
        return packet->dl_type == htons(0x86dd) && !packet->tp_src;
    default:
        return false;
    }
}

/* Adds to 'desired' the pipeline's flows for the switching policy in the
 * replicas 'vtep' and 'ovs', as 'spec' says, and to 'faults' (a JSON
 * object) the faults of this switch's Physical_Port rows, by UUID:
 * {"UUID": ["invalid_vlan_map", ...]}.  Adds to 'acls' (a JSON object) the
 * name of each ACL that a binding uses, whose own flows (agent/xlate-acl.h)
 * are not made here.
 *
 * Where several rows claim one name (Physical_Port rows of this switch,
 * Interfaces on the bridge with one "iface-id", Iovp_Port rows of one
 * port), one is used, by odb_named_rows_sort()'s rule (see
 * agent/switch-ports.h and agent/vm-ports.c), and the rows involved have an
 * "unspecified_fault"; each such ambiguity is a key of 'ambiguities' (a
 * JSON object), a line of text for the log that names the rows. */
void
pipeline_build(const struct odb_replica *vtep, const struct odb_replica *ovs,
               const struct pipeline_spec *spec,
               struct oflow_table *desired, json_t *faults, json_t *acls,
               json_t *ambiguities)
{
    /* The fixed flows: what no policy admits is dropped, and the tables
     * that later policy fills pass everything on. */
    pl_flow(desired, 0, "table=0,priority=0 actions=drop");
    pl_flow(desired, 0, "table=10,priority=0 actions=goto_table:20");
    pl_flow(desired, 0, "table=20,priority=0 actions=goto_table:30");
    pl_flow(desired, 0, "table=30,priority=0 actions=drop");
    pl_flow(desired, 0, "table=40,priority=0 actions=goto_table:50");
    pl_flow(desired, 0, "table=50,priority=0 actions=drop");
    pl_fragment_flows(desired);

    json_t *vm_ports = vm_ports_find(ovs, spec->bridge);
    size_t n_ports;
    struct pl_port *ports = pl_read_ports(vtep, spec, vm_ports, faults,
                                          ambiguities, &n_ports);

    /* Each logical switch's ports, for flooding: "ls name" -> [ofport]. */
    json_t *floods = json_object();
    struct ds classify = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n_ports; i++) {
        const struct pl_port *port = &ports[i];

        if (port->ofport < 0) {
            continue;
        }
        for (size_t j = 0; j < port->n_bindings; j++) {
            const struct pl_binding *b = &port->bindings[j];

            pl_binding_flows(desired, faults, port, b);

            json_t *members = json_object_get(floods, b->ls);
            if (!members) {
                members = json_array();
                json_object_set_new(floods, b->ls, members);
            }
            json_array_append_new(members, json_pack(
                "[i, s?]", port->ofport, b->acl));
            if (b->acl) {
                json_object_set_new(acls, b->acl, json_true());
            }
        }
    }

    /* Flooding: broadcast, multicast and unknown destinations go to every
     * port of the logical switch but the one they came from (OVS never
     * outputs to the input port), each through the egress ACL of its
     * destination, in a clone so that one output's tag does not follow the
     * packet to the next. */
    const char *ls;
    json_t *members;
    json_object_foreach (floods, ls, members) {
        uint64_t metadata = pipeline_ls_metadata(ls);

        ds_clear(&classify);
        size_t j;
        json_t *member;
        json_array_foreach (members, j, member) {
            const char *acl = json_string_value(json_array_get(member, 1));
            ds_put_format(&classify, "%sclone(set_field:%"JSON_INTEGER_FORMAT
                          "->reg7,", j ? "," : "",
                          json_integer_value(json_array_get(member, 0)));
            if (acl) {
                ds_put_format(&classify, "set_field:%#"PRIx64"->xreg4,",
                              pipeline_acl_id(acl));
            }
            ds_put_cstr(&classify, "resubmit(,40))");
        }
        pl_flow(desired, pipeline_ls_origin(ls),
                "table=30,priority=10,metadata=%#"PRIx64" actions=%s",
                metadata, ds_cstr(&classify));
    }

    ds_destroy(&classify);
    json_decref(floods);
    for (size_t i = 0; i < n_ports; i++) {
        free(ports[i].bindings);
    }
    free(ports);
    json_decref(vm_ports);
}

/* Returns a new reference to the counters of the VLAN bindings of this
 * switch's ports, summed from the counters of the installed flows in
 * 'installed' that the policy in 'vtep' and 'ovs' makes for each, by the
 * UUID of the Physical_Port row that iovpd uses for the port:
 *
 *   {"UUID": {"VLAN": {"packets_from_local": N, "bytes_from_local": N,
 *                      "packets_to_local": N, "bytes_to_local": N}}}
 *
 * "from local" counts what the VM sent that its binding admitted (table 0),
 * "to local" what left toward it (table 50).  A binding whose flows are not
 * installed is left out.  If 'extra' is nonnull, each flow's counters also
 * count what it says (with 'aux') was decided for that flow elsewhere, so
 * that a frame counts once wherever it was decided; then, if
 * 'extra_from_local' is nonnull, it receives how many of the frames from
 * local, over every binding, were decided elsewhere. */
json_t *
pipeline_binding_stats(const struct odb_replica *vtep,
                       const struct odb_replica *ovs,
                       const struct pipeline_spec *spec,
                       const struct oflow_table *installed,
                       pipeline_extra_stats_cb *extra, void *aux,
                       uint64_t *extra_from_local)
{
    json_t *vm_ports = vm_ports_find(ovs, spec->bridge);
    json_t *faults = json_object();
    json_t *stats = json_object();
    uint64_t elsewhere = 0;
    size_t n_ports;
    struct pl_port *ports = pl_read_ports(vtep, spec, vm_ports, faults, NULL,
                                          &n_ports);

    for (size_t i = 0; i < n_ports; i++) {
        const struct pl_port *port = &ports[i];
        json_t *port_stats = json_object();

        for (size_t j = 0; port->ofport >= 0 && j < port->n_bindings; j++) {
            struct oflow_table flows;
            uint64_t counts[4] = { 0, 0, 0, 0 };
            bool found = false;

            oflow_table_init(&flows);
            pl_binding_flows(&flows, faults, port, &port->bindings[j]);

            const struct oflow *f;
            OFLOW_TABLE_FOR_EACH (f, &flows) {
                const struct oflow *inst = oflow_table_find(installed, f);
                if (!inst) {
                    continue;
                }
                uint64_t packets = 0, bytes = 0;
                if (extra) {
                    extra(inst, &packets, &bytes, aux);
                }
                packets += inst->n_packets;
                bytes += inst->n_bytes;
                if (f->table_id == PIPELINE_T_CLASSIFY && f->ofpacts_len) {
                    elsewhere += packets - inst->n_packets;
                    counts[0] += packets;
                    counts[1] += bytes;
                } else if (f->table_id == PIPELINE_T_OUTPUT) {
                    counts[2] += packets;
                    counts[3] += bytes;
                    found = true;
                }
            }
            oflow_table_destroy(&flows);

            if (found) {
                char vlan[16];
                snprintf(vlan, sizeof vlan, "%d", port->bindings[j].vlan);
                json_object_set_new(port_stats, vlan, json_pack(
                    "{s:I, s:I, s:I, s:I}",
                    "packets_from_local", (json_int_t) counts[0],
                    "bytes_from_local", (json_int_t) counts[1],
                    "packets_to_local", (json_int_t) counts[2],
                    "bytes_to_local", (json_int_t) counts[3]));
            }
        }
        json_object_set_new(stats, port->uuid, port_stats);
        free(port->bindings);
    }
    free(ports);
    json_decref(faults);
    json_decref(vm_ports);
    if (extra_from_local) {
        *extra_from_local = elsewhere;
    }
    return stats;
}
