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

#include "agent/agent.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/flow.h>
#include <openvswitch/list.h>
#include <openvswitch/ofpbuf.h>
#include <openvswitch/vlog.h>

#include "agent/bridge.h"
#include "agent/nic.h"
#include "agent/pipeline.h"
#include "agent/report.h"
#include "agent/show.h"
#include "agent/switch-ports.h"
#include "agent/trace.h"
#include "agent/xlate-acl.h"
#include "lib/control.h"
#include "lib/tls.h"
#include "lib/util.h"
#include "offload/nicctrl.h"
#include "offload/sim.h"
#include "ofp/client.h"
#include "ofp/ofconn.h"
#include "ofp/desired.h"
#include "ofp/ofctrl.h"
#include "ofp/oflow.h"
#include "ovsdb/client.h"
#include "ovsdb/query.h"
#include "ovsdb/schema.h"

VLOG_DEFINE_THIS_MODULE(agent);

/* The tables iovpd reads from each database. */
static const char *const ovs_open_vswitch_columns[] = {
    "bridges", "external_ids", "cur_cfg", "next_cfg", NULL,
};
static const char *const ovs_bridge_columns[] = {
    "name", "ports", "fail_mode", "protocols", "datapath_type",
    "controller", "external_ids", NULL,
};
static const char *const ovs_port_columns[] = {
    "name", "interfaces", NULL,
};
static const char *const ovs_interface_columns[] = {
    "name", "type", "ofport", "external_ids", NULL,
};
static const struct odb_monitor_table ovs_tables[] = {
    { .table = "Open_vSwitch", .columns = ovs_open_vswitch_columns },
    { .table = "Bridge", .columns = ovs_bridge_columns },
    { .table = "Port", .columns = ovs_port_columns },
    { .table = "Interface", .columns = ovs_interface_columns },
};
static const struct odb_monitor_table vtep_tables[] = {
    { .table = "Global" },
    { .table = "Physical_Switch" },
    { .table = "Physical_Port" },
    { .table = "Logical_Switch" },
    { .table = "Physical_Locator" },
    { .table = "Physical_Locator_Set" },
    { .table = "Ucast_Macs_Local" },
    { .table = "Ucast_Macs_Remote" },
    { .table = "Mcast_Macs_Local" },
    { .table = "Mcast_Macs_Remote" },
    { .table = "Logical_Binding_Stats" },
    { .table = "ACL" },
    { .table = "ACL_entry" },
    /* iovp's extensions (schemas/iovp.ovsschema), absent from a stock
     * hardware_vtep database. */
    { .table = "Iovp_Port", .optional = true },
    { .table = "Iovp_Offload", .optional = true },
};

/* A transaction the agent has in flight on one database: at most one on
 * each, so that each is computed from a replica that shows the last. */
struct agent_txn {
    struct agent *agent;
    const char *what;           /* For log messages. */
    bool in_flight;
};

struct agent {
    uv_loop_t *loop;
    struct control_server *control;
    struct tls_context *tls;    /* For every ssl: remote, or NULL. */
    struct odb_client *ovs_db;  /* Open_vSwitch. */
    struct odb_client *vtep_db; /* hardware_vtep. */
    uv_signal_t sigterm;
    uv_signal_t sigint;
    bool exiting;

    /* One run pass per loop iteration while something changed: the idle
     * handle runs only while 'dirty'. */
    uv_idle_t run;
    uv_timer_t retry;           /* Runs again after a failed transaction. */
    uv_timer_t stats;           /* Reads the flows' counters. */
    uv_timer_t ports;           /* Ends a down port's grace period. */
    unsigned int n_stats_reads;
    bool stats_all;             /* The read under way is of every table. */
    struct ovs_list waiters;    /* Contains "struct agent_waiter"s. */

    /* "flows/dump"s ("struct agent_flows_request"s): those that the read
     * of the switch's flows under way answers, and those that came after
     * it began, which wait for the next, since a read begun before a
     * request could miss a change made just before it.  One read at a
     * time, however many clients ask. */
    struct ovs_list flows_reading;
    struct ovs_list flows_next;

    /* Configuration. */
    char *bridge;
    char *datapath_type;
    char *switch_name;          /* NULL: derived. */
    char *tunnel_ip;            /* NULL: derived. */
    long long int port_grace;   /* Seconds (report.h). */

    struct agent_txn ovs_txn;
    struct agent_txn vtep_txn;

    /* OpenFlow to the integration bridge, over its management socket. */
    struct ofp_client *ofp;
    struct ofctrl *ofctrl;
    size_t put_size;            /* Flow changes in the put in flight. */

    /* Offload: each VM port's fast path in the NIC, or NULL if none. */
    struct nicctrl *nicctrl;
    /* Translation: the flows the policy asks for, and what changed in the
     * policy since they were made. */
    struct desired desired;
    struct xlate_acl *xacl;     /* The ACLs' translation. */
    json_t *bound_acls;         /* {"NAME": true} for each ACL bound. */
    json_t *port_faults;        /* pipeline_build()'s port faults. */
    json_t *ambiguities;        /* pipeline_build()'s, as last logged. */
    bool pipeline_dirty;        /* Make the pipeline's flows again. */
    bool acls_full;             /* Read every bound ACL again. */
    bool acl_faults_dirty;      /* The ACLs' faults may need a report. */
    json_t *changed_acls;       /* {"UUID": true} of ACL rows changed. */
    json_t *changed_entries;    /* {"UUID": true} of ACL_entry rows. */
    const struct odb_replica *vtep_seen;    /* The replica they concern. */
};

static void agent_wake(struct agent *);
static void agent_reply(struct control_conn *, json_t *,
                        char *(*text)(const json_t *));
static void agent_wake_timer(uv_timer_t *);
static void agent_ofp_send(struct agent *, struct ovs_list *);

/* How often iovpd reads its flows' counters from the switch and reports
 * the VLAN bindings' statistics, in ms. */
#define AGENT_STATS_INTERVAL 5000
#define AGENT_ALL_STATS_INTERVAL 30000

/* A put of at least this many flow changes leaves a peak of freed memory
 * (encoded messages, copies in flight) that iovpd gives back to the system
 * once the switch has taken it. */
#define AGENT_TRIM_FLOWS 10000

/* "exit": replies, then shuts the agent down. */
static void
agent_cmd_exit(struct control_conn *conn, int argc OVS_UNUSED,
               const char *argv[] OVS_UNUSED, void *agent_)
{
    struct agent *agent = agent_;

    control_reply(conn, "");
    agent_shutdown(agent);
}

/* Returns the replica of 'db' if it is complete and current, else NULL. */
static struct odb_replica *
agent_current(struct odb_client *db)
{
    return odb_client_is_active(db) ? odb_client_replica(db) : NULL;
}

/* Returns the client of database 'name', or NULL. */
static struct odb_client *
agent_find_db(const struct agent *agent, const char *name)
{
    return (!strcmp(name, "Open_vSwitch") ? agent->ovs_db
            : !strcmp(name, "hardware_vtep") ? agent->vtep_db
            : NULL);
}

/* "ovsdb/status": each OVSDB session's remote, state, leadership, last
 * transaction id, rows per table and counters. */
static void
agent_cmd_ovsdb_status(struct control_conn *conn, int argc OVS_UNUSED,
                       const char *argv[] OVS_UNUSED, void *agent_)
{
    static const char *const names[] = { "Open_vSwitch", "hardware_vtep" };
    struct agent *agent = agent_;

    if (control_conn_format(conn) == CONTROL_FMT_JSON) {
        json_t *status = json_object();
        for (size_t i = 0; i < IOVP_ARRAY_SIZE(names); i++) {
            json_object_set_new(status, names[i], odb_client_status(
                                    agent_find_db(agent, names[i])));
        }
        control_reply_json(conn, status);
        return;
    }

    struct ds text = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(names); i++) {
        char *db = odb_client_status_text(agent_find_db(agent, names[i]));
        ds_put_format(&text, "%s:\n%s", names[i], db);
        free(db);
    }
    control_reply(conn, ds_cstr(&text));
    ds_destroy(&text);
}

/* "ovsdb/dump DB": the replica of database DB, as JSON. */
static void
agent_cmd_ovsdb_dump(struct control_conn *conn, int argc OVS_UNUSED,
                     const char *argv[], void *agent_)
{
    struct agent *agent = agent_;
    struct odb_client *db = agent_find_db(agent, argv[1]);
    struct odb_replica *replica = db ? odb_client_replica(db) : NULL;

    if (!db) {
        control_reply_error(conn, "no such database (use Open_vSwitch or "
                            "hardware_vtep)");
    } else if (!replica) {
        control_reply_error(conn, "no copy of the database yet");
    } else {
        control_reply_json(conn, odb_replica_to_json(replica));
    }
}

/* Returns true if 'change' of a row of table 't' changed only columns in
 * 'columns' (NULL-terminated): the ones iovpd writes itself. */
