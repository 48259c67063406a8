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

#include "ovsdb/replica.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/util.h>

#include "lib/util.h"
#include "ovsdb/datum.h"
#include "ovsdb/schema.h"

const char *
odb_change_kind_to_string(enum odb_change_kind kind)
{
    switch (kind) {
#define ODB_CHANGE_KIND(ENUM, NAME) case ODB_CHANGE_##ENUM: return NAME;
        ODB_CHANGE_KINDS
#undef ODB_CHANGE_KIND
    }
    return "(unknown)";
}

/* FNV-1a of the 36 characters of a UUID. */
uint32_t
odb_uuid_hash(const char *uuid)
{
    uint32_t hash = 2166136261u;

    for (const char *p = uuid; *p; p++) {
        hash = (hash ^ (unsigned char) *p) * 16777619u;
    }
    return hash;
}

/* Returns true if 's' is a UUID in the 8-4-4-4-12 hexadecimal form. */
static bool
odb_uuid_is_valid(const char *s)
{
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return false;
            }
        } else if (!isxdigit((unsigned char) s[i])) {
            return false;
        }
    }
    return s[36] == '\0';
}

static struct odb_row *
odb_row_find(const struct odb_replica_table *table, const char *uuid,
             uint32_t hash)
{
    struct odb_row *row;

    HMAP_FOR_EACH_WITH_HASH (row, node, hash, &table->rows) {
        if (!strcmp(row->uuid, uuid)) {
            return row;
        }
    }
    return NULL;
}

/* Returns the row of 'table' whose UUID is 'uuid', or NULL if there is
 * none or the store holds the table's rows. */
static struct odb_row *
odb_row_find_any(const struct odb_replica_table *table, const char *uuid)
{
    return table->held ? NULL : odb_row_find(table, uuid,
                                             odb_uuid_hash(uuid));
}

static void
odb_row_destroy(struct odb_row *row, const struct odb_replica_table *t)
{
    if (row) {
        for (size_t i = 0; i < t->n_kept; i++) {
            json_decref(row->values[i]);
        }
        free(row);
    }
}

/* Frees 'values', an array of 'n' references (or NULLs). */
static void
odb_values_free(json_t **values, size_t n)
{
    if (values) {
        for (size_t i = 0; i < n; i++) {
            json_decref(values[i]);
        }
        free(values);
    }
}

/* Returns the values of every column of row 'uuid' of table 'ti' of 'r'
 * ('row', or NULL if the store holds the table's rows), as an array of new
 * references, from the row itself or from the store. */
static json_t **
odb_row_values(const struct odb_replica *r, size_t ti, const char *uuid,
               const struct odb_row *row)
{
    const struct odb_replica_table *t = &r->tables[ti];
    json_t **values = iovp_xzalloc(MAX(1, t->n_columns) * sizeof *values);

    if (t->n_kept < t->n_columns) {
        r->store->get(r->store->aux, r, ti, uuid, values);
    }
    for (size_t i = 0; i < t->n_columns; i++) {
        if (t->slots[i] >= 0) {
            values[i] = json_incref(row->values[t->slots[i]]);
        } else if (!values[i]) {
            /* (Only a store that lost the row gets here.) */
            values[i] = json_incref(t->defaults[i]);
        }
    }
    return values;
}

/* Creates a replica of the tables and columns that 'monitor' (with 'n'
 * entries) names, of a database with 'schema', which it takes (and frees on
 * failure).  An optional table that 'schema' lacks is left out.  'store',
 * if nonnull, holds the values of the columns it takes (it must outlive
 * the replica).  Returns NULL and the replica in '*replicap', or a
 * malloc()'d error. */
char *
odb_replica_create(struct odb_schema *schema,
                   const struct odb_monitor_table *monitor, size_t n,
                   const struct odb_store *store,
                   struct odb_replica **replicap)
{
    static unsigned long long int next_serial = 1;
    struct odb_replica *r = iovp_xzalloc(sizeof *r);
    char *error = NULL;

    *replicap = NULL;
    r->serial = next_serial++;
    r->schema = schema;
    r->store = store;
    r->tables = iovp_xzalloc(n * sizeof *r->tables);
    for (size_t i = 0; i < n && !error; i++) {
        const struct odb_table_schema *ts;
        struct odb_replica_table *t;

        ts = odb_schema_find_table(schema, monitor[i].table);
        if (!ts && monitor[i].optional) {
            continue;
        }
        t = &r->tables[r->n_tables++];
        hmap_init(&t->rows);
        if (!ts) {
            error = iovp_xasprintf("database %s has no table %s",
                                   schema->name, monitor[i].table);
            break;
        }
        t->schema = ts;

        if (monitor[i].columns) {
            size_t n_columns = 0;
            while (monitor[i].columns[n_columns]) {
                n_columns++;
            }
            t->columns = iovp_xmalloc(n_columns * sizeof *t->columns);
            for (size_t j = 0; j < n_columns; j++) {
                const char *name = monitor[i].columns[j];
                const struct odb_column *c = odb_table_find_column(ts, name);
                if (!c || name[0] == '_') {
                    error = iovp_xasprintf("table %s has no column %s",
                                           ts->name, name);
                    break;
                }
                t->columns[t->n_columns++] = c;
            }
        } else {
            t->columns = iovp_xmalloc(ts->n_columns * sizeof *t->columns);
            for (size_t j = 0; j < ts->n_columns; j++) {
                t->columns[t->n_columns++] = &ts->columns[j];
            }
        }
    }

