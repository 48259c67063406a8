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

#include "ovsdb/idl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/shash.h>
#include <openvswitch/util.h>
#include <openvswitch/vlog.h>

#include "lib/util.h"
#include "ovsdb/replica.h"

VLOG_DEFINE_THIS_MODULE(idl);

static bool odb_idl_store_takes(void *, const struct odb_replica *, size_t,
                                size_t);
static void odb_idl_store_get(void *, const struct odb_replica *, size_t,
                              const char *, json_t **);
static void odb_idl_store_commit(void *, const struct odb_replica *,
                                 const struct odb_change *, size_t);
static bool odb_idl_store_has(void *, const struct odb_replica *, size_t,
                              const char *);
static size_t odb_idl_store_count(void *, const struct odb_replica *,
                                  size_t);
static const char **odb_idl_store_list(void *, const struct odb_replica *,
                                       size_t, size_t *);
static void odb_idl_free_dead(struct odb_idl *);

/* One atom as decoded, before it goes into a row's typed members. */
union odb_idl_atom {
    int64_t integer;
    double real;
    bool boolean;
    char *string;               /* Strings and uuids' text, owned. */
};

/* A decoded value: 'n' keys and, for a map, 'n' values.
 *
 * In 'row->refs', the value of a column with references, as the server
 * sent it.  Of a column whose references are its keys (a reference, or a
 * set of them), once every one resolved, the text is dropped and
 * 'by_pointers' set: the row's pointers, to rows that know their UUIDs,
 * are the value (an ACL's thousand entries, 56 bytes each). */
struct odb_idl_datum {
    union odb_idl_atom *keys;
    union odb_idl_atom *values;
    size_t n;
    bool by_pointers;
};

/* A table of the model. */
struct odb_idl_table {
    const struct odb_idl_table_class *class_;
    size_t index;
    struct hmap rows;           /* Live rows, by UUID. */
    struct ovs_list track;      /* Tracked rows, live or deleted. */
    bool has_refs;              /* A column resolves references. */
    uint64_t referrers;         /* Bit N: table N has references to it. */
    size_t n_unresolved;        /* Rows with 'unresolved'. */

    /* Where the replica last seen has it: its table index, or -1, and
     * for each column, the replica's column index, or -1. */
    int replica_table;
    int *replica_columns;

    bool inserted;              /* This update inserted a row. */
    bool dangling;              /* This update deleted a referred row. */
};

struct odb_idl {
    const struct odb_idl_class *class_;
    struct odb_idl_table *tables;
    struct odb_store store;     /* What a replica calls. */
    unsigned long long int serial;  /* Of the replica last seen, or 0.  Not
                                     * its address: a replica freed and
                                     * another made at its address is a
                                     * new one. */
    struct odb_idl_table **by_replica;  /* The replica's tables' tables. */
    size_t n_by_replica;
    bool reloaded;
    struct ovs_list dead;       /* Deleted rows no longer tracked, freed by
                                 * the next batch. */

    /* Rows to resolve in the current update. */
    struct odb_idl_row **pending;
    size_t n_pending, allocated_pending;
};


static bool
odb_idl_base_is_ref(const struct odb_idl_base *base)
{
    return base->type == ODB_TYPE_UUID && base->ref_table >= 0;
}

static bool
odb_idl_column_has_refs(const struct odb_idl_column *c)
{
    return odb_idl_base_is_ref(&c->key) || odb_idl_base_is_ref(&c->value);
}

static bool
odb_idl_column_is_map(const struct odb_idl_column *c)
{
    return c->value.type != ODB_TYPE_VOID;
}

/* Returns how column 'c' is held in its row's struct. */
enum odb_idl_layout
odb_idl_column_layout(const struct odb_idl_column *c)
{
    if (odb_idl_column_is_map(c) || c->n_max > 1) {
        return ODB_IDL_ARRAY;
    }
    switch (c->key.type) {
    case ODB_TYPE_STRING:
    case ODB_TYPE_UUID:
        return ODB_IDL_POINTER;
    case ODB_TYPE_INTEGER:
    case ODB_TYPE_REAL:
    case ODB_TYPE_BOOLEAN:
    case ODB_TYPE_VOID:
    case ODB_N_ATOMIC_TYPES:
    default:
        return c->n_min == 1 ? ODB_IDL_INLINE : ODB_IDL_OPTIONAL;
    }
}

/* The size of one element of an array of 'base' atoms in a row. */
static size_t
odb_idl_elem_size(const struct odb_idl_base *base)
{
    switch (base->type) {
    case ODB_TYPE_INTEGER:
        return sizeof(int64_t);
    case ODB_TYPE_REAL:
        return sizeof(double);
    case ODB_TYPE_BOOLEAN:
        return sizeof(bool);
    case ODB_TYPE_STRING:
        return sizeof(char *);
    case ODB_TYPE_UUID:
        return odb_idl_base_is_ref(base) ? sizeof(void *) : sizeof(char *);
    case ODB_TYPE_VOID:
    case ODB_N_ATOMIC_TYPES:
    default:
        abort();
    }
}

/* Stores 'atom' of type 'base' (not a reference) at 'dst'. */
static void
odb_idl_atom_store(const struct odb_idl_base *base,
                   const union odb_idl_atom *atom, void *dst)
{
    switch (base->type) {
    case ODB_TYPE_INTEGER:
        memcpy(dst, &atom->integer, sizeof atom->integer);
        break;
    case ODB_TYPE_REAL:
        memcpy(dst, &atom->real, sizeof atom->real);
        break;
    case ODB_TYPE_BOOLEAN:
        memcpy(dst, &atom->boolean, sizeof atom->boolean);
        break;
    case ODB_TYPE_STRING:
    case ODB_TYPE_UUID:
        memcpy(dst, &atom->string, sizeof atom->string);
        break;
    case ODB_TYPE_VOID:
    case ODB_N_ATOMIC_TYPES:
    default:
        abort();
    }
}

static bool
odb_idl_base_has_strings(const struct odb_idl_base *base)
{
    return base->type == ODB_TYPE_STRING || base->type == ODB_TYPE_UUID;
}

/* The strings of the models' rows, each held once with a count of its
 * users: rows share many of them (an ACL entry's direction, action,
 * ethertype and masks, a port's options), and consumers that keep one
 * take a use of it (odb_idl_string_ref()).  A uuid's text, nearly always
 * distinct, is a copy of its own. */
struct odb_idl_string {
    struct hmap_node node;      /* In 'odb_idl_strings', by content. */
    size_t n_users;
    char s[];
};

static struct hmap odb_idl_strings = HMAP_INITIALIZER(&odb_idl_strings);

/* Returns the shared copy of 's', with one more user. */
const char *
odb_idl_string_ref(const char *s)
{
    uint32_t hash = iovp_hash_string64(s);
    struct odb_idl_string *is;
    HMAP_FOR_EACH_WITH_HASH (is, node, hash, &odb_idl_strings) {
        if (!strcmp(is->s, s)) {
            is->n_users++;
            return is->s;
        }
    }

    size_t len = strlen(s);
    is = iovp_xmalloc(sizeof *is + len + 1);
    memcpy(is->s, s, len + 1);
    is->n_users = 1;
    hmap_insert(&odb_idl_strings, &is->node, hash);
    return is->s;
}

/* Releases a use of 's', which odb_idl_string_ref() returned.  Accepts
 * NULL. */
void
odb_idl_string_unref(const char *s)
{
    if (!s) {
        return;
    }

    struct odb_idl_string *is = CONTAINER_OF(s, struct odb_idl_string, s);
    if (!--is->n_users) {
        hmap_remove(&odb_idl_strings, &is->node);
        free(is);
        if (hmap_is_empty(&odb_idl_strings)) {
            hmap_destroy(&odb_idl_strings);
            hmap_init(&odb_idl_strings);
        }
    }
}

/* Returns 's' as an atom of type 'base' (a string or a uuid) holds it,
 * for odb_idl_string_free(). */
