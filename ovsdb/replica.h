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

#ifndef IOVP_OVSDB_REPLICA_H
#define IOVP_OVSDB_REPLICA_H 1

/* An in-memory replica of the monitored part of one OVSDB database.
 *
 * Rows are keyed by UUID; each value has been checked against the schema
 * the server announced and is held in canonical form (ovsdb/datum.h), so
 * two equal values are equal JSON.  Applying a batch of updates is all or
 * nothing: a batch with any bad row leaves the replica as it was.  A large
 * batch may be applied a slice at a time (odb_replica_apply_start()): its
 * rows are all checked before the first is committed.
 *
 * After each batch the replica lists what changed (rows inserted, modified
 * with the names of the columns that changed, deleted) until the consumer
 * clears the list.  A full copy from the server (after a reconnect that
 * could not be resumed) is compared with what the replica holds, and only
 * the real differences are listed.
 *
 * Where the values are.  Without a store, the replica keeps every value.
 * With one (the typed model, ovsdb/idl.h), it keeps of each row only its
 * UUID and the values of the columns the store does not take: the store
 * takes in each batch as it is committed (its changes, with their new
 * values) and gives values back, in canonical form, when the replica needs
 * them (to apply a diff, to compare a full copy, to dump).  So each value
 * is held once.  Of a table whose every column the store takes, the
 * replica keeps no rows at all: the store's rows are the table's, and the
 * store says which there are.
 *
 * No I/O, no protocol: ovsdb/session.c feeds it. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openvswitch/hmap.h>

struct odb_replica;
struct odb_schema;
struct odb_table_schema;
struct odb_column;

#define ODB_CHANGE_KINDS                        \
    ODB_CHANGE_KIND(INSERT, "insert")           \
    ODB_CHANGE_KIND(MODIFY, "modify")           \
    ODB_CHANGE_KIND(DELETE, "delete")

enum odb_change_kind {
#define ODB_CHANGE_KIND(ENUM, NAME) ODB_CHANGE_##ENUM,
    ODB_CHANGE_KINDS
#undef ODB_CHANGE_KIND
};

const char *odb_change_kind_to_string(enum odb_change_kind);

/* A row of a table that the replica keeps rows of.  'values' has the
 * canonical values (never NULL) of the columns that the replica keeps, in
 * the table's order of columns: without a store, 'values[i]' is that of
 * the i-th monitored column. */
struct odb_row {
    struct hmap_node node;      /* In 'table->rows', hashed on 'uuid'. */
    char uuid[37];
    unsigned int seen;          /* Generation of the last full copy. */
    json_t *values[];
};

/* A monitored table. */
struct odb_replica_table {
    const struct odb_table_schema *schema;
    const struct odb_column **columns;  /* The monitored columns. */
    json_t **defaults;          /* Each column's default value, shared. */
    size_t n_columns;
    int *slots;                 /* Per column: its index in a row's
                                 * 'values', or -1 if the store holds it. */
    size_t n_kept;              /* Columns with a slot. */
    bool held;                  /* The store takes every column, and holds
                                 * the rows: 'rows' stays empty. */
    struct hmap rows;           /* Contains "struct odb_row"s. */
};

/* One entry of the list of changes. */
struct odb_change {
    enum odb_change_kind kind;
    size_t table;               /* Index into the replica's tables. */
    char uuid[37];
    json_t *columns;            /* MODIFY: names of the columns changed. */
    json_t **values;            /* INSERT and MODIFY, while the store's
                                 * commit() runs: the row's new values, one
                                 * per column.  Otherwise NULL. */
};

/* A store of values that a replica leaves to another owner (see above).
 * Every function gets 'aux'. */
struct odb_store {
    /* Whether the store takes column 'column' of table 'table' of 'r' (a
     * replica being made: its schema and tables are set). */
    bool (*takes)(void *aux, const struct odb_replica *r, size_t table,
                  size_t column);

    /* Sets 'values[i]', for each column i of table 'table' that the store
     * takes, to a new reference to its canonical value in row 'uuid',
     * which the store has. */
    void (*get)(void *aux, const struct odb_replica *r, size_t table,
                const char *uuid, json_t **values);

    /* Takes in the batch just committed to 'r': 'changes' (n of them, with
     * their 'values'), which are the last of 'r->changes'. */
    void (*commit)(void *aux, const struct odb_replica *r,
                   const struct odb_change *changes, size_t n);

    /* For a table whose rows the store holds (odb_replica_table's
     * 'held'), as of the last batch of 'r' that it took in (none, for a
     * replica whose batches it never took): whether it has row 'uuid', how
     * many rows it has, and their UUIDs, a malloc()'d array of '*n'
     * strings that stay the store's and are valid until its next
     * commit. */
    bool (*has)(void *aux, const struct odb_replica *r, size_t table,
                const char *uuid);
    size_t (*count)(void *aux, const struct odb_replica *r, size_t table);
    const char **(*list)(void *aux, const struct odb_replica *r,
                         size_t table, size_t *n);

    void *aux;
};

/* What to monitor: a table and its columns (NULL for every column).  An
 * optional table is monitored when the server's schema has it (an
 * extension of a standard schema), and otherwise left out. */
struct odb_monitor_table {
    const char *table;
    const char *const *columns; /* NULL-terminated, or NULL for all. */
    bool optional;
};

struct odb_replica {
    unsigned long long int serial;  /* Unique in the process: a replica
                                     * made after another has a higher
                                     * one, whatever address it has. */
    struct odb_schema *schema;  /* Owned. */
    const struct odb_store *store;  /* NULL: the replica keeps values. */
    struct odb_replica_table *tables;
    size_t n_tables;
    char *last_id;              /* Last transaction id seen, or NULL. */
    unsigned int generation;    /* Of full copies, for 'seen'. */

    struct odb_change *changes;
    size_t n_changes, allocated_changes;
};

char *odb_replica_create(struct odb_schema *,
                         const struct odb_monitor_table *, size_t n,
                         const struct odb_store *, struct odb_replica **);
void odb_replica_destroy(struct odb_replica *);

json_t *odb_replica_monitor_requests(const struct odb_replica *);
const struct odb_replica_table *odb_replica_find_table(
    const struct odb_replica *, const char *name);
int odb_replica_column_index(const struct odb_replica_table *,
                             const char *name);
size_t odb_replica_n_rows(const struct odb_replica *);
size_t odb_replica_table_n_rows(const struct odb_replica *, size_t table);
size_t odb_replica_memory(const struct odb_replica *);
uint32_t odb_uuid_hash(const char *uuid);

char *odb_replica_apply(struct odb_replica *, const json_t *updates,
                        int version);
char *odb_replica_apply_full(struct odb_replica *, const json_t *updates,
                             int version);

struct odb_apply;
struct odb_apply *odb_replica_apply_start(struct odb_replica *,
                                          const json_t *updates, int version,
                                          bool full);
char *odb_apply_step(struct odb_apply *, size_t n, bool *done);
bool odb_apply_is_checked(const struct odb_apply *);
void odb_apply_destroy(struct odb_apply *);
void odb_replica_set_last_id(struct odb_replica *, const char *last_id);

void odb_replica_clear_changes(struct odb_replica *);
json_t *odb_replica_to_json(const struct odb_replica *);
json_t *odb_replica_save(const struct odb_replica *);
char *odb_replica_load(struct odb_replica *, const json_t *saved);

#endif /* ovsdb/replica.h */
