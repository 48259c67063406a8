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

#include "agent/bridge.h"

#include <stdio.h>
#include <string.h>

#include <openvswitch/shash.h>

#include "agent/overlay.h"
#include "model/vswitch-idl.h"
#include "ovsdb/idl.h"
#include "ovsdb/query.h"

/* The OpenFlow versions iovpd speaks. */
static const char *const bridge_protocols[] = {
    "OpenFlow13", "OpenFlow14", "OpenFlow15",
};

/* Returns a new reference to the operation that asks ovs-vswitchd to
 * report when it has applied the transaction that holds it, as ovs-vsctl
 * does: Open_vSwitch's "next_cfg" goes up by one, and ovs-vswitchd sets
 * "cur_cfg" to it once it has reconfigured. */
static json_t *
bridge_bump_cfg(const struct vswitch_open_vswitch *root)
{
    return json_pack("{s:s, s:s, s:o, s:[[s, s, i]]}",
                     "op", "mutate", "table", "Open_vSwitch",
                     "where", odb_idl_row_where(&root->header_),
                     "mutations", "next_cfg", "+=", 1);
}

static json_t *
bridge_create(const struct odb_idl *ovs, const struct bridge_spec *spec)
{
    const struct vswitch_open_vswitch *root = vswitch_open_vswitch_first(ovs);

    if (!root) {
        /* No Open_vSwitch row: "ovs-vsctl init" has not run yet. */
        return NULL;
    }

    json_t *protocols = json_array();
    for (size_t i = 0; i < sizeof bridge_protocols / sizeof *bridge_protocols;
         i++) {
        json_array_append_new(protocols, json_string(bridge_protocols[i]));
    }
    json_t *bridge = json_pack("{s:s, s:s, s:[s, o], s:[s, s]}",
                               "name", spec->name, "fail_mode", "secure",
                               "protocols", "set", protocols,
                               "ports", "named-uuid", "port");
    if (spec->datapath_type) {
        json_object_set_new(bridge, "datapath_type",
                            json_string(spec->datapath_type));
    }

    json_t *ops = json_pack(
        "[{s:s, s:s, s:[[s, s, s]], s:[s], s:s, s:[], s:i},"
        " {s:s, s:s, s:{s:s, s:s}, s:s},"
        " {s:s, s:s, s:{s:s, s:[s, s]}, s:s},"
        " {s:s, s:s, s:o, s:s},"
        " {s:s, s:s, s:o, s:[[s, s, [s, s]]]},"
        " {s:s, s:s}]",
        /* Guard: the bridge must still be missing. */
        "op", "wait", "table", "Bridge",
        "where", "name", "==", spec->name, "columns", "name",
        "until", "==", "rows", "timeout", 0,
        "op", "insert", "table", "Interface",
        "row", "name", spec->name, "type", "internal",
        "uuid-name", "iface",
        "op", "insert", "table", "Port",
        "row", "name", spec->name, "interfaces", "named-uuid", "iface",
        "uuid-name", "port",
        "op", "insert", "table", "Bridge", "row", bridge, "uuid-name", "br",
        "op", "mutate", "table", "Open_vSwitch",
        "where", odb_idl_row_where(&root->header_),
        "mutations", "bridges", "insert", "named-uuid", "br",
        "op", "comment",
        "comment", "iovpd: creating the integration bridge");
    json_array_append_new(ops, bridge_bump_cfg(root));
    return ops;
}

/* Returns true if 'br''s "protocols" has 'protocol'. */
static bool
bridge_has_protocol(const struct vswitch_bridge *br, const char *protocol)
{
    for (size_t i = 0; i < br->n_protocols; i++) {
        if (!strcmp(br->protocols[i], protocol)) {
            return true;
        }
    }
    return false;
}

/* Returns a new reference to the operations of a transaction that makes
 * the Open_vSwitch database, as its model 'ovs' shows it, hold the
 * integration bridge that 'spec' describes; NULL when it already does (or
 * when the database has no Open_vSwitch row yet). */