static char *
odb_idl_string_new(const struct odb_idl_base *base, const char *s)
{
    return (base->type == ODB_TYPE_STRING
            ? CONST_CAST(char *, odb_idl_string_ref(s)) : iovp_xstrdup(s));
}

/* Releases 's', which odb_idl_string_new() returned for 'base'.  Accepts
 * NULL. */
static void
odb_idl_string_free(const struct odb_idl_base *base, char *s)
{
    if (base->type == ODB_TYPE_STRING) {
        odb_idl_string_unref(s);
    } else {
        free(s);
    }
}

static void
odb_idl_datum_destroy(const struct odb_idl_column *c,
                      struct odb_idl_datum *d)
{
    for (size_t i = 0; i < d->n; i++) {
        if (odb_idl_base_has_strings(&c->key)) {
            odb_idl_string_free(&c->key, d->keys[i].string);
        }
        if (d->values && odb_idl_base_has_strings(&c->value)) {
            odb_idl_string_free(&c->value, d->values[i].string);
        }
    }
    free(d->keys);
    free(d->values);
    memset(d, 0, sizeof *d);
}

/* Decodes 'json', an atom of type 'base', into '*atom'.  Returns false if
 * it is not one. */
static bool
odb_idl_atom_decode(const struct odb_idl_base *base, const json_t *json,
                    union odb_idl_atom *atom)
{
    switch (base->type) {
    case ODB_TYPE_INTEGER:
        if (!json_is_integer(json)) {
            return false;
        }
        atom->integer = json_integer_value(json);
        return true;
    case ODB_TYPE_REAL:
        if (!json_is_real(json)) {
            return false;
        }
        atom->real = json_real_value(json);
        return true;
    case ODB_TYPE_BOOLEAN:
        if (!json_is_boolean(json)) {
            return false;
        }
        atom->boolean = json_is_true(json);
        return true;
    case ODB_TYPE_STRING:
        if (!json_is_string(json)) {
            return false;
        }
        atom->string = odb_idl_string_new(base, json_string_value(json));
        return true;
    case ODB_TYPE_UUID: {
        const json_t *tag = json_array_get(json, 0);
        const json_t *text = json_array_get(json, 1);
        if (json_array_size(json) != 2 || !json_is_string(tag)
            || strcmp(json_string_value(tag), "uuid")
            || !json_is_string(text) || json_string_length(text) != 36) {
            return false;
        }
        atom->string = odb_idl_string_new(base, json_string_value(text));
        return true;
    }
    case ODB_TYPE_VOID:
    case ODB_N_ATOMIC_TYPES:
    default:
        return false;
    }
}

/* Returns the elements of 'json' if it is a tagged ["TAG", [...]], else
 * NULL. */
static const json_t *
odb_idl_tagged(const json_t *json, const char *tag)
{
    const json_t *t = json_array_get(json, 0);
    const json_t *elems = json_array_get(json, 1);

    return (json_array_size(json) == 2 && json_is_string(t)
            && !strcmp(json_string_value(t), tag) && json_is_array(elems)
            ? elems : NULL);
}

/* Decodes 'json', a value of column 'c', which holds at most one atom and
 * no reference, into '*atom', with in '*n' whether there is one: what
 * odb_idl_datum_decode() does, without the datum's arrays, for the columns
 * that most rows have most of.  Returns false if it does not fit the
 * column's type. */
static bool
odb_idl_scalar_decode(const struct odb_idl_column *c, const json_t *json,
                      union odb_idl_atom *atom, size_t *n)
{
    const json_t *elems = odb_idl_tagged(json, "set");

    *n = elems ? json_array_size(elems) : 1;
    return (*n >= c->n_min && *n <= c->n_max
            && (!*n || odb_idl_atom_decode(&c->key,
                                           elems ? json_array_get(elems, 0)
                                           : json, atom)));
}

/* Decodes 'json', a value of column 'c', into 'd'.  Returns false, with
 * 'd' empty, if it does not fit the column's type. */
static bool
odb_idl_datum_decode(const struct odb_idl_column *c, const json_t *json,
                     struct odb_idl_datum *d)
{
    bool is_map = odb_idl_column_is_map(c);
    const json_t *elems;
    size_t n;

    memset(d, 0, sizeof *d);
    if (is_map) {
        elems = odb_idl_tagged(json, "map");
        if (!elems) {
            return false;
        }
        n = json_array_size(elems);
    } else {
        elems = odb_idl_tagged(json, "set");
        n = elems ? json_array_size(elems) : 1;
    }
    if (n < c->n_min || n > c->n_max) {
        return false;
    }
    d->keys = iovp_xmalloc(MAX(n, 1) * sizeof *d->keys);
    if (is_map) {
        d->values = iovp_xmalloc(MAX(n, 1) * sizeof *d->values);
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *key = elems ? json_array_get(elems, i) : json;
        const json_t *value = NULL;

        if (is_map) {
            if (json_array_size(key) != 2) {
                goto error;
            }
            value = json_array_get(key, 1);
            key = json_array_get(key, 0);
        }
        if (!odb_idl_atom_decode(&c->key, key, &d->keys[i])) {
            goto error;
        }
        if (is_map && !odb_idl_atom_decode(&c->value, value, &d->values[i])) {
            if (odb_idl_base_has_strings(&c->key)) {
                odb_idl_string_free(&c->key, d->keys[i].string);
            }
            goto error;
        }
        d->n++;
    }
    return true;

error:
    odb_idl_datum_destroy(c, d);
    return false;
}

/* Sets 'd' to column 'c''s default: nothing, or for a column of exactly
 * one atom, 0, 0.0, false, "" or the all-zeros uuid. */
static void
odb_idl_datum_default(const struct odb_idl_column *c,
                      struct odb_idl_datum *d)
{
    memset(d, 0, sizeof *d);
    if (c->n_min > 0) {
        d->n = 1;
        d->keys = iovp_xzalloc(sizeof *d->keys);
        if (odb_idl_base_has_strings(&c->key)) {
            d->keys[0].string = odb_idl_string_new(
                &c->key, c->key.type == ODB_TYPE_STRING
                ? "" : "00000000-0000-0000-0000-000000000000");
        }
        if (odb_idl_column_is_map(c)) {
            d->values = iovp_xzalloc(sizeof *d->values);
            if (odb_idl_base_has_strings(&c->value)) {
                d->values[0].string = odb_idl_string_new(
                    &c->value, c->value.type == ODB_TYPE_STRING
                    ? "" : "00000000-0000-0000-0000-000000000000");
            }
        }
    }
}

static void *
odb_idl_member(struct odb_idl_row *row, size_t offset)
{
    return (char *) row + offset;
}

/* Frees what the members of column 'c' of 'row' hold, and empties them.
 * For a column with references, the strings in the members belong to
 * 'row->refs'. */
static void
odb_idl_column_clear(struct odb_idl_row *row, const struct odb_idl_column *c,
                     size_t ci)
{
    bool refs = odb_idl_column_has_refs(c);

    switch (odb_idl_column_layout(c)) {
    case ODB_IDL_INLINE:
        memset(odb_idl_member(row, c->offset), 0, odb_idl_elem_size(&c->key));
        break;
    case ODB_IDL_OPTIONAL:
        memset(odb_idl_member(row, c->offset), 0, odb_idl_elem_size(&c->key));
        *(uint8_t *) odb_idl_member(row, c->n_offset) = 0;
        break;
    case ODB_IDL_POINTER: {
        void **p = odb_idl_member(row, c->offset);
        if (!refs) {
            odb_idl_string_free(&c->key, *p);
        }
        *p = NULL;
        break;
    }
    case ODB_IDL_ARRAY: {
        void **keys = odb_idl_member(row, c->offset);
        void **values = (odb_idl_column_is_map(c)
                         ? odb_idl_member(row, c->value_offset) : NULL);
        size_t *n = odb_idl_member(row, c->n_offset);

        if (!refs) {
            for (size_t i = 0; i < *n; i++) {
                if (odb_idl_base_has_strings(&c->key)) {
                    odb_idl_string_free(&c->key, ((char **) *keys)[i]);
                }
                if (values && odb_idl_base_has_strings(&c->value)) {
                    odb_idl_string_free(&c->value, ((char **) *values)[i]);
                }
            }
        }
        free(*keys);
        *keys = NULL;
        if (values) {
            free(*values);
            *values = NULL;
        }
        *n = 0;
        break;
    }
    }
    if (refs) {
        odb_idl_datum_destroy(c, &row->refs[ci]);
    }
}