static bool
agent_change_only(const struct odb_replica_table *t,
                  const struct odb_change *change,
                  const char *const *columns)
{
    size_t i;
    json_t *column;

    if (change->kind != ODB_CHANGE_MODIFY || !change->columns) {
        return false;
    }
    json_array_foreach (change->columns, i, column) {
        bool ours = false;
        for (const char *const *c = columns; *c && !ours; c++) {
            ours = !strcmp(*c, json_string_value(column));
        }
        if (!ours) {
            return false;
        }
    }
    return t != NULL;
}

/* Notes what 'change', a change in the hardware_vtep replica 'vtep', means
 * for translation: the ACL or ACL_entry row it concerns, or the pipeline
 * to make again.  What iovpd itself writes there (statuses, statistics,
 * the local MACs) means nothing. */
static void
agent_note_change(struct agent *agent, const struct odb_replica *vtep,
                  const struct odb_change *change)
{
    static const char *const port_status[] = {
        "port_fault_status", "vlan_stats", NULL,
    };
    static const char *const acl_status[] = { "acl_fault_status", NULL };
    static const char *const entry_status[] = { "acle_fault_status", NULL };
    const struct odb_replica_table *t = &vtep->tables[change->table];
    const char *table = t->schema->name;

    if (!strcmp(table, "ACL_entry")) {
        if (!agent_change_only(t, change, entry_status)) {
            json_object_set_new(agent->changed_entries, change->uuid,
                                json_true());
        } else {
            /* Its fault status changed: perhaps not by iovpd (a database
             * restart loses them). */
            agent->acl_faults_dirty = true;
        }
    } else if (!strcmp(table, "ACL")) {
        if (agent_change_only(t, change, acl_status)) {
            agent->acl_faults_dirty = true;
        } else {
            json_object_set_new(agent->changed_acls, change->uuid,
                                json_true());
            agent->pipeline_dirty = true;
        }
    } else if (!strcmp(table, "Physical_Port")) {
        if (!agent_change_only(t, change, port_status)) {
            agent->pipeline_dirty = true;
        }
    } else if (strcmp(table, "Logical_Binding_Stats")
               && strcmp(table, "Ucast_Macs_Local")
               && strcmp(table, "Physical_Locator")) {
        agent->pipeline_dirty = true;
    }
}

/* A database changed, or its replica became current: the agent runs. */
static void
agent_db_changed(struct odb_client *db, void *agent_)
{
    struct agent *agent = agent_;
    struct odb_replica *replica = odb_client_replica(db);

    VLOG_DBG("%s: %zu rows changed", replica->schema->name,
             replica->n_changes);
    if (db == agent->ovs_db) {
        agent->pipeline_dirty = true;
    } else if (replica != agent->vtep_seen) {
        /* A new copy of the database (a new schema): everything. */
        agent->vtep_seen = replica;
        agent->pipeline_dirty = agent->acls_full = true;
        agent->acl_faults_dirty = true;
    } else {
        for (size_t i = 0; i < replica->n_changes; i++) {
            agent_note_change(agent, replica, &replica->changes[i]);
        }
    }
    odb_replica_clear_changes(replica);
    agent_wake(agent);
}

static void
agent_txn_cb(enum odb_txn_outcome outcome, const json_t *result, void *txn_)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    struct agent_txn *txn = txn_;
    struct agent *agent = txn->agent;

    txn->in_flight = false;
    if (outcome == ODB_TXN_FAILED) {
        const char *error = json_string_value(json_object_get(result,
                                                              "error"));
        if (error && !strcmp(error, "timed out")) {
            /* A guard found the database changed meanwhile: the update on
             * its way will show how, and the agent runs again then. */
            VLOG_DBG("%s: database changed meanwhile", txn->what);
        } else {
            char *s = json_dumps(result, JSON_ENCODE_ANY | JSON_COMPACT);
            VLOG_WARN_RL(&rl, "%s failed: %s", txn->what, s);
            free(s);
            uv_timer_start(&agent->retry, agent_wake_timer, 1000, 0);
        }
        return;
    }
    if (outcome == ODB_TXN_UNKNOWN) {
        VLOG_INFO("%s: outcome unknown (connection lost); will look again",
                  txn->what);
    }
    agent_wake(agent);
}

/* Sends the transaction 'ops' (stolen) for 'txn' on 'db'. */
static void
agent_transact(struct odb_client *db, struct agent_txn *txn, json_t *ops)
{
    if (!odb_client_transact(db, ops, agent_txn_cb, txn)) {
        txn->in_flight = true;
    }
}

/* Returns the value of 'key' in the Open_vSwitch row's external_ids, or
 * NULL. */
static const char *
agent_ovs_external_id(const struct odb_replica *ovs, const char *key)
{
    const struct odb_replica_table *t = odb_replica_find_table(
        ovs, "Open_vSwitch");
    const struct odb_row *row = odb_first_row(t);

    return (row
            ? json_string_value(odb_map_get(odb_row_get(t, row,
                                                        "external_ids"),
                                            key))
            : NULL);
}

/* Sets '*namep' to the switch's name: --switch-name, else Open_vSwitch
 * external_ids:system-id, else the host name (NULL while 'ovs', the
 * Open_vSwitch replica, is NULL and no option gave it); and '*ipp' to the
 * host's tunnel address: --tunnel-ip, else external_ids:iovp-tunnel-ip, else
 * NULL.  Both are malloc()'d. */
static void
agent_identity(const struct agent *agent, const struct odb_replica *ovs,
               char **namep, char **ipp)
{
    const char *name = agent->switch_name;
    const char *ip = agent->tunnel_ip;
    char hostname[256];

    if (ovs) {
        name = name ? name : agent_ovs_external_id(ovs, "system-id");
        ip = ip ? ip : agent_ovs_external_id(ovs, "iovp-tunnel-ip");
        if (!name && !gethostname(hostname, sizeof hostname)) {
            hostname[sizeof hostname - 1] = '\0';
            name = hostname;
        }
    }
    *namep = name ? iovp_xstrdup(name) : NULL;
    *ipp = ip ? iovp_xstrdup(ip) : NULL;
}

/* Returns a new reference to the switch as show_switch() describes it,
 * from the replicas that are current. */
static json_t *
agent_show(const struct agent *agent)
{
    struct odb_replica *ovs = agent_current(agent->ovs_db);
    struct odb_replica *vtep = agent_current(agent->vtep_db);
    char *name, *tunnel_ip;

    agent_identity(agent, ovs, &name, &tunnel_ip);
    struct show_spec spec = {
        .switch_name = name,
        .tunnel_ip = tunnel_ip,
        .bridge = agent->bridge,
    };
    json_t *show = show_switch(vtep, ovs, &spec);
    free(name);
    free(tunnel_ip);
    return show;
}

/* "switch/show": the switch, its VM ports with their ofports, and their
 * bindings. */
static void
agent_cmd_switch_show(struct control_conn *conn, int argc OVS_UNUSED,
                      const char *argv[] OVS_UNUSED, void *agent_)
{
    struct agent *agent = agent_;
    json_t *show = agent_show(agent);

    agent_reply(conn, show, show_switch_text);
}

/* Adds to 'faults' (see report_port_faults()) an "unspecified_fault" for
 * each port of switch 'name' in 'vtep' that a flow the switch refused came
 * from: for the Physical_Port row that iovpd uses for the port. */
static void
agent_rejection_faults(const struct agent *agent,
                       const struct odb_replica *vtep, const char *name,
                       json_t *faults)
{
    const struct odb_replica_table *pports = odb_replica_find_table(
        vtep, "Physical_Port");
    size_t n_rej;
    const struct ofctrl_rejection *rej = ofctrl_rejections(agent->ofctrl,
                                                           &n_rej);

    if (!n_rej) {
        return;
    }
    size_t n_pps;
    const struct odb_row **pps = switch_ports_used(vtep, name, &n_pps);
    for (size_t i = 0; i < n_pps; i++) {
        const char *port = json_string_value(odb_row_get(pports, pps[i],
                                                         "name"));
        uint64_t cookie = ofctrl_cookie(pipeline_port_origin(port
                                                             ? port : ""));
        for (size_t j = 0; j < n_rej; j++) {
            if (rej[j].flow->cookie == cookie) {
                json_t *list = json_object_get(faults, pps[i]->uuid);
                if (!list) {
                    list = json_array();
                    json_object_set_new(faults, pps[i]->uuid, list);
                }
                json_array_append_new(list,
                                      json_string("unspecified_fault"));
                break;
            }
        }
    }
    free(pps);
}

/* Logs each ambiguity in 'ambiguities' (pipeline_build()'s) that the
 * last translation did not find, and each one that it found and this one
 * does not, and keeps 'ambiguities' (stolen) for the next: once per
 * change, however often the pipeline is made again. */
