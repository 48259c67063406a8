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

#ifndef IOVP_OVSDB_IDL_H
#define IOVP_OVSDB_IDL_H 1

/* A typed model of a replica: its rows as C structs, with references
 * resolved to pointers, in the manner of Open vSwitch's IDL.
 *
 * The structs, and the classes that describe them to this runtime, are
 * generated from a schema by build-aux/idlgen.py (model/ has them, with
 * the accessors: "struct hwvtep_physical_port", HWVTEP_ACL_FOR_EACH, ...).
 * This runtime knows no table: it decodes each column as its class says.
 *
 * One store.  The model is the store of its replica's values
 * (ovsdb/replica.h): give odb_idl_store() to the replica (through
 * odb_session_options), which then keeps of each row only its UUID, hands
 * each batch to the model as it commits it, and asks the model for the
 * values it needs again (encoded back to canonical JSON).  Given a batch of
 * a replica other than the one it last saw (a new schema: the batch has
 * every row), the model reloads: every row it had is tracked as deleted,
 * every row of the batch as new, and odb_idl_reloaded() says so.
 *
 * Decoding.  Values come in the replica's canonical JSON (ovsdb/datum.h),
 * which the replica checked against the server's schema, not ours.  The
 * model takes only the columns whose server type fits the column's C type;
 * the replica keeps the others itself, and the model reads them as their
 * default, with a rate-limited warning (an older or different schema).  A
 * column or table that the replica lacks reads as its default, or as an
 * empty table.
 *
 * C types.  string: "char *"; integer: "int64_t"; real: "double";
 * boolean: "bool"; a uuid that refers to a table of the model: a pointer
 * to that table's struct; any other uuid: its "char *" text.  A column of
 * at most one value of a pointer type is that pointer, NULL when empty
 * (but a scalar string column is "" by default); one of at most one
 * integer, real or boolean is a one-element array 'x' in the struct itself
 * (no allocation of its own), with 'n_x' 0 or 1, a uint8_t that the
 * struct's end keeps with the other such counts; sets are
 * arrays 'x' and counts 'n_x'; maps are arrays 'key_x' and 'value_x' of
 * 'n_x' pairs, sorted by key as the canonical value is.
 *
 * References.  A batch's rows are all decoded, then their references
 * resolved, so that a row may refer to one inserted in the same batch.  A
 * reference to a row that does not exist is dropped from a set or map, and
 * is NULL in a scalar.  A modified row keeps its address, so that pointers
 * to it stay valid.  If a batch deletes a row that an unchanged row still
 * refers to (an inconsistent server), or inserts one that a row named
 * without finding it, the referring rows are resolved again: their
 * pointers change, and they are tracked as modified in that column.  No
 * pointer held in the model ever points to a freed row.
 *
 * Tracking.  The rows that the batches since the consumer last called
 * odb_idl_track_clear() inserted, modified or deleted are tracked
 * (TABLE_FOR_EACH_TRACKED): each is new, deleted, or has the bits of the
 * columns whose values changed (a new row has no column bits; a row
 * inserted then deleted before the tracking was cleared is both).
 *
 * Ownership and lifetime.  The IDL owns its rows and everything in them
 * (copies of the strings and arrays: it keeps no JSON).  A row, and every
 * pointer in it, is valid until the batch that deletes it is followed by
 * odb_idl_track_clear() and then another batch, or odb_idl_destroy(): a
 * deleted row is out of its table (TABLE_FOR_EACH, TABLE_get) but stays
 * readable, values and references as they were, until then.  Consumers
 * get const pointers and must not change a row. */

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openvswitch/hmap.h>
#include <openvswitch/list.h>

#include "ovsdb/schema.h"

struct odb_replica;
struct odb_store;

/* One atomic type of a column as the model holds it: 'type' as the schema
 * says, and for a uuid, 'ref_table' the index of the table it refers to
 * in the model's class, or -1 when the model has no such table (the uuid
 * is then kept as text). */
struct odb_idl_base {
    enum odb_atomic_type type;
    int ref_table;
};

/* A column of a table class: its name, its type, and where its C members
 * are in the row's struct.  A map has 'value.type' other than
 * ODB_TYPE_VOID.  'n_max' is UINT_MAX for "unlimited".  The layout
 * follows from the type (odb_idl_column_layout()). */
struct odb_idl_column {
    const char *name;
    struct odb_idl_base key;
    struct odb_idl_base value;
    unsigned int n_min;
    unsigned int n_max;
    size_t offset;              /* The value, or the (keys) array. */
    size_t value_offset;        /* Maps: the values array. */
    size_t n_offset;            /* Arrays and optional numbers: the
                                 * count. */
};

/* How a column is held in its row's struct. */
enum odb_idl_layout {
    ODB_IDL_INLINE,             /* One integer, real or boolean, in place. */
    ODB_IDL_POINTER,            /* At most one string, uuid text or
                                 * reference: a pointer, maybe NULL. */
    ODB_IDL_OPTIONAL,           /* At most one integer, real or boolean:
                                 * a one-element array in place, and a
                                 * count, a uint8_t, at 'n_offset'. */
    ODB_IDL_ARRAY,              /* An array (keys and values for a map)
                                 * and a count. */
};

