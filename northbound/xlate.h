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

#ifndef IOVP_NORTHBOUND_XLATE_H
#define IOVP_NORTHBOUND_XLATE_H 1

/* The OpenFlow controller's view of the switch, and the integration
 * bridge's tables that hold it: pure functions that translate each way.
 *
 * The controller's table N is the bridge's table PIPELINE_OF_TABLE0 + N
 * (agent/pipeline-tables.h); its port numbers are the bridge's OpenFlow
 * ports; its metadata is the bridge's (frames of its ports enter its
 * tables with metadata 0, and iovp's tables after them do not read it);
 * its cookies, priorities, timeouts and flags are the bridge's flows'.
 * What differs is the actions:
 *
 *   controller                 bridge
 *   ----------                 ------
 *   output:N                   clone(set_field:N->reg7, resubmit(,60))
 *   output:IN_PORT             clone(move:in_port->reg7[0..15],
 *                                    set_field:0->in_port, resubmit(,60))
 *   output:FLOOD               clone(resubmit(,61))
 *   output:ALL                 clone(resubmit(,62))
 *   output:TABLE (packet-out)  resubmit(,100)
 *   goto_table:N               goto_table:100+N
 *
 * and in an action set (write_actions, a group's bucket), where OVS runs
 * one output at the end, as a copy, each output is what is in its clone
 * above, without the clone; output to CONTROLLER or IN_PORT in
 * write_actions is refused (OVS would choose among the outputs that
 * several tables wrote by their kinds, not their order).
 * so that what leaves the controller's tables meets the egress ACL of the
 * port it goes to (tables 60, 40, 50).  The controller may match and set
 * only OpenFlow's own fields (OXM basic class), never the registers that
 * iovp's pipeline uses; its group and meter ids are below
 * NBX_ID_LIMIT, the rest being iovp's own.  Every other action, and every
 * action in an action set that would output to a port, is refused with
 * the error OVS gives for an action it does not support.
 *
 * Translating a bridge flow's actions back gives exactly the controller's:
 * nothing else in the controller's tables takes those forms. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openvswitch/ofp-errors.h>
#include <openvswitch/types.h>

struct match;
struct ofpact;
struct ofpbuf;
struct ofputil_table_features;

/* The controller's group and meter ids are below this. */
#define NBX_ID_LIMIT 0x80000000u

bool nbx_table_from_bridge(uint8_t bridge_table, uint8_t *table);
uint8_t nbx_table_to_bridge(uint8_t table);

/* Where the controller's actions are. */
enum nbx_context {
    NBX_FLOW,                   /* A flow's instructions. */
    NBX_PACKET_OUT,             /* A packet-out's actions. */
    NBX_ACTION_SET,             /* A group's bucket. */
    NBX_WRITE_ACTIONS,          /* A flow's write_actions: an action set
                                 * that several tables may write. */
};

enum ofperr nbx_check_match(const struct match *);
enum ofperr nbx_actions_to_bridge(const struct ofpact *, size_t len,
                                  enum nbx_context, struct ofpbuf *out);
void nbx_actions_from_bridge(const struct ofpact *, size_t len,
                             bool action_set, struct ofpbuf *out);

void nbx_table_features(uint8_t table, struct ofputil_table_features *);

void nbx_put_output(struct ofpbuf *, ofp_port_t);

/* What a flow of the controller's tables does with a frame, as offload
 * sees it. */
enum nbx_fate {
    NBX_FATE_DROP,
    NBX_FATE_OUTPUT,            /* To one port, and nothing else. */
    NBX_FATE_OTHER,
};
enum nbx_fate nbx_flow_fate(const struct ofpact *, size_t len, ofp_port_t *);
void nbx_strip_match(struct match *);

#endif /* northbound/xlate.h */
