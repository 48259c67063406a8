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

#include "ovsdb/client.h"

#include <stdlib.h>
#include <string.h>

#include <openvswitch/vlog.h>
#include <uv.h>

#include "lib/util.h"
#include "ovsdb/schema.h"

VLOG_DEFINE_THIS_MODULE(odb_client);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

struct odb_client {
    struct odb_session *session;
    struct jrpc_client *conn;
    odb_client_changed_cb *changed;
    void *aux;
    unsigned long long int n_changes;   /* Row changes reported. */
    bool was_active;            /* Active after the last message? */
    bool was_settled;           /* ...with no change of conditions on its
                                 * way (odb_client_is_settled())? */

    /* The last request for rows (a monitor, or a change of conditions) sent
     * while none was unanswered: its method, when it left (uv_hrtime(), 0
     * once answered), and the time from then until the replica was settled
     * (ns), once it was. */
    const char *monitor_method;
    uint64_t monitor_sent;
    uint64_t monitor_wait;

    /* Does the work that a message left in the next turn of the loop: the
     * next slice of an update being applied (odb_client_apply()), or the
     * next text of the saved rows (odb_client_load_later()). */
    uv_idle_t idle;
};

/* Notes the time at which 'msg' leaves, if it asks for rows of the
 * database (not of _Server, which the session reads first) and none of
 * the requests that did so is unanswered. */
static void
odb_client_note_monitor(struct odb_client *c, const json_t *msg)
{
    static const char *const methods[] = {
        "monitor", "monitor_cond", "monitor_cond_since", "monitor_cond_change",
    };
    const char *method = json_string_value(json_object_get(msg, "method"));
    const char *db = json_string_value(
        json_array_get(json_object_get(msg, "params"), 0));

    if (db && !strcmp(db, "_Server")) {
        return;
    }
    for (size_t i = 0; method && i < IOVP_ARRAY_SIZE(methods); i++) {
        if (!strcmp(method, methods[i])) {
            if (!c->monitor_sent) {
                c->monitor_method = methods[i];
                c->monitor_sent = uv_hrtime();
                c->monitor_wait = 0;
            }
            return;
        }
    }
}

/* Sends what the session has queued. */
static void
odb_client_flush(struct odb_client *c)
{
    json_t *msg;

    while ((msg = odb_session_pop(c->session))) {
        odb_client_note_monitor(c, msg);
        jrpc_client_send(c->conn, msg);
    }
}

static void odb_client_idle_cb(uv_idle_t *);

/* Loads a text of the saved rows that wait for the first monitor request
 * to leave (odb_client_restore()), if it has left: all of it written, so that
 * the server answers it while they load.  The next text loads in the next turn
 * of the loop, so that none of those turns is long (a text holds as many rows
 * as whoever saved them put in it) and what else arrives meanwhile, such as
 * the switch's flows, is read between them.  Once the last is in, the owner
 * hears of them all at once: it sees no part of the saved rows without the
 * rest.  Returns false if they were not valid: the connection is then
 * dropped. */
static bool
odb_client_load_later(struct odb_client *c)
{
    struct odb_replica *replica = odb_session_replica(c->session);

    if (!replica || !odb_session_has_later(c->session)
        || jrpc_client_backlog(c->conn)) {
        return true;
    }

    char *error = odb_session_load_later(c->session, false);
    if (error) {
        VLOG_WARN("%s: %s", jrpc_client_remote(c->conn), error);
        jrpc_client_reconnect(c->conn, error);
        free(error);
        return false;
    }
    if (odb_session_has_later(c->session)) {
        uv_idle_start(&c->idle, odb_client_idle_cb);
    } else if (replica->n_changes) {
        c->n_changes += replica->n_changes;
        c->changed(c, c->aux);
    }
    return true;
}

static void
odb_client_sent(struct jrpc_client *conn OVS_UNUSED, void *c_)
{
    odb_client_load_later(c_);
}

static void
odb_client_connected(struct jrpc_client *conn OVS_UNUSED, void *c_)
{
    struct odb_client *c = c_;

    odb_session_connected(c->session);
    odb_client_flush(c);
}

