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

#ifndef IOVP_AGENT_OVERLAY_H
#define IOVP_AGENT_OVERLAY_H 1

/* The overlay as hardware_vtep's controller writes it, read from the
 * models (pure: no I/O): the logical switches on the overlay with their
 * VNIs, the remote VTEPs (locators) and the VXLAN port that OVS has for
 * each, the remote MACs, and the set of VTEPs that gets each switch's
 * broadcast, unknown unicast and multicast ("unknown-dst"), and that of
 * each multicast MAC with a row of its own.
 *
 * A logical switch is on the overlay when its tunnel_key is set and not 0
 * (OVN writes 0 on every switch it does not use), and no other switch has
 * the same key (both are then faults, and neither is on the overlay).  A
 * locator is a remote VTEP when its encapsulation is "vxlan_over_ipv4"
 * and its dst_ip an IPv4 address other than this host's tunnel address;
 * any other is ignored, and logged once.
 *
 * BFD runs on a tunnel when its Tunnel row (of this host's Physical_Switch,
 * toward the VTEP) says bfd_params:enable=true; replication to a service
 * node then takes the first VTEP (by address) whose BFD says forwarding,
 * or the first if none does. */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include <openvswitch/hmap.h>
#include <openvswitch/packets.h>
#include <openvswitch/shash.h>

struct hwvtep_tunnel;
struct odb_idl;

/* A remote VTEP, and the VXLAN port on the integration bridge that leads
 * to it. */
struct overlay_tunnel {
    struct hmap_node node;      /* In 'overlay->tunnels', by 'ip'. */
    char ip[16];                /* dst_ip, dotted quad. */
    char port[16];              /* The OVS port's name: "vx" and the
                                 * address in hex. */
    int ofport;                 /* Its OpenFlow port: OVS's, or the one
                                 * iovpd asks for (or asked for, before
                                 * OVS has made it), or -1 if none. */

    /* BFD.  'tunnel' is this switch's Tunnel row toward the VTEP, or NULL;
     * 'bfd' the Interface "bfd" column that its bfd_params and addresses
     * ask for (empty: BFD off); 'bfd_status' the Interface's "bfd_status"
     * column as OVS reports it (empty when OVS has none); 'forwarding'
     * false only when BFD is on and does not say "forwarding". */
    const struct hwvtep_tunnel *tunnel;
    json_t *bfd;
    json_t *bfd_status;
    bool forwarding;
};

/* A remote MAC of a logical switch. */
struct overlay_mac {
    char mac[18];               /* xx:xx:xx:xx:xx:xx, lower case. */
    struct eth_addr ea;         /* The same. */
    const struct overlay_tunnel *tunnel;
};

/* The remote VTEPs of a Mcast_Macs_Remote row's locator set. */
struct overlay_set {
    const struct overlay_tunnel **tunnels;  /* Sorted by address. */
    size_t n;
    size_t allocated;           /* Private. */
};

/* A multicast MAC of a logical switch with a Mcast_Macs_Remote row of its
 * own (every other goes where "unknown-dst" goes). */
struct overlay_mcast {
    char mac[18];               /* xx:xx:xx:xx:xx:xx, lower case. */
    struct eth_addr ea;         /* The same. */
    struct overlay_set set;
};

/* A logical switch on the overlay. */
struct overlay_switch {
    char *name;
    uint32_t vni;
    bool source_node;           /* replication_mode "source_node". */
    struct overlay_mac *macs;   /* Sorted by MAC. */
    size_t n_macs;
    struct overlay_set flood;   /* "unknown-dst". */
    struct overlay_mcast *mcasts;   /* Sorted by MAC. */
    size_t n_mcasts;
    size_t allocated_macs, allocated_mcasts;    /* Private. */
};

/* The OpenFlow ports that iovpd asks OVS for its tunnels' ports. */
#define OVERLAY_OFPORT_MIN 0xe000
#define OVERLAY_OFPORT_MAX 0xfeff   /* OFPP_MAX - 1. */

struct overlay {
    struct hmap tunnels;        /* "struct overlay_tunnel"s. */
    struct shash switches;      /* Name to "struct overlay_switch". */
    json_t *faults;             /* {LOGICAL-SWITCH: [TOKEN, ...]} */
};

void overlay_init(struct overlay *);
void overlay_destroy(struct overlay *);
void overlay_read(struct overlay *, const struct overlay *prev,
                  const struct odb_idl *vtep, const struct odb_idl *ovs,
                  const char *switch_name, const char *bridge,
                  const char *tunnel_ip);

const struct overlay_tunnel *overlay_find_tunnel(const struct overlay *,
                                                 const char *ip);
const struct overlay_tunnel **overlay_sorted_tunnels(const struct overlay *,
                                                    size_t *n);
const struct overlay_tunnel *overlay_lookup_tunnel(const struct overlay *,
                                                   const char *name);
const struct overlay_switch *overlay_find_switch(const struct overlay *,
                                                 const char *name);
bool overlay_switch_equal(const struct overlay_switch *,
                          const struct overlay_switch *);
void overlay_diff(const struct overlay *old, const struct overlay *new,
                  struct shash *switches);
bool overlay_same_tunnels(const struct overlay *, const struct overlay *);

#endif /* agent/overlay.h */