static void
agent_log_ambiguities(struct agent *agent, json_t *ambiguities)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    const char *text;
    json_t *value;

    json_object_foreach (ambiguities, text, value) {
        if (!json_object_get(agent->ambiguities, text)) {
            VLOG_WARN_RL(&rl, "%s", text);
        }
    }
    json_object_foreach (agent->ambiguities, text, value) {
        if (!json_object_get(ambiguities, text)) {
            VLOG_INFO_RL(&rl, "resolved: %s", text);
        }
    }
    json_decref(agent->ambiguities);
    agent->ambiguities = ambiguities;
}

/* Translates the policy in 'vtep' and 'ovs' for switch 'name' into the
 * desired flows, sends ofctrl's difference to the switch, and reports the
 * ports' faults. */
static void
agent_put_flows(struct agent *agent, const struct odb_replica *vtep,
                const struct odb_replica *ovs, const char *name)
{
    /* Translation needs the flows the switch holds (an ACL with no valid
     * version is recovered from them): until ofctrl has read them, the
     * changes wait. */
    if (!ofctrl_has_installed(agent->ofctrl)) {
        return;
    }
    bool policy_changed = (agent->pipeline_dirty || agent->acls_full
                           || json_object_size(agent->changed_acls)
                           || json_object_size(agent->changed_entries));
    if (agent->pipeline_dirty) {
        struct pipeline_spec spec = {
            .switch_name = name,
            .bridge = agent->bridge,
        };
        struct oflow_table flows;

        json_decref(agent->port_faults);
        json_decref(agent->bound_acls);
        agent->port_faults = json_object();
        agent->bound_acls = json_object();
        json_t *ambiguities = json_object();
        oflow_table_init(&flows);
        pipeline_build(vtep, ovs, &spec, &flows, agent->port_faults,
                       agent->bound_acls, ambiguities);
        agent_log_ambiguities(agent, ambiguities);
        desired_set_group(&agent->desired, "pipeline", &flows);
        oflow_table_destroy(&flows);
        agent->pipeline_dirty = false;
    }
    if (xlate_acl_run(agent->xacl, vtep, agent->bound_acls,
                      agent->acls_full ? NULL : agent->changed_acls,
                      agent->acls_full ? NULL : agent->changed_entries,
                      ofctrl_installed(agent->ofctrl), &agent->desired)) {
        agent->acl_faults_dirty = true;
    }
    json_object_clear(agent->changed_acls);
    json_object_clear(agent->changed_entries);
    agent->acls_full = false;

    /* The NIC first: what the change affects leaves it before OVS is sent
     * the change (offload/nicctrl.h). */
    if (agent->nicctrl && policy_changed) {
        struct pipeline_spec spec = {
            .switch_name = name,
            .bridge = agent->bridge,
        };
        struct nic_policy policy = {
            .vtep = vtep, .ovs = ovs, .spec = &spec, .xacl = agent->xacl,
            .desired = &agent->desired,
            .installed = ofctrl_installed(agent->ofctrl),
        };
        nic_update(agent->nicctrl, &policy);
    }

    /* No flow goes to the switch before the bridge is set up as iovpd
     * needs it, in the database and in ovs-vswitchd: OVS deletes every
     * flow of a bridge whose fail mode changes. */
    struct bridge_spec bs = {
        .name = agent->bridge,
        .datapath_type = agent->datapath_type,
    };
    if (ofctrl_is_ready(agent->ofctrl) && bridge_is_ready(ovs, &bs)) {
        struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
        size_t n = ofctrl_put(agent->ofctrl, &agent->desired, &msgs);
        if (n) {
            VLOG_INFO("sending %zu flow changes to the switch", n);
            agent_ofp_send(agent, &msgs);
        }
        agent->put_size = n;

        /* OVS holds every desired flow: the NIC may follow.  A flow OVS
         * refused makes OVS differ from the policy, and then nothing runs
         * in the NIC. */
        size_t n_rejections;
        ofctrl_rejections(agent->ofctrl, &n_rejections);
        if (agent->nicctrl && !n) {
            if (n_rejections) {
                nicctrl_withdraw_all(agent->nicctrl);
            } else {
                nicctrl_commit(agent->nicctrl, uv_now(agent->loop));
            }
        }
    }

    if (!agent->vtep_txn.in_flight) {
        struct report_spec rs = { .switch_name = name };
        json_t *faults = json_deep_copy(agent->port_faults);
        agent_rejection_faults(agent, vtep, name, faults);
        json_t *ops = report_port_faults(vtep, &rs, faults);
        json_decref(faults);
        if (ops) {
            VLOG_INFO("reporting the port faults of %s", name);
        } else if (agent->acl_faults_dirty) {
            /* Looked at only when they may differ: with long ACLs, a look
             * at every entry's faults costs more than a change. */
            json_t *acl_faults = xlate_acl_faults(agent->xacl);
            ops = report_acl_faults(vtep, agent->bound_acls, acl_faults);
            json_decref(acl_faults);
            if (ops) {
                VLOG_INFO("reporting the ACL faults of %s", name);
            } else {
                agent->acl_faults_dirty = false;
            }
        }
        if (ops) {
            agent_transact(agent->vtep_db, &agent->vtep_txn, ops);
        }
    }
}

/* Returns the operations that report offload's totals in Iovp_Offload, or
 * NULL.  The hit rate is the share of what the VMs sent into their logical
 * switches that the NIC decided: of the frames from local of every VLAN
 * binding ('stats', pipeline_binding_stats()'s, which count each frame
 * once, wherever it was decided), the 'in_nic' that the NIC decided. */
static json_t *
agent_report_offload(struct agent *agent, const struct odb_replica *vtep,
                     const struct report_spec *rs, const json_t *stats,
                     uint64_t in_nic)
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
    json_t *ops = report_offload(vtep, rs, summary);
    json_decref(summary);
    return ops;
}

/* pipeline_extra_stats_cb for the frames the NIC decided, from 'nic_'
 * (nic_flow_stats()'s). */
static void
agent_nic_flow_stats(const struct oflow *f, uint64_t *packets,
                     uint64_t *bytes, void *nic_)
{
    const json_t *nic = nic_;
    char key[32];

    nic_flow_key(f, key, sizeof key);
    const json_t *counts = json_object_get(nic, key);
    *packets = json_integer_value(json_object_get(counts, "packets"));
    *bytes = json_integer_value(json_object_get(counts, "bytes"));
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
    char *name, *tunnel_ip;

    agent_identity(agent, ovs, &name, &tunnel_ip);
    if (ovs && vtep && name && !agent->vtep_txn.in_flight) {
        struct pipeline_spec ps = {
            .switch_name = name,
            .bridge = agent->bridge,
        };
        struct nic_policy policy = {
            .vtep = vtep, .ovs = ovs, .spec = &ps, .xacl = agent->xacl,
            .desired = &agent->desired,
            .installed = ofctrl_installed(agent->ofctrl),
        };
        json_t *nic = (agent->nicctrl
                       ? nic_flow_stats(agent->nicctrl, &policy) : NULL);
        uint64_t in_nic = 0;
        json_t *stats = pipeline_binding_stats(
            vtep, ovs, &ps, ofctrl_installed(agent->ofctrl),
            nic ? agent_nic_flow_stats : NULL, nic, &in_nic);
        json_decref(nic);
        struct report_spec rs = { .switch_name = name };
        if (agent->nicctrl) {
            /* The ACL entries' traffic in OVS, new: the fast paths' rules
             * again, with it as their weights. */
            nic_update(agent->nicctrl, &policy);
        }
        json_t *ops = report_vlan_stats(vtep, &rs, stats);
        if (agent->nicctrl) {
            json_t *offload_ops = agent_report_offload(agent, vtep, &rs,
                                                       stats, in_nic);
            if (offload_ops && ops) {
                json_array_extend(ops, offload_ops);
                json_decref(offload_ops);
            } else if (offload_ops) {
                ops = offload_ops;
            }
        }
        if (ops) {
            VLOG_DBG("reporting the VLAN statistics of %s", name);
            agent_transact(agent->vtep_db, &agent->vtep_txn, ops);
        }
        json_decref(stats);
    }
    free(name);
    free(tunnel_ip);
}

/* Every AGENT_STATS_INTERVAL: reads the counters of the flows that the
 * VLAN statistics come from (tables 0 and 50); every
 * AGENT_ALL_STATS_INTERVAL, those of every flow.  (Reading a hundred
 * thousand ACL flows' counters every few seconds would cost OVS, and
 * iovpd, more than the statistics are worth.) */
