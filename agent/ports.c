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
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/vlog.h>

#include "agent/pipeline-tables.h"
#include "agent/switch-ports.h"
#include "agent/vm-ports.h"
#include "lib/util.h"
#include "model/vtep-idl.h"
#include "model/vswitch-idl.h"
#include "ovsdb/idl.h"
#include "ovsdb/query.h"

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
    shash_init(&ports->acls);
}

static void
port_destroy(struct port *port)
{
    for (size_t i = 0; i < port->n_bindings; i++) {
        free(port->bindings[i].ls);
        free(port->bindings[i].acl);
    }
    free(port->bindings);
    for (size_t i = 0; i < port->n_qos; i++) {
        free(port->qos[i].uuid);
        free(port->qos[i].name);
    }
    free(port->qos);
    free(port->acl);
    free(port->ips);
    free(port->name);
    free(port->uuid);
    free(port->interface);
    free(port->mac);
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
    shash_destroy(&ports->acls);
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

/* Returns the QoS that applies to the frames of 'port''s binding for
 * 'vlan' (0 for a port in OpenFlow mode): its own, else the whole port's;
 * or NULL. */
const struct port_qos *
port_find_qos(const struct port *port, int vlan)
{
    const struct port_qos *whole = NULL;

    for (size_t i = 0; i < port->n_qos; i++) {
        if (port->qos[i].vlan == vlan) {
            return &port->qos[i];
        } else if (!port->qos[i].vlan) {
            whole = &port->qos[i];
        }
    }
    return whole;
}

static bool
port_qos_equal(const struct port_qos *a, const struct port_qos *b)
{
    return (a->vlan == b->vlan
            && !strcmp(a->uuid, b->uuid)
            && !strcmp(a->name, b->name)
            && a->police_rate == b->police_rate
            && a->police_burst == b->police_burst
            && a->receive_rate == b->receive_rate
            && a->receive_burst == b->receive_burst
            && a->dscp == b->dscp
            && a->pcp == b->pcp);
}

static bool
port_binding_equal(const struct port_binding *a,
                   const struct port_binding *b)
{
    return (a->vlan == b->vlan
            && !strcmp(a->ls, b->ls)
            && iovp_nullable_streq(a->acl, b->acl)
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
        || !iovp_nullable_streq(a->interface, b->interface)
        || a->ofport != b->ofport
        || strcmp(a->mac, b->mac)
        || a->n_bindings != b->n_bindings
        || a->checks_ips != b->checks_ips
        || a->openflow != b->openflow
        || a->profile != b->profile
        || !iovp_nullable_streq(a->acl, b->acl)
        || a->n_ips != b->n_ips
        || a->n_qos != b->n_qos) {
        return false;
    }
    for (size_t i = 0; i < a->n_qos; i++) {
        if (!port_qos_equal(&a->qos[i], &b->qos[i])) {
            return false;
        }
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

/* Parses the MAC of 'port' into '*mac'; returns false if it has none, or
 * if its "attached-mac" is not exactly a MAC. */
bool
port_parse_mac(const struct port *port, struct eth_addr *mac)
{
    const char *s = port->mac;

    /* Exactly "xx:xx:xx:xx:xx:xx": no sign, no space, nothing more. */
    if (strlen(s) != 17) {
        return false;
    }
    for (int i = 0; i < 17; i++) {
        if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char) s[i])) {
            return false;
        }
    }
    for (int i = 0; i < 6; i++) {
        mac->ea[i] = strtoul(&s[3 * i], NULL, 16);
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

/* Returns the name of the ACL that the "acl_bindings" of 'pp' bind to
 * 'vlan', else to 0 (the whole port), or NULL. */
const char *
ports_binding_acl(const struct hwvtep_physical_port *pp, int vlan)
{
    const struct hwvtep_acl *acl = NULL;

    for (size_t i = 0; i < pp->n_acl_bindings; i++) {
        int64_t key = pp->key_acl_bindings[i];
        if (key == vlan || (key == 0 && !acl)) {
            acl = pp->value_acl_bindings[i];
        }
    }
    return acl ? acl->acl_name : NULL;
}

/* Returns the name of logical switch 'ls', or NULL if it has none. */
static const char *
ports_ls_name(const struct hwvtep_logical_switch *ls)
{
    return ls && ls->name[0] ? ls->name : NULL;
}

/* Returns NULL if the pipeline applies binding 'idx' of the "vlan_bindings"
 * of 'pp' (sorted by VLAN), else why not, malloc()'d: its logical switch
 * has no name, or the port is bound to it through a lower VLAN already (a
 * frame flooded from one would have to leave by the port it came in on).
 * Either is the port's "invalid_vlan_map". */
char *
ports_binding_fault(const struct hwvtep_physical_port *pp, size_t idx)
{
    const char *ls = ports_ls_name(pp->value_vlan_bindings[idx]);
    int64_t vlan = pp->key_vlan_bindings[idx];

    if (vlan < 0 || vlan > 4095) {
        /* hardware_vtep allows 0 to 4095 only; a server's schema might
         * not say so. */
        return iovp_xasprintf("VLAN %"PRId64" is not in 0 to 4095", vlan);
    }
    if (!ls) {
        return iovp_xstrdup("its logical switch is unknown or has no name");
    }
    for (size_t i = 0; i < idx; i++) {
        const char *other = ports_ls_name(pp->value_vlan_bindings[i]);
        if (other && !strcmp(other, ls)) {
            return iovp_xasprintf("logical switch %s is bound through VLAN "
                                  "%"PRId64" already", ls,
                                  pp->key_vlan_bindings[i]);
        }
    }
    return NULL;
}

/* Reads the bindings of 'port' from its row 'pp', checked, with faults
 * recorded in 'ports'. */
static void
ports_read_bindings(struct ports *ports,
                    const struct hwvtep_physical_port *pp, struct port *port)
{
    port->bindings = iovp_xmalloc(MAX(1, pp->n_vlan_bindings)
                                  * sizeof *port->bindings);
    port->n_bindings = 0;

    /* The bindings are sorted by VLAN, so that of two VLANs of one port in
     * one logical switch, the lower is the one kept. */
    for (size_t i = 0; i < pp->n_vlan_bindings; i++) {
        const char *ls_name = ports_ls_name(pp->value_vlan_bindings[i]);
        int64_t vlan = pp->key_vlan_bindings[i];
        char *why = ports_binding_fault(pp, i);

        if (why) {
            if (ls_name) {
                VLOG_WARN_RL(&rl, "port %s: VLAN %"PRId64" is not applied: "
                             "%s", port->name, vlan, why);
            }
            ports_fault(ports->faults, port->uuid, "invalid_vlan_map");
            free(why);
            continue;
        }

        const char *acl = ports_binding_acl(pp, vlan);
        port->bindings[port->n_bindings++] = (struct port_binding) {
            .vlan = vlan,
            .ls = iovp_xstrdup(ls_name),
            .metadata = pipeline_ls_metadata(ls_name),
            .acl = acl ? iovp_xstrdup(acl) : NULL,
        };
        if (acl && port->ofport >= 0) {
            shash_replace(&ports->acls, acl, NULL);
        }
    }

    /* An ACL bound to a VLAN (not 0, the whole port) that the port has no
     * binding for applies to nothing: the controller meant something
     * else, and is told. */
    for (size_t i = 0; i < pp->n_acl_bindings; i++) {
        int64_t vlan = pp->key_acl_bindings[i];
        bool bound = vlan == 0;

        for (size_t j = 0; j < pp->n_vlan_bindings; j++) {
            bound = bound || pp->key_vlan_bindings[j] == vlan;
        }
        if (!bound) {
            VLOG_WARN_RL(&rl, "port %s: the ACL bound to VLAN %"PRId64
                         " applies to nothing: the port has no binding for "
                         "that VLAN", port->name, vlan);
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
                  rows[0].name, rows[0].uuid);
    for (size_t i = 0; i < n; i++) {
        ports_fault(ports->faults, rows[i].uuid, "unspecified_fault");
        if (i) {
            ds_put_format(&s, "%s %s", i > 1 ? "," : "", rows[i].uuid);
        }
    }
    ports_ambiguity(ports, ds_steal_cstr(&s));
}

/* 'vm', the VM port for 'port', has "ignored" Interfaces: others with its
 * "iface-id" on 'bridge'.  The port has an "unspecified_fault", and the
 * ambiguity is noted. */
static void
ports_duplicate_ifaces(struct ports *ports, const char *bridge,
                       const struct port *port, const struct vm_iface *vm)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_format(&s, "bridge %s has %zu interfaces with "
                  "external_ids:iface-id \"%s\": using Interface %s (%s), "
                  "ignoring", bridge, vm->n_ignored + 1, port->name,
                  vm->iface->header_.uuid, vm->iface->name);
    for (size_t i = 0; i < vm->n_ignored; i++) {
        ds_put_format(&s, "%s %s (%s)", i ? "," : "",
                      vm->ignored[i]->header_.uuid, vm->ignored[i]->name);
    }
    ports_fault(ports->faults, port->uuid, "unspecified_fault");
    ports_ambiguity(ports, ds_steal_cstr(&s));
}

/* Reads the OpenFlow mode of 'port' from its row 'pp': its ACL, and no
 * VLAN binding (a binding it has is a fault: the controller meant
 * something else, and is told). */
static void
ports_read_openflow(struct ports *ports,
                    const struct hwvtep_physical_port *pp, struct port *port)
{
    const char *acl = ports_binding_acl(pp, 0);

    port->bindings = iovp_xmalloc(sizeof *port->bindings);
    port->n_bindings = 0;
    if (pp->n_vlan_bindings) {
        VLOG_WARN_RL(&rl, "port %s: its VLAN bindings are not applied: "
                     "the port is in OpenFlow mode", port->name);
        ports_fault(ports->faults, port->uuid, "invalid_vlan_map");
    }
    for (size_t i = 0; i < pp->n_acl_bindings; i++) {
        if (pp->key_acl_bindings[i]) {
            VLOG_WARN_RL(&rl, "port %s: the ACL bound to VLAN %"PRId64" "
                         "applies to nothing: the port is in OpenFlow mode, "
                         "where only the whole port's (VLAN 0) applies",
                         port->name, pp->key_acl_bindings[i]);
            ports_fault(ports->faults, port->uuid, "invalid_ACL_binding");
        }
    }
    if (acl) {
        port->acl = iovp_xstrdup(acl);
        if (port->ofport >= 0) {
            shash_replace(&ports->acls, acl, NULL);
        }
    }
}

/* Returns the optional integer column value 'v' ('n' of them) as a rate
 * or a burst in OpenFlow's 32 bits: 0 if there is none, at most
 * UINT32_MAX (over 4 Tbit/s: no limit that matters). */
static uint32_t
ports_qos_value(const int64_t *v, size_t n)
{
    return n && v[0] > 0 ? MIN(v[0], UINT32_MAX) : 0;
}

static int
ports_compare_qos(const void *a_, const void *b_)
{
    const struct port_qos *a = a_;
    const struct port_qos *b = b_;

    return a->vlan < b->vlan ? -1 : a->vlan > b->vlan;
}

/* Gives 'port' the QoS rows that the "qos_bindings" of 'ip', its
 * Iovp_Port row, bind, sorted by VLAN. */
static void
ports_read_qos(struct port *port, const struct hwvtep_iovp_port *ip)
{
    port->qos = iovp_xmalloc(MAX(1, ip->n_qos_bindings) * sizeof *port->qos);
    for (size_t i = 0; i < ip->n_qos_bindings; i++) {
        const struct hwvtep_iovp_qos *q = ip->value_qos_bindings[i];
        int64_t vlan = ip->key_qos_bindings[i];

        if (!q || vlan < 0 || vlan > 4095) {
            continue;
        }
        struct port_qos *pq = &port->qos[port->n_qos++];
        *pq = (struct port_qos) {
            .vlan = vlan,
            .uuid = iovp_xstrdup(q->header_.uuid),
            .name = iovp_xstrdup(q->name),
            .police_rate = ports_qos_value(q->police_rate,
                                           q->n_police_rate),
            .receive_rate = ports_qos_value(q->receive_rate,
                                            q->n_receive_rate),
            .dscp = q->n_dscp && q->dscp[0] >= 0 && q->dscp[0] < 64
                    ? q->dscp[0] : -1,
            .pcp = q->n_pcp && q->pcp[0] >= 0 && q->pcp[0] < 8
                   ? q->pcp[0] : -1,
        };
        if (pq->police_rate) {
            pq->police_burst = ports_qos_value(q->police_burst,
                                               q->n_police_burst);
        }
        if (pq->receive_rate) {
            pq->receive_burst = ports_qos_value(q->receive_burst,
                                                q->n_receive_burst);
        }
    }
    qsort(port->qos, port->n_qos, sizeof *port->qos, ports_compare_qos);
}

/* A QoS bound to a VLAN (not 0, the whole port) that 'port' has no binding
 * for applies to nothing: the controller meant something else, and is
 * told, with the port's "unspecified_fault" (hardware_vtep has no fault
 * of its own for iovp's QoS). */
static void
ports_check_qos(struct ports *ports, struct port *port)
{
    for (size_t i = 0; i < port->n_qos; i++) {
        int vlan = port->qos[i].vlan;
        if (vlan && (port->openflow || !port_find_binding(port, vlan))) {
            VLOG_WARN_RL(&rl, "port %s: the QoS bound to VLAN %d applies "
                         "to nothing: %s", port->name, vlan,
                         (port->openflow
                          ? "the port is in OpenFlow mode, where only the "
                            "whole port's (VLAN 0) applies"
                          : "the port has no binding for that VLAN"));
            ports_fault(ports->faults, port->uuid, "unspecified_fault");
        }
    }
}

/* 'port' is a capture port: it receives copies and nothing else, so no
 * binding of 'pp', its row, applies (one it has is a fault: the controller
 * meant something else, and is told), nor does its mode or QoS. */
static void
ports_read_capture(struct ports *ports,
                   const struct hwvtep_physical_port *pp, struct port *port)
{
    port->bindings = iovp_xmalloc(sizeof *port->bindings);
    port->n_bindings = 0;
    port->openflow = false;
    for (size_t i = 0; i < port->n_qos; i++) {
        free(port->qos[i].uuid);
        free(port->qos[i].name);
    }
    port->n_qos = 0;
    if (pp->n_vlan_bindings) {
        VLOG_WARN_RL(&rl, "port %s: its VLAN bindings are not applied: "
                     "it is a capture port", port->name);
        ports_fault(ports->faults, port->uuid, "invalid_vlan_map");
    }
}

/* Gives 'port' the addresses and the mode of 'ip', its Iovp_Port row; an
 * address that does not parse is a fault of the port. */
static void
ports_read_iovp_port(struct ports *ports, struct port *port,
                     const struct hwvtep_iovp_port *ip)
{
    port->openflow = ip->mode && !strcmp(ip->mode, "openflow");
    port->profile = (!ip->profile ? PORT_PROFILE_DEFAULT
                     : !strcmp(ip->profile, "plain") ? PORT_PROFILE_PLAIN
                     : !strcmp(ip->profile, "offload") ? PORT_PROFILE_OFFLOAD
                     : !strcmp(ip->profile, "capture") ? PORT_PROFILE_CAPTURE
                     : PORT_PROFILE_DEFAULT);
    ports_read_qos(port, ip);
    port->checks_ips = ip->n_ips > 0;
    port->ips = iovp_xmalloc(MAX(1, ip->n_ips) * sizeof *port->ips);
    for (size_t i = 0; i < ip->n_ips; i++) {
        if (port_address_parse(ip->ips[i], &port->ips[port->n_ips])) {
            port->n_ips++;
        } else {
            VLOG_WARN_RL(&rl, "port %s: \"%s\" is not an IP address",
                         port->name, ip->ips[i]);
            ports_fault(ports->faults, port->uuid, "unspecified_fault");
        }
    }
}

/* Gives each port of 'ports' the addresses and the mode of the Iovp_Port
 * row of 'vtep' that names its Physical_Port row.  Of several such rows, the
 * one with the lowest UUID (odb_named_rows_sort()) gives them: the port has an
 * "unspecified_fault", and the ambiguity is noted.  Rows that name a port
 * iovpd does not use are ignored. */
static void
ports_read_addresses(struct ports *ports, const struct odb_idl *vtep)
{
    size_t n_rows = 0, allocated = 0;
    struct odb_named_row *rows = NULL;
    const struct hwvtep_iovp_port *ip;

    /* The rows, by the Physical_Port row they name. */
    HWVTEP_IOVP_PORT_FOR_EACH (ip, vtep) {
        if (ip->physical_port) {
            if (n_rows >= allocated) {
                allocated = 2 * allocated + 8;
                rows = iovp_xrealloc(rows, allocated * sizeof *rows);
            }
            rows[n_rows++] = (struct odb_named_row) {
                .name = ip->physical_port->header_.uuid,
                .uuid = ip->header_.uuid,
                .row = ip,
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
        ports_read_iovp_port(ports, port, rows[i].row);
        if (next - i > 1) {
            struct ds s = DS_EMPTY_INITIALIZER;

            ds_put_format(&s, "%zu Iovp_Port rows name port \"%s\" (%s): "
                          "using Iovp_Port %s, ignoring", next - i,
                          port->name, port->uuid, rows[i].uuid);
            for (size_t j = i + 1; j < next; j++) {
                ds_put_format(&s, "%s %s", j > i + 1 ? "," : "",
                              rows[j].uuid);
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

        struct eth_addr mac;
        if (port->ofport < 0 || !port_parse_mac(port, &mac)) {
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
 * of switch 'switch_name' from the models 'vtep' and 'ovs', with the
 * Interface on 'bridge' that vm_ifaces_find() chooses: one for each name,
 * from the Physical_Port row that switch_ports_rows() puts first.  Ports
 * that OVS does not show on the bridge are included with 'ofport' -1. */
void
ports_read(struct ports *ports, const struct odb_idl *vtep,
           const struct odb_idl *ovs, const char *switch_name,
           const char *bridge)
{
    size_t n_all;
    struct odb_named_row *all = (switch_name
                                 ? switch_ports_rows(vtep, switch_name,
                                                     &n_all)
                                 : NULL);

    if (!all) {
        return;
    }

    size_t n_vms;
    struct vm_iface *vms = vm_ifaces_find(ovs, bridge, &n_vms);
    ports->sorted = iovp_xmalloc(MAX(1, n_all) * sizeof *ports->sorted);
    for (size_t i = 0, next; i < n_all; i = next) {
        const struct hwvtep_physical_port *pp = all[i].row;
        const struct vm_iface *vm = vm_ifaces_lookup(vms, n_vms,
                                                     all[i].name);
        struct port *port = iovp_xzalloc(sizeof *port);

        port->name = iovp_xstrdup(all[i].name);
        port->uuid = iovp_xstrdup(pp->header_.uuid);
        port->interface = vm ? iovp_xstrdup(vm->iface->name) : NULL;
        port->ofport = (vm && vm->ofport > 0 && vm->ofport < 0xff00
                        ? vm->ofport : -1);
        port->mac = iovp_xstrdup(vm ? vm->mac : "");

        shash_add(&ports->by_name, port->name, port);
        ports->sorted[ports->n++] = port;

        next = odb_named_rows_next(all, n_all, i);
        if (next - i > 1) {
            ports_duplicate_rows(ports, switch_name, &all[i], next - i);
        }
        if (vm && vm->n_ignored) {
            ports_duplicate_ifaces(ports, bridge, port, vm);
        }
    }
    free(all);
    vm_ifaces_free(vms, n_vms);

    qsort(ports->sorted, ports->n, sizeof *ports->sorted,
          ports_compare_by_name);
    ports_read_addresses(ports, vtep);
    for (size_t i = 0; i < ports->n; i++) {
        struct port *port = CONST_CAST(struct port *, ports->sorted[i]);
        const struct hwvtep_physical_port *pp
            = hwvtep_physical_port_get(vtep, port->uuid);

        if (port->profile == PORT_PROFILE_CAPTURE) {
            ports_read_capture(ports, pp, port);
        } else if (port->openflow) {
            ports_read_openflow(ports, pp, port);
        } else {
            ports_read_bindings(ports, pp, port);
        }
        ports_check_qos(ports, port);
    }
    ports_assign_macs(ports);
}

/* Returns true if 'a' and 'b' bind the same ACLs. */
bool
ports_same_acls(const struct ports *a, const struct ports *b)
{
    const struct shash_node *node;

    if (shash_count(&a->acls) != shash_count(&b->acls)) {
        return false;
    }
    SHASH_FOR_EACH (node, &a->acls) {
        if (!shash_find(&b->acls, node->name)) {
            return false;
        }
    }
    return true;
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