/* Moves 'atom' (NULL for none), a value of column 'c' of 'row', which holds
 * at most one atom and no reference, into its members. */
static void
odb_idl_scalar_store(struct odb_idl_row *row, const struct odb_idl_column *c,
                     const union odb_idl_atom *atom)
{
    if (atom) {
        odb_idl_atom_store(&c->key, atom, odb_idl_member(row, c->offset));
    }
    if (odb_idl_column_layout(c) == ODB_IDL_OPTIONAL) {
        *(uint8_t *) odb_idl_member(row, c->n_offset) = atom != NULL;
    }
}

/* Moves the atoms of 'd' (strings and all) into the members of column 'c'
 * of 'row', which has no references, and frees what is left of 'd'. */
static void
odb_idl_column_store(struct odb_idl_row *row, const struct odb_idl_column *c,
                     struct odb_idl_datum *d)
{
    switch (odb_idl_column_layout(c)) {
    case ODB_IDL_INLINE:
    case ODB_IDL_POINTER:
    case ODB_IDL_OPTIONAL:
        odb_idl_scalar_store(row, c, d->n ? &d->keys[0] : NULL);
        break;
    case ODB_IDL_ARRAY: {
        size_t ksize = odb_idl_elem_size(&c->key);
        char *keys = d->n ? iovp_xmalloc(d->n * ksize) : NULL;
        char *values = NULL;

        for (size_t i = 0; i < d->n; i++) {
            odb_idl_atom_store(&c->key, &d->keys[i], keys + i * ksize);
        }
        if (odb_idl_column_is_map(c)) {
            size_t vsize = odb_idl_elem_size(&c->value);
            values = d->n ? iovp_xmalloc(d->n * vsize) : NULL;
            for (size_t i = 0; i < d->n; i++) {
                odb_idl_atom_store(&c->value, &d->values[i],
                                   values + i * vsize);
            }
            *(void **) odb_idl_member(row, c->value_offset) = values;
        }
        *(void **) odb_idl_member(row, c->offset) = keys;
        *(size_t *) odb_idl_member(row, c->n_offset) = d->n;
        break;
    }
    }
    free(d->keys);
    free(d->values);
    memset(d, 0, sizeof *d);
}

static struct odb_idl_row *
odb_idl_find(const struct odb_idl_table *t, const char *uuid)
{
    struct odb_idl_row *row;

    HMAP_FOR_EACH_WITH_HASH (row, hmap_node, odb_uuid_hash(uuid), &t->rows) {
        if (!strcmp(row->uuid, uuid)) {
            return row;
        }
    }
    return NULL;
}

/* Whether the references of column 'c' are its keys alone (see "struct
 * odb_idl_datum"). */
static bool
odb_idl_column_refs_are_keys(const struct odb_idl_column *c)
{
    return odb_idl_base_is_ref(&c->key) && !odb_idl_column_is_map(c);
}

/* Returns the rows that column 'c' of 'row', whose references are its
 * keys, points to, in its order, and their number in '*n'. */
static struct odb_idl_row *const *
odb_idl_column_targets(const struct odb_idl_row *row_,
                       const struct odb_idl_column *c, size_t *n)
{
    struct odb_idl_row *row = CONST_CAST(struct odb_idl_row *, row_);

    if (odb_idl_column_layout(c) == ODB_IDL_POINTER) {
        struct odb_idl_row **target = odb_idl_member(row, c->offset);
        *n = *target != NULL;
        return target;
    }
    *n = *(size_t *) odb_idl_member(row, c->n_offset);
    return *(struct odb_idl_row ***) odb_idl_member(row, c->offset);
}

/* Decodes column number 'ci' of 'row' from 'json' (NULL if the replica
 * does not have it), replacing what it held. */
static void
odb_idl_column_decode(struct odb_idl_row *row, size_t ci, const json_t *json)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    const struct odb_idl_table_class *tc = row->table->class_;
    const struct odb_idl_column *c = &tc->columns[ci];
    struct odb_idl_datum d;

    if (json && !odb_idl_column_has_refs(c)
        && odb_idl_column_layout(c) != ODB_IDL_ARRAY) {
        union odb_idl_atom atom;
        size_t n;

        if (odb_idl_scalar_decode(c, json, &atom, &n)) {
            odb_idl_column_clear(row, c, ci);
            odb_idl_scalar_store(row, c, n ? &atom : NULL);
            return;
        }
    }

    if (!json) {
        odb_idl_datum_default(c, &d);
    } else if (!odb_idl_datum_decode(c, json, &d)) {
        char *s = json_dumps(json, JSON_ENCODE_ANY | JSON_COMPACT);
        VLOG_WARN_RL(&rl, "%s row %s: column %s: %s does not fit the "
                     "column's type; using its default", tc->name, row->uuid,
                     c->name, s ? s : "(null)");
        free(s);
        odb_idl_datum_default(c, &d);
    }
    if (odb_idl_column_has_refs(c)) {
        /* Resolved later, once the whole batch is decoded.  The members
         * keep the old pointers until then, so that the rows they point
         * to can be counted down; their strings, borrowed from the old
         * value, are not read before. */
        odb_idl_datum_destroy(c, &row->refs[ci]);
        row->refs[ci] = d;
    } else {
        odb_idl_column_clear(row, c, ci);
        odb_idl_column_store(row, c, &d);
    }
}

/* Loads into '*atom' the atom of type 'base' (not a reference) at 'src'. */
static void
odb_idl_atom_load(const struct odb_idl_base *base, const void *src,
                  union odb_idl_atom *atom)
{
    switch (base->type) {
    case ODB_TYPE_INTEGER:
        memcpy(&atom->integer, src, sizeof atom->integer);
        break;
    case ODB_TYPE_REAL:
        memcpy(&atom->real, src, sizeof atom->real);
        break;
    case ODB_TYPE_BOOLEAN:
        memcpy(&atom->boolean, src, sizeof atom->boolean);
        break;
    case ODB_TYPE_STRING:
    case ODB_TYPE_UUID:
        memcpy(&atom->string, src, sizeof atom->string);
        break;
    case ODB_TYPE_VOID:
    case ODB_N_ATOMIC_TYPES:
    default:
        abort();
    }
}

static json_t *
odb_idl_atom_encode(const struct odb_idl_base *base,
                    const union odb_idl_atom *atom)
{
    switch (base->type) {
    case ODB_TYPE_INTEGER:
        return json_integer(atom->integer);
    case ODB_TYPE_REAL:
        return json_real(atom->real);
    case ODB_TYPE_BOOLEAN:
        return json_boolean(atom->boolean);
    case ODB_TYPE_STRING:
        return json_string(atom->string);
    case ODB_TYPE_UUID:
        return json_pack("[s, s]", "uuid", atom->string);
    case ODB_TYPE_VOID:
    case ODB_N_ATOMIC_TYPES:
    default:
        abort();
    }
}

/* Returns true if every value of a column of 'type' (a server's) fits
 * column 'c': decodes into it, and encodes back the same. */
static bool
odb_idl_column_fits(const struct odb_idl_column *c,
                    const struct odb_type *type)
{
    return (c->key.type == type->key.type
            && c->value.type == type->value.type
            && type->n_min >= c->n_min && type->n_max <= c->n_max);
}

/* Returns the value of column 'ci' of 'row', in the canonical form
 * (ovsdb/datum.h) of a column of 'type', which the column fits.  A
 * reference is encoded as the server sent it, resolved or not. */
