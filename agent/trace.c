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

#include "agent/trace.h"

#include <arpa/inet.h>
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/flow.h>

#include "agent/pipeline.h"
#include "agent/xlate-acl.h"
#include "lib/util.h"
#include "ofp/oflow.h"

/* Returns the ACL verdict of binding 'b' (of show.h's JSON) on 'packet' in
 * 'direction': xlate_acl_evaluate()'s, or a permit for no ACL. */
static json_t *
trace_binding(const json_t *b, bool ingress, const struct flow *packet,
              const struct xlate_acl *x, const struct desired *d)
{
    const char *acl = json_string_value(json_object_get(b, "acl"));
    json_t *verdict = acl ? xlate_acl_evaluate(x, acl, ingress, packet, d)
                          : NULL;

    return verdict ? verdict : json_pack("{s:n, s:s, s:n, s:s}", "acl",
                                         "decided_by", "no ACL", "entry",
                                         "action", "permit");
}

/* Returns the binding of 'port' (of show.h's JSON) to logical switch 'ls'
 * that the pipeline applies, or NULL. */
static const json_t *
trace_ls_binding(const json_t *port, const char *ls)
{
    const json_t *b;
    size_t i;

    json_array_foreach (json_object_get(port, "bindings"), i, b) {
        if (!strcmp(json_string_value(json_object_get(b, "logical_switch")),
                    ls)
            && !json_is_string(json_object_get(b, "not_applied"))) {
            return b;
        }
    }
    return NULL;
}

/* If 'verdict', the egress ACL's on the way to 'port' through 'binding',
 * permits the packet, adds to 'outputs' where it leaves: {"port", "ofport",
 * "vlan"}, the VLAN it is tagged with (0: untagged), and returns true;
 * otherwise returns false. */
static bool
trace_output(json_t *outputs, const json_t *port, const json_t *binding,
             const json_t *verdict)
{
    if (strcmp(json_string_value(json_object_get(verdict, "action")),
               "permit")) {
        return false;
    }
    json_array_append_new(outputs, json_pack(
        "{s:O, s:O, s:O}", "port", json_object_get(port, "name"),
        "ofport", json_object_get(port, "ofport"),
        "vlan", json_object_get(binding, "vlan")));
    return true;
}

/* Returns the logical switch of 'show''s overlay called 'ls', or if 'ls'
 * is NULL the one whose VNI is 'vni'; NULL if there is none. */
static const json_t *
trace_overlay_switch(const json_t *show, const char *ls, uint64_t vni)
{
    const json_t *sw;
    size_t i;

    json_array_foreach (json_object_get(json_object_get(show, "overlay"),
                                        "switches"), i, sw) {
        if (ls
            ? !strcmp(json_string_value(json_object_get(sw, "name")), ls)
            : json_integer_value(json_object_get(sw, "vni")) == vni) {
            return sw;
        }
    }
    return NULL;
}

/* Returns the tunnel of 'show''s overlay whose port or remote VTEP is
 * 'name', or NULL. */
static const json_t *
trace_find_tunnel(const json_t *show, const char *name)
{
    const json_t *t;
    size_t i;

    json_array_foreach (json_object_get(json_object_get(show, "overlay"),
                                        "tunnels"), i, t) {
        if (!strcmp(json_string_value(json_object_get(t, "port")), name)
            || !strcmp(json_string_value(json_object_get(t, "remote")),
                       name)) {
            return t;
        }
    }
    return NULL;
}

/* The verdict on a frame that leaves through a tunnel: the remote VTEP
 * applies its own ACLs. */
static json_t *
trace_remote_verdict(void)
{
    return json_pack("{s:n, s:s, s:n, s:s}", "acl", "decided_by",
                     "the remote VTEP's own (none here)", "entry",
                     "action", "permit");
}

/* Adds to 'outputs' the tunnel 't' (of show.h's JSON), with VNI 'vni'. */
static void
trace_tunnel_output(json_t *outputs, const json_t *t, json_int_t vni)
{
    json_array_append_new(outputs, json_pack(
        "{s:O, s:O, s:i, s:I, s:O}", "port", json_object_get(t, "port"),
        "ofport", json_object_get(t, "ofport"), "vlan", 0,
        "vni", vni, "remote", json_object_get(t, "remote")));
}

