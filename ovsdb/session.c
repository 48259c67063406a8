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

#include "ovsdb/session.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/vlog.h>

#include "lib/json-decode.h"
#include "lib/jsonrpc.h"
#include "lib/util.h"
#include "ovsdb/schema.h"

VLOG_DEFINE_THIS_MODULE(odb_session);

/* The monitor ids this client uses. */
#define ODB_MONITOR_ID "iovp"
#define ODB_SERVER_MONITOR_ID "iovp-server"

/* No transaction id: what monitor_cond_since asks for with nothing seen. */
#define ODB_ZERO_UUID "00000000-0000-0000-0000-000000000000"

/* The kinds of request a session sends, with their names. */
#define ODB_REQUEST_KINDS                                       \
    ODB_REQUEST_KIND(SERVER_SCHEMA, "get_schema _Server")       \
    ODB_REQUEST_KIND(LIST_DBS, "list_dbs")                      \
    ODB_REQUEST_KIND(SERVER_MONITOR, "monitor_cond _Server")    \
    ODB_REQUEST_KIND(DB_CHANGE_AWARE, "set_db_change_aware")    \
    ODB_REQUEST_KIND(SCHEMA, "get_schema")                      \
    ODB_REQUEST_KIND(MONITOR_SINCE, "monitor_cond_since")       \
    ODB_REQUEST_KIND(MONITOR_COND, "monitor_cond")              \
    ODB_REQUEST_KIND(MONITOR, "monitor")                        \
    ODB_REQUEST_KIND(COND_CHANGE, "monitor_cond_change")        \
    ODB_REQUEST_KIND(ECHO, "echo")                              \
    ODB_REQUEST_KIND(TRANSACT, "transact")

enum odb_request_kind {
#define ODB_REQUEST_KIND(ENUM, NAME) ODB_REQ_##ENUM,
    ODB_REQUEST_KINDS
#undef ODB_REQUEST_KIND
};

static const char *
odb_request_kind_to_string(enum odb_request_kind kind)
{
    switch (kind) {
#define ODB_REQUEST_KIND(ENUM, NAME) case ODB_REQ_##ENUM: return NAME;
        ODB_REQUEST_KINDS
#undef ODB_REQUEST_KIND
    }
    return "(unknown)";
}

/* The work of one slice of an update's apply (odb_apply_step()): 20 to
 * 35 ms for rows of hardware_vtep's ACL_entry, measured. */
#define ODB_SESSION_APPLY_ROWS 4096

/* A request in flight. */
struct odb_request {
    long long int id;
    enum odb_request_kind kind;
    odb_txn_cb *cb;             /* TRANSACT only. */
    void *aux;
};

/* The _Server columns read, those that the server's schema has. */
static const char *const odb_server_columns[] = {
    "name", "model", "connected", "leader", "index", NULL,
};

struct odb_session {
    char *database;
    struct odb_monitor_table *tables;
    size_t n_tables;
    bool leader_only;
    const struct odb_store *store;  /* For the replica's values, or NULL. */

    enum odb_session_state state;
    json_t *outbox;             /* Messages to send, in order. */
    long long int next_id;
    struct odb_request *requests;
    size_t n_requests, allocated_requests;

    odb_conditions_cb *conditions;  /* The owner's, for monitor_cond. */
    void *conditions_aux;
    uint64_t *digests;          /* Of each table's condition, or 0. */
    bool conditions_unsent;     /* The conditions changed since the server
                                 * last heard them: the replica's rows may
                                 * not be those they select. */
    enum odb_request_kind monitor_kind; /* How the monitor was made. */

    json_t *schema_json;        /* The database's schema as last read. */
    struct odb_replica *replica;
    bool have_copy;             /* 'replica' holds a complete copy. */
    char *later;                /* Saved rows that odb_session_restore()
                                 * left for odb_session_load_later(), as
                                 * JSON texts one after the other, or
                                 * NULL. */
    size_t later_len;
    size_t later_ofs;           /* Where the next text of them begins. */

    /* An update that is being applied a slice at a time (see
     * odb_session_run()), and what is done once it is: */
    struct odb_apply *apply;
    enum odb_apply_then {
        ODB_THEN_UPDATE,        /* An update notification. */
        ODB_THEN_FULL,          /* A monitor reply's complete copy. */
        ODB_THEN_RESUMED,       /* A monitor_cond_since's changes. */
    } apply_then;
    char *apply_last_id;        /* The transaction it brings the replica
                                 * to, or NULL. */

    struct odb_replica *server; /* _Server's Database table, or NULL. */
    long long int min_index;    /* Highest cluster index seen. */

    struct odb_session_stats stats;
    char *reconnect;            /* Why to reconnect, not for a fault. */
};

static void odb_session_drop_apply(struct odb_session *);
static void odb_session_abandon_apply(struct odb_session *);

const char *
odb_session_state_to_string(enum odb_session_state state)
{
    switch (state) {
#define ODB_SESSION_STATE(ENUM, NAME) case ODB_SESSION_##ENUM: return NAME;
        ODB_SESSION_STATES
#undef ODB_SESSION_STATE
    }
    return "(unknown)";
}

const char *
odb_txn_outcome_to_string(enum odb_txn_outcome outcome)
{
    switch (outcome) {
#define ODB_TXN_OUTCOME(ENUM, NAME) case ODB_TXN_##ENUM: return NAME;
        ODB_TXN_OUTCOMES
#undef ODB_TXN_OUTCOME
    }
    return "(unknown)";
}