static void
agent_stats_timer(uv_timer_t *timer)
{
    static const uint8_t vlan_tables[] = {
        PIPELINE_T_CLASSIFY, PIPELINE_T_OUTPUT,
    };
    static const uint8_t offload_tables[] = {   /* And the ingress ACLs'. */
        PIPELINE_T_CLASSIFY, PIPELINE_T_INGRESS_ACL, PIPELINE_T_OUTPUT,
    };
    static const uint8_t all_tables[] = { 0xff };
    struct agent *agent = timer->data;
    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
    bool all = !(agent->n_stats_reads++ % (AGENT_ALL_STATS_INTERVAL
                                           / AGENT_STATS_INTERVAL));
    const uint8_t *tables = (all ? all_tables
                             : agent->nicctrl ? offload_tables
                             : vlan_tables);
    size_t n_tables = (all ? 1
                       : agent->nicctrl ? IOVP_ARRAY_SIZE(offload_tables)
                       : IOVP_ARRAY_SIZE(vlan_tables));

    if (ofctrl_read_stats(agent->ofctrl, tables, n_tables, &msgs)) {
        agent->stats_all = all;
        agent_ofp_send(agent, &msgs);
    }
    if (agent->nicctrl && ofctrl_is_ready(agent->ofctrl)) {
        nicctrl_replan(agent->nicctrl, uv_now(agent->loop));
        agent_wake(agent);      /* A run commits what waits for it. */
    }
}

/* Returns the flow that the switch refused among 'agent''s rejections
 * (ofctrl_rejections()) that is 'f' as it is, or NULL. */
static const struct ofctrl_rejection *
agent_find_rejection(const struct agent *agent, const struct oflow *f)
{
    size_t n;
    const struct ofctrl_rejection *rej = ofctrl_rejections(agent->ofctrl, &n);

    for (size_t i = 0; i < n; i++) {
        const struct oflow *r = rej[i].flow;
        if (r->table_id == f->table_id && r->priority == f->priority
            && minimatch_equal(&r->match, &f->match)
            && oflow_same_actions(r, f)) {
            return &rej[i];
        }
    }
    return NULL;
}

/* Returns true if 'a' and 'b' are one flow as iovpd asks for it: identity,
 * cookie and actions. */
static bool
agent_same_flow(const struct oflow *a, const struct oflow *b)
{
    return a && b && a->cookie == b->cookie && oflow_same_actions(a, b);
}

/* Returns a new reference to one flow 'f' of "flows/dump" with 'status'
 * ("installed", "unrequested" or "missing"); 'in_nic' ({"packets",
 * "bytes"} or NULL) is what the NIC decided by it.  A missing flow has no
 * counters, and the reason the switch gave if it refused it. */
static json_t *
agent_flow_json(const struct oflow *f, const char *status,
                const json_t *in_nic, const char *refused)
{
    json_int_t nic_packets = json_integer_value(json_object_get(in_nic,
                                                                "packets"));
    json_int_t nic_bytes = json_integer_value(json_object_get(in_nic,
                                                              "bytes"));
    struct ds match = DS_EMPTY_INITIALIZER;
    struct ds actions = DS_EMPTY_INITIALIZER;
    char hex[19];

    snprintf(hex, sizeof hex, "%#"PRIx64, f->cookie);
    oflow_format_match(f, &match);
    oflow_format_actions(f, &actions);
    json_t *flow = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s}",
                             "status", status, "cookie", hex,
                             "table", f->table_id, "priority", f->priority,
                             "match", ds_cstr(&match),
                             "actions", ds_cstr(&actions));
    ds_destroy(&match);
    ds_destroy(&actions);

    if (!strcmp(status, "missing")) {
        if (refused) {
            json_object_set_new(flow, "refused", json_string(refused));
        }
    } else {
        json_object_set_new(flow, "n_packets",
                            json_integer(f->n_packets + nic_packets));
        json_object_set_new(flow, "nic_packets", json_integer(nic_packets));
        json_object_set_new(flow, "n_bytes",
                            json_integer(f->n_bytes + nic_bytes));
        json_object_set_new(flow, "nic_bytes", json_integer(nic_bytes));
        json_object_set_new(flow, "duration",
                            json_integer(f->duration_sec));
    }
    return flow;
}

/* Returns a new reference to what "flows/dump" answers: the flows that the
 * switch holds ('flows', as ofctrl_dump_flows() read them), with their
 * counters and the frames the NIC decided by them, each "installed" if
 * iovpd asked for it as it is, else "unrequested" (someone else's, or
 * iovpd's but no longer wanted); then the desired flows that the switch
 * lacks, "missing".  With 'port' nonnull, only the flows with the cookie
 * of Physical_Port 'port'.  Each is {"status", "cookie", "table",
 * "priority", "match", "actions"} and "n_packets", "nic_packets",
 * "n_bytes", "nic_bytes", "duration" for a flow the switch holds (the
 * totals counting the NIC's frames too), "refused" (the
 * switch's error) for a missing flow that it refused; in the order
 * oflow_table_sorted() gives. */
static json_t *
agent_flows_json(const struct agent *agent, const char *port,
                 const struct oflow_table *flows)
{
    const struct oflow_table *installed = ofctrl_installed(agent->ofctrl);
    const struct oflow_table *want = desired_flows(&agent->desired);

    /* The frames the NIC decided, by the installed flows they would have
     * taken. */
    json_t *nic = NULL;
    struct odb_replica *ovs = agent_current(agent->ovs_db);
    struct odb_replica *vtep = agent_current(agent->vtep_db);
    if (agent->nicctrl && ovs && vtep) {
        char *name, *tunnel_ip;
        agent_identity(agent, ovs, &name, &tunnel_ip);
        struct pipeline_spec spec = {
            .switch_name = name ? name : "",
            .bridge = agent->bridge,
        };
        struct nic_policy policy = {
            .vtep = vtep, .ovs = ovs, .spec = &spec, .xacl = agent->xacl,
            .desired = &agent->desired, .installed = installed,
        };
        nic = nic_flow_stats(agent->nicctrl, &policy);
        free(name);
        free(tunnel_ip);
    }

    uint64_t cookie = port ? ofctrl_cookie(pipeline_port_origin(port)) : 0;
    json_t *array = json_array();

    const struct oflow **sorted = oflow_table_sorted(flows);
    for (size_t i = 0; i < oflow_table_count(flows); i++) {
        const struct oflow *f = sorted[i];
        if (port && f->cookie != cookie) {
            continue;
        }

        const struct oflow *inst = oflow_table_find(installed, f);
        const json_t *in_nic = NULL;
        if (agent_same_flow(inst, f)) {
            char key[32];
            nic_flow_key(inst, key, sizeof key);
            in_nic = json_object_get(nic, key);
        }
        bool asked = agent_same_flow(oflow_table_find(want, f), f);
        json_array_append_new(array, agent_flow_json(
                                  f, asked ? "installed" : "unrequested",
                                  in_nic, NULL));
    }
    free(sorted);

    sorted = oflow_table_sorted(want);
    for (size_t i = 0; i < oflow_table_count(want); i++) {
        const struct oflow *w = sorted[i];
        if ((port && w->cookie != cookie)
            || agent_same_flow(oflow_table_find(flows, w), w)) {
            continue;
        }
        const struct ofctrl_rejection *rej = agent_find_rejection(agent, w);
        json_array_append_new(array, agent_flow_json(
                                  w, "missing", NULL,
                                  rej ? rej->error : NULL));
    }
    free(sorted);
    json_decref(nic);
    return array;
}

/* Adds to each entry of 'describe' (xlate_acl_describe()'s) the frames
 * the NIC decided by it, from 'nic' ({"UUID": {"packets", "bytes"}}, or
 * NULL): as "nic_packets" and "nic_bytes", and in "n_packets" and
 * "n_bytes" too, which then count the entry's frames wherever they were
 * decided. */
static void
agent_add_nic_stats(json_t *describe, const json_t *nic)
{
    size_t i;
    json_t *e;

    json_array_foreach (json_object_get(describe, "entries"), i, e) {
        const char *uuid = json_string_value(json_object_get(e, "uuid"));
        const json_t *in_nic = uuid ? json_object_get(nic, uuid) : NULL;
        json_int_t packets = json_integer_value(json_object_get(in_nic,
                                                                "packets"));
        json_int_t bytes = json_integer_value(json_object_get(in_nic,
                                                              "bytes"));
        json_object_set_new(e, "nic_packets", json_integer(packets));
        json_object_set_new(e, "nic_bytes", json_integer(bytes));
        json_object_set_new(e, "n_packets", json_integer(
            json_integer_value(json_object_get(e, "n_packets")) + packets));
        json_object_set_new(e, "n_bytes", json_integer(
            json_integer_value(json_object_get(e, "n_bytes")) + bytes));
    }
}

/* Returns a new reference to the policy in force, for "policy/dump": for
 * each VLAN binding of each port (or of 'port', if nonnull), the ACL in
 * force, entry by entry in the order they apply, with each entry's
 * counters, and what is wrong with it (see show_policy_text()); or NULL and
 * an error in '*error'. */
