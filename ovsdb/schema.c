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

#include "ovsdb/schema.h"

#include <ctype.h>
#include <float.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "ovsdb/datum.h"

/* Returns the name of 'type', as a schema writes it. */
const char *
odb_atomic_type_to_string(enum odb_atomic_type type)
{
    switch (type) {
#define ODB_ATOMIC_TYPE(ENUM, NAME) case ODB_TYPE_##ENUM: return NAME;
        ODB_ATOMIC_TYPES
#undef ODB_ATOMIC_TYPE
    case ODB_N_ATOMIC_TYPES:
        break;
    }
    return "<invalid>";
}

/* Stores in '*type' the atomic type named 's' and returns true, or returns
 * false if 's' names none.  "void" names none: no schema may use it. */
bool
odb_atomic_type_from_string(const char *s, enum odb_atomic_type *type)
{
#define ODB_ATOMIC_TYPE(ENUM, NAME)                             \
    if (ODB_TYPE_##ENUM != ODB_TYPE_VOID && !strcmp(s, NAME)) { \
        *type = ODB_TYPE_##ENUM;                                \
        return true;                                            \
    }
    ODB_ATOMIC_TYPES
#undef ODB_ATOMIC_TYPE
    return false;
}

/* Returns true if 's' is an <id> as RFC 7047 defines it: a letter or "_",
 * then letters, digits and "_". */
static bool
is_id(const char *s)
{
    if (!isalpha((unsigned char) *s) && *s != '_') {
        return false;
    }
    for (s++; *s; s++) {
        if (!isalnum((unsigned char) *s) && *s != '_') {
            return false;
        }
    }
    return true;
}

/* Returns a malloc()'d "PREFIX: 'error'", PREFIX formatted from 'format',
 * and frees 'error'. */
static char * OVS_PRINTF_FORMAT(2, 3)
prefix_error(char *error, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    char *prefix = iovp_xvasprintf(format, args);
    va_end(args);

    char *s = iovp_xasprintf("%s: %s", prefix, error);
    free(prefix);
    free(error);
    return s;
}

/* Object members. */

/* What a member may hold: bits of (1u << json_type), or M_ID for a string
 * that is an <id>. */
#define M_OBJECT  (1u << JSON_OBJECT)
#define M_ARRAY   (1u << JSON_ARRAY)
#define M_STRING  (1u << JSON_STRING)
#define M_INTEGER (1u << JSON_INTEGER)
#define M_REAL    (1u << JSON_REAL)
#define M_BOOLEAN ((1u << JSON_TRUE) | (1u << JSON_FALSE))
#define M_NUMBER  (M_INTEGER | M_REAL)
#define M_NULL    (1u << JSON_NULL)
#define M_ANY     (M_OBJECT | M_ARRAY | M_STRING | M_NUMBER | M_BOOLEAN \
                   | M_NULL)
#define M_ID      (1u << 16)

/* A member that an object may or must have. */
struct member {
    const char *name;
    unsigned int types;         /* M_* bits. */
    bool required;
};

/* Returns a description of what 'types' allows, as "an integer or a
 * string". */
static char *
member_types_to_string(unsigned int types)
{
    static const struct {
        unsigned int types;
        const char *name;
    } names[] = {
        {M_OBJECT, "an object"},
        {M_ARRAY, "an array"},
        {M_ID, "an <id> (letters, digits and \"_\", not starting with a "
         "digit)"},
        {M_STRING, "a string"},
        {M_NUMBER, "a number"},
        {M_INTEGER, "an integer"},
        {M_BOOLEAN, "a boolean"},
    };
    char *s = NULL;

    for (size_t i = 0; i < IOVP_ARRAY_SIZE(names); i++) {
        if ((types & names[i].types) == names[i].types) {
            char *t = (s ? iovp_xasprintf("%s or %s", s, names[i].name)
                       : iovp_xstrdup(names[i].name));
            free(s);
            s = t;
            types &= ~names[i].types;
        }
    }
    return s ? s : iovp_xstrdup("nothing");
}

/* Checks that 'json' is an object whose members are among the 'n' in
 * 'members', each of the types allowed, with every required one present.
 * Stores the value of members[i] (borrowed), or NULL if it is absent, in
 * values[i].  Returns NULL if successful, else a malloc()'d error. */
