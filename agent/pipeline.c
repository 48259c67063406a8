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

#include <endian.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <openvswitch/flow.h>
#include <openvswitch/match.h>
#include <openvswitch/meta-flow.h>
#include <openvswitch/ofp-actions.h>
#include <openvswitch/ofpbuf.h>
#include <openvswitch/packets.h>
#include <openvswitch/vlog.h>

#include "agent/overlay.h"
#include "agent/pipeline-tables.h"
#include "agent/ports.h"
#include "lib/util.h"
#include "northbound/xlate.h"
#include "ofp/desired.h"
#include "ofp/ofctrl.h"
#include "ofp/oflow.h"

VLOG_DEFINE_THIS_MODULE(pipeline);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* Ethernet types. */
#define PL_ETH_IP 0x0800
#define PL_ETH_ARP 0x0806
#define PL_ETH_VLAN 0x8100
#define PL_ETH_IPV6 0x86dd

/* Adds to 'flows' the flow of 'table' and 'priority' with match 'm' and
 * actions 'ofpacts', with a cookie for 'origin'.  A flow that OpenFlow
 * cannot carry is logged and left out. */
static void
pl_add(struct oflow_table *flows, uint64_t origin, uint8_t table,
       uint16_t priority, const struct match *m,
       const struct ofpbuf *ofpacts)
{
    char *error = oflow_table_add(flows, ofctrl_cookie(origin), table,
                                  priority, m, ofpacts->data, ofpacts->size);
    if (error) {
        VLOG_WARN_RL(&rl, "%s", error);
        free(error);
    }
}

/* Adds to 'flows' the flow that 'format' gives, in ovs-ofctl's syntax, for
 * the fixed flows that no policy changes. */
static void OVS_PRINTF_FORMAT(2, 3)
pl_add_text(struct oflow_table *flows, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    char *text = iovp_xvasprintf(format, args);
    va_end(args);

    char *error = oflow_table_add_text(flows, ofctrl_cookie(0), text);
    if (error) {
        VLOG_WARN_RL(&rl, "%s", error);
        free(error);
    }
    free(text);
}

/* Puts in 'm' a match on nothing but what ovs-ofctl also puts in one. */
static void
pl_match_init(struct match *m)
{
    match_init_catchall(m);
    match_set_default_packet_type(m);
}

static void
pl_put_set_field(struct ofpbuf *ofpacts, enum mf_field_id id,
                 const void *value)
{
    ofpact_put_set_field(ofpacts, mf_from_id(id), value, NULL);
}

static ofp_port_t
pl_ofp_port(int ofport)
{
    return (OVS_FORCE ofp_port_t) ofport;
}

static void
pl_put_goto(struct ofpbuf *ofpacts, uint8_t table)
{
    ofpact_put_GOTO_TABLE(ofpacts)->table_id = table;
}

/* Reads 'port''s MAC into '*mac', and whether it has one into
 * '*has_mac'.  Returns false, with a warning, if the MAC it names is not
 * one: then what it sends cannot be checked, and nothing is admitted. */
static bool
pl_port_mac(const struct port *port, struct eth_addr *mac, bool *has_mac)
{
    *has_mac = port_parse_mac(port, mac);
    if (port->mac[0] && !*has_mac) {
        VLOG_WARN_RL(&rl, "port %s: its MAC \"%s\" (external_ids:"
                     "attached-mac) is not a MAC: nothing it sends is "
                     "admitted", port->name, port->mac);
        return false;
    }
    return true;
}

static void
pl_put_resubmit(struct ofpbuf *ofpacts, uint8_t table)
{
    struct ofpact_resubmit *r = ofpact_put_RESUBMIT(ofpacts);

    r->in_port = OFPP_IN_PORT;
    r->table_id = table;
}

static void
pl_put_output(struct ofpbuf *ofpacts, int ofport)
{
    ofpact_put_OUTPUT(ofpacts)->port = pl_ofp_port(ofport);
}

/* Puts "pop_vlan" in 'ofpacts': the action as the switch reports it (OVS
 * tells it from OpenFlow 1.0's "strip_vlan" by a detail of its encoding
 * that only its parser sets), parsed once. */
static void
pl_put_pop_vlan(struct ofpbuf *ofpacts)
{
    static struct ofpbuf pop_vlan;

    if (!pop_vlan.size) {
        enum ofputil_protocol usable;
        struct ofpact_parse_params pp = {
            .ofpacts = &pop_vlan, .usable_protocols = &usable,
        };
        ofpbuf_init(&pop_vlan, 0);
        char *error = ofpacts_parse_actions("pop_vlan", &pp);
        ovs_assert(!error && pop_vlan.size);
    }
    ofpbuf_put(ofpacts, pop_vlan.data, pop_vlan.size);
}

/* Puts in 'm' the match of binding 'b' of 'port' in table 0: its OpenFlow
 * port, its VLAN (untagged, or tagged 'b->vlan'; any, for a port in
 * OpenFlow mode, whose 'b' is NULL) and its MAC. */
static void
pl_match_binding(struct match *m, const struct port *port,
                 const struct port_binding *b, const struct eth_addr *mac)
{
    pl_match_init(m);
    match_set_in_port(m, pl_ofp_port(port->ofport));
    if (!b) {
        /* OpenFlow mode: the controller's tables judge the tags. */
    } else if (b->vlan) {
        match_set_dl_vlan(m, htons(b->vlan), 0);
    } else {
        match_set_dl_tci_masked(m, htons(0), htons(0x1000));
    }
    if (mac) {
        match_set_dl_src(m, *mac);
    }
}

/* Stores in '*ll' the IPv6 link-local address that the EUI-64 of 'mac'
 * gives, as a host takes it by default. */
static void
pl_link_local(const struct eth_addr *mac, struct in6_addr *ll)
{
    memset(ll, 0, sizeof *ll);
    ll->s6_addr[0] = 0xfe;
    ll->s6_addr[1] = 0x80;
    ll->s6_addr[8] = mac->ea[0] ^ 0x02;
    ll->s6_addr[9] = mac->ea[1];
    ll->s6_addr[10] = mac->ea[2];
    ll->s6_addr[11] = 0xff;
    ll->s6_addr[12] = 0xfe;
    ll->s6_addr[13] = mac->ea[3];
    ll->s6_addr[14] = mac->ea[4];
    ll->s6_addr[15] = mac->ea[5];
}

/* Table 0 for binding 'b' of 'port' (NULL for a port in OpenFlow mode):
 * what the VM may send in it.  'classify' is the actions that admit a
 * frame. */
