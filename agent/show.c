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

#include "agent/show.h"

#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>

#include "agent/overlay.h"
#include "agent/pipeline.h"
#include "agent/ports.h"
#include "agent/switch-ports.h"
#include "agent/vm-ports.h"
#include "lib/util.h"
#include "model/vtep-idl.h"
#include "model/vswitch-idl.h"

/* Returns a new reference to the bindings of 'pp', the Physical_Port row
 * that iovpd uses for a port (see agent/switch-ports.h): [{"vlan": N,
 * "logical_switch": NAME, "acl": NAME or null}], by VLAN, with
 * "not_applied": why, for a binding that the pipeline does not apply
 * (ports_binding_fault()). */
static json_t *
show_bindings(const struct hwvtep_physical_port *pp)
{
    json_t *bindings = json_array();

    for (size_t i = 0; pp && i < pp->n_vlan_bindings; i++) {
        const struct hwvtep_logical_switch *ls = pp->value_vlan_bindings[i];
        int vlan = pp->key_vlan_bindings[i];
        char *why = ports_binding_fault(pp, i);

        json_array_append_new(bindings, json_pack(
            "{s:i, s:s, s:s?, s:s?}", "vlan", vlan,
            "logical_switch", ls->name[0] ? ls->name : "(unknown)",
            "acl", ports_binding_acl(pp, vlan), "not_applied", why));
        free(why);
    }
    return bindings;
}

/* Adds to each binding of 'bindings' (show_bindings()'s) the name of the
 * QoS that 'port' (or NULL) applies to it, as "qos". */
static void
show_add_qos(json_t *bindings, const struct port *port)
{
    size_t i;
    json_t *b;

    json_array_foreach (bindings, i, b) {
        json_int_t vlan = json_integer_value(json_object_get(b, "vlan"));
        const struct port_qos *q = port ? port_find_qos(port, vlan) : NULL;
        if (q) {
            json_object_set_new(b, "qos", json_string(q->name));
        }
    }
}

/* Returns the Physical_Port row that iovpd uses for port 'name' among the
 * 'n' of 'pps' (switch_ports_used_rows()'s, sorted by name), or NULL. */
static const struct hwvtep_physical_port *
show_find_port(const struct hwvtep_physical_port **pps, size_t n,
               const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(pps[i]->name, name)) {
            return pps[i];
        }
    }
    return NULL;
}

/* Returns a new reference to the overlay 'o' as "show" gives it:
 * {"tunnels": [{"remote", "port", "ofport", "bfd", "forwarding"}] by
 * address, "bfd" the BFD state and "forwarding" or "off", "forwarding"
 * false only when BFD is on and does not say so; "switches": [{"name", "vni",
 * "replication", "flood": [ADDRESS...], "remote_macs": [{"mac",
 * "remote"}], "multicast": [{"mac", "flood": [ADDRESS...]}]}] by name}. */
static json_t *
show_overlay(const struct overlay *o)
{
    json_t *tunnels = json_array();
    json_t *switches = json_array();

    if (!o) {
        return json_pack("{s:o, s:o}", "tunnels", tunnels,
                         "switches", switches);
    }

    size_t n;
    const struct overlay_tunnel **sorted = overlay_sorted_tunnels(o, &n);
    for (size_t i = 0; i < n; i++) {
        const struct overlay_tunnel *t = sorted[i];
        const char *state = json_string_value(json_object_get(t->bfd_status,
                                                              "state"));
        char *bfd = (!json_object_size(t->bfd) ? iovp_xstrdup("off")
                     : iovp_xasprintf("%s%s", state ? state : "(no status)",
                                      t->forwarding ? ", forwarding" : ""));
        json_array_append_new(tunnels, json_pack(
            "{s:s, s:s, s:o, s:s, s:b}", "remote", t->ip, "port", t->port,
            "ofport", t->ofport >= 0 ? json_integer(t->ofport) : json_null(),
            "bfd", bfd, "forwarding", t->forwarding));
        free(bfd);
    }
    free(sorted);

    const struct shash_node **nodes = shash_sort(&o->switches);
    for (size_t i = 0; i < shash_count(&o->switches); i++) {
        const struct overlay_switch *sw = nodes[i]->data;
        json_t *flood = json_array();
        json_t *macs = json_array();

        for (size_t j = 0; j < sw->flood.n; j++) {
            json_array_append_new(flood,
                                  json_string(sw->flood.tunnels[j]->ip));
        }
        json_t *mcasts = json_array();
        for (size_t j = 0; j < sw->n_mcasts; j++) {
            const struct overlay_mcast *mc = &sw->mcasts[j];
            json_t *remotes = json_array();
            for (size_t k = 0; k < mc->set.n; k++) {
                json_array_append_new(remotes,
                                      json_string(mc->set.tunnels[k]->ip));
            }
            json_array_append_new(mcasts, json_pack(
                "{s:s, s:o}", "mac", mc->mac, "flood", remotes));
        }
        for (size_t j = 0; j < sw->n_macs; j++) {
            json_array_append_new(macs, json_pack(
                "{s:s, s:s}", "mac", sw->macs[j].mac,
                "remote", sw->macs[j].tunnel->ip));
        }
        json_array_append_new(switches, json_pack(
            "{s:s, s:I, s:s, s:o, s:o, s:o}", "name", sw->name,
            "vni", (json_int_t) sw->vni,
            "replication", sw->source_node ? "source_node" : "service_node",
            "flood", flood, "remote_macs", macs, "multicast", mcasts));
    }
    free(nodes);
    return json_pack("{s:o, s:o}", "tunnels", tunnels, "switches", switches);
}

