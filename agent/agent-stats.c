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

/* The flows' counters: read from the switch every few seconds, and the
 * VLAN bindings' statistics and offload's totals reported from them in
 * hardware_vtep; the NIC's rules weigh them too (agent/translate.h). */

#include <stdint.h>
#include <stdlib.h>

#include <openvswitch/list.h>
#include <openvswitch/util.h>
#include <openvswitch/vlog.h>

#include "agent/agent-private.h"
#include "agent/pipeline.h"
#include "agent/report.h"
#include "agent/translate.h"
#include "agent/xlate-capture.h"
#include "agent/xlate-steer.h"
#include "agent/xlate-lb.h"
#include "agent/xlate-nic.h"
#include "lib/util.h"
#include "offload/nicctrl.h"
#include "ofp/ofctrl.h"
#include "ofp/oflow.h"
#include "ovsdb/client.h"

VLOG_DEFINE_THIS_MODULE(stats);

/* How often iovpd reads its flows' counters from the switch and reports
 * the VLAN bindings' statistics, in ms. */
#define AGENT_STATS_INTERVAL 5000

/* With offload, each read takes the counters of one of 2**N slices of the
 * ingress ACLs' flows (by ACL), so that they are all read every 20 s: a
 * hundred thousand of them would cost a read some 60 ms of iovpd's CPU. */
#define AGENT_ACL_STATS_SLICE_BITS 2

/* Returns the operations of 'a' and 'b' in one array, either of which may
 * be NULL (then so may be the result). */
static json_t *
agent_ops_join(json_t *a, json_t *b)
{
    if (a && b) {
        json_array_extend(a, b);
        json_decref(b);
        return a;
    }
    return a ? a : b;
}

/* Returns the operations that report offload's totals in Iovp_Offload, or
 * NULL.  The hit rate is the share of what the VMs sent into their logical
 * switches that the NIC decided: of the frames from local of every VLAN
 * binding ('stats', pipeline_binding_stats()'s, which count each frame
 * once, wherever it was decided), the 'in_nic' that the NIC decided. */
static json_t *
agent_report_offload(struct agent *agent, const struct report_spec *rs,
                     const json_t *stats, uint64_t in_nic)
{
    json_int_t from_vms = 0;
    const char *port, *vlan;
    json_t *bindings, *counts;

    json_object_foreach ((json_t *) stats, port, bindings) {
        json_object_foreach (bindings, vlan, counts) {
            from_vms += json_integer_value(json_object_get(
                                               counts, "packets_from_local"));
        }
    }
    json_t *summary = nicctrl_summary(agent->nicctrl);
    json_object_set_new(summary, "hit_rate", json_real(
                            from_vms > 0
                            ? MIN(1.0, (double) in_nic / from_vms) : 0));
    json_t *ops = report_offload(agent->vtep_idl, rs, summary);
    json_decref(summary);
    return ops;
}

/* pipeline_extra_stats_cb for the frames the NIC decided, from 'nic_'
 * (xlate_nic_flow_stats()'s). */
static void
agent_nic_flow_stats(const struct oflow *f, uint64_t *packets,
                     uint64_t *bytes, void *nic_)
{
    xlate_nic_counts_get(nic_, f, packets, bytes);
}

/* The counters of the installed flows are new: reports the VLAN bindings'
 * statistics (Logical_Binding_Stats), if the hardware_vtep database can
 * take a transaction now (otherwise the next read will).  They count the
 * frames the NIC decided too, as of its last read, each in the flows it
 * would have taken in OVS; a frame the NIC sends to OVS is counted there
 * only. */
static void
agent_report_stats(struct agent *agent)
{
    struct odb_replica *ovs = agent_current(agent->ovs_db);
    struct odb_replica *vtep = agent_current(agent->vtep_db);
    const char *name, *tunnel_ip;

    translate_identity(agent->translate, ovs != NULL, &name,
                       &tunnel_ip);
    if (!ovs || !vtep || !name || agent->vtep_txn.in_flight) {
        return;
    }

    const struct oflow_table *installed = ofctrl_installed(agent->ofctrl);
    struct xlate_nic_policy policy;
    translate_nic_policy(agent->translate, installed, &policy);
    policy.installed_seqno = ofctrl_installed_seqno(agent->ofctrl);
    struct xlate_nic_counts nic;
    if (agent->nicctrl) {
        xlate_nic_flow_stats(agent->nicctrl, &policy, &nic);
    } else {
        xlate_nic_counts_init(&nic);
    }
    uint64_t in_nic = 0;
    json_t *stats = pipeline_binding_stats(
        translate_ports(agent->translate),
        translate_desired(agent->translate), installed,
        agent->nicctrl ? agent_nic_flow_stats : NULL, &nic, &in_nic);
    xlate_nic_counts_destroy(&nic);

    struct report_spec rs = { .switch_name = name };
    json_t *ops = report_vlan_stats(agent->vtep_idl, &rs, stats);
    json_t *qos_stats = pipeline_qos_stats(
        translate_ports(agent->translate),
        translate_desired(agent->translate), installed,
        ofctrl_meters(agent->ofctrl));
    json_t *qos_ops = report_qos_stats(agent->vtep_idl, qos_stats);
    json_decref(qos_stats);
    json_t *lb_status = xlate_lb_status(translate_xlb(agent->translate),
                                        translate_desired(agent->translate),
                                        installed);
    json_t *lb_ops = report_lb_status(agent->vtep_idl, lb_status);
    json_decref(lb_status);
    json_t *capture_status = xlate_capture_status(
        translate_xcap(agent->translate),
        translate_desired(agent->translate), installed);
    json_t *capture_ops = report_capture_status(agent->vtep_idl,
                                                capture_status);
    json_decref(capture_status);
    json_t *steering_status = xlate_steer_status(
        translate_xsteer(agent->translate), agent->nicctrl);
    json_t *steering_ops = report_steering_status(agent->vtep_idl,
                                                  steering_status);
    json_decref(steering_status);
    ops = agent_ops_join(agent_ops_join(agent_ops_join(agent_ops_join(
                                                           ops, qos_ops),
                                                       lb_ops),
                                        capture_ops), steering_ops);
    if (agent->nicctrl) {
        ops = agent_ops_join(ops, agent_report_offload(agent, &rs, stats,
                                                       in_nic));
    }
    if (ops) {
        VLOG_DBG("reporting the VLAN statistics of %s", name);
        agent_transact(agent->vtep_db, &agent->vtep_txn, ops);
    }
    json_decref(stats);
}

