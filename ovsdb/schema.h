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

#ifndef IOVP_OVSDB_SCHEMA_H
#define IOVP_OVSDB_SCHEMA_H 1

/* OVSDB database schemas (RFC 7047, section 3.2), read from their JSON form.
 *
 * Pure code: nothing here does I/O.  A schema is parsed as strictly as Open
 * vSwitch 3.1's ovsdb-server parses one (an unknown member is an error in
 * every object), and is immutable once parsed.  Its tables, and each table's
 * columns, are sorted by name, so that lookups are binary searches.
 *
 * The prefix is "odb_" because libopenvswitch, linked into the same
 * programs, already defines "ovsdb_" names. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The atomic types of RFC 7047, with their names in a schema.  "void" is
 * the value type of a column that is not a map; it never appears in a
 * schema. */
#define ODB_ATOMIC_TYPES                        \
    ODB_ATOMIC_TYPE(VOID, "void")               \
    ODB_ATOMIC_TYPE(INTEGER, "integer")         \
    ODB_ATOMIC_TYPE(REAL, "real")               \
    ODB_ATOMIC_TYPE(BOOLEAN, "boolean")         \
    ODB_ATOMIC_TYPE(STRING, "string")           \
    ODB_ATOMIC_TYPE(UUID, "uuid")

enum odb_atomic_type {
#define ODB_ATOMIC_TYPE(ENUM, NAME) ODB_TYPE_##ENUM,
    ODB_ATOMIC_TYPES
#undef ODB_ATOMIC_TYPE
    ODB_N_ATOMIC_TYPES
};

const char *odb_atomic_type_to_string(enum odb_atomic_type);
bool odb_atomic_type_from_string(const char *, enum odb_atomic_type *);

/* An atomic type with its constraints (RFC 7047's <base-type>).  A
 * constraint that the schema does not set has the value noted, which
 * constrains nothing; only the members for 'type' are meaningful. */
struct odb_base_type {
    enum odb_atomic_type type;
    json_t *enum_;              /* NULL, or the allowed atoms, owned, in
                                 * canonical form: ["set", [sorted atoms]]. */
    long long int min_integer;  /* LLONG_MIN if unset. */
    long long int max_integer;  /* LLONG_MAX if unset. */
    double min_real;            /* -DBL_MAX if unset. */
    double max_real;            /* DBL_MAX if unset. */
    size_t min_length;          /* In characters; 0 if unset. */
    size_t max_length;          /* In characters; SIZE_MAX if unset. */
    char *ref_table;            /* uuid: "refTable", or NULL. */
    bool ref_strong;            /* uuid with ref_table: "refType" is
                                 * "strong" (the default) rather than
                                 * "weak". */
};

/* A column's type (RFC 7047's <type>): a set of 'n_min' to 'n_max' atoms
 * of type 'key' or, when 'value.type' is not ODB_TYPE_VOID, a map of as many
 * pairs.  'n_min' is 0 or 1 and 'n_max' at least 1 and at least 'n_min';
 * 'n_max' is UINT_MAX for "unlimited". */
struct odb_type {
    struct odb_base_type key;
    struct odb_base_type value;
    unsigned int n_min;
    unsigned int n_max;
};

char *odb_type_from_json(const json_t *, struct odb_type *);
void odb_type_destroy(struct odb_type *);
bool odb_type_is_map(const struct odb_type *);
bool odb_type_is_scalar(const struct odb_type *);
bool odb_type_is_optional_scalar(const struct odb_type *);
bool odb_type_is_set(const struct odb_type *);
char *odb_type_to_string(const struct odb_type *);

/* A column of a table. */
struct odb_column {
    char *name;
    struct odb_type type;
    bool ephemeral;             /* "ephemeral": true (default false). */
    bool mutable_;              /* "mutable": false (default true). */
};

/* A set of columns of one table: an index (RFC 7047 section 3.2 and
 * ovsdb-server(5)).  The pointers point into the table's 'columns' or at
 * its implicit columns, as odb_table_find_column() returns them. */
struct odb_index {
    const struct odb_column **columns;
    size_t n_columns;
};

/* A table of a database. */
struct odb_table_schema {
    char *name;
    struct odb_column *columns; /* Sorted by name; without "_uuid" and
                                 * "_version". */
    size_t n_columns;
    struct odb_index *indexes;  /* In the schema's order. */
    size_t n_indexes;
    bool is_root;               /* "isRoot", but true for every table when
                                 * no table of the schema sets it true, as
                                 * RFC 7047 says for old schemas. */
    bool mutable_;              /* Table-level "mutable" (an Open vSwitch
                                 * extension): false if rows may not be
                                 * modified (default true). */
    long long int max_rows;     /* "maxRows", or LLONG_MAX if unset. */
};

/* A database schema. */
struct odb_schema {
    char *name;
    char *version;              /* "x.y.z", or NULL if unset. */
    char *cksum;                /* NULL if unset. */
    struct odb_table_schema *tables;  /* Sorted by name. */
    size_t n_tables;
};

char *odb_schema_from_json(const json_t *, struct odb_schema **);
void odb_schema_destroy(struct odb_schema *);

const struct odb_table_schema *odb_schema_find_table(
    const struct odb_schema *, const char *name);
const struct odb_column *odb_table_find_column(
    const struct odb_table_schema *, const char *name);

#endif /* ovsdb/schema.h */