static void
pl_classify(struct oflow_table *flows, const struct port *port,
            const struct port_binding *b, const struct eth_addr *mac,
            uint64_t origin, const struct ofpbuf *classify)
{
    struct match m;

    pl_match_binding(&m, port, b, mac);
    pl_add(flows, origin, PIPELINE_T_CLASSIFY, 100, &m, classify);
    if (!port->checks_ips) {
        /* No addresses given: the source MAC is all that is checked. */
        return;
    }

    /* Addresses given: IPv4 and ARP only from the port's IPv4 addresses,
     * IPv6 only from its IPv6 addresses and its link-local address, and
     * what a host sends before it has an address: DHCP, and duplicate
     * address detection and router solicitation from "::". */
    for (size_t i = 0; i < port->n_ips; i++) {
        const struct port_address *a = &port->ips[i];

        pl_match_binding(&m, port, b, mac);
        if (a->family == AF_INET) {
            match_set_dl_type(&m, htons(PL_ETH_IP));
            match_set_nw_src(&m, a->ipv4.s_addr);
            pl_add(flows, origin, PIPELINE_T_CLASSIFY, 110, &m, classify);

            pl_match_binding(&m, port, b, mac);
            match_set_dl_type(&m, htons(PL_ETH_ARP));
            match_set_nw_src(&m, a->ipv4.s_addr);
            if (mac) {
                match_set_arp_sha(&m, *mac);
            }
        } else {
            match_set_dl_type(&m, htons(PL_ETH_IPV6));
            match_set_ipv6_src(&m, &a->ipv6);
        }
        pl_add(flows, origin, PIPELINE_T_CLASSIFY, 110, &m, classify);
    }

    if (mac) {
        struct in6_addr ll;
        pl_link_local(mac, &ll);
        pl_match_binding(&m, port, b, mac);
        match_set_dl_type(&m, htons(PL_ETH_IPV6));
        match_set_ipv6_src(&m, &ll);
        pl_add(flows, origin, PIPELINE_T_CLASSIFY, 110, &m, classify);
    }

    pl_match_binding(&m, port, b, mac);
    match_set_dl_type(&m, htons(PL_ETH_IP));
    match_set_nw_proto(&m, IPPROTO_UDP);
    match_set_nw_src(&m, htonl(0));
    match_set_nw_dst(&m, htonl(0xffffffff));
    match_set_tp_src(&m, htons(68));
    match_set_tp_dst(&m, htons(67));
    pl_add(flows, origin, PIPELINE_T_CLASSIFY, 110, &m, classify);

    static const int icmp6_from_unspecified[] = {
        133,                    /* Router solicitation. */
        135,                    /* Neighbour solicitation (DAD). */
        143,                    /* MLDv2 report (DAD). */
    };
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(icmp6_from_unspecified); i++) {
        pl_match_binding(&m, port, b, mac);
        match_set_dl_type(&m, htons(PL_ETH_IPV6));
        match_set_nw_proto(&m, IPPROTO_ICMPV6);
        match_set_ipv6_src(&m, &in6addr_any);
        match_set_icmp_type(&m, icmp6_from_unspecified[i]);
        pl_add(flows, origin, PIPELINE_T_CLASSIFY, 110, &m, classify);
    }

    static const uint16_t guarded[] = {
        PL_ETH_IP, PL_ETH_ARP, PL_ETH_IPV6,
    };
    struct ofpbuf drop;
    ofpbuf_init(&drop, 0);
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(guarded); i++) {
        pl_match_binding(&m, port, b, mac);
        match_set_dl_type(&m, htons(guarded[i]));
        pl_add(flows, origin, PIPELINE_T_CLASSIFY, 105, &m, &drop);
    }
    ofpbuf_uninit(&drop);
}

/* Returns the bucket, in kbit, of a meter of 'rate' kbit/s that QoS asks
 * for with 'burst' kbit (0: none given): 'burst', else 500 ms of the rate,
 * but at least two full frames.  (Through OVS's userspace meter, a TCP
 * sender at 10 Mbit/s got 48% of the rate with 100 ms, 93% with 200 ms
 * and 99% with 500 ms: a policer drops, so TCP needs a bucket as deep as
 * its window's swings.) */
uint32_t
pipeline_qos_burst(uint32_t rate, uint32_t burst)
{
    return burst ? burst : MAX(rate / 2, 2 * 1518 * 8 / 1000 + 1);
}

/* Puts in 'ofpacts' the meter instruction of meter 'id', which must come
 * before every other action. */
static void
pl_put_meter(struct ofpbuf *ofpacts, uint32_t id)
{
    struct ofpact_meter *om = ofpact_put_METER(ofpacts);

    om->meter_id = id;
    om->provider_meter_id = UINT32_MAX;     /* As OVS decodes it. */
}

/* Adds to 'flows' the QoS flows (table 20) of the frames that 'port'
 * sends in binding 'b' (NULL: the port is in OpenFlow mode), if its QoS
 * asks for anything there: its meter, its 802.1p priority in
 * PIPELINE_REG_PCP, and its DSCP on IP frames. */
static void
pl_qos_flows(struct oflow_table *flows, const struct port *port,
             const struct port_binding *b, uint64_t origin)
{
    const struct port_qos *q = port_find_qos(port, b ? b->vlan : 0);
    if (!q || (!q->police_rate && q->dscp < 0 && q->pcp < 0)) {
        return;
    }

    static const uint16_t ip_types[] = { PL_ETH_IP, PL_ETH_IPV6 };
    uint64_t stub[64];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    for (int i = -1; i < (q->dscp >= 0 ? 2 : 0); i++) {
        struct match m;

        ofpbuf_clear(&ofpacts);
        if (q->police_rate) {
            pl_put_meter(&ofpacts, pipeline_meter_id(port->ofport,
                                                     b ? b->vlan : 0,
                                                     false));
        }
        if (q->pcp >= 0) {
            ovs_be32 pcp = htonl(q->pcp);
            pl_put_set_field(&ofpacts, MFF_REG0 + PIPELINE_REG_PCP, &pcp);
        }
        pl_match_init(&m);
        match_set_in_port(&m, pl_ofp_port(port->ofport));
        if (b) {
            match_set_metadata(&m, htobe64(b->metadata));
        }
        if (i >= 0) {
            uint8_t dscp = q->dscp;
            match_set_dl_type(&m, htons(ip_types[i]));
            pl_put_set_field(&ofpacts, MFF_IP_DSCP_SHIFTED, &dscp);
        }
        pl_put_goto(&ofpacts, PIPELINE_T_LB);
        pl_add(flows, origin, PIPELINE_T_QOS, i >= 0 ? 110 : 100, &m,
               &ofpacts);
    }
    ofpbuf_uninit(&ofpacts);
}

/* Puts in 'ofpacts' the meter of what 'port' receives in binding 'b'
 * (NULL: the port is in OpenFlow mode), if its QoS limits that. */
static void
pl_put_receive_meter(struct ofpbuf *ofpacts, const struct port *port,
                     const struct port_binding *b)
{
    const struct port_qos *q = port_find_qos(port, b ? b->vlan : 0);

    if (q && q->receive_rate) {
        pl_put_meter(ofpacts, pipeline_meter_id(port->ofport,
                                                b ? b->vlan : 0, true));
    }
}

/* Makes the meters of 'new' (NULL if there is none now) in 'desired' those
 * its QoS asks for, where 'old' (NULL if there was none) had its own. */