static char *
parse_members(const json_t *json, const struct member *members, size_t n,
              const json_t **values)
{
    if (!json_is_object(json)) {
        char *s = iovp_json_brief(json);
        char *error = iovp_xasprintf("expected an object, not %s", s);
        free(s);
        return error;
    }

    size_t n_present = 0;
    for (size_t i = 0; i < n; i++) {
        const struct member *m = &members[i];
        const json_t *value = json_object_get(json, m->name);

        values[i] = value;
        if (!value) {
            if (m->required) {
                return iovp_xasprintf("required member \"%s\" is missing",
                                      m->name);
            }
            continue;
        }
        n_present++;
        if (!(m->types & (1u << json_typeof(value)))
            && !(m->types & M_ID && json_is_string(value)
                 && is_id(json_string_value(value)))) {
            char *types = member_types_to_string(m->types);
            char *s = iovp_json_brief(value);
            char *error = iovp_xasprintf("\"%s\" must be %s, not %s",
                                         m->name, types, s);
            free(types);
            free(s);
            return error;
        }
    }

    if (n_present < json_object_size(json)) {
        const char *key;
        const json_t *value;

        json_object_foreach ((json_t *) json, key, value) {
            size_t i;

            for (i = 0; i < n; i++) {
                if (!strcmp(key, members[i].name)) {
                    break;
                }
            }
            if (i == n) {
                return iovp_xasprintf("member \"%s\" is not allowed here",
                                      key);
            }
        }
    }
    return NULL;
}

/* Base types and types. */

/* Initializes 'base' as an unconstrained 'type'. */
static void
base_type_init(struct odb_base_type *base, enum odb_atomic_type type)
{
    memset(base, 0, sizeof *base);
    base->type = type;
    base->min_integer = LLONG_MIN;
    base->max_integer = LLONG_MAX;
    base->min_real = -DBL_MAX;
    base->max_real = DBL_MAX;
    base->min_length = 0;
    base->max_length = SIZE_MAX;
    base->ref_strong = true;
}

/* Frees what 'base' owns (but not 'base'). */
static void
base_type_destroy(struct odb_base_type *base)
{
    json_decref(base->enum_);
    base->enum_ = NULL;
    free(base->ref_table);
    base->ref_table = NULL;
}

/* Parses 'json', an atomic type's name, into '*type'.  Returns NULL if
 * successful, else a malloc()'d error. */
static char *
atomic_type_from_json(const json_t *json, enum odb_atomic_type *type)
{
    if (!json_is_string(json)) {
        char *s = iovp_json_brief(json);
        char *error = iovp_xasprintf("expected an atomic type, not %s", s);
        free(s);
        return error;
    }
    if (!odb_atomic_type_from_string(json_string_value(json), type)) {
        return iovp_xasprintf("\"%s\" is not an atomic type (integer, real, "
                              "boolean, string or uuid)",
                              json_string_value(json));
    }
    return NULL;
}

/* Parses the optional length constraint 'json' (NULL if absent), named
 * 'name', into '*length'.  Returns NULL if successful, else a malloc()'d
 * error. */
static char *
parse_length(const json_t *json, const char *name, size_t *length)
{
    if (json) {
        json_int_t n = json_integer_value(json);
        if (n < 0 || n > UINT_MAX) {
            return iovp_xasprintf("%s %"JSON_INTEGER_FORMAT" is out of the "
                                  "valid range 0 to %u", name, n, UINT_MAX);
        }
        *length = n;
    }
    return NULL;
}

/* Constraint members of a base type, in the same order as the ones that
 * base_type_members lists after "type" and "enum". */
enum {
    BT_TYPE, BT_ENUM, BT_MIN_INTEGER, BT_MAX_INTEGER, BT_MIN_REAL,
    BT_MAX_REAL, BT_MIN_LENGTH, BT_MAX_LENGTH, BT_REF_TABLE, BT_REF_TYPE,
    BT_N
};

/* The members of a base type in its object form, and which atomic type
 * each constraint goes with. */
static const struct member base_type_members[BT_N] = {
    [BT_TYPE] = {"type", M_STRING, true},
    [BT_ENUM] = {"enum", M_ANY, false},
    [BT_MIN_INTEGER] = {"minInteger", M_INTEGER, false},
    [BT_MAX_INTEGER] = {"maxInteger", M_INTEGER, false},
    [BT_MIN_REAL] = {"minReal", M_NUMBER, false},
    [BT_MAX_REAL] = {"maxReal", M_NUMBER, false},
    [BT_MIN_LENGTH] = {"minLength", M_INTEGER, false},
    [BT_MAX_LENGTH] = {"maxLength", M_INTEGER, false},
    [BT_REF_TABLE] = {"refTable", M_ID, false},
    [BT_REF_TYPE] = {"refType", M_ID, false},
};
static const enum odb_atomic_type base_type_member_types[BT_N] = {
    [BT_MIN_INTEGER] = ODB_TYPE_INTEGER,
    [BT_MAX_INTEGER] = ODB_TYPE_INTEGER,
    [BT_MIN_REAL] = ODB_TYPE_REAL,
    [BT_MAX_REAL] = ODB_TYPE_REAL,
    [BT_MIN_LENGTH] = ODB_TYPE_STRING,
    [BT_MAX_LENGTH] = ODB_TYPE_STRING,
    [BT_REF_TABLE] = ODB_TYPE_UUID,
    [BT_REF_TYPE] = ODB_TYPE_UUID,
};

