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

#include "ovsdb/query.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "ovsdb/replica.h"

/* Returns one row of 't' (the first in no particular order), or NULL. */
const struct odb_row *
odb_first_row(const struct odb_replica_table *t)
{
    const struct odb_row *row;

    if (t) {
        HMAP_FOR_EACH (row, node, &t->rows) {
            return row;
        }
    }
    return NULL;
}

/* qsort() comparison of two "struct odb_named_row"s: by name, and of one
 * name, a preferred row before any other, then by ascending UUID.  The one
 * rule by which iovp chooses among rows that claim one name. */
static int
odb_named_row_compare(const void *a_, const void *b_)
{
    const struct odb_named_row *a = a_, *b = b_;
    int cmp = strcmp(a->name, b->name);

    if (cmp) {
        return cmp;
    } else if (a->preferred != b->preferred) {
        return a->preferred ? -1 : 1;
    } else {
        return strcmp(a->uuid, b->uuid);
    }
}

/* Sorts the 'n' rows of 'rows' by name and, within one name, puts first
 * the row to use: a preferred one before any other, and then the one with
 * the lowest UUID (UUIDs compare as their strings, which is as numbers).
 * The first row of each name is then the one that name stands for and the
 * rest are its duplicates (see odb_named_rows_next()), whatever the order
 * in which 'rows' came: the replica's hash order, or the order in which
 * the rows were created. */
void
odb_named_rows_sort(struct odb_named_row *rows, size_t n)
{
    if (n > 1) {
        qsort(rows, n, sizeof *rows, odb_named_row_compare);
    }
}

/* Returns the index of the first row after 'i' in 'rows' (of 'n', sorted
 * by odb_named_rows_sort()) whose name differs from that of 'rows[i]', or
 * 'n': rows 'i' up to it share a name. */
size_t
odb_named_rows_next(const struct odb_named_row *rows, size_t n, size_t i)
{
    size_t j = i + 1;

    while (j < n && !strcmp(rows[j].name, rows[i].name)) {
        j++;
    }
    return j;
}

/* Returns the row of 't' whose string 'column' is 'value', or NULL.  Of
 * several, the one with the lowest UUID (odb_named_rows_sort()'s rule), so
 * that the answer never depends on the replica's hash order.  (A linear
 * search: for the few rows of a host's own tables.) */
const struct odb_row *
odb_find_row_by_string(const struct odb_replica_table *t, const char *column,
                       const char *value)
{
    struct odb_named_row best = { .name = value, .row = NULL };
    const struct odb_row *row;
    int i = t ? odb_replica_column_index(t, column) : -1;

    if (i < 0) {
        return NULL;
    }
    HMAP_FOR_EACH (row, node, &t->rows) {
        const json_t *v = row->values[i];
        struct odb_named_row candidate = {
            .name = value, .uuid = row->uuid, .row = row,
        };
        if (json_is_string(v) && !strcmp(json_string_value(v), value)
            && (!best.row
                || odb_named_row_compare(&candidate, &best) < 0)) {
            best = candidate;
        }
    }
    return best.row;
}

/* Returns the rows of 't' that the canonical set (or atom) of UUIDs 'uuids'
 * names, looked up by UUID, in a malloc()'d array (the caller frees it)
 * whose length goes in '*n'.  UUIDs that 't' does not have are left out.
 * For following a reference column, as from a Bridge to its Ports. */
const struct odb_row **
odb_rows_referenced(const struct odb_replica_table *t, const json_t *uuids,
                    size_t *n)
{
    const json_t *atoms = json_array_get(uuids, 1);
    bool is_set = json_is_array(atoms);
    size_t n_atoms = is_set ? json_array_size(atoms) : 1;
    const struct odb_row **rows = iovp_xmalloc(MAX(1, n_atoms)
                                               * sizeof *rows);

    *n = 0;
    for (size_t i = 0; t && i < n_atoms; i++) {
        const json_t *atom = is_set ? json_array_get(atoms, i) : uuids;
        const char *uuid = json_string_value(json_array_get(atom, 1));
        const struct odb_row *row = (uuid
                                     ? odb_replica_find_row(t, uuid) : NULL);
        if (row) {
            rows[(*n)++] = row;
        }
    }
    return rows;
}

/* Returns true if 'match' with 'aux' accepts an element of the canonical
 * 'value': one of a set's atoms, or 'value' itself for an atom. */
static bool
odb_set_has(const json_t *value, bool (*match)(const json_t *, const void *),
            const void *aux)
{
    if (json_is_array(value) && json_array_size(value) == 2
        && json_is_string(json_array_get(value, 0))
        && !strcmp(json_string_value(json_array_get(value, 0)), "set")) {
        size_t i;
        json_t *atom;

        json_array_foreach (json_array_get(value, 1), i, atom) {
            if (match(atom, aux)) {
                return true;
            }
        }
        return false;
    }
    return value && match(value, aux);
}

static bool
odb_match_string(const json_t *atom, const void *value)
{
    return json_is_string(atom) && !strcmp(json_string_value(atom), value);
}

static bool
odb_match_uuid(const json_t *atom, const void *uuid)
{
    return (json_is_array(atom)
            && json_is_string(json_array_get(atom, 1))
            && !strcmp(json_string_value(json_array_get(atom, 1)), uuid));
}

/* Returns true if the canonical set (or atom) 'set' holds string 'value'. */
bool
odb_set_has_string(const json_t *set, const char *value)
{
    return odb_set_has(set, odb_match_string, value);
}

/* Returns true if the canonical set (or atom) 'set' holds ["uuid",
 * 'uuid']. */
bool
odb_set_has_uuid(const json_t *set, const char *uuid)
{
    return odb_set_has(set, odb_match_uuid, uuid);
}

/* Returns the value (borrowed) for string 'key' in the canonical map 'map',
 * or NULL. */
const json_t *
odb_map_get(const json_t *map, const char *key)
{
    size_t i;
    json_t *pair;

    json_array_foreach (json_array_get(map, 1), i, pair) {
        if (odb_match_string(json_array_get(pair, 0), key)) {
            return json_array_get(pair, 1);
        }
    }
    return NULL;
}

/* Returns a new reference to ["uuid", UUID] of 'row'. */
json_t *
odb_uuid(const struct odb_row *row)
{
    return json_pack("[s, s]", "uuid", row->uuid);
}

/* Returns a new reference to the "where" that selects 'row' by its UUID. */
json_t *
odb_where_uuid(const struct odb_row *row)
{
    return json_pack("[[s, s, o]]", "_uuid", "==", odb_uuid(row));
}

/* Finishes the operations 'ops' of a transaction (stolen): returns them
 * with a "comment" operation of 'comment' at the end (the server logs it),
 * or NULL when 'ops' has no operation, for a transaction not worth
 * sending. */
json_t *
odb_txn_finish(json_t *ops, const char *comment)
{
    if (!json_array_size(ops)) {
        json_decref(ops);
        return NULL;
    }
    json_array_append_new(ops, json_pack("{s:s, s:s}", "op", "comment",
                                         "comment", comment));
    return ops;
}