static void
pl_update_meters(struct desired *desired, const struct port *old,
                 const struct port *new)
{
    for (int pass = 0; pass < 2; pass++) {
        const struct port *port = pass ? new : old;
        if (!port || port->ofport < 0) {
            continue;
        }

        size_t n = port->openflow ? 1 : port->n_bindings;
        for (size_t i = 0; i < n; i++) {
            int vlan = port->openflow ? 0 : port->bindings[i].vlan;
            const struct port_qos *q = port_find_qos(port, vlan);
            uint32_t in = pipeline_meter_id(port->ofport, vlan, false);
            uint32_t out = pipeline_meter_id(port->ofport, vlan, true);

            if (!pass) {
                desired_remove_meter(desired, in);
                desired_remove_meter(desired, out);
            } else if (q) {
                if (q->police_rate) {
                    desired_set_meter(desired, in, q->police_rate,
                                      pipeline_qos_burst(q->police_rate,
                                                         q->police_burst));
                }
                if (q->receive_rate) {
                    desired_set_meter(desired, out, q->receive_rate,
                                      pipeline_qos_burst(q->receive_rate,
                                                         q->receive_burst));
                }
            }
        }
    }
}

/* Puts in 'ofpacts' the action that loads the egress ACL of binding 'b'
 * (toward the VM), if it has one. */
static void
pl_put_egress_acl(struct ofpbuf *ofpacts, const struct port_binding *b)
{
    if (b->acl) {
        ovs_be64 id = htobe64(pipeline_acl_id(b->acl));
        pl_put_set_field(ofpacts, MFF_XREG4, &id);
    }
}

/* Adds to 'flows' the flows of binding 'b' of 'port' (which has an
 * OpenFlow port): what the VM may send in it (table 0), its MAC in the
 * logical switch if it leads to this port (table 30), and its output
 * (table 50). */
void
pipeline_binding_flows(const struct port *port, const struct port_binding *b,
                       struct oflow_table *flows)
{
    uint64_t origin = pipeline_port_origin(port->name);
    struct eth_addr mac;
    bool has_mac;
    uint64_t stub[64];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    ovs_be64 metadata = htobe64(b->metadata);
    ovs_be32 reg7 = htonl(port->ofport);
    struct match m;

    if (!pl_port_mac(port, &mac, &has_mac)) {
        goto output;
    }

    /* Classify: into the logical switch, with the binding's ingress ACL. */
    if (b->vlan) {
        pl_put_pop_vlan(&ofpacts);
    }
    pl_put_set_field(&ofpacts, MFF_METADATA, &metadata);
    if (b->acl) {
        ovs_be64 id = htobe64(pipeline_acl_id(b->acl));
        pl_put_set_field(&ofpacts, MFF_XREG2, &id);
    }
    pl_put_goto(&ofpacts, PIPELINE_T_INGRESS_ACL);
    pl_classify(flows, port, b, has_mac ? &mac : NULL, origin, &ofpacts);

    /* QoS: what the VM sends. */
    pl_qos_flows(flows, port, b, origin);

    /* L2: the port's MAC in the logical switch. */
    if (has_mac && b->owns_mac) {
        ofpbuf_clear(&ofpacts);
        pl_put_set_field(&ofpacts, MFF_REG7, &reg7);
        pl_put_egress_acl(&ofpacts, b);
        pl_put_goto(&ofpacts, PIPELINE_T_EGRESS_ACL);
        pl_match_init(&m);
        match_set_metadata(&m, metadata);
        match_set_dl_dst(&m, mac);
        pl_add(flows, origin, PIPELINE_T_L2, 100, &m, &ofpacts);
    }

output:
    /* Output, through the binding's receive meter, with the binding's tag
     * pushed again and the sender's 802.1p priority in it. */
    ofpbuf_clear(&ofpacts);
    pl_put_receive_meter(&ofpacts, port, b);
    if (b->vlan) {
        ovs_be16 vid = htons(0x1000 | b->vlan);
        ofpact_put_PUSH_VLAN(&ofpacts)->ethertype = htons(PL_ETH_VLAN);
        pl_put_set_field(&ofpacts, MFF_VLAN_VID, &vid);

        struct ofpact_reg_move *move = ofpact_put_REG_MOVE(&ofpacts);
        move->src = (struct mf_subfield) {
            .field = mf_from_id(MFF_REG0 + PIPELINE_REG_PCP),
            .ofs = 0, .n_bits = 3,
        };
        move->dst = (struct mf_subfield) {
            .field = mf_from_id(MFF_VLAN_PCP), .ofs = 0, .n_bits = 3,
        };
    }
    pl_put_output(&ofpacts, port->ofport);
    pl_match_init(&m);
    match_set_reg(&m, 7, port->ofport);
    match_set_metadata(&m, metadata);
    pl_add(flows, origin, PIPELINE_T_OUTPUT, 100, &m, &ofpacts);

    ofpbuf_uninit(&ofpacts);
}

/* Adds to 'flows' the flows of 'port', which is in OpenFlow mode and has an
 * OpenFlow port: what the VM may send (table 0, checked as in a binding,
 * with the port's ingress ACL), into the controller's tables (from table
 * 30, after the ACL and QoS), and its output: the controller's outputs to
 * it (table 60) through its egress ACL (table 40) to the port (table 50).
 * Nothing of it depends on the controller's flows. */
void
pipeline_openflow_port_flows(const struct port *port,
                             struct oflow_table *flows)
{
    uint64_t origin = pipeline_port_origin(port->name);
    struct eth_addr mac;
    bool has_mac;
    uint64_t stub[64];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    ovs_be64 acl = htobe64(port->acl ? pipeline_acl_id(port->acl) : 0);
    struct match m;

    if (pl_port_mac(port, &mac, &has_mac)) {
        if (port->acl) {
            pl_put_set_field(&ofpacts, MFF_XREG2, &acl);
        }
        pl_put_goto(&ofpacts, PIPELINE_T_INGRESS_ACL);
        pl_classify(flows, port, NULL, has_mac ? &mac : NULL, origin,
                    &ofpacts);

        pl_qos_flows(flows, port, NULL, origin);

        ofpbuf_clear(&ofpacts);
        pl_put_goto(&ofpacts, PIPELINE_OF_TABLE0);
        pl_match_init(&m);
        match_set_in_port(&m, pl_ofp_port(port->ofport));
        pl_add(flows, origin, PIPELINE_T_L2, 110, &m, &ofpacts);
    }

    ofpbuf_clear(&ofpacts);
    pl_put_set_field(&ofpacts, MFF_XREG4, &acl);
    pl_put_resubmit(&ofpacts, PIPELINE_T_EGRESS_ACL);
    pl_match_init(&m);
    match_set_reg(&m, 7, port->ofport);
    pl_add(flows, origin, PIPELINE_T_OF_OUTPUT, 100, &m, &ofpacts);

    ofpbuf_clear(&ofpacts);
    pl_put_receive_meter(&ofpacts, port, NULL);
    pl_put_output(&ofpacts, port->ofport);
    pl_add(flows, origin, PIPELINE_T_OUTPUT, 100, &m, &ofpacts);

    ofpbuf_uninit(&ofpacts);
}

/* Adds to 'flows' the flows of tables 61 and 62, where the controller's
 * FLOOD and ALL send a frame: to each port of 'ports' in OpenFlow mode
 * that has an OpenFlow port, through table 60, each in a clone.  The port
 * the frame came in on drops its copy at output, as OpenFlow wants.  From
 * OpenFlow 1.1 on, FLOOD leaves out only what spanning tree blocks (the
 * integration bridge runs none) and what OpenFlow 1.0's OFPPC_NO_FLOOD
 * configured (the bridge speaks 1.3 to 1.5 only): the two are the same
 * here. */
