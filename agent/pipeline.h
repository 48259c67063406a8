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

#ifndef IOVP_AGENT_PIPELINE_H
#define IOVP_AGENT_PIPELINE_H 1

/* Translation of the switching policy (hardware_vtep's VLAN bindings, and
 * iovp's Iovp_Port addresses, as agent/ports.h reads them) into the
 * integration bridge's pipeline of OpenFlow tables, built as matches and
 * actions.  Pure functions of the ports; iovpd(8) documents the tables.
 *
 *   0  classify: in_port and VLAN to logical switch (metadata), VLAN tag
 *      popped; anti-spoofing of source MAC, source IP and ARP sender; a
 *      tunnel's VNI to logical switch, marked as from a tunnel; an
 *      unknown VNI dropped, counted by tunnel
 *  10  ingress ACL (from the VM)
 *  20  QoS
 *  30  L2: destination MAC to output port (reg7): a local port, or a remote
 *      MAC's tunnel; else flood within the logical switch and to its
 *      VTEPs (only to local ports what came from a tunnel)
 *  40  egress ACL (toward the VM)
 *  50  output, the VLAN tag pushed for a tagged binding, the VNI set for a
 *      tunnel
 *  60  OpenFlow output: a port in OpenFlow mode, through its egress ACL
 *  61  OpenFlow flood, 62 OpenFlow all: to every port in OpenFlow mode
 * 100- the OpenFlow controller's tables (northbound/), which frames of its
 *      ports enter from table 30, after the ingress ACL and QoS, and leave
 *      through tables 60 to 62
 *
 * Every value in a flow is derived from the policy and from OVS's state
 * alone: a logical switch's metadata is a hash of its name, a port's
 * register value its OpenFlow port number, and each flow's cookie (ofctrl)
 * names its origin: a hash of "port:NAME" for a port's flows,
 * "ls:NAME" for a logical switch's, "tunnel:IP" for a tunnel's, 0 for the
 * fixed ones. */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/pipeline-tables.h"

struct desired;
struct flow;
struct oflow;
struct oflow_table;
struct overlay;
struct overlay_switch;
struct overlay_tunnel;
struct port;
struct port_binding;
struct ports;

/* Which switch and bridge the pipeline is of. */
struct pipeline_spec {
    const char *switch_name;    /* This host's Physical_Switch. */
    const char *bridge;         /* The integration bridge. */
};

/* The flows, by group of the desired flows (ofp/desired.h): one group for
 * each VLAN binding of a port with an OpenFlow port (its tables 0, 30 and
 * 50), two for each logical switch (its flooding, and its overlay if it is
 * on one), one for each remote MAC, one for each tunnel (what it brings
 * with an unknown VNI), and one for the fixed flows. */
void pipeline_update_port(struct desired *, const struct port *old,
                          const struct port *new);
void pipeline_retire_overlay(struct desired *, const struct overlay *old,
                             const struct overlay *, const char *ls);
void pipeline_update_ls(struct desired *, const struct ports *,
                        const struct overlay *old, const struct overlay *,
                        const char *ls, bool all);
void pipeline_update_tunnels(struct desired *, const struct overlay *old,
                             const struct overlay *, bool all);
void pipeline_update_openflow(struct desired *, const struct ports *);
void pipeline_update_fixed(struct desired *);

/* The flows themselves. */
void pipeline_binding_flows(const struct port *, const struct port_binding *,
                            struct oflow_table *);
void pipeline_ls_flows(const struct ports *, const struct overlay_switch *,
                       const char *ls, struct oflow_table *);
void pipeline_overlay_flows(const struct overlay_switch *,
                            struct oflow_table *);
void pipeline_tunnel_flows(const struct overlay_tunnel *,
                           struct oflow_table *);
void pipeline_openflow_port_flows(const struct port *,
                                  struct oflow_table *);
void pipeline_openflow_flood_flows(const struct ports *,
                                   struct oflow_table *);
void pipeline_fixed_flows(struct oflow_table *);

bool pipeline_flow_is_tunnels(const struct oflow *, int ofport);
uint32_t pipeline_qos_burst(uint32_t rate, uint32_t burst);

/* Stores in '*packets' and '*bytes' the frames and bytes that installed
 * flow 'f' would have counted but were decided elsewhere (in the NIC),
 * for pipeline_binding_stats(). */
typedef void pipeline_extra_stats_cb(const struct oflow *f,
                                     uint64_t *packets, uint64_t *bytes,
                                     void *aux);
struct hmap;
struct port_qos;
const struct port_qos *pipeline_binding_qos_stats(
    const struct port *, const struct port_binding *,
    const struct desired *, const struct oflow_table *installed,
    const struct hmap *meters, json_t *stats);
json_t *pipeline_qos_stats(const struct ports *, const struct desired *,
                           const struct oflow_table *installed,
                           const struct hmap *meters);
void pipeline_port_packets(const struct port *, const struct desired *,
                           const struct oflow_table *installed,
                           uint64_t *from, uint64_t *to);
json_t *pipeline_binding_stats(const struct ports *,
                               const struct desired *,
                               const struct oflow_table *installed,
                               pipeline_extra_stats_cb *, void *aux,
                               uint64_t *extra_from_local);

bool pipeline_fragment_is_dropped(const struct flow *packet);

#endif /* agent/pipeline.h */