json_t *
bridge_ensure(const struct odb_idl *ovs, const struct bridge_spec *spec)
{
    const struct vswitch_bridge *br = vswitch_bridge_find_by_string(
        ovs, VSWITCH_BRIDGE_COL_NAME, spec->name);

    if (!br) {
        return bridge_create(ovs, spec);
    }

    json_t *ops = json_array();
    if (!br->fail_mode || strcmp(br->fail_mode, "secure")) {
        json_array_append_new(ops, json_pack(
                                  "{s:s, s:s, s:o, s:{s:s}}",
                                  "op", "update", "table", "Bridge",
                                  "where", odb_idl_row_where(&br->header_),
                                  "row", "fail_mode", "secure"));
    }

    if (br->n_protocols) {
        json_t *missing = json_array();
        for (size_t i = 0;
             i < sizeof bridge_protocols / sizeof *bridge_protocols; i++) {
            if (!bridge_has_protocol(br, bridge_protocols[i])) {
                json_array_append_new(missing,
                                      json_string(bridge_protocols[i]));
            }
        }
        if (json_array_size(missing)) {
            json_array_append_new(ops, json_pack(
                                      "{s:s, s:s, s:o, s:[[s, s, [s, o]]]}",
                                      "op", "mutate", "table", "Bridge",
                                      "where",
                                      odb_idl_row_where(&br->header_),
                                      "mutations", "protocols", "insert",
                                      "set", missing));
        } else {
            json_decref(missing);
        }
    }

    const struct vswitch_open_vswitch *root = vswitch_open_vswitch_first(ovs);
    if (json_array_size(ops) && root) {
        json_array_append_new(ops, bridge_bump_cfg(root));
    }
    return odb_txn_finish(ops, "iovpd: setting up the integration bridge");
}

/* Returns true if 'iface' is the VXLAN interface that iovpd needs for
 * 'tunnel', with local address 'tunnel_ip'. */
static bool
bridge_tunnel_is_right(const struct vswitch_interface *iface,
                       const struct overlay_tunnel *tunnel,
                       const char *tunnel_ip)
{
    const char *remote = odb_idl_map_get(iface->key_options,
                                         iface->value_options,
                                         iface->n_options, "remote_ip");
    const char *local = odb_idl_map_get(iface->key_options,
                                        iface->value_options,
                                        iface->n_options, "local_ip");
    const char *key = odb_idl_map_get(iface->key_options,
                                      iface->value_options,
                                      iface->n_options, "key");

    return (!strcmp(iface->type, "vxlan") && iface->n_options == 3
            && remote && !strcmp(remote, tunnel->ip)
            && local && !strcmp(local, tunnel_ip)
            && key && !strcmp(key, "flow")
            && odb_map_equals_object(iface->key_bfd, iface->value_bfd,
                                     iface->n_bfd, tunnel->bfd));
}

/* Appends to 'ops' the operation that takes 'port' off bridge 'br'. */
static void
bridge_delete_port(json_t *ops, const struct vswitch_bridge *br,
                   const struct vswitch_port *port)
{
    json_array_append_new(ops, json_pack(
        "{s:s, s:s, s:o, s:[[s, s, o]]}",
        "op", "mutate", "table", "Bridge",
        "where", odb_idl_row_where(&br->header_),
        "mutations", "ports", "delete", odb_idl_row_uuid(&port->header_)));
}

/* Appends to 'ops' the operations that add to bridge 'br' a port of one
 * interface, 'iface' (an Interface row, whose reference this takes), both
 * named 'name'; 'n' numbers the port among those of one transaction. */