void
pipeline_openflow_flood_flows(const struct ports *ports,
                              struct oflow_table *flows)
{
    uint64_t stub[256];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    struct match m;

    for (size_t i = 0; i < ports->n; i++) {
        const struct port *port = ports->sorted[i];

        if (port->openflow && port->ofport >= 0) {
            nbx_put_output(&ofpacts, pl_ofp_port(port->ofport));
        }
    }
    pl_match_init(&m);
    pl_add(flows, 0, PIPELINE_T_OF_FLOOD, 0, &m, &ofpacts);
    pl_add(flows, 0, PIPELINE_T_OF_ALL, 0, &m, &ofpacts);
    ofpbuf_uninit(&ofpacts);
}

/* Puts in 'ofpacts' a clone that sends the packet to output port 'ofport'
 * through table 'table', with 'b''s egress ACL if 'b' is nonnull. */
static void
pl_put_clone_to(struct ofpbuf *ofpacts, int ofport,
                const struct port_binding *b, uint8_t table)
{
    size_t ofs = ofpacts->size;
    ofpact_put_CLONE(ofpacts);
    ovs_be32 reg7 = htonl(ofport);
    pl_put_set_field(ofpacts, MFF_REG7, &reg7);
    if (b) {
        pl_put_egress_acl(ofpacts, b);
    }
    pl_put_resubmit(ofpacts, table);
    struct ofpact_nest *clone = ofpbuf_at_assert(ofpacts, ofs,
                                                 sizeof *clone);
    ofpacts->header = clone;
    ofpact_finish_CLONE(ofpacts, &clone);
}

/* Puts in 'ofpacts' the replication of a frame that a local port sent to
 * the VTEPs of 'set' (of logical switch 'sw'), each whose tunnel has an
 * OpenFlow port: to all of them with replication mode "source_node",
 * otherwise to one service node, the first (by address) whose BFD says
 * forwarding, or the first. */
static void
pl_put_replication(struct ofpbuf *ofpacts, const struct overlay_switch *sw,
                   const struct overlay_set *set)
{
    const struct overlay_tunnel *service_node = NULL;

    for (size_t i = 0; i < set->n; i++) {
        const struct overlay_tunnel *tunnel = set->tunnels[i];
        if (tunnel->ofport < 0) {
            continue;
        } else if (sw->source_node) {
            pl_put_clone_to(ofpacts, tunnel->ofport, NULL,
                            PIPELINE_T_EGRESS_ACL);
        } else if (!service_node
                   || (tunnel->forwarding && !service_node->forwarding)) {
            service_node = tunnel;
        }
    }
    if (service_node) {
        pl_put_clone_to(ofpacts, service_node->ofport, NULL,
                        PIPELINE_T_EGRESS_ACL);
    }
}

/* Adds to 'flows' the flooding of logical switch 'ls', whose bindings
 * with an OpenFlow port are those in 'ports' and whose overlay is 'sw'
 * (NULL if it is not on the overlay): broadcast, multicast and unknown
 * destinations go to every port of the logical switch but the one they
 * came from (OVS never outputs to the input port), each through the
 * egress ACL of its destination, in a clone so that one output's tag does
 * not follow the packet to the next.  What a local port sent goes to the
 * switch's "unknown-dst" VTEPs as well (pl_put_replication()), or for a
 * multicast MAC with a Mcast_Macs_Remote row of its own, to that row's
 * VTEPs; what came from a tunnel goes to local ports only (split
 * horizon).  No flow if the switch has nowhere to flood to. */
void
pipeline_ls_flows(const struct ports *ports, const struct overlay_switch *sw,
                  const char *ls, struct oflow_table *flows)
{
    uint64_t stub[256];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    ovs_be64 metadata = htobe64(pipeline_ls_metadata(ls));
    struct match m;

    for (size_t i = 0; i < ports->n; i++) {
        const struct port *port = ports->sorted[i];

        for (size_t j = 0; port->ofport >= 0 && j < port->n_bindings; j++) {
            const struct port_binding *b = &port->bindings[j];
            if (!strcmp(b->ls, ls)) {
                pl_put_clone_to(&ofpacts, port->ofport, b,
                                PIPELINE_T_EGRESS_ACL);
            }
        }
    }
    size_t n_local = ofpacts.size;

    if (sw) {
        pl_put_replication(&ofpacts, sw, &sw->flood);
    }
    if (ofpacts.size) {
        pl_match_init(&m);
        match_set_metadata(&m, metadata);
        pl_add(flows, pipeline_ls_origin(ls), PIPELINE_T_L2, 10, &m,
               &ofpacts);
    }
    if (ofpacts.size != n_local) {
        ofpacts.size = n_local;
        pl_match_init(&m);
        match_set_metadata(&m, metadata);
        match_set_reg(&m, PIPELINE_REG_FROM_TUNNEL, 1);
        pl_add(flows, pipeline_ls_origin(ls), PIPELINE_T_L2, 11, &m,
               &ofpacts);
    }

    /* Multicast MACs of their own, from local ports (from a tunnel, the
     * flow above takes them). */
    for (size_t i = 0; sw && i < sw->n_mcasts; i++) {
        const struct overlay_mcast *mc = &sw->mcasts[i];
        ofpacts.size = n_local;
        pl_put_replication(&ofpacts, sw, &mc->set);
        if (ofpacts.size) {
            pl_match_init(&m);
            match_set_metadata(&m, metadata);
            match_set_reg(&m, PIPELINE_REG_FROM_TUNNEL, 0);
            match_set_dl_dst(&m, mc->ea);
            pl_add(flows, pipeline_ls_origin(ls), PIPELINE_T_L2, 12, &m,
                   &ofpacts);
        }
    }
    ofpbuf_uninit(&ofpacts);
}

/* Adds to 'flows' the flows of remote MAC 'mac' of logical switch 'sw',
 * whose tunnel has an OpenFlow port: what a local port sends to it goes to
 * its tunnel, and what came from a tunnel to it is dropped (table 30,
 * below a local MAC's flow). */
static void
pl_remote_mac_flows(const struct overlay_switch *sw,
                    const struct overlay_mac *mac, struct oflow_table *flows)
{
    uint64_t origin = pipeline_ls_origin(sw->name);
    ovs_be64 metadata = htobe64(pipeline_ls_metadata(sw->name));
    ovs_be32 reg7 = htonl(mac->tunnel->ofport);
    uint64_t stub[16];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    struct ofpbuf drop;
    struct match m;

    pl_put_set_field(&ofpacts, MFF_REG7, &reg7);
    pl_put_goto(&ofpacts, PIPELINE_T_EGRESS_ACL);
    pl_match_init(&m);
    match_set_metadata(&m, metadata);
    match_set_dl_dst(&m, mac->ea);
    match_set_reg(&m, PIPELINE_REG_FROM_TUNNEL, 0);
    pl_add(flows, origin, PIPELINE_T_L2, 90, &m, &ofpacts);
    ofpbuf_init(&drop, 0);
    match_set_reg(&m, PIPELINE_REG_FROM_TUNNEL, 1);
    pl_add(flows, origin, PIPELINE_T_L2, 90, &m, &drop);
    ofpbuf_uninit(&drop);
    ofpbuf_uninit(&ofpacts);
}