static json_t *
agent_policy_json(struct agent *agent, const char *port_name,
                  const char **error)
{
    if (!odb_client_is_active(agent->vtep_db)) {
        *error = "no copy of the hardware_vtep database yet";
        return NULL;
    }
    json_t *show = agent_show(agent);

    /* What the NIC decided, by ACL entry. */
    json_t *nic = NULL;
    struct odb_replica *ovs = agent_current(agent->ovs_db);
    if (agent->nicctrl && ovs) {
        char *name, *tunnel_ip;
        agent_identity(agent, ovs, &name, &tunnel_ip);
        struct pipeline_spec spec = {
            .switch_name = name ? name : "",
            .bridge = agent->bridge,
        };
        struct nic_policy policy = {
            .vtep = agent_current(agent->vtep_db), .ovs = ovs,
            .spec = &spec, .xacl = agent->xacl,
        };
        nic = nic_entry_stats(agent->nicctrl, &policy);
        free(name);
        free(tunnel_ip);
    }

    json_t *ports = json_array();
    size_t i;
    json_t *port;
    json_array_foreach (json_object_get(show, "ports"), i, port) {
        const char *pname = json_string_value(json_object_get(port,
                                                              "name"));
        if (port_name && strcmp(port_name, pname)) {
            continue;
        }
        json_t *bindings = json_array();
        size_t j;
        json_t *b;
        json_array_foreach (json_object_get(port, "bindings"), j, b) {
            const char *acl = json_string_value(json_object_get(b, "acl"));
            json_t *describe = (acl
                                ? xlate_acl_describe(
                                    agent->xacl, acl, &agent->desired,
                                    ofctrl_installed(agent->ofctrl))
                                : NULL);
            if (describe && nic) {
                agent_add_nic_stats(describe, json_object_get(nic, acl));
            }
            json_array_append_new(bindings, json_pack(
                "{s:O, s:O, s:o}", "vlan", json_object_get(b, "vlan"),
                "logical_switch", json_object_get(b, "logical_switch"),
                "acl", describe ? describe : json_null()));
        }
        json_array_append_new(ports, json_pack("{s:s, s:o}", "name", pname,
                                               "bindings", bindings));
    }
    json_decref(show);
    json_decref(nic);
    if (port_name && !json_array_size(ports)) {
        json_decref(ports);
        *error = "no such port";
        return NULL;
    }
    return json_pack("{s:o}", "ports", ports);
}

/* Adds to 'trace' (trace_acl()'s result for a frame from 'port') where
 * the frame is decided: by an entry of the port's fast path in the NIC, or
 * in OVS. */
static void
agent_trace_nic(struct agent *agent, const char *port, json_t *trace)
{
    const char *ovs_flow = json_string_value(json_object_get(trace,
                                                             "ovs_flow"));
    struct flow packet;
    char *error = ovs_flow ? oflow_parse_packet(ovs_flow, &packet) : NULL;
    struct fp_entry e;
    uint8_t frame[128];

    memset(&e, 0, sizeof e);
    e.fate = FP_TO_OVS;
    if (!error && nicctrl_has_port(agent->nicctrl, port)) {
        size_t len = fp_frame_from_flow(&packet, frame, sizeof frame);
        if (nicctrl_classify(agent->nicctrl, port, frame, len, &e)) {
            e.fate = FP_TO_OVS;
        }
    }
    free(error);

    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&s, json_string_value(json_object_get(trace, "text")));
    if (e.fate == FP_TO_OVS) {
        ds_put_format(&s, "decided in: OVS (%s)\n",
                      e.id ? "a cover in the NIC sends it there"
                      : "no entry of the NIC's takes it");
        json_object_set_new(trace, "nic", json_pack(
                                "{s:s, s:b}", "decided_in", "OVS",
                                "cover", e.id != 0));
    } else {
        struct ds entry = DS_EMPTY_INITIALIZER;
        fp_entry_format(&e, &entry);
        ds_put_format(&s, "decided in: the NIC, by %s\n", ds_cstr(&entry));
        json_object_set_new(trace, "nic", json_pack(
                                "{s:s, s:s, s:s}", "decided_in", "NIC",
                                "entry", ds_cstr(&entry),
                                "fate", fp_fate_to_string(e.fate)));
        ds_destroy(&entry);
    }
    json_object_set_new(trace, "text", json_string(ds_cstr(&s)));
    ds_destroy(&s);
}

/* "acl/trace PORT FLOW": which ACL entries decide the packet FLOW that
 * the VM on PORT sends, and its fate (agent/trace.h). */
static void
agent_cmd_acl_trace(struct control_conn *conn, int argc OVS_UNUSED,
                    const char *argv[], void *agent_)
{
    struct agent *agent = agent_;
    char *error = NULL;

    if (!odb_client_is_active(agent->vtep_db)
        || !odb_client_is_active(agent->ovs_db)) {
        control_reply_error(conn, "no copy of the databases yet");
        return;
    }
    json_t *show = agent_show(agent);
    json_t *trace = trace_acl(show, argv[1], argv[2], agent->xacl,
                              &agent->desired, &error);
    json_decref(show);
    if (trace && agent->nicctrl) {
        agent_trace_nic(agent, argv[1], trace);
    }

    if (!trace) {
        control_reply_error(conn, error);
        free(error);
    } else {
        agent_reply(conn, trace, trace_acl_text);
    }
}

/* "offload/show [PORT]": each VM port's fast path in the NIC (offload/
 * nicctrl.h), or just PORT's, with the totals. */
static void
agent_cmd_offload_show(struct control_conn *conn, int argc,
                       const char *argv[], void *agent_)
{
    struct agent *agent = agent_;

    if (!agent->nicctrl) {
        control_reply_error(conn, "offload is off (iovpd --offload=none)");
        return;
    }
    if (argc > 1 && !nicctrl_has_port(agent->nicctrl, argv[1])) {
        char *error = iovp_xasprintf("%s: no fast path for this port (it "
                                     "needs an untagged binding, a known "
                                     "MAC and a network device)", argv[1]);
        control_reply_error(conn, error);
        free(error);
        return;
    }
    json_t *show = json_pack("{s:o, s:o}",
                             "summary", nicctrl_summary(agent->nicctrl),
                             "ports", nicctrl_show(agent->nicctrl,
                                                   argc > 1 ? argv[1]
                                                   : NULL));
    agent_reply(conn, show, show_offload_text);
}

/* "offload/verify PORT [COUNT [SEED]]": PORT's fast path checked against
 * the reference model by COUNT frames (default 10000) drawn with SEED
 * (default 1); see nic_verify(). */
static void
agent_cmd_offload_verify(struct control_conn *conn, int argc,
                         const char *argv[], void *agent_)
{
    struct agent *agent = agent_;
    struct odb_replica *ovs = agent_current(agent->ovs_db);
    struct odb_replica *vtep = agent_current(agent->vtep_db);
    unsigned long long int count = 10000, seed = 1;
    char *end;

    if (!agent->nicctrl) {
        control_reply_error(conn, "offload is off (iovpd --offload=none)");
        return;
    }
    if (!ovs || !vtep) {
        control_reply_error(conn, "no copy of the databases yet");
        return;
    }
    if (argc > 2) {
        count = strtoull(argv[2], &end, 10);
        if (!argv[2][0] || *end || !count || count > 10000000) {
            control_reply_error(conn, "COUNT must be from 1 to 10000000");
            return;
        }
    }
    if (argc > 3) {
        seed = strtoull(argv[3], &end, 10);
        if (!argv[3][0] || *end) {
            control_reply_error(conn, "SEED must be a number");
            return;
        }
    }

    char *name, *tunnel_ip;
    agent_identity(agent, ovs, &name, &tunnel_ip);
    struct pipeline_spec spec = {
        .switch_name = name ? name : "",
        .bridge = agent->bridge,
    };
    struct nic_policy policy = {
        .vtep = vtep, .ovs = ovs, .spec = &spec, .xacl = agent->xacl,
    };
    json_t *result = nic_verify(agent->nicctrl, &policy, argv[1], count,
                                seed);
    free(name);
    free(tunnel_ip);

    const char *error = json_string_value(json_object_get(result, "error"));
    if (error) {
        control_reply_error(conn, error);
        json_decref(result);
    } else if (control_conn_format(conn) == CONTROL_FMT_JSON) {
        json_object_set_new(result, "bridge", json_string(agent->bridge));
        control_reply_json(conn, result);
    } else {
        char *text = iovp_xasprintf(
            "%s: %"JSON_INTEGER_FORMAT" frames, %"JSON_INTEGER_FORMAT
            " decided in the NIC, %"JSON_INTEGER_FORMAT" disagreements\n",
            argv[1],
            json_integer_value(json_object_get(result, "frames")),
            json_integer_value(json_object_get(result, "decided_in_nic")),
            json_integer_value(json_object_get(result, "disagreements")));
        control_reply(conn, text);
        free(text);
        json_decref(result);
    }
}

/* "offload/sim-configure OPTIONS": changes the options of the sim backend
 * while it runs (offload/sim.c), how tests inject faults. */