/* Parses the allowed values 'json' of 'base' (whose type is set) into
 * base->enum_.  Returns NULL if successful, else a malloc()'d error. */
static char *
parse_enum(const json_t *json, struct odb_base_type *base)
{
    struct odb_type set_type;

    /* As Open vSwitch does: a set of one or more atoms of the base type,
     * without its other constraints. */
    base_type_init(&set_type.key, base->type);
    base_type_init(&set_type.value, ODB_TYPE_VOID);
    set_type.n_min = 1;
    set_type.n_max = UINT_MAX;

    char *error = odb_datum_from_json(&set_type, json, &base->enum_);
    return error ? prefix_error(error, "enum") : NULL;
}

/* Parses 'json' as RFC 7047's <base-type>, a name or an object, into
 * 'base'.  Returns NULL if successful, else a malloc()'d error with 'base'
 * initialized to an unconstrained "void" that base_type_destroy()
 * accepts.  The caller must eventually free what 'base' owns, with
 * base_type_destroy(). */
static char *
base_type_from_json(const json_t *json, struct odb_base_type *base)
{
    const json_t *m[BT_N];
    enum odb_atomic_type type;
    char *error;

    base_type_init(base, ODB_TYPE_VOID);
    if (json_is_string(json)) {
        error = atomic_type_from_json(json, &type);
        if (!error) {
            base->type = type;
        }
        return error;
    }

    error = parse_members(json, base_type_members, BT_N, m);
    if (error) {
        return error;
    }
    error = atomic_type_from_json(m[BT_TYPE], &type);
    if (error) {
        return error;
    }
    base_type_init(base, type);

    /* Every constraint must go with the atomic type, and none with
     * "enum". */
    for (int i = BT_MIN_INTEGER; i < BT_N; i++) {
        if (!m[i]) {
            continue;
        } else if (base_type_member_types[i] != type) {
            error = iovp_xasprintf("\"%s\" is not allowed for type %s",
                                   base_type_members[i].name,
                                   odb_atomic_type_to_string(type));
        } else if (m[BT_ENUM]) {
            error = iovp_xasprintf("\"%s\" is not allowed with \"enum\"",
                                   base_type_members[i].name);
        }
        if (error) {
            goto error;
        }
    }

    if (m[BT_ENUM]) {
        error = parse_enum(m[BT_ENUM], base);
    } else if (type == ODB_TYPE_INTEGER) {
        if (m[BT_MIN_INTEGER]) {
            base->min_integer = json_integer_value(m[BT_MIN_INTEGER]);
        }
        if (m[BT_MAX_INTEGER]) {
            base->max_integer = json_integer_value(m[BT_MAX_INTEGER]);
        }
        if (base->min_integer > base->max_integer) {
            error = iovp_xasprintf("minInteger %lld exceeds maxInteger %lld",
                                   base->min_integer, base->max_integer);
        }
    } else if (type == ODB_TYPE_REAL) {
        if (m[BT_MIN_REAL]) {
            base->min_real = json_number_value(m[BT_MIN_REAL]);
        }
        if (m[BT_MAX_REAL]) {
            base->max_real = json_number_value(m[BT_MAX_REAL]);
        }
        if (base->min_real > base->max_real) {
            error = iovp_xasprintf("minReal %.*g exceeds maxReal %.*g",
                                   DBL_DIG, base->min_real,
                                   DBL_DIG, base->max_real);
        }
    } else if (type == ODB_TYPE_STRING) {
        error = parse_length(m[BT_MIN_LENGTH], "minLength",
                             &base->min_length);
        if (!error) {
            error = parse_length(m[BT_MAX_LENGTH], "maxLength",
                                 &base->max_length);
        }
        if (!error && base->min_length > base->max_length) {
            error = iovp_xasprintf("minLength %zu exceeds maxLength %zu",
                                   base->min_length, base->max_length);
        }
    } else if (type == ODB_TYPE_UUID) {
        if (m[BT_REF_TYPE] && !m[BT_REF_TABLE]) {
            error = iovp_xasprintf("\"refType\" is allowed only with "
                                   "\"refTable\"");
        } else if (m[BT_REF_TYPE]) {
            const char *ref_type = json_string_value(m[BT_REF_TYPE]);
            if (!strcmp(ref_type, "weak")) {
                base->ref_strong = false;
            } else if (strcmp(ref_type, "strong")) {
                error = iovp_xasprintf("refType must be \"strong\" or "
                                       "\"weak\", not \"%s\"", ref_type);
            }
        }
        if (!error && m[BT_REF_TABLE]) {
            base->ref_table = iovp_xstrdup(
                json_string_value(m[BT_REF_TABLE]));
        }
    }

error:
    if (error) {
        base_type_destroy(base);
        base_type_init(base, ODB_TYPE_VOID);
    }
    return error;
}