/* Creates a session that monitors what 'options' says, disconnected. */
struct odb_session *
odb_session_create(const struct odb_session_options *options)
{
    struct odb_session *s = iovp_xzalloc(sizeof *s);

    s->database = iovp_xstrdup(options->database);
    s->n_tables = options->n_tables;
    s->tables = iovp_xmalloc(MAX(1, s->n_tables) * sizeof *s->tables);
    memcpy(s->tables, options->tables, s->n_tables * sizeof *s->tables);
    s->leader_only = options->leader_only;
    s->store = options->store;
    s->state = ODB_SESSION_DISCONNECTED;
    s->outbox = json_array();
    s->conditions = options->conditions;
    s->conditions_aux = options->conditions_aux;
    s->digests = iovp_xzalloc(MAX(1, s->n_tables) * sizeof *s->digests);
    s->min_index = LLONG_MIN;
    return s;
}

/* Frees 's'.  Transactions in flight are not reported.  Accepts NULL. */
void
odb_session_destroy(struct odb_session *s)
{
    if (s) {
        free(s->database);
        free(s->tables);
        json_decref(s->outbox);
        free(s->digests);
        free(s->requests);
        json_decref(s->schema_json);
        free(s->later);
        odb_session_drop_apply(s);
        odb_replica_destroy(s->replica);
        odb_replica_destroy(s->server);
        free(s->reconnect);
        free(s);
    }
}

static void odb_session_send_conditions(struct odb_session *);
static bool odb_session_note_conditions(struct odb_session *,
                                        const json_t *conds);

static void
odb_session_transition(struct odb_session *s, enum odb_session_state state)
{
    if (s->state != state) {
        VLOG_DBG("%s: %s -> %s", s->database,
                 odb_session_state_to_string(s->state),
                 odb_session_state_to_string(state));
        s->state = state;
        if (state == ODB_SESSION_ACTIVE && s->conditions_unsent) {
            /* The conditions changed while the monitor was on its way. */
            odb_session_send_conditions(s);
        }
    }
}

/* Queues a request for 'method' with 'params' (stolen) and remembers it as
 * 'kind'.  Returns the request. */
static struct odb_request *
odb_session_request(struct odb_session *s, enum odb_request_kind kind,
                    const char *method, json_t *params)
{
    long long int id = s->next_id++;

    json_array_append_new(s->outbox,
                          jrpc_request(method, params, json_integer(id)));
    if (s->n_requests >= s->allocated_requests) {
        s->allocated_requests = MAX(8, 2 * s->allocated_requests);
        s->requests = iovp_xrealloc(
            s->requests, s->allocated_requests * sizeof *s->requests);
    }
    struct odb_request *r = &s->requests[s->n_requests++];
    *r = (struct odb_request) { .id = id, .kind = kind };
    return r;
}

/* Removes the request with 'id' into '*r'.  Returns false if there is
 * none. */
static bool
odb_session_take_request(struct odb_session *s, const json_t *id,
                         struct odb_request *r)
{
    if (!json_is_integer(id)) {
        return false;
    }
    for (size_t i = 0; i < s->n_requests; i++) {
        if (s->requests[i].id == json_integer_value(id)) {
            *r = s->requests[i];
            memmove(&s->requests[i], &s->requests[i + 1],
                    (s->n_requests - i - 1) * sizeof *s->requests);
            s->n_requests--;
            return true;
        }
    }
    return false;
}

static void
odb_session_send_schema_request(struct odb_session *s)
{
    odb_session_transition(s, ODB_SESSION_SCHEMA);
    odb_session_request(s, ODB_REQ_SCHEMA, "get_schema",
                        json_pack("[s]", s->database));
}

static void
odb_session_send_monitor(struct odb_session *s, enum odb_request_kind kind)
{
    json_t *requests = odb_replica_monitor_requests(s->replica);

    /* monitor_cond and monitor_cond_since take a condition per table; a
     * server with only "monitor" sends every row. */
    json_t *conds = odb_session_conditions(s);
    s->conditions_unsent |= odb_session_note_conditions(s, conds);
    if (kind != ODB_REQ_MONITOR) {
        const char *table;
        json_t *where;

        json_object_foreach (conds, table, where) {
            json_t *request = json_array_get(json_object_get(requests,
                                                             table), 0);
            if (request) {
                json_object_set(request, "where", where);
            }
        }
    }
    json_decref(conds);
    s->monitor_kind = kind;

    json_t *params = json_pack("[s, s, o]", s->database, ODB_MONITOR_ID,
                               requests);
    if (kind == ODB_REQ_MONITOR_SINCE) {
        /* The changes since the last transaction are not enough when the
         * conditions changed since the server last heard them: rows that
         * the new ones select and that did not change would not come. */
        const char *last_id = s->replica->last_id;
        json_array_append_new(params,
                              json_string(last_id && !s->conditions_unsent
                                          ? last_id : ODB_ZERO_UUID));
    }
    s->conditions_unsent = false;
    odb_session_transition(s, ODB_SESSION_MONITOR);
    odb_session_request(s, kind, odb_request_kind_to_string(kind), params);
}

/* A connection is up: starts the protocol. */
void
odb_session_connected(struct odb_session *s)
{
    json_array_clear(s->outbox);
    s->n_requests = 0;
    odb_replica_destroy(s->server);
    s->server = NULL;

    odb_session_transition(s, ODB_SESSION_SERVER_SCHEMA);
    odb_session_request(s, ODB_REQ_SERVER_SCHEMA, "get_schema",
                        json_pack("[s]", "_Server"));
}