    if (error) {
        odb_replica_destroy(r);
        return error;
    }

    /* Values are immutable once made, so one copy of each column's default
     * serves every row that has it. */
    for (size_t i = 0; i < r->n_tables; i++) {
        struct odb_replica_table *t = &r->tables[i];
        t->defaults = iovp_xmalloc(MAX(1, t->n_columns)
                                   * sizeof *t->defaults);
        t->slots = iovp_xmalloc(MAX(1, t->n_columns) * sizeof *t->slots);
        for (size_t j = 0; j < t->n_columns; j++) {
            t->defaults[j] = odb_datum_default(&t->columns[j]->type);
            t->slots[j] = (store && store->takes(store->aux, r, i, j)
                           ? -1 : (int) t->n_kept++);
        }
        t->held = store && t->n_columns && !t->n_kept;
    }
    *replicap = r;
    return NULL;
}

/* Frees 'r' and the schema it holds.  Accepts NULL. */
void
odb_replica_destroy(struct odb_replica *r)
{
    if (!r) {
        return;
    }
    odb_replica_clear_changes(r);
    free(r->changes);
    for (size_t i = 0; i < r->n_tables; i++) {
        struct odb_replica_table *t = &r->tables[i];
        struct odb_row *row;

        HMAP_FOR_EACH_POP (row, node, &t->rows) {
            odb_row_destroy(row, t);
        }
        hmap_destroy(&t->rows);
        if (t->defaults) {
            for (size_t j = 0; j < t->n_columns; j++) {
                json_decref(t->defaults[j]);
            }
            free(t->defaults);
        }
        free(t->columns);
        free(t->slots);
    }
    free(r->tables);
    free(r->last_id);
    odb_schema_destroy(r->schema);
    free(r);
}

/* Returns a new reference to an array of the names of the monitored
 * columns of 't', in their order. */
static json_t *
odb_replica_column_names(const struct odb_replica_table *t)
{
    json_t *columns = json_array();

    for (size_t j = 0; j < t->n_columns; j++) {
        json_array_append_new(columns, json_string(t->columns[j]->name));
    }
    return columns;
}

/* Returns a new reference to the <monitor-requests> object that asks for
 * what 'r' replicates, in the array form that monitor, monitor_cond and
 * monitor_cond_since all take. */
json_t *
odb_replica_monitor_requests(const struct odb_replica *r)
{
    json_t *requests = json_object();

    for (size_t i = 0; i < r->n_tables; i++) {
        const struct odb_replica_table *t = &r->tables[i];

        json_object_set_new(requests, t->schema->name,
                            json_pack("[{s:o}]", "columns",
                                      odb_replica_column_names(t)));
    }
    return requests;
}

/* Returns the index in 'r->tables' of table 'name', or SIZE_MAX. */
static size_t
odb_replica_table_index(const struct odb_replica *r, const char *name)
{
    for (size_t i = 0; i < r->n_tables; i++) {
        if (!strcmp(r->tables[i].schema->name, name)) {
            return i;
        }
    }
    return SIZE_MAX;
}

/* Returns the monitored table called 'name', or NULL. */
const struct odb_replica_table *
odb_replica_find_table(const struct odb_replica *r, const char *name)
{
    size_t i = odb_replica_table_index(r, name);

    return i == SIZE_MAX ? NULL : &r->tables[i];
}

/* Returns the number of rows in table number 'ti' of 'r'. */
size_t
odb_replica_table_n_rows(const struct odb_replica *r, size_t ti)
{
    const struct odb_replica_table *t = &r->tables[ti];

    return (t->held ? r->store->count(r->store->aux, r, ti)
            : hmap_count(&t->rows));
}

/* Returns the number of rows in all of the tables of 'r'. */
size_t
odb_replica_n_rows(const struct odb_replica *r)
{
    size_t n = 0;

    for (size_t i = 0; i < r->n_tables; i++) {
        n += odb_replica_table_n_rows(r, i);
    }
    return n;
}

/* Returns the UUIDs of the rows of table number 'ti' of 'r', a malloc()'d
 * array of '*n' strings, valid until the next change of 'r'. */
static const char **
odb_replica_table_uuids(const struct odb_replica *r, size_t ti, size_t *n)
{
    const struct odb_replica_table *t = &r->tables[ti];

    if (t->held) {
        return r->store->list(r->store->aux, r, ti, n);
    }

    const char **uuids = iovp_xmalloc(MAX(1, hmap_count(&t->rows))
                                      * sizeof *uuids);
    const struct odb_row *row;
    *n = 0;
    HMAP_FOR_EACH (row, node, &t->rows) {
        uuids[(*n)++] = row->uuid;
    }
    return uuids;
}