static void
odb_client_disconnected(struct jrpc_client *conn OVS_UNUSED,
                        const char *reason OVS_UNUSED, void *c_)
{
    struct odb_client *c = c_;

    c->was_active = false;
    c->monitor_sent = 0;
    odb_session_disconnected(c->session);
}

/* Sends what a message left to send and, once the session has taken it in
 * whole, tells the owner of what changed. */
static void
odb_client_settle(struct odb_client *c)
{
    odb_client_flush(c);
    if (!odb_client_load_later(c)) {
        return;
    }

    /* The consumer hears of every batch of changes, and of the replica
     * becoming complete and current, even with nothing changed (an empty
     * database, or a reconnect that found everything as it was). */
    struct odb_replica *replica = odb_session_replica(c->session);
    bool active = odb_session_is_active(c->session);
    bool settled = active && !odb_session_conditions_pending(c->session);
    if (settled && c->monitor_sent) {
        c->monitor_wait = MAX(1, uv_hrtime() - c->monitor_sent);
        c->monitor_sent = 0;
    }
    if (active && (replica->n_changes || !c->was_active
                   || (settled && !c->was_settled))) {
        /* (And of the rows of new conditions all being in: a change of
         * conditions ends with a reply that changes nothing.) */
        c->n_changes += replica->n_changes;
        c->was_active = true;
        c->changed(c, c->aux);
    }
    c->was_active = active;
    c->was_settled = active && !odb_session_conditions_pending(c->session);
}

/* Drops the connection for 'error' (freed), a fault of the server's. */
static void
odb_client_fault(struct odb_client *c, char *error)
{
    VLOG_WARN_RL(&rl, "%s: %s; dropping the connection",
                 jrpc_client_remote(c->conn), error);
    jrpc_client_reconnect(c->conn, error);
    free(error);
}

/* Applies the next slice of the update that the session is applying.  Until
 * the last, the owner hears of no change (the replica holds part of a
 * transaction) and the messages that follow wait. */
static void
odb_client_apply(struct odb_client *c)
{
    char *error = odb_session_run(c->session);

    if (error) {
        odb_client_fault(c, error);
    } else if (odb_session_is_applying(c->session)) {
        uv_idle_start(&c->idle, odb_client_idle_cb);
    } else {
        /* The message's tree took far more memory than the replica keeps
         * of it: give it back to the system rather than keep the peak. */
        iovp_trim_heap();
        odb_client_settle(c);
        jrpc_client_resume(c->conn);
    }
}

static void
odb_client_idle_cb(uv_idle_t *idle)
{
    struct odb_client *c = idle->data;

    uv_idle_stop(idle);
    if (odb_session_is_applying(c->session)) {
        odb_client_apply(c);
    } else {
        odb_client_load_later(c);
    }
}

static void
odb_client_msg(struct jrpc_client *conn, json_t *msg, void *c_)
{
    struct odb_client *c = c_;
    char *error = odb_session_receive(c->session, msg);

    if (error) {
        odb_client_fault(c, error);
        return;
    }
    error = odb_session_take_reconnect(c->session);
    if (error) {
        jrpc_client_reconnect(conn, error);
        free(error);
        return;
    }
    if (odb_session_is_applying(c->session)) {
        /* A large update: the rest of it is applied a slice at a time,
         * one in each turn of the loop, so that no turn is long. */
        odb_client_flush(c);
        jrpc_client_pause(conn);
        uv_idle_start(&c->idle, odb_client_idle_cb);
        return;
    }
    odb_client_settle(c);
}

static void
odb_client_probe(struct jrpc_client *conn OVS_UNUSED, void *c_)
{
    struct odb_client *c = c_;

    odb_session_probe(c->session);
    odb_client_flush(c);
}

/* Creates a client on 'loop' as 'options' say, which calls 'changed' with
 * 'aux' when the replica changes.  Returns NULL and the client in
 * '*clientp', or a malloc()'d error. */