/* The connection is gone: transactions in flight have unknown outcomes. */
void
odb_session_disconnected(struct odb_session *s)
{
    struct odb_request *requests = s->requests;
    size_t n = s->n_requests;

    /* A change of conditions without its reply may or may not have
     * brought its rows. */
    s->conditions_unsent = odb_session_conditions_pending(s);

    /* Callbacks may start new transactions, which must fail cleanly, so
     * the session is reset before they run. */
    s->requests = NULL;
    s->n_requests = s->allocated_requests = 0;
    json_array_clear(s->outbox);
    odb_session_transition(s, ODB_SESSION_DISCONNECTED);
    odb_session_abandon_apply(s);

    for (size_t i = 0; i < n; i++) {
        if (requests[i].kind == ODB_REQ_TRANSACT) {
            s->stats.n_txn_unknown++;
            requests[i].cb(ODB_TXN_UNKNOWN, NULL, requests[i].aux);
        }
    }
    free(requests);
}

/* Returns a new reference to the next message to send, or NULL. */
json_t *
odb_session_pop(struct odb_session *s)
{
    if (!json_array_size(s->outbox)) {
        return NULL;
    }
    json_t *msg = json_incref(json_array_get(s->outbox, 0));
    json_array_remove(s->outbox, 0);
    return msg;
}

/* Queues an echo request, as an inactivity probe. */
void
odb_session_probe(struct odb_session *s)
{
    if (s->state != ODB_SESSION_DISCONNECTED) {
        odb_session_request(s, ODB_REQ_ECHO, "echo", json_array());
    }
}

/* Checks what _Server says of the database: returns NULL if this server
 * will do, else a malloc()'d reason to leave it. */
static char *
odb_session_check_server(struct odb_session *s)
{
    const struct odb_replica_table *t;
    const struct odb_row *row, *found = NULL;
    int name_i = -1, model_i = -1, connected_i = -1, leader_i = -1;
    int index_i = -1;

    t = &s->server->tables[0];
    for (size_t i = 0; i < t->n_columns; i++) {
        const char *name = t->columns[i]->name;
        int *ip = (!strcmp(name, "name") ? &name_i
                   : !strcmp(name, "model") ? &model_i
                   : !strcmp(name, "connected") ? &connected_i
                   : !strcmp(name, "leader") ? &leader_i
                   : !strcmp(name, "index") ? &index_i
                   : NULL);
        if (ip) {
            *ip = i;
        }
    }
    if (name_i < 0) {
        return NULL;
    }
    HMAP_FOR_EACH (row, node, &t->rows) {
        if (json_is_string(row->values[name_i])
            && !strcmp(json_string_value(row->values[name_i]),
                       s->database)) {
            found = row;
        }
    }
    if (!found) {
        return iovp_xasprintf("server does not have database %s",
                              s->database);
    }

    const char *model = (model_i >= 0
                         ? json_string_value(found->values[model_i]) : NULL);
    if (!model || strcmp(model, "clustered")) {
        return NULL;
    }
    if (connected_i >= 0 && !json_is_true(found->values[connected_i])) {
        return iovp_xasprintf("clustered database %s is not connected to "
                              "its cluster", s->database);
    }
    if (s->leader_only && leader_i >= 0
        && !json_is_true(found->values[leader_i])) {
        return iovp_xasprintf("clustered database %s is not the leader",
                              s->database);
    }
    if (index_i >= 0 && json_is_integer(found->values[index_i])) {
        long long int index = json_integer_value(found->values[index_i]);
        if (index < s->min_index) {
            return iovp_xasprintf("clustered database %s is at index %lld, "
                                  "older than index %lld already seen",
                                  s->database, index, s->min_index);
        }
        s->min_index = index;
    }
    return NULL;
}

static char *
odb_session_handle_server_schema(struct odb_session *s, const json_t *result)
{
    struct odb_schema *schema;
    char *error = odb_schema_from_json(result, &schema);

    if (error) {
        return error;
    }
    const struct odb_table_schema *ts = odb_schema_find_table(schema,
                                                              "Database");
    if (!ts) {
        odb_schema_destroy(schema);
        return iovp_xasprintf("_Server schema has no Database table");
    }

    const char *columns[IOVP_ARRAY_SIZE(odb_server_columns)];
    size_t n = 0;
    for (size_t i = 0; odb_server_columns[i]; i++) {
        if (odb_table_find_column(ts, odb_server_columns[i])) {
            columns[n++] = odb_server_columns[i];
        }
    }
    columns[n] = NULL;

    struct odb_monitor_table mt = { .table = "Database", .columns = columns };
    error = odb_replica_create(schema, &mt, 1, NULL, &s->server);
    if (error) {
        return error;
    }

    json_t *requests = odb_replica_monitor_requests(s->server);
    json_object_set_new(json_array_get(json_object_get(requests, "Database"),
                                       0),
                        "where", json_pack("[[s, s, s]]", "name", "==",
                                           s->database));
    odb_session_transition(s, ODB_SESSION_SERVER_MONITOR);
    odb_session_request(s, ODB_REQ_SERVER_MONITOR, "monitor_cond",
                        json_pack("[s, s, o]", "_Server",
                                  ODB_SERVER_MONITOR_ID, requests));
    return NULL;
}

static char *
odb_session_handle_schema(struct odb_session *s, const json_t *result)
{
    if (s->replica && s->schema_json && json_equal(s->schema_json, result)) {
        /* Same schema as before: keep the replica, to resume or compare. */
        odb_session_send_monitor(s, ODB_REQ_MONITOR_SINCE);
        return NULL;
    }

    struct odb_schema *schema;
    char *error = odb_schema_from_json(result, &schema);
    if (error) {
        return error;
    }
    if (strcmp(schema->name, s->database)) {
        error = iovp_xasprintf("asked for schema of %s, received %s",
                               s->database, schema->name);
        odb_schema_destroy(schema);
        return error;
    }

    struct odb_replica *replica;
    error = odb_replica_create(schema, s->tables, s->n_tables, s->store,
                               &replica);
    if (error) {
        return error;
    }
    if (s->replica) {
        VLOG_INFO("%s: schema changed; starting a new replica",
                  s->database);
    }
    odb_replica_destroy(s->replica);
    s->replica = replica;
    s->have_copy = false;
    free(s->later);
    s->later = NULL;
    s->later_len = s->later_ofs = 0;
    json_decref(s->schema_json);
    s->schema_json = json_incref((json_t *) result);

    odb_session_send_monitor(s, ODB_REQ_MONITOR_SINCE);
    return NULL;
}