/* A row update, checked and waiting to be committed. */
struct odb_pending {
    struct hmap_node node;      /* In a complete copy's rows, by 'hash'. */
    size_t table;
    bool exists;                /* The row is in the replica... */
    struct odb_row *row;        /* ...as this, unless the store holds the
                                 * table's rows. */
    uint32_t hash;
    char uuid[37];
    json_t **values;            /* The new values, NULL to delete. */
    json_t **old;               /* A modify's old values, or NULL. */
};

struct odb_batch {
    struct odb_pending *ops;
    size_t n, allocated;
};

static void
odb_batch_destroy(struct odb_batch *b, const struct odb_replica *r)
{
    for (size_t i = 0; i < b->n; i++) {
        struct odb_pending *op = &b->ops[i];
        size_t n = r->tables[op->table].n_columns;

        odb_values_free(op->values, n);
        odb_values_free(op->old, n);
    }
    free(b->ops);
}

/* Returns the index in 't->columns' (and in each row's 'values') of the
 * monitored column 'name', or -1. */
int
odb_replica_column_index(const struct odb_replica_table *t, const char *name)
{
    for (size_t i = 0; i < t->n_columns; i++) {
        if (!strcmp(t->columns[i]->name, name)) {
            return i;
        }
    }
    return -1;
}

/* Sets 'values' (the table's columns, each holding a reference) from the
 * <row> 'row': each member's value replaces the column's, or with 'diff'
 * modifies it as update2's "modify" says. */
static char *
odb_parse_row(const struct odb_replica_table *t, const json_t *row,
              bool diff, json_t **values)
{
    const char *name;
    json_t *value;

    if (!json_is_object(row)) {
        return iovp_xasprintf("row is not an object");
    }
    json_object_foreach ((json_t *) row, name, value) {
        int i = odb_replica_column_index(t, name);
        json_t *new;
        char *error;

        if (i < 0) {
            return iovp_xasprintf("column %s is not monitored", name);
        }
        const struct odb_type *type = &t->columns[i]->type;
        error = (diff ? odb_datum_apply_diff(type, values[i], value, &new)
                 : t->slots[i] < 0
                 ? odb_datum_from_json_transient(type, value, &new)
                 : odb_datum_from_json(type, value, &new));
        if (error) {
            char *s = iovp_xasprintf("column %s: %s", name, error);
            free(error);
            return s;
        }
        json_decref(values[i]);
        values[i] = new;
    }
    return NULL;
}

/* Returns a new array of new references to the 'n' values in 'from'. */
static json_t **
odb_values_clone(json_t *const *from, size_t n)
{
    json_t **values = iovp_xmalloc(MAX(1, n) * sizeof *values);

    for (size_t i = 0; i < n; i++) {
        values[i] = json_incref(from[i]);
    }
    return values;
}

/* Checks one <row-update> (version 1) or <row-update2> (version 2) of 'uuid'
 * in table number 'ti' and adds what it does to 'b'.  With 'full', the
 * update is part of a complete copy: it may only insert, and it may name a
 * row that the replica already has. */
static char *
odb_parse_row_update(const struct odb_replica *r, size_t ti,
                     const char *uuid, const json_t *update, int version,
                     bool full, struct odb_batch *b)
{
    const struct odb_replica_table *t = &r->tables[ti];
    struct odb_pending op;
    char *error = NULL;

    if (!odb_uuid_is_valid(uuid)) {
        return iovp_xasprintf("table %s: \"%s\" is not a UUID",
                              t->schema->name, uuid);
    } else if (!json_is_object(update)) {
        return iovp_xasprintf("table %s row %s: update is not an object",
                              t->schema->name, uuid);
    }

    memset(&op, 0, sizeof op);
    op.table = ti;
    strcpy(op.uuid, uuid);
    op.hash = odb_uuid_hash(uuid);
    if (t->held) {
        op.exists = r->store->has(r->store->aux, r, ti, uuid);
    } else {
        op.row = odb_row_find(t, uuid, op.hash);
        op.exists = op.row != NULL;
    }

    const json_t *row = NULL;
    bool diff = false, insert = false, delete = false;
    if (version == 1) {
        json_t *old = json_object_get(update, "old");
        json_t *new = json_object_get(update, "new");
        if (json_object_size(update) != !!old + !!new || (!old && !new)) {
            error = iovp_xasprintf("bad <row-update>");
        } else if (!new) {
            delete = true;
        } else {
            insert = !old;
            row = new;
        }
    } else if (json_object_size(update) != 1) {
        error = iovp_xasprintf("<row-update2> must have exactly one member");
    } else if ((row = json_object_get(update, "initial"))
               || (row = json_object_get(update, "insert"))) {
        insert = true;
    } else if ((row = json_object_get(update, "modify"))) {
        diff = true;
    } else if (json_object_get(update, "delete")) {
        delete = true;
    } else {
        error = iovp_xasprintf("<row-update2> has no insert, initial, "
                               "modify or delete");
    }

    if (!error) {
        if (full && !insert) {
            error = iovp_xasprintf("a complete copy may only insert");
        } else if (insert && op.exists && !full) {
            error = iovp_xasprintf("insert of a row that exists");
        } else if (!insert && !op.exists) {
            error = iovp_xasprintf("%s of a row that does not exist",
                                   delete ? "delete" : "modify");
        }
    }
    if (!error && !delete) {
        /* An insert starts from the defaults; a version 1 modify carries
         * the new values of the columns it changes. */
        if (insert) {
            op.values = odb_values_clone(t->defaults, t->n_columns);
        } else {
            op.old = odb_row_values(r, ti, uuid, op.row);
            op.values = odb_values_clone(op.old, t->n_columns);
        }
        error = odb_parse_row(t, row, diff, op.values);
    }

    if (b->n >= b->allocated) {
        b->allocated = MAX(16, 2 * b->allocated);
        b->ops = iovp_xrealloc(b->ops, b->allocated * sizeof *b->ops);
    }
    b->ops[b->n++] = op;
    if (error) {
        char *s = iovp_xasprintf("table %s row %s: %s", t->schema->name,
                                 uuid, error);
        free(error);
        return s;
    }
    return NULL;
}

