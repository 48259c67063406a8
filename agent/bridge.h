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

#ifndef IOVP_AGENT_BRIDGE_H
#define IOVP_AGENT_BRIDGE_H 1

/* The integration bridge in the Open_vSwitch database: what iovpd needs of
 * it, as a pure function of the database's model.
 *
 * A missing bridge is created with an internal port of its name, fail mode
 * "secure" and OpenFlow 1.3 to 1.5 (and the datapath type asked for, if
 * any).  On a bridge that exists, iovpd sets only what it needs: fail mode
 * "secure", and OpenFlow 1.3, 1.4 and 1.5 added to "protocols" (an empty
 * "protocols" already allows them: OVS then enables 1.0 to 1.5); nothing
 * else is changed, the datapath type included.
 *
 * The overlay's tunnels are VXLAN ports of the bridge that iovpd makes and
 * takes away as remote VTEPs come and go (bridge_ensure_tunnels()); the
 * capture sessions' internal ports, those that iovpd makes and takes away
 * as sessions come and go (bridge_ensure_capture_ports()). */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct odb_idl;
struct overlay;

struct bridge_spec {
    const char *name;           /* The bridge's name. */
    const char *datapath_type;  /* For a bridge iovpd creates; or NULL. */
};

json_t *bridge_ensure(const struct odb_idl *ovs,
                      const struct bridge_spec *);
json_t *bridge_ensure_tunnels(const struct odb_idl *ovs, const char *bridge,
                              const struct overlay *,
                              const char *tunnel_ip);
json_t *bridge_ensure_capture_ports(const struct odb_idl *ovs,
                                    const char *bridge,
                                    const char *const *devices, size_t n);
int bridge_capture_ofport(const struct odb_idl *ovs, const char *bridge,
                          const char *device);
bool bridge_is_ready(const struct odb_idl *ovs, const struct bridge_spec *);

#endif /* agent/bridge.h */