/* Returns the profile that 'port' has, with or without offload. */
static const char *
show_profile(const struct port *port, bool offload)
{
    switch (port->profile) {
    case PORT_PROFILE_PLAIN:
        return "plain";
    case PORT_PROFILE_OFFLOAD:
        return "offload";
    case PORT_PROFILE_CAPTURE:
        return "capture";
    case PORT_PROFILE_DEFAULT:
    default:
        return offload ? "offload" : "plain";
    }
}

/* Returns a new reference to 'array', or to an empty array if it is
 * NULL. */
static json_t *
show_array(json_t *array)
{
    return array ? json_incref(array) : json_array();
}

/* Returns a new reference to what "show" prints, as JSON: {"switch",
 * "tunnel_ip", "bridge", "ports": [{"name", "interface", "ofport", "mac",
 * "bindings"}] by name, "overlay" (see show_overlay())}, from the models
 * 'vtep' and 'ovs', either of which may be NULL (not connected yet). */
json_t *
show_switch(const struct odb_idl *vtep, const struct odb_idl *ovs,
            const struct show_spec *spec)
{
    size_t n_vms = 0, n_pps = 0;
    struct vm_iface *vms = ovs ? vm_ifaces_find(ovs, spec->bridge, &n_vms)
                               : NULL;
    const struct hwvtep_physical_port **pps = (
        vtep && spec->switch_name
        ? switch_ports_used_rows(vtep, spec->switch_name, &n_pps) : NULL);
    json_t *ports = json_array();

    for (size_t i = 0; i < n_vms; i++) {
        const struct vm_iface *vm = &vms[i];
        const struct port *port = (spec->ports
                                   ? ports_find(spec->ports, vm->iface_id)
                                   : NULL);
        const struct port_qos *q = (port && port->openflow
                                    ? port_find_qos(port, 0) : NULL);
        json_t *bindings = show_bindings(show_find_port(pps, n_pps,
                                                        vm->iface_id));
        show_add_qos(bindings, port && !port->openflow ? port : NULL);
        json_array_append_new(ports, json_pack(
            "{s:s, s:s, s:s, s:o, s:o, s:s?, s:s?}",
            "name", vm->iface_id, "interface", vm->iface->name,
            "mac", vm->mac,
            "ofport", (vm->iface->n_ofport
                       ? json_integer(vm->iface->ofport[0]) : json_null()),
            "bindings", bindings, "qos", q ? q->name : NULL,
            "profile", port ? show_profile(port, spec->offload) : NULL));
    }
    free(pps);
    vm_ifaces_free(vms, n_vms);

    return json_pack("{s:s?, s:s?, s:s, s:o, s:o, s:o, s:o, s:o}",
                     "switch", spec->switch_name,
                     "tunnel_ip", spec->tunnel_ip,
                     "bridge", spec->bridge, "ports", ports,
                     "load_balancers", show_array(spec->load_balancers),
                     "captures", show_array(spec->captures),
                     "steering", show_array(spec->steering),
                     "overlay", show_overlay(spec->overlay));
}

/* Appends to 'text' each address of 'addresses' (a JSON array of strings),
 * each after a space, or " none", and ends the line. */
