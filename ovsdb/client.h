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

#ifndef IOVP_OVSDB_CLIENT_H
#define IOVP_OVSDB_CLIENT_H 1

/* An OVSDB client: a session (ovsdb/session.h) on a connection that keeps
 * itself up (lib/jsonrpc-client.h), with a replica of the monitored
 * tables.  What the server sends that the session cannot take (a malformed
 * message, a value that does not fit the schema, a reply to an unknown id,
 * a server unfit to use) is logged, rate-limited, with the remote and the
 * reason, and the connection is dropped and made again; the replica stays
 * as it was. */

#include <jansson.h>
#include <stdbool.h>

#include "lib/jsonrpc-client.h"
#include "ovsdb/session.h"

struct uv_loop_s;
struct odb_client;

struct odb_client_options {
    const char *remotes;        /* Comma-separated. */
    struct odb_session_options session;
    struct jrpc_client_options connection;
};

/* Called after a batch of updates changed the replica, and when the replica
 * becomes complete and current after a (re)connection; the callee reads the
 * replica's changes and clears them.  A large batch is applied a slice in
 * each turn of the loop (odb_session_run()), the connection's messages
 * waiting meanwhile, and is reported once, when the last slice is in. */
typedef void odb_client_changed_cb(struct odb_client *, void *aux);

char *odb_client_create(struct uv_loop_s *, const struct odb_client_options *,
                        odb_client_changed_cb *, void *aux,
                        struct odb_client **);
void odb_client_destroy(struct odb_client *);

int odb_client_transact(struct odb_client *, json_t *operations,
                        odb_txn_cb *, void *aux);
bool odb_client_is_active(const struct odb_client *);
int odb_client_set_condition(struct odb_client *, const char *table,
                             json_t *where);
bool odb_client_is_settled(const struct odb_client *);
bool odb_client_is_applying(const struct odb_client *);
json_t *odb_client_conditions(const struct odb_client *);
json_t *odb_client_save(const struct odb_client *);
char *odb_client_restore(struct odb_client *, const json_t *saved,
                         const char *later, size_t later_len);
struct odb_replica *odb_client_replica(const struct odb_client *);
json_t *odb_client_status(const struct odb_client *);
char *odb_client_status_text(const struct odb_client *);

#endif /* ovsdb/client.h */