static json_t *
odb_idl_column_encode(const struct odb_idl_row *row_, size_t ci,
                      const struct odb_type *type)
{
    struct odb_idl_row *row = CONST_CAST(struct odb_idl_row *, row_);
    const struct odb_idl_column *c = &row->table->class_->columns[ci];
    bool is_map = odb_idl_column_is_map(c);
    json_t *elems = json_array();
    union odb_idl_atom key, value;

    if (odb_idl_column_has_refs(c) && row->refs[ci].by_pointers) {
        size_t n;
        struct odb_idl_row *const *targets = odb_idl_column_targets(row, c,
                                                                    &n);
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(elems, odb_idl_row_uuid(targets[i]));
        }
    } else if (odb_idl_column_has_refs(c)) {
        const struct odb_idl_datum *d = &row->refs[ci];
        for (size_t i = 0; i < d->n; i++) {
            json_t *k = odb_idl_atom_encode(&c->key, &d->keys[i]);
            json_array_append_new(elems, (is_map
                                          ? json_pack("[o, o]", k,
                                                      odb_idl_atom_encode(
                                                          &c->value,
                                                          &d->values[i]))
                                          : k));
        }
    } else {
        switch (odb_idl_column_layout(c)) {
        case ODB_IDL_INLINE:
            odb_idl_atom_load(&c->key, odb_idl_member(row, c->offset), &key);
            json_array_append_new(elems, odb_idl_atom_encode(&c->key, &key));
            break;
        case ODB_IDL_OPTIONAL:
            if (*(uint8_t *) odb_idl_member(row, c->n_offset)) {
                odb_idl_atom_load(&c->key, odb_idl_member(row, c->offset),
                                  &key);
                json_array_append_new(elems,
                                      odb_idl_atom_encode(&c->key, &key));
            }
            break;
        case ODB_IDL_POINTER:
            key.string = *(char **) odb_idl_member(row, c->offset);
            if (key.string) {
                json_array_append_new(elems,
                                      odb_idl_atom_encode(&c->key, &key));
            }
            break;
        case ODB_IDL_ARRAY: {
            const char *keys = *(void **) odb_idl_member(row, c->offset);
            const char *values = (is_map
                                  ? *(void **) odb_idl_member(
                                      row, c->value_offset)
                                  : NULL);
            size_t n = *(size_t *) odb_idl_member(row, c->n_offset);
            size_t ksize = odb_idl_elem_size(&c->key);
            size_t vsize = is_map ? odb_idl_elem_size(&c->value) : 0;

            for (size_t i = 0; i < n; i++) {
                odb_idl_atom_load(&c->key, keys + i * ksize, &key);
                json_t *k = odb_idl_atom_encode(&c->key, &key);
                if (is_map) {
                    odb_idl_atom_load(&c->value, values + i * vsize, &value);
                    k = json_pack("[o, o]", k,
                                  odb_idl_atom_encode(&c->value, &value));
                }
                json_array_append_new(elems, k);
            }
            break;
        }
        }
    }

    if (!is_map && type->n_max == 1 && json_array_size(elems) == 1) {
        json_t *atom = json_incref(json_array_get(elems, 0));
        json_decref(elems);
        return atom;
    }
    return json_pack("[s, o]", is_map ? "map" : "set", elems);
}

/* Adds 'row' to its table's tracked rows, if it is not there yet. */
static void
odb_idl_track(struct odb_idl_row *row)
{
    if (!row->tracked) {
        row->tracked = true;
        ovs_list_push_back(&row->table->track, &row->track_node);
    }
}

static void
odb_idl_add_pending(struct odb_idl *idl, struct odb_idl_row *row)
{
    if (row->pending) {
        return;
    }
    row->pending = true;
    if (idl->n_pending >= idl->allocated_pending) {
        idl->allocated_pending = MAX(64, 2 * idl->allocated_pending);
        idl->pending = iovp_xrealloc(idl->pending, idl->allocated_pending
                                     * sizeof *idl->pending);
    }
    idl->pending[idl->n_pending++] = row;
}

/* Returns the row that 'uuid' names in table 'ti' of 'idl', or NULL. */
static struct odb_idl_row *
odb_idl_lookup(const struct odb_idl *idl, int ti, const char *uuid)
{
    return ti >= 0 ? odb_idl_find(&idl->tables[ti], uuid) : NULL;
}

/* Counts one pointer more ('delta' 1) or less (-1) to each row that the
 * reference members of 'row' point to. */
static void
odb_idl_row_count_refs(struct odb_idl_row *row, int delta)
{
    const struct odb_idl_table_class *tc = row->table->class_;

    if (!row->refs) {
        return;
    }
    for (size_t ci = 0; ci < tc->n_columns; ci++) {
        const struct odb_idl_column *c = &tc->columns[ci];

        if (!odb_idl_column_has_refs(c)) {
            continue;
        }
        if (odb_idl_column_layout(c) == ODB_IDL_POINTER) {
            struct odb_idl_row *target
                = *(void **) odb_idl_member(row, c->offset);
            if (target) {
                target->n_refs += delta;
            }
            continue;
        }
        size_t n = *(size_t *) odb_idl_member(row, c->n_offset);
        void **arrays[2] = {
            odb_idl_base_is_ref(&c->key)
            ? odb_idl_member(row, c->offset) : NULL,
            odb_idl_base_is_ref(&c->value)
            ? odb_idl_member(row, c->value_offset) : NULL,
        };
        for (size_t a = 0; a < 2; a++) {
            if (arrays[a]) {
                struct odb_idl_row **targets = *arrays[a];
                for (size_t i = 0; i < n; i++) {
                    targets[i]->n_refs += delta;
                }
            }
        }
    }
}

/* Makes 'row->refs[ci]', if its text was dropped, the text of the rows
 * that the row's pointers point to again (they are readable: no pointer
 * in the model points to a freed row). */
static void
odb_idl_datum_restore(struct odb_idl_row *row, const struct odb_idl_column *c,
                      size_t ci)
{
    struct odb_idl_datum *d = &row->refs[ci];

    if (d->by_pointers) {
        size_t n;
        struct odb_idl_row *const *targets = odb_idl_column_targets(row, c,
                                                                    &n);
        d->by_pointers = false;
        d->n = n;
        d->keys = n ? iovp_xmalloc(n * sizeof *d->keys) : NULL;
        for (size_t i = 0; i < n; i++) {
            d->keys[i].string = iovp_xstrdup(targets[i]->uuid);
        }
    }
}

/* Resolves the references of column 'c' of 'row' from 'row->refs[ci]',
 * replacing what its members held, and drops the text if it can.  Returns
 * true if a reference could not be resolved. */
static bool
odb_idl_column_resolve(const struct odb_idl *idl, struct odb_idl_row *row,
                       const struct odb_idl_column *c, size_t ci)
{
    const struct odb_idl_datum *d = &row->refs[ci];
    bool unresolved = false;

    if (odb_idl_column_layout(c) == ODB_IDL_POINTER) {
        struct odb_idl_row *target = NULL;
        if (d->n) {
            target = odb_idl_lookup(idl, c->key.ref_table,
                                    d->keys[0].string);
            unresolved = !target;
        }
        *(void **) odb_idl_member(row, c->offset) = target;
        goto done;
    }

    bool is_map = odb_idl_column_is_map(c);
    size_t ksize = odb_idl_elem_size(&c->key);
    size_t vsize = is_map ? odb_idl_elem_size(&c->value) : 0;
    void **keysp = odb_idl_member(row, c->offset);
    void **valuesp = is_map ? odb_idl_member(row, c->value_offset) : NULL;
    char *keys = d->n ? iovp_xmalloc(d->n * ksize) : NULL;
    char *values = is_map && d->n ? iovp_xmalloc(d->n * vsize) : NULL;
    size_t n = 0;

    for (size_t i = 0; i < d->n; i++) {
        struct odb_idl_row *key = NULL, *value = NULL;

        if (odb_idl_base_is_ref(&c->key)) {
            key = odb_idl_lookup(idl, c->key.ref_table, d->keys[i].string);
            if (!key) {
                unresolved = true;
                continue;
            }
        }
        if (is_map && odb_idl_base_is_ref(&c->value)) {
            value = odb_idl_lookup(idl, c->value.ref_table,
                                   d->values[i].string);
            if (!value) {
                unresolved = true;
                continue;
            }
        }
        /* Strings are borrowed from 'row->refs'. */
        if (key) {
            memcpy(keys + n * ksize, &key, sizeof key);
        } else {
            odb_idl_atom_store(&c->key, &d->keys[i], keys + n * ksize);
        }
        if (value) {
            memcpy(values + n * vsize, &value, sizeof value);
        } else if (is_map) {
            odb_idl_atom_store(&c->value, &d->values[i], values + n * vsize);
        }
        n++;
    }
    free(*keysp);
    *keysp = keys;
    if (valuesp) {
        free(*valuesp);
        *valuesp = values;
    }
    *(size_t *) odb_idl_member(row, c->n_offset) = n;

done:
    if (!unresolved && odb_idl_column_refs_are_keys(c)) {
        odb_idl_datum_destroy(c, &row->refs[ci]);
        row->refs[ci].by_pointers = true;
    }
    return unresolved;
}