/* Returns the tunnels to which logical switch 'sw' (of show.h's JSON, on
 * the overlay) floods what a local port sent to 'mac', as the pipeline
 * chooses them (pipeline.c's pl_put_replication()) among the VTEPs of the
 * MAC's own Mcast_Macs_Remote row if it is a multicast MAC with one, else
 * of "unknown-dst": every one with replication mode "source_node", else
 * one service node, the first (by address) whose BFD says forwarding, or
 * the first.  Only tunnels with an OpenFlow port count. */
static json_t *
trace_flood_tunnels(const json_t *show, const json_t *sw, const char *mac)
{
    const json_t *set = json_object_get(sw, "flood");
    const json_t *mc;
    size_t j;
    json_array_foreach (json_object_get(sw, "multicast"), j, mc) {
        if (!strcmp(json_string_value(json_object_get(mc, "mac")), mac)) {
            set = json_object_get(mc, "flood");
        }
    }

    bool source_node = !strcmp(json_string_value(json_object_get(
                                                     sw, "replication")),
                               "source_node");
    const json_t *service_node = NULL;
    json_t *tunnels = json_array();
    const json_t *ip;
    size_t i;

    json_array_foreach (set, i, ip) {
        const json_t *t = trace_find_tunnel(show, json_string_value(ip));
        if (!t || !json_is_integer(json_object_get(t, "ofport"))) {
            continue;
        } else if (source_node) {
            json_array_append(tunnels, (json_t *) t);
        } else if (!service_node
                   || (json_is_true(json_object_get(t, "forwarding"))
                       && !json_is_true(json_object_get(service_node,
                                                        "forwarding")))) {
            service_node = t;
        }
    }
    if (service_node) {
        json_array_append(tunnels, (json_t *) service_node);
    }
    return tunnels;
}

/* Returns the tunnel (of show.h's JSON) behind remote MAC 'mac' of logical
 * switch 'sw' (on the overlay, or NULL), if it has an OpenFlow port, or
 * NULL. */
static const json_t *
trace_remote_mac(const json_t *show, const json_t *sw, const char *mac)
{
    const json_t *m;
    size_t i;

    json_array_foreach (json_object_get(sw, "remote_macs"), i, m) {
        if (!strcmp(json_string_value(json_object_get(m, "mac")), mac)) {
            const json_t *t = trace_find_tunnel(
                show, json_string_value(json_object_get(m, "remote")));
            return (t && json_is_integer(json_object_get(t, "ofport"))
                    ? t : NULL);
        }
    }
    return NULL;
}

/* Returns 'flow' with its generic transport port fields named for its
 * protocol ("tp_dst" becomes "tcp_dst" for TCP), as ofproto/trace wants
 * them.  The caller frees it. */
static char *
trace_ovs_fields(const char *flow, int nw_proto)
{
    const char *proto = (nw_proto == 6 ? "tcp" : nw_proto == 17 ? "udp"
                         : nw_proto == 132 ? "sctp" : NULL);
    struct ds s = DS_EMPTY_INITIALIZER;

    for (const char *p = flow; *p; ) {
        if (proto && (!strncmp(p, "tp_src=", 7) || !strncmp(p, "tp_dst=", 7))
            && (p == flow || p[-1] == ',')) {
            ds_put_format(&s, "%s_", proto);
            p += 3;             /* Past "tp_". */
            continue;
        }
        ds_put_char(&s, *p++);
    }
    return ds_steal_cstr(&s);
}

/* If 'p' (a port or tunnel of show.h's JSON) has an OpenFlow port, adds to
 * 'ofports' its name (its member 'name_key') under that number, as text,
 * and returns true; otherwise returns false. */
static bool
trace_name_ofport(json_t *ofports, const json_t *p, const char *name_key)
{
    const json_t *ofport = json_object_get(p, "ofport");
    char key[32];

    if (!json_is_integer(ofport)) {
        return false;
    }
    snprintf(key, sizeof key, "%"JSON_INTEGER_FORMAT,
             json_integer_value(ofport));
    json_object_set(ofports, key, json_object_get(p, name_key));
    return true;
}