static void
agent_cmd_offload_sim_configure(struct control_conn *conn,
                                int argc OVS_UNUSED, const char *argv[],
                                void *agent_)
{
    struct agent *agent = agent_;
    struct offload *backend = (agent->nicctrl
                               ? nicctrl_backend(agent->nicctrl) : NULL);
    char *error;

    if (!backend || backend->class != &offload_sim_class) {
        control_reply_error(conn, "the offload backend is not sim");
    } else if (offload_sim_configure(backend, argv[1], &error)) {
        control_reply_error(conn, error);
        free(error);
    } else {
        control_reply(conn, "");
        agent_wake(agent);
    }
}

/* A "policy/dump" that waits for a new read of the flows' counters. */
struct agent_waiter {
    struct ovs_list node;       /* In 'agent->waiters'. */
    struct control_deferred *reply;
    char *port;                 /* Its argument, or NULL. */
};

/* Replies to 'reply' with 'result' (stolen), as agent_reply() does, or
 * with 'error' if 'result' is NULL. */
static void
agent_deferred_reply(struct control_deferred *reply, json_t *result,
                     const char *error, char *(*text)(const json_t *))
{
    if (!result) {
        control_deferred_reply_error(reply, error);
    } else if (control_deferred_format(reply) == CONTROL_FMT_JSON) {
        control_deferred_reply_json(reply, result);
    } else {
        char *s = text(result);
        control_deferred_reply(reply, s);
        free(s);
        json_decref(result);
    }
}

/* Answers 'w' with what it asked for, and frees it. */
static void
agent_answer(struct agent *agent, struct agent_waiter *w)
{
    const char *error = NULL;
    json_t *result = agent_policy_json(agent, w->port, &error);

    agent_deferred_reply(w->reply, result, error, show_policy_text);
    free(w->port);
    free(w);
}

/* Answers every command waiting for counters. */
static void
agent_answer_waiters(struct agent *agent)
{
    struct agent_waiter *w;

    LIST_FOR_EACH_POP (w, node, &agent->waiters) {
        agent_answer(agent, w);
    }
}

/* Reads the counters of the flows of every table, for the commands that
 * wait for them; if ofctrl cannot read them now, answers with what it
 * has. */
static void
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

/* "policy/dump [PORT]": answered once the switch has given the counters
 * anew. */
static void
agent_cmd_policy_dump(struct control_conn *conn, int argc,
                      const char *argv[], void *agent_)
{
    struct agent *agent = agent_;
    struct agent_waiter *w = iovp_xmalloc(sizeof *w);

    w->reply = control_defer(conn);
    w->port = argc > 1 ? iovp_xstrdup(argv[1]) : NULL;
    ovs_list_push_back(&agent->waiters, &w->node);
    agent_read_all_stats(agent);
}

/* Returns the operations that make the Physical_Port rows of the switch
 * that 'spec' names match the VM ports in 'ovs', or NULL (see
 * report_physical_ports()); logs what they do to each port, and sets the
 * timer that wakes the agent when a down port's grace period ends. */
static json_t *
agent_report_ports(struct agent *agent, const struct odb_replica *vtep,
                   const struct odb_replica *ovs, struct report_spec *spec)
{
    json_t *notes = json_array();
    long long int deadline;
    size_t i;
    json_t *note;

    spec->now = time(NULL);
    spec->port_grace = agent->port_grace;
    json_t *ops = report_physical_ports(vtep, ovs, spec, agent->bridge,
                                        &deadline, notes);
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

/* A "flows/dump" that waits for the switch's list of its flows. */
struct agent_flows_request {
    struct ovs_list node;       /* In 'agent->flows_reading' or
                                 * 'agent->flows_next'. */
    struct control_deferred *reply;
    char *port;                 /* Its argument, or NULL. */
};

/* Answers 'r' with 'flows', what the switch holds, or, if 'flows' is NULL,
 * with 'error'; takes it off its list and frees it.  A request whose
 * client is gone is only freed. */
static void
agent_flows_answer(const struct agent *agent, struct agent_flows_request *r,
                   const struct oflow_table *flows, const char *error)
{
    ovs_list_remove(&r->node);
    if (control_deferred_is_orphaned(r->reply)) {
        control_deferred_reply_error(r->reply, "");
    } else if (flows) {
        agent_deferred_reply(r->reply, agent_flows_json(agent, r->port,
                                                        flows),
                             NULL, show_flows_text);
    } else {
        char *s = iovp_xasprintf("the switch's flows could not be read "
                                 "(%s)", error);
        control_deferred_reply_error(r->reply, s);
        free(s);
    }
    free(r->port);
    free(r);
}

/* Answers every request on 'list' as agent_flows_answer() does. */
static void
agent_flows_answer_all(const struct agent *agent, struct ovs_list *list,
                       const struct oflow_table *flows, const char *error)
{
    struct agent_flows_request *r;

    LIST_FOR_EACH_SAFE (r, node, list) {
        agent_flows_answer(agent, r, flows, error);
    }
}

/* ofctrl_dump_flows()'s callback: answers the "flows/dump"s that the read
 * was for, and has the agent start the next read if more wait.  (Not
 * here: ofctrl is in the middle of a message.) */
static void
agent_flows_dumped(const struct oflow_table *flows, const char *error,
                   void *agent_)
{
    struct agent *agent = agent_;

    agent_flows_answer_all(agent, &agent->flows_reading, flows, error);
    if (!ovs_list_is_empty(&agent->flows_next)) {
        agent_wake(agent);
    }
}

/* Unless a read of the switch's flows is under way, starts one for the
 * "flows/dump"s that wait.  Those whose client has gone are dropped
 * first, so that a client that asks and leaves, over and over, makes
 * neither the waiting list nor the reads grow. */
static void
agent_flows_read(struct agent *agent)
{
    struct agent_flows_request *r;

    LIST_FOR_EACH_SAFE (r, node, &agent->flows_next) {
        if (control_deferred_is_orphaned(r->reply)) {
            agent_flows_answer(agent, r, NULL, NULL);
        }
    }
    if (ovs_list_is_empty(&agent->flows_next)
        || ofctrl_is_dumping_flows(agent->ofctrl)) {
        return;
    }

    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
    int error = ofctrl_dump_flows(agent->ofctrl, agent_flows_dumped, agent,
                                  &msgs);
    if (!error) {
        ovs_list_push_back_all(&agent->flows_reading, &agent->flows_next);
        agent_ofp_send(agent, &msgs);
    } else {
        agent_flows_answer_all(agent, &agent->flows_next, NULL,
                               "not connected to the switch");
    }
}

/* Returns true if 'agent' has a VM port called 'name', as "show" lists
 * them. */
static bool
agent_has_port(const struct agent *agent, const char *name)
{
    json_t *show = agent_show(agent);
    const json_t *port;
    bool found = false;
    size_t i;

    json_array_foreach (json_object_get(show, "ports"), i, port) {
        found = found || !strcmp(json_string_value(
                                     json_object_get(port, "name")), name);
    }
    json_decref(show);
    return found;
}

/* "flows/dump [PORT]": the flows that the switch holds, read from it anew
 * over the OpenFlow connection (by a read that begins after the request
 * came), compared with those iovpd wants (agent_flows_json()). */
static void
agent_cmd_flows_dump(struct control_conn *conn, int argc,
                     const char *argv[], void *agent_)
{
    struct agent *agent = agent_;

    if (argc > 1 && !agent_has_port(agent, argv[1])) {
        control_reply_error(conn, "no such port");
        return;
    } else if (!ofctrl_has_installed(agent->ofctrl)) {
        /* Before the first read, iovpd wants flows that it cannot have
         * sent yet: "missing" would say more than is known. */
        control_reply_error(conn, "not connected to the switch yet");
        return;
    }

    struct agent_flows_request *r = iovp_xmalloc(sizeof *r);
    r->reply = control_defer(conn);
    r->port = argc > 1 ? iovp_xstrdup(argv[1]) : NULL;
    ovs_list_push_back(&agent->flows_next, &r->node);
    agent_flows_read(agent);
}

/* Brings what iovpd owns in both databases in line with what they show.
 * Each step is a pure function of a replica; at most one transaction is in
 * flight on each database. */
static void
agent_run(struct agent *agent)
{
    struct odb_replica *ovs = agent_current(agent->ovs_db);
    struct odb_replica *vtep = agent_current(agent->vtep_db);

    agent_flows_read(agent);
    if (ovs && !agent->ovs_txn.in_flight) {
        struct bridge_spec spec = {
            .name = agent->bridge,
            .datapath_type = agent->datapath_type,
        };
        json_t *ops = bridge_ensure(ovs, &spec);
        if (ops) {
            VLOG_INFO("setting up integration bridge %s", agent->bridge);
            agent_transact(agent->ovs_db, &agent->ovs_txn, ops);
        }
    }

    /* The switch's name and tunnel address come from the options or from
     * Open_vSwitch, so the report waits for the latter unless both were
     * given. */
    char *name, *tunnel_ip;
    agent_identity(agent, ovs, &name, &tunnel_ip);
    if (vtep && name && (ovs || agent->tunnel_ip)
        && !agent->vtep_txn.in_flight) {
        struct report_spec spec = {
            .switch_name = name,
            .tunnel_ip = tunnel_ip,
        };
        json_t *ops = report_physical_switch(vtep, &spec);
        if (ops) {
            VLOG_INFO("reporting Physical_Switch %s", name);
        } else if (ovs) {
            ops = agent_report_ports(agent, vtep, ovs, &spec);
            if (ops) {
                VLOG_INFO("reporting the ports of Physical_Switch %s",
                          name);
            } else {
                ops = report_ucast_macs_local(vtep, ovs, &spec,
                                              agent->bridge);
                if (ops) {
                    VLOG_INFO("reporting the local MACs of %s", name);
                }
            }
        }
        if (ops) {
            agent_transact(agent->vtep_db, &agent->vtep_txn, ops);
        }
    }

    /* The flows, once both databases' monitors have delivered their
     * contents and ofctrl has read what the switch holds: before that, the
     * switch keeps what it has. */
    if (vtep && ovs && name) {
        agent_put_flows(agent, vtep, ovs, name);
    }
    free(name);
    free(tunnel_ip);
}

static void
agent_run_cb(uv_idle_t *idle)
{
    struct agent *agent = idle->data;

    uv_idle_stop(idle);
    if (!agent->exiting) {
        agent_run(agent);
    }
}

/* Makes the agent run once more, in this loop iteration or the next. */
static void
agent_wake(struct agent *agent)
{
    if (!agent->exiting) {
        uv_idle_start(&agent->run, agent_run_cb);
    }
}

static void
agent_wake_timer(uv_timer_t *timer)
{
    agent_wake(timer->data);
}

static char *
agent_open_db(struct agent *agent, const struct agent_options *ao,
              const char *remotes, const char *database,
              const struct odb_monitor_table *tables, size_t n_tables,
              bool leader_only, struct odb_client **clientp)
{
    struct odb_client_options options = {
        .remotes = remotes,
        .session = {
            .database = database,
            .tables = tables,
            .n_tables = n_tables,
            .leader_only = leader_only,
        },
        .connection = {
            .min_backoff = ao->min_backoff,
            .max_backoff = ao->max_backoff,
            .probe_interval = ao->probe_interval,
            .connect_timeout = ao->probe_interval,
            .max_msg_size = ao->max_message,
            .seed = getpid(),
            .tls = agent->tls,
        },
    };
    return odb_client_create(agent->loop, &options, agent_db_changed, agent,
                             clientp);
}

/* Sends the OpenFlow messages queued on 'msgs' to the switch. */
static void
agent_ofp_send(struct agent *agent, struct ovs_list *msgs)
{
    struct ofpbuf *msg;

    LIST_FOR_EACH_POP (msg, list_node, msgs) {
        ofp_client_send(agent->ofp, msg);
    }
}

/* The OpenFlow connection became active: ofctrl reads what the switch
 * holds. */
static void
agent_ofp_active(struct ofp_client *client OVS_UNUSED,
                 enum ofp_version version, void *agent_)
{
    struct agent *agent = agent_;
    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);

    ofctrl_connected(agent->ofctrl, version, &msgs);
    agent_ofp_send(agent, &msgs);
}