/* Resolves every reference of 'row' again.  Returns the bits of the
 * columns whose pointers changed. */
static uint64_t
odb_idl_row_resolve(struct odb_idl *idl, struct odb_idl_row *row)
{
    const struct odb_idl_table_class *tc = row->table->class_;
    struct odb_idl_table *t = row->table;
    bool unresolved = false;
    uint64_t changed = 0;

    if (!row->refs) {
        return 0;
    }
    odb_idl_row_count_refs(row, -1);
    for (size_t ci = 0; ci < tc->n_columns; ci++) {
        const struct odb_idl_column *c = &tc->columns[ci];

        if (!odb_idl_column_has_refs(c)) {
            continue;
        }
        odb_idl_datum_restore(row, c, ci);

        void **keysp = odb_idl_member(row, c->offset);
        void *old_keys = *keysp;
        if (odb_idl_column_layout(c) == ODB_IDL_POINTER) {
            unresolved |= odb_idl_column_resolve(idl, row, c, ci);
            if (*keysp != old_keys) {
                changed |= UINT64_C(1) << ci;
            }
            continue;
        }

        /* An array: keep the old ones to compare with. */
        bool is_map = odb_idl_column_is_map(c);
        void **valuesp = is_map ? odb_idl_member(row, c->value_offset) : NULL;
        void *old_values = valuesp ? *valuesp : NULL;
        size_t *np = odb_idl_member(row, c->n_offset);
        size_t old_n = *np;

        *keysp = NULL;
        if (valuesp) {
            *valuesp = NULL;
        }
        unresolved |= odb_idl_column_resolve(idl, row, c, ci);
        if (*np != old_n
            || (old_n && memcmp(*keysp, old_keys,
                                old_n * odb_idl_elem_size(&c->key)))
            || (old_n && is_map
                && memcmp(*valuesp, old_values,
                          old_n * odb_idl_elem_size(&c->value)))) {
            changed |= UINT64_C(1) << ci;
        }
        free(old_keys);
        free(old_values);
    }
    odb_idl_row_count_refs(row, 1);
    if (unresolved != row->unresolved) {
        row->unresolved = unresolved;
        if (unresolved) {
            t->n_unresolved++;
        } else {
            t->n_unresolved--;
        }
    }
    return changed;
}

/* Frees 'row' and everything it holds. */
static void
odb_idl_row_destroy(struct odb_idl_row *row)
{
    const struct odb_idl_table_class *tc = row->table->class_;

    for (size_t ci = 0; ci < tc->n_columns; ci++) {
        odb_idl_column_clear(row, &tc->columns[ci], ci);
    }
    free(row->refs);
    free(row);
}

/* Returns a new row of table 't' with 'uuid', all columns empty, in its
 * table. */
static struct odb_idl_row *
odb_idl_row_create(struct odb_idl_table *t, const char *uuid)
{
    const struct odb_idl_table_class *tc = t->class_;
    struct odb_idl_row *row = iovp_xzalloc(tc->row_size);

    row->table = t;
    snprintf(row->uuid, sizeof row->uuid, "%s", uuid);
    if (t->has_refs) {
        row->refs = iovp_xzalloc(tc->n_columns * sizeof *row->refs);
    }
    hmap_insert(&t->rows, &row->hmap_node, odb_uuid_hash(row->uuid));
    return row;
}

/* Creates and returns a model of a database of 'class', empty. */
struct odb_idl *
odb_idl_create(const struct odb_idl_class *class)
{
    struct odb_idl *idl = iovp_xzalloc(sizeof *idl);

    ovs_assert(class->n_tables <= 64);
    idl->class_ = class;
    idl->store = (struct odb_store) {
        .takes = odb_idl_store_takes,
        .get = odb_idl_store_get,
        .commit = odb_idl_store_commit,
        .has = odb_idl_store_has,
        .count = odb_idl_store_count,
        .list = odb_idl_store_list,
        .aux = idl,
    };
    ovs_list_init(&idl->dead);
    idl->tables = iovp_xzalloc(MAX(1, class->n_tables) * sizeof *idl->tables);
    for (size_t i = 0; i < class->n_tables; i++) {
        struct odb_idl_table *t = &idl->tables[i];

        t->class_ = &class->tables[i];
        t->index = i;
        hmap_init(&t->rows);
        ovs_list_init(&t->track);
        t->replica_table = -1;
        t->replica_columns = iovp_xmalloc(MAX(1, t->class_->n_columns)
                                          * sizeof *t->replica_columns);
        ovs_assert(t->class_->n_columns <= ODB_IDL_MAX_COLUMNS);
    }
    for (size_t i = 0; i < class->n_tables; i++) {
        const struct odb_idl_table_class *tc = &class->tables[i];

        for (size_t ci = 0; ci < tc->n_columns; ci++) {
            const struct odb_idl_column *c = &tc->columns[ci];
            const struct odb_idl_base *bases[2] = { &c->key, &c->value };

            for (size_t b = 0; b < 2; b++) {
                if (odb_idl_base_is_ref(bases[b])) {
                    ovs_assert(bases[b]->ref_table < class->n_tables);
                    idl->tables[bases[b]->ref_table].referrers
                        |= UINT64_C(1) << i;
                    idl->tables[i].has_refs = true;
                }
            }
        }
    }
    return idl;
}

/* Frees 'idl' and every row in it.  Accepts NULL. */
void
odb_idl_destroy(struct odb_idl *idl)
{
    if (!idl) {
        return;
    }
    odb_idl_track_clear(idl);
    odb_idl_free_dead(idl);
    for (size_t i = 0; i < idl->class_->n_tables; i++) {
        struct odb_idl_table *t = &idl->tables[i];
        struct odb_idl_row *row;

        HMAP_FOR_EACH_POP (row, hmap_node, &t->rows) {
            odb_idl_row_destroy(row);
        }
        hmap_destroy(&t->rows);
        free(t->replica_columns);
    }
    free(idl->by_replica);
    free(idl->tables);
    free(idl->pending);
    free(idl);
}

/* Forgets the tracked changes: clears the marks of the rows; the deleted
 * ones stay readable until the next batch. */
void
odb_idl_track_clear(struct odb_idl *idl)
{
    for (size_t i = 0; i < idl->class_->n_tables; i++) {
        struct odb_idl_row *row;

        LIST_FOR_EACH_POP (row, track_node, &idl->tables[i].track) {
            row->tracked = false;
            if (row->deleted) {
                ovs_list_push_back(&idl->dead, &row->track_node);
            } else {
                row->new_ = false;
                row->updated = 0;
            }
        }
    }
    idl->reloaded = false;
}

static void
odb_idl_free_dead(struct odb_idl *idl)
{
    struct odb_idl_row *row;

    LIST_FOR_EACH_POP (row, track_node, &idl->dead) {
        odb_idl_row_destroy(row);
    }
}