static void
bridge_insert_port(json_t *ops, const struct vswitch_bridge *br,
                   const char *name, json_t *iface, size_t n)
{
    char iface_name[32], port_name[32];

    snprintf(iface_name, sizeof iface_name, "iface%zu", n);
    snprintf(port_name, sizeof port_name, "port%zu", n);
    json_object_set_new(iface, "name", json_string(name));
    json_array_append_new(ops, json_pack(
        "{s:s, s:s, s:o, s:s}", "op", "insert", "table", "Interface",
        "row", iface, "uuid-name", iface_name));
    json_array_append_new(ops, json_pack(
        "{s:s, s:s, s:{s:s, s:[s, s]}, s:s}",
        "op", "insert", "table", "Port",
        "row", "name", name, "interfaces", "named-uuid", iface_name,
        "uuid-name", port_name));
    json_array_append_new(ops, json_pack(
        "{s:s, s:s, s:o, s:[[s, s, [s, s]]]}",
        "op", "mutate", "table", "Bridge",
        "where", odb_idl_row_where(&br->header_),
        "mutations", "ports", "insert", "named-uuid", port_name));
}

/* Returns a new reference to the operations of a transaction that gives
 * the integration bridge, which exists, one VXLAN port for each remote
 * VTEP of 'overlay' (named as the tunnel says, with local address
 * 'tunnel_ip', the VNI set by each flow, and external_ids:iovp-tunnel the
 * remote address, BFD as the tunnel's Tunnel row asks, and the OpenFlow
 * port that the overlay chose for it asked for), and takes away the
 * VXLAN ports iovpd made for VTEPs that are gone; NULL when there is
 * nothing to do.  Without 'tunnel_ip', the bridge has no tunnel. */
json_t *
bridge_ensure_tunnels(const struct odb_idl *ovs, const char *bridge,
                      const struct overlay *overlay, const char *tunnel_ip)
{
    const struct vswitch_bridge *br = vswitch_bridge_find_by_string(
        ovs, VSWITCH_BRIDGE_COL_NAME, bridge);
    if (!br) {
        return NULL;
    }

    json_t *ops = json_array();
    struct shash present = SHASH_INITIALIZER(&present);
    for (size_t i = 0; i < br->n_ports; i++) {
        const struct vswitch_port *port = br->ports[i];
        if (port->n_interfaces != 1) {
            continue;
        }
        const struct vswitch_interface *iface = port->interfaces[0];
        const char *remote = odb_idl_map_get(iface->key_external_ids,
                                             iface->value_external_ids,
                                             iface->n_external_ids,
                                             "iovp-tunnel");
        if (!remote) {
            continue;
        }
        const struct overlay_tunnel *tunnel = (
            tunnel_ip ? overlay_find_tunnel(overlay, remote) : NULL);
        if (!tunnel || strcmp(tunnel->port, port->name)) {
            bridge_delete_port(ops, br, port);
        } else {
            shash_add_once(&present, tunnel->port, NULL);
            if (!bridge_tunnel_is_right(iface, tunnel, tunnel_ip)) {
                json_array_append_new(ops, json_pack(
                    "{s:s, s:s, s:o, s:{s:s, s:[s, [[s, s], [s, s], [s, s]]],"
                    "                   s:o}}",
                    "op", "update", "table", "Interface",
                    "where", odb_idl_row_where(&iface->header_),
                    "row", "type", "vxlan", "options", "map",
                    "key", "flow", "local_ip", tunnel_ip,
                    "remote_ip", tunnel->ip,
                    "bfd", odb_map_from_object(tunnel->bfd)));
            }
        }
    }

    const struct overlay_tunnel *tunnel;
    size_t n = 0;
    HMAP_FOR_EACH (tunnel, node, &overlay->tunnels) {
        if (!tunnel_ip || shash_find(&present, tunnel->port)) {
            continue;
        }
        bridge_insert_port(ops, br, tunnel->port, json_pack(
            "{s:s, s:[s, [[s, s], [s, s], [s, s]]], s:[s, [[s, s]]], s:o,"
            " s:o}",
            "type", "vxlan",
            "options", "map", "key", "flow", "local_ip", tunnel_ip,
            "remote_ip", tunnel->ip,
            "external_ids", "map", "iovp-tunnel", tunnel->ip,
            "bfd", odb_map_from_object(tunnel->bfd),
            "ofport_request", (tunnel->ofport > 0
                               ? json_integer(tunnel->ofport)
                               : json_pack("[s, []]", "set"))), n++);
    }
    shash_destroy(&present);
    return odb_txn_finish(ops, "iovpd: the overlay's tunnels");
}