/* The most changes whose room a replica keeps between batches. */
#define ODB_KEEP_CHANGES 1024

/* Lists a change of 'kind' to row 'uuid' of 'table', with 'columns' (for a
 * MODIFY) and the row's new 'values' (for INSERT and MODIFY), both taken:
 * the values stay on the list, for the store, only if there is one. */
static void
odb_replica_add_change(struct odb_replica *r, enum odb_change_kind kind,
                       size_t table, const char *uuid, json_t *columns,
                       json_t **values)
{
    if (r->n_changes >= r->allocated_changes) {
        r->allocated_changes = MAX(16, 2 * r->allocated_changes);
        r->changes = iovp_xrealloc(r->changes,
                                   r->allocated_changes * sizeof *r->changes);
    }
    struct odb_change *c = &r->changes[r->n_changes++];
    c->kind = kind;
    c->table = table;
    strcpy(c->uuid, uuid);
    c->columns = columns;
    c->values = NULL;
    if (r->store) {
        c->values = values;
    } else {
        odb_values_free(values, r->tables[table].n_columns);
    }
}

/* Hands the changes listed from number 'first' on, a batch just committed,
 * to the store, if any, and drops their values. */
static void
odb_replica_store_commit(struct odb_replica *r, size_t first)
{
    if (!r->store || first >= r->n_changes) {
        return;
    }
    r->store->commit(r->store->aux, r, &r->changes[first],
                     r->n_changes - first);
    for (size_t i = first; i < r->n_changes; i++) {
        struct odb_change *c = &r->changes[i];
        odb_values_free(c->values, r->tables[c->table].n_columns);
        c->values = NULL;
    }
}

/* Inserts into table 'ti' of 'r' the row 'uuid' (whose odb_uuid_hash() is
 * 'hash'), seen in the current generation, with 'values' (all its
 * columns', taken: the row keeps those of its kept columns, the change
 * listed takes them all, and so the store, if it holds the table's
 * rows). */
static void
odb_row_insert(struct odb_replica *r, size_t ti, const char *uuid,
               uint32_t hash, json_t **values)
{
    struct odb_replica_table *t = &r->tables[ti];

    if (!t->held) {
        struct odb_row *row = iovp_xmalloc(sizeof *row
                                           + t->n_kept * sizeof *row->values);
        strcpy(row->uuid, uuid);
        row->seen = r->generation;
        for (size_t j = 0; j < t->n_columns; j++) {
            if (t->slots[j] >= 0) {
                row->values[t->slots[j]] = json_incref(values[j]);
            }
        }
        hmap_insert(&t->rows, &row->node, hash);
    }
    odb_replica_add_change(r, ODB_CHANGE_INSERT, ti, uuid, NULL, values);
}

/* Commits to 'r' the checked updates 'b->ops[start]' up to (not including)
 * 'b->ops[end]', listing the changes, and marks every row they name as
 * seen in the current generation. */
static void
odb_batch_commit(struct odb_replica *r, struct odb_batch *b, size_t start,
                 size_t end)
{
    for (size_t i = start; i < end; i++) {
        struct odb_pending *op = &b->ops[i];
        struct odb_replica_table *t = &r->tables[op->table];

        if (!op->values) {
            if (op->row) {
                hmap_remove(&t->rows, &op->row->node);
                odb_row_destroy(op->row, t);
            }
            odb_replica_add_change(r, ODB_CHANGE_DELETE, op->table, op->uuid,
                                   NULL, NULL);
        } else if (op->exists) {
            /* (A row of a complete copy: its old values are needed only
             * now.) */
            json_t **old = (op->old ? op->old
                            : odb_row_values(r, op->table, op->uuid,
                                             op->row));
            json_t *changed = NULL;
            for (size_t j = 0; j < t->n_columns; j++) {
                if (!json_equal(old[j], op->values[j])) {
                    if (!changed) {
                        changed = json_array();
                    }
                    json_array_append_new(changed,
                                          json_string(t->columns[j]->name));
                }
                int slot = t->slots[j];
                if (slot >= 0) {
                    json_decref(op->row->values[slot]);
                    op->row->values[slot] = json_incref(op->values[j]);
                }
            }
            odb_values_free(old, t->n_columns);
            op->old = NULL;
            if (op->row) {
                op->row->seen = r->generation;
            }
            if (changed) {
                odb_replica_add_change(r, ODB_CHANGE_MODIFY, op->table,
                                       op->uuid, changed, op->values);
            } else {
                odb_values_free(op->values, t->n_columns);
            }
        } else {
            odb_row_insert(r, op->table, op->uuid, op->hash, op->values);
        }
        op->values = NULL;
    }
}