/* Takes 'row' out of its table, tracked as deleted. */
static void
odb_idl_row_delete(struct odb_idl *idl, struct odb_idl_row *row)
{
    struct odb_idl_table *t = row->table;

    if (row->pending) {
        /* Decoded in this update: its members must match its values
         * before it is read as deleted. */
        odb_idl_row_resolve(idl, row);
    }
    hmap_remove(&t->rows, &row->hmap_node);
    odb_idl_row_count_refs(row, -1);
    if (row->unresolved) {
        row->unresolved = false;
        t->n_unresolved--;
    }
    row->deleted = true;
    odb_idl_track(row);
}

/* Finds, for each table of 'idl', where 'replica' has it and its
 * columns, and the other way round. */
static void
odb_idl_map_replica(struct odb_idl *idl, const struct odb_replica *replica)
{
    free(idl->by_replica);
    idl->n_by_replica = replica->n_tables;
    idl->by_replica = iovp_xzalloc(MAX(1, replica->n_tables)
                                   * sizeof *idl->by_replica);
    for (size_t i = 0; i < idl->class_->n_tables; i++) {
        struct odb_idl_table *t = &idl->tables[i];
        const struct odb_idl_table_class *tc = t->class_;
        const struct odb_replica_table *rt;

        rt = odb_replica_find_table(replica, tc->name);
        t->replica_table = rt ? rt - replica->tables : -1;
        if (rt) {
            idl->by_replica[t->replica_table] = t;
        }
        for (size_t ci = 0; ci < tc->n_columns; ci++) {
            t->replica_columns[ci] = (rt ? odb_replica_column_index(
                                          rt, tc->columns[ci].name) : -1);
        }
    }
}

/* Decodes every column of 'row' from 'values', the replica's columns
 * (NULL: defaults). */
static void
odb_idl_row_decode_all(struct odb_idl_row *row, json_t *const *values)
{
    const struct odb_idl_table *t = row->table;

    for (size_t ci = 0; ci < t->class_->n_columns; ci++) {
        int rci = t->replica_columns[ci];
        odb_idl_column_decode(row, ci,
                              values && rci >= 0 ? values[rci] : NULL);
    }
}

/* Inserts, or decodes again, the row 'uuid' of 't' with 'values'. */
static void
odb_idl_row_insert(struct odb_idl *idl, struct odb_idl_table *t,
                   const char *uuid, json_t *const *values)
{
    struct odb_idl_row *row = odb_idl_find(t, uuid);

    if (!row) {
        row = odb_idl_row_create(t, uuid);
        row->new_ = true;
        t->inserted = true;
    } else if (!row->new_) {
        row->updated |= (t->class_->n_columns >= 64 ? UINT64_MAX
                         : (UINT64_C(1) << t->class_->n_columns) - 1);
    }
    odb_idl_row_decode_all(row, values);
    odb_idl_track(row);
    odb_idl_add_pending(idl, row);
}

/* Decodes the columns named in 'columns' (a JSON array of names) of the
 * row 'uuid' of 't' from 'values'. */
static void
odb_idl_row_modify(struct odb_idl *idl, struct odb_idl_table *t,
                   const char *uuid, const json_t *columns,
                   json_t *const *values)
{
    struct odb_idl_row *row = odb_idl_find(t, uuid);
    const struct odb_idl_table_class *tc = t->class_;
    size_t i;
    json_t *name;

    if (!row) {
        odb_idl_row_insert(idl, t, uuid, values);
        return;
    }
    json_array_foreach (columns, i, name) {
        for (size_t ci = 0; ci < tc->n_columns; ci++) {
            int rci = t->replica_columns[ci];
            if (rci >= 0 && json_is_string(name)
                && !strcmp(json_string_value(name), tc->columns[ci].name)) {
                odb_idl_column_decode(row, ci, values[rci]);
                if (!row->new_) {
                    row->updated |= UINT64_C(1) << ci;
                }
                odb_idl_track(row);
                odb_idl_add_pending(idl, row);
                break;
            }
        }
    }
}

/* Resolves again the rows of the tables that refer to a table whose flag
 * ('dangling' or, without 'dangling', 'inserted') is set: for 'inserted',
 * only the rows that could not resolve a reference.  A row whose pointers
 * change is tracked as modified in those columns. */
static void
odb_idl_reresolve(struct odb_idl *idl, bool dangling)
{
    uint64_t tables = 0;

    for (size_t i = 0; i < idl->class_->n_tables; i++) {
        struct odb_idl_table *t = &idl->tables[i];
        if (dangling ? t->dangling : t->inserted) {
            tables |= t->referrers;
        }
    }
    for (size_t i = 0; i < idl->class_->n_tables; i++) {
        struct odb_idl_table *t = &idl->tables[i];
        struct odb_idl_row *row;

        if (!((tables >> i) & 1) || (!dangling && !t->n_unresolved)) {
            continue;
        }
        HMAP_FOR_EACH (row, hmap_node, &t->rows) {
            if (row->pending || (!dangling && !row->unresolved)) {
                continue;
            }
            uint64_t changed = odb_idl_row_resolve(idl, row);
            if (changed) {
                if (!row->new_) {
                    row->updated |= changed;
                }
                odb_idl_track(row);
            }
        }
    }
}

/* The store's takes(): the columns of the model that fit. */
static bool
odb_idl_store_takes(void *idl_, const struct odb_replica *replica,
                    size_t table, size_t column)
{
    const struct odb_idl *idl = idl_;
    const struct odb_replica_table *rt = &replica->tables[table];
    const struct odb_column *rc = rt->columns[column];

    for (size_t i = 0; i < idl->class_->n_tables; i++) {
        const struct odb_idl_table_class *tc = &idl->class_->tables[i];

        if (!strcmp(tc->name, rt->schema->name)) {
            for (size_t ci = 0; ci < tc->n_columns; ci++) {
                if (!strcmp(tc->columns[ci].name, rc->name)) {
                    return odb_idl_column_fits(&tc->columns[ci], &rc->type);
                }
            }
            return false;
        }
    }
    return false;
}

/* Returns the table of 'idl' that holds the rows of table 'table' of
 * 'replica', if 'idl' took in a batch of 'replica' last, else NULL. */
static const struct odb_idl_table *
odb_idl_store_table(const struct odb_idl *idl,
                    const struct odb_replica *replica, size_t table)
{
    return (replica->serial == idl->serial && table < idl->n_by_replica
            ? idl->by_replica[table] : NULL);
}

/* The store's has(). */
static bool
odb_idl_store_has(void *idl_, const struct odb_replica *replica,
                  size_t table, const char *uuid)
{
    const struct odb_idl_table *t = odb_idl_store_table(idl_, replica, table);

    return t && odb_idl_find(t, uuid);
}

/* The store's count(). */
static size_t
odb_idl_store_count(void *idl_, const struct odb_replica *replica,
                    size_t table)
{
    const struct odb_idl_table *t = odb_idl_store_table(idl_, replica, table);

    return t ? hmap_count(&t->rows) : 0;
}

/* The store's list(). */
static const char **
odb_idl_store_list(void *idl_, const struct odb_replica *replica,
                   size_t table, size_t *n)
{
    const struct odb_idl_table *t = odb_idl_store_table(idl_, replica, table);
    const char **uuids = iovp_xmalloc(MAX(1, t ? hmap_count(&t->rows) : 0)
                                      * sizeof *uuids);
    const struct odb_idl_row *row;

    *n = 0;
    if (t) {
        HMAP_FOR_EACH (row, hmap_node, &t->rows) {
            uuids[(*n)++] = row->uuid;
        }
    }
    return uuids;
}

/* The store's get(): encodes the columns it took. */
static void
odb_idl_store_get(void *idl_, const struct odb_replica *replica,
                  size_t table, const char *uuid, json_t **values)
{
    const struct odb_replica_table *rt = &replica->tables[table];
    const struct odb_idl_table *t = odb_idl_store_table(idl_, replica, table);
    const struct odb_idl_row *row = t ? odb_idl_find(t, uuid) : NULL;

    if (!row) {
        return;
    }
    for (size_t ci = 0; ci < t->class_->n_columns; ci++) {
        int rci = t->replica_columns[ci];
        if (rci >= 0 && rt->slots[rci] < 0) {
            values[rci] = odb_idl_column_encode(row, ci,
                                                &rt->columns[rci]->type);
        }
    }
}