/* Forgets the update that 's' was applying. */
static void
odb_session_drop_apply(struct odb_session *s)
{
    odb_apply_destroy(s->apply);
    s->apply = NULL;
    free(s->apply_last_id);
    s->apply_last_id = NULL;
}

/* Ends the apply of 's' that odb_apply_step() just completed. */
static void
odb_session_finish_apply(struct odb_session *s)
{
    switch (s->apply_then) {
    case ODB_THEN_UPDATE:
        s->stats.n_updates++;
        break;
    case ODB_THEN_FULL:
        s->stats.n_full++;
        if (s->have_copy) {
            s->stats.n_resyncs++;
        }
        s->have_copy = true;
        break;
    case ODB_THEN_RESUMED:
        s->stats.n_resumed++;
        break;
    }
    if (s->apply_last_id) {
        odb_replica_set_last_id(s->replica, s->apply_last_id);
    }
    odb_session_drop_apply(s);
    if (s->apply_then != ODB_THEN_UPDATE
        && s->state != ODB_SESSION_DISCONNECTED) {
        odb_session_transition(s, ODB_SESSION_ACTIVE);
    }
}

/* Does the next slice of the apply of 's'.  Returns NULL or an error (the
 * update does not fit the schema; the replica is as it was). */
static char *
odb_session_step_apply(struct odb_session *s, size_t n)
{
    bool done;
    char *error = odb_apply_step(s->apply, n, &done);

    if (error) {
        odb_session_drop_apply(s);
    } else if (done) {
        odb_session_finish_apply(s);
    }
    return error;
}

/* The connection is gone while an update was being applied.  Until every
 * row was checked, the replica has not changed, and the update is
 * dropped; after, the rest is committed at once, so that the replica is
 * as of a transaction that a later monitor_cond_since may resume from. */
static void
odb_session_abandon_apply(struct odb_session *s)
{
    if (s->apply) {
        if (odb_apply_is_checked(s->apply)) {
            char *error = odb_session_step_apply(s, SIZE_MAX);
            ovs_assert(!error);
        } else {
            odb_session_drop_apply(s);
        }
    }
}

/* Starts to apply 'updates' of format 'version' to the replica, a complete
 * copy if 'then' is ODB_THEN_FULL, and does its first slice: the rest is
 * for odb_session_run().  Once applied, the replica is as of transaction
 * 'last_id', if nonnull.  Returns NULL or an error. */
static char *
odb_session_apply(struct odb_session *s, const json_t *updates, int version,
                  enum odb_apply_then then, const char *last_id)
{
    ovs_assert(!s->apply);
    s->apply = odb_replica_apply_start(s->replica, updates, version,
                                       then == ODB_THEN_FULL);
    s->apply_then = then;
    s->apply_last_id = iovp_nullable_xstrdup(last_id);
    return odb_session_step_apply(s, ODB_SESSION_APPLY_ROWS);
}

static char *
odb_session_handle_monitor_reply(struct odb_session *s,
                                 enum odb_request_kind kind,
                                 const json_t *result)
{
    char *error = odb_session_load_later(s, true);
    if (error) {
        return error;
    }

    if (kind != ODB_REQ_MONITOR_SINCE) {
        odb_replica_set_last_id(s->replica, NULL);
        return odb_session_apply(s, result, kind == ODB_REQ_MONITOR ? 1 : 2,
                                 ODB_THEN_FULL, NULL);
    }

    json_t *updates;
    const char *last_id;
    int found;
    if (json_unpack((json_t *) result, "[b, s, o]", &found, &last_id,
                    &updates)) {
        return iovp_xasprintf("malformed monitor_cond_since reply");
    }

    return odb_session_apply(s, updates, 2,
                             found ? ODB_THEN_RESUMED : ODB_THEN_FULL,
                             last_id);
}