static void
agent_ofp_disconnected(struct ofp_client *client OVS_UNUSED, void *agent_)
{
    struct agent *agent = agent_;

    ofctrl_disconnected(agent->ofctrl);
    agent->stats_all = false;
    agent_answer_waiters(agent);
}

/* A message from the switch beyond the protocol's own. */
static void
agent_ofp_msg(struct ofp_client *client OVS_UNUSED, struct ofpbuf *msg,
              void *agent_)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    struct agent *agent = agent_;
    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
    enum ofctrl_event event = ofctrl_receive(agent->ofctrl, msg, &msgs);

    agent_ofp_send(agent, &msgs);
    switch (event) {
    case OFCTRL_IGNORED: {
        char *brief = ofconn_msg_brief(msg);
        VLOG_WARN_RL(&rl, "unexpected OpenFlow message from the switch: %s",
                     brief);
        free(brief);
        break;
    }
    case OFCTRL_HANDLED:
        break;
    case OFCTRL_READY:
        if (agent->put_size >= AGENT_TRIM_FLOWS) {
            /* A large bundle's messages and in-flight copies are freed now;
             * give their memory back rather than keep the peak for good. */
            iovp_trim_heap();
        }
        agent->put_size = 0;
        agent_wake(agent);
        break;
    case OFCTRL_FAILED:
        uv_timer_start(&agent->retry, agent_wake_timer, 1000, 0);
        break;
    case OFCTRL_STATS:
        agent_report_stats(agent);
        if (agent->stats_all) {
            agent->stats_all = false;
            agent_answer_waiters(agent);
        } else if (!ovs_list_is_empty(&agent->waiters)) {
            agent_read_all_stats(agent);
        }
        break;
    }
    ofpbuf_delete(msg);
}

/* Replies on 'conn' with 'result' (stolen): as JSON, or as the text that
 * 'text' makes of it. */
static void
agent_reply(struct control_conn *conn, json_t *result,
            char *(*text)(const json_t *))
{
    if (control_conn_format(conn) == CONTROL_FMT_JSON) {
        control_reply_json(conn, result);
    } else {
        char *s = text(result);
        control_reply(conn, s);
        free(s);
        json_decref(result);
    }
}

/* Replies on 'conn' with 'status' (stolen), a JSON object of counters and
 * states: as JSON, or as a "key: value" line for each member. */
static char *
agent_status_text(const json_t *status)
{
    return iovp_json_lines(status, "");
}

static void
agent_reply_status(struct control_conn *conn, json_t *status)
{
    agent_reply(conn, status, agent_status_text);
}

/* "memory/show": what iovpd holds, as Open vSwitch's daemons answer it:
 * its resident memory, the heap in use, and the counts of what fills it. */
static void
agent_cmd_memory_show(struct control_conn *conn, int argc OVS_UNUSED,
                      const char *argv[] OVS_UNUSED, void *agent_)
{
    struct agent *agent = agent_;
    long int rss_kb = 0;
    FILE *status = fopen("/proc/self/status", "r");
    char line[256];

    while (status && fgets(line, sizeof line, status)) {
        if (!strncmp(line, "VmRSS:", 6)) {
            rss_kb = atol(line + 6);
        }
    }
    if (status) {
        fclose(status);
    }
#ifdef __GLIBC__
    struct mallinfo2 mi = mallinfo2();
    json_int_t heap_kb = (mi.uordblks + mi.hblkhd) / 1024;
#else
    json_int_t heap_kb = -1;
#endif

    struct odb_replica *ovs = odb_client_replica(agent->ovs_db);
    struct odb_replica *vtep = odb_client_replica(agent->vtep_db);
    json_t *memory = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I}",
        "rss_kb", (json_int_t) rss_kb, "heap_in_use_kb", heap_kb,
        "desired_flows",
        (json_int_t) oflow_table_count(desired_flows(&agent->desired)),
        "installed_flows",
        (json_int_t) oflow_table_count(ofctrl_installed(agent->ofctrl)),
        "ovs_rows", (json_int_t) (ovs ? odb_replica_n_rows(ovs) : 0),
        "vtep_rows", (json_int_t) (vtep ? odb_replica_n_rows(vtep) : 0));

    agent_reply_status(conn, memory);
}

/* "ofp/status": the OpenFlow connection to the integration bridge. */
static void
agent_cmd_ofp_status(struct control_conn *conn, int argc OVS_UNUSED,
                     const char *argv[] OVS_UNUSED, void *agent_)
{
    struct agent *agent = agent_;
    json_t *status = ofp_client_status(agent->ofp);

    json_t *flows = ofctrl_status(agent->ofctrl);
    json_object_set_new(flows, "dump_waiters", json_integer(
                            ovs_list_size(&agent->flows_reading)
                            + ovs_list_size(&agent->flows_next)));
    json_object_set_new(status, "flows", flows);

    agent_reply_status(conn, status);
}

static void
agent_signal_cb(uv_signal_t *handle, int signum)
{
    struct agent *agent = handle->data;

    VLOG_INFO("%s received, exiting", strsignal(signum));
    agent_shutdown(agent);
}

/* Creates the agent on 'loop' as 'options' say: opens its control socket
 * and starts handling SIGTERM and SIGINT.  Returns 0 and the agent in
 * '*agentp', or a negative errno value and NULL (having logged why). */
int
agent_create(uv_loop_t *loop, const struct agent_options *options,
             struct agent **agentp)
{
    struct agent *agent = iovp_xzalloc(sizeof *agent);
    int error;