/* Adds to 'flows' the overlay flows of logical switch 'sw' but its remote
 * MACs' (pl_remote_mac_flows()): what comes from a tunnel with its VNI
 * enters it, marked as from a tunnel (table 0, on to the ingress ACL
 * table, which has no ACL for it but reassembles its fragments); and each
 * tunnel that the switch uses gets the VNI set on output (table 50).  A
 * tunnel that OVS has no port for yet gets no flow. */
void
pipeline_overlay_flows(const struct overlay_switch *sw,
                       struct oflow_table *flows)
{
    uint64_t origin = pipeline_ls_origin(sw->name);
    uint64_t stub[64];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    ovs_be64 metadata = htobe64(pipeline_ls_metadata(sw->name));
    ovs_be64 tun_id = htobe64(sw->vni);
    ovs_be32 one = htonl(1);
    struct match m;

    pl_put_set_field(&ofpacts, MFF_METADATA, &metadata);
    pl_put_set_field(&ofpacts, MFF_REG0 + PIPELINE_REG_FROM_TUNNEL, &one);
    pl_put_goto(&ofpacts, PIPELINE_T_INGRESS_ACL);
    pl_match_init(&m);
    match_set_tun_id(&m, tun_id);
    pl_add(flows, origin, PIPELINE_T_CLASSIFY, 100, &m, &ofpacts);

    /* Each tunnel once: the remote MACs', the flooding's and the
     * multicast MACs'. */
    size_t n_tunnels = sw->n_macs + sw->flood.n, n_used = 0;
    for (size_t i = 0; i < sw->n_mcasts; i++) {
        n_tunnels += sw->mcasts[i].set.n;
    }
    const struct overlay_tunnel **tunnels = iovp_xmalloc(
        MAX(1, n_tunnels) * sizeof *tunnels);
    size_t n = 0;
    for (size_t i = 0; i < sw->n_macs; i++) {
        tunnels[n++] = sw->macs[i].tunnel;
    }
    for (size_t i = 0; i < sw->flood.n; i++) {
        tunnels[n++] = sw->flood.tunnels[i];
    }
    for (size_t i = 0; i < sw->n_mcasts; i++) {
        for (size_t j = 0; j < sw->mcasts[i].set.n; j++) {
            tunnels[n++] = sw->mcasts[i].set.tunnels[j];
        }
    }
    int *used = iovp_xmalloc(MAX(1, n_tunnels) * sizeof *used);
    for (size_t i = 0; i < n_tunnels; i++) {
        const struct overlay_tunnel *tunnel = tunnels[i];
        bool seen = tunnel->ofport < 0;
        for (size_t j = 0; !seen && j < n_used; j++) {
            seen = used[j] == tunnel->ofport;
        }
        if (seen) {
            continue;
        }
        used[n_used++] = tunnel->ofport;

        ofpbuf_clear(&ofpacts);
        pl_put_set_field(&ofpacts, MFF_TUN_ID, &tun_id);
        pl_put_output(&ofpacts, tunnel->ofport);
        pl_match_init(&m);
        match_set_reg(&m, 7, tunnel->ofport);
        match_set_metadata(&m, metadata);
        pl_add(flows, origin, PIPELINE_T_OUTPUT, 100, &m, &ofpacts);
    }
    free(used);
    free(tunnels);
    ofpbuf_uninit(&ofpacts);
}

/* Adds to 'flows' the flows of 'tunnel', which has an OpenFlow port: what
 * comes from it with a VNI that no logical switch has (none of table 0's
 * flows of pipeline_overlay_flows() takes it) is dropped, and counted by
 * one flow; BFD's control packets (VNI 0, UDP port 3784), which OVS's BFD
 * takes before the tables but which still meet them, by another, so that
 * the first counts only frames lost. */
void
pipeline_tunnel_flows(const struct overlay_tunnel *tunnel,
                      struct oflow_table *flows)
{
    uint64_t origin = pipeline_tunnel_origin(tunnel->ip);
    struct ofpbuf drop;
    struct match m;

    ofpbuf_init(&drop, 0);
    pl_match_init(&m);
    match_set_in_port(&m, pl_ofp_port(tunnel->ofport));
    pl_add(flows, origin, PIPELINE_T_CLASSIFY, 50, &m, &drop);

    match_set_tun_id(&m, htobe64(0));
    match_set_dl_type(&m, htons(PL_ETH_IP));
    match_set_nw_proto(&m, IPPROTO_UDP);
    match_set_tp_dst(&m, htons(3784));
    pl_add(flows, origin, PIPELINE_T_CLASSIFY, 60, &m, &drop);
    ofpbuf_uninit(&drop);
}

/* Returns true if 'f' is one of the flows that a frame from or toward the
 * tunnel with OpenFlow port 'ofport' meets as such: table 0's that take a
 * VNI from any tunnel or that take what comes from that port, table 30's
 * that choose the tunnel for a remote MAC or flood to it, and table 50's
 * that set its VNI and output to it. */
bool
pipeline_flow_is_tunnels(const struct oflow *f, int ofport)
{
    struct match m;

    minimatch_expand(&f->data->match, &m);
    bool in_port = m.wc.masks.in_port.ofp_port != 0;
    if ((in_port ? m.flow.in_port.ofp_port == pl_ofp_port(ofport)
         : m.wc.masks.tunnel.tun_id != 0)
        || (m.wc.masks.regs[7] == UINT32_MAX && m.flow.regs[7] == ofport)) {
        return true;
    }

    const struct ofpact *a;
    OFPACT_FOR_EACH_FLATTENED (a, f->data->ofpacts, f->data->ofpacts_len) {
        if (a->type == OFPACT_OUTPUT
            && ofpact_get_OUTPUT(a)->port == pl_ofp_port(ofport)) {
            return true;
        } else if (a->type == OFPACT_SET_FIELD) {
            const struct ofpact_set_field *sf = ofpact_get_SET_FIELD(a);
            if (sf->field->id == MFF_REG7
                && ntohl(sf->value->be32) == (uint32_t) ofport) {
                return true;
            }
        }
    }
    return false;
}