/* Stores in '*tracep' a new reference to what happens to the packet 'flow'
 * (ovs-ofctl flow syntax) that the VM on 'port' sends, or that the tunnel
 * 'port' (its OVS port, or its remote VTEP's address) brings, by the
 * policy that 'show' (the switch, show_switch()'s JSON) and the ACLs'
 * translation 'x' and 'd' give:
 *
 *   {"port", "vlan", "logical_switch" (null for a tunnel's frame of an
 *    unknown VNI),
 *    "tunnel": {"remote", "vni"}, only for a frame from a tunnel,
 *    "ingress": {"acl", "decided_by", "entry", "action"},
 *    "destination": PORT or null, "egress": {...} or null,
 *    "remote": {"mac", "remote", "port"}, when the destination is a
 *              remote MAC,
 *    "flood": [{"port", "egress": {...}}] or null,
 *    "outputs": [{"port", "ofport", "vlan"}], where it leaves, with the
 *               VLAN it is tagged with there (0: untagged), and "vni" and
 *               "remote" for a tunnel,
 *    "fate": "permit" | "deny", "bridge",
 *    "fragment": "first", only for the first fragment of a datagram,
 *    "ovs_flow": the same packet for ofproto/trace,
 *    "ofports": {"OFPORT": NAME} for every VM port and tunnel on the
 *               bridge,
 *    "tunnels": {"ADDRESS": OFPORT} for every tunnel on the bridge,
 *    "text": all of it as trace_acl_text() writes it}
 *
 * From a VM: the packet's VLAN (dl_vlan) picks the port's binding,
 * untagged if none; its source MAC is the port's unless it gives one; the
 * ingress ACL applies.  From a tunnel: the packet's tun_id (which it must
 * give) picks the logical switch with that VNI, or none (then it is
 * dropped); no ingress ACL applies (the remote VTEP applies its own).
 * Then its destination, when its dl_dst is the MAC of another port of the
 * logical switch, has its egress ACL applied; a remote MAC of the logical
 * switch sends it to its tunnel, with the switch's VNI and no egress ACL,
 * or drops it if it came from a tunnel (split horizon); any other
 * destination is flooded, through each local port's egress ACL, and, for
 * a frame from a VM, to the tunnels the pipeline floods to.  Bindings
 * that the pipeline does not apply (show.c's "not_applied") count for
 * nothing.  A first fragment is decided as OVS decides it: by the flows
 * of pipeline.c's pl_fragment_flows(), then by the ACLs on its header.
 *
 * Returns NULL if successful, otherwise a malloc()'d error message for the
 * caller to free, with '*tracep' set to NULL: if the port or the flow does
 * not make sense, to iovpd or to OVS's ofproto/trace, or is a later
 * fragment, whose fate is its datagram's. */