/* Frees what 'type' owns (but not 'type'). */
void
odb_type_destroy(struct odb_type *type)
{
    if (type) {
        base_type_destroy(&type->key);
        base_type_destroy(&type->value);
    }
}

/* Parses the "min" or "max" of a type, 'json' (NULL if absent), named
 * 'name', into '*n'.  Returns NULL if successful, else a malloc()'d error. */
static char *
parse_n(const json_t *json, const char *name, unsigned int *n)
{
    if (!json) {
        return NULL;
    } else if (json_is_string(json)) {
        if (!strcmp(name, "max")
            && !strcmp(json_string_value(json), "unlimited")) {
            *n = UINT_MAX;
            return NULL;
        }
        return iovp_xasprintf("max must be an integer or \"unlimited\", not "
                              "\"%s\"", json_string_value(json));
    }

    json_int_t value = json_integer_value(json);
    if (value < 0 || value >= UINT_MAX) {
        return iovp_xasprintf("%s %"JSON_INTEGER_FORMAT" is out of range",
                              name, value);
    }
    *n = value;
    return NULL;
}

/* Parses 'json' as RFC 7047's <type>, the name of an atomic type or an
 * object with "key" and optionally "value", "min" and "max", into 'type'.
 * Returns NULL if successful, else a malloc()'d error.  Either way, the
 * caller must eventually free what 'type' owns, with odb_type_destroy(). */
char *
odb_type_from_json(const json_t *json, struct odb_type *type)
{
    static const struct member members[] = {
        {"key", M_STRING | M_OBJECT, true},
        {"value", M_STRING | M_OBJECT, false},
        {"min", M_INTEGER, false},
        {"max", M_INTEGER | M_STRING, false},
    };
    const json_t *m[IOVP_ARRAY_SIZE(members)];
    char *error;

    base_type_init(&type->key, ODB_TYPE_VOID);
    base_type_init(&type->value, ODB_TYPE_VOID);
    type->n_min = 1;
    type->n_max = 1;

    if (json_is_string(json)) {
        return base_type_from_json(json, &type->key);
    } else if (!json_is_object(json)) {
        char *s = iovp_json_brief(json);
        error = iovp_xasprintf("expected a type (a string or an object), "
                               "not %s", s);
        free(s);
        return error;
    }

    error = parse_members(json, members, IOVP_ARRAY_SIZE(members), m);
    if (error) {
        return error;
    }
    error = base_type_from_json(m[0], &type->key);
    if (error) {
        return prefix_error(error, "key");
    }
    if (m[1]) {
        error = base_type_from_json(m[1], &type->value);
        if (error) {
            return prefix_error(error, "value");
        }
    }
    error = parse_n(m[2], "min", &type->n_min);
    if (!error) {
        error = parse_n(m[3], "max", &type->n_max);
    }
    if (error) {
        return error;
    }
    if (type->n_min > 1) {
        return iovp_xasprintf("min must be 0 or 1, not %u", type->n_min);
    } else if (type->n_max < 1) {
        return iovp_xasprintf("max must be at least 1");
    }
    return NULL;
}

/* Returns true if 'type' is a map. */
bool
odb_type_is_map(const struct odb_type *type)
{
    return type->value.type != ODB_TYPE_VOID;
}

/* Returns true if 'type' holds exactly one atom: not a map, with 'n_min'
 * and 'n_max' both 1. */
bool
odb_type_is_scalar(const struct odb_type *type)
{
    return !odb_type_is_map(type) && type->n_min == 1 && type->n_max == 1;
}

/* Returns true if 'type' holds no atom or one: not a map, 'n_min' 0 and
 * 'n_max' 1. */
bool
odb_type_is_optional_scalar(const struct odb_type *type)
{
    return !odb_type_is_map(type) && type->n_min == 0 && type->n_max == 1;
}

/* Returns true if 'type' is a set that is not a scalar (an optional scalar
 * is one), as update2's diffs treat it. */
bool
odb_type_is_set(const struct odb_type *type)
{
    return !odb_type_is_map(type) && !odb_type_is_scalar(type);
}