/* Lists as deleted the rows of table 'ti' of 'r', whose rows the store
 * holds, that complete copy 'copy' (its "struct odb_pending"s) lacks. */
static void
odb_replica_sweep_held(struct odb_replica *r, size_t ti,
                       const struct hmap *copy)
{
    size_t n;
    const char **uuids = r->store->list(r->store->aux, r, ti, &n);

    for (size_t i = 0; i < n; i++) {
        uint32_t hash = odb_uuid_hash(uuids[i]);
        const struct odb_pending *op;
        bool found = false;

        HMAP_FOR_EACH_WITH_HASH (op, node, hash, copy) {
            if (op->table == ti && !strcmp(op->uuid, uuids[i])) {
                found = true;
                break;
            }
        }
        if (!found) {
            odb_replica_add_change(r, ODB_CHANGE_DELETE, ti, uuids[i], NULL,
                                   NULL);
        }
    }
    free(uuids);
}

/* An update being applied (odb_replica_apply_start()).  Its rows are first
 * all checked, a slice at a time, into 'b' (the replica does not change),
 * then committed, a slice at a time; a complete copy then lists as deleted
 * what it lacks. */
struct odb_apply {
    struct odb_replica *r;
    json_t *updates;            /* <table-updates> or <table-updates2>. */
    int version;
    bool full;                  /* A complete copy. */

    /* Checking: the next row is 'row' in the table-update 'table' (its
     * table's index in 'r' is 'ti').  NULL 'table' once every row is
     * checked. */
    void *table;
    void *row;
    size_t ti;

    struct odb_batch b;         /* The rows checked. */
    size_t n_committed;         /* Of 'b.ops'. */
    bool committed;             /* All of them, and the sweep done. */
};

/* Starts applying the <table-updates> (version 1: "update" notifications)
 * or <table-updates2> (version 2: "update2", "update3", and the replies to
 * monitor_cond and monitor_cond_since) 'updates' (a reference is taken) to
 * 'r'.  With 'full', 'updates' is a complete copy: it replaces the content
 * of 'r' (every row inserted), and only the real differences are listed:
 * rows that are new, rows whose values differ, rows the copy lacks.
 *
 * Nothing changes until odb_apply_step() has checked every row: an update
 * with a bad row leaves 'r' as it was.  Then each step commits a slice,
 * and 'r' holds part of the update until the last.  'r' must not change
 * otherwise meanwhile.
 *
 * Once every row is committed, if the apply holds the only reference to
 * 'updates', the last steps take the rows out of it a slice at a time, so
 * that freeing the message's tree is spread over them too. */
struct odb_apply *
odb_replica_apply_start(struct odb_replica *r, const json_t *updates,
                        int version, bool full)
{
    struct odb_apply *a = iovp_xzalloc(sizeof *a);

    a->r = r;
    a->updates = json_incref((json_t *) updates);
    a->version = version;
    a->full = full;
    a->table = json_object_iter(a->updates);
    if (full) {
        r->generation++;
    }
    return a;
}

/* Finds the table whose update 'a->table' is and starts on its rows.
 * Returns NULL or an error. */
static char *
odb_apply_enter_table(struct odb_apply *a)
{
    const struct odb_replica *r = a->r;
    const char *name = json_object_iter_key(a->table);
    json_t *update = json_object_iter_value(a->table);

    for (a->ti = 0; a->ti < r->n_tables; a->ti++) {
        if (!strcmp(r->tables[a->ti].schema->name, name)) {
            break;
        }
    }
    if (a->ti >= r->n_tables) {
        return iovp_xasprintf("update to table %s, which is not monitored",
                              name);
    } else if (!json_is_object(update)) {
        return iovp_xasprintf("table %s: <table-update> is not an object",
                              name);
    }
    a->row = json_object_iter(update);
    return NULL;
}

/* Checks up to 'n' rows of 'a' into its batch.  Returns NULL or an
 * error, and in '*n' what is left of it. */
static char *
odb_apply_check(struct odb_apply *a, size_t *n)
{
    while (a->table && *n) {
        if (!a->row) {
            char *error = odb_apply_enter_table(a);
            if (error) {
                return error;
            }
        }

        json_t *rows = json_object_iter_value(a->table);
        while (a->row && *n) {
            const char *uuid = json_object_iter_key(a->row);
            char *error = odb_parse_row_update(a->r, a->ti, uuid,
                                               json_object_iter_value(a->row),
                                               a->version, a->full, &a->b);
            if (error) {
                return error;
            }
            (*n)--;
            a->row = json_object_iter_next(rows, a->row);
        }
        if (!a->row) {
            a->table = json_object_iter_next(a->updates, a->table);
        }
    }
    return NULL;
}