static char *
odb_session_handle_reply(struct odb_session *s, const struct jrpc_msg *msg)
{
    struct odb_request r;

    if (!odb_session_take_request(s, msg->id, &r)) {
        char *id = json_dumps(msg->id, JSON_ENCODE_ANY);
        char *error = iovp_xasprintf("%s to unknown id %s",
                                     jrpc_msg_type_to_string(msg->type), id);
        free(id);
        return error;
    }

    if (r.kind == ODB_REQ_TRANSACT) {
        if (msg->type == JRPC_ERROR) {
            s->stats.n_txn_failed++;
            r.cb(ODB_TXN_FAILED, msg->error, r.aux);
            return NULL;
        } else if (!json_is_array(msg->result)) {
            /* The outcome cannot be known from a reply like this. */
            s->stats.n_txn_unknown++;
            r.cb(ODB_TXN_UNKNOWN, NULL, r.aux);
            return iovp_xasprintf("transact reply is not an array");
        }

        size_t i;
        json_t *op;
        json_array_foreach (msg->result, i, op) {
            if (json_is_object(op) && json_object_get(op, "error")) {
                s->stats.n_txn_failed++;
                r.cb(ODB_TXN_FAILED, op, r.aux);
                return NULL;
            }
        }
        s->stats.n_txn_committed++;
        r.cb(ODB_TXN_COMMITTED, msg->result, r.aux);
        return NULL;
    }

    if (msg->type == JRPC_ERROR) {
        char *e = json_dumps(msg->error, JSON_ENCODE_ANY);
        char *error = NULL;

        switch (r.kind) {
        case ODB_REQ_SERVER_SCHEMA:
            /* A server without _Server (older, or not ovsdb-server): find
             * out from list_dbs whether it has the database at all. */
            VLOG_DBG("%s: no _Server database (%s)", s->database, e);
            odb_session_request(s, ODB_REQ_LIST_DBS, "list_dbs",
                                json_array());
            break;
        case ODB_REQ_MONITOR_SINCE:
            odb_session_send_monitor(s, ODB_REQ_MONITOR_COND);
            break;
        case ODB_REQ_MONITOR_COND:
            odb_session_send_monitor(s, ODB_REQ_MONITOR);
            break;
        case ODB_REQ_DB_CHANGE_AWARE:
        case ODB_REQ_ECHO:
            break;
        case ODB_REQ_LIST_DBS:
        case ODB_REQ_SERVER_MONITOR:
        case ODB_REQ_SCHEMA:
        case ODB_REQ_MONITOR:
        case ODB_REQ_COND_CHANGE:
        case ODB_REQ_TRANSACT:
        default:
            error = iovp_xasprintf("%s failed: %s",
                                   odb_request_kind_to_string(r.kind), e);
            break;
        }
        free(e);
        return error;
    }

    char *error = NULL;
    switch (r.kind) {
    case ODB_REQ_SERVER_SCHEMA:
        error = odb_session_handle_server_schema(s, msg->result);
        break;
    case ODB_REQ_LIST_DBS: {
        size_t i;
        json_t *name;
        bool found = false;

        if (!json_is_array(msg->result)) {
            error = iovp_xasprintf("list_dbs reply is not an array");
            break;
        }
        json_array_foreach (msg->result, i, name) {
            found |= (json_is_string(name)
                      && !strcmp(json_string_value(name), s->database));
        }
        if (found) {
            odb_session_send_schema_request(s);
        } else {
            error = iovp_xasprintf("server does not have database %s",
                                   s->database);
        }
        break;
    }
    case ODB_REQ_SERVER_MONITOR:
        error = odb_replica_apply_full(s->server, msg->result, 2);
        odb_replica_clear_changes(s->server);
        if (!error) {
            error = odb_session_check_server(s);
        }
        if (!error) {
            odb_session_request(s, ODB_REQ_DB_CHANGE_AWARE,
                                "set_db_change_aware", json_pack("[b]", 1));
            odb_session_send_schema_request(s);
        }
        break;
    case ODB_REQ_SCHEMA:
        error = odb_session_handle_schema(s, msg->result);
        break;
    case ODB_REQ_MONITOR_SINCE:
    case ODB_REQ_MONITOR_COND:
    case ODB_REQ_MONITOR:
        error = odb_session_handle_monitor_reply(s, r.kind, msg->result);
        break;
    case ODB_REQ_COND_CHANGE:
    case ODB_REQ_DB_CHANGE_AWARE:
    case ODB_REQ_ECHO:
    case ODB_REQ_TRANSACT:
    default:
        break;
    }
    return error;
}

static char *
odb_session_handle_notify(struct odb_session *s, const struct jrpc_msg *msg)
{
    const char *monitor_id = json_string_value(json_array_get(msg->params,
                                                              0));
    bool server = monitor_id && !strcmp(monitor_id, ODB_SERVER_MONITOR_ID);
    const json_t *updates;
    const char *last_id = NULL;
    int version;
    char *error;

    if (!strcmp(msg->method, "monitor_canceled")) {
        /* The database was removed or converted to a new schema: read the
         * schema again and monitor anew, as Open vSwitch's client does.
         * (A server that is shutting down will close the connection.) */
        if (server || !s->replica) {
            /* _Server goes when the server shuts down: reconnect, which
             * is no fault of the server's. */
            free(s->reconnect);
            s->reconnect = iovp_xasprintf("server canceled the monitor of "
                                          "%s",
                                          server ? "_Server" : s->database);
            return NULL;
        }
        VLOG_INFO("%s: server canceled the monitor; monitoring anew",
                  s->database);
        odb_session_send_schema_request(s);
        return NULL;
    } else if (!strcmp(msg->method, "update")) {
        version = 1;
    } else if (!strcmp(msg->method, "update2")) {
        version = 2;
    } else if (!strcmp(msg->method, "update3")) {
        version = 3;
    } else {
        return iovp_xasprintf("unexpected notification \"%s\"", msg->method);
    }

    if (!monitor_id || (strcmp(monitor_id, ODB_MONITOR_ID) && !server)) {
        return iovp_xasprintf("%s for an unknown monitor", msg->method);
    } else if (server ? !s->server || version != 2 : !s->replica) {
        return iovp_xasprintf("unexpected %s", msg->method);
    }

    if (version == 3) {
        last_id = json_string_value(json_array_get(msg->params, 1));
        updates = json_array_get(msg->params, 2);
        if (!last_id || json_array_size(msg->params) != 3) {
            return iovp_xasprintf("malformed update3");
        }
    } else {
        updates = json_array_get(msg->params, 1);
        if (json_array_size(msg->params) != 2) {
            return iovp_xasprintf("malformed %s", msg->method);
        }
    }

    if (server) {
        error = odb_replica_apply(s->server, updates, 2);
        odb_replica_clear_changes(s->server);
        return error ? error : odb_session_check_server(s);
    }

    return odb_session_apply(s, updates, version == 1 ? 1 : 2,
                             ODB_THEN_UPDATE, last_id);
}

/* Handles 'msg', a JSON-RPC message received.  Returns NULL, or a
 * malloc()'d reason why the connection must be dropped (a malformed
 * message, an update that does not fit the schema, a server unfit to
 * use); the replica is then as it was before 'msg'. */
