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

/* Returns a new reference to the OVSDB map ["map", [[KEY, VALUE], ...]]
 * that 'object', a JSON object of strings, is. */
json_t *
odb_map_from_object(const json_t *object)
{
    json_t *pairs = json_array();
    const char *key;
    json_t *value;

    json_object_foreach ((json_t *) object, key, value) {
        json_array_append_new(pairs, json_pack("[s, O]", key, value));
    }
    return json_pack("[s, o]", "map", pairs);
}

/* Returns true if the map of 'keys' and 'values' ('n' of them, as a model
 * holds a string-to-string map) is 'object', a JSON object of strings. */
bool
odb_map_equals_object(char *const *keys, char *const *values, size_t n,
                      const json_t *object)
{
    if (n != json_object_size(object)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const char *value = json_string_value(json_object_get(object,
                                                              keys[i]));
        if (!value || strcmp(value, values[i])) {
            return false;
        }
    }
    return true;
}