/* Returns a new reference to the operations of a transaction that gives
 * the integration bridge, which exists, one internal port for each of the
 * 'n' capture sessions' devices 'devices' (named as the device, with
 * external_ids:iovp-capture "true"), and takes away every other port with
 * that mark: the ports of sessions that ended, and of an iovpd that ended
 * without taking its ports away.  NULL when there is nothing to do. */
json_t *
bridge_ensure_capture_ports(const struct odb_idl *ovs, const char *bridge,
                            const char *const *devices, size_t n)
{
    const struct vswitch_bridge *br = vswitch_bridge_find_by_string(
        ovs, VSWITCH_BRIDGE_COL_NAME, bridge);
    if (!br) {
        return NULL;
    }

    json_t *ops = json_array();
    struct shash present = SHASH_INITIALIZER(&present);
    for (size_t i = 0; i < br->n_ports; i++) {
        const struct vswitch_port *port = br->ports[i];
        if (port->n_interfaces != 1
            || !odb_idl_map_get(port->interfaces[0]->key_external_ids,
                                port->interfaces[0]->value_external_ids,
                                port->interfaces[0]->n_external_ids,
                                "iovp-capture")) {
            continue;
        }
        bool wanted = false;
        for (size_t j = 0; !wanted && j < n; j++) {
            wanted = !strcmp(devices[j], port->name);
        }
        if (wanted) {
            shash_add_once(&present, port->name, NULL);
        } else {
            bridge_delete_port(ops, br, port);
        }
    }

    for (size_t i = 0; i < n; i++) {
        if (shash_find(&present, devices[i])
            || vswitch_port_find_by_string(ovs, VSWITCH_PORT_COL_NAME,
                                           devices[i])) {
            /* Made already, or a name that someone else's port has: the
             * session waits (and its client gives up). */
            continue;
        }
        bridge_insert_port(ops, br, devices[i], json_pack(
            "{s:s, s:[s, [[s, s]]]}", "type", "internal",
            "external_ids", "map", "iovp-capture", "true"), i);
    }
    shash_destroy(&present);
    return odb_txn_finish(ops, "iovpd: capture ports");
}

/* Returns the OpenFlow port of capture port 'device' on 'bridge' in 'ovs'
 * (bridge_ensure_capture_ports()), or -1 if it has none (yet). */
int
bridge_capture_ofport(const struct odb_idl *ovs, const char *bridge,
                      const char *device)
{
    const struct vswitch_bridge *br = vswitch_bridge_find_by_string(
        ovs, VSWITCH_BRIDGE_COL_NAME, bridge);

    for (size_t i = 0; br && i < br->n_ports; i++) {
        const struct vswitch_port *port = br->ports[i];
        if (port->n_interfaces == 1 && !strcmp(port->name, device)) {
            const struct vswitch_interface *iface = port->interfaces[0];
            if (!odb_idl_map_get(iface->key_external_ids,
                                 iface->value_external_ids,
                                 iface->n_external_ids, "iovp-capture")) {
                return -1;
            }
            return (iface->n_ofport && iface->ofport[0] > 0
                    && iface->ofport[0] < 0xff00 ? iface->ofport[0] : -1);
        }
    }
    return -1;
}

/* Returns true if the integration bridge is as iovpd needs it, in the
 * database ('ovs') and in ovs-vswitchd: bridge_ensure() has nothing to do,
 * and ovs-vswitchd has applied every configuration committed so far
 * ("cur_cfg" has caught up with "next_cfg").  Flows sent before that may
 * be lost: OVS deletes every flow of a bridge whose fail mode changes. */
bool
bridge_is_ready(const struct odb_idl *ovs, const struct bridge_spec *spec)
{
    const struct vswitch_open_vswitch *root = vswitch_open_vswitch_first(ovs);
    json_t *ops = bridge_ensure(ovs, spec);

    if (ops || !root) {
        json_decref(ops);
        return false;
    }
    return root->cur_cfg >= root->next_cfg;
}