/* Ends the commit of complete copy 'a': lists as deleted every row of the
 * replica that the copy lacks. */
static void
odb_apply_sweep(struct odb_apply *a)
{
    struct odb_replica *r = a->r;

    /* The copy's rows of the tables whose rows the store holds. */
    struct hmap copy = HMAP_INITIALIZER(&copy);
    for (size_t i = 0; i < a->b.n; i++) {
        if (r->tables[a->b.ops[i].table].held) {
            hmap_insert(&copy, &a->b.ops[i].node, a->b.ops[i].hash);
        }
    }

    size_t first = r->n_changes;
    for (size_t i = 0; i < r->n_tables; i++) {
        struct odb_replica_table *t = &r->tables[i];
        struct odb_row *row;

        if (t->held) {
            odb_replica_sweep_held(r, i, &copy);
        }
        HMAP_FOR_EACH_SAFE (row, node, &t->rows) {
            if (row->seen != r->generation) {
                odb_replica_add_change(r, ODB_CHANGE_DELETE, i, row->uuid,
                                       NULL, NULL);
                hmap_remove(&t->rows, &row->node);
                odb_row_destroy(row, t);
            }
        }
    }
    hmap_destroy(&copy);
    odb_replica_store_commit(r, first);
}

/* Frees up to '*n' rows of the tree of 'a''s update, once 'a' holds the
 * only reference to it, and counts them off '*n'.  Returns true once none
 * is left to free here. */
static bool
odb_apply_free(struct odb_apply *a, size_t *n)
{
    if (a->updates->refcount > 1) {
        return true;
    }
    for (;;) {
        void *table = json_object_iter(a->updates);
        if (!table) {
            return true;
        }

        json_t *rows = json_object_iter_value(table);
        void *row;
        while ((row = json_object_iter(rows))) {
            if (!*n) {
                return false;
            }
            json_object_del(rows, json_object_iter_key(row));
            (*n)--;
        }
        json_object_del(a->updates, json_object_iter_key(table));
    }
}

/* Does up to 'n' rows' worth of the work of 'a': each row is checked, then
 * committed, then its part of the message freed, 3 in all.  Returns NULL
 * and in '*done' whether 'a' is complete, or an error: the update does
 * not fit the replica's schema, which it left as it was. */
char *
odb_apply_step(struct odb_apply *a, size_t n, bool *done)
{
    struct odb_replica *r = a->r;

    *done = false;
    if (!json_is_object(a->updates)) {
        return iovp_xasprintf("<table-updates> is not an object");
    } else if (a->table) {
        char *error = odb_apply_check(a, &n);
        if (error || a->table) {
            return error;
        }
    }

    if (!a->committed) {
        size_t start = a->n_committed;
        size_t end = start + MIN(n, a->b.n - start);
        size_t first = r->n_changes;

        odb_batch_commit(r, &a->b, start, end);
        odb_replica_store_commit(r, first);
        a->n_committed = end;
        n -= end - start;
        if (end < a->b.n) {
            return NULL;
        }
        if (a->full) {
            odb_apply_sweep(a);
        }
        a->committed = true;
    }

    /* The rows' values were taken whole, or copied: the message's tree
     * goes last, so that what the replica and its store keep of it sits
     * apart from the memory that the tree gives back. */
    *done = odb_apply_free(a, &n);
    return NULL;
}

/* Returns true if 'a' has checked every row: the steps left commit them
 * and cannot fail. */
bool
odb_apply_is_checked(const struct odb_apply *a)
{
    return json_is_object(a->updates) && !a->table;
}

/* Frees 'a', which may be incomplete: the replica then holds the slices
 * that it committed. */
void
odb_apply_destroy(struct odb_apply *a)
{
    if (a) {
        odb_batch_destroy(&a->b, a->r);
        json_decref(a->updates);
        free(a);
    }
}

/* Applies 'updates' to 'r' in one step (see odb_replica_apply_start()),
 * all or nothing.  Returns NULL, or a malloc()'d error with 'r'
 * unchanged. */
static char *
odb_replica_apply__(struct odb_replica *r, const json_t *updates,
                    int version, bool full)
{
    struct odb_apply *a = odb_replica_apply_start(r, updates, version, full);
    bool done;
    char *error = odb_apply_step(a, SIZE_MAX, &done);

    ovs_assert(error || done);
    odb_apply_destroy(a);
    return error;
}

/* Applies the update 'updates' of format 'version' to 'r' at once. */
char *
odb_replica_apply(struct odb_replica *r, const json_t *updates, int version)
{
    return odb_replica_apply__(r, updates, version, false);
}

/* Replaces the content of 'r' by the complete copy 'updates' at once. */
char *
odb_replica_apply_full(struct odb_replica *r, const json_t *updates,
                       int version)
{
    return odb_replica_apply__(r, updates, version, true);
}

/* Returns the bytes of heap that the rows of 'r' take, not counting the
 * values they keep (JSON) or leave to the store.  See iovp_malloc_size(). */