static void
show_put_addresses(struct ds *text, const json_t *addresses)
{
    const json_t *a;
    size_t i;

    json_array_foreach (addresses, i, a) {
        ds_put_format(text, " %s", json_string_value(a));
    }
    if (!json_array_size(addresses)) {
        ds_put_cstr(text, " none");
    }
    ds_put_char(text, '\n');
}

static json_int_t
show_int(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* Appends to 'text' 'status', a {"state", "reason"} object. */
static void
show_put_status(struct ds *text, const json_t *status)
{
    const char *reason = json_string_value(json_object_get(status,
                                                           "reason"));

    ds_put_cstr(text, json_string_value(json_object_get(status, "state")));
    if (reason) {
        ds_put_format(text, " (%s)", reason);
    }
}

/* Returns the text form of 'show', what show_switch() returned, as
 * malloc()'d text. */
char *
show_switch_text(const json_t *show)
{
    const char *name = json_string_value(json_object_get(show, "switch"));
    const char *ip = json_string_value(json_object_get(show, "tunnel_ip"));
    struct ds text = DS_EMPTY_INITIALIZER;
    size_t i;
    json_t *port;

    ds_put_format(&text, "switch %s, tunnel %s, bridge %s\n",
                  name ? name : "(unknown)", ip ? ip : "(none)",
                  json_string_value(json_object_get(show, "bridge")));
    json_array_foreach (json_object_get(show, "ports"), i, port) {
        const json_t *ofport = json_object_get(port, "ofport");
        const char *mac = json_string_value(json_object_get(port, "mac"));

        ds_put_format(&text, " %s: ofport ",
                      json_string_value(json_object_get(port, "name")));
        if (json_is_integer(ofport)) {
            ds_put_format(&text, "%lld",
                          (long long int) json_integer_value(ofport));
        } else {
            ds_put_cstr(&text, "none");
        }
        ds_put_format(&text, ", interface %s, mac %s",
                      json_string_value(json_object_get(port, "interface")),
                      mac && mac[0] ? mac : "(none)");
        const char *profile = json_string_value(json_object_get(port,
                                                                "profile"));
        if (profile) {
            ds_put_format(&text, ", profile %s", profile);
        }
        const char *port_qos = json_string_value(json_object_get(port,
                                                                 "qos"));
        if (port_qos) {
            ds_put_format(&text, ", QoS %s", port_qos);
        }
        ds_put_char(&text, '\n');

        size_t j;
        json_t *b;
        json_array_foreach (json_object_get(port, "bindings"), j, b) {
            long long int vlan = json_integer_value(json_object_get(b,
                                                                    "vlan"));
            const char *ls = json_string_value(json_object_get(
                                                   b, "logical_switch"));
            const char *acl = json_string_value(json_object_get(b, "acl"));
            if (vlan) {
                ds_put_format(&text, "   VLAN %lld: %s", vlan, ls);
            } else {
                ds_put_format(&text, "   untagged: %s", ls);
            }
            const char *why = json_string_value(json_object_get(
                                                    b, "not_applied"));
            if (acl) {
                ds_put_format(&text, ", ACL %s", acl);
            }
            const char *qos = json_string_value(json_object_get(b, "qos"));
            if (qos) {
                ds_put_format(&text, ", QoS %s", qos);
            }
            if (why) {
                ds_put_format(&text, " (not applied: %s)", why);
            }
            ds_put_char(&text, '\n');
        }
    }

    json_t *lb;
    json_array_foreach (json_object_get(show, "load_balancers"), i, lb) {
        const char *ls = json_string_value(json_object_get(
                                               lb, "logical_switch"));
        const char *fault = json_string_value(json_object_get(lb, "fault"));
        ds_put_format(&text, " load balancer %s: %s:%lld/%s in %s, %s",
                      json_string_value(json_object_get(lb, "name")),
                      json_string_value(json_object_get(lb, "vip")),
                      (long long int) show_int(lb, "port"),
                      json_string_value(json_object_get(lb, "protocol")),
                      ls ? ls : "(no logical switch)",
                      json_string_value(json_object_get(lb, "selection")));
        if (fault) {
            ds_put_format(&text, " (not applied: %s)", fault);
        }
        ds_put_char(&text, '\n');
        size_t j;
        json_t *b;
        json_array_foreach (json_object_get(lb, "backends"), j, b) {
            const char *on = json_string_value(json_object_get(b, "port"));
            const char *why = json_string_value(json_object_get(b,
                                                                "reason"));
            ds_put_format(&text, "   backend %s:%lld on %s, weight %lld: "
                          "%s%s%s, %lld connections\n",
                          json_string_value(json_object_get(b, "ip")),
                          (long long int) show_int(b, "tp"),
                          on ? on : "(no port)",
                          (long long int) show_int(b, "weight"),
                          json_string_value(json_object_get(b, "state")),
                          why ? ": " : "", why ? why : "",
                          (long long int) show_int(b, "connections"));
        }
    }

    json_t *c;
    json_array_foreach (json_object_get(show, "captures"), i, c) {
        const char *source = json_string_value(json_object_get(c, "source"));
        const char *dest = json_string_value(json_object_get(c,
                                                             "destination"));
        const char *match = json_string_value(json_object_get(c, "match"));
        json_int_t snaplen = show_int(c, "snaplen");

        ds_put_format(&text, " capture %s: ",
                      json_string_value(json_object_get(c, "name")));
        if (source) {
            ds_put_format(&text, "%s %s", source, json_string_value(
                              json_object_get(c, "direction")));
        } else {
            ds_put_format(&text, "logical switch %s", json_string_value(
                              json_object_get(c, "logical_switch")));
        }
        ds_put_format(&text, ", %s, ", match[0] ? match : "every frame");
        if (snaplen) {
            ds_put_format(&text, "%lld bytes a frame", (long long) snaplen);
        } else {
            ds_put_cstr(&text, "whole frames");
        }
        ds_put_format(&text, ", to %s: ", dest ? dest : "(no port)");
        show_put_status(&text, json_object_get(c, "status"));
        const json_t *stats = json_object_get(c, "statistics");
        if (stats) {
            ds_put_format(&text, ", %lld copies",
                          (long long) show_int(stats, "packets"));
        }
        ds_put_char(&text, '\n');
    }
    json_array_foreach (json_object_get(show, "steering"), i, c) {
        ds_put_format(&text, " steering %s: %s %s to CPU %lld, priority "
                      "%lld: ",
                      json_string_value(json_object_get(c, "name")),
                      json_string_value(json_object_get(c, "port")),
                      json_string_value(json_object_get(c, "match")),
                      (long long) show_int(c, "cpu"),
                      (long long) show_int(c, "priority"));
        show_put_status(&text, json_object_get(c, "status"));
        const json_t *stats = json_object_get(c, "statistics");
        const char *key;
        json_t *value;
        json_object_foreach (CONST_CAST(json_t *, stats), key, value) {
            int cpu, end = 0;
            if (sscanf(key, "cpu%d_packets%n", &cpu, &end) == 1
                && !key[end]) {
                char drops_key[32];
                snprintf(drops_key, sizeof drops_key, "cpu%d_queue_drops",
                         cpu);
                json_int_t drops = show_int(stats, drops_key);
                ds_put_format(&text, ", CPU %d forwarded %lld", cpu,
                              (long long) json_integer_value(value));
                if (drops) {
                    ds_put_format(&text, " (its queue dropped %lld)",
                                  (long long) drops);
                }
            }
        }
        ds_put_char(&text, '\n');
    }

    const json_t *overlay = json_object_get(show, "overlay");
    json_t *t;
    json_array_foreach (json_object_get(overlay, "tunnels"), i, t) {
        const json_t *ofport = json_object_get(t, "ofport");
        ds_put_format(&text, " tunnel %s to %s: ofport ",
                      json_string_value(json_object_get(t, "port")),
                      json_string_value(json_object_get(t, "remote")));
        if (json_is_integer(ofport)) {
            ds_put_format(&text, "%lld",
                          (long long int) json_integer_value(ofport));
        } else {
            ds_put_cstr(&text, "none");
        }
        ds_put_format(&text, ", BFD %s\n",
                      json_string_value(json_object_get(t, "bfd")));
    }
    json_t *sw;
    json_array_foreach (json_object_get(overlay, "switches"), i, sw) {
        ds_put_format(&text, " logical switch %s: VNI %lld, %s, flooding to",
                      json_string_value(json_object_get(sw, "name")),
                      (long long int) json_integer_value(
                          json_object_get(sw, "vni")),
                      json_string_value(json_object_get(sw, "replication")));
        show_put_addresses(&text, json_object_get(sw, "flood"));
        size_t j;
        json_t *x;
        json_array_foreach (json_object_get(sw, "remote_macs"), j, x) {
            ds_put_format(&text, "   remote MAC %s at %s\n",
                          json_string_value(json_object_get(x, "mac")),
                          json_string_value(json_object_get(x, "remote")));
        }
        json_array_foreach (json_object_get(sw, "multicast"), j, x) {
            ds_put_format(&text, "   multicast MAC %s to",
                          json_string_value(json_object_get(x, "mac")));
            show_put_addresses(&text, json_object_get(x, "flood"));
        }
    }
    return ds_steal_cstr(&text);
}

/* Appends to 'text' the entries of 'acl' (as xlate_acl_describe() gives
 * it) of 'direction', in the order they apply, with their counters. */
static void
show_policy_direction(struct ds *text, const json_t *acl,
                      const char *direction)
{
    size_t i;
    json_t *e;

    ds_put_format(text, "    %s:\n", direction);
    json_array_foreach (json_object_get(acl, "entries"), i, e) {
        if (strcmp(json_string_value(json_object_get(e, "direction")),
                   direction)) {
            continue;
        }
        ds_put_format(text, "      %s: packets %"JSON_INTEGER_FORMAT
                      ", bytes %"JSON_INTEGER_FORMAT,
                      json_string_value(json_object_get(e, "entry")),
                      json_integer_value(json_object_get(e, "n_packets")),
                      json_integer_value(json_object_get(e, "n_bytes")));
        json_int_t nic = json_integer_value(json_object_get(e,
                                                            "nic_packets"));
        if (nic) {
            ds_put_format(text, " (in the NIC: packets %"JSON_INTEGER_FORMAT
                          ", bytes %"JSON_INTEGER_FORMAT")", nic,
                          json_integer_value(json_object_get(e,
                                                             "nic_bytes")));
        }
        ds_put_char(text, '\n');
    }
    ds_put_cstr(text, "      otherwise permit\n");
}

/* Appends to 'text' the QoS of a binding, 'qos' as "policy/dump" gives it
 * (or null), with its counters. */
static void
show_policy_qos(struct ds *text, const json_t *qos)
{
    if (!json_is_object(qos)) {
        return;
    }
    ds_put_format(text, "    QoS %s\n",
                  json_string_value(json_object_get(qos, "name")));

    static const char *const sides[] = { "sent", "received" };
    for (size_t i = 0; i < 2; i++) {
        char *key = iovp_xasprintf("%s_packets", sides[i]);
        bool counted = json_object_get(qos, key) != NULL;
        free(key);
        if (!counted) {
            continue;
        }

        ds_put_format(text, "      %s:", sides[i]);
        const char *rate = i ? "receive_rate" : "police_rate";
        const char *burst = i ? "receive_burst" : "police_burst";
        const char *sep = " ";
        if (json_object_get(qos, rate)) {
            ds_put_format(text, " %s %lld kbit/s, burst %lld kbit",
                          i ? "limit" : "police",
                          (long long int) show_int(qos, rate),
                          (long long int) show_int(qos, burst));
            sep = ", ";
        }
        if (!i && json_object_get(qos, "dscp")) {
            ds_put_format(text, "%sDSCP %lld", sep,
                          (long long int) show_int(qos, "dscp"));
            sep = ", ";
        }
        if (!i && json_object_get(qos, "pcp")) {
            ds_put_format(text, "%s802.1p %lld", sep,
                          (long long int) show_int(qos, "pcp"));
        }
        char *p = iovp_xasprintf("%s_packets", sides[i]);
        char *b = iovp_xasprintf("%s_bytes", sides[i]);
        ds_put_format(text, ": packets %lld, bytes %lld",
                      (long long int) show_int(qos, p),
                      (long long int) show_int(qos, b));
        free(p);
        free(b);
        p = iovp_xasprintf("%s_dropped_packets", sides[i]);
        b = iovp_xasprintf("%s_dropped_bytes", sides[i]);
        if (json_object_get(qos, p)) {
            ds_put_format(text, "; dropped packets %lld, bytes %lld",
                          (long long int) show_int(qos, p),
                          (long long int) show_int(qos, b));
        }
        free(p);
        free(b);
        ds_put_char(text, '\n');
    }
}

/* Appends to 'text' the ACL of a binding, 'acl' as "policy/dump" gives it
 * (xlate_acl_describe()'s, or null), from the end of the binding's first
 * line. */
static void
show_policy_acl(struct ds *text, const json_t *acl)
{
    if (!json_is_object(acl)) {
        ds_put_cstr(text, "no ACL: everything permitted\n");
        return;
    }
    const char *in_force = json_string_value(
        json_object_get(acl, "in_force"));
    ds_put_format(text, "ACL %s",
                  json_string_value(json_object_get(acl, "acl")));
    size_t k;
    json_t *fault;
    json_array_foreach (json_object_get(acl, "faults"), k, fault) {
        ds_put_format(text, "%s%s", k ? ", " : " (",
                      json_string_value(fault));
    }
    if (json_array_size(json_object_get(acl, "faults"))) {
        ds_put_cstr(text, ")");
    }
    ds_put_char(text, '\n');

    const char *uuid;
    json_t *reason;
    json_object_foreach (json_object_get(acl, "invalid_entries"),
                         uuid, reason) {
        ds_put_format(text, "    invalid entry %s: %s\n", uuid,
                      json_string_value(reason));
    }
    if (!strcmp(in_force, "deny all")) {
        ds_put_cstr(text, "    in force: no valid version, "
                    "everything denied both ways\n");
        return;
    } else if (!strcmp(in_force, "recovered")) {
        ds_put_cstr(text, "    in force: the last valid version, "
                    "as the switch holds it (see dump-flows)\n");
        return;
    } else if (json_array_size(json_object_get(acl, "faults"))) {
        ds_put_cstr(text, "    in force: the last valid "
                    "version:\n");
    }
    show_policy_direction(text, acl, "ingress");
    show_policy_direction(text, acl, "egress");
}

/* Returns a malloc()'d text of 'policy', a JSON object as the agent's
 * "policy/dump" makes it: {"ports": [{"name", "bindings": [{"vlan",
 * "logical_switch", "acl": xlate_acl_describe() or null, "qos": the
 * binding's QoS and its counters, or null}]}]}. */
char *
show_policy_text(const json_t *policy)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    size_t i;
    json_t *port;

    json_array_foreach (json_object_get(policy, "ports"), i, port) {
        size_t j;
        json_t *b;
        json_array_foreach (json_object_get(port, "bindings"), j, b) {
            json_int_t vlan = json_integer_value(json_object_get(b, "vlan"));
            const json_t *acl = json_object_get(b, "acl");

            ds_put_format(&text, "port %s, ",
                          json_string_value(json_object_get(port, "name")));
            if (vlan) {
                ds_put_format(&text, "VLAN %"JSON_INTEGER_FORMAT, vlan);
            } else {
                ds_put_cstr(&text, "untagged");
            }
            ds_put_format(&text, " (%s): ", json_string_value(
                              json_object_get(b, "logical_switch")));
            show_policy_acl(&text, acl);
            show_policy_qos(&text, json_object_get(b, "qos"));
        }
    }
    return ds_steal_cstr(&text);
}