/* The store's commit(): takes in a batch of changes to 'replica' or, from
 * a replica other than the last one seen, reloads (a new replica's first
 * batch has every row).  Tracks what changed. */
static void
odb_idl_store_commit(void *idl_, const struct odb_replica *replica,
                     const struct odb_change *changes, size_t n)
{
    struct odb_idl *idl = idl_;
    bool reload = replica->serial != idl->serial;

    odb_idl_free_dead(idl);
    for (size_t i = 0; i < idl->class_->n_tables; i++) {
        idl->tables[i].inserted = idl->tables[i].dangling = false;
    }

    if (reload) {
        /* Everything from scratch: the old rows are tracked as deleted and
         * kept, pointers and all, until the tracking is cleared. */
        for (size_t i = 0; i < idl->class_->n_tables; i++) {
            struct odb_idl_table *t = &idl->tables[i];
            struct odb_idl_row *row;

            HMAP_FOR_EACH_POP (row, hmap_node, &t->rows) {
                row->deleted = true;
                row->unresolved = false;
                odb_idl_track(row);
            }
            t->n_unresolved = 0;
        }
        idl->serial = replica->serial;
        idl->reloaded = true;
        odb_idl_map_replica(idl, replica);
    }

    for (size_t i = 0; i < n; i++) {
        const struct odb_change *change = &changes[i];
        struct odb_idl_table *t = (change->table < idl->n_by_replica
                                   ? idl->by_replica[change->table] : NULL);

        if (!t) {
            continue;
        }
        if (change->kind == ODB_CHANGE_DELETE) {
            struct odb_idl_row *row = odb_idl_find(t, change->uuid);
            if (row) {
                odb_idl_row_delete(idl, row);
            }
        } else if (change->kind == ODB_CHANGE_INSERT) {
            odb_idl_row_insert(idl, t, change->uuid, change->values);
        } else {
            odb_idl_row_modify(idl, t, change->uuid, change->columns,
                               change->values);
        }
    }

    /* Every row is decoded: now the references. */
    for (size_t i = 0; i < idl->n_pending; i++) {
        struct odb_idl_row *row = idl->pending[i];
        if (!row->deleted) {
            odb_idl_row_resolve(idl, row);
        }
    }
    if (!reload) {
        /* A deleted row that a row still points to: the server deleted a
         * row that an unchanged row refers to. */
        for (size_t i = 0; i < idl->class_->n_tables; i++) {
            struct odb_idl_table *t = &idl->tables[i];
            struct odb_idl_row *row;

            LIST_FOR_EACH (row, track_node, &t->track) {
                if (row->deleted && row->n_refs) {
                    t->dangling = true;
                }
            }
        }
        odb_idl_reresolve(idl, true);
        odb_idl_reresolve(idl, false);
    }
    for (size_t i = 0; i < idl->n_pending; i++) {
        idl->pending[i]->pending = false;
    }
    idl->n_pending = 0;
}

/* Returns true if a batch since the tracking was last cleared reloaded
 * every row (a new replica). */
bool
odb_idl_reloaded(const struct odb_idl *idl)
{
    return idl->reloaded;
}

/* Returns the store that holds the values of a replica for 'idl' (give it
 * to odb_replica_create(), or in odb_session_options): 'idl' takes in
 * every batch as the replica commits it. */
const struct odb_store *
odb_idl_store(struct odb_idl *idl)
{
    return &idl->store;
}

/* Returns the class that 'idl' was created with. */
const struct odb_idl_class *
odb_idl_get_class(const struct odb_idl *idl)
{
    return idl->class_;
}

static const struct odb_idl_table *
odb_idl_table(const struct odb_idl *idl, const struct odb_idl_class *class,
              size_t table)
{
    ovs_assert(class == idl->class_ && table < class->n_tables);
    return &idl->tables[table];
}

/* Returns the number of live rows of 'table' in 'idl'. */
size_t
odb_idl_n_rows(const struct odb_idl *idl, const struct odb_idl_class *class,
               size_t table)
{
    return hmap_count(&odb_idl_table(idl, class, table)->rows);
}

/* Returns the bytes of heap that the datum 'd' of column 'c' takes. */
static size_t
odb_idl_datum_memory(const struct odb_idl_column *c,
                     const struct odb_idl_datum *d)
{
    size_t n = iovp_malloc_size(d->keys) + iovp_malloc_size(d->values);

    for (size_t i = 0; i < d->n; i++) {
        if (c->key.type == ODB_TYPE_UUID) {
            n += iovp_malloc_size(d->keys[i].string);
        }
        if (d->values && c->value.type == ODB_TYPE_UUID) {
            n += iovp_malloc_size(d->values[i].string);
        }
    }
    return n;
}

/* Returns the bytes of heap that the members of column 'c' of 'row' take
 * beyond the row's struct: arrays, and the text of uuids (other strings
 * are shared: see odb_idl_strings_memory()). */
static size_t
odb_idl_column_memory(const struct odb_idl_row *row_,
                      const struct odb_idl_column *c)
{
    struct odb_idl_row *row = CONST_CAST(struct odb_idl_row *, row_);
    size_t n = 0;

    if (odb_idl_column_has_refs(c)) {
        /* The members point into 'row->refs'. */
        if (odb_idl_column_layout(c) == ODB_IDL_ARRAY) {
            n += iovp_malloc_size(*(void **) odb_idl_member(row, c->offset));
            if (odb_idl_column_is_map(c)) {
                n += iovp_malloc_size(*(void **) odb_idl_member(
                                          row, c->value_offset));
            }
        }
        return n;
    }
    switch (odb_idl_column_layout(c)) {
    case ODB_IDL_INLINE:
    case ODB_IDL_OPTIONAL:
        break;
    case ODB_IDL_POINTER:
        if (c->key.type == ODB_TYPE_UUID) {
            n += iovp_malloc_size(*(char **) odb_idl_member(row, c->offset));
        }
        break;
    case ODB_IDL_ARRAY: {
        char **keys = *(char ***) odb_idl_member(row, c->offset);
        char **values = (odb_idl_column_is_map(c)
                         ? *(char ***) odb_idl_member(row, c->value_offset)
                         : NULL);
        size_t n_elems = *(size_t *) odb_idl_member(row, c->n_offset);

        n += iovp_malloc_size(keys) + iovp_malloc_size(values);
        for (size_t i = 0; i < n_elems; i++) {
            if (c->key.type == ODB_TYPE_UUID) {
                n += iovp_malloc_size(keys[i]);
            }
            if (values && c->value.type == ODB_TYPE_UUID) {
                n += iovp_malloc_size(values[i]);
            }
        }
        break;
    }
    }
    return n;
}

/* Returns the bytes of heap that the rows of 'idl' take: their structs,
 * arrays and resolved references, not the strings they share (see
 * odb_idl_strings_memory()).  See iovp_malloc_size(). */
size_t
odb_idl_memory(const struct odb_idl *idl)
{
    size_t n = 0;

    for (size_t i = 0; i < idl->class_->n_tables; i++) {
        const struct odb_idl_table *t = &idl->tables[i];
        const struct odb_idl_table_class *tc = t->class_;
        const struct odb_idl_row *row;

        n += (t->rows.mask + 1) * sizeof *t->rows.buckets;
        HMAP_FOR_EACH (row, hmap_node, &t->rows) {
            n += iovp_malloc_size(row) + iovp_malloc_size(row->refs);
            for (size_t ci = 0; ci < tc->n_columns; ci++) {
                const struct odb_idl_column *c = &tc->columns[ci];

                n += odb_idl_column_memory(row, c);
                if (row->refs) {
                    n += odb_idl_datum_memory(c, &row->refs[ci]);
                }
            }
        }
    }
    return n;
}