char *
trace_acl(const json_t *show, const char *port, const char *flow,
          const struct xlate_acl *x, const struct desired *d,
          json_t **tracep)
{
    const json_t *ports = json_object_get(show, "ports");
    const json_t *src = NULL, *tunnel = NULL, *p;
    char *error;
    size_t i;

    *tracep = NULL;
    json_array_foreach (ports, i, p) {
        if (!strcmp(json_string_value(json_object_get(p, "name")), port)) {
            src = p;
        }
    }
    if (!src) {
        tunnel = trace_find_tunnel(show, port);
        src = tunnel;
    }
    if (!src) {
        return iovp_xasprintf("no port or tunnel %s on this switch", port);
    }
    if (!json_is_integer(json_object_get(src, "ofport"))) {
        return iovp_xasprintf("%s %s is not on the bridge",
                              tunnel ? "tunnel" : "port", port);
    }
    const char *src_name = json_string_value(json_object_get(src, tunnel
                                                             ? "port"
                                                             : "name"));

    struct flow packet;
    char *perror = oflow_parse_packet(flow, &packet);
    if (perror) {
        error = iovp_xasprintf("%s: %s", flow, perror);
        free(perror);
        return error;
    }

    /* A fragment's fate is its datagram's (pipeline.c's
     * pl_fragment_flows()): OVS reassembles each datagram before the ACLs,
     * which decide it on its first fragment, the one with the header they
     * read.  A later fragment alone has no such header, and OVS holds it
     * until its datagram is whole, which neither this model nor
     * ofproto/trace follows: nothing true can be said of it alone. */
    if (packet.nw_frag & FLOW_NW_FRAG_LATER) {
        return iovp_xasprintf("%s: a later fragment has the fate of its "
                              "datagram, which its first fragment decides: "
                              "trace that one (nw_frag=first)", flow);
    }
    bool first_fragment = packet.nw_frag & FLOW_NW_FRAG_ANY;

    /* The logical switch: a VM's binding for the frame's VLAN, or the
     * switch with a tunnel's VNI. */
    int vlan = (packet.vlans[0].tci & htons(0x1000)    /* Tagged? */
                ? ntohs(packet.vlans[0].tci) & 0xfff : 0);
    const json_t *binding = NULL, *b;
    const char *ls = NULL;
    uint64_t vni = be64toh(packet.tunnel.tun_id);
    if (tunnel) {
        if (!vni) {
            return iovp_xasprintf("%s: a frame from a tunnel needs its VNI "
                                  "(tun_id)", flow);
        } else if (vlan) {
            return iovp_xasprintf("%s: a frame from a tunnel is untagged",
                                  flow);
        }
        const json_t *sw = trace_overlay_switch(show, NULL, vni);
        ls = sw ? json_string_value(json_object_get(sw, "name")) : NULL;
    } else {
        json_array_foreach (json_object_get(src, "bindings"), i, b) {
            if (json_integer_value(json_object_get(b, "vlan")) == vlan
                && !json_is_string(json_object_get(b, "not_applied"))) {
                binding = b;
            }
        }
        if (!binding) {
            return iovp_xasprintf("port %s has no binding for %s %d", port,
                                  vlan ? "VLAN" : "untagged frames", vlan);
        }
        ls = json_string_value(json_object_get(binding, "logical_switch"));
    }
    const json_t *overlay_sw = ls ? trace_overlay_switch(show, ls, 0) : NULL;

    /* A VM's source MAC, unless given. */
    const char *mac = (tunnel ? NULL
                       : json_string_value(json_object_get(src, "mac")));
    bool has_src = strstr(flow, "dl_src=") || strstr(flow, "eth_src=");
    unsigned int m[6];
    if (!has_src && mac && sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1],
                                  &m[2], &m[3], &m[4], &m[5]) == 6) {
        for (i = 0; i < 6; i++) {
            packet.dl_src.ea[i] = m[i];
        }
    }

    json_t *ingress;
    if (pipeline_fragment_is_dropped(&packet)) {
        ingress = json_pack("{s:n, s:s, s:n, s:s}", "acl", "decided_by",
                            "a first fragment without its L4 header, "
                            "dropped before the ACL", "entry", "action",
                            "deny");
    } else if (tunnel && !ls) {
        ingress = json_pack("{s:n, s:s, s:n, s:s}", "acl", "decided_by",
                            "no logical switch has this VNI here (the "
                            "tunnel's flow in table 0 counts the drop)",
                            "entry", "action", "deny");
    } else if (tunnel) {
        ingress = json_pack("{s:n, s:s, s:n, s:s}", "acl", "decided_by",
                            "from a tunnel, no ingress ACL (the remote "
                            "VTEP applies its own)", "entry", "action",
                            "permit");
    } else {
        ingress = trace_binding(binding, true, &packet, x, d);
    }
    bool permit = !strcmp(json_string_value(json_object_get(ingress,
                                                            "action")),
                          "permit");

    /* The same packet as ofproto/trace reads it, which must make sense to
     * OVS's parser too: it is stricter than a flow match's. */
    char *fields = trace_ovs_fields(flow, packet.nw_proto);
    struct ds ovs_flow = DS_EMPTY_INITIALIZER;
    ds_put_format(&ovs_flow, "in_port=%"JSON_INTEGER_FORMAT,
                  json_integer_value(json_object_get(src, "ofport")));
    if (tunnel) {
        const char *local = json_string_value(json_object_get(show,
                                                              "tunnel_ip"));
        if (!strstr(flow, "tun_src=")) {
            ds_put_format(&ovs_flow, ",tun_src=%s", json_string_value(
                              json_object_get(tunnel, "remote")));
        }
        if (local && !strstr(flow, "tun_dst=")) {
            ds_put_format(&ovs_flow, ",tun_dst=%s", local);
        }
    }
    if (!has_src && mac && mac[0]) {
        ds_put_format(&ovs_flow, ",dl_src=%s", mac);
    }
    ds_put_format(&ovs_flow, ",%s", fields);
    free(fields);
    perror = oflow_check_exact_packet(ds_cstr(&ovs_flow));
    if (perror) {
        error = iovp_xasprintf("%s: %s (OVS cannot trace it as it is)",
                               flow, perror);
        free(perror);
        ds_destroy(&ovs_flow);
        json_decref(ingress);
        return error;
    }

    /* The destination: a port of the logical switch with that MAC, or a
     * remote MAC. */
    const uint8_t *e = packet.dl_dst.ea;
    char dst_mac[18];
    snprintf(dst_mac, sizeof dst_mac, "%02x:%02x:%02x:%02x:%02x:%02x",
             e[0], e[1], e[2], e[3], e[4], e[5]);
    const json_t *dst = NULL, *dst_binding = NULL;
    json_array_foreach (ls ? ports : NULL, i, p) {
        const char *pmac = json_string_value(json_object_get(p, "mac"));
        if (p != src && !dst && pmac && !strcmp(pmac, dst_mac)) {
            dst_binding = trace_ls_binding(p, ls);
            dst = dst_binding ? p : NULL;
        }
    }
    const json_t *dst_tunnel = (dst || !overlay_sw ? NULL
                                : trace_remote_mac(show, overlay_sw,
                                                   dst_mac));
    json_int_t ls_vni = (overlay_sw
                         ? json_integer_value(json_object_get(overlay_sw,
                                                              "vni"))
                         : 0);

    /* Where it leaves: to the destination, or flooded to every other
     * port of the logical switch, each through its egress ACL, and to its
     * tunnels. */
    json_t *outputs = json_array();
    json_t *egress = NULL, *flood = NULL;
    if (dst) {
        if (permit) {
            egress = trace_binding(dst_binding, false, &packet, x, d);
            permit = trace_output(outputs, dst, dst_binding, egress);
        }
    } else if (dst_tunnel) {
        if (permit && tunnel) {
            egress = json_pack("{s:n, s:s, s:n, s:s}", "acl", "decided_by",
                               "a remote MAC, and what came from a tunnel "
                               "never goes back into one (split horizon)",
                               "entry", "action", "deny");
            permit = false;
        } else if (permit) {
            egress = trace_remote_verdict();
            trace_tunnel_output(outputs, dst_tunnel, ls_vni);
        }
    } else if (permit) {
        flood = json_array();
        json_array_foreach (ports, i, p) {
            const json_t *fb = trace_ls_binding(p, ls);
            if (p == src || !fb
                || !json_is_integer(json_object_get(p, "ofport"))) {
                continue;
            }
            json_t *v = trace_binding(fb, false, &packet, x, d);
            trace_output(outputs, p, fb, v);
            json_array_append_new(flood, json_pack(
                "{s:O, s:o}", "port", json_object_get(p, "name"),
                "egress", v));
        }
        json_t *tunnels = (overlay_sw && !tunnel
                           ? trace_flood_tunnels(show, overlay_sw, dst_mac)
                           : NULL);
        const json_t *t;
        json_array_foreach (tunnels, i, t) {
            trace_tunnel_output(outputs, t, ls_vni);
            json_array_append_new(flood, json_pack(
                "{s:O, s:o}", "port", json_object_get(t, "port"),
                "egress", trace_remote_verdict()));
        }
        json_decref(tunnels);
    }

    /* Every VM port's and tunnel's name by OpenFlow port number, to name
     * OVS's, and each tunnel's OpenFlow port by its remote address. */
    json_t *ofports = json_object();
    json_t *tunnels = json_object();
    json_array_foreach (ports, i, p) {
        trace_name_ofport(ofports, p, "name");
    }
    json_array_foreach (json_object_get(json_object_get(show, "overlay"),
                                        "tunnels"), i, p) {
        if (trace_name_ofport(ofports, p, "port")) {
            json_object_set(tunnels, json_string_value(
                                json_object_get(p, "remote")),
                            json_object_get(p, "ofport"));
        }
    }

    json_t *result = json_pack(
        "{s:s, s:i, s:s?, s:o, s:O?, s:o, s:o, s:o, s:s, s:O, s:s, s:o, "
        "s:o}",
        "port", src_name, "vlan", vlan, "logical_switch", ls,
        "ingress", ingress,
        "destination", dst ? json_object_get(dst, "name") : NULL,
        "egress", egress ? egress : json_null(),
        "flood", flood ? flood : json_null(),
        "outputs", outputs,
        "fate", permit ? "permit" : "deny",
        "bridge", json_object_get(show, "bridge"),
        "ovs_flow", ds_cstr(&ovs_flow),
        "ofports", ofports, "tunnels", tunnels);
    ds_destroy(&ovs_flow);
    if (tunnel) {
        json_object_set_new(result, "tunnel", json_pack(
                                "{s:O, s:I}", "remote",
                                json_object_get(tunnel, "remote"),
                                "vni", (json_int_t) vni));
    }
    if (dst_tunnel) {
        json_object_set_new(result, "remote", json_pack(
                                "{s:s, s:O, s:O}", "mac", dst_mac,
                                "remote", json_object_get(dst_tunnel,
                                                          "remote"),
                                "port", json_object_get(dst_tunnel,
                                                        "port")));
    }
    if (first_fragment) {
        json_object_set_new(result, "fragment", json_string("first"));
    }

    char *text = trace_acl_text(result);
    json_object_set_new(result, "text", json_string(text));
    free(text);
    *tracep = result;
    return NULL;
}

