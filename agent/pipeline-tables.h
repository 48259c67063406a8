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

#ifndef IOVP_AGENT_PIPELINE_TABLES_H
#define IOVP_AGENT_PIPELINE_TABLES_H 1

/* The layout of the integration bridge's pipeline, which every translation
 * module shares: its tables, its conntrack zones and priorities, and the
 * values that name a port, a logical switch or an ACL in its registers and
 * cookies (agent/pipeline.h makes the tables' own flows, agent/xlate-acl.h
 * the ACLs').  Each value is derived from a name alone, so that it is the
 * same whatever the order in which the policy came. */

#include <stdbool.h>
#include <stdint.h>

/* The tables of the pipeline. */
#define PIPELINE_TABLES                                  \
    PIPELINE_TABLE(CLASSIFY, 0, "classify")              \
    PIPELINE_TABLE(INGRESS_ACL, 10, "ingress ACL")       \
    PIPELINE_TABLE(QOS, 20, "QoS")                       \
    PIPELINE_TABLE(LB, 25, "load balancing")             \
    PIPELINE_TABLE(LB_CT, 26, "load balancing, after conntrack") \
    PIPELINE_TABLE(LB_SELECT, 27, "load balancing, new connections") \
    PIPELINE_TABLE(L2, 30, "L2 lookup")                  \
    PIPELINE_TABLE(EGRESS_ACL, 40, "egress ACL")         \
    PIPELINE_TABLE(OUTPUT, 50, "output")                 \
    PIPELINE_TABLE(OF_OUTPUT, 60, "OpenFlow output")     \
    PIPELINE_TABLE(OF_FLOOD, 61, "OpenFlow flood")       \
    PIPELINE_TABLE(OF_ALL, 62, "OpenFlow all")

enum pipeline_table {
#define PIPELINE_TABLE(ENUM, ID, NAME) PIPELINE_T_##ENUM = ID,
    PIPELINE_TABLES
#undef PIPELINE_TABLE
};

/* The OpenFlow controller's tables (northbound/): its table N is the
 * bridge's table PIPELINE_OF_TABLE0 + N.  Frames of its ports enter its
 * table 0 from table 30; its outputs go through tables 60 to 62. */
#define PIPELINE_OF_TABLE0 100
#define PIPELINE_OF_N_TABLES 32

/* Fragments (see pipeline.c's pl_fragment_flows()): the conntrack zone in
 * which OVS reassembles them before the ingress ACL, above every zone of an
 * output port (the second reassembly's, an OpenFlow port below 0xff00),
 * and the priority of their flows, above every ACL flow's
 * (XLATE_ACL_FAIL_CLOSED). */
#define PIPELINE_CT_ZONE_DEFRAG 0xfff0
#define PIPELINE_FRAG_PRIORITY 65000

/* Register 6 is 1 for a frame that came from a tunnel (split horizon). */
#define PIPELINE_REG_FROM_TUNNEL 6

/* Register 3 holds, in its low 3 bits, the 802.1p priority that the QoS of
 * the VM that sent a frame gives it where it leaves tagged (0 without). */
#define PIPELINE_REG_PCP 3

/* Register 10 holds the slot that load balancing picked for a new
 * connection (agent/xlate-lb.h). */
#define PIPELINE_REG_LB_SLOT 10

/* iovp's meters (QoS): ids from here up; the OpenFlow controller's are
 * below (northbound/xlate.h's NBX_ID_LIMIT). */
#define PIPELINE_METER_BASE 0x80000000u

uint64_t pipeline_port_origin(const char *port_name);
uint64_t pipeline_ls_origin(const char *ls_name);
uint64_t pipeline_ls_metadata(const char *ls_name);
uint64_t pipeline_tunnel_origin(const char *ip);
uint64_t pipeline_acl_id(const char *acl_name);
uint64_t pipeline_acl_origin(const char *acl_name);
uint32_t pipeline_meter_id(int ofport, int vlan, bool receive);
uint64_t pipeline_lb_origin(const char *lb_uuid);
uint64_t pipeline_capture_origin(const char *capture_uuid);
int pipeline_lb_zone(const char *ls_name);

#endif /* agent/pipeline-tables.h */