size_t
odb_replica_memory(const struct odb_replica *r)
{
    size_t n = 0;

    for (size_t i = 0; i < r->n_tables; i++) {
        const struct odb_replica_table *t = &r->tables[i];
        const struct odb_row *row;

        n += (t->rows.mask + 1) * sizeof *t->rows.buckets;
        HMAP_FOR_EACH (row, node, &t->rows) {
            n += iovp_malloc_size(row);
        }
    }
    return n;
}

/* Remembers 'last_id' (NULL to forget) as the last transaction seen. */
void
odb_replica_set_last_id(struct odb_replica *r, const char *last_id)
{
    free(r->last_id);
    r->last_id = last_id ? iovp_xstrdup(last_id) : NULL;
}

/* Empties the list of changes, once the consumer has seen it. */
void
odb_replica_clear_changes(struct odb_replica *r)
{
    for (size_t i = 0; i < r->n_changes; i++) {
        struct odb_change *c = &r->changes[i];
        json_decref(c->columns);
        odb_values_free(c->values, r->tables[c->table].n_columns);
    }
    r->n_changes = 0;
    if (r->allocated_changes > ODB_KEEP_CHANGES) {
        /* After an initial copy of a large database: no need to keep room
         * for as many changes again. */
        free(r->changes);
        r->changes = NULL;
        r->allocated_changes = 0;
    }
}

/* Returns a new reference to the content of 'r' as {TABLE: {UUID: {COLUMN:
 * VALUE}}}, for inspection and tests. */
json_t *
odb_replica_to_json(const struct odb_replica *r)
{
    json_t *json = json_object();

    for (size_t i = 0; i < r->n_tables; i++) {
        const struct odb_replica_table *t = &r->tables[i];
        json_t *rows = json_object();
        size_t n;
        const char **uuids = odb_replica_table_uuids(r, i, &n);

        for (size_t k = 0; k < n; k++) {
            json_t **values = odb_row_values(r, i, uuids[k],
                                             odb_row_find_any(t, uuids[k]));
            json_t *columns = json_object();
            for (size_t j = 0; j < t->n_columns; j++) {
                json_object_set_new(columns, t->columns[j]->name, values[j]);
            }
            free(values);
            json_object_set_new(rows, uuids[k], columns);
        }
        free(uuids);
        json_object_set_new(json, t->schema->name, rows);
    }
    return json;
}

/* Returns a new reference to the rows of 'r' in the compact form that
 * odb_replica_load() takes: {TABLE: {"columns": [COLUMN...], "rows":
 * [[UUID, INDEX, VALUE, INDEX, VALUE...]...]}}, each VALUE with the INDEX
 * of its column in "columns", for the values that are not their column's
 * default.  (Rows as arrays take half the time of update2's objects to
 * parse: jansson makes a hash table of each object.) */
json_t *
odb_replica_save(const struct odb_replica *r)
{
    json_t *json = json_object();

    for (size_t i = 0; i < r->n_tables; i++) {
        const struct odb_replica_table *t = &r->tables[i];
        json_t *rows = json_array();
        size_t n;
        const char **uuids = odb_replica_table_uuids(r, i, &n);

        for (size_t k = 0; k < n; k++) {
            json_t **values = odb_row_values(r, i, uuids[k],
                                             odb_row_find_any(t, uuids[k]));
            json_t *saved = json_array();

            json_array_append_new(saved, json_string(uuids[k]));
            for (size_t j = 0; j < t->n_columns; j++) {
                if (json_equal(values[j], t->defaults[j])) {
                    json_decref(values[j]);
                } else {
                    json_array_append_new(saved, json_integer(j));
                    json_array_append_new(saved, values[j]);
                }
            }
            free(values);
            json_array_append_new(rows, saved);
        }
        free(uuids);
        json_object_set_new(json, t->schema->name,
                            json_pack("{s:o, s:o}", "columns",
                                      odb_replica_column_names(t),
                                      "rows", rows));
    }
    return json;
}

/* A row loaded into a table whose rows the store holds, until the store
 * has it: what tells a row saved twice. */
struct odb_loaded {
    struct hmap_node node;      /* By odb_uuid_hash() of 'uuid'. */
    const char *uuid;           /* In the saved rows. */
};

/* Inserts into table number 'ti' of 'r' the saved row 'saved' (see
 * odb_replica_save()), whose column indexes 'map' (with 'n_map' entries)
 * translates into the table's.  'loaded' (if the store holds the table's
 * rows) is the rows of the table loaded so far, and 'slot' a node for this
 * one. */
static char *
odb_replica_load_row(struct odb_replica *r, size_t ti, const int *map,
                     size_t n_map, const json_t *saved, struct hmap *loaded,
                     struct odb_loaded *slot)
{
    struct odb_replica_table *t = &r->tables[ti];
    const char *uuid = json_string_value(json_array_get(saved, 0));
    size_t n = json_array_size(saved);

