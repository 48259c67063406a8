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

#include "agent/reference.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/flow.h>
#include <openvswitch/match.h>

#include "agent/acl.h"
#include "offload/fastpath.h"

#define REF_ETH_IPV4 0x0800
#define REF_ETH_IPV6 0x86dd

const char *
reference_fate_to_string(enum reference_fate fate)
{
    switch (fate) {
    case REFERENCE_DROP:
        return "drop";
    case REFERENCE_FORWARD:
        return "forward";
    case REFERENCE_TUNNEL:
        return "tunnel";
    case REFERENCE_OTHER:
        return "other";
    }
    return "<unknown>";
}

static bool
ref_mac_equal(struct eth_addr a, struct eth_addr b)
{
    return !memcmp(a.ea, b.ea, sizeof a.ea);
}

/* Returns true if 'text' (a MAC as acl.c keeps it) is 'mac'. */
static bool
ref_mac_is(const char *text, struct eth_addr mac)
{
    unsigned int b[6];

    if (sscanf(text, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
               &b[5]) != 6) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        if (b[i] != mac.ea[i]) {
            return false;
        }
    }
    return true;
}

/* Returns true if the 'len'-byte address 'addr' is within 'text', "ADDR"
 * or "ADDR/MASK" with MASK an address or a prefix length. */
static bool
ref_address_has(const char *text, const uint8_t *addr, size_t len)
{
    int af = len == 4 ? AF_INET : AF_INET6;
    char copy[128];
    uint8_t want[16], mask[16];

    snprintf(copy, sizeof copy, "%s", text);
    char *slash = strchr(copy, '/');
    if (slash) {
        *slash++ = '\0';
    }
    if (inet_pton(af, copy, want) != 1) {
        return false;           /* The other family. */
    }
    memset(mask, 0xff, sizeof mask);
    if (slash && strspn(slash, "0123456789") == strlen(slash)) {
        int bits = atoi(slash);
        for (size_t i = 0; i < len; i++, bits -= 8) {
            mask[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : 0xff << (8 - bits);
        }
    } else if (slash && inet_pton(af, slash, mask) != 1) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if ((addr[i] & mask[i]) != (want[i] & mask[i])) {
            return false;
        }
    }
    return true;
}

static bool
ref_in_range(const struct acl_range *r, ovs_be16 port)
{
    return r->min < 0 || (ntohs(port) >= r->min && ntohs(port) <= r->max);
}

/* Returns true if entry 'e' matches frame 'f', column by column. */
static bool
ref_entry_matches(const struct acl_entry *e, const struct flow *f)
{
    uint16_t type = ntohs(f->dl_type);
    bool v4 = type == REF_ETH_IPV4, v6 = type == REF_ETH_IPV6;

    if ((e->source_mac && !ref_mac_is(e->source_mac, f->dl_src))
        || (e->dest_mac && !ref_mac_is(e->dest_mac, f->dl_dst))
        || (e->ethertype >= 0 && e->ethertype != type)) {
        return false;
    }
    switch (e->family) {
    case ACL_FAMILY_ANY:
        break;
    case ACL_FAMILY_IPV4:
        if (!v4) {
            return false;
        }
        break;
    case ACL_FAMILY_IPV6:
        if (!v6) {
            return false;
        }
        break;
    case ACL_FAMILY_IP:
        if (!v4 && !v6) {
            return false;
        }
        break;
    }
    for (int k = 0; k < 2; k++) {
        const char *ip = k ? e->dest_ip : e->source_ip;
        if (!ip) {
            continue;
        }
        bool in = (v4 ? ref_address_has(ip, (const uint8_t *) (k ? &f->nw_dst
                                                              : &f->nw_src),
                                        4)
                   : v6 ? ref_address_has(ip, (k ? f->ipv6_dst
                                               : f->ipv6_src).s6_addr, 16)
                   : false);
        if (!in) {
            return false;
        }
    }
    if (e->protocol >= 0 && ((!v4 && !v6) || f->nw_proto != e->protocol)) {
        return false;
    }
    if (!ref_in_range(&e->source_ports, f->tp_src)
        || !ref_in_range(&e->dest_ports, f->tp_dst)) {
        return false;
    }
    if (e->tcp_flags >= 0
        && (ntohs(f->tcp_flags) & e->tcp_flags_mask) != e->tcp_flags) {
        return false;
    }
    if ((e->icmp_type >= 0 && ntohs(f->tp_src) != e->icmp_type)
        || (e->icmp_code >= 0 && ntohs(f->tp_dst) != e->icmp_code)) {
        return false;
    }
    return true;
}

/* Returns true if 'acl' permits 'f' in direction 'ingress': its first
 * entry (in its order) that matches decides; no match permits; entries
 * beyond the priority space are not applied, and what the others do not
 * decide is denied. */
static bool
ref_acl_permits(const struct xlate_acl_effect *acl, bool ingress,
                const struct flow *f)
{
    bool beyond = false;

    if (acl->deny_all) {
        return false;
    }
    for (size_t i = 0; i < acl->n; i++) {
        const struct acl_entry *e = &acl->entries[i];
        if (e->ingress != ingress) {
            continue;
        } else if (acl->priorities[i] < 0) {
            beyond = true;
        } else if (ref_entry_matches(e, f)) {
            return e->permit;
        }
    }
    return !beyond;
}

/* The controller's table 0, for 'f' from 'port' in OpenFlow mode: the
 * flow of the highest priority whose match (OpenFlow's, read by
 * libopenvswitch) the frame meets, as it enters the table on the port with
 * metadata 0, decides.  Returns the destination it outputs the frame to,
 * or NULL with the fate in 'v'. */