/* Appends 'base' in compact form to 's' (malloc()'d, or NULL for empty)
 * and returns the new string. */
static char *
base_type_append(char *s, const struct odb_base_type *base)
{
    const char *name = odb_atomic_type_to_string(base->type);
    char *c = NULL;

    if (base->enum_) {
        c = json_dumps(json_array_get(base->enum_, 1),
                       JSON_COMPACT | JSON_ENCODE_ANY);
        char *t = iovp_xasprintf("%s%s", name, c);
        free(c);
        c = t;
    } else if (base->type == ODB_TYPE_INTEGER
               && (base->min_integer != LLONG_MIN
                   || base->max_integer != LLONG_MAX)) {
        char lo[32] = "", hi[32] = "";
        if (base->min_integer != LLONG_MIN) {
            snprintf(lo, sizeof lo, "%lld", base->min_integer);
        }
        if (base->max_integer != LLONG_MAX) {
            snprintf(hi, sizeof hi, "%lld", base->max_integer);
        }
        c = iovp_xasprintf("%s(%s..%s)", name, lo, hi);
    } else if (base->type == ODB_TYPE_REAL
               && (base->min_real != -DBL_MAX
                   || base->max_real != DBL_MAX)) {
        char lo[32] = "", hi[32] = "";
        if (base->min_real != -DBL_MAX) {
            snprintf(lo, sizeof lo, "%.*g", DBL_DIG, base->min_real);
        }
        if (base->max_real != DBL_MAX) {
            snprintf(hi, sizeof hi, "%.*g", DBL_DIG, base->max_real);
        }
        c = iovp_xasprintf("%s(%s..%s)", name, lo, hi);
    } else if (base->type == ODB_TYPE_STRING
               && (base->min_length || base->max_length != SIZE_MAX)) {
        char lo[32] = "", hi[32] = "";
        if (base->min_length) {
            snprintf(lo, sizeof lo, "%zu", base->min_length);
        }
        if (base->max_length != SIZE_MAX) {
            snprintf(hi, sizeof hi, "%zu", base->max_length);
        }
        c = iovp_xasprintf("%s(length %s..%s)", name, lo, hi);
    } else if (base->type == ODB_TYPE_UUID && base->ref_table) {
        c = iovp_xasprintf("%s(%s%s)", name,
                           base->ref_strong ? "" : "weak ", base->ref_table);
    } else {
        c = iovp_xstrdup(name);
    }

    char *t = iovp_xasprintf("%s%s", s ? s : "", c);
    free(s);
    free(c);
    return t;
}

/* Returns 'type' in a compact form, malloc()'d:
 *
 *   integer                      a scalar
 *   integer?                     0 or 1 atoms
 *   set(1..5) of integer         a set; "*" for "unlimited"
 *   map(0..*) of string=integer  a map
 *
 * with the constraints of a base type after its name: "integer(0..4095)",
 * "real(..2.5)", "string(length 1..)", "string["a","b"]" (an enum),
 * "uuid(Port)" (a strong reference), "uuid(weak Port)". */
char *
odb_type_to_string(const struct odb_type *type)
{
    char *s = NULL;

    if (!odb_type_is_scalar(type) && !odb_type_is_optional_scalar(type)) {
        char max[16] = "*";
        if (type->n_max != UINT_MAX) {
            snprintf(max, sizeof max, "%u", type->n_max);
        }
        s = iovp_xasprintf("%s(%u..%s) of ",
                           odb_type_is_map(type) ? "map" : "set",
                           type->n_min, max);
    }
    s = base_type_append(s, &type->key);
    if (odb_type_is_map(type)) {
        char *t = iovp_xasprintf("%s=", s);
        free(s);
        s = base_type_append(t, &type->value);
    } else if (odb_type_is_optional_scalar(type)) {
        char *t = iovp_xasprintf("%s?", s);
        free(s);
        s = t;
    }
    return s;
}

/* Columns, tables, schemas. */

/* The columns that every table has without declaring them (RFC 7047,
 * section 3.2): each row's UUID and its version. */
#define IMPLICIT_UUID_COLUMN(NAME, EPHEMERAL)                           \
    {                                                                   \
        .name = (char *) NAME,                                          \
        .type = {                                                       \
            .key = {                                                    \
                .type = ODB_TYPE_UUID,                                  \
                .min_integer = LLONG_MIN, .max_integer = LLONG_MAX,     \
                .min_real = -DBL_MAX, .max_real = DBL_MAX,              \
                .max_length = SIZE_MAX, .ref_strong = true,             \
            },                                                          \
            .value = {                                                  \
                .type = ODB_TYPE_VOID,                                  \
                .min_integer = LLONG_MIN, .max_integer = LLONG_MAX,     \
                .min_real = -DBL_MAX, .max_real = DBL_MAX,              \
                .max_length = SIZE_MAX, .ref_strong = true,             \
            },                                                          \
            .n_min = 1, .n_max = 1,                                     \
        },                                                              \
        .ephemeral = EPHEMERAL,                                         \
        .mutable_ = false,                                              \
    }
