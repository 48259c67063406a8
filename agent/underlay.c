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

#include "agent/underlay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/util.h"
#include "model/vswitch-idl.h"

/* Returns true if 'ovs' has a bridge called 'name' on the userspace
 * datapath. */
static bool
underlay_is_userspace_bridge(const struct odb_idl *ovs, const char *name)
{
    const struct vswitch_bridge *br;

    VSWITCH_BRIDGE_FOR_EACH (br, ovs) {
        if (!strcmp(br->name, name)) {
            return !strcmp(br->datapath_type, "netdev");
        }
    }
    return false;
}

/* Returns NULL if this host's tunnel address 'tunnel_ip' (IPv4) is where
 * Open vSwitch's tunnelling can send from, otherwise what is missing,
 * malloc()'d for the caller to free: the address must be on an interface
 * that is up, and with the userspace datapath ('userspace') that interface
 * must be a bridge of that datapath in 'ovs' (OVS's userspace tunnelling
 * sends the outer frame through the bridge that holds the route's
 * source). */
char *
underlay_check(const struct odb_idl *ovs, const char *tunnel_ip,
               bool userspace)
{
    struct in_addr addr;
    struct ifaddrs *ifas;

    if (inet_pton(AF_INET, tunnel_ip, &addr) != 1) {
        return iovp_xasprintf("the tunnel address %s is not an IPv4 "
                              "address", tunnel_ip);
    } else if (getifaddrs(&ifas)) {
        return iovp_xasprintf("this host's addresses cannot be read (%s)",
                              strerror(errno));
    }

    const struct ifaddrs *found = NULL;
    for (const struct ifaddrs *ifa = ifas; ifa && !found;
         ifa = ifa->ifa_next) {
        const struct sockaddr_in *sin = (const void *) ifa->ifa_addr;
        if (sin && sin->sin_family == AF_INET
            && sin->sin_addr.s_addr == addr.s_addr) {
            found = ifa;
        }
    }

    char *why = NULL;
    if (!found) {
        why = iovp_xasprintf("the tunnel address %s is on no interface of "
                             "this host", tunnel_ip);
    } else if (!(found->ifa_flags & IFF_UP)) {
        why = iovp_xasprintf("the tunnel address %s is on %s, which is "
                             "down", tunnel_ip, found->ifa_name);
    } else if (userspace
               && !underlay_is_userspace_bridge(ovs, found->ifa_name)) {
        why = iovp_xasprintf("the tunnel address %s is on %s, which is no "
                             "bridge of Open vSwitch's userspace datapath: "
                             "its tunnels send only from an address on "
                             "one", tunnel_ip, found->ifa_name);
    }
    freeifaddrs(ifas);
    return why;
}