char *
odb_client_create(struct uv_loop_s *loop,
                  const struct odb_client_options *options,
                  odb_client_changed_cb *changed, void *aux,
                  struct odb_client **clientp)
{
    static const struct jrpc_client_cbs cbs = {
        .connected = odb_client_connected,
        .disconnected = odb_client_disconnected,
        .msg = odb_client_msg,
        .probe = odb_client_probe,
        .sent = odb_client_sent,
    };
    struct odb_client *c = iovp_xzalloc(sizeof *c);
    char *error;

    *clientp = NULL;
    c->session = odb_session_create(&options->session);
    c->changed = changed;
    c->aux = aux;
    error = jrpc_client_create(loop, options->remotes, &options->connection,
                               &cbs, c, &c->conn);
    if (error) {
        odb_session_destroy(c->session);
        free(c);
        return error;
    }
    uv_idle_init(loop, &c->idle);
    c->idle.data = c;
    *clientp = c;
    return NULL;
}

static void
odb_client_closed_cb(uv_handle_t *handle)
{
    free(handle->data);
}

/* Closes 'c'.  Transactions in flight are not reported.  Its memory is
 * freed once the loop has closed its handles.  Accepts NULL. */
void
odb_client_destroy(struct odb_client *c)
{
    if (c) {
        jrpc_client_destroy(c->conn);
        odb_session_destroy(c->session);
        uv_close((uv_handle_t *) &c->idle, odb_client_closed_cb);
    }
}

/* Sends a transaction: see odb_session_transact(). */
int
odb_client_transact(struct odb_client *c, json_t *operations,
                    odb_txn_cb *cb, void *aux)
{
    int error = odb_session_transact(c->session, operations, cb, aux);

    odb_client_flush(c);
    return error;
}

/* Returns true if the replica is complete and current. */
bool
odb_client_is_active(const struct odb_client *c)
{
    return odb_session_is_active(c->session);
}

/* Monitors only the rows of 'table' that 'where' selects (stolen): see
 * odb_session_set_condition().  Returns 0 or a negative errno value. */
int
odb_client_set_condition(struct odb_client *c, const char *table,
                         json_t *where)
{
    int error = odb_session_set_condition(c->session, table, where);

    /* The consumer hears when the change's reply comes, even if it brings
     * no row. */
    c->was_settled = odb_client_is_settled(c);
    odb_client_flush(c);
    return error;
}

/* Returns true if an update is being applied a slice at a time: the
 * replica, and the model that is its store, hold part of it. */
bool
odb_client_is_applying(const struct odb_client *c)
{
    return odb_session_is_applying(c->session);
}

/* Returns true if the replica is active, holds every row that the
 * conditions select (no change of conditions is on its way) and no part
 * of an update being applied. */
bool
odb_client_is_settled(const struct odb_client *c)
{
    return (odb_session_is_active(c->session)
            && !odb_session_is_applying(c->session)
            && !odb_session_conditions_pending(c->session));
}

/* Returns a new reference to the monitor's conditions, {TABLE: <condition>}
 * for the tables that have one. */
json_t *
odb_client_conditions(const struct odb_client *c)
{
    return odb_session_conditions(c->session);
}

/* Returns a new reference to what a later process needs to resume the
 * monitor where 'c' is (see odb_session_save()), or NULL. */
json_t *
odb_client_save(const struct odb_client *c)
{
    return odb_session_save(c->session);
}

/* Gives 'c', which has not connected yet, the replica that 'saved' holds
 * (see odb_session_restore()), and tells the consumer of its rows at once,
 * though the replica is not active until the server confirmed or replaced
 * it.  The saved rows in the 'later_len' bytes at 'later' (JSON texts of
 * rows, one after the other; copied) come to the replica, and to the
 * consumer, once the first monitor request has left: the server answers
 * it meanwhile.  Returns NULL, or a malloc()'d error and 'c' unchanged. */
char *
odb_client_restore(struct odb_client *c, const json_t *saved,
                   const char *later, size_t later_len)
{
    char *error = odb_session_restore(c->session, saved, later, later_len);

    if (!error) {
        c->n_changes += odb_session_replica(c->session)->n_changes;
        c->changed(c, c->aux);
    }
    return error;
}

