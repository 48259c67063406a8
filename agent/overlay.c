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

#include "agent/overlay.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "model/vswitch-idl.h"
#include "model/vtep-idl.h"
#include "ovsdb/idl.h"

/* The largest VNI: VXLAN's is 24 bits. */
#define OVERLAY_MAX_VNI 0xffffff

void
overlay_init(struct overlay *o)
{
    hmap_init(&o->tunnels);
    shash_init(&o->switches);
    o->faults = json_object();
}

void
overlay_destroy(struct overlay *o)
{
    struct overlay_tunnel *tunnel;
    struct shash_node *node;

    HMAP_FOR_EACH_POP (tunnel, node, &o->tunnels) {
        json_decref(tunnel->bfd);
        json_decref(tunnel->bfd_status);
        free(tunnel);
    }
    hmap_destroy(&o->tunnels);
    SHASH_FOR_EACH (node, &o->switches) {
        struct overlay_switch *sw = node->data;
        free(sw->name);
        free(sw->macs);
        free(sw->flood.tunnels);
        for (size_t i = 0; i < sw->n_mcasts; i++) {
            free(sw->mcasts[i].set.tunnels);
        }
        free(sw->mcasts);
        free(sw);
    }
    shash_destroy(&o->switches);
    json_decref(o->faults);
}

static void OVS_PRINTF_FORMAT(2, 3)
overlay_fault(struct overlay *o, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    char *text = iovp_xvasprintf(format, args);
    va_end(args);
    json_object_set_new(o->faults, text, json_true());
    free(text);
}

/* A map from a row of the model to what a reading made of it, so that
 * each locator and logical switch is looked at once however many remote
 * MACs name it. */
struct overlay_memo {
    struct hmap_node node;
    const void *row;
    const void *value;          /* NULL: nothing (a row not to use). */
};

static uint32_t
overlay_memo_hash(const void *row)
{
    return (uint32_t) ((uintptr_t) row >> 4) * 2654435761u;
}

/* Returns true, with '*value' what 'memo' holds for 'row', if it holds
 * anything for it. */
static bool
overlay_memo_get(const struct hmap *memo, const void *row,
                 const void **value)
{
    const struct overlay_memo *m;

    HMAP_FOR_EACH_WITH_HASH (m, node, overlay_memo_hash(row), memo) {
        if (m->row == row) {
            *value = m->value;
            return true;
        }
    }
    return false;
}

static void
overlay_memo_put(struct hmap *memo, const void *row, const void *value)
{
    struct overlay_memo *m = iovp_xmalloc(sizeof *m);

    m->row = row;
    m->value = value;
    hmap_insert(memo, &m->node, overlay_memo_hash(row));
}

static void
overlay_memo_destroy(struct hmap *memo)
{
    struct overlay_memo *m;

    HMAP_FOR_EACH_POP (m, node, memo) {
        free(m);
    }
    hmap_destroy(memo);
}

const struct overlay_tunnel *
overlay_find_tunnel(const struct overlay *o, const char *ip)
{
    const struct overlay_tunnel *tunnel;

    HMAP_FOR_EACH_WITH_HASH (tunnel, node, iovp_hash_string64(ip),
                             &o->tunnels) {
        if (!strcmp(tunnel->ip, ip)) {
            return tunnel;
        }
    }
    return NULL;
}

/* Returns the tunnel whose OVS port is called 'name', or whose remote VTEP
 * is at 'name', or NULL. */
const struct overlay_tunnel *
overlay_lookup_tunnel(const struct overlay *o, const char *name)
{
    const struct overlay_tunnel *tunnel = overlay_find_tunnel(o, name);

    if (tunnel) {
        return tunnel;
    }
    HMAP_FOR_EACH (tunnel, node, &o->tunnels) {
        if (!strcmp(tunnel->port, name)) {
            return tunnel;
        }
    }
    return NULL;
}

const struct overlay_switch *
overlay_find_switch(const struct overlay *o, const char *name)
{
    return shash_find_data(&o->switches, name);
}

/* Returns a new reference to the Interface "bfd" column that Tunnel row
 * 't' (or NULL) asks for: its bfd_params, with check_tnl_key, and its
 * addresses (bfd_config_local's and bfd_config_remote's), when
 * bfd_params:enable is true; else empty. */