/* Returns a malloc()'d text of 'flows', as the agent's "flows/dump" makes
 * them in JSON: one a line, as "ovs-ofctl dump-flows" prints them.  A flow
 * that the switch holds and iovpd did not ask for is marked "(not asked
 * for by iovpd)"; one that iovpd wants and the switch lacks, "(missing from
 * the switch)", with the switch's error if it refused it, and without
 * counters. */
char *
show_flows_text(const json_t *flows)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    size_t i;
    json_t *f;

    json_array_foreach (flows, i, f) {
        const char *status = json_string_value(json_object_get(f,
                                                               "status"));
        const char *match = json_string_value(json_object_get(f, "match"));
        const char *refused = json_string_value(json_object_get(f,
                                                                "refused"));
        bool missing = !strcmp(status, "missing");

        if (missing) {
            ds_put_format(&text, "(missing from the switch%s%s) ",
                          refused ? ": it refused it, " : "",
                          refused ? refused : "");
        } else if (!strcmp(status, "unrequested")) {
            ds_put_cstr(&text, "(not asked for by iovpd) ");
        }
        ds_put_format(&text, "cookie=%s, ",
                      json_string_value(json_object_get(f, "cookie")));
        if (!missing) {
            ds_put_format(&text, "duration=%"JSON_INTEGER_FORMAT"s, ",
                          json_integer_value(json_object_get(f,
                                                             "duration")));
        }
        ds_put_format(&text, "table=%"JSON_INTEGER_FORMAT", ",
                      json_integer_value(json_object_get(f, "table")));
        if (!missing) {
            json_int_t nic = json_integer_value(json_object_get(
                                                    f, "nic_packets"));
            ds_put_format(&text, "n_packets=%"JSON_INTEGER_FORMAT", ",
                          json_integer_value(json_object_get(f,
                                                             "n_packets")));
            if (nic) {
                ds_put_format(&text, "nic_packets=%"JSON_INTEGER_FORMAT", ",
                              nic);
            }
            ds_put_format(&text, "n_bytes=%"JSON_INTEGER_FORMAT", ",
                          json_integer_value(json_object_get(f, "n_bytes")));
            if (nic) {
                ds_put_format(&text, "nic_bytes=%"JSON_INTEGER_FORMAT", ",
                              json_integer_value(json_object_get(
                                                     f, "nic_bytes")));
            }
        }
        ds_put_format(&text, "priority=%"JSON_INTEGER_FORMAT"%s%s "
                      "actions=%s\n",
                      json_integer_value(json_object_get(f, "priority")),
                      strcmp(match, "*") ? "," : "",
                      strcmp(match, "*") ? match : "",
                      json_string_value(json_object_get(f, "actions")));
    }
    return ds_steal_cstr(&text);
}

