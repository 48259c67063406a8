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

/* What a run pass brings in line, in order:
 *
 *   1. the databases' rows that iovpd owns: the integration bridge in
 *      Open_vSwitch; Physical_Switch, its Physical_Port rows and the local
 *      MACs in hardware_vtep;
 *   2. the flows: translation (agent/translate.h) takes in what changed,
 *      and the NIC's rules that a change affects leave the NIC then, before
 *      OVS is sent the change (offload/nicctrl.h); OVS gets the difference
 *      of the desired flows from what it holds in one bundle; once it holds
 *      every desired flow, the NIC takes its new rules;
 *   3. the faults found on the way, reported in hardware_vtep.
 *
 * At most one transaction is in flight on each database: each is computed
 * from a replica, or its typed model, that shows the last. */

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openvswitch/list.h>
#include <openvswitch/util.h>
#include <openvswitch/vlog.h>

#include "agent/agent-private.h"
#include "agent/bridge.h"
#include "agent/overlay.h"
#include "agent/pipeline.h"
#include "agent/report.h"
#include "agent/switch-ports.h"
#include "agent/translate.h"
#include "agent/underlay.h"
#include "agent/xlate-acl.h"
#include "lib/util.h"
#include "model/vswitch-idl.h"
#include "model/vtep-idl.h"
#include "offload/nicctrl.h"
#include "ofp/ofctrl.h"
#include "ofp/oflow.h"
#include "ovsdb/replica.h"

VLOG_DEFINE_THIS_MODULE(reconcile);

/* Returns the operations that make the Physical_Port rows of the switch
 * that 'spec' names match the VM ports in Open_vSwitch, or NULL (see
 * report_physical_ports()); logs what they do to each port, and sets the
 * timer that wakes the agent when a down port's grace period ends.  Both
 * databases' models must be current. */
static json_t *
agent_report_ports(struct agent *agent, struct report_spec *spec)
{
    json_t *notes = json_array();
    long long int deadline;
    size_t i;
    json_t *note;

    spec->now = time(NULL);
    spec->port_grace = agent->port_grace;
    json_t *ops = report_physical_ports(agent->vtep_idl, agent->ovs_idl,
                                        spec, agent->bridge, &deadline,
                                        notes);
    json_array_foreach (notes, i, note) {
        VLOG_INFO("%s", json_string_value(note));
    }
    json_decref(notes);

    if (deadline == LLONG_MAX) {
        uv_timer_stop(&agent->ports);
    } else {
        /* A second late rather than early: the deadline is in whole
         * seconds. */
        uv_timer_start(&agent->ports, agent_wake_timer,
                       (MAX(deadline - spec->now, 0) + 1) * 1000, 0);
    }
    return ops;
}

/* Adds to 'faults' (see report_port_faults()) an "unspecified_fault" for
 * each port of switch 'name' in the hardware_vtep model that a flow the
 * switch refused came from: for the Physical_Port row that iovpd uses for
 * the port. */
static void
agent_rejection_faults(const struct agent *agent, const char *name,
                       json_t *faults)
{
    size_t n_rej;
    const struct ofctrl_rejection *rej = ofctrl_rejections(agent->ofctrl,
                                                           &n_rej);

    if (!n_rej) {
        return;
    }
    size_t n_pps;
    const struct hwvtep_physical_port **pps = switch_ports_used_rows(
        agent->vtep_idl, name, &n_pps);
    for (size_t i = 0; i < n_pps; i++) {
        const char *uuid = pps[i]->header_.uuid;
        uint64_t cookie = ofctrl_cookie(pipeline_port_origin(pps[i]->name));
        for (size_t j = 0; j < n_rej; j++) {
            if (rej[j].flow->cookie == cookie) {
                json_t *list = json_object_get(faults, uuid);
                if (!list) {
                    list = json_array();
                    json_object_set_new(faults, uuid, list);
                }
                json_array_append_new(list,
                                      json_string("unspecified_fault"));
                break;
            }
        }
    }
    free(pps);
}

