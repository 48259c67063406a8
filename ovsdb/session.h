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

#ifndef IOVP_OVSDB_SESSION_H
#define IOVP_OVSDB_SESSION_H 1

/* The OVSDB protocol of one client session, as a state machine that does no
 * I/O (RFC 7047 and Open vSwitch's extensions, ovsdb-server(7)).
 *
 * The transport tells the session when a connection is up or gone and
 * hands it every JSON-RPC message received; the session answers with
 * messages to send (odb_session_pop()).  On each connection it:
 *
 *   1. reads the _Server database, when the server has one, to learn
 *      whether it is clustered, connected to its cluster, the leader, and
 *      how far its copy goes (its "index"), and leaves a server that is not
 *      fit (odb_session_receive() returns the reason);
 *   2. asks for the database's schema (after list_dbs, on a server that
 *      has no _Server, to tell a missing database from an old server);
 *   3. monitors the tables with monitor_cond_since, resuming from the last
 *      transaction it has seen, or with monitor_cond, or with monitor, as
 *      far as the server knows them, each table with its condition
 *      (odb_session_set_condition(), changed later by
 *      monitor_cond_change);
 *   4. applies the updates to its replica (ovsdb/replica.h), a large one
 *      a slice at a time (odb_session_run()), so that its owner's loop
 *      serves other work between the slices; the messages that follow it
 *      take effect after it.
 *
 * Transactions have honest outcomes: committed, failed with the server's
 * error, or unknown when the connection dropped while they were in flight.
 * They are never sent again by the session. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ovsdb/replica.h"

#define ODB_SESSION_STATES                                      \
    ODB_SESSION_STATE(DISCONNECTED, "disconnected")             \
    ODB_SESSION_STATE(SERVER_SCHEMA, "reading _Server schema")  \
    ODB_SESSION_STATE(SERVER_MONITOR, "monitoring _Server")     \
    ODB_SESSION_STATE(SCHEMA, "reading schema")                 \
    ODB_SESSION_STATE(MONITOR, "requesting monitor")            \
    ODB_SESSION_STATE(ACTIVE, "active")

enum odb_session_state {
#define ODB_SESSION_STATE(ENUM, NAME) ODB_SESSION_##ENUM,
    ODB_SESSION_STATES
#undef ODB_SESSION_STATE
};

const char *odb_session_state_to_string(enum odb_session_state);

#define ODB_TXN_OUTCOMES                        \
    ODB_TXN_OUTCOME(COMMITTED, "committed")     \
    ODB_TXN_OUTCOME(FAILED, "failed")           \
    ODB_TXN_OUTCOME(UNKNOWN, "unknown")

enum odb_txn_outcome {
#define ODB_TXN_OUTCOME(ENUM, NAME) ODB_TXN_##ENUM,
    ODB_TXN_OUTCOMES
#undef ODB_TXN_OUTCOME
};

const char *odb_txn_outcome_to_string(enum odb_txn_outcome);

/* Called once for each transaction.  'result' (borrowed) is the server's
 * array of operation results when COMMITTED, its error when FAILED (the
 * first operation's "error" object, or the JSON-RPC error), NULL when
 * UNKNOWN. */
typedef void odb_txn_cb(enum odb_txn_outcome, const json_t *result,
                        void *aux);

/* What a session monitors, and how it picks its servers. */
/* Returns a new reference to the conditions, {TABLE: <condition>} for each
 * table that has one, that the owner of a session has set with
 * odb_session_set_condition(), as they stand now. */
typedef json_t *odb_conditions_cb(void *aux);

struct odb_session_options {
    const char *database;
    const struct odb_monitor_table *tables;
    size_t n_tables;
    bool leader_only;           /* Leave a cluster member not the leader. */
    const struct odb_store *store;  /* Holds the replica's values (see
                                     * ovsdb/replica.h), or NULL. */

    /* The conditions, which the session asks for when it starts a monitor
     * and keeps only a digest of (an ACL of 100,000 entries makes as many
     * clauses, which would take 40 MB): without it, the session refuses
     * conditions and monitors every row. */
    odb_conditions_cb *conditions;
    void *conditions_aux;
};

/* Counters, for ovsdb/status. */
struct odb_session_stats {
    unsigned int n_full;        /* Complete copies received. */
    unsigned int n_resyncs;     /* ...of them after an earlier copy. */
    unsigned int n_resumed;     /* Monitors resumed from the last txn. */
    unsigned int n_updates;     /* Update notifications applied. */
    unsigned int n_cond_changes;    /* Changes of conditions sent. */
    unsigned int n_txn_committed, n_txn_failed, n_txn_unknown;
};

struct odb_session;

struct odb_session *odb_session_create(const struct odb_session_options *);
void odb_session_destroy(struct odb_session *);

void odb_session_connected(struct odb_session *);
void odb_session_disconnected(struct odb_session *);
char *odb_session_receive(struct odb_session *, const json_t *msg);
json_t *odb_session_pop(struct odb_session *);
char *odb_session_take_reconnect(struct odb_session *);
void odb_session_probe(struct odb_session *);

int odb_session_transact(struct odb_session *, json_t *operations,
                         odb_txn_cb *, void *aux);
int odb_session_set_condition(struct odb_session *, const char *table,
                              json_t *where);
bool odb_session_conditions_pending(const struct odb_session *);
json_t *odb_session_conditions(const struct odb_session *);
json_t *odb_session_save(const struct odb_session *);
char *odb_session_restore(struct odb_session *, const json_t *saved,
                          const char *later, size_t later_len);
bool odb_session_has_later(const struct odb_session *);
char *odb_session_load_later(struct odb_session *, bool all);

enum odb_session_state odb_session_get_state(const struct odb_session *);
bool odb_session_is_active(const struct odb_session *);
bool odb_session_is_applying(const struct odb_session *);
char *odb_session_run(struct odb_session *);
struct odb_replica *odb_session_replica(const struct odb_session *);
const struct odb_session_stats *odb_session_stats(const struct odb_session *);
json_t *odb_session_server_status(const struct odb_session *);

#endif /* ovsdb/session.h */