static const struct odb_column uuid_column
    = IMPLICIT_UUID_COLUMN("_uuid", false);
static const struct odb_column version_column
    = IMPLICIT_UUID_COLUMN("_version", true);

/* Parses 'json' as the column named 'name' into 'column'.  Returns NULL if
 * successful, else a malloc()'d error.  Either way, the caller must
 * eventually free what 'column' owns, with column_destroy(). */
static char *
column_from_json(const json_t *json, const char *name,
                 struct odb_column *column)
{
    static const struct member members[] = {
        {"type", M_STRING | M_OBJECT, true},
        {"ephemeral", M_BOOLEAN, false},
        {"mutable", M_BOOLEAN, false},
    };
    const json_t *m[IOVP_ARRAY_SIZE(members)];

    column->name = iovp_xstrdup(name);
    base_type_init(&column->type.key, ODB_TYPE_VOID);
    base_type_init(&column->type.value, ODB_TYPE_VOID);

    char *error = parse_members(json, members, IOVP_ARRAY_SIZE(members), m);
    if (error) {
        return error;
    }
    column->ephemeral = m[1] && json_is_true(m[1]);
    column->mutable_ = !m[2] || json_is_true(m[2]);
    return odb_type_from_json(m[0], &column->type);
}

/* Frees what 'column' owns. */
static void
column_destroy(struct odb_column *column)
{
    free(column->name);
    odb_type_destroy(&column->type);
}

/* qsort() comparison of two columns by name. */
static int
compare_columns(const void *a_, const void *b_)
{
    const struct odb_column *a = a_;
    const struct odb_column *b = b_;

    return strcmp(a->name, b->name);
}

/* Checks that 'name', a table's or a column's, is an <id> and not one of
 * the reserved names that begin with "_".  Returns NULL if so, else a
 * malloc()'d error. */
static char *
check_name(const char *name)
{
    if (name[0] == '_') {
        return iovp_xasprintf("names beginning with \"_\" are reserved");
    } else if (!is_id(name)) {
        return iovp_xasprintf("name must be an <id> (letters, digits and "
                              "\"_\", not starting with a digit)");
    }
    return NULL;
}

/* Parses 'json', the "indexes" of 'ts' (whose columns are parsed), into
 * ts->indexes.  Returns NULL if successful, else a malloc()'d error. */
static char *
indexes_from_json(const json_t *json, struct odb_table_schema *ts)
{
    size_t n = json_array_size(json);

    ts->indexes = iovp_xzalloc(n * sizeof *ts->indexes);
    for (size_t i = 0; i < n; i++) {
        const json_t *names = json_array_get(json, i);
        struct odb_index *index = &ts->indexes[i];

        ts->n_indexes++;
        if (!json_is_array(names)) {
            return iovp_xasprintf("index %zu is not an array of column "
                                  "names", i);
        } else if (!json_array_size(names)) {
            return iovp_xasprintf("index %zu has no columns", i);
        }
        index->columns = iovp_xmalloc(json_array_size(names)
                                      * sizeof *index->columns);
        for (size_t j = 0; j < json_array_size(names); j++) {
            const json_t *name = json_array_get(names, j);
            const struct odb_column *column;

            if (!json_is_string(name)) {
                return iovp_xasprintf("index %zu is not an array of column "
                                      "names", i);
            }
            column = odb_table_find_column(ts, json_string_value(name));
            if (!column) {
                return iovp_xasprintf("index %zu names unknown column %s",
                                      i, json_string_value(name));
            }
            for (size_t k = 0; k < index->n_columns; k++) {
                if (index->columns[k] == column) {
                    return iovp_xasprintf("index %zu names column %s "
                                          "twice", i, column->name);
                }
            }
            if (column->ephemeral) {
                return iovp_xasprintf("index %zu names column %s, which is "
                                      "ephemeral: ephemeral columns may not "
                                      "be indexed", i, column->name);
            }
            index->columns[index->n_columns++] = column;
        }
    }
    return NULL;
}

/* Frees what 'ts' owns. */
static void
table_destroy(struct odb_table_schema *ts)
{
    free(ts->name);
    for (size_t i = 0; i < ts->n_columns; i++) {
        column_destroy(&ts->columns[i]);
    }
    free(ts->columns);
    for (size_t i = 0; i < ts->n_indexes; i++) {
        free(ts->indexes[i].columns);
    }
    free(ts->indexes);
}