static json_t *
overlay_tunnel_bfd(const struct hwvtep_tunnel *t)
{
    static const char *const params[] = {
        "enable", "min_rx", "min_tx", "decay_min_rx", "forwarding_if_rx",
        "cpath_down",
    };
    json_t *bfd = json_object();
    const char *enable = (t ? odb_idl_map_get(t->key_bfd_params,
                                              t->value_bfd_params,
                                              t->n_bfd_params, "enable")
                          : NULL);

    if (!enable || strcmp(enable, "true")) {
        return bfd;
    }
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(params); i++) {
        const char *value = odb_idl_map_get(t->key_bfd_params,
                                            t->value_bfd_params,
                                            t->n_bfd_params, params[i]);
        if (value) {
            json_object_set_new(bfd, params[i], json_string(value));
        }
    }
    json_object_set_new(bfd, "check_tnl_key", json_string("true"));

    /* The addresses: what the remote VTEP sends to (ours), and what we
     * send to (its). */
    const char *value;
    value = odb_idl_map_get(t->key_bfd_config_local,
                            t->value_bfd_config_local,
                            t->n_bfd_config_local, "bfd_dst_mac");
    if (value) {
        json_object_set_new(bfd, "bfd_local_dst_mac", json_string(value));
    }
    value = odb_idl_map_get(t->key_bfd_config_remote,
                            t->value_bfd_config_remote,
                            t->n_bfd_config_remote, "bfd_dst_mac");
    if (value) {
        json_object_set_new(bfd, "bfd_remote_dst_mac", json_string(value));
    }
    value = odb_idl_map_get(t->key_bfd_config_remote,
                            t->value_bfd_config_remote,
                            t->n_bfd_config_remote, "bfd_dst_ip");
    if (value) {
        json_object_set_new(bfd, "bfd_dst_ip", json_string(value));
    }
    return bfd;
}

/* Returns a new reference to the map of 'keys' and 'values' (n of them)
 * as a JSON object. */
static json_t *
overlay_map(char *const *keys, char *const *values, size_t n)
{
    json_t *map = json_object();

    for (size_t i = 0; i < n; i++) {
        json_object_set_new(map, keys[i], json_string(values[i]));
    }
    return map;
}

/* Returns the Tunnel row of 'ps' (or NULL) toward 'ip', or NULL. */
static const struct hwvtep_tunnel *
overlay_find_tunnel_row(const struct hwvtep_physical_switch *ps,
                        const char *ip)
{
    for (size_t i = 0; ps && i < ps->n_tunnels; i++) {
        const struct hwvtep_tunnel *t = ps->tunnels[i];
        if (t->remote && !strcmp(t->remote->dst_ip, ip)) {
            return t;
        }
    }
    return NULL;
}

/* Returns the OpenFlow port of 'iface', a VXLAN interface that iovpd
 * made: the one OVS gave it, or before OVS has given it one, the one iovpd
 * asked for (bridge.c), so that its flows need not wait for OVS to make
 * the port (OVS takes flows toward a port that does not exist yet); -1
 * when OVS could not make it. */
static int
overlay_iface_ofport(const struct vswitch_interface *iface)
{
    int64_t ofport = (iface->n_ofport ? iface->ofport[0]
                      : iface->n_ofport_request ? iface->ofport_request[0]
                      : -1);

    return ofport > 0 && ofport < 0xff00 ? ofport : -1;
}

/* Returns the tunnel to the VTEP of 'loc', made if it is new, or NULL if
 * 'loc' is not a remote VXLAN VTEP (reported in 'o->faults').  'ps' is
 * this host's Physical_Switch, or NULL; 'ifaces' the bridge's VXLAN
 * interfaces that iovpd made, by name. */