/* Returns a malloc()'d text form of 'show', what "offload/show" answers
 * (agent.c): the totals, then each port's fast path, entry by entry. */
char *
show_offload_text(const json_t *show)
{
    const json_t *sum = json_object_get(show, "summary");
    struct ds text = DS_EMPTY_INITIALIZER;
    const char *name;
    json_t *port;

    ds_put_format(&text, "backend %s: %"JSON_INTEGER_FORMAT" ports, %"
                  JSON_INTEGER_FORMAT" entries, %"JSON_INTEGER_FORMAT
                  " masks; %"JSON_INTEGER_FORMAT" frames decided in the NIC "
                  "(%"JSON_INTEGER_FORMAT" dropped), %"JSON_INTEGER_FORMAT
                  " sent to OVS by covers; %"JSON_INTEGER_FORMAT
                  " delivery fallbacks\n",
                  json_string_value(json_object_get(sum, "backend")),
                  show_int(sum, "ports"), show_int(sum, "entries"),
                  show_int(sum, "masks"), show_int(sum, "decided"),
                  show_int(sum, "dropped"), show_int(sum, "covered"),
                  show_int(sum, "fallbacks"));
    json_object_foreach (json_object_get(show, "ports"), name, port) {
        ds_put_format(&text, "%s: %"JSON_INTEGER_FORMAT" of %"
                      JSON_INTEGER_FORMAT" entries (%"JSON_INTEGER_FORMAT
                      " covers), %"JSON_INTEGER_FORMAT" of %"
                      JSON_INTEGER_FORMAT" masks, for %"JSON_INTEGER_FORMAT
                      " rules, on %s; decided %"JSON_INTEGER_FORMAT
                      ", dropped %"JSON_INTEGER_FORMAT"%s\n", name,
                      show_int(port, "entries"), show_int(port, "capacity"),
                      show_int(port, "covers"), show_int(port, "masks"),
                      show_int(port, "max_masks"), show_int(port, "rules"),
                      json_string_value(json_object_get(port, "device")),
                      show_int(port, "decided"), show_int(port, "dropped"),
                      json_is_true(json_object_get(port, "failed"))
                      ? " (backend failed: left to OVS)" : "");
        size_t i;
        json_t *e;
        json_array_foreach (json_object_get(port, "delivery"), i, e) {
            ds_put_format(&text, "  to port %"JSON_INTEGER_FORMAT": %s, "
                          "%"JSON_INTEGER_FORMAT" fallbacks (%s)\n",
                          show_int(e, "out_port"),
                          json_string_value(json_object_get(e, "fate")),
                          show_int(e, "fallbacks"),
                          json_string_value(json_object_get(e, "reason")));
        }
        json_array_foreach (json_object_get(port, "table"), i, e) {
            ds_put_format(&text, "  %s, n_packets=%"JSON_INTEGER_FORMAT
                          ", n_bytes=%"JSON_INTEGER_FORMAT" (%s)\n",
                          json_string_value(json_object_get(e, "entry")),
                          show_int(e, "n_packets"), show_int(e, "n_bytes"),
                          json_string_value(json_object_get(e, "kind")));
        }
    }
    return ds_steal_cstr(&text);
}