/* Every AGENT_STATS_INTERVAL: reads the counters of the flows that the
 * VLAN and QoS statistics come from (tables 0, 20 and 50, and the meters)
 * and, with offload, those of the ingress ACLs' flows, which weigh the
 * NIC's rules.  No statistic needs
 * the others' regularly, and "flows/dump" and "policy/dump" read what they
 * show anew, so reading a hundred thousand ACL flows' counters every few
 * seconds would cost OVS and iovpd for nothing. */
static void
agent_stats_timer(uv_timer_t *timer)
{
    static const uint8_t vlan_tables[] = {
        PIPELINE_T_CLASSIFY, PIPELINE_T_QOS, PIPELINE_T_LB_SELECT,
        PIPELINE_T_L2, PIPELINE_T_OUTPUT,
    };
    static const uint8_t offload_tables[] = {   /* And the ingress ACLs'. */
        PIPELINE_T_CLASSIFY, PIPELINE_T_INGRESS_ACL, PIPELINE_T_QOS,
        PIPELINE_T_LB_SELECT, PIPELINE_T_L2, PIPELINE_T_OUTPUT,
    };
    struct agent *agent = timer->data;
    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
    const uint8_t *tables = agent->nicctrl ? offload_tables : vlan_tables;
    size_t n_tables = (agent->nicctrl ? IOVP_ARRAY_SIZE(offload_tables)
                       : IOVP_ARRAY_SIZE(vlan_tables));

    if (ofctrl_read_stats(agent->ofctrl, tables, n_tables, &msgs)) {
        agent->stats_all = false;
        agent_ofp_send(agent, &msgs);
    }
    if (agent->nicctrl && ofctrl_is_ready(agent->ofctrl)) {
        nicctrl_replan(agent->nicctrl, uv_now(agent->loop));
        agent_northbound_read_nic(agent);
        agent_wake(agent);      /* A run commits what waits for it. */
    }
}

/* Reads the counters of the flows of every table, for the commands that
 * wait for them; if ofctrl cannot read them now, answers with what it
 * has. */
void
agent_read_all_stats(struct agent *agent)
{
    static const uint8_t all_tables[] = { 0xff };
    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);

    if (ofctrl_read_stats(agent->ofctrl, all_tables, 1, &msgs)) {
        agent->stats_all = true;
        agent_ofp_send(agent, &msgs);
    } else if (!ofctrl_has_installed(agent->ofctrl)) {
        agent_answer_waiters(agent);
    }
    /* Otherwise a read is under way: when it ends, this is tried again. */
}

/* Starts reading the flows' counters every AGENT_STATS_INTERVAL. */
void
agent_stats_start(struct agent *agent)
{
    uv_timer_init(agent->loop, &agent->stats);
    agent->stats.data = agent;
    if (agent->nicctrl) {
        ofctrl_slice_stats(agent->ofctrl, PIPELINE_T_INGRESS_ACL,
                           AGENT_ACL_STATS_SLICE_BITS);
    }
    uv_timer_start(&agent->stats, agent_stats_timer, AGENT_STATS_INTERVAL,
                   AGENT_STATS_INTERVAL);
}

/* The counters of the installed flows are new: reports the statistics,
 * has the NIC's rules weighed anew, and answers the commands that waited
 * for a read of every table (or starts one for them). */
void
agent_stats_read(struct agent *agent)
{
    agent_report_stats(agent);
    if (translate_counters_changed(
            agent->translate, ofctrl_installed(agent->ofctrl),
            ofctrl_counters_seqno(agent->ofctrl, PIPELINE_T_INGRESS_ACL),
            uv_now(agent->loop))) {
        agent_wake(agent);
    }
    if (agent->stats_all) {
        agent->stats_all = false;
        agent_answer_waiters(agent);
    } else if (!ovs_list_is_empty(&agent->waiters)) {
        agent_read_all_stats(agent);
    }
}