static const struct overlay_tunnel *
overlay_tunnel(struct overlay *o, const struct hwvtep_physical_locator *loc,
               const char *tunnel_ip,
               const struct hwvtep_physical_switch *ps,
               const struct shash *ifaces)
{
    struct in_addr addr;

    if (!loc) {
        return NULL;
    } else if (strcmp(loc->encapsulation_type, "vxlan_over_ipv4")) {
        overlay_fault(o, "locator %s: encapsulation \"%s\" is not "
                      "vxlan_over_ipv4: ignored", loc->header_.uuid,
                      loc->encapsulation_type);
        return NULL;
    } else if (inet_pton(AF_INET, loc->dst_ip, &addr) != 1) {
        overlay_fault(o, "locator %s: \"%s\" is not an IPv4 address: "
                      "ignored", loc->header_.uuid, loc->dst_ip);
        return NULL;
    } else if (tunnel_ip && !strcmp(loc->dst_ip, tunnel_ip)) {
        /* This host itself. */
        return NULL;
    }

    char ip[16];
    inet_ntop(AF_INET, &addr, ip, sizeof ip);
    const struct overlay_tunnel *found = overlay_find_tunnel(o, ip);
    if (found) {
        return found;
    }

    struct overlay_tunnel *tunnel = iovp_xzalloc(sizeof *tunnel);
    snprintf(tunnel->ip, sizeof tunnel->ip, "%s", ip);
    snprintf(tunnel->port, sizeof tunnel->port, "vx%08x",
             (unsigned int) ntohl(addr.s_addr));
    const struct vswitch_interface *iface = shash_find_data(ifaces,
                                                            tunnel->port);
    tunnel->ofport = iface ? overlay_iface_ofport(iface) : -1;
    tunnel->tunnel = overlay_find_tunnel_row(ps, ip);
    tunnel->bfd = overlay_tunnel_bfd(tunnel->tunnel);
    tunnel->bfd_status = (iface
                          ? overlay_map(iface->key_bfd_status,
                                        iface->value_bfd_status,
                                        iface->n_bfd_status)
                          : json_object());
    const char *forwarding = (iface
                              ? odb_idl_map_get(iface->key_bfd_status,
                                                iface->value_bfd_status,
                                                iface->n_bfd_status,
                                                "forwarding")
                              : NULL);
    tunnel->forwarding = (!json_object_size(tunnel->bfd)
                          || (forwarding && !strcmp(forwarding, "true")));
    hmap_insert(&o->tunnels, &tunnel->node, iovp_hash_string64(ip));
    return tunnel;
}

/* overlay_tunnel() for 'loc', once for each locator: 'memo' keeps what
 * it returned. */
static const struct overlay_tunnel *
overlay_tunnel_memo(struct overlay *o, struct hmap *memo,
                    const struct hwvtep_physical_locator *loc,
                    const char *tunnel_ip,
                    const struct hwvtep_physical_switch *ps,
                    const struct shash *ifaces)
{
    const void *tunnel;

    if (!overlay_memo_get(memo, loc, &tunnel)) {
        tunnel = overlay_tunnel(o, loc, tunnel_ip, ps, ifaces);
        overlay_memo_put(memo, loc, tunnel);
    }
    return tunnel;
}

/* Stores in 'ifaces' (names to "const struct vswitch_interface *") each
 * VXLAN interface on 'bridge' that iovpd made, and marks in 'used' (from
 * OVERLAY_OFPORT_MIN on) each OpenFlow port from there up that an
 * interface of 'bridge' has or has asked for. */
static void
overlay_read_ifaces(const struct odb_idl *ovs, const char *bridge,
                    struct shash *ifaces, bool *used)
{
    const struct vswitch_bridge *br;

    br = vswitch_bridge_find_by_string(ovs, VSWITCH_BRIDGE_COL_NAME, bridge);
    for (size_t i = 0; br && i < br->n_ports; i++) {
        const struct vswitch_port *port = br->ports[i];

        for (size_t j = 0; j < port->n_interfaces; j++) {
            const struct vswitch_interface *iface = port->interfaces[j];
            if (!strcmp(iface->type, "vxlan")
                && odb_idl_map_get(iface->key_external_ids,
                                   iface->value_external_ids,
                                   iface->n_external_ids, "iovp-tunnel")) {
                shash_replace(ifaces, iface->name, iface);
            }
            int64_t ofports[2] = {
                iface->n_ofport ? iface->ofport[0] : -1,
                iface->n_ofport_request ? iface->ofport_request[0] : -1,
            };
            for (size_t k = 0; k < 2; k++) {
                if (ofports[k] >= OVERLAY_OFPORT_MIN
                    && ofports[k] <= OVERLAY_OFPORT_MAX) {
                    used[ofports[k] - OVERLAY_OFPORT_MIN] = true;
                }
            }
        }
    }
}

/* By MAC. */
static int
overlay_mcast_compare(const void *a_, const void *b_)
{
    const struct overlay_mcast *a = a_, *b = b_;

    return memcmp(a->ea.ea, b->ea.ea, sizeof a->ea.ea);
}