char *
odb_session_receive(struct odb_session *s, const json_t *json)
{
    struct jrpc_msg msg;
    char *error = jrpc_msg_parse((json_t *) json, &msg);

    if (error) {
        return error;
    } else if (s->state == ODB_SESSION_DISCONNECTED) {
        return iovp_xasprintf("message while disconnected");
    }

    /* The messages take effect in order: one that arrives while an
     * update is being applied waits for the rest of it. */
    if (s->apply) {
        error = odb_session_step_apply(s, SIZE_MAX);
        if (error) {
            return error;
        }
    }

    switch (msg.type) {
    case JRPC_REQUEST:
        if (!strcmp(msg.method, "echo")) {
            json_array_append_new(s->outbox,
                                  jrpc_reply(json_incref(msg.params),
                                             msg.id));
            return NULL;
        }
        return iovp_xasprintf("unexpected request \"%s\"", msg.method);

    case JRPC_NOTIFY:
        return odb_session_handle_notify(s, &msg);

    case JRPC_REPLY:
    case JRPC_ERROR:
        return odb_session_handle_reply(s, &msg);
    }
    return NULL;
}

/* Returns a digest of 'json', never 0: the same for equal values (objects
 * with their members in the same order), and for different ones only by a
 * chance of one in 2**64. */
static uint64_t
odb_json_digest(const json_t *json, uint64_t h)
{
    uint8_t type = json_typeof(json);

    h = iovp_hash_bytes64(&type, sizeof type, h);
    switch (json_typeof(json)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *value;

        json_object_foreach (CONST_CAST(json_t *, json), key, value) {
            h = iovp_hash_bytes64(key, strlen(key) + 1, h);
            h = odb_json_digest(value, h);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(json);

        h = iovp_hash_bytes64(&n, sizeof n, h);
        for (size_t i = 0; i < n; i++) {
            h = odb_json_digest(json_array_get(json, i), h);
        }
        break;
    }
    case JSON_STRING: {
        size_t n = json_string_length(json);

        h = iovp_hash_bytes64(&n, sizeof n, h);
        h = iovp_hash_bytes64(json_string_value(json), n, h);
        break;
    }
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(json);

        h = iovp_hash_bytes64(&i, sizeof i, h);
        break;
    }
    case JSON_REAL: {
        double d = json_real_value(json);

        h = iovp_hash_bytes64(&d, sizeof d, h);
        break;
    }
    case JSON_TRUE:
    case JSON_FALSE:
    case JSON_NULL:
    default:
        break;
    }
    return h ? h : 1;
}

/* Returns the index in 's->tables' of 'table', or SIZE_MAX. */
static size_t
odb_session_find_table(const struct odb_session *s, const char *table)
{
    for (size_t i = 0; i < s->n_tables; i++) {
        if (!strcmp(s->tables[i].table, table)) {
            return i;
        }
    }
    return SIZE_MAX;
}

/* Records 'conds', the conditions as they stand, as those the server
 * hears next.  Returns true if they differ from those it heard last. */
static bool
odb_session_note_conditions(struct odb_session *s, const json_t *conds)
{
    bool changed = false;

    for (size_t i = 0; i < s->n_tables; i++) {
        const json_t *where = json_object_get(conds, s->tables[i].table);
        uint64_t digest = where ? odb_json_digest(where, 0) : 0;

        changed |= digest != s->digests[i];
        s->digests[i] = digest;
    }
    return changed;
}

/* Monitors only the rows of 'table' that satisfy 'where' (an OVSDB
 * condition, an array of clauses as in RFC 7047's "where", or [true] for
 * every row; stolen).  An active monitor is changed at once with
 * monitor_cond_change, and the server then sends the rows that enter and
 * leave the condition as inserts and deletes.  Later monitors start with
 * the conditions that the session's owner gives (odb_session_options'
 * 'conditions'), which must include this one; the session keeps only a
 * digest of it.  A server that knows only "monitor" sends every row
 * whatever the condition.  Returns 0, or -EINVAL if 'where' is not an
 * array, 'table' is not monitored or the owner gives no conditions. */
int
odb_session_set_condition(struct odb_session *s, const char *table,
                          json_t *where)
{
    size_t i = odb_session_find_table(s, table);

    if (i == SIZE_MAX || !json_is_array(where) || !s->conditions) {
        json_decref(where);
        return -EINVAL;
    }

    uint64_t digest = odb_json_digest(where, 0);
    if (digest == s->digests[i]) {
        json_decref(where);
        return 0;
    }
    s->digests[i] = digest;

    if (s->state != ODB_SESSION_ACTIVE) {
        s->conditions_unsent = true;
    } else if (s->monitor_kind != ODB_REQ_MONITOR
               && odb_replica_find_table(s->replica, table)) {
        /* (A table that the server's schema lacks is not monitored.) */
        s->stats.n_cond_changes++;
        odb_session_request(s, ODB_REQ_COND_CHANGE, "monitor_cond_change",
                            json_pack("[s, s, {s:[{s:O}]}]", ODB_MONITOR_ID,
                                      ODB_MONITOR_ID, table, "where",
                                      where));
    }
    json_decref(where);
    return 0;
}

/* Returns a new reference to the conditions, {TABLE: <condition>}, of the
 * tables that have one, as the session's owner gives them now. */
json_t *
odb_session_conditions(const struct odb_session *s)
{
    json_t *conds = s->conditions ? s->conditions(s->conditions_aux) : NULL;

    return conds ? conds : json_object();
}

