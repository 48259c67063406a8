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

/* Small helpers about a database's rows, whether a replica's
 * (ovsdb/replica.h) or a model's (ovsdb/idl.h): the one rule by which iovp
 * chooses among rows that claim one name, the end of a transaction's
 * operations, and string-to-string maps as JSON objects. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* A row that goes by a name that other rows may claim too (two
 * Physical_Port rows of one switch with one name, two Interfaces with one
 * "external_ids:iface-id"): a candidate for odb_named_rows_sort(). */
struct odb_named_row {
    const char *name;           /* What the row goes by. */
    bool preferred;             /* Chosen before rows not preferred. */
    const char *uuid;           /* The row's. */
    const void *row;
};

void odb_named_rows_sort(struct odb_named_row *, size_t n);
size_t odb_named_rows_next(const struct odb_named_row *, size_t n,
                           size_t i);

json_t *odb_txn_finish(json_t *ops, const char *comment);
json_t *odb_map_from_object(const json_t *object);
bool odb_map_equals_object(char *const *keys, char *const *values, size_t n,
                           const json_t *object);

#endif /* ovsdb/query.h */
