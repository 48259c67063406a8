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
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openvswitch/list.h>
#include <openvswitch/ofpbuf.h>
#include <openvswitch/util.h>
#include <openvswitch/vlog.h>

#include "agent/agent-private.h"
#include "agent/pipeline-tables.h"
#include "agent/translate.h"
#include "agent/vtep-scope.h"
#include "northbound/switch.h"
#include "lib/control.h"
#include "lib/tls.h"
#include "lib/util.h"
#include "model/vswitch-idl.h"
#include "model/vtep-idl.h"
#include "offload/backend.h"
#include "offload/nicctrl.h"
#include "ofp/client.h"
#include "ofp/ofconn.h"
#include "ofp/ofctrl.h"
#include "ovsdb/client.h"
#include "ovsdb/idl.h"
#include "ovsdb/replica.h"
#include "ovsdb/schema.h"

VLOG_DEFINE_THIS_MODULE(agent);

/* Returns the replica of 'db' if it is complete and current, else NULL. */
struct odb_replica *
agent_current(struct odb_client *db)
{
    return odb_client_is_settled(db) ? odb_client_replica(db) : NULL;
}

/* Brings the conditions of the hardware_vtep monitor in line with the
 * rows the replica holds and this switch's identity, when either changed:
 * until the rows they select are in, the replica is not current. */
static void
agent_update_scope(struct agent *agent)
{
    bool ovs_active = odb_client_is_active(agent->ovs_db);
    const char *name, *tunnel_ip;

    /* The model holds part of an update, whose references may point to
     * rows still to come: the conditions wait for the rest of it
     * (agent_db_changed() then looks at them again). */
    if (odb_client_is_applying(agent->vtep_db)) {
        return;
    }

    /* Until Open_vSwitch is read, a snapshot's identity gives what the
     * options do not. */
    agent->scope_restored &= !ovs_active;
    translate_identity(agent->translate, ovs_active, &name, &tunnel_ip);
    if (agent->scope_restored) {
        name = name ? name : agent->scope_name;
        tunnel_ip = tunnel_ip ? tunnel_ip : agent->scope_tunnel_ip;
    }
    if (!agent->scope_changed
        && iovp_nullable_streq(name, agent->scope_name)
        && iovp_nullable_streq(tunnel_ip, agent->scope_tunnel_ip)) {
        return;
    }
    agent->scope_changed = false;
    char *new_name = iovp_nullable_xstrdup(name);
    char *new_tunnel_ip = iovp_nullable_xstrdup(tunnel_ip);
    free(agent->scope_name);
    agent->scope_name = new_name;
    free(agent->scope_tunnel_ip);
    agent->scope_tunnel_ip = new_tunnel_ip;

    /* Made against no digest, the conditions are complete: the next
     * monitor request takes them as they are. */
    bool complete = !json_object_size(agent->scope_digests);
    json_t *conds = vtep_scope_conditions(agent->vtep_idl, agent->scope_name,
                                          agent->scope_tunnel_ip,
                                          agent->scope_digests);
    json_decref(agent->scope_conds);
    agent->scope_conds = complete ? json_incref(conds) : NULL;

    const char *table;
    json_t *where;
    json_object_foreach (conds, table, where) {
        odb_client_set_condition(agent->vtep_db, table, json_incref(where));
    }
    json_decref(conds);
}

/* A database changed, or its replica became current: translation takes
 * in what its model tracked (the model, the replica's store, took in each
 * batch as it came), and the agent runs. */