/* Appends one direction's verdict 'v' to 's'. */
static void
trace_verdict_text(struct ds *s, const char *direction, const json_t *v)
{
    const char *acl = json_string_value(json_object_get(v, "acl"));
    const char *entry = json_string_value(json_object_get(v, "entry"));

    ds_put_format(s, "  %s: ", direction);
    if (!acl) {
        /* "no ACL", or what decides before the ACL. */
        ds_put_cstr(s, json_string_value(json_object_get(v, "decided_by")));
    } else {
        ds_put_format(s, "ACL %s, ", acl);
        if (entry) {
            ds_put_cstr(s, entry);
        } else {
            ds_put_cstr(s, json_string_value(json_object_get(
                                                 v, "decided_by")));
        }
    }
    ds_put_format(s, ": %s\n",
                  json_string_value(json_object_get(v, "action")));
}

/* Returns a malloc()'d text of 'trace', trace_acl()'s result. */
char *
trace_acl_text(const json_t *trace)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    json_int_t vlan = json_integer_value(json_object_get(trace, "vlan"));
    const char *dst = json_string_value(json_object_get(trace,
                                                        "destination"));

    const json_t *tunnel = json_object_get(trace, "tunnel");
    const json_t *remote = json_object_get(trace, "remote");
    const char *ls = json_string_value(json_object_get(trace,
                                                       "logical_switch"));

    ds_put_format(&s, "from %s%s, ", tunnel ? "tunnel " : "",
                  json_string_value(json_object_get(trace, "port")));
    if (tunnel) {
        ds_put_format(&s, "remote %s, VNI %"JSON_INTEGER_FORMAT,
                      json_string_value(json_object_get(tunnel, "remote")),
                      json_integer_value(json_object_get(tunnel, "vni")));
    } else if (vlan) {
        ds_put_format(&s, "VLAN %"JSON_INTEGER_FORMAT, vlan);
    } else {
        ds_put_cstr(&s, "untagged");
    }
    if (!ls) {
        ds_put_cstr(&s, ", into no logical switch\n");
    } else if (remote) {
        ds_put_format(&s, ", into %s, to remote MAC %s at %s (%s)\n", ls,
                      json_string_value(json_object_get(remote, "mac")),
                      json_string_value(json_object_get(remote, "remote")),
                      json_string_value(json_object_get(remote, "port")));
    } else {
        ds_put_format(&s, ", into %s, to %s\n", ls,
                      dst ? dst : "no port of the logical switch (flooded)");
    }
    if (json_object_get(trace, "fragment")) {
        ds_put_cstr(&s, "  a first fragment: OVS reassembles its datagram "
                    "before the ACLs, whose\n  verdict on this fragment's "
                    "header is the whole datagram's\n");
    }
    trace_verdict_text(&s, "ingress", json_object_get(trace, "ingress"));
    if (json_is_object(json_object_get(trace, "egress"))) {
        trace_verdict_text(&s, "egress", json_object_get(trace, "egress"));
    }
    size_t i;
    const json_t *f;
    json_array_foreach (json_object_get(trace, "flood"), i, f) {
        char *direction = iovp_xasprintf(
            "egress to %s", json_string_value(json_object_get(f, "port")));
        trace_verdict_text(&s, direction, json_object_get(f, "egress"));
        free(direction);
    }
    ds_put_format(&s, "fate: %s\n",
                  json_string_value(json_object_get(trace, "fate")));
    return ds_steal_cstr(&s);
}