/* Parses 'json' as the table named 'name' into 'ts', as table_from_json()
 * does, except that an error has no prefix.  If the error is in a column,
 * stores the column's name in '*column'. */
static char *
table_from_json__(const json_t *json, const char *name,
                  struct odb_table_schema *ts, const char **column_namep)
{
    static const struct member members[] = {
        {"columns", M_OBJECT, true},
        {"maxRows", M_INTEGER, false},
        {"isRoot", M_BOOLEAN, false},
        {"indexes", M_ARRAY, false},
        {"mutable", M_BOOLEAN, false},
    };
    const json_t *m[IOVP_ARRAY_SIZE(members)];

    memset(ts, 0, sizeof *ts);
    ts->name = iovp_xstrdup(name);
    ts->max_rows = LLONG_MAX;

    char *error = check_name(name);
    if (!error) {
        error = parse_members(json, members, IOVP_ARRAY_SIZE(members), m);
    }
    if (error) {
        return error;
    }
    if (m[1]) {
        ts->max_rows = json_integer_value(m[1]);
        if (ts->max_rows < 1) {
            return iovp_xasprintf("maxRows must be at least 1");
        }
    }
    ts->is_root = m[2] && json_is_true(m[2]);
    ts->mutable_ = !m[4] || json_is_true(m[4]);

    const json_t *columns = m[0];
    if (!json_object_size(columns)) {
        return iovp_xasprintf("must have at least one column");
    }
    ts->columns = iovp_xzalloc(json_object_size(columns)
                               * sizeof *ts->columns);

    const char *column_name;
    const json_t *column_json;
    json_object_foreach ((json_t *) columns, column_name, column_json) {
        struct odb_column *column = &ts->columns[ts->n_columns++];

        error = check_name(column_name);
        if (!error) {
            error = column_from_json(column_json, column_name, column);
        } else {
            column->name = iovp_xstrdup(column_name);
        }
        if (error) {
            *column_namep = column_name;
            return error;
        }
    }
    qsort(ts->columns, ts->n_columns, sizeof *ts->columns, compare_columns);

    return m[3] ? indexes_from_json(m[3], ts) : NULL;
}

/* Parses 'json' as the table named 'name' into 'ts'.  Returns NULL if
 * successful, else a malloc()'d error that begins with "table NAME: " or
 * "table NAME column COLUMN: ".  Either way, the caller must eventually
 * free what 'ts' owns, with table_destroy(). */
static char *
table_from_json(const json_t *json, const char *name,
                struct odb_table_schema *ts)
{
    const char *column_name = NULL;
    char *error = table_from_json__(json, name, ts, &column_name);

    if (error && column_name) {
        return prefix_error(error, "table %s column %s", name, column_name);
    } else if (error) {
        return prefix_error(error, "table %s", name);
    }
    return NULL;
}

/* qsort() comparison of two tables by name. */
static int
compare_tables(const void *a_, const void *b_)
{
    const struct odb_table_schema *a = a_;
    const struct odb_table_schema *b = b_;

    return strcmp(a->name, b->name);
}

/* Returns true if 's' is a version "x.y.z", each part decimal digits. */
static bool
is_version(const char *s)
{
    for (int i = 0; i < 3; i++) {
        if (!isdigit((unsigned char) *s)) {
            return false;
        }
        while (isdigit((unsigned char) *s)) {
            s++;
        }
        if (*s != (i < 2 ? '.' : '\0')) {
            return false;
        }
        s++;
    }
    return true;
}

/* Checks that 'base', of column 'column' in 'schema', refers to a table that
 * exists, if it refers to any, and makes the column persistent if it is a
 * strong reference to a table outside the root set, as ovsdb-server does.
 * Returns NULL if successful, else a malloc()'d error. */
static char *
check_ref_table(const struct odb_schema *schema, struct odb_column *column,
                const struct odb_base_type *base, const char *which)
{
    if (base->type != ODB_TYPE_UUID || !base->ref_table) {
        return NULL;
    }

    const struct odb_table_schema *ref = odb_schema_find_table(
        schema, base->ref_table);
    if (!ref) {
        return iovp_xasprintf("%s refers to undefined table %s",
                              which, base->ref_table);
    }
    if (base->ref_strong && !ref->is_root) {
        column->ephemeral = false;
    }
    return NULL;
}