/* Brings the rows that iovpd owns in both databases in line with what they
 * show: the integration bridge; the Physical_Switch, its ports and the
 * local MACs.  'vtep' and 'ovs' are the current replicas, or NULL. */
void
agent_reconcile_databases(struct agent *agent, const struct odb_replica *vtep,
                          const struct odb_replica *ovs)
{
    if (ovs && !agent->ovs_txn.in_flight) {
        struct bridge_spec spec = {
            .name = agent->bridge,
            .datapath_type = agent->datapath_type,
        };
        json_t *ops = bridge_ensure(agent->ovs_idl, &spec);
        if (ops) {
            VLOG_INFO("setting up integration bridge %s", agent->bridge);
            agent_transact(agent->ovs_db, &agent->ovs_txn, ops);
        }
    }

    /* The switch's name and tunnel address come from the options or from
     * Open_vSwitch, so the report waits for the latter unless both were
     * given. */
    const char *name, *tunnel_ip;
    translate_identity(agent->translate, ovs != NULL, &name,
                       &tunnel_ip);
    if (!vtep || !name || !(ovs || tunnel_ip) || agent->vtep_txn.in_flight) {
        return;
    }
    struct report_spec spec = {
        .switch_name = name,
        .tunnel_ip = tunnel_ip,
        .switch_fault = agent->underlay_fault != NULL,
    };
    json_t *ops = report_physical_switch(agent->vtep_idl, &spec);
    if (ops) {
        VLOG_INFO("reporting Physical_Switch %s", name);
    } else if (ovs) {
        ops = agent_report_ports(agent, &spec);
        if (ops) {
            VLOG_INFO("reporting the ports of Physical_Switch %s", name);
        } else {
            ops = report_ucast_macs_local(agent->vtep_idl, agent->ovs_idl,
                                          &spec, agent->bridge);
            if (ops) {
                VLOG_INFO("reporting the local MACs of %s", name);
            }
        }
    }
    if (ops) {
        agent_transact(agent->vtep_db, &agent->vtep_txn, ops);
    }
}

/* Sends the switch the difference of the desired flows from what it
 * holds; once it holds them all, has the NIC take its new rules. */
static void
agent_put_flows(struct agent *agent, const struct odb_replica *ovs)
{
    /* No flow goes to the switch before the bridge is set up as iovpd
     * needs it, in the database and in ovs-vswitchd: OVS deletes every
     * flow of a bridge whose fail mode changes. */
    struct bridge_spec bs = {
        .name = agent->bridge,
        .datapath_type = agent->datapath_type,
    };
    if (!ofctrl_is_ready(agent->ofctrl)
        || !bridge_is_ready(agent->ovs_idl, &bs)) {
        return;
    }

    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
    size_t n = ofctrl_put(agent->ofctrl, translate_desired(agent->translate),
                          &msgs);
    if (n) {
        VLOG_INFO("sending %zu flow changes to the switch", n);
    }
    if (ofctrl_is_putting(agent->ofctrl)) {
        agent_wake(agent);      /* For the rest of them. */
    }
    if (!ovs_list_is_empty(&msgs)) {
        agent_ofp_send(agent, &msgs);   /* The flows', and the meters'. */
    }

    /* A large put, or the first comparison after a start or reconnection,
     * ends a peak of memory freed since (encoded messages and copies in
     * flight; a complete copy of the database, or the snapshot's rows as
     * parsed; the switch's flows read and translated): give it back to the
     * system once the switch has taken the put, rather than keep the peak for
     * good. */
    if (n >= AGENT_TRIM_FLOWS
        || (ofctrl_put_compared_all(agent->ofctrl)
            && (oflow_table_count(ofctrl_installed(agent->ofctrl))
                >= AGENT_TRIM_FLOWS))) {
        if (n) {
            agent->trim_at_ready = true;
        } else {
            iovp_trim_heap();
        }
    }

    /* OVS holds every desired flow: the NIC may follow.  A flow OVS
     * refused makes OVS differ from the policy, and then nothing runs in
     * the NIC. */
    size_t n_rejections;
    ofctrl_rejections(agent->ofctrl, &n_rejections);
    if (agent->nicctrl && !n) {
        if (n_rejections) {
            nicctrl_withdraw_all(agent->nicctrl);
        } else if (nicctrl_commit(agent->nicctrl, uv_now(agent->loop))) {
            agent_wake(agent);  /* The ports it left, after the rest. */
        }
    }
}

