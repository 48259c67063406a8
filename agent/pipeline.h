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
 * iovp's Iovp_Port addresses) into the integration bridge's pipeline of
 * OpenFlow tables.  A pure function of the two databases' replicas; iovpd(8)
 * documents the tables.
 *
 *   0  classify: in_port and VLAN to logical switch (metadata), VLAN tag
 *      popped; anti-spoofing of source MAC, source IP and ARP sender
 *  10  ingress ACL (from the VM)
 *  20  QoS
 *  30  L2: destination MAC to output port (reg7), else flood within the
 *      logical switch
 *  40  egress ACL (toward the VM)
 *  50  output, the VLAN tag pushed for a tagged binding
 *
 * Every value in a flow is derived from the policy and from OVS's state
 * alone: a logical switch's metadata is a hash of its name, a port's
 * register value its OpenFlow port number, and each flow's cookie (ofctrl)
 * names its origin: a hash of "port:NAME" for a port's flows,
 * "ls:NAME" for a logical switch's, 0 for the fixed ones. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/pipeline-tables.h"

struct odb_replica;
struct odb_replica_table;
struct odb_row;
struct oflow;
struct oflow_table;


struct pipeline_spec {
    const char *switch_name;    /* This host's Physical_Switch. */
    const char *bridge;         /* The integration bridge. */
};

void pipeline_build(const struct odb_replica *vtep,
                    const struct odb_replica *ovs,
                    const struct pipeline_spec *,
                    struct oflow_table *desired, json_t *faults,
                    json_t *acls, json_t *ambiguities);

/* Stores in '*packets' and '*bytes' the frames and bytes that installed
 * flow 'f' would have counted but were decided elsewhere (in the NIC),
 * for pipeline_binding_stats(). */
typedef void pipeline_extra_stats_cb(const struct oflow *f,
                                     uint64_t *packets, uint64_t *bytes,
                                     void *aux);
json_t *pipeline_binding_stats(const struct odb_replica *vtep,
                               const struct odb_replica *ovs,
                               const struct pipeline_spec *,
                               const struct oflow_table *installed,
                               pipeline_extra_stats_cb *, void *aux,
                               uint64_t *extra_from_local);

struct flow;
bool pipeline_fragment_is_dropped(const struct flow *packet);

/* A VM port as its fast path sees it (agent/offload glue): its untagged
 * binding, where the fast path can decide frames. */
struct pipeline_vm_port {
    const char *name;
    char interface[64];         /* Its OVS interface (network device), or
                                 * "" if OVS has none yet. */
    int ofport;                 /* -1 if OVS has none yet. */
    char mac[18];               /* Lower case, "" if unknown. */
    const json_t *ips;          /* Its Iovp_Port addresses (a JSON array),
                                 * or NULL if none are given. */
    const char *ls;             /* Its untagged (VLAN 0) binding's logical
                                 * switch, or NULL if it has none. */
    const char *acl;            /* The ACL of that binding, or NULL. */
    bool owns_mac;              /* Table 30 sends its MAC to it. */
};

struct pipeline_vm_port *pipeline_vm_ports(const struct odb_replica *vtep,
                                           const struct odb_replica *ovs,
                                           const struct pipeline_spec *,
                                           size_t *n);
char *pipeline_binding_fault(const json_t *vlan_bindings, size_t idx,
                             const struct odb_replica_table *lswitches);
const char *pipeline_binding_acl(const struct odb_replica_table *pports,
                                 const struct odb_row *,
                                 const struct odb_replica_table *acls,
                                 int vlan);

#endif /* agent/pipeline.h */
