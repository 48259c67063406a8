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

#ifndef IOVP_AGENT_XLATE_OFFLOAD_H
#define IOVP_AGENT_XLATE_OFFLOAD_H 1

/* Translation of one VM port's pipeline into the single table of rules the
 * offload planner takes (offload/planner.h).
 *
 * For frames from the port, untagged, the pipeline is: anti-spoofing
 * (table 0), the port's ingress ACL (table 10), the L2 lookup (table 30)
 * and the destination's egress ACL (table 40).  Flattened, in first-match
 * order:
 *
 *   for each ingress entry, by priority (then "no entry matched", which
 *   permits):
 *     deny:    the entry's frames                           -> drop
 *     permit:  for each local destination D, for each of D's egress
 *              entries (then "none matched"):
 *                the entry's frames, admitted by anti-spoofing (IPv4 from
 *                the port's MAC and, if it has any, its IPv4 addresses),
 *                to D's MAC, in the egress entry           -> drop or D
 *              the entry's other frames                     -> to OVS
 *
 * A "cold" destination, one that the port has sent nothing to lately, has
 * no rules: its frames take the ingress entry's last rule, to OVS.  That
 * keeps the rules of a port in proportion to its traffic, not to the
 * product of its ingress entries, its destinations and their egress
 * entries (agent/xlate-nic.c says which destinations are cold).
 *
 * Each rule's weight is its ingress entry's traffic in OVS (the port's
 * share of it, as 'acl.weights' says: the ACLs' flows are shared by every
 * port bound to the ACL), split evenly among the entry's value/mask pairs,
 * and among the destinations that are not cold in proportion to their
 * 'traffic' (the ACLs' flows carry no destination).
 *
 * A port in OpenFlow mode has the controller's table 0 in place of the L2
 * lookup and its destinations' MACs: under each permitting ingress entry,
 * for each of the controller's flows in its order, the entry's admitted
 * frames that the flow matches are dropped (a flow without actions), go
 * through the egress ACL of the one destination the flow outputs to, or
 * go to OVS (anything else); see xo_openflow_port() for its priorities.
 *
 * Above all of it, the port's "punts" go to OVS: the frames that a load
 * balancer NATs, which the fast path cannot.
 *
 * A frame with a VLAN tag is matched by no rule, so it goes to OVS (whose
 * per-VLAN bindings decide it); so does everything the fast path does not
 * do: ARP, IPv6, flooding, tunnels, a destination with a VLAN tag.  A
 * rule's priority is the ingress entry's OpenFlow priority in its high 16
 * bits and the egress entry's in its low 16 bits, so that both orders hold
 * and an entry added or removed changes only its own rules.  A rule's id
 * is a hash of what it is (priority, match, fate), stable from one plan to
 * the next. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openvswitch/types.h>

#include "agent/xlate-acl.h"

struct acl_entry;
struct fp_match;
struct minimatch;
struct planner_rule;

struct xlate_offload_dest {
    struct eth_addr mac;
    uint32_t out_port;          /* The backend's name for it. */
    struct xlate_acl_effect acl;   /* Its egress ACL, if 'acl.entries'
                                     * or 'acl.deny_all'. */
    bool cold;                  /* No traffic toward it from the port
                                 * lately: no rule of its own (see
                                 * below). */
    double traffic;             /* The frames OVS counted to it: the split
                                 * of the port's traffic among its
                                 * destinations (0 for every one: even). */
};

/* A remote MAC of the port's logical switch, behind a tunnel: the fast
 * path decides nothing toward it (encapsulation stays in OVS), but the
 * reference model (agent/reference.h) knows it. */
struct xlate_offload_remote {
    struct eth_addr mac;
    int tunnel_ofport;          /* The tunnel's OpenFlow port. */
};

/* What a flow of the OpenFlow controller's table 0 does with a frame. */
enum xlate_offload_fate {
    XLATE_OFFLOAD_DROP,
    XLATE_OFFLOAD_OUTPUT,       /* To a local destination, and nothing
                                 * else. */
    XLATE_OFFLOAD_OTHER,        /* Anything else: OVS's. */
};

/* A flow of the controller's table 0, for a port in OpenFlow mode. */
struct xlate_offload_flow {
    const struct minimatch *match;  /* As the bridge holds it. */
    uint16_t priority;
    enum xlate_offload_fate fate;
    size_t dest;                /* XLATE_OFFLOAD_OUTPUT: in 'dests'. */
};

struct xlate_offload_port {
    struct eth_addr mac;
    bool check_ipv4;            /* Anti-spoofing checks IPv4 sources... */
    const ovs_be32 *ipv4;       /* ...against these. */
    size_t n_ipv4;
    struct xlate_acl_effect acl;   /* Its ingress ACL. */
    const struct xlate_offload_dest *dests;
    size_t n_dests;
    const struct xlate_offload_remote *remotes;
    size_t n_remotes;

    /* Frames that go to OVS whatever else would apply: those a load
     * balancer must NAT (agent/xlate-lb.h). */
    const struct fp_match *punts;
    size_t n_punts;

    /* A port in OpenFlow mode: the controller's table 0 (its flows, in
     * descending priority) takes the place of the L2 lookup, for frames
     * that come in on OpenFlow port 'ofport' with metadata 0; its
     * outputs go through the destination's egress ACL.  'remotes' is
     * empty. */
    bool openflow;
    int ofport;
    const struct xlate_offload_flow *flows;
    size_t n_flows;
};

/* Where a rule came from: indexes into the port's ingress ACL entries, its
 * destinations, and that destination's egress ACL entries; -1 for none
 * (no entry matched, no destination). */
struct xlate_offload_origin {
    int ingress;
    int dest;
    int egress;
    int flow;                   /* In 'flows' (OpenFlow mode), or -1. */
};

void xlate_offload_port(const struct xlate_offload_port *,
                        struct planner_rule **rulesp, size_t *n,
                        struct xlate_offload_origin **originsp);

char *xlate_offload_parse_match(const char *text, struct fp_match *,
                                bool *fp_ok);

#endif /* agent/xlate-offload.h */