/* Reports the ports' faults (the pipeline's and the switch's refusals)
 * of switch 'name', or else, if they may differ from what the database
 * shows, the ACLs'.  The hardware_vtep model must be current. */
static void
agent_report_faults(struct agent *agent, const char *name)
{
    if (agent->vtep_txn.in_flight) {
        return;
    }

    struct report_spec rs = { .switch_name = name };
    json_t *faults = json_deep_copy(translate_port_faults(agent->translate));
    agent_rejection_faults(agent, name, faults);
    json_t *ops = report_port_faults(agent->vtep_idl, &rs, faults);
    json_decref(faults);
    if (ops) {
        VLOG_INFO("reporting the port faults of %s", name);
    } else if (agent->acl_faults_pending) {
        /* Looked at only when they may differ: with long ACLs, a look at
         * every entry's faults costs more than a change. */
        const struct translate *t = agent->translate;
        json_t *acl_faults = xlate_acl_faults(translate_xacl(t));
        ops = report_acl_faults(agent->vtep_idl, translate_bound_acls(t),
                                acl_faults);
        json_decref(acl_faults);
        if (ops) {
            VLOG_INFO("reporting the ACL faults of %s", name);
        } else {
            agent->acl_faults_pending = false;
        }
    }
    if (ops) {
        agent_transact(agent->vtep_db, &agent->vtep_txn, ops);
    }
}

/* Brings the flows in line with the policy in the current replicas 'vtep'
 * and 'ovs' (or NULL): translation, then the NIC and OVS, then the faults.
 * Before both databases' monitors have delivered their contents and
 * ofctrl has read what the switch holds (an ACL with no valid version is
 * recovered from it), the switch keeps what it has, and the changes
 * wait.
 *
 * The rows of a snapshot (agent/agent-snapshot.c) are translated while
 * the database confirms them, so that their flows are ready when its reply
 * comes; until then nothing goes to the switch, nothing enters the NIC
 * (translation only takes rules out of it) and no fault is reported.  So
 * it is while a large change is translated over several runs, one a
 * turn (translate_is_done()). */
void
agent_reconcile_flows(struct agent *agent, const struct odb_replica *vtep,
                      const struct odb_replica *ovs)
{
    const char *name, *tunnel_ip;

    /* The next slice of the flow_mods of the put under way, one a turn. */
    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
    if (ofctrl_put_more(agent->ofctrl, &msgs)) {
        agent_wake(agent);
    }
    if (!ovs_list_is_empty(&msgs)) {
        agent_ofp_send(agent, &msgs);
    }

    translate_identity(agent->translate, ovs != NULL, &name,
                       &tunnel_ip);
    if (!(vtep || agent->vtep_unconfirmed) || !ovs || !name
        || !ofctrl_has_installed(agent->ofctrl)) {
        return;
    }

    /* The NIC's rules that the changes affect leave it here. */
    translate_run(agent->translate, agent->vtep_idl, agent->ovs_idl,
                  ofctrl_installed(agent->ofctrl));
    if (translate_acl_faults_changed(agent->translate)) {
        agent->acl_faults_pending = true;
    }
    translate_clear(agent->translate);
    if (!translate_is_done(agent->translate)) {
        /* A large change (ACLs of 100,000 entries bound at once) is
         * translated a slice in each turn of the loop: the switch gets it
         * once it is whole. */
        agent_wake(agent);
        return;
    } else if (!vtep) {
        return;
    }

    agent_put_flows(agent, ovs);
    agent_report_faults(agent, name);
}