static const struct xlate_offload_dest *
ref_openflow_table0(const struct xlate_offload_port *port,
                    const struct flow *f, struct reference_verdict *v)
{
    const struct xlate_offload_flow *hit = NULL;
    struct flow frame = *f;

    frame.in_port.ofp_port = (OVS_FORCE ofp_port_t) port->ofport;
    frame.metadata = 0;
    for (size_t i = 0; i < port->n_flows; i++) {
        const struct xlate_offload_flow *pf = &port->flows[i];
        if (hit && pf->priority < hit->priority) {
            break;
        } else if (!minimatch_matches_flow(pf->match, &frame)) {
            continue;
        } else if (!hit) {
            hit = pf;
        } else if (pf->fate != hit->fate
                   || (pf->fate == XLATE_OFFLOAD_OUTPUT
                       && pf->dest != hit->dest)) {
            v->why = "two flows of one priority with different fates: "
                     "OVS picks one";
            return NULL;
        }
    }
    if (!hit) {
        v->why = "no flow of the controller's table 0";
        return NULL;
    }
    switch (hit->fate) {
    case XLATE_OFFLOAD_DROP:
        v->fate = REFERENCE_DROP;
        v->why = "the controller's table 0: drop";
        return NULL;
    case XLATE_OFFLOAD_OUTPUT:
        return &port->dests[hit->dest];
    case XLATE_OFFLOAD_OTHER:
    default:
        v->why = "the controller's table 0: not a drop or one output";
        return NULL;
    }
}

/* Stores in 'v' the fate of frame 'f' from 'port'. */
void
reference_evaluate(const struct xlate_offload_port *port,
                   const struct flow *f, struct reference_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->fate = REFERENCE_OTHER;

    if (f->vlans[0].tci & htons(FP_VLAN_CFI)) {
        v->why = "tagged: the port's VLAN bindings decide";
        return;
    }
    if (port->acl.unknown) {
        v->why = "ingress ACL known only as flows";
        return;
    }

    /* Anti-spoofing. */
    if (!ref_mac_equal(f->dl_src, port->mac)) {
        v->fate = REFERENCE_DROP;
        v->why = "anti-spoofing: source MAC";
        return;
    }
    if (f->dl_type == htons(REF_ETH_IPV4) && port->check_ipv4) {
        bool ok = false;
        for (size_t i = 0; i < port->n_ipv4 && !ok; i++) {
            ok = f->nw_src == port->ipv4[i];
        }
        bool dhcp = (!f->nw_src && f->nw_dst == OVS_BE32_MAX
                     && f->nw_proto == 17 && f->tp_src == htons(68)
                     && f->tp_dst == htons(67));
        if (!ok && !dhcp) {
            v->fate = REFERENCE_DROP;
            v->why = "anti-spoofing: source IPv4 address";
            return;
        }
    }

    /* A fragment's fate is its datagram's, which OVS decides once it has
     * them all (agent/pipeline.c): no one fragment says it. */
    if (f->nw_frag & FLOW_NW_FRAG_ANY) {
        v->why = "a fragment: OVS reassembles its datagram, which decides";
        return;
    }

    /* The ingress ACL. */
    if (!ref_acl_permits(&port->acl, true, f)) {
        v->fate = REFERENCE_DROP;
        v->why = "ingress ACL";
        return;
    }
    if (f->dl_type != htons(REF_ETH_IPV4)) {
        v->why = "not IPv4: its anti-spoofing is not modelled";
        return;
    }

    const struct xlate_offload_dest *dest = NULL;
    if (port->openflow) {
        dest = ref_openflow_table0(port, f, v);
        if (!dest) {
            return;
        }
        goto egress;
    }

    /* L2. */
    if (f->dl_dst.ea[0] & 1) {     /* Multicast or broadcast. */
        v->why = "flooded";
        return;
    }
    for (size_t i = 0; i < port->n_dests && !dest; i++) {
        if (ref_mac_equal(port->dests[i].mac, f->dl_dst)) {
            dest = &port->dests[i];
        }
    }
    if (!dest) {
        /* A local port's MAC comes first, as in the pipeline. */
        for (size_t i = 0; i < port->n_remotes; i++) {
            if (ref_mac_equal(port->remotes[i].mac, f->dl_dst)) {
                v->fate = REFERENCE_TUNNEL;
                v->out_port = port->remotes[i].tunnel_ofport;
                v->why = "a remote MAC: its tunnel, no egress ACL here";
                return;
            }
        }
        v->why = "destination neither a local VM port nor a remote MAC";
        return;
    }

    /* The destination's egress ACL. */
egress:
    if (dest->acl.unknown) {
        v->why = "egress ACL known only as flows";
        return;
    }
    if (!ref_acl_permits(&dest->acl, false, f)) {
        v->fate = REFERENCE_DROP;
        v->why = "egress ACL";
        return;
    }
    v->fate = REFERENCE_FORWARD;
    v->out_port = dest->out_port;
    v->why = "delivered";
}

/* Returns true if the fast path's decision 'e' (an entry that drops or
 * forwards) gives the frame the fate 'v' says: the same drop, or a forward
 * to the same port. */
bool
reference_agrees(const struct reference_verdict *v, const struct fp_entry *e)
{
    return (e->fate == FP_DROP
            ? v->fate == REFERENCE_DROP
            : (e->fate == FP_FORWARD && v->fate == REFERENCE_FORWARD
               && v->out_port == e->out_port));
}