/* Sends the conditions of every table that the server has. */
static void
odb_session_send_conditions(struct odb_session *s)
{
    s->conditions_unsent = false;
    if (s->monitor_kind == ODB_REQ_MONITOR) {
        return;
    }

    json_t *conds = odb_session_conditions(s);
    json_t *changes = json_object();
    const char *table;
    json_t *where;

    odb_session_note_conditions(s, conds);
    json_object_foreach (conds, table, where) {
        if (odb_replica_find_table(s->replica, table)) {
            json_object_set_new(changes, table,
                                json_pack("[{s:O}]", "where", where));
        }
    }
    json_decref(conds);
    s->stats.n_cond_changes++;
    odb_session_request(s, ODB_REQ_COND_CHANGE, "monitor_cond_change",
                        json_pack("[s, s, o]", ODB_MONITOR_ID, ODB_MONITOR_ID,
                                  changes));
}

/* Returns true while a change of conditions is on its way to the server
 * or its effect on the way back: the replica then may not hold yet every
 * row that the conditions select.  (The server sends the rows that enter
 * and leave before its reply.) */
bool
odb_session_conditions_pending(const struct odb_session *s)
{
    for (size_t i = 0; i < s->n_requests; i++) {
        if (s->requests[i].kind == ODB_REQ_COND_CHANGE) {
            return true;
        }
    }
    return s->conditions_unsent;
}

/* Returns a new reference to what a session in a later process needs to
 * resume the monitor where 's' is, with monitor_cond_since: the schema, the
 * tables and columns monitored, the last transaction's id, a digest of each
 * table's condition as the server holds it, and the rows, as {"database":
 * NAME, "schema": SCHEMA, "monitor": REQUESTS, "last_id": UUID,
 * "conditions": {TABLE: DIGEST}, "rows": ROWS}, ROWS as odb_replica_save()
 * gives them.
 * Returns NULL when 's' could not resume from where it is: not active, a
 * change of conditions on its way, or a server that gives no transaction
 * ids (only a clustered database does). */
json_t *
odb_session_save(const struct odb_session *s)
{
    const char *last_id = s->replica ? s->replica->last_id : NULL;

    if (!odb_session_is_active(s) || odb_session_conditions_pending(s)
        || s->apply || !last_id || !strcmp(last_id, ODB_ZERO_UUID)) {
        return NULL;
    }

    json_t *digests = json_object();
    for (size_t i = 0; i < s->n_tables; i++) {
        if (s->digests[i]) {
            char hex[17];

            snprintf(hex, sizeof hex, "%016"PRIx64, s->digests[i]);
            json_object_set_new(digests, s->tables[i].table,
                                json_string(hex));
        }
    }
    return json_pack("{s:s, s:O, s:o, s:s, s:o, s:o}",
                     "database", s->database,
                     "schema", s->schema_json,
                     "monitor", odb_replica_monitor_requests(s->replica),
                     "last_id", last_id,
                     "conditions", digests,
                     "rows", odb_replica_save(s->replica));
}

/* Makes 's', which must never have connected, hold what odb_session_save()
 * returned in another process, 'saved': the replica then has the saved
 * rows, and the first monitor asks the server only for the changes since
 * the saved transaction, if the owner's conditions are still the saved
 * ones and the schema the server gives is the saved one.  The server
 * replies with a complete copy if it no longer has that transaction (or
 * never had it: a database that is not clustered), and the saved rows are
 * then replaced.  Until the monitor's reply, the replica is not active.
 *
 * More saved rows may follow in the 'later_len' bytes at 'later' (copied):
 * JSON texts one after the other, each rows as odb_replica_save() gives
 * them, of some tables or a part of a table's.  They are not loaded now
 * but by odb_session_load_later(), once the first monitor request has left
 * (or, at the latest, when its reply comes): so that the server answers it
 * while they load, a text at a time (a turn of the owner's loop each, if it
 * likes), and so that no more than one text's tree is in memory at once.
 * The owner's conditions must not depend on those rows.
 *
 * Returns NULL, or a malloc()'d error and 's' unchanged. */
char *
odb_session_restore(struct odb_session *s, const json_t *saved,
                    const char *later, size_t later_len)
{
    const char *database, *last_id;
    json_t *schema_json, *monitor, *digests, *rows;

    if (s->replica || s->state != ODB_SESSION_DISCONNECTED) {
        return iovp_xasprintf("%s: the session already has a replica",
                              s->database);
    }
    if (json_unpack((json_t *) saved, "{s:s, s:o, s:o, s:s, s:o, s:o}",
                    "database", &database, "schema", &schema_json,
                    "monitor", &monitor, "last_id", &last_id,
                    "conditions", &digests, "rows", &rows)
        || !json_is_object(digests)) {
        return iovp_xasprintf("not a saved OVSDB session");
    }
    if (strcmp(database, s->database)) {
        return iovp_xasprintf("saved from database %s, not %s",
                              database, s->database);
    }

    uint64_t *saved_digests = iovp_xzalloc(MAX(1, s->n_tables)
                                           * sizeof *saved_digests);
    const char *table;
    json_t *digest;
    json_object_foreach (digests, table, digest) {
        size_t i = odb_session_find_table(s, table);
        const char *hex = json_string_value(digest);
        char *end;

        if (i == SIZE_MAX || !hex || !hex[0]
            || (saved_digests[i] = strtoull(hex, &end, 16), *end)) {
            free(saved_digests);
            return iovp_xasprintf("saved condition of %s is not valid",
                                  table);
        }
    }

    struct odb_schema *schema;
    char *error = odb_schema_from_json(schema_json, &schema);
    if (!error && strcmp(schema->name, s->database)) {
        error = iovp_xasprintf("saved schema is of %s, not %s",
                               schema->name, s->database);
        odb_schema_destroy(schema);
    }
    struct odb_replica *replica = NULL;
    if (!error) {
        error = odb_replica_create(schema, s->tables, s->n_tables, s->store,
                                   &replica);
    }
    if (!error) {
        /* A resumed monitor sends nothing of the columns that the saved
         * rows lack: a process that monitors others cannot resume. */
        json_t *requests = odb_replica_monitor_requests(replica);
        if (!json_equal(requests, monitor)) {
            error = iovp_xasprintf("saved with other monitored columns");
        }
        json_decref(requests);
    }
    if (!error) {
        error = odb_replica_load(replica, rows);
    }
    if (error) {
        odb_replica_destroy(replica);
        free(saved_digests);
        return error;
    }

    odb_replica_set_last_id(replica, last_id);
    s->replica = replica;
    s->schema_json = json_incref(schema_json);
    s->have_copy = true;
    free(s->digests);
    s->digests = saved_digests;
    s->conditions_unsent = false;
    if (later_len) {
        s->later = iovp_xmemdup(later, later_len);
        s->later_len = later_len;
        s->later_ofs = 0;
    }
    return NULL;
}