/* By address. */
static int
overlay_tunnel_compare(const void *a_, const void *b_)
{
    const struct overlay_tunnel *const *a = a_, *const *b = b_;

    return strcmp((*a)->ip, (*b)->ip);
}

/* Returns the tunnels of 'o' by address, in a malloc()'d array of '*n'. */
const struct overlay_tunnel **
overlay_sorted_tunnels(const struct overlay *o, size_t *n)
{
    const struct overlay_tunnel **sorted = iovp_xmalloc(
        MAX(1, hmap_count(&o->tunnels)) * sizeof *sorted);
    const struct overlay_tunnel *tunnel;

    *n = 0;
    HMAP_FOR_EACH (tunnel, node, &o->tunnels) {
        sorted[(*n)++] = tunnel;
    }
    qsort(sorted, *n, sizeof *sorted, overlay_tunnel_compare);
    return sorted;
}

/* Gives each tunnel of 'o' that has no interface in 'ifaces' yet the
 * OpenFlow port that iovpd will ask OVS for when it makes the port
 * (bridge.c): the one 'prev' (the last reading, or NULL) gave it, so that
 * a choice stands while its port is being made, if no interface has taken
 * it since; otherwise, by address, the first not in 'used' from
 * OVERLAY_OFPORT_MIN up, far above what OVS gives the VMs' ports (from 1
 * up).  Marks each choice in 'used'.  Its flows then need not wait for the
 * port: OVS takes flows toward a port that does not exist yet. */
static void
overlay_assign_ofports(struct overlay *o, const struct overlay *prev,
                       const struct shash *ifaces, bool *used)
{
    size_t n;
    const struct overlay_tunnel **sorted = overlay_sorted_tunnels(o, &n);
    int next = OVERLAY_OFPORT_MIN;

    for (size_t i = 0; i < n; i++) {
        const struct overlay_tunnel *old = (prev
                                            ? overlay_find_tunnel(
                                                prev, sorted[i]->ip)
                                            : NULL);
        if (!shash_find(ifaces, sorted[i]->port) && old
            && old->ofport >= OVERLAY_OFPORT_MIN
            && old->ofport <= OVERLAY_OFPORT_MAX
            && !used[old->ofport - OVERLAY_OFPORT_MIN]) {
            used[old->ofport - OVERLAY_OFPORT_MIN] = true;
            CONST_CAST(struct overlay_tunnel *, sorted[i])->ofport
                = old->ofport;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (shash_find(ifaces, sorted[i]->port) || sorted[i]->ofport >= 0) {
            continue;
        }
        while (next <= OVERLAY_OFPORT_MAX && used[next - OVERLAY_OFPORT_MIN]) {
            next++;
        }
        if (next <= OVERLAY_OFPORT_MAX) {
            used[next - OVERLAY_OFPORT_MIN] = true;
            CONST_CAST(struct overlay_tunnel *, sorted[i])->ofport = next;
        }
    }
    free(sorted);
}

/* Returns the value of hexadecimal digit 'c', or -1. */
static int
overlay_hex(char c)
{
    return (c >= '0' && c <= '9' ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : -1);
}

/* Stores in 'mac' the MAC 's' (xx:xx:xx:xx:xx:xx) in lower case, and in
 * 'ea' its bytes, if it is one.  (Called for every remote MAC on each
 * reading: no sscanf.) */
static bool
overlay_parse_mac(const char *s, char mac[18], struct eth_addr *ea)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < 6; i++) {
        int hi = overlay_hex(s[3 * i]);
        int lo = hi < 0 ? -1 : overlay_hex(s[3 * i + 1]);
        if (lo < 0 || s[3 * i + 2] != (i < 5 ? ':' : '\0')) {
            return false;
        }
        ea->ea[i] = hi << 4 | lo;
        mac[3 * i] = digits[hi];
        mac[3 * i + 1] = digits[lo];
        mac[3 * i + 2] = i < 5 ? ':' : '\0';
    }
    return true;
}

/* By MAC (the order of 'mac', whose digits are lower case), then by
 * tunnel address. */
static int
overlay_mac_compare(const void *a_, const void *b_)
{
    const struct overlay_mac *a = a_, *b = b_;
    int cmp = memcmp(a->ea.ea, b->ea.ea, sizeof a->ea.ea);

    return cmp ? cmp : strcmp(a->tunnel->ip, b->tunnel->ip);
}