static void
agent_db_changed(struct odb_client *db, void *agent_)
{
    struct agent *agent = agent_;
    struct odb_replica *replica = odb_client_replica(db);

    VLOG_DBG("%s: %zu rows changed", replica->schema->name,
             replica->n_changes);
    if (db == agent->ovs_db) {
        translate_ovs_changed(agent->translate, agent->ovs_idl);
        odb_idl_track_clear(agent->ovs_idl);
    } else {
        agent->scope_changed |= vtep_scope_changed(agent->vtep_idl);
        translate_vtep_changed(agent->translate, agent->vtep_idl);
        odb_idl_track_clear(agent->vtep_idl);
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
        } else if (error
                   && !strcmp(error, "referential integrity violation")) {
            /* A row that the transaction refers to, as the replica had it,
             * was deleted meanwhile by another client (ovn-controller-vtep
             * deletes a remote VTEP's locator with its last MAC): the
             * update on its way will show it. */
            VLOG_INFO_RL(&rl, "%s: a row it refers to was deleted meanwhile; "
                         "trying again", txn->what);
            uv_timer_start(&agent->retry, agent_wake_timer, 1000, 0);
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
void
agent_transact(struct odb_client *db, struct agent_txn *txn, json_t *ops)
{
    if (!odb_client_transact(db, ops, agent_txn_cb, txn)) {
        txn->in_flight = true;
    }
}

/* One run pass: brings what iovpd owns in both databases, and the flows,
 * in line with what the databases show (agent/agent-reconcile.c), and
 * starts the read of the switch's flows that "flows/dump"s wait for. */
static void
agent_run(struct agent *agent)
{
    translate_hostname_changed(agent->translate);
    agent_update_scope(agent);

    struct odb_replica *ovs = agent_current(agent->ovs_db);
    struct odb_replica *vtep = agent_current(agent->vtep_db);
    agent->vtep_unconfirmed &= !vtep;

    agent_flows_read(agent);
    agent_reconcile_databases(agent, vtep, ovs);
    agent_capture_run(agent);
    agent_reconcile_flows(agent, vtep, ovs);
    agent_capture_answer(agent);
    agent_reconcile_tunnels(agent, vtep, ovs);
    agent_northbound_run(agent);
}

/* Runs the pass that agent_wake() asked for, after a poll for I/O. */
static void
agent_run_cb(uv_check_t *check)
{
    struct agent *agent = check->data;

    uv_check_stop(check);
    uv_idle_stop(&agent->wake);
    if (!agent->exiting) {
        agent_run(agent);
    }
}

/* Arms the run pass for after the poll of this iteration, which the active
 * idle handle keeps from waiting. */
static void
agent_wake_cb(uv_idle_t *idle)
{
    struct agent *agent = idle->data;

    uv_check_start(&agent->run, agent_run_cb);
}

/* Makes the agent run once more, in the next loop iteration, after the
 * loop has polled for I/O: the control socket and the connections are
 * served between the work that woke the agent and the run. */
void
agent_wake(struct agent *agent)
{
    if (!agent->exiting) {
        uv_idle_start(&agent->wake, agent_wake_cb);
    }
}

void
agent_wake_timer(uv_timer_t *timer)
{
    agent_wake(timer->data);
}

/* How often the underlay is checked (agent_check_underlay()), in ms: it
 * changes outside of any database. */
#define AGENT_UNDERLAY_INTERVAL 2000

static void
agent_underlay_timer(uv_timer_t *timer)
{
    agent_check_underlay(timer->data);
}

/* The conditions of the hardware_vtep monitor, all of them, for a new
 * monitor: the session keeps only a digest of what agent_update_scope()
 * gave it last.  They come from the rows that the replica holds now. */
static json_t *
agent_vtep_conditions(void *agent_)
{
    struct agent *agent = agent_;
    json_t *conds = agent->scope_conds;

    agent->scope_conds = NULL;
    return (conds ? conds
            : vtep_scope_conditions(agent->vtep_idl, agent->scope_name,
                                    agent->scope_tunnel_ip, NULL));
}

static char *
agent_open_db(struct agent *agent, const struct agent_options *ao,
              const char *remotes, const char *database,
              const struct odb_monitor_table *tables, size_t n_tables,
              struct odb_idl *idl, bool leader_only,
              odb_conditions_cb *conditions, struct odb_client **clientp)
{
    struct odb_client_options options = {
        .remotes = remotes,
        .session = {
            .database = database,
            .tables = tables,
            .n_tables = n_tables,
            .leader_only = leader_only,
            .store = odb_idl_store(idl),
            .conditions = conditions,
            .conditions_aux = agent,
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
void
agent_ofp_send(struct agent *agent, struct ovs_list *msgs)
{
    ofp_client_send(agent->ofp, msgs);
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
        if (agent->trim_at_ready) {
            iovp_trim_heap();
            agent->trim_at_ready = false;
        }
        agent_wake(agent);
        break;
    case OFCTRL_FAILED:
        uv_timer_start(&agent->retry, agent_wake_timer, 1000, 0);
        break;
    case OFCTRL_STATS:
        agent_stats_read(agent);
        break;
    }
    ofpbuf_delete(msg);
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
    char *why = NULL;
    int error = 0;

    *agentp = NULL;
    agent->loop = loop;
    agent->scope_digests = json_object();
    ovs_list_init(&agent->waiters);
    ovs_list_init(&agent->flows_reading);
    ovs_list_init(&agent->flows_next);
    ovs_list_init(&agent->nb_peers);
    ovs_list_init(&agent->captures);
    agent->bridge = iovp_xstrdup(options->bridge ? options->bridge
                                 : "br-int");
    agent->datapath_type = iovp_nullable_xstrdup(options->datapath_type);
    agent->snapshot = iovp_nullable_xstrdup(options->snapshot);
    agent->port_grace = options->port_grace;
    agent->ovs_txn = (struct agent_txn) {
        .agent = agent, .what = "Open_vSwitch transaction",
    };
    agent->vtep_txn = (struct agent_txn) {
        .agent = agent, .what = "hardware_vtep transaction",
    };
    static const uint8_t tables[] = {
#define PIPELINE_TABLE(ENUM, ID, NAME) ID,
        PIPELINE_TABLES
#undef PIPELINE_TABLE
    };
    agent->ofctrl = ofctrl_create(tables, IOVP_ARRAY_SIZE(tables),
                                  PIPELINE_METER_BASE);
    agent->ovs_idl = vswitch_idl_create();
    agent->vtep_idl = hwvtep_idl_create();

    if (options->offload) {
        struct offload *backend;
        why = offload_open(options->offload, &backend);
        if (why) {
            char *s = iovp_xasprintf("--offload=%s: %s", options->offload,
                                     why);
            free(why);
            why = s;
            error = -EINVAL;
            goto error;
        }
        if (backend) {
            agent->nicctrl = nicctrl_create(backend);
        }
    }
    struct translate_options to = {
        .bridge = agent->bridge,
        .switch_name = options->switch_name,
        .tunnel_ip = options->tunnel_ip,
        .nicctrl = agent->nicctrl,
    };
    agent->translate = translate_create(&to);

    /* One TLS context serves every ssl: remote, OVSDB and OpenFlow. */
    if (tls_options_given(&options->tls)) {
        why = tls_context_create(&options->tls, &agent->tls);
        if (why) {
            error = -EINVAL;
            goto error;
        }
    }

    error = control_server_open(loop, options->control_path,
                                options->version, &agent->control);
    if (error) {
        why = iovp_xasprintf("%s: cannot listen for control connections "
                             "(%s)", options->control_path,
                             uv_strerror(error));
        goto error;
    }
    control_server_set_idle_timeout(agent->control,
                                    options->control_idle_timeout);

    why = agent_open_db(agent, options, options->ovs_db, "Open_vSwitch",
                        vswitch_idl_monitor, vswitch_idl_n_monitor,
                        agent->ovs_idl, false, NULL, &agent->ovs_db);
    if (!why) {
        why = agent_open_db(agent, options, options->vtep_db,
                            "hardware_vtep", hwvtep_idl_monitor,
                            hwvtep_idl_n_monitor, agent->vtep_idl,
                            options->leader_only, agent_vtep_conditions,
                            &agent->vtep_db);
    }
    if (why) {
        error = -EINVAL;
        goto error;
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
    why = ofp_client_create(loop, options->ofp_remote, &ofp_options,
                            &ofp_cbs, agent, &agent->ofp);
    if (!why) {
        why = agent_northbound_open(agent, options->openflow,
                                    options->ofp_remote, &ofp_options);
    }
    if (!why && agent->nb && options->of_rate_limit) {
        nbswitch_set_rate_limit(agent->nb, options->of_rate_limit,
                                options->of_burst_limit);
    }
    if (why) {
        error = -EINVAL;
        goto error;
    }

    /* Nothing fails from here on. */
    int lag_error = loop_lag_start(&agent->lag, loop);
    if (lag_error) {
        VLOG_WARN("the loop's turns are not measured: %s",
                  uv_strerror(lag_error));
    }
    agent_appctl_register(agent);
    agent_capture_init(agent);
    uv_idle_init(loop, &agent->wake);
    uv_check_init(loop, &agent->run);
    uv_timer_init(loop, &agent->retry);
    uv_timer_init(loop, &agent->ports);
    uv_timer_init(loop, &agent->underlay);
    agent->wake.data = agent->run.data = agent;
    agent->retry.data = agent->ports.data = agent;
    agent->underlay.data = agent;
    uv_timer_start(&agent->underlay, agent_underlay_timer,
                   AGENT_UNDERLAY_INTERVAL, AGENT_UNDERLAY_INTERVAL);
    agent_stats_start(agent);

    /* The first monitor asks for this switch's rows only: those of the
     * snapshot, if there is one, and the changes since it. */
    agent_snapshot_restore(agent);
    agent->scope_changed = true;
    agent_update_scope(agent);

    uv_signal_init(loop, &agent->sigterm);
    uv_signal_init(loop, &agent->sigint);
    agent->sigterm.data = agent->sigint.data = agent;
    uv_signal_start(&agent->sigterm, agent_signal_cb, SIGTERM);
    uv_signal_start(&agent->sigint, agent_signal_cb, SIGINT);
    agent->handles = true;

    *agentp = agent;
    return 0;

error:
    VLOG_ERR("%s", why);
    free(why);
    agent_destroy(agent);
    return error;
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

/* Closes the agent's connections and answers what waits on them.  Each
 * step accepts what is already closed, or was never opened. */
static void
agent_close(struct agent *agent)
{
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
    agent_northbound_close(agent);
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
    agent_snapshot_save(agent);
    agent_capture_close(agent);
    agent_close(agent);
    uv_close((uv_handle_t *) &agent->wake, NULL);
    uv_close((uv_handle_t *) &agent->run, NULL);
    loop_lag_close(&agent->lag);
    uv_close((uv_handle_t *) &agent->retry, NULL);
    uv_close((uv_handle_t *) &agent->stats, NULL);
    uv_close((uv_handle_t *) &agent->ports, NULL);
    uv_close((uv_handle_t *) &agent->underlay, NULL);
    uv_close((uv_handle_t *) &agent->sigterm, NULL);
    uv_close((uv_handle_t *) &agent->sigint, NULL);
}

/* Frees 'agent', which must have been shut down and its loop run until its
 * handles closed, or be one that agent_create() could not finish.  Accepts
 * NULL. */
void
agent_destroy(struct agent *agent)
{
    if (agent) {
        ovs_assert(!agent->handles || agent->exiting);
        agent_close(agent);
        ofctrl_destroy(agent->ofctrl);
        translate_destroy(agent->translate);
        odb_idl_destroy(agent->ovs_idl);
        odb_idl_destroy(agent->vtep_idl);
        nicctrl_destroy(agent->nicctrl);
        tls_context_destroy(agent->tls);
        free(agent->bridge);
        free(agent->datapath_type);
        free(agent->snapshot);
        free(agent->underlay_fault);
        free(agent->scope_name);
        free(agent->scope_tunnel_ip);
        json_decref(agent->scope_digests);
        json_decref(agent->scope_conds);
        free(agent);
    }
}