/* Adds to 'flows' the flows that keep fragmentation from changing what an
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
pl_fragment_flows(struct oflow_table *flows)
{
    static const char *const families[] = { "ip", "ipv6" };
    static const char *const l4[] = {
        "tcp", "udp", "sctp", "tcp6", "udp6", "sctp6",
    };
    const int zone = PIPELINE_CT_ZONE_DEFRAG;

    for (size_t i = 0; i < IOVP_ARRAY_SIZE(families); i++) {
        const char *f = families[i];

        /* Reassembly before the ingress ACL, and back into its table. */
        pl_add_text(flows, "table=%d,priority=%d,%s,nw_frag=yes,"
                "ct_state=+inv actions=drop", PIPELINE_T_INGRESS_ACL,
                PIPELINE_FRAG_PRIORITY + 20, f);
        pl_add_text(flows, "table=%d,priority=%d,%s,nw_frag=yes,"
                "ct_state=-trk actions=ct(zone=%d,table=%d)",
                PIPELINE_T_INGRESS_ACL, PIPELINE_FRAG_PRIORITY + 10, f,
                zone, PIPELINE_T_INGRESS_ACL);
        pl_add_text(flows, "table=%d,priority=%d,%s,nw_frag=later,"
                "ct_state=+trk,ct_zone=%d actions=goto_table:%d",
                PIPELINE_T_INGRESS_ACL, PIPELINE_FRAG_PRIORITY, f, zone,
                PIPELINE_T_QOS);
        pl_add_text(flows, "table=%d,priority=%d,%s,nw_frag=later "
                "actions=goto_table:%d", PIPELINE_T_EGRESS_ACL,
                PIPELINE_FRAG_PRIORITY, f, PIPELINE_T_OUTPUT);

        /* Reassembly before output, by output port. */
        pl_add_text(flows, "table=%d,priority=%d,%s,nw_frag=yes,"
                "ct_state=+inv actions=drop", PIPELINE_T_OUTPUT,
                PIPELINE_FRAG_PRIORITY + 20, f);
        pl_add_text(flows, "table=%d,priority=%d,%s,nw_frag=yes,"
                "ct_state=+trk,ct_zone=%d "
                "actions=ct(zone=NXM_NX_REG7[0..15],table=%d)",
                PIPELINE_T_OUTPUT, PIPELINE_FRAG_PRIORITY + 10, f, zone,
                PIPELINE_T_OUTPUT);
    }
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(l4); i++) {
        pl_add_text(flows, "table=%d,priority=%d,%s,nw_frag=first,"
                "ct_state=+trk,tp_src=0,tp_dst=0 actions=drop",
                PIPELINE_T_INGRESS_ACL, PIPELINE_FRAG_PRIORITY + 5, l4[i]);
    }
    pl_add_text(flows, "table=%d,priority=%d,icmp6,nw_frag=first,"
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


/* Adds to 'flows' the pipeline's fixed flows: what no policy admits is
 * dropped, the tables that later policy fills pass everything on, and
 * fragments are reassembled (pl_fragment_flows()).  Written in ovs-ofctl's
 * syntax: they are made once, on a full recompute. */
void
pipeline_fixed_flows(struct oflow_table *flows)
{
    pl_add_text(flows, "table=0,priority=0 actions=drop");
    pl_add_text(flows, "table=10,priority=0 actions=goto_table:20");
    pl_add_text(flows, "table=20,priority=0 actions=goto_table:25");
    pl_add_text(flows, "table=25,priority=0 actions=goto_table:30");
    pl_add_text(flows, "table=26,priority=0 actions=goto_table:30");
    pl_add_text(flows, "table=27,priority=0 actions=drop");
    pl_add_text(flows, "table=30,priority=0 actions=drop");
    pl_add_text(flows, "table=40,priority=0 actions=goto_table:50");
    pl_add_text(flows, "table=50,priority=0 actions=drop");
    pl_fragment_flows(flows);
}

/* The key of the desired group of binding 'b' of 'port', malloc()'d. */
static char *
pl_binding_group(const struct port *port, const struct port_binding *b)
{
    return iovp_xasprintf("port/%d/%s", b->vlan, port->name);
}

/* The key of the desired group of logical switch 'ls', malloc()'d. */
static char *
pl_ls_group(const char *ls)
{
    return iovp_xasprintf("ls/%s", ls);
}

/* Makes the desired groups of the bindings of port 'new' (NULL if there
 * is none now) in 'desired' those that it gives, where 'old' (NULL if
 * there was none) gave the groups there: one group for each binding, none
 * for a port with no OpenFlow port. */
void
pipeline_update_port(struct desired *desired, const struct port *old,
                     const struct port *new)
{
    bool has_flows = new && new->ofport >= 0;

    pl_update_meters(desired, old, new);
    if (has_flows && new->openflow) {
        char *of_key = iovp_xasprintf("openflow/%s", new->name);
        struct oflow_table flows;

        oflow_table_init(&flows);
        pipeline_openflow_port_flows(new, &flows);
        desired_set_group(desired, of_key, &flows);
        oflow_table_destroy(&flows);
        free(of_key);
    } else if (old && old->openflow) {
        char *of_key = iovp_xasprintf("openflow/%s", old->name);
        desired_remove_group(desired, of_key);
        free(of_key);
    }

    for (size_t i = 0; old && i < old->n_bindings; i++) {
        const struct port_binding *b = &old->bindings[i];
        if (!has_flows || !port_find_binding(new, b->vlan)) {
            char *key = pl_binding_group(old, b);
            desired_remove_group(desired, key);
            free(key);
        }
    }
    for (size_t i = 0; has_flows && i < new->n_bindings; i++) {
        const struct port_binding *b = &new->bindings[i];
        char *key = pl_binding_group(new, b);
        struct oflow_table flows;

        oflow_table_init(&flows);
        pipeline_binding_flows(new, b, &flows);
        desired_set_group(desired, key, &flows);
        oflow_table_destroy(&flows);
        free(key);
    }
}

/* Makes the desired group of remote MAC 'mac' of logical switch 'ls' in
 * 'desired' its flows in 'sw' (NULL, or 'mac' NULL: none). */
static void
pl_update_remote_mac(struct desired *desired, const char *ls,
                     const struct overlay_switch *sw,
                     const struct overlay_mac *mac, const char *name)
{
    char *key = iovp_xasprintf("rmac/%s/%s", ls, name);

    if (sw && mac && mac->tunnel->ofport >= 0) {
        struct oflow_table flows;
        oflow_table_init(&flows);
        pl_remote_mac_flows(sw, mac, &flows);
        desired_set_group(desired, key, &flows);
        oflow_table_destroy(&flows);
    } else {
        desired_remove_group(desired, key);
    }
    free(key);
}

/* Makes the desired groups of the remote MACs of logical switch 'ls' in
 * 'desired' those of 'new' (NULL: none), where those of 'old' (NULL:
 * none) are: only the MACs that differ, or with 'all' every one of
 * 'new''s. */
static void
pl_update_remote_macs(struct desired *desired, const char *ls,
                      const struct overlay_switch *old,
                      const struct overlay_switch *new, bool all)
{
    size_t n_old = old ? old->n_macs : 0, n_new = new ? new->n_macs : 0;
    size_t i = 0, j = 0;

    while (i < n_old || j < n_new) {
        int cmp = (i >= n_old ? 1 : j >= n_new ? -1
                   : strcmp(old->macs[i].mac, new->macs[j].mac));
        if (cmp < 0) {
            pl_update_remote_mac(desired, ls, NULL, NULL, old->macs[i].mac);
            i++;
        } else if (cmp > 0) {
            pl_update_remote_mac(desired, ls, new, &new->macs[j],
                                 new->macs[j].mac);
            j++;
        } else {
            const struct overlay_tunnel *ot = old->macs[i].tunnel;
            const struct overlay_tunnel *nt = new->macs[j].tunnel;

            if (all || ot->ofport != nt->ofport) {
                pl_update_remote_mac(desired, ls, new, &new->macs[j],
                                     new->macs[j].mac);
            }
            i++;
            j++;
        }
    }
}

/* Removes from 'desired' the overlay group of logical switch 'ls' if its
 * VNI in 'overlay' is not the one in 'old_overlay', which made the group:
 * before any switch's new group, so that a VNI that moves from one switch
 * to another never has two switches' flows at once. */
void
pipeline_retire_overlay(struct desired *desired,
                        const struct overlay *old_overlay,
                        const struct overlay *overlay, const char *ls)
{
    const struct overlay_switch *old = overlay_find_switch(old_overlay, ls);
    const struct overlay_switch *new = overlay_find_switch(overlay, ls);

    if (old && (!new || new->vni != old->vni)) {
        char *key = iovp_xasprintf("overlay/%s", ls);
        desired_remove_group(desired, key);
        free(key);
    }
}

/* Makes the desired groups of logical switch 'ls' in 'desired' its
 * flooding among 'ports' and its overlay in 'overlay': its remote MACs
 * that differ from 'old_overlay''s, which made the groups there, or every
 * one with 'all'. */
void
pipeline_update_ls(struct desired *desired, const struct ports *ports,
                   const struct overlay *old_overlay,
                   const struct overlay *overlay, const char *ls, bool all)
{
    const struct overlay_switch *sw = overlay_find_switch(overlay, ls);
    const struct overlay_switch *old = overlay_find_switch(old_overlay, ls);
    char *key = iovp_xasprintf("overlay/%s", ls);
    struct oflow_table flows;

    pl_update_remote_macs(desired, ls, old, sw, all);

    if (sw) {
        oflow_table_init(&flows);
        pipeline_overlay_flows(sw, &flows);
        desired_set_group(desired, key, &flows);
        oflow_table_destroy(&flows);
    } else {
        desired_remove_group(desired, key);
    }
    free(key);

    key = pl_ls_group(ls);
    oflow_table_init(&flows);
    pipeline_ls_flows(ports, sw, ls, &flows);
    if (oflow_table_count(&flows)) {
        desired_set_group(desired, key, &flows);
    } else {
        desired_remove_group(desired, key);
    }
    oflow_table_destroy(&flows);
    free(key);
}

/* Makes the desired group of the tunnel to 'ip' in 'desired' its flow in
 * 'overlay', or none if it has no tunnel there with an OpenFlow port. */
static void
pl_update_tunnel(struct desired *desired, const struct overlay *overlay,
                 const char *ip)
{
    const struct overlay_tunnel *tunnel = overlay_find_tunnel(overlay, ip);
    char *key = iovp_xasprintf("tunnel/%s", ip);

    if (tunnel && tunnel->ofport >= 0) {
        struct oflow_table flows;
        oflow_table_init(&flows);
        pipeline_tunnel_flows(tunnel, &flows);
        desired_set_group(desired, key, &flows);
        oflow_table_destroy(&flows);
    } else {
        desired_remove_group(desired, key);
    }
    free(key);
}

/* Makes the desired groups of the tunnels in 'desired' those of 'overlay',
 * where 'old_overlay' made them: only the tunnels whose OpenFlow port
 * differs, or with 'all' every one of either. */
void
pipeline_update_tunnels(struct desired *desired,
                        const struct overlay *old_overlay,
                        const struct overlay *overlay, bool all)
{
    const struct overlay_tunnel *t;

    HMAP_FOR_EACH (t, node, &old_overlay->tunnels) {
        if (all || !overlay_find_tunnel(overlay, t->ip)) {
            pl_update_tunnel(desired, overlay, t->ip);
        }
    }
    HMAP_FOR_EACH (t, node, &overlay->tunnels) {
        const struct overlay_tunnel *old = overlay_find_tunnel(old_overlay,
                                                               t->ip);
        if (all || !old || old->ofport != t->ofport) {
            pl_update_tunnel(desired, overlay, t->ip);
        }
    }
}

/* Makes the desired group of tables 61 and 62 (the controller's flooding)
 * in 'desired' their flows for 'ports': none without a port in OpenFlow
 * mode. */
void
pipeline_update_openflow(struct desired *desired, const struct ports *ports)
{
    for (size_t i = 0; i < ports->n; i++) {
        if (ports->sorted[i]->openflow && ports->sorted[i]->ofport >= 0) {
            struct oflow_table flows;

            oflow_table_init(&flows);
            pipeline_openflow_flood_flows(ports, &flows);
            desired_set_group(desired, "openflow", &flows);
            oflow_table_destroy(&flows);
            return;
        }
    }
    desired_remove_group(desired, "openflow");
}

/* Makes the desired group of the fixed flows in 'desired'. */
void
pipeline_update_fixed(struct desired *desired)
{
    struct oflow_table flows;

    oflow_table_init(&flows);
    pipeline_fixed_flows(&flows);
    desired_set_group(desired, "pipeline", &flows);
    oflow_table_destroy(&flows);
}

/* Returns a new reference to the counters of the VLAN bindings of the
 * ports in 'ports', summed from the counters of the installed flows in
 * 'installed' that their groups in 'desired' hold, by the UUID of the
 * Physical_Port row of each port:
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
/* Adds to 'counts' the frames and bytes from VM port 'port' in binding 'b'
 * (its classification flows), the frames and bytes to it (its output
 * flows), and the frames to it by its MAC (its L2 flow), that the
 * installed flows counted, with what 'extra' (if nonnull) says was decided
 * elsewhere.  Returns true if the binding has an output flow; adds the
 * frames from it decided elsewhere to '*elsewhere'. */
static bool
pl_binding_counts(const struct port *port, const struct port_binding *b,
                  const struct desired *desired,
                  const struct oflow_table *installed,
                  pipeline_extra_stats_cb *extra, void *aux,
                  uint64_t counts[5], uint64_t *elsewhere)
{
    char *key = pl_binding_group(port, b);
    bool found = false;
    size_t n;
    struct oflow *const *flows = desired_group_flows(desired, key, &n);
    free(key);

    for (size_t k = 0; k < n; k++) {
        const struct oflow *f = flows[k];
        const struct oflow *inst = oflow_table_find(installed, f);
        if (!inst) {
            continue;
        }
        const struct oflow_stats *st = oflow_get_stats(inst);
        uint64_t packets = 0, bytes = 0;
        if (extra) {
            extra(inst, &packets, &bytes, aux);
        }
        packets += st->n_packets;
        bytes += st->n_bytes;
        if (f->table_id == PIPELINE_T_CLASSIFY && f->data->ofpacts_len) {
            *elsewhere += packets - st->n_packets;
            counts[0] += packets;
            counts[1] += bytes;
        } else if (f->table_id == PIPELINE_T_OUTPUT) {
            counts[2] += packets;
            counts[3] += bytes;
            found = true;
        } else if (f->table_id == PIPELINE_T_L2) {
            counts[4] += packets;
        }
    }
    return found;
}

/* Stores in '*from' and '*to' the frames that OVS counted from VM port
 * 'port' (the classification flows of its bindings) and to it by its MAC
 * (their L2 flows: not the frames flooded to it, which every port of the
 * logical switch gets), in the flows of 'desired' that 'installed'
 * holds. */
void
pipeline_port_packets(const struct port *port, const struct desired *desired,
                      const struct oflow_table *installed, uint64_t *from,
                      uint64_t *to)
{
    uint64_t counts[5] = { 0, 0, 0, 0, 0 };
    uint64_t elsewhere = 0;

    for (size_t j = 0; port->ofport >= 0 && j < port->n_bindings; j++) {
        pl_binding_counts(port, &port->bindings[j], desired, installed,
                          NULL, NULL, counts, &elsewhere);
    }
    *from = counts[0];
    *to = counts[4];
}

json_t *
pipeline_binding_stats(const struct ports *ports,
                       const struct desired *desired,
                       const struct oflow_table *installed,
                       pipeline_extra_stats_cb *extra, void *aux,
                       uint64_t *extra_from_local)
{
    json_t *stats = json_object();
    uint64_t elsewhere = 0;

    for (size_t i = 0; i < ports->n; i++) {
        const struct port *port = ports->sorted[i];
        json_t *port_stats = json_object();

        for (size_t j = 0; port->ofport >= 0 && j < port->n_bindings; j++) {
            const struct port_binding *b = &port->bindings[j];
            uint64_t counts[5] = { 0, 0, 0, 0, 0 };

            if (pl_binding_counts(port, b, desired, installed, extra, aux,
                                  counts, &elsewhere)) {
                char vlan[16];
                snprintf(vlan, sizeof vlan, "%d", b->vlan);
                json_object_set_new(port_stats, vlan, json_pack(
                    "{s:I, s:I, s:I, s:I}",
                    "packets_from_local", (json_int_t) counts[0],
                    "bytes_from_local", (json_int_t) counts[1],
                    "packets_to_local", (json_int_t) counts[2],
                    "bytes_to_local", (json_int_t) counts[3]));
            }
        }
        json_object_set_new(stats, port->uuid, port_stats);
    }
    if (extra_from_local) {
        *extra_from_local = elsewhere;
    }
    return stats;
}

/* Adds 'packets' and 'bytes' to the counters 'key'_packets and 'key'_bytes
 * of 'stats'. */
static void
pl_stats_add(json_t *stats, const char *key, uint64_t packets,
             uint64_t bytes)
{
    static const char *const units[] = { "packets", "bytes" };
    uint64_t values[] = { packets, bytes };

    for (size_t i = 0; i < 2; i++) {
        char *name = iovp_xasprintf("%s_%s", key, units[i]);
        json_t *old = json_object_get(stats, name);
        json_object_set_new(stats, name, json_integer(
                                json_integer_value(old) + values[i]));
        free(name);
    }
}

/* Adds to 'stats' the counters of meter 'id' of 'meters' (ofctrl's), as
 * 'key' (what passed) and 'key'_dropped. */
static void
pl_meter_stats(json_t *stats, const struct hmap *meters, uint32_t id,
               const char *key)
{
    const struct ofctrl_meter *m;
    uint64_t packets = 0, bytes = 0, dropped_packets = 0, dropped_bytes = 0;

    HMAP_FOR_EACH_WITH_HASH (m, node, id, meters) {
        if (m->id == id) {
            dropped_packets = MIN(m->n_dropped_packets, m->n_packets);
            dropped_bytes = MIN(m->n_dropped_bytes, m->n_bytes);
            packets = m->n_packets - dropped_packets;
            bytes = m->n_bytes - dropped_bytes;
        }
    }
    char *dropped = iovp_xasprintf("%s_dropped", key);
    pl_stats_add(stats, key, packets, bytes);
    pl_stats_add(stats, dropped, dropped_packets, dropped_bytes);
    free(dropped);
}

/* Adds to 'stats' the counters of the QoS of 'port''s binding 'b' (NULL:
 * the port is in OpenFlow mode), if it has one (see pipeline_qos_stats()),
 * and returns that QoS, or NULL. */
const struct port_qos *
pipeline_binding_qos_stats(const struct port *port,
                           const struct port_binding *b,
                           const struct desired *desired,
                           const struct oflow_table *installed,
                           const struct hmap *meters, json_t *stats)
{
    int vlan = b ? b->vlan : 0;
    const struct port_qos *q = port_find_qos(port, vlan);
    if (!q || port->ofport < 0) {
        return q;
    }

    if (q->police_rate) {
        pl_meter_stats(stats, meters,
                       pipeline_meter_id(port->ofport, vlan, false), "sent");
    } else if (q->dscp >= 0 || q->pcp >= 0) {
        char *key = (b ? pl_binding_group(port, b)
                     : iovp_xasprintf("openflow/%s", port->name));
        size_t n;
        struct oflow *const *flows = desired_group_flows(desired, key, &n);
        uint64_t packets = 0, bytes = 0;
        for (size_t k = 0; k < n; k++) {
            const struct oflow *inst = (flows[k]->table_id == PIPELINE_T_QOS
                                        ? oflow_table_find(installed,
                                                           flows[k])
                                        : NULL);
            if (inst) {
                packets += oflow_get_stats(inst)->n_packets;
                bytes += oflow_get_stats(inst)->n_bytes;
            }
        }
        pl_stats_add(stats, "sent", packets, bytes);
        free(key);
    }
    if (q->receive_rate) {
        pl_meter_stats(stats, meters,
                       pipeline_meter_id(port->ofport, vlan, true),
                       "received");
    }
    return q;
}

/* Returns the statistics of each QoS that the VM ports of 'ports' use, by
 * its Iovp_QoS row's UUID: {"UUID": {"KEY": N, ...}}, summed over the
 * bindings it applies to.  What the VMs sent: "sent_packets" and
 * "sent_bytes", what passed its QoS (the meter's counters less what it
 * dropped; without a meter, its table 20 flows' counters from the
 * installed flows), and "sent_dropped_packets" and "sent_dropped_bytes",
 * what the meter dropped; what they received, "received_...", from the
 * receive meter's.  Only what the QoS does is counted.  No frame of a
 * binding with QoS is decided in the NIC but those an ingress ACL drops,
 * which never reach it. */
json_t *
pipeline_qos_stats(const struct ports *ports, const struct desired *desired,
                   const struct oflow_table *installed,
                   const struct hmap *meters)
{
    json_t *stats = json_object();

    for (size_t i = 0; i < ports->n; i++) {
        const struct port *port = ports->sorted[i];
        size_t n_bindings = port->openflow ? 1 : port->n_bindings;

        for (size_t j = 0; port->ofport >= 0 && j < n_bindings; j++) {
            const struct port_binding *b = (port->openflow ? NULL
                                            : &port->bindings[j]);
            const struct port_qos *q = port_find_qos(port, b ? b->vlan : 0);
            if (!q) {
                continue;
            }

            json_t *qs = json_object_get(stats, q->uuid);
            if (!qs) {
                qs = json_object();
                json_object_set_new(stats, q->uuid, qs);
            }
            pipeline_binding_qos_stats(port, b, desired, installed, meters,
                                       qs);
        }
    }
    return stats;
}
