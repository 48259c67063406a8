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

#ifndef IOVP_OVSDB_DATUM_H
#define IOVP_OVSDB_DATUM_H 1

/* OVSDB values (RFC 7047, section 5.1), kept in their JSON form.
 *
 * Pure code: nothing here does I/O.  A value that a server sends is checked
 * against its column's type and made canonical, so that two equal values
 * are equal JSON (json_equal()):
 *
 *   - An atom: an integer is a JSON integer, a real always a JSON real
 *     (never -0.0), a boolean true or false, a string a JSON string, a uuid
 *     ["uuid", "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"] in lower case.
 *
 *   - A value of a type that is not a map and holds at most one atom
 *     (n_max == 1): the bare atom, or ["set", []] when there is none.
 *
 *   - Any other set: ["set", [atoms]], the atoms sorted and distinct, even
 *     when there is just one.
 *
 *   - A map: ["map", [[key, value], ...]], sorted by key, keys distinct.
 *
 * Atoms sort as odb_atom_compare() says.  A canonical value may share parts
 * with the JSON it was made from (jansson reference counts them): treat
 * both as immutable. */

#include <jansson.h>

#include "ovsdb/schema.h"

char *odb_datum_from_json(const struct odb_type *, const json_t *in,
                          json_t **out);
char *odb_datum_from_json_transient(const struct odb_type *, const json_t *in,
                                    json_t **out);
char *odb_datum_apply_diff(const struct odb_type *, const json_t *old,
                           const json_t *diff, json_t **new);
json_t *odb_datum_default(const struct odb_type *);

int odb_atom_compare(enum odb_atomic_type, const json_t *a, const json_t *b);

#endif /* ovsdb/datum.h */