/* The logical switches on the overlay (see overlay.h). */
static void
overlay_read_switches(struct overlay *o, const struct odb_idl *vtep)
{
    const struct hwvtep_logical_switch *ls;
    struct shash keys = SHASH_INITIALIZER(&keys);

    HWVTEP_LOGICAL_SWITCH_FOR_EACH (ls, vtep) {
        if (ls->n_tunnel_key && ls->tunnel_key[0]) {
            char key[32];
            snprintf(key, sizeof key, "%"PRId64, ls->tunnel_key[0]);
            uintptr_t n = (uintptr_t) shash_find_data(&keys, key);
            shash_replace(&keys, key, (void *) (n + 1));
        }
    }
    HWVTEP_LOGICAL_SWITCH_FOR_EACH (ls, vtep) {
        if (!ls->n_tunnel_key || !ls->tunnel_key[0]) {
            continue;
        }
        int64_t vni = ls->tunnel_key[0];
        char key[32];
        snprintf(key, sizeof key, "%"PRId64, vni);
        if ((uintptr_t) shash_find_data(&keys, key) > 1) {
            overlay_fault(o, "logical switch %s: tunnel_key %"PRId64" is "
                          "another switch's too: not on the overlay",
                          ls->name, vni);
            continue;
        } else if (vni < 0 || vni > OVERLAY_MAX_VNI) {
            overlay_fault(o, "logical switch %s: tunnel_key %"PRId64" is "
                          "not a VNI (0 to %d): not on the overlay",
                          ls->name, vni, OVERLAY_MAX_VNI);
            continue;
        } else if (shash_find(&o->switches, ls->name)) {
            /* Two switches of one name: the ports' reading reports it. */
            continue;
        }

        struct overlay_switch *sw = iovp_xzalloc(sizeof *sw);
        sw->name = iovp_xstrdup(ls->name);
        sw->vni = vni;
        sw->source_node = (ls->replication_mode
                           && !strcmp(ls->replication_mode, "source_node"));
        shash_add(&o->switches, sw->name, sw);
    }
    shash_destroy(&keys);
}

/* Returns the overlay switch that 'ls' is, or NULL. */
static struct overlay_switch *
overlay_switch_of(struct overlay *o, const struct hwvtep_logical_switch *ls)
{
    return ls ? shash_find_data(&o->switches, ls->name) : NULL;
}

/* Adds 'tunnel' to 'set', once. */
static void
overlay_set_add(struct overlay_set *set, const struct overlay_tunnel *tunnel)
{
    for (size_t i = 0; i < set->n; i++) {
        if (set->tunnels[i] == tunnel) {
            return;
        }
    }
    if (set->n >= set->allocated) {
        set->allocated = MAX(4, 2 * set->allocated);
        set->tunnels = iovp_xrealloc(set->tunnels,
                                     set->allocated * sizeof *set->tunnels);
    }
    set->tunnels[set->n++] = tunnel;
}

/* Returns the set of multicast MAC 'mac' ('ea') of 'sw', made if it is
 * new. */
static struct overlay_set *
overlay_mcast_set(struct overlay_switch *sw, const char *mac,
                  struct eth_addr ea)
{
    for (size_t i = 0; i < sw->n_mcasts; i++) {
        if (!memcmp(sw->mcasts[i].ea.ea, ea.ea, sizeof ea.ea)) {
            return &sw->mcasts[i].set;
        }
    }
    if (sw->n_mcasts >= sw->allocated_mcasts) {
        sw->allocated_mcasts = MAX(4, 2 * sw->allocated_mcasts);
        sw->mcasts = iovp_xrealloc(sw->mcasts, (sw->allocated_mcasts
                                                * sizeof *sw->mcasts));
    }
    struct overlay_mcast *m = &sw->mcasts[sw->n_mcasts++];
    memset(m, 0, sizeof *m);
    memcpy(m->mac, mac, sizeof m->mac);
    m->ea = ea;
    return &m->set;
}

/* Reads the overlay from the hardware_vtep model 'vtep' and the tunnel
 * ports of 'bridge' from the Open_vSwitch model 'ovs' into 'o' (just
 * initialized).  'tunnel_ip' is this host's tunnel address, or NULL.
 * 'prev' is the last reading (or NULL), whose choices of OpenFlow ports
 * for tunnels that have no port yet stand (overlay_assign_ofports()). */