    *agentp = NULL;
    agent->loop = loop;
    desired_init(&agent->desired);
    ovs_list_init(&agent->waiters);
    ovs_list_init(&agent->flows_reading);
    ovs_list_init(&agent->flows_next);
    agent->xacl = xlate_acl_create();
    agent->bound_acls = json_object();
    agent->port_faults = json_object();
    agent->ambiguities = json_object();
    agent->changed_acls = json_object();
    agent->changed_entries = json_object();
    agent->pipeline_dirty = agent->acls_full = true;
    agent->bridge = iovp_xstrdup(options->bridge ? options->bridge
                                 : "br-int");
    agent->datapath_type = (options->datapath_type
                            ? iovp_xstrdup(options->datapath_type) : NULL);
    agent->switch_name = (options->switch_name
                          ? iovp_xstrdup(options->switch_name) : NULL);
    agent->tunnel_ip = (options->tunnel_ip
                        ? iovp_xstrdup(options->tunnel_ip) : NULL);
    agent->port_grace = options->port_grace;
    agent->ovs_txn = (struct agent_txn) {
        .agent = agent, .what = "Open_vSwitch transaction",
    };
    agent->vtep_txn = (struct agent_txn) {
        .agent = agent, .what = "hardware_vtep transaction",
    };

    if (options->offload) {
        struct offload *backend;
        char *why;
        error = offload_open(options->offload, &backend, &why);
        if (error) {
            VLOG_ERR("--offload=%s: %s", options->offload, why);
            free(why);
            agent_destroy(agent);
            return error;
        }
        if (backend) {
            agent->nicctrl = nicctrl_create(backend);
        }
    }

    /* One TLS context serves every ssl: remote, OVSDB and OpenFlow. */
    if (tls_options_given(&options->tls)) {
        char *why = tls_context_create(&options->tls, &agent->tls);
        if (why) {
            VLOG_ERR("%s", why);
            free(why);
            agent_destroy(agent);
            return -EINVAL;
        }
    }

    error = control_server_open(loop, options->control_path,
                                options->version, &agent->control);
    if (error) {
        VLOG_ERR("%s: cannot listen for control connections (%s)",
                 options->control_path, uv_strerror(error));
        agent_destroy(agent);
        return error;
    }
    control_server_set_idle_timeout(agent->control,
                                    options->control_idle_timeout);
    char *msg = agent_open_db(agent, options, options->ovs_db,
                              "Open_vSwitch", ovs_tables,
                              IOVP_ARRAY_SIZE(ovs_tables), false,
                              &agent->ovs_db);
    if (!msg) {
        msg = agent_open_db(agent, options, options->vtep_db,
                            "hardware_vtep", vtep_tables,
                            IOVP_ARRAY_SIZE(vtep_tables),
                            options->leader_only, &agent->vtep_db);
    }
    if (msg) {
        VLOG_ERR("%s", msg);
        free(msg);
        odb_client_destroy(agent->ovs_db);
        control_server_close(agent->control);
        agent_destroy(agent);
        return -EINVAL;
    }

    struct bclient_options ofp_options = {
        .min_backoff = options->min_backoff,
        .max_backoff = options->max_backoff,
        .probe_interval = options->probe_interval,
        .connect_timeout = options->probe_interval,
        .seed = getpid(),
        .tls = agent->tls,
    };
    static const struct ofp_client_cbs ofp_cbs = {
        .active = agent_ofp_active,
        .disconnected = agent_ofp_disconnected,
        .msg = agent_ofp_msg,
    };
    agent->ofctrl = ofctrl_create();
    msg = ofp_client_create(loop, options->ofp_remote, &ofp_options,
                            &ofp_cbs, agent, &agent->ofp);
    if (msg) {
        VLOG_ERR("%s", msg);
        free(msg);
        odb_client_destroy(agent->ovs_db);
        odb_client_destroy(agent->vtep_db);
        ofctrl_destroy(agent->ofctrl);
        control_server_close(agent->control);
        agent_destroy(agent);
        return -EINVAL;
    }

    control_register_vlog(agent->control);
    control_register(agent->control, "memory/show", "", 0, 0,
                     agent_cmd_memory_show, agent);
    control_register(agent->control, "ofp/status", "", 0, 0,
                     agent_cmd_ofp_status, agent);
    control_register(agent->control, "flows/dump", "[PORT]", 0, 1,
                     agent_cmd_flows_dump, agent);
    control_register(agent->control, "switch/show", "", 0, 0,
                     agent_cmd_switch_show, agent);
    control_register(agent->control, "policy/dump", "[PORT]", 0, 1,
                     agent_cmd_policy_dump, agent);
    control_register(agent->control, "acl/trace", "PORT FLOW", 2, 2,
                     agent_cmd_acl_trace, agent);
    control_register(agent->control, "offload/show", "[PORT]", 0, 1,
                     agent_cmd_offload_show, agent);
    control_register(agent->control, "offload/verify", "PORT [COUNT [SEED]]",
                     1, 3, agent_cmd_offload_verify, agent);
    control_register(agent->control, "offload/sim-configure", "OPTIONS", 1,
                     1, agent_cmd_offload_sim_configure, agent);
    control_register(agent->control, "exit", "", 0, 0, agent_cmd_exit,
                     agent);
    control_register(agent->control, "ovsdb/status", "", 0, 0,
                     agent_cmd_ovsdb_status, agent);
    control_register(agent->control, "ovsdb/dump", "DB", 1, 1,
                     agent_cmd_ovsdb_dump, agent);

    uv_idle_init(loop, &agent->run);
    uv_timer_init(loop, &agent->retry);
    uv_timer_init(loop, &agent->stats);
    uv_timer_init(loop, &agent->ports);
    agent->run.data = agent->retry.data = agent->stats.data = agent;
    agent->ports.data = agent;
    uv_timer_start(&agent->stats, agent_stats_timer, AGENT_STATS_INTERVAL,
                   AGENT_STATS_INTERVAL);

    uv_signal_init(loop, &agent->sigterm);
    uv_signal_init(loop, &agent->sigint);
    agent->sigterm.data = agent->sigint.data = agent;
    uv_signal_start(&agent->sigterm, agent_signal_cb, SIGTERM);
    uv_signal_start(&agent->sigint, agent_signal_cb, SIGINT);

    *agentp = agent;
    return 0;
}

/* Returns the Linux capabilities (bit N for capability N) that 'agent'
 * needs once it runs: those of its offload backend, none without one.
 * Opening its sockets and files needs nothing more than what they belong
 * to, since iovpd opens what only root may open before it drops them. */
uint64_t
agent_privileges(const struct agent *agent)
{
    return (agent->nicctrl
            ? offload_privileges(nicctrl_backend(agent->nicctrl)) : 0);
}

/* Begins an orderly shutdown: closes every handle the agent owns, so that
 * the loop's uv_run() returns once libuv has closed them.  Calling it again
 * does nothing. */
void
agent_shutdown(struct agent *agent)
{
    if (agent->exiting) {
        return;
    }
    agent->exiting = true;
    VLOG_INFO("shutting down");
    agent_answer_waiters(agent);
    ofctrl_disconnected(agent->ofctrl);     /* Answers "flows/dump"s. */
    agent_flows_answer_all(agent, &agent->flows_next, NULL,
                           "iovpd is shutting down");
    control_server_close(agent->control);
    agent->control = NULL;
    odb_client_destroy(agent->ovs_db);
    agent->ovs_db = NULL;
    odb_client_destroy(agent->vtep_db);
    agent->vtep_db = NULL;
    ofp_client_destroy(agent->ofp);
    agent->ofp = NULL;
    ofctrl_destroy(agent->ofctrl);
    agent->ofctrl = NULL;
    uv_close((uv_handle_t *) &agent->run, NULL);
    uv_close((uv_handle_t *) &agent->retry, NULL);
    uv_close((uv_handle_t *) &agent->stats, NULL);
    uv_close((uv_handle_t *) &agent->ports, NULL);
    uv_close((uv_handle_t *) &agent->sigterm, NULL);
    uv_close((uv_handle_t *) &agent->sigint, NULL);
}

/* Frees 'agent', which must have been shut down and its loop run until its
 * handles closed.  Accepts NULL. */
void
agent_destroy(struct agent *agent)
{
    if (agent) {
        free(agent->bridge);
        free(agent->datapath_type);
        free(agent->switch_name);
        free(agent->tunnel_ip);
        desired_destroy(&agent->desired);
        xlate_acl_destroy(agent->xacl);
        nicctrl_destroy(agent->nicctrl);
        tls_context_destroy(agent->tls);
        json_decref(agent->bound_acls);
        json_decref(agent->port_faults);
        json_decref(agent->ambiguities);
        json_decref(agent->changed_acls);
        json_decref(agent->changed_entries);
        free(agent);
    }
}
