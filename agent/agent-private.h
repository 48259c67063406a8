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

#ifndef IOVP_AGENT_PRIVATE_H
#define IOVP_AGENT_PRIVATE_H 1

/* The agent's parts, for the files that make it up and no one else:
 *
 *   agent/agent.c            lifecycle, the connections and their
 *                            callbacks, the run pass;
 *   agent/agent-reconcile.c  what each run pass brings in line: the
 *                            databases' rows that iovpd owns, then the
 *                            flows (translate, NIC withdraw, OVS bundle,
 *                            NIC commit, faults);
 *   agent/agent-snapshot.c   the hardware_vtep replica saved at exit, to
 *                            resume from at the next start;
 *   agent/agent-stats.c      the flows' counters, read every few seconds,
 *                            and the statistics reported from them;
 *   agent/agent-appctl.c     the control commands;
 *   agent/agent-capture.c    the capture sessions ("iovp-ofctl capture")
 *                            and their control commands;
 *   agent/agent-northbound.c the OpenFlow northbound's connections
 *                            (northbound/switch.h is the switch itself).
 *
 * Translation itself is agent/translate.h's. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include <openvswitch/hmap.h>
#include <openvswitch/list.h>

#include "lib/loop-lag.h"
#include "ofp/oflow.h"

struct bclient_options;
struct control_conn;
struct control_deferred;
struct nbswitch;
struct odb_client;
struct odb_idl;
struct odb_replica;
struct oflow_table;

/* A transaction the agent has in flight on one database: at most one on
 * each, so that each is computed from a replica that shows the last. */
struct agent_txn {
    struct agent *agent;
    const char *what;           /* For log messages. */
    bool in_flight;
};

/* A put of at least this many flow changes, or the first comparison of
 * this many flows after a start or a reconnection, ends a peak of freed
 * memory that iovpd gives back to the system (agent_put_flows()). */
#define AGENT_TRIM_FLOWS 10000

struct agent {
    uv_loop_t *loop;
    struct control_server *control;
    struct tls_context *tls;    /* For every ssl: remote, or NULL. */
    struct odb_client *ovs_db;  /* Open_vSwitch. */
    struct odb_client *vtep_db; /* hardware_vtep. */

    /* Typed models of the two databases (ovsdb/idl.h, model/vswitch-idl.h
     * and model/vtep-idl.h), updated from each batch of changes before
     * translation hears of it; their tracked rows are the last batch's.
     * What iovpd monitors is what they read ('vswitch_idl_monitor',
     * 'hwvtep_idl_monitor'). */
    struct odb_idl *ovs_idl;    /* Open_vSwitch ("vswitch_" tables). */
    struct odb_idl *vtep_idl;   /* hardware_vtep ("hwvtep_" tables). */

    /* Of hardware_vtep, iovpd monitors only this switch's rows
     * (agent/vtep-scope.h): the identity its conditions were made for, and
     * whether a change may have changed them, and what the reference sets
     * of the last conditions were (vtep_scope_conditions()'s digests). */
    char *scope_name;
    char *scope_tunnel_ip;
    bool scope_changed;
    bool scope_restored;        /* The snapshot's identity gives what the
                                 * options do not, until Open_vSwitch is
                                 * read. */
    bool vtep_unconfirmed;      /* The hardware_vtep replica holds a
                                 * snapshot's rows, which the database has
                                 * not confirmed yet. */
    json_t *scope_digests;
    json_t *scope_conds;        /* The last conditions made, when they were
                                 * complete and no monitor has taken them
                                 * yet: at 100,000 rows they take 0.3 s to
                                 * make, and a few MB to keep. */
    uv_signal_t sigterm;
    uv_signal_t sigint;
    bool handles;               /* Its libuv handles are initialized. */
    bool exiting;

    /* One run pass per loop iteration while something changed.  Once
     * woken, the idle handle arms the check handle, which runs the pass
     * after the loop next polls for I/O: reading a large batch of changes
     * and the run that follows are two turns of the loop, not one. */
    uv_idle_t wake;
    uv_check_t run;
    struct loop_lag lag;        /* How long each turn of the loop works. */
    uv_timer_t retry;           /* Runs again after a failed transaction. */
    uv_timer_t ports;           /* Ends a down port's grace period. */
    uv_timer_t underlay;        /* Checks the underlay again. */

    /* Configuration. */
    char *bridge;
    char *datapath_type;
    char *snapshot;             /* The snapshot file, or NULL for none. */
    long long int port_grace;   /* Seconds (report.h). */

    struct agent_txn ovs_txn;
    struct agent_txn vtep_txn;