enum odb_idl_layout odb_idl_column_layout(const struct odb_idl_column *);

/* The most columns a table class may have (one bit each in a row). */
#define ODB_IDL_MAX_COLUMNS 64

/* A table of the model: its name, its columns, and the size of its rows'
 * struct, which begins with a "struct odb_idl_row". */
struct odb_idl_table_class {
    const char *name;
    const struct odb_idl_column *columns;
    size_t n_columns;
    size_t row_size;
};

/* A database's model. */
struct odb_idl_class {
    const char *database;
    const struct odb_idl_table_class *tables;
    size_t n_tables;
};

/* The part of a row that the runtime manages: the first member, named
 * 'header_', of each generated row struct.  Private to ovsdb/idl.c. */
struct odb_idl_row {
    struct hmap_node hmap_node; /* In its table's rows, by UUID. */
    struct ovs_list track_node; /* In its table's tracked rows, if
                                 * tracked. */
    struct odb_idl_table *table;
    struct odb_idl_datum *refs; /* Per column, for columns with resolved
                                 * references: the decoded value, uuids as
                                 * text, unless the pointers are the
                                 * value (ovsdb/idl.c).  NULL if the table
                                 * has none. */
    uint64_t updated;           /* Bit N: column N changed. */
    size_t n_refs;              /* Pointers to it in live rows. */
    char uuid[37];
    bool tracked;
    bool new_;
    bool deleted;
    bool unresolved;            /* Dropped a reference it could not
                                 * resolve. */
    bool pending;               /* To resolve in this update. */
};

struct odb_idl *odb_idl_create(const struct odb_idl_class *);
void odb_idl_destroy(struct odb_idl *);
const struct odb_store *odb_idl_store(struct odb_idl *);
void odb_idl_track_clear(struct odb_idl *);
bool odb_idl_reloaded(const struct odb_idl *);
const struct odb_idl_class *odb_idl_get_class(const struct odb_idl *);
size_t odb_idl_memory(const struct odb_idl *);
size_t odb_idl_strings_memory(void);

/* The models' strings are shared, one copy of each text: a consumer that
 * keeps a text (a row's or any other) takes a use of the shared copy, and
 * releases it when done. */
const char *odb_idl_string_ref(const char *);
void odb_idl_string_unref(const char *);
size_t odb_idl_n_rows(const struct odb_idl *, const struct odb_idl_class *,
                      size_t table);
bool odb_idl_has_table(const struct odb_idl *, const struct odb_idl_class *,
                       size_t table);

/* For transactions about a row: new references to ["uuid", UUID] and to
 * the "where" [["_uuid", "==", ["uuid", UUID]]] that selects it. */
json_t *odb_idl_row_uuid(const struct odb_idl_row *);
json_t *odb_idl_row_where(const struct odb_idl_row *);

struct shash;
void odb_idl_row_for_each_ref(const struct odb_idl_row *, size_t column,
                              void (*cb)(const char *uuid, void *aux),
                              void *aux);
void odb_idl_row_add_refs(const struct odb_idl_row *, size_t column,
                          struct shash *uuids);
void odb_idl_row_hash_refs(const struct odb_idl_row *, size_t column,
                           size_t *n, uint64_t *sum);

/* For the generated accessors: 'class' must be the class 'idl' was
 * created with (it asserts so) and 'table' one of its tables. */
const struct odb_idl_row *odb_idl_first(const struct odb_idl *,
                                        const struct odb_idl_class *,
                                        size_t table);
const struct odb_idl_row *odb_idl_next(const struct odb_idl_row *);
const struct odb_idl_row *odb_idl_get(const struct odb_idl *,
                                      const struct odb_idl_class *,
                                      size_t table, const char *uuid);
const struct odb_idl_row *odb_idl_find_by_string(
    const struct odb_idl *, const struct odb_idl_class *, size_t table,
    size_t column, const char *value);
const struct odb_idl_row *odb_idl_track_first(const struct odb_idl *,
                                              const struct odb_idl_class *,
                                              size_t table);
const struct odb_idl_row *odb_idl_track_next(const struct odb_idl_row *);

/* Returns true if 'row' was inserted by the tracked update(s). */
static inline bool
odb_idl_row_is_new(const struct odb_idl_row *row)
{
    return row->new_;
}

/* Returns true if 'row' was deleted by the tracked update(s). */
static inline bool
odb_idl_row_is_deleted(const struct odb_idl_row *row)
{
    return row->deleted;
}

/* Returns true if the tracked update(s) modified column number 'column'
 * of 'row'. */
static inline bool
odb_idl_row_is_updated(const struct odb_idl_row *row, unsigned int column)
{
    return column < ODB_IDL_MAX_COLUMNS && (row->updated >> column) & 1;
}

const char *odb_idl_map_get(char *const *keys, char *const *values,
                            size_t n, const char *key);
bool odb_idl_map_find(char *const *keys, size_t n, const char *key,
                      size_t *idx);

#endif /* ovsdb/idl.h */