/* Returns the bytes of heap that the strings that the models' rows share
 * take (the text of uuids aside). */
size_t
odb_idl_strings_memory(void)
{
    size_t n = (odb_idl_strings.mask + 1) * sizeof *odb_idl_strings.buckets;
    const struct odb_idl_string *is;

    HMAP_FOR_EACH (is, node, &odb_idl_strings) {
        n += iovp_malloc_size(is);
    }
    return n;
}

/* Returns true if the replica that 'idl' last took in has 'table' (an
 * optional table may be missing from the server's schema), false if it
 * has not or 'idl' has not taken in a replica yet. */
bool
odb_idl_has_table(const struct odb_idl *idl, const struct odb_idl_class *class,
                  size_t table)
{
    const struct odb_idl_table *t = odb_idl_table(idl, class, table);

    return idl->serial && t->replica_table >= 0;
}

/* Returns a new reference to ["uuid", UUID] for 'row'. */
json_t *
odb_idl_row_uuid(const struct odb_idl_row *row)
{
    return json_pack("[s, s]", "uuid", row->uuid);
}

/* Calls 'cb' with 'aux' and the UUID, as text, of each row that column
 * 'column' of 'row' refers to in the database, keys and values, whether or
 * not the model holds that row.  The text stays valid until the model
 * changes. */
void
odb_idl_row_for_each_ref(const struct odb_idl_row *row, size_t column,
                         void (*cb)(const char *uuid, void *aux), void *aux)
{
    const struct odb_idl_table_class *tc = row->table->class_;

    ovs_assert(column < tc->n_columns);
    const struct odb_idl_column *c = &tc->columns[column];
    if (!row->refs || !odb_idl_column_has_refs(c)) {
        return;
    }

    const struct odb_idl_datum *d = &row->refs[column];
    if (d->by_pointers) {
        size_t n;
        struct odb_idl_row *const *targets = odb_idl_column_targets(row, c,
                                                                    &n);
        for (size_t i = 0; i < n; i++) {
            cb(targets[i]->uuid, aux);
        }
        return;
    }

    bool key_refs = odb_idl_base_is_ref(&c->key);
    bool value_refs = (odb_idl_column_is_map(c)
                       && odb_idl_base_is_ref(&c->value));
    for (size_t i = 0; i < d->n; i++) {
        if (key_refs) {
            cb(d->keys[i].string, aux);
        }
        if (value_refs) {
            cb(d->values[i].string, aux);
        }
    }
}

static void
odb_idl_add_ref(const char *uuid, void *uuids)
{
    shash_add_once(uuids, uuid, NULL);
}

/* Adds to 'uuids' (a set: its names) the UUID, as text, of each row that
 * column 'column' of 'row' refers to in the database, keys and values,
 * whether or not the model holds that row: what a monitor condition that
 * follows references asks for. */
void
odb_idl_row_add_refs(const struct odb_idl_row *row, size_t column,
                     struct shash *uuids)
{
    odb_idl_row_for_each_ref(row, column, odb_idl_add_ref, uuids);
}

struct odb_idl_ref_digest {
    size_t *n;
    uint64_t *sum;
};

static void
odb_idl_hash_ref(const char *uuid, void *digest_)
{
    struct odb_idl_ref_digest *digest = digest_;

    *digest->sum += iovp_hash_string64(uuid);
    ++*digest->n;
}

/* Adds to '*n' the number of references, keys and values, that column
 * 'column' of 'row' makes in the database, as odb_idl_row_add_refs()
 * reads them, and to '*sum' the sum of the 64-bit hashes of their UUIDs'
 * text: a digest of them, as a multiset, that costs no allocation. */
void
odb_idl_row_hash_refs(const struct odb_idl_row *row, size_t column,
                      size_t *n, uint64_t *sum)
{
    struct odb_idl_ref_digest digest = { n, sum };

    odb_idl_row_for_each_ref(row, column, odb_idl_hash_ref, &digest);
}

/* Returns a new reference to the "where" that selects 'row' by its
 * UUID. */
json_t *
odb_idl_row_where(const struct odb_idl_row *row)
{
    return json_pack("[[s, s, o]]", "_uuid", "==", odb_idl_row_uuid(row));
}

/* Returns a row of 'table' of 'idl', or NULL if it has none.  The order
 * of the rows is unspecified. */
const struct odb_idl_row *
odb_idl_first(const struct odb_idl *idl, const struct odb_idl_class *class,
              size_t table)
{
    const struct hmap_node *node;

    node = hmap_first(&odb_idl_table(idl, class, table)->rows);
    return node ? CONTAINER_OF(node, struct odb_idl_row, hmap_node) : NULL;
}

/* Returns the row of the same table after 'row', or NULL. */
const struct odb_idl_row *
odb_idl_next(const struct odb_idl_row *row)
{
    const struct hmap_node *node = hmap_next(&row->table->rows,
                                             &row->hmap_node);
    return node ? CONTAINER_OF(node, struct odb_idl_row, hmap_node) : NULL;
}

/* Returns the live row of 'table' whose string column 'column' (of at most
 * one value) is 'value', or NULL.  Of several, the one with the lowest
 * UUID, whatever the hash order: the rule by which iovp chooses among rows
 * that claim one name (ovsdb/query.h).  A linear search, for the few rows
 * of a host's own tables. */
const struct odb_idl_row *
odb_idl_find_by_string(const struct odb_idl *idl,
                       const struct odb_idl_class *class, size_t table,
                       size_t column, const char *value)
{
    const struct odb_idl_table *t = odb_idl_table(idl, class, table);
    const struct odb_idl_column *c = &t->class_->columns[column];
    const struct odb_idl_row *row, *best = NULL;

    ovs_assert(c->key.type == ODB_TYPE_STRING
               && odb_idl_column_layout(c) == ODB_IDL_POINTER);
    HMAP_FOR_EACH (row, hmap_node, &t->rows) {
        const char *s = *(char *const *) ((const char *) row + c->offset);
        if (s && !strcmp(s, value)
            && (!best || strcmp(row->uuid, best->uuid) < 0)) {
            best = row;
        }
    }
    return best;
}

/* Returns the live row of 'table' whose UUID is 'uuid', or NULL. */
const struct odb_idl_row *
odb_idl_get(const struct odb_idl *idl, const struct odb_idl_class *class,
            size_t table, const char *uuid)
{
    return odb_idl_find(odb_idl_table(idl, class, table), uuid);
}

/* Returns the first tracked row of 'table', or NULL. */
const struct odb_idl_row *
odb_idl_track_first(const struct odb_idl *idl,
                    const struct odb_idl_class *class, size_t table)
{
    const struct odb_idl_table *t = odb_idl_table(idl, class, table);

    return (ovs_list_is_empty(&t->track) ? NULL
            : CONTAINER_OF(ovs_list_front(&t->track), struct odb_idl_row,
                           track_node));
}

/* Returns the tracked row after 'row', or NULL. */
const struct odb_idl_row *
odb_idl_track_next(const struct odb_idl_row *row)
{
    return (row->track_node.next == &row->table->track ? NULL
            : CONTAINER_OF(row->track_node.next, struct odb_idl_row,
                           track_node));
}

/* Looks for 'key' among the 'n' sorted strings 'keys' (the keys of a
 * string-keyed map).  Returns true and its index in '*idx', or false and
 * where it would be inserted. */
bool
odb_idl_map_find(char *const *keys, size_t n, const char *key, size_t *idx)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(keys[mid], key);

        if (!cmp) {
            *idx = mid;
            return true;
        } else if (cmp < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *idx = lo;
    return false;
}

/* Returns the value (borrowed) of 'key' in the string-to-string map of 'n'
 * pairs 'keys' and 'values', or NULL if it has none. */
const char *
odb_idl_map_get(char *const *keys, char *const *values, size_t n,
                const char *key)
{
    size_t idx;

    return odb_idl_map_find(keys, n, key, &idx) ? values[idx] : NULL;
}