    /* OpenFlow to the integration bridge, over its management socket. */
    struct ofp_client *ofp;
    struct ofctrl *ofctrl;
    bool trim_at_ready;         /* The put in flight ends a large peak:
                                 * AGENT_TRIM_FLOWS. */

    /* The OpenFlow northbound, or NULL without --openflow: the switch,
     * its own connection to the bridge, its listeners, and its
     * connections to controllers ("struct agent_nb_peer"s). */
    struct nbswitch *nb;
    uv_check_t nb_flush;        /* Flushes it once a loop iteration. */
    struct ofp_client *nb_bridge;
    unsigned int nb_bridge_connections;
    struct ofp_server **nb_servers;
    size_t n_nb_servers;
    struct ovs_list nb_peers;

    /* With offload, the frames the NIC decided by each flow of the
     * controller's table 0, for its flow statistics: what each rule of
     * each port's fast path counted as of the last read of the NIC's
     * counters ("struct agent_nb_rule"s), and, in the n_packets and
     * n_bytes of a copy of each flow, their sums ('nb_nic_now') and what
     * rules that are gone counted ('nb_nic_gone'), so that a flow's
     * counters never go back when its rules in the NIC change. */
    struct hmap nb_nic_rules;
    struct oflow_table nb_nic_now, nb_nic_gone;

    /* Offload: each VM port's fast path in the NIC, or NULL if none. */
    struct nicctrl *nicctrl;

    /* Translation: the desired flows and the NIC's rules. */
    struct translate *translate;
    bool acl_faults_pending;    /* The ACLs' faults may differ from what the
                                 * database shows: a report is due. */
    char *underlay_fault;       /* What the underlay lacks, or NULL
                                 * (agent_check_underlay()). */
    bool underlay_tunnels;      /* The overlay had a tunnel at the last
                                 * check. */

    /* agent-stats.c's. */
    uv_timer_t stats;           /* Reads the flows' counters. */
    bool stats_all;             /* The read under way is of every table. */

    /* agent-appctl.c's: "policy/dump"s that wait for counters
     * ("struct agent_waiter"s), and "flows/dump"s
     * ("struct agent_flows_request"s): those that the read of the switch's
     * flows under way answers, and those that came after it began, which
     * wait for the next, since a read begun before a request could miss a
     * change made just before it.  One read at a time, however many
     * clients ask. */
    struct ovs_list waiters;
    struct ovs_list flows_reading;
    struct ovs_list flows_next;

    /* agent-capture.c's: the capture sessions ("struct agent_capture"s),
     * the timer that looks for their clients while there are any, and the
     * number in the name of the next one's device. */
    struct ovs_list captures;
    uv_timer_t capture_timer;
    unsigned int capture_serial;
};

/* agent.c. */
struct odb_replica *agent_current(struct odb_client *);
void agent_wake(struct agent *);
void agent_wake_timer(uv_timer_t *);
void agent_ofp_send(struct agent *, struct ovs_list *msgs);
void agent_transact(struct odb_client *, struct agent_txn *, json_t *ops);

/* agent-reconcile.c. */
void agent_reconcile_databases(struct agent *, const struct odb_replica *vtep,
                               const struct odb_replica *ovs);
void agent_reconcile_flows(struct agent *, const struct odb_replica *vtep,
                           const struct odb_replica *ovs);
void agent_check_underlay(struct agent *);
void agent_reconcile_tunnels(struct agent *, const struct odb_replica *vtep,
                             const struct odb_replica *ovs);

/* agent-snapshot.c. */
void agent_snapshot_save(struct agent *);
void agent_snapshot_restore(struct agent *);

/* agent-stats.c. */
void agent_stats_start(struct agent *);
void agent_stats_read(struct agent *);
void agent_read_all_stats(struct agent *);

/* agent-northbound.c. */
char *agent_northbound_open(struct agent *, const char *targets,
                            const char *bridge_remote,
                            const struct bclient_options *);
void agent_northbound_close(struct agent *);
void agent_northbound_run(struct agent *);
void agent_northbound_read_nic(struct agent *);
json_t *agent_northbound_status(const struct agent *);

/* agent-capture.c. */
void agent_capture_init(struct agent *);
void agent_capture_close(struct agent *);
void agent_capture_register(struct agent *);
void agent_capture_run(struct agent *);
void agent_capture_answer(struct agent *);

/* agent-appctl.c. */
void agent_appctl_register(struct agent *);
void agent_answer_waiters(struct agent *);
void agent_flows_read(struct agent *);
void agent_flows_answer_all(const struct agent *, struct ovs_list *,
                            const struct oflow_table *flows,
                            const char *error);

#endif /* agent/agent-private.h */