void
overlay_read(struct overlay *o, const struct overlay *prev,
             const struct odb_idl *vtep, const struct odb_idl *ovs,
             const char *switch_name, const char *bridge,
             const char *tunnel_ip)
{
    struct shash ifaces = SHASH_INITIALIZER(&ifaces);

    if (!vtep) {
        return;
    }
    bool *used = iovp_xzalloc((OVERLAY_OFPORT_MAX - OVERLAY_OFPORT_MIN + 1)
                              * sizeof *used);
    if (ovs) {
        overlay_read_ifaces(ovs, bridge, &ifaces, used);
    }
    const struct hwvtep_physical_switch *ps = (
        switch_name
        ? hwvtep_physical_switch_find_by_string(
            vtep, HWVTEP_PHYSICAL_SWITCH_COL_NAME, switch_name)
        : NULL);
    overlay_read_switches(o, vtep);

    /* What each Logical_Switch and Physical_Locator row is, once. */
    struct hmap switches = HMAP_INITIALIZER(&switches);
    struct hmap tunnels = HMAP_INITIALIZER(&tunnels);
    const struct hwvtep_logical_switch *ls;
    HWVTEP_LOGICAL_SWITCH_FOR_EACH (ls, vtep) {
        overlay_memo_put(&switches, ls, overlay_switch_of(o, ls));
    }

    /* The remote MACs, by switch. */
    const struct hwvtep_ucast_macs_remote *umr;
    HWVTEP_UCAST_MACS_REMOTE_FOR_EACH (umr, vtep) {
        const void *sw_;
        struct overlay_switch *sw;
        const struct overlay_tunnel *tunnel;
        struct eth_addr ea;
        char mac[18];

        if (!umr->logical_switch
            || !overlay_memo_get(&switches, umr->logical_switch, &sw_)
            || !(sw = CONST_CAST(struct overlay_switch *, sw_))) {
            continue;
        } else if (!overlay_parse_mac(umr->MAC, mac, &ea)) {
            overlay_fault(o, "Ucast_Macs_Remote %s: \"%s\" is not a MAC: "
                          "ignored", umr->header_.uuid, umr->MAC);
            continue;
        } else if (!umr->locator
                   || !(tunnel = overlay_tunnel_memo(o, &tunnels,
                                                     umr->locator, tunnel_ip,
                                                     ps, &ifaces))) {
            continue;
        }

        if (sw->n_macs >= sw->allocated_macs) {
            sw->allocated_macs = MAX(16, 2 * sw->allocated_macs);
            sw->macs = iovp_xrealloc(sw->macs,
                                     sw->allocated_macs * sizeof *sw->macs);
        }
        struct overlay_mac *m = &sw->macs[sw->n_macs++];
        memcpy(m->mac, mac, sizeof m->mac);
        m->ea = ea;
        m->tunnel = tunnel;
    }

    /* Where each switch's unknown destinations go, and its multicast
     * MACs with rows of their own.  (Two rows of one MAC: the union of
     * their sets.) */
    const struct hwvtep_mcast_macs_remote *mmr;
    HWVTEP_MCAST_MACS_REMOTE_FOR_EACH (mmr, vtep) {
        struct overlay_switch *sw = overlay_switch_of(o, mmr->logical_switch);
        struct overlay_set *set;
        struct eth_addr ea;
        char mac[18];

        if (!sw) {
            continue;
        } else if (!strcmp(mmr->MAC, "unknown-dst")) {
            set = &sw->flood;
        } else if (!overlay_parse_mac(mmr->MAC, mac, &ea)
                   || !(ea.ea[0] & 1)) {
            overlay_fault(o, "Mcast_Macs_Remote %s: \"%s\" is neither "
                          "unknown-dst nor a multicast MAC: ignored",
                          mmr->header_.uuid, mmr->MAC);
            continue;
        } else {
            set = overlay_mcast_set(sw, mac, ea);
        }

        const struct hwvtep_physical_locator_set *locs = mmr->locator_set;
        for (size_t i = 0; locs && i < locs->n_locators; i++) {
            const struct overlay_tunnel *tunnel;
            tunnel = overlay_tunnel_memo(o, &tunnels, locs->locators[i],
                                         tunnel_ip, ps, &ifaces);
            if (tunnel) {
                overlay_set_add(set, tunnel);
            }
        }
    }
    overlay_memo_destroy(&switches);
    overlay_memo_destroy(&tunnels);
    if (ovs && tunnel_ip) {
        overlay_assign_ofports(o, prev, &ifaces, used);
    }
    free(used);

    /* In a canonical order; one locator for each MAC. */
    struct shash_node *node;
    SHASH_FOR_EACH (node, &o->switches) {
        struct overlay_switch *sw = node->data;
        size_t n = 0;

        qsort(sw->macs, sw->n_macs, sizeof *sw->macs, overlay_mac_compare);
        for (size_t i = 0; i < sw->n_macs; i++) {
            if (n && !memcmp(sw->macs[n - 1].ea.ea, sw->macs[i].ea.ea,
                           sizeof sw->macs[i].ea.ea)) {
                overlay_fault(o, "logical switch %s: remote MAC %s has "
                              "several locators: only %s is used",
                              sw->name, sw->macs[i].mac,
                              sw->macs[n - 1].tunnel->ip);
                continue;
            }
            sw->macs[n++] = sw->macs[i];
        }
        sw->n_macs = n;
        qsort(sw->flood.tunnels, sw->flood.n, sizeof *sw->flood.tunnels,
              overlay_tunnel_compare);
        qsort(sw->mcasts, sw->n_mcasts, sizeof *sw->mcasts,
              overlay_mcast_compare);
        for (size_t i = 0; i < sw->n_mcasts; i++) {
            struct overlay_set *set = &sw->mcasts[i].set;
            qsort(set->tunnels, set->n, sizeof *set->tunnels,
                  overlay_tunnel_compare);
        }
    }
    shash_destroy(&ifaces);
}