    if (!uuid || !odb_uuid_is_valid(uuid) || !(n % 2)) {
        return iovp_xasprintf("table %s: a saved row is not valid",
                              t->schema->name);
    }
    uint32_t hash = odb_uuid_hash(uuid);
    bool twice = false;
    if (t->held) {
        const struct odb_loaded *l;
        HMAP_FOR_EACH_WITH_HASH (l, node, hash, loaded) {
            twice = twice || !strcmp(l->uuid, uuid);
        }
        twice = twice || r->store->has(r->store->aux, r, ti, uuid);
    } else {
        twice = odb_row_find(t, uuid, hash) != NULL;
    }
    if (twice) {
        return iovp_xasprintf("table %s row %s: saved twice",
                              t->schema->name, uuid);
    }

    json_t **values = odb_values_clone(t->defaults, t->n_columns);
    for (size_t k = 1; k < n; k += 2) {
        const json_t *index = json_array_get(saved, k);
        json_int_t c = json_is_integer(index) ? json_integer_value(index) : -1;
        char *error;
        json_t *new;

        if (c < 0 || c >= n_map) {
            error = iovp_xasprintf("column index is not valid");
        } else {
            const struct odb_type *type = &t->columns[map[c]]->type;
            const json_t *value = json_array_get(saved, k + 1);
            error = (t->slots[map[c]] < 0
                     ? odb_datum_from_json_transient(type, value, &new)
                     : odb_datum_from_json(type, value, &new));
        }
        if (error) {
            char *s = iovp_xasprintf("table %s row %s: %s", t->schema->name,
                                     uuid, error);
            free(error);
            odb_values_free(values, t->n_columns);
            return s;
        }
        json_decref(values[map[c]]);
        values[map[c]] = new;
    }

    if (t->held) {
        slot->uuid = uuid;
        hmap_insert(loaded, &slot->node, hash);
    }
    odb_row_insert(r, ti, uuid, hash, values);
    return NULL;
}

/* Inserts the rows of table number 'ti' of 'r', 'name', that 'saved' holds
 * (see odb_replica_save()). */
static char *
odb_replica_load_table(struct odb_replica *r, size_t ti, const char *name,
                       const json_t *saved)
{
    const struct odb_replica_table *t = &r->tables[ti];
    const json_t *columns = json_object_get(saved, "columns");
    const json_t *rows = json_object_get(saved, "rows");
    if (!json_is_array(columns) || !json_is_array(rows)) {
        return iovp_xasprintf("table %s: saved rows are not valid", name);
    }

    size_t n_map = json_array_size(columns);
    int *map = iovp_xmalloc(MAX(1, n_map) * sizeof *map);
    char *error = NULL;
    for (size_t k = 0; !error && k < n_map; k++) {
        const char *column = json_string_value(json_array_get(columns, k));

        map[k] = column ? odb_replica_column_index(t, column) : -1;
        if (map[k] < 0) {
            error = iovp_xasprintf("table %s: saved column %s is not "
                                   "monitored", name,
                                   column ? column : "(not a string)");
        }
    }

    struct hmap loaded = HMAP_INITIALIZER(&loaded);
    struct odb_loaded *slots = (t->held
                                ? iovp_xmalloc(MAX(1, json_array_size(rows))
                                               * sizeof *slots)
                                : NULL);
    size_t i;
    const json_t *row;
    json_array_foreach (rows, i, row) {
        if (error) {
            break;
        }
        error = odb_replica_load_row(r, ti, map, n_map, row, &loaded,
                                     slots ? &slots[i] : NULL);
    }
    hmap_destroy(&loaded);
    free(slots);
    free(map);
    return error;
}

/* Inserts into 'r' the rows that odb_replica_save() returned, 'saved', or
 * a part of them (some of its tables, some of a table's rows), all or
 * nothing, and lists each as inserted.  A row that 'r' holds already is
 * not valid.  Returns NULL, or a malloc()'d error with 'r' as it was. */
char *
odb_replica_load(struct odb_replica *r, const json_t *saved)
{
    size_t first = r->n_changes;
    char *error = NULL;

    if (!json_is_object(saved)) {
        return iovp_xasprintf("saved rows are not an object");
    }

    const char *name;
    json_t *table;
    json_object_foreach ((json_t *) saved, name, table) {
        if (odb_replica_table_index(r, name) == SIZE_MAX) {
            return iovp_xasprintf("table %s is not monitored", name);
        }
    }
    json_object_foreach ((json_t *) saved, name, table) {
        error = odb_replica_load_table(r, odb_replica_table_index(r, name),
                                       name, table);
        if (error) {
            break;
        }
    }

    if (error) {
        /* (The rows of a table that the store holds are not in it before
         * the commit below.) */
        for (size_t i = first; i < r->n_changes; i++) {
            struct odb_change *c = &r->changes[i];
            struct odb_replica_table *t = &r->tables[c->table];
            struct odb_row *row = odb_row_find_any(t, c->uuid);
            if (row) {
                hmap_remove(&t->rows, &row->node);
                odb_row_destroy(row, t);
            }
            json_decref(c->columns);
            odb_values_free(c->values, t->n_columns);
        }
        r->n_changes = first;
        return error;
    }
    odb_replica_store_commit(r, first);
    return NULL;
}