/* Returns true if 's' has saved rows that odb_session_restore() left for
 * later and that odb_session_load_later() would load now: its monitor
 * request is on its way. */
bool
odb_session_has_later(const struct odb_session *s)
{
    return s->later && s->state == ODB_SESSION_MONITOR && !s->apply;
}

/* Loads the next text of the saved rows that odb_session_restore() left
 * for later, or with 'all' every text left, if odb_session_has_later()
 * (the caller has sent what odb_session_pop() gave).  Returns NULL, or a
 * malloc()'d error if they were not valid: the replica then lacks some of
 * them, and the session, which asked the server only for what changed
 * since they were saved, must reconnect; it then asks for every row. */
char *
odb_session_load_later(struct odb_session *s, bool all)
{
    char *error = NULL;

    while (odb_session_has_later(s) && !error) {
        const char *later = s->later;
        size_t len = s->later_len;
        size_t ofs = s->later_ofs;

        while (ofs < len && later[ofs] && strchr(" \t\r\n", later[ofs])) {
            ofs++;
        }
        if (ofs < len) {
            size_t used;
            char *parse_error;
            json_t *rows = iovp_json_decode(later + ofs, len - ofs, &used,
                                            &parse_error);
            if (!rows) {
                error = iovp_xasprintf("the text at byte %zu: %s", ofs,
                                       parse_error);
                free(parse_error);
            } else {
                error = odb_replica_load(s->replica, rows);
                ofs += used;
                json_decref(rows);
            }
        }
        s->later_ofs = ofs;
        if (error || ofs >= len) {
            free(s->later);
            s->later = NULL;
            s->later_len = s->later_ofs = 0;
        }
        if (!all) {
            break;
        }
    }
    if (error) {
        odb_replica_set_last_id(s->replica, NULL);
        char *msg = iovp_xasprintf("saved rows: %s; asking for every row",
                                   error);
        free(error);
        return msg;
    }
    return NULL;
}

/* Returns a malloc()'d reason to reconnect that is no fault of the server's
 * (the server is going away), or NULL.  The caller frees it. */
char *
odb_session_take_reconnect(struct odb_session *s)
{
    char *reason = s->reconnect;

    s->reconnect = NULL;
    return reason;
}

/* Sends the transaction 'operations' (an array of OVSDB operations, stolen)
 * on the database, and calls 'cb' with 'aux' once its outcome is known.
 * Returns 0, or -ENOTCONN (and never calls 'cb') when the session is not
 * active. */
int
odb_session_transact(struct odb_session *s, json_t *operations,
                     odb_txn_cb *cb, void *aux)
{
    if (s->state != ODB_SESSION_ACTIVE || !json_is_array(operations)) {
        json_decref(operations);
        return s->state != ODB_SESSION_ACTIVE ? -ENOTCONN : -EINVAL;
    }

    json_t *params = json_pack("[s]", s->database);
    json_array_extend(params, operations);
    json_decref(operations);

    struct odb_request *r = odb_session_request(s, ODB_REQ_TRANSACT,
                                                "transact", params);
    r->cb = cb;
    r->aux = aux;
    return 0;
}

enum odb_session_state
odb_session_get_state(const struct odb_session *s)
{
    return s->state;
}

/* Returns true if 's' holds a complete, current copy of its tables. */
bool
odb_session_is_active(const struct odb_session *s)
{
    return s->state == ODB_SESSION_ACTIVE;
}

/* Returns true if an update received is being applied a slice at a time:
 * the replica holds part of it, and odb_session_run() does the next
 * slice.  Another message received meanwhile completes it at once. */
bool
odb_session_is_applying(const struct odb_session *s)
{
    return s->apply != NULL;
}

/* Does the next slice of the update being applied, if any.  Returns NULL,
 * or a malloc()'d reason why the connection must be dropped (the update
 * does not fit the schema: the replica is as it was before it). */
char *
odb_session_run(struct odb_session *s)
{
    return s->apply ? odb_session_step_apply(s, ODB_SESSION_APPLY_ROWS) : NULL;
}

/* Returns the replica of 's', or NULL before the first schema. */
struct odb_replica *
odb_session_replica(const struct odb_session *s)
{
    return s->replica;
}

const struct odb_session_stats *
odb_session_stats(const struct odb_session *s)
{
    return &s->stats;
}

/* Returns a new reference to what _Server says of the database: {"model":
 * ..., "connected": ..., "leader": ..., "index": ...}, or an empty object
 * when the server has no _Server. */
json_t *
odb_session_server_status(const struct odb_session *s)
{
    json_t *status = json_object();

    if (!s->server) {
        return status;
    }
    const struct odb_replica_table *t = &s->server->tables[0];
    const struct odb_row *row;
    HMAP_FOR_EACH (row, node, &t->rows) {
        for (size_t i = 0; i < t->n_columns; i++) {
            if (strcmp(t->columns[i]->name, "name")) {
                json_object_set(status, t->columns[i]->name,
                                row->values[i]);
            }
        }
    }
    return status;
}
