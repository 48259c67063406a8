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

#include "ovsdb/datum.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* A client applies initial monitor replies of 100,000 rows of ten columns
 * or so through odb_datum_from_json(), so it avoids work where it can:
 *
 *   - A value that is canonical already, as ovsdb-server sends almost every
 *     value, is returned as is, with a new reference, and nothing else is
 *     allocated.
 *
 *   - Otherwise the new value reuses every part of the old that it can.
 *
 *   - Sorting compares keys extracted once (an integer, a real, or a
 *     string's bytes and length), never serialized JSON. */

/* The length of a UUID in its string form. */
#define UUID_LEN 36

/* One element of a set or a map being parsed or merged: its key and, in a
 * map, its value, both canonical atoms, and the key in a form that is cheap
 * to compare.  'key' and 'value' are borrowed, or new references when
 * 'key_new' or 'value_new' is true; 'pair' is the [key, value] array they
 * came from, borrowed, when it can be reused as is, else NULL. */
struct elem {
    json_t *key;
    json_t *value;
    json_t *pair;
    bool key_new;
    bool value_new;
    union {
        json_int_t integer;
        double real;
        int boolean;
        const char *s;          /* A string's or a uuid's bytes. */
    } k;
    size_t len;                 /* The length of 'k.s'. */
};

/* A growable array of elements, on the stack while it is small. */
struct elems {
    struct elem *e;
    size_t n;
    size_t allocated;
    struct elem stub[8];
};

/* Initializes 'es' as empty. */
static void
elems_init(struct elems *es)
{
    es->e = es->stub;
    es->n = 0;
    es->allocated = IOVP_ARRAY_SIZE(es->stub);
}

/* Returns a new, zeroed element at the end of 'es'. */
static struct elem *
elems_add(struct elems *es)
{
    if (es->n >= es->allocated) {
        size_t allocated = 2 * es->allocated;
        struct elem *e = iovp_xmalloc(allocated * sizeof *e);

        memcpy(e, es->e, es->n * sizeof *e);
        if (es->e != es->stub) {
            free(es->e);
        }
        es->e = e;
        es->allocated = allocated;
    }

    struct elem *e = &es->e[es->n++];
    memset(e, 0, sizeof *e);
    return e;
}

/* Drops the references that the elements of 'es' own and frees 'es''s
 * memory. */
static void
elems_destroy(struct elems *es)
{
    for (size_t i = 0; i < es->n; i++) {
        if (es->e[i].key_new) {
            json_decref(es->e[i].key);
        }
        if (es->e[i].value_new) {
            json_decref(es->e[i].value);
        }
    }
    if (es->e != es->stub) {
        free(es->e);
    }
}

/* Returns a malloc()'d error: 'format' formatted with 'json' in compact
 * form as the one "%s" in it. */
static char *
json_error(const char *format, const json_t *json)
{
    char *s = iovp_json_brief(json);
    char *error = iovp_xasprintf(format, s);
    free(s);
    return error;
}

/* Returns a malloc()'d "PREFIX: 'error'" and frees 'error'. */
static char *
prefix_error(char *error, const char *prefix)
{
    char *s = iovp_xasprintf("%s: %s", prefix, error);
    free(error);
    return s;
}

/* Atoms. */

/* Returns true if 'json' is ["TAG", X] with X of JSON type 'type', storing
 * X (borrowed) in '*inner'. */
static bool
unwrap(const json_t *json, const char *tag, json_type type, json_t **inner)
{
    if (json_is_array(json) && json_array_size(json) == 2) {
        const json_t *tag_json = json_array_get(json, 0);
        json_t *x = json_array_get(json, 1);

        if (json_is_string(tag_json)
            && !strcmp(json_string_value(tag_json), tag)
            && json_typeof(x) == type) {
            *inner = x;
            return true;
        }
    }
    return false;
}

/* Returns true if 's', of 'len' bytes, is a UUID in the 8-4-4-4-12 form, and
 * stores in '*lower' whether its hex digits are all lower case. */
static bool
uuid_is_valid(const char *s, size_t len, bool *lower)
{
    *lower = true;
    if (len != UUID_LEN) {
        return false;
    }
    for (size_t i = 0; i < UUID_LEN; i++) {
        char c = s[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') {
                return false;
            }
        } else if (c >= 'A' && c <= 'F') {
            *lower = false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

/* Parses 'json' as a uuid atom into '*atom', as atom_from_json() does. */
static char *
uuid_from_json(json_t *json, json_t **atom, bool *is_new)
{
    json_t *s;

    if (!unwrap(json, "uuid", JSON_STRING, &s)) {
        if (unwrap(json, "named-uuid", JSON_STRING, &s)) {
            return iovp_xasprintf("named-uuid \"%s\" is only valid within a "
                                  "transaction", json_string_value(s));
        }
        return json_error("expected uuid, not %s", json);
    }

    const char *value = json_string_value(s);
    size_t len = json_string_length(s);
    bool lower;
    if (!uuid_is_valid(value, len, &lower)) {
        return json_error("%s is not a valid UUID", s);
    }
    if (lower) {
        *atom = json;
        *is_new = false;
    } else {
        char buf[UUID_LEN];

        for (size_t i = 0; i < UUID_LEN; i++) {
            char c = value[i];
            buf[i] = c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c;
        }
        *atom = json_array();
        json_array_append(*atom, json_array_get(json, 0));
        json_array_append_new(*atom, json_stringn_nocheck(buf, UUID_LEN));
        *is_new = true;
    }
    return NULL;
}

/* Returns the number of characters in the UTF-8 string 's' of 'len' bytes
 * (jansson checked that it is valid). */
static size_t
utf8_length(const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        n += ((unsigned char) s[i] & 0xc0) != 0x80;
    }
    return n;
}

/* Checks 'atom', a canonical atom of base->type, against 'base''s
 * constraints.  Returns NULL if it meets them, else a malloc()'d error, in
 * the words of Open vSwitch's. */
static char *
atom_check_constraints(const struct odb_base_type *base, const json_t *atom)
{
    if (base->enum_) {
        const json_t *values = json_array_get(base->enum_, 1);
        size_t lo = 0, hi = json_array_size(values);

        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int cmp = odb_atom_compare(base->type, atom,
                                       json_array_get(values, mid));
            if (!cmp) {
                return NULL;
            } else if (cmp < 0) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }

        char *a = iovp_json_brief(atom);
        char *v = json_dumps(values, JSON_COMPACT);
        char *error = iovp_xasprintf("%s is not one of the allowed values "
                                     "%s", a, v);
        free(a);
        free(v);
        return error;
    }

    switch (base->type) {
    case ODB_TYPE_INTEGER: {
        long long int i = json_integer_value(atom);
        long long int min = base->min_integer, max = base->max_integer;

        if (i >= min && i <= max) {
            return NULL;
        } else if (min != LLONG_MIN && max != LLONG_MAX) {
            return iovp_xasprintf("%lld is not in the valid range %lld to "
                                  "%lld (inclusive)", i, min, max);
        } else if (min != LLONG_MIN) {
            return iovp_xasprintf("%lld is less than minimum allowed value "
                                  "%lld", i, min);
        } else {
            return iovp_xasprintf("%lld is greater than maximum allowed "
                                  "value %lld", i, max);
        }
    }

    case ODB_TYPE_REAL: {
        double r = json_real_value(atom);
        double min = base->min_real, max = base->max_real;

        if (r >= min && r <= max) {
            return NULL;
        } else if (min != -DBL_MAX && max != DBL_MAX) {
            return iovp_xasprintf("%.*g is not in the valid range %.*g to "
                                  "%.*g (inclusive)", DBL_DIG, r,
                                  DBL_DIG, min, DBL_DIG, max);
        } else if (min != -DBL_MAX) {
            return iovp_xasprintf("%.*g is less than minimum allowed value "
                                  "%.*g", DBL_DIG, r, DBL_DIG, min);
        } else {
            return iovp_xasprintf("%.*g is greater than maximum allowed "
                                  "value %.*g", DBL_DIG, r, DBL_DIG, max);
        }
    }

    case ODB_TYPE_STRING: {
        size_t bytes = json_string_length(atom);

        /* A string has at most as many characters as bytes. */
        if (!base->min_length && bytes <= base->max_length) {
            return NULL;
        }

        size_t n = utf8_length(json_string_value(atom), bytes);
        const char *format;
        size_t limit;
        if (n < base->min_length) {
            format = "%s length %zu is less than minimum allowed length %zu";
            limit = base->min_length;
        } else if (n > base->max_length) {
            format = ("%s length %zu is greater than maximum allowed length "
                      "%zu");
            limit = base->max_length;
        } else {
            return NULL;
        }

        char *s = iovp_json_brief(atom);
        char *error = iovp_xasprintf(format, s, n, limit);
        free(s);
        return error;
    }

    case ODB_TYPE_VOID:
    case ODB_TYPE_BOOLEAN:
    case ODB_TYPE_UUID:
    case ODB_N_ATOMIC_TYPES:
        break;
    }
    return NULL;
}

/* Parses 'json' as an atom of 'base' and checks it against 'base''s
 * constraints.  If successful, returns NULL and stores the canonical atom in
 * '*atom': 'json' itself, borrowed, if it is canonical already ('*is_new'
 * false), else a new reference ('*is_new' true).  On failure returns a
 * malloc()'d error. */
static char *
atom_from_json(const struct odb_base_type *base, json_t *json,
               json_t **atom, bool *is_new)
{
    char *error;

    *atom = json;
    *is_new = false;
    switch (base->type) {
    case ODB_TYPE_INTEGER:
        if (!json_is_integer(json)) {
            return json_error("expected integer, not %s", json);
        }
        break;

    case ODB_TYPE_REAL:
        if (json_is_integer(json)) {
            *atom = json_real(json_integer_value(json));
            *is_new = true;
        } else if (!json_is_real(json)) {
            return json_error("expected real, not %s", json);
        } else if (json_real_value(json) == 0.0 && signbit(
                       json_real_value(json))) {
            /* -0.0 == 0.0, but prints differently. */
            *atom = json_real(0.0);
            *is_new = true;
        }
        break;

    case ODB_TYPE_BOOLEAN:
        if (!json_is_boolean(json)) {
            return json_error("expected boolean, not %s", json);
        }
        break;

    case ODB_TYPE_STRING:
        if (!json_is_string(json)) {
            return json_error("expected string, not %s", json);
        }
        break;

    case ODB_TYPE_UUID:
        error = uuid_from_json(json, atom, is_new);
        if (error) {
            return error;
        }
        break;

    case ODB_TYPE_VOID:
    case ODB_N_ATOMIC_TYPES:
    default:
        return iovp_xasprintf("atoms of type %s do not exist",
                              odb_atomic_type_to_string(base->type));
    }

    error = atom_check_constraints(base, *atom);
    if (error && *is_new) {
        json_decref(*atom);
        *atom = NULL;
        *is_new = false;
    }
    return error;
}

/* Sets e->k and e->len from e->key, a canonical atom of 'type'.  Returns
 * false if e->key is not an atom of 'type' at all. */
static bool
elem_set_sort_key(struct elem *e, enum odb_atomic_type type)
{
    const json_t *key = e->key;
    json_t *s;

    switch (type) {
    case ODB_TYPE_INTEGER:
        e->k.integer = json_integer_value(key);
        return json_is_integer(key);

    case ODB_TYPE_REAL:
        e->k.real = json_real_value(key);
        return json_is_real(key);

    case ODB_TYPE_BOOLEAN:
        e->k.boolean = json_is_true(key);
        return json_is_boolean(key);

    case ODB_TYPE_STRING:
        e->k.s = json_string_value(key);
        e->len = json_string_length(key);
        return e->k.s != NULL;

    case ODB_TYPE_UUID:
        if (!unwrap(key, "uuid", JSON_STRING, &s)) {
            return false;
        }
        e->k.s = json_string_value(s);
        e->len = json_string_length(s);
        return true;

    case ODB_TYPE_VOID:
    case ODB_N_ATOMIC_TYPES:
        break;
    }
    return false;
}

/* qsort() comparisons of elements by key, one for each atomic type; uuids
 * compare as strings. */
typedef int elem_compare_func(const void *, const void *);

static int
compare_integer_elems(const void *a_, const void *b_)
{
    const struct elem *a = a_, *b = b_;
    return a->k.integer < b->k.integer ? -1 : a->k.integer > b->k.integer;
}

static int
compare_real_elems(const void *a_, const void *b_)
{
    const struct elem *a = a_, *b = b_;
    return a->k.real < b->k.real ? -1 : a->k.real > b->k.real;
}

static int
compare_boolean_elems(const void *a_, const void *b_)
{
    const struct elem *a = a_, *b = b_;
    return a->k.boolean - b->k.boolean;
}

static int
compare_string_elems(const void *a_, const void *b_)
{
    const struct elem *a = a_, *b = b_;
    int cmp = memcmp(a->k.s, b->k.s, MIN(a->len, b->len));
    return cmp ? cmp : a->len < b->len ? -1 : a->len > b->len;
}

/* Returns the qsort() comparison of elements whose keys are of 'type'. */
static elem_compare_func *
elem_comparator(enum odb_atomic_type type)
{
    switch (type) {
    case ODB_TYPE_INTEGER:
        return compare_integer_elems;
    case ODB_TYPE_REAL:
        return compare_real_elems;
    case ODB_TYPE_BOOLEAN:
        return compare_boolean_elems;
    case ODB_TYPE_STRING:
    case ODB_TYPE_UUID:
    case ODB_TYPE_VOID:
    case ODB_N_ATOMIC_TYPES:
    default:
        return compare_string_elems;
    }
}

/* Compares 'a' and 'b', two canonical atoms of 'type', and returns a
 * strcmp()-like result: integers and reals compare as numbers, false before
 * true, strings by their bytes (as strcmp() does for UTF-8), and uuids by
 * their strings, which is as numbers. */
int
odb_atom_compare(enum odb_atomic_type type, const json_t *a, const json_t *b)
{
    struct elem ea = { .key = (json_t *) a };
    struct elem eb = { .key = (json_t *) b };

    if (type == ODB_TYPE_REAL) {
        /* Be lenient: an atom may still be an integer here. */
        double x = json_number_value(a), y = json_number_value(b);
        return x < y ? -1 : x > y;
    }
    if (!elem_set_sort_key(&ea, type) || !elem_set_sort_key(&eb, type)) {
        return 0;
    }
    return elem_comparator(type)(&ea, &eb);
}

/* Data. */

/* Returns true if 'json' looks like a set, ["set", ...], rather than an
 * atom. */
static bool
is_set_wrapper(const json_t *json)
{
    if (json_is_array(json) && json_array_size(json) > 0) {
        const json_t *tag = json_array_get(json, 0);
        return json_is_string(tag) && !strcmp(json_string_value(tag), "set");
    }
    return false;
}

/* Returns a malloc()'d error unless 'n' elements are within 'type''s
 * bounds. */
static char *
check_count(const struct odb_type *type, size_t n)
{
    const char *class = odb_type_is_map(type) ? "map" : "set";
    unsigned int min = type->n_min, max = type->n_max;
    char bounds[64];

    if (n >= min && n <= max) {
        return NULL;
    }
    if (min == max) {
        snprintf(bounds, sizeof bounds, "exactly %u member%s", min,
                 min == 1 ? "" : "s");
    } else if (max == UINT_MAX) {
        snprintf(bounds, sizeof bounds, "at least %u member%s", min,
                 min == 1 ? "" : "s");
    } else if (!min) {
        snprintf(bounds, sizeof bounds, "at most %u member%s", max,
                 max == 1 ? "" : "s");
    } else {
        snprintf(bounds, sizeof bounds, "%u to %u members", min, max);
    }
    return iovp_xasprintf("%s must have %s but %zu %s present", class,
                          bounds, n, n == 1 ? "is" : "are");
}

/* Parses 'json' as a value of 'type', without checking how many elements
 * it has, into 'es': its elements sorted by key, which must be distinct.
 * Sets '*canonical' to whether 'json' is canonical for 'type' as it is.
 * Returns NULL if successful, else a malloc()'d error.  Either way the
 * caller must destroy 'es'. */
static char *
datum_parse(const struct odb_type *type, const json_t *json_,
            struct elems *es, bool *canonical)
{
    json_t *json = (json_t *) json_;
    bool is_map = odb_type_is_map(type);
    bool wrapped = is_map || is_set_wrapper(json);
    bool all_reused = true;
    char *error;

    if (!wrapped) {
        struct elem *e = elems_add(es);

        error = atom_from_json(&type->key, json, &e->key, &e->key_new);
        if (error) {
            return error;
        }
        elem_set_sort_key(e, type->key.type);
        *canonical = !e->key_new && type->n_max == 1;
        return NULL;
    }

    json_t *inner;
    if (!unwrap(json, is_map ? "map" : "set", JSON_ARRAY, &inner)) {
        return json_error(is_map
                          ? "expected [\"map\", [[key, value], ...]], not %s"
                          : "expected [\"set\", [atom, ...]], not %s", json);
    }

    size_t n = json_array_size(inner);
    for (size_t i = 0; i < n; i++) {
        json_t *elem_json = json_array_get(inner, i);
        struct elem *e = elems_add(es);

        if (!is_map) {
            error = atom_from_json(&type->key, elem_json, &e->key,
                                   &e->key_new);
            all_reused &= !e->key_new;
        } else if (!json_is_array(elem_json)
                   || json_array_size(elem_json) != 2) {
            error = json_error("expected a [key, value] pair, not %s",
                               elem_json);
        } else {
            error = atom_from_json(&type->key, json_array_get(elem_json, 0),
                                   &e->key, &e->key_new);
            if (!error) {
                error = atom_from_json(&type->value,
                                       json_array_get(elem_json, 1),
                                       &e->value, &e->value_new);
            }
            if (!error && !e->key_new && !e->value_new) {
                e->pair = elem_json;
            }
            all_reused &= e->pair != NULL;
        }
        if (error) {
            return error;
        }
        elem_set_sort_key(e, type->key.type);
    }

    /* Sort unless sorted already, then look for duplicates, which sort next
     * to each other. */
    elem_compare_func *compare = elem_comparator(type->key.type);
    bool sorted = true;
    for (size_t i = 1; i < n; i++) {
        if (compare(&es->e[i - 1], &es->e[i]) >= 0) {
            sorted = false;
            break;
        }
    }
    if (!sorted) {
        qsort(es->e, n, sizeof *es->e, compare);
        for (size_t i = 1; i < n; i++) {
            if (!compare(&es->e[i - 1], &es->e[i])) {
                return json_error(is_map ? "map contains duplicate key %s"
                                  : "set contains duplicate value %s",
                                  es->e[i].key);
            }
        }
    }

    *canonical = (all_reused && sorted
                  && (is_map || type->n_max > 1 || n == 0));
    return NULL;
}

/* Returns a new reference to 'e->key', taking it from 'e' if 'e' owns it. */
static json_t *
take_key(struct elem *e)
{
    if (e->key_new) {
        e->key_new = false;
        return e->key;
    }
    return json_incref(e->key);
}

/* Returns a new reference to 'e->value', taking it from 'e' if 'e' owns
 * it. */
static json_t *
take_value(struct elem *e)
{
    if (e->value_new) {
        e->value_new = false;
        return e->value;
    }
    return json_incref(e->value);
}

/* Returns a new reference to the canonical value of 'type' whose elements
 * are those of 'es', sorted and distinct, taking the references that 'es'
 * owns.  'tag' is a "set" or "map" string to reuse (borrowed), or NULL. */
static json_t *
datum_build(const struct odb_type *type, struct elems *es, json_t *tag)
{
    bool is_map = odb_type_is_map(type);

    if (!is_map && type->n_max == 1 && es->n == 1) {
        return take_key(&es->e[0]);
    }

    json_t *array = json_array();
    for (size_t i = 0; i < es->n; i++) {
        struct elem *e = &es->e[i];

        if (!is_map) {
            json_array_append_new(array, take_key(e));
        } else if (e->pair) {
            json_array_append(array, e->pair);
        } else {
            json_t *pair = json_array();
            json_array_append_new(pair, take_key(e));
            json_array_append_new(pair, take_value(e));
            json_array_append_new(array, pair);
        }
    }

    json_t *datum = json_array();
    json_array_append_new(datum,
                          tag ? json_incref(tag)
                          : json_string_nocheck(is_map ? "map" : "set"));
    json_array_append_new(datum, array);
    return datum;
}

/* Returns 'atom' (stolen), or, for an integer from -1 to 65535 or a short
 * string, the same atom that other values share: canonical values are
 * immutable, so the many rows of a large table that hold the same small
 * number or the same word ("ingress", "permit", a mask) need not each have
 * their own.  Integers are all kept once seen; strings in a small cache
 * where a newcomer takes the place of what was there.  Anything else is
 * returned as it is.
 *
 * This is process-wide, as an allocator is, and holds only immutable
 * values. */
static json_t *
datum_intern(json_t *atom)
{
    static json_t *ints[65537];
    static json_t *strings[4096];

    if (json_is_integer(atom)) {
        json_int_t v = json_integer_value(atom);
        if (v >= -1 && v <= 65535) {
            json_t **slot = &ints[v + 1];
            if (!*slot) {
                *slot = json_incref(atom);
            }
            json_decref(atom);
            return json_incref(*slot);
        }
    } else if (json_is_string(atom) && json_string_length(atom) <= 24) {
        uint64_t h = iovp_hash_string64(json_string_value(atom));
        json_t **slot = &strings[h % IOVP_ARRAY_SIZE(strings)];
        if (*slot && json_equal(*slot, atom)) {
            json_decref(atom);
            return json_incref(*slot);
        }
        json_decref(*slot);
        *slot = json_incref(atom);
    }
    return atom;
}

static char *
datum_from_json(const struct odb_type *type, const json_t *in, bool transient,
                json_t **out)
{
    struct elems es;
    bool canonical;
    char *error;

    *out = NULL;
    elems_init(&es);
    error = datum_parse(type, in, &es, &canonical);
    if (!error) {
        error = check_count(type, es.n);
    }
    if (!error) {
        if (canonical) {
            /* Unless transient, a copy, not a reference: a value that
             * shared the message's memory would keep that memory in
             * pieces, around the holes the rest of the message leaves when
             * it is freed. */
            *out = (transient ? json_incref((json_t *) in)
                    : json_deep_copy(in));
        } else {
            json_t *tag = is_set_wrapper(in) || odb_type_is_map(type)
                          ? json_array_get(in, 0) : NULL;
            *out = datum_build(type, &es, tag);
        }
        if (!transient) {
            *out = datum_intern(*out);
        }
    }
    elems_destroy(&es);
    return error;
}

/* Checks 'in' as a value of the column type 'type' and makes it canonical
 * (see the top of ovsdb/datum.h).  If successful, returns NULL and stores in
 * '*out' a new reference to the canonical value, which may share memory with
 * other values (never with 'in').  Otherwise, returns a malloc()'d error,
 * which the caller must free, and stores NULL in '*out'.
 *
 * The checks: every atom of its type and within its base type's
 * constraints; between 'n_min' and 'n_max' elements; no set element or map
 * key twice.  A set of one element may be its bare atom, as RFC 7047
 * allows.  ["named-uuid", ...], which only a transaction may use, is
 * refused. */
char *
odb_datum_from_json(const struct odb_type *type, const json_t *in,
                    json_t **out)
{
    return datum_from_json(type, in, false, out);
}

/* As odb_datum_from_json(), for a value that is dropped before 'in' is
 * freed (a column that the replica hands to a model, which decodes it at
 * once): a canonical value is a new reference to 'in' itself, neither
 * copied nor interned.  Checked alike. */
char *
odb_datum_from_json_transient(const struct odb_type *type, const json_t *in,
                              json_t **out)
{
    return datum_from_json(type, in, true, out);
}

/* Extracts the elements of 'json', a canonical value of 'type', into 'es'
 * (which borrows them), checking only that 'json' has the shape of one.
 * Returns NULL if successful, else a malloc()'d error.  Either way the
 * caller must destroy 'es'. */
static char *
datum_extract(const struct odb_type *type, const json_t *json_,
              struct elems *es)
{
    json_t *json = (json_t *) json_;
    bool is_map = odb_type_is_map(type);
    json_t *inner;

    if (!is_map && type->n_max == 1 && !is_set_wrapper(json)) {
        struct elem *e = elems_add(es);

        e->key = json;
        if (!elem_set_sort_key(e, type->key.type)) {
            return json_error("old value %s is not canonical", json);
        }
        return NULL;
    }
    if (!unwrap(json, is_map ? "map" : "set", JSON_ARRAY, &inner)) {
        return json_error("old value %s is not canonical", json);
    }

    elem_compare_func *compare = elem_comparator(type->key.type);
    for (size_t i = 0; i < json_array_size(inner); i++) {
        json_t *elem_json = json_array_get(inner, i);
        struct elem *e = elems_add(es);

        if (!is_map) {
            e->key = elem_json;
        } else if (json_is_array(elem_json)
                   && json_array_size(elem_json) == 2) {
            e->pair = elem_json;
            e->key = json_array_get(elem_json, 0);
            e->value = json_array_get(elem_json, 1);
        }
        if (!e->key || !elem_set_sort_key(e, type->key.type)
            || (i && compare(&es->e[i - 1], e) >= 0)) {
            return json_error("old value %s is not canonical", json);
        }
    }
    return NULL;
}

/* Moves element 'e' to the end of 'es', with the references it owns. */
static void
elem_move(struct elems *es, struct elem *e)
{
    *elems_add(es) = *e;
    e->key_new = e->value_new = false;
}

/* Applies 'diff', the "modify" of a column of type 'type' in an update2 or
 * update3 notification, to 'old', a canonical value of 'type' (as
 * odb_datum_from_json() makes).  If successful, returns NULL and stores a
 * new reference to the new value, canonical, in '*new'.  Otherwise, returns
 * a malloc()'d error and stores NULL in '*new'.
 *
 * As ovsdb-server computes "update2" diffs (ovsdb_datum_diff() in Open
 * vSwitch's lib/ovsdb-data.c): for a type of at most one element, a scalar
 * or an optional value (or a map of at most one pair), 'diff' is the new
 * value, as seen from a real server.  For a set, 'diff' is a set whose
 * every element is removed from 'old' if it is there, else added.  For a
 * map, 'diff' is a map whose every key not in 'old' adds its pair, whose
 * every key in 'old' with the same value removes the pair, and whose every
 * key in 'old' with another value replaces the value.  'diff' may have any
 * number of elements but the new value must fit 'type'. */
char *
odb_datum_apply_diff(const struct odb_type *type, const json_t *old,
                     const json_t *diff, json_t **new)
{
    *new = NULL;
    if (type->n_max <= 1) {
        char *error = odb_datum_from_json(type, diff, new);
        return error ? prefix_error(error, "diff") : NULL;
    }

    struct odb_type relaxed = *type;
    relaxed.n_min = 0;
    relaxed.n_max = UINT_MAX;

    struct elems d, o, r;
    bool canonical;
    char *error;

    elems_init(&d);
    elems_init(&o);
    elems_init(&r);
    error = datum_parse(&relaxed, diff, &d, &canonical);
    if (error) {
        error = prefix_error(error, "diff");
        goto exit;
    }
    error = datum_extract(type, old, &o);
    if (error) {
        goto exit;
    }

    /* Merge the two sorted lists. */
    bool is_map = odb_type_is_map(type);
    elem_compare_func *compare = elem_comparator(type->key.type);
    size_t i = 0, j = 0;
    while (i < o.n || j < d.n) {
        int cmp = (i >= o.n ? 1
                   : j >= d.n ? -1
                   : compare(&o.e[i], &d.e[j]));
        if (cmp < 0) {
            elem_move(&r, &o.e[i++]);
        } else if (cmp > 0) {
            elem_move(&r, &d.e[j++]);
        } else {
            if (is_map && odb_atom_compare(type->value.type, o.e[i].value,
                                           d.e[j].value)) {
                elem_move(&r, &d.e[j]);
            }
            i++;
            j++;
        }
    }

    error = check_count(type, r.n);
    if (error) {
        error = prefix_error(error, "after the diff");
        goto exit;
    }
    json_t *tag = (is_map || is_set_wrapper(old)
                   ? json_array_get(old, 0) : NULL);
    *new = datum_build(type, &r, tag);

exit:
    elems_destroy(&r);
    elems_destroy(&o);
    elems_destroy(&d);
    return error;
}

/* Returns a new reference to the default atom of 'type', as RFC 7047
 * defines it: 0, 0.0, false, "", or the all-zeros UUID. */
static json_t *
atom_default(enum odb_atomic_type type)
{
    switch (type) {
    case ODB_TYPE_INTEGER:
        return json_integer(0);
    case ODB_TYPE_REAL:
        return json_real(0.0);
    case ODB_TYPE_BOOLEAN:
        return json_false();
    case ODB_TYPE_STRING:
        return json_string_nocheck("");
    case ODB_TYPE_UUID: {
        json_t *uuid = json_array();
        json_array_append_new(uuid, json_string_nocheck("uuid"));
        json_array_append_new(uuid, json_string_nocheck(
                                  "00000000-0000-0000-0000-000000000000"));
        return uuid;
    }
    case ODB_TYPE_VOID:
    case ODB_N_ATOMIC_TYPES:
        break;
    }
    return json_null();
}

/* Returns a new reference to the canonical default value of 'type', as RFC
 * 7047 defines it: the empty set or map if 'n_min' is 0, else one element
 * (one pair) of default atoms.  The value of a column that an update leaves
 * out.  It need not satisfy the type's constraints other than counts. */
json_t *
odb_datum_default(const struct odb_type *type)
{
    bool is_map = odb_type_is_map(type);

    if (type->n_min && !is_map && type->n_max == 1) {
        return atom_default(type->key.type);
    }

    json_t *array = json_array();
    if (type->n_min) {
        json_t *key = atom_default(type->key.type);

        if (is_map) {
            json_t *pair = json_array();
            json_array_append_new(pair, key);
            json_array_append_new(pair, atom_default(type->value.type));
            json_array_append_new(array, pair);
        } else {
            json_array_append_new(array, key);
        }
    }

    json_t *datum = json_array();
    json_array_append_new(datum, json_string_nocheck(is_map ? "map" : "set"));
    json_array_append_new(datum, array);
    return datum;
}