static bool
overlay_tunnel_equal(const struct overlay_tunnel *a,
                     const struct overlay_tunnel *b)
{
    return (!strcmp(a->ip, b->ip) && a->ofport == b->ofport
            && a->forwarding == b->forwarding);
}

static bool
overlay_set_equal(const struct overlay_set *a, const struct overlay_set *b)
{
    if (a->n != b->n) {
        return false;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (!overlay_tunnel_equal(a->tunnels[i], b->tunnels[i])) {
            return false;
        }
    }
    return true;
}

/* Returns true if 'a' and 'b' (either may be NULL) make the same flows. */
bool
overlay_switch_equal(const struct overlay_switch *a,
                     const struct overlay_switch *b)
{
    if (!a || !b) {
        return a == b;
    }
    if (a->vni != b->vni || a->source_node != b->source_node
        || a->n_macs != b->n_macs || a->n_mcasts != b->n_mcasts
        || !overlay_set_equal(&a->flood, &b->flood)) {
        return false;
    }
    for (size_t i = 0; i < a->n_mcasts; i++) {
        if (strcmp(a->mcasts[i].mac, b->mcasts[i].mac)
            || !overlay_set_equal(&a->mcasts[i].set, &b->mcasts[i].set)) {
            return false;
        }
    }
    for (size_t i = 0; i < a->n_macs; i++) {
        if (strcmp(a->macs[i].mac, b->macs[i].mac)
            || !overlay_tunnel_equal(a->macs[i].tunnel, b->macs[i].tunnel)) {
            return false;
        }
    }
    return true;
}

/* Returns true if 'a' and 'b' hold the same tunnels with the same OpenFlow
 * ports: the tunnels' own flows are the same.  (A tunnel that no logical
 * switch uses, one of a Tunnel row for BFD alone, is in no switch that
 * overlay_diff() compares.) */
bool
overlay_same_tunnels(const struct overlay *a, const struct overlay *b)
{
    if (hmap_count(&a->tunnels) != hmap_count(&b->tunnels)) {
        return false;
    }

    const struct overlay_tunnel *t;
    HMAP_FOR_EACH (t, node, &a->tunnels) {
        const struct overlay_tunnel *u = overlay_find_tunnel(b, t->ip);
        if (!u || u->ofport != t->ofport) {
            return false;
        }
    }
    return true;
}

/* Adds to 'switches' (a set of names) the logical switches whose overlay
 * differs between 'old' and 'new'. */
void
overlay_diff(const struct overlay *old, const struct overlay *new,
             struct shash *switches)
{
    const struct shash *both[2] = { &old->switches, &new->switches };

    for (size_t i = 0; i < 2; i++) {
        struct shash_node *node;
        SHASH_FOR_EACH (node, both[i]) {
            if (!overlay_switch_equal(overlay_find_switch(old, node->name),
                                      overlay_find_switch(new, node->name))) {
                shash_replace(switches, node->name, NULL);
            }
        }
    }
}
