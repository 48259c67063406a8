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

#ifndef IOVP_OVSDB_QUERY_H
#define IOVP_OVSDB_QUERY_H 1

/* Read-only questions about a replica's rows and their canonical values
 * (ovsdb/replica.h, ovsdb/datum.h), and the small pieces of JSON that
 * transactions about those rows need.  Every argument may be NULL (a table
 * that is not monitored, a column that is not there): the answer is then
 * "none". */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct odb_replica_table;
struct odb_row;

/* A row that goes by a name that other rows may claim too (two
 * Physical_Port rows of one switch with one name, two Interfaces with one
 * "external_ids:iface-id"): a candidate for odb_named_rows_sort(). */
/* A row of a replica (struct odb_row) or of a model (ovsdb/idl.h) and the
 * name it goes by, to choose one of the rows that claim one name. */
struct odb_named_row {
    const char *name;           /* What the row goes by. */
    bool preferred;             /* Chosen before rows not preferred. */
    const char *uuid;           /* The row's. */
    const void *row;
};

void odb_named_rows_sort(struct odb_named_row *, size_t n);
size_t odb_named_rows_next(const struct odb_named_row *, size_t n,
                           size_t i);

const struct odb_row *odb_first_row(const struct odb_replica_table *);
const struct odb_row *odb_find_row_by_string(
    const struct odb_replica_table *, const char *column, const char *value);
const struct odb_row **odb_rows_referenced(const struct odb_replica_table *,
                                           const json_t *uuids, size_t *n);

bool odb_set_has_string(const json_t *set, const char *value);
bool odb_set_has_uuid(const json_t *set, const char *uuid);
const json_t *odb_map_get(const json_t *map, const char *key);

json_t *odb_where_uuid(const struct odb_row *);
json_t *odb_uuid(const struct odb_row *);
json_t *odb_txn_finish(json_t *ops, const char *comment);

#endif /* ovsdb/query.h */