/* Parses 'json' as a database schema (RFC 7047, section 3.2) into a new
 * odb_schema that it stores in '*schemap' (the caller must eventually
 * destroy it, with odb_schema_destroy()), and returns NULL.  On failure,
 * stores NULL in '*schemap' and returns a malloc()'d error that the caller
 * must free, which begins with where it is: "table Bridge column ports:
 * ...".
 *
 * It checks what ovsdb-server checks: every member known and of its type,
 * table and column names <id>s not starting with "_", types valid, every
 * refTable a table of the schema, indexes naming distinct persistent
 * columns. */
char *
odb_schema_from_json(const json_t *json, struct odb_schema **schemap)
{
    static const struct member members[] = {
        {"name", M_ID, true},
        {"version", M_STRING, false},
        {"cksum", M_STRING, false},
        {"tables", M_OBJECT, true},
    };
    const json_t *m[IOVP_ARRAY_SIZE(members)];
    struct odb_schema *schema = NULL;
    char *error;

    *schemap = NULL;
    error = parse_members(json, members, IOVP_ARRAY_SIZE(members), m);
    if (error) {
        return prefix_error(error, "schema");
    }
    if (m[1] && !is_version(json_string_value(m[1]))) {
        return iovp_xasprintf("schema: version \"%s\" is not in format "
                              "x.y.z", json_string_value(m[1]));
    }

    schema = iovp_xzalloc(sizeof *schema);
    schema->name = iovp_xstrdup(json_string_value(m[0]));
    schema->version = m[1] ? iovp_xstrdup(json_string_value(m[1])) : NULL;
    schema->cksum = m[2] ? iovp_xstrdup(json_string_value(m[2])) : NULL;

    const json_t *tables = m[3];
    schema->tables = iovp_xzalloc(json_object_size(tables)
                                  * sizeof *schema->tables);

    const char *table_name;
    const json_t *table_json;
    json_object_foreach ((json_t *) tables, table_name, table_json) {
        struct odb_table_schema *ts = &schema->tables[schema->n_tables++];

        error = table_from_json(table_json, table_name, ts);
        if (error) {
            goto error;
        }
    }
    qsort(schema->tables, schema->n_tables, sizeof *schema->tables,
          compare_tables);

    /* Schemas from before "isRoot" existed have none: then every table is
     * a root, as RFC 7047 says. */
    bool any_root = false;
    for (size_t i = 0; i < schema->n_tables; i++) {
        any_root |= schema->tables[i].is_root;
    }
    for (size_t i = 0; !any_root && i < schema->n_tables; i++) {
        schema->tables[i].is_root = true;
    }

    for (size_t i = 0; i < schema->n_tables; i++) {
        struct odb_table_schema *ts = &schema->tables[i];

        for (size_t j = 0; j < ts->n_columns; j++) {
            struct odb_column *column = &ts->columns[j];

            error = check_ref_table(schema, column, &column->type.key, "key");
            if (!error) {
                error = check_ref_table(schema, column, &column->type.value,
                                        "value");
            }
            if (error) {
                error = prefix_error(error, "table %s column %s", ts->name,
                                     column->name);
                goto error;
            }
        }
    }

    *schemap = schema;
    return NULL;

error:
    odb_schema_destroy(schema);
    return error;
}

/* Frees 'schema' and everything it owns.  Accepts NULL. */
void
odb_schema_destroy(struct odb_schema *schema)
{
    if (schema) {
        for (size_t i = 0; i < schema->n_tables; i++) {
            table_destroy(&schema->tables[i]);
        }
        free(schema->tables);
        free(schema->name);
        free(schema->version);
        free(schema->cksum);
        free(schema);
    }
}

/* Returns the table named 'name' in 'schema', or NULL if there is none.
 * The table lives as long as 'schema'. */
const struct odb_table_schema *
odb_schema_find_table(const struct odb_schema *schema, const char *name)
{
    size_t lo = 0, hi = schema->n_tables;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(name, schema->tables[mid].name);

        if (!cmp) {
            return &schema->tables[mid];
        } else if (cmp < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return NULL;
}

/* Returns the column named 'name' in 'ts', or NULL if there is none.  Finds
 * the implicit "_uuid" and "_version" columns too (each a uuid, exactly
 * one, immutable; "_version" ephemeral).  The column lives as long as the
 * schema.  A binary search: columns are looked up per row per column. */
const struct odb_column *
odb_table_find_column(const struct odb_table_schema *ts, const char *name)
{
    if (name[0] == '_') {
        return (!strcmp(name, "_uuid") ? &uuid_column
                : !strcmp(name, "_version") ? &version_column
                : NULL);
    }

    size_t lo = 0, hi = ts->n_columns;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(name, ts->columns[mid].name);

        if (!cmp) {
            return &ts->columns[mid];
        } else if (cmp < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return NULL;
}