/* Returns the replica, or NULL before the first schema arrived. */
struct odb_replica *
odb_client_replica(const struct odb_client *c)
{
    return odb_session_replica(c->session);
}

/* Returns a new reference to the status of 'c', for ovsdb/status. */
json_t *
odb_client_status(const struct odb_client *c)
{
    const struct odb_session_stats *stats = odb_session_stats(c->session);
    const struct odb_replica *replica = odb_session_replica(c->session);
    const char *error = jrpc_client_last_error(c->conn);
    unsigned int n_connections = jrpc_client_n_connections(c->conn);
    json_t *server = odb_session_server_status(c->session);
    json_t *status = json_object();
    json_t *rows = json_object();

    json_object_set_new(status, "remote",
                        json_string(jrpc_client_remote(c->conn)));
    json_object_set_new(status, "connection",
                        json_string(jrpc_client_state(c->conn)));
    json_object_set_new(status, "state", json_string(
                            odb_session_state_to_string(
                                odb_session_get_state(c->session))));
    json_t *model = json_object_get(server, "model");
    json_object_set_new(status, "model",
                        model ? json_incref(model) : json_string("unknown"));
    json_object_set_new(status, "leader",
                        json_boolean(!json_is_false(
                                         json_object_get(server, "leader"))));
    if (json_is_integer(json_object_get(server, "index"))) {
        json_object_set(status, "index", json_object_get(server, "index"));
    }
    json_decref(server);
    json_object_set_new(status, "last_txn_id",
                        replica && replica->last_id
                        ? json_string(replica->last_id) : json_null());
    if (replica) {
        for (size_t i = 0; i < replica->n_tables; i++) {
            json_object_set_new(
                rows, replica->tables[i].schema->name,
                json_integer(odb_replica_table_n_rows(replica, i)));
        }
    }
    json_object_set_new(status, "rows", rows);
    json_object_set_new(status, "attempts",
                        json_integer(jrpc_client_n_attempts(c->conn)));
    json_object_set_new(status, "connections", json_integer(n_connections));
    json_object_set_new(status, "reconnects",
                        json_integer(n_connections ? n_connections - 1 : 0));
    json_object_set_new(status, "full_copies", json_integer(stats->n_full));
    json_object_set_new(status, "resyncs", json_integer(stats->n_resyncs));
    json_object_set_new(status, "resumed", json_integer(stats->n_resumed));
    json_object_set_new(status, "updates", json_integer(stats->n_updates));
    json_object_set_new(status, "condition_changes",
                        json_integer(stats->n_cond_changes));
    json_object_set_new(status, "settled",
                        json_boolean(odb_client_is_settled(c)));
    json_object_set_new(status, "rows_changed", json_integer(c->n_changes));
    json_object_set_new(status, "last_monitor",
                        c->monitor_method ? json_string(c->monitor_method)
                        : json_null());
    json_object_set_new(status, "last_monitor_ms",
                        (c->monitor_wait
                         ? json_real((c->monitor_wait + 50000) / 100000 / 10.0)
                         : json_null()));
    json_object_set_new(status, "bytes_received",
                        json_integer(jrpc_client_n_bytes(c->conn)));
    json_object_set_new(status, "txn_committed",
                        json_integer(stats->n_txn_committed));
    json_object_set_new(status, "txn_failed",
                        json_integer(stats->n_txn_failed));
    json_object_set_new(status, "txn_unknown",
                        json_integer(stats->n_txn_unknown));
    json_object_set_new(status, "last_error",
                        error ? json_string(error) : json_null());
    return status;
}

/* Returns the status of 'c' as malloc()'d text, a "name: value" line for
 * each item of odb_client_status(). */
char *
odb_client_status_text(const struct odb_client *c)
{
    json_t *status = odb_client_status(c);
    char *text = iovp_json_lines(status, "  ");

    json_decref(status);
    return text;
}