/* Returns true if the integration bridge is on the userspace datapath. */
static bool
agent_is_userspace(const struct agent *agent)
{
    const struct vswitch_bridge *br = vswitch_bridge_find_by_string(
        agent->ovs_idl, VSWITCH_BRIDGE_COL_NAME, agent->bridge);

    return br && !strcmp(br->datapath_type, "netdev");
}

/* Checks the underlay (agent/underlay.h) while the overlay has a tunnel,
 * and logs what it lacks, once each time that changes: the fault is then
 * reported on this switch's Physical_Switch.  (Every 2 seconds,
 * and when the overlay gains its first tunnel or loses its last.) */
void
agent_check_underlay(struct agent *agent)
{
    const struct odb_replica *ovs = agent_current(agent->ovs_db);
    const struct overlay *overlay = translate_overlay(agent->translate);
    const char *name, *tunnel_ip;

    translate_identity(agent->translate, ovs != NULL, &name, &tunnel_ip);
    agent->underlay_tunnels = hmap_count(&overlay->tunnels) > 0;
    char *fault = (ovs && tunnel_ip && agent->underlay_tunnels
                   ? underlay_check(agent->ovs_idl, tunnel_ip,
                                    agent_is_userspace(agent))
                   : NULL);
    if (fault ? !agent->underlay_fault || strcmp(fault, agent->underlay_fault)
        : agent->underlay_fault != NULL) {
        if (fault) {
            VLOG_WARN("the overlay's tunnels cannot work: %s", fault);
        } else {
            VLOG_INFO("the underlay is as the overlay's tunnels need it");
        }
        free(agent->underlay_fault);
        agent->underlay_fault = fault;
        agent_wake(agent);
    } else {
        free(fault);
    }
}

/* Gives the integration bridge the tunnels of the overlay as translation
 * read it in this run pass, when it ran (as agent_reconcile_flows() says):
 * never from an overlay not yet read, which would take away the tunnels
 * of a restarted iovpd. */
void
agent_reconcile_tunnels(struct agent *agent, const struct odb_replica *vtep,
                        const struct odb_replica *ovs)
{
    const char *name, *tunnel_ip;

    translate_identity(agent->translate, ovs != NULL, &name, &tunnel_ip);
    if (!vtep || !ovs || !name || !ofctrl_has_installed(agent->ofctrl)) {
        return;
    }
    if (agent->underlay_tunnels
        != (hmap_count(&translate_overlay(agent->translate)->tunnels) > 0)) {
        agent_check_underlay(agent);
    }
    json_t *ops = (agent->ovs_txn.in_flight ? NULL
                   : bridge_ensure_tunnels(agent->ovs_idl, agent->bridge,
                                           translate_overlay(agent->translate),
                                           tunnel_ip));
    if (ops) {
        VLOG_INFO("setting up the overlay's tunnels");
        agent_transact(agent->ovs_db, &agent->ovs_txn, ops);
    }

    if (!agent->vtep_txn.in_flight) {
        struct report_spec spec = {
            .switch_name = name,
            .tunnel_ip = tunnel_ip,
        };
        const struct overlay *overlay = translate_overlay(agent->translate);
        ops = report_tunnels(agent->vtep_idl, &spec, overlay);
        if (!ops) {
            ops = report_mcast_macs_local(agent->vtep_idl, &spec, overlay);
        }
        if (ops) {
            VLOG_DBG("reporting the overlay's tunnels and flooding");
            agent_transact(agent->vtep_db, &agent->vtep_txn, ops);
        }
    }
}
