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

/* "test-iovp idl SCHEMA": the typed models (ovsdb/idl.h) of a replica of
 * hardware_vtep with iovp's tables (SCHEMA: schemas/iovp.ovsschema), fed
 * real updates through odb_replica_apply(): the generated hwvtep model
 * (every C type it has, map lookup, references, pointer stability,
 * tracking, deletion of a referred row, reload), a test model of Global and
 * Manager (tests/idltest.idl: booleans, references to a generated table),
 * and a server whose schema differs from ours.  Prints one line per step
 * and exits with failure if a check failed.
 *
 * "test-iovp idl-memory SCHEMA N": loads N ACL_entry rows and prints what
 * the replica and the model allocate for them. */

#include <config.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "model/vtep-idl.h"
#include "ovsdb/idl.h"
#include "ovsdb/replica.h"
#include "ovsdb/schema.h"
#include "tests/idltest-idl.h"
#include "tests/test-iovp.h"

static int n_checks, n_failures;

#define CHECK(COND)                                                     \
    do {                                                                \
        n_checks++;                                                     \
        if (!(COND)) {                                                  \
            n_failures++;                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n",                \
                    __FILE__, __LINE__, #COND);                         \
        }                                                               \
    } while (0)

#define CHECK_STR(A, B) CHECK((A) && (B) && !strcmp(A, B))

#define E1 "00000000-0000-0000-0000-0000000000e1"
#define E2 "00000000-0000-0000-0000-0000000000e2"
#define E3 "00000000-0000-0000-0000-0000000000e3"
#define A1 "00000000-0000-0000-0000-0000000000a1"
#define LS1 "00000000-0000-0000-0000-000000000051"
#define LS2 "00000000-0000-0000-0000-000000000052"
#define P1 "00000000-0000-0000-0000-0000000000f1"
#define O1 "00000000-0000-0000-0000-000000000001"
#define G1 "00000000-0000-0000-0000-000000000061"
#define M1 "00000000-0000-0000-0000-000000000071"

/* Returns a new reference to the JSON 'text', in which ' stands for ". */
static json_t *
test_json(const char *text)
{
    char *s = iovp_xstrdup(text);
    json_error_t error;

    for (char *p = s; *p; p++) {
        if (*p == '\'') {
            *p = '"';
        }
    }
    json_t *json = json_loads(s, JSON_DECODE_ANY, &error);
    if (!json) {
        iovp_fatal(-1, "bad test JSON (%s): %s", error.text, s);
    }
    free(s);
    return json;
}

/* Returns the schema in file 'name', changed by 'edit' (JSON, ' for ")
 * if nonnull: {TABLE: {COLUMN: TYPE or null}} sets or removes a column's
 * type, {TABLE: null} removes a table. */
static struct odb_schema *
test_schema(const char *name, const char *edit)
{
    json_error_t error;
    json_t *json = json_load_file(name, 0, &error);
    struct odb_schema *schema;

    if (!json) {
        iovp_fatal(-1, "%s: %s", name, error.text);
    }
    if (edit) {
        json_t *tables = json_object_get(json, "tables");
        json_t *e = test_json(edit);
        const char *table;
        json_t *columns;

        json_object_foreach (e, table, columns) {
            const char *column;
            json_t *type;

            if (json_is_null(columns)) {
                json_object_del(tables, table);
                continue;
            }
            json_t *tc = json_object_get(json_object_get(tables, table),
                                         "columns");
            json_object_foreach (columns, column, type) {
                if (json_is_null(type)) {
                    json_object_del(tc, column);
                } else {
                    json_object_set_new(tc, column,
                                        json_pack("{s:O}", "type", type));
                }
            }
        }
        json_decref(e);
    }
    char *s = odb_schema_from_json(json, &schema);
    if (s) {
        iovp_fatal(-1, "%s: %s", name, s);
    }
    json_decref(json);
    return schema;
}

/* A replica whose values 'idl' holds, and a shadow replica that keeps its
 * values itself: after each batch, both must say the same. */
struct test_db {
    struct odb_replica *r;
    struct odb_replica *shadow;
    struct odb_idl *idl;
};

static struct odb_replica *
test_replica__(const char *name, const char *edit,
               const struct odb_monitor_table *monitor, size_t n,
               const struct odb_store *store)
{
    struct odb_replica *r;
    char *error = odb_replica_create(test_schema(name, edit), monitor, n,
                                     store, &r);

    if (error) {
        iovp_fatal(-1, "%s", error);
    }
    return r;
}

static struct test_db
test_db(const char *name, const char *edit,
        const struct odb_monitor_table *monitor, size_t n,
        struct odb_idl *idl)
{
    return (struct test_db) {
        .r = test_replica__(name, edit, monitor, n, odb_idl_store(idl)),
        .shadow = test_replica__(name, edit, monitor, n, NULL),
        .idl = idl,
    };
}

static void
test_db_destroy(struct test_db *db)
{
    odb_replica_destroy(db->r);
    odb_replica_destroy(db->shadow);
}

/* Applies the <table-updates2> 'text' (' for ") to 'db', after clearing
 * the model's tracking and the replica's changes as the agent does once it
 * has read them, and checks that the replica, whose values the model
 * holds, says what the shadow says. */
static void
test_apply(struct test_db *db, const char *text)
{
    json_t *updates = test_json(text);

    odb_idl_track_clear(db->idl);
    odb_replica_clear_changes(db->r);
    for (int i = 0; i < 2; i++) {
        struct odb_replica *r = i ? db->shadow : db->r;
        char *error = odb_replica_apply(r, updates, 2);
        if (error) {
            iovp_fatal(-1, "update rejected: %s", error);
        }
    }
    json_decref(updates);

    json_t *a = odb_replica_to_json(db->r);
    json_t *b = odb_replica_to_json(db->shadow);
    CHECK(json_equal(a, b));
    if (!json_equal(a, b)) {
        char *sa = json_dumps(a, JSON_SORT_KEYS);
        char *sb = json_dumps(b, JSON_SORT_KEYS);
        fprintf(stderr, "model's replica: %s\nshadow: %s\n", sa, sb);
        free(sa);
        free(sb);
    }
    json_decref(a);
    json_decref(b);
}

/* Returns a complete copy, as the server sends one, of the rows in 'dump'
 * (odb_replica_to_json()'s form, taken) but row 'skip' (or none). */
static json_t *
test_complete_copy(json_t *dump, const char *skip)
{
    json_t *full = json_object();
    const char *table;
    json_t *rows;

    json_object_foreach (dump, table, rows) {
        json_t *updates = json_object();
        const char *uuid;
        json_t *row;

        json_object_foreach (rows, uuid, row) {
            if (!skip || strcmp(uuid, skip)) {
                json_object_set_new(updates, uuid,
                                    json_pack("{s:O}", "initial", row));
            }
        }
        json_object_set_new(full, table, updates);
    }
    json_decref(dump);
    return full;
}

/* Sets 'N' to the number of tracked rows of hwvtep_TABLE in 'IDL'. */
#define COUNT_TRACKED(TABLE, IDL, N)                                    \
    do {                                                                \
        const struct hwvtep_##TABLE *t_;                                \
        (N) = 0;                                                        \
        for (t_ = hwvtep_##TABLE##_track_first(IDL); t_;                \
             t_ = hwvtep_##TABLE##_track_next(t_)) {                    \
            (N)++;                                                      \
        }                                                               \
    } while (0)

static void
test_hwvtep(const char *schema)
{
    struct odb_idl *idl = hwvtep_idl_create();
    struct test_db db = test_db(schema, NULL, hwvtep_idl_monitor,
                                hwvtep_idl_n_monitor, idl);
    size_t n;

    /* One batch: every C type, a map, references to rows of the same
     * batch, one to a row that does not exist. */
    test_apply(&db, "{"
        "'ACL_entry': {"
        "  '" E1 "': {'insert': {'sequence': 10,"
        "     'source_mac': '02:00:00:00:00:01', 'protocol': 6,"
        "     'direction': 'ingress', 'action': 'permit'}},"
        "  '" E2 "': {'insert': {'sequence': 20,"
        "     'direction': 'egress', 'action': 'deny'}}},"
        "'ACL': {'" A1 "': {'insert': {'acl_name': 'a1',"
        "     'acl_entries': ['set', [['uuid', '" E2 "'],"
        "                             ['uuid', '" E1 "']]]}}},"
        "'Logical_Switch': {'" LS1 "': {'insert': {'name': 'ls1',"
        "     'tunnel_key': 5}}},"
        "'Physical_Port': {'" P1 "': {'insert': {'name': 'p1',"
        "     'vlan_bindings': ['map', [[0, ['uuid', '" LS1 "']],"
        "                               [7, ['uuid', '" LS2 "']]]],"
        "     'acl_bindings': ['map', [[0, ['uuid', '" A1 "']]]],"
        "     'other_config': ['map', [['b', '2'], ['a', '1']]]}}},"
        "'Iovp_Offload': {'" O1 "': {'insert': {'backend': 'xdp',"
        "     'capacity': 100, 'hit_rate': 0.5}}},"
        "'Global': {'" G1 "': {'insert': {"
        "     'managers': ['uuid', '" M1 "']}}}}");
    printf("hwvtep: inserted\n");

    const struct hwvtep_acl_entry *e1 = hwvtep_acl_entry_get(idl, E1);
    const struct hwvtep_acl_entry *e2 = hwvtep_acl_entry_get(idl, E2);
    const struct hwvtep_acl *a1 = hwvtep_acl_get(idl, A1);
    const struct hwvtep_logical_switch *ls1;
    const struct hwvtep_physical_port *p1 = hwvtep_physical_port_get(idl,
                                                                      P1);
    const struct hwvtep_iovp_offload *o1 = hwvtep_iovp_offload_get(idl, O1);
    const struct hwvtep_global *g1 = hwvtep_global_get(idl, G1);

    ls1 = hwvtep_logical_switch_get(idl, LS1);
    CHECK(e1 && e2 && a1 && ls1 && p1 && o1 && g1);
    if (!(e1 && e2 && a1 && ls1 && p1 && o1 && g1)) {
        exit(EXIT_FAILURE);
    }
    CHECK(!hwvtep_acl_entry_get(idl, E3));
    CHECK(e1->sequence == 10);
    CHECK_STR(e1->source_mac, "02:00:00:00:00:01");
    CHECK(e1->dest_mac == NULL);
    CHECK(e1->n_protocol == 1 && e1->protocol[0] == 6);
    CHECK(e1->n_tcp_flags == 0);
    CHECK_STR(e1->direction, "ingress");
    CHECK_STR(e2->action, "deny");
    CHECK(e1->n_acle_fault_status == 0);
    CHECK(ls1->n_tunnel_key == 1 && ls1->tunnel_key[0] == 5);
    CHECK_STR(ls1->description, "");
    CHECK(ls1->replication_mode == NULL);
    CHECK_STR(o1->backend, "xdp");
    CHECK(o1->capacity == 100 && o1->hit_rate == 0.5);
    CHECK(o1->physical_switch == NULL);
    CHECK(g1->n_managers == 1);
    CHECK_STR(g1->managers[0], M1);     /* Manager: not in the model. */
    CHECK(g1->n_switches == 0);

    /* References, sorted as the canonical value is. */
    CHECK(a1->n_acl_entries == 2);
    CHECK(a1->acl_entries[0] == e1 && a1->acl_entries[1] == e2);
    CHECK(p1->n_vlan_bindings == 1);    /* LS2 does not exist. */
    CHECK(p1->key_vlan_bindings[0] == 0);
    CHECK(p1->value_vlan_bindings[0] == ls1);
    CHECK(p1->n_acl_bindings == 1 && p1->value_acl_bindings[0] == a1);

    /* A map. */
    CHECK(p1->n_other_config == 2);
    CHECK_STR(p1->key_other_config[0], "a");
    CHECK_STR(odb_idl_map_get(p1->key_other_config, p1->value_other_config,
                              p1->n_other_config, "b"), "2");
    CHECK(!odb_idl_map_get(p1->key_other_config, p1->value_other_config,
                           p1->n_other_config, "c"));
    CHECK(!odb_idl_map_get(NULL, NULL, 0, "a"));

    /* Tracking: all new, no column bits. */
    COUNT_TRACKED(acl_entry, idl, n);
    CHECK(n == 2);
    CHECK(hwvtep_acl_entry_is_new(e1) && !hwvtep_acl_entry_is_deleted(e1));
    CHECK(!hwvtep_acl_entry_is_updated(e1, HWVTEP_ACL_ENTRY_COL_SEQUENCE));
    n = 0;
    const struct hwvtep_acl_entry *e;
    HWVTEP_ACL_ENTRY_FOR_EACH (e, idl) {
        n++;
    }
    CHECK(n == 2);
    CHECK(odb_idl_reloaded(idl));

    /* A modify, an insert, and a reference to it. */
    test_apply(&db, "{"
        "'ACL_entry': {"
        "  '" E1 "': {'modify': {'sequence': 11}},"
        "  '" E3 "': {'insert': {'sequence': 30, 'direction': 'ingress',"
        "     'action': 'permit', 'tcp_flags': 2}}},"
        "'ACL': {'" A1 "': {'modify': {"
        "     'acl_entries': ['set', [['uuid', '" E3 "']]]}}}}");
    printf("hwvtep: modified\n");
    const struct hwvtep_acl_entry *e3 = hwvtep_acl_entry_get(idl, E3);
    CHECK(!odb_idl_reloaded(idl));
    CHECK(hwvtep_acl_entry_get(idl, E1) == e1);     /* Same address. */
    CHECK(hwvtep_acl_get(idl, A1) == a1);
    CHECK(e1->sequence == 11);
    CHECK(!hwvtep_acl_entry_is_new(e1));
    CHECK(hwvtep_acl_entry_is_updated(e1, HWVTEP_ACL_ENTRY_COL_SEQUENCE));
    CHECK(!hwvtep_acl_entry_is_updated(e1, HWVTEP_ACL_ENTRY_COL_ACTION));
    CHECK(e3 && hwvtep_acl_entry_is_new(e3));
    CHECK(e3 && e3->n_tcp_flags == 1 && e3->tcp_flags[0] == 2);
    COUNT_TRACKED(acl_entry, idl, n);
    CHECK(n == 2);                  /* E1 and E3, not E2. */
    CHECK(a1->n_acl_entries == 3 && a1->acl_entries[2] == e3);
    CHECK(hwvtep_acl_is_updated(a1, HWVTEP_ACL_COL_ACL_ENTRIES));
    CHECK(!hwvtep_acl_is_updated(a1, HWVTEP_ACL_COL_ACL_NAME));
    COUNT_TRACKED(physical_port, idl, n);
    CHECK(n == 0);

    /* An optional integer is held in its row: setting one allocates
     * nothing, and clearing one leaves the others. */
    size_t heap = odb_idl_memory(idl);
    test_apply(&db, "{'ACL_entry': {'" E1 "': {'modify': {"
               "'icmp_type': 8, 'tcp_flags': 2}}}}");
    CHECK(e1->n_icmp_type == 1 && e1->icmp_type[0] == 8
          && e1->n_tcp_flags == 1 && e1->tcp_flags[0] == 2);
    CHECK(odb_idl_memory(idl) == heap);
    test_apply(&db, "{'ACL_entry': {'" E1 "': {'modify': {"
               "'icmp_type': ['set', []], 'tcp_flags': ['set', []]}}}}");
    CHECK(e1->n_icmp_type == 0 && e1->n_tcp_flags == 0
          && e1->n_protocol == 1 && e1->protocol[0] == 6);
    CHECK(p1->value_acl_bindings[0] == a1);

    /* A delete, and the reference to it gone in the same batch. */
    test_apply(&db, "{"
        "'ACL_entry': {'" E2 "': {'delete': null}},"
        "'ACL': {'" A1 "': {'modify': {"
        "     'acl_entries': ['set', [['uuid', '" E2 "']]]}}}}");
    printf("hwvtep: deleted\n");
    CHECK(!hwvtep_acl_entry_get(idl, E2));
    CHECK(hwvtep_acl_entry_is_deleted(e2));
    CHECK(e2->sequence == 20);          /* Readable while tracked. */
    CHECK(a1->n_acl_entries == 2);
    CHECK(a1->acl_entries[0] == e1 && a1->acl_entries[1] == e3);
    COUNT_TRACKED(acl_entry, idl, n);
    CHECK(n == 1);
    n = 0;
    HWVTEP_ACL_ENTRY_FOR_EACH (e, idl) {
        n++;
    }
    CHECK(n == 2);

    /* A server that deletes a row that an unchanged row refers to: the
     * reference goes, and the referring row is tracked as modified. */
    test_apply(&db, "{'Logical_Switch': {'" LS1 "': {'delete': null}}}");
    printf("hwvtep: referred row deleted\n");
    CHECK(p1->n_vlan_bindings == 0);
    CHECK(hwvtep_physical_port_is_updated(
              p1, HWVTEP_PHYSICAL_PORT_COL_VLAN_BINDINGS));
    CHECK(!hwvtep_physical_port_is_updated(
              p1, HWVTEP_PHYSICAL_PORT_COL_ACL_BINDINGS));
    COUNT_TRACKED(physical_port, idl, n);
    CHECK(n == 1);
    CHECK(hwvtep_logical_switch_is_deleted(ls1));

    /* A row that an unchanged row named before it existed. */
    test_apply(&db, "{'Logical_Switch': {'" LS2 "': {'insert': {"
               "'name': 'ls2'}}}}");
    printf("hwvtep: referred row inserted\n");
    CHECK(p1->n_vlan_bindings == 1 && p1->key_vlan_bindings[0] == 7);
    CHECK(p1->n_vlan_bindings == 1
          && p1->value_vlan_bindings[0]
             == hwvtep_logical_switch_get(idl, LS2));
    CHECK(hwvtep_physical_port_is_updated(
              p1, HWVTEP_PHYSICAL_PORT_COL_VLAN_BINDINGS));
    CHECK(hwvtep_physical_port_first(idl) == p1);

    /* An entry deleted while its ACL, unchanged, still names it (the ACL
     * had every reference resolved, and keeps no text of them): the ACL
     * points to its other entry, and reads as the server's value still;
     * the entry inserted again is pointed to again. */
    test_apply(&db, "{'ACL_entry': {'" E3 "': {'delete': null}}}");
    printf("hwvtep: entry of a resolved set deleted\n");
    CHECK(a1->n_acl_entries == 1 && a1->acl_entries[0] == e1);
    CHECK(hwvtep_acl_is_updated(a1, HWVTEP_ACL_COL_ACL_ENTRIES));
    test_apply(&db, "{'ACL_entry': {'" E3 "': {'insert': {'sequence': 30,"
               "'direction': 'ingress', 'action': 'permit', "
               "'tcp_flags': 2}}}}");
    e3 = hwvtep_acl_entry_get(idl, E3);
    CHECK(a1->n_acl_entries == 2 && a1->acl_entries[0] == e1
          && a1->acl_entries[1] == e3);

    /* The consumer has read the changes: no more tracking. */
    odb_idl_track_clear(idl);
    COUNT_TRACKED(physical_port, idl, n);
    CHECK(n == 0);
    CHECK(!hwvtep_physical_port_is_updated(
              p1, HWVTEP_PHYSICAL_PORT_COL_VLAN_BINDINGS));

    /* Two batches before the consumer looks: both tracked. */
    odb_idl_track_clear(idl);
    for (int i = 0; i < 2; i++) {
        json_t *updates = test_json(i
            ? "{'ACL_entry': {'" E3 "': {'modify': {'sequence': 31}}}}"
            : "{'ACL_entry': {'" E1 "': {'modify': {'sequence': 13}}}}");
        CHECK(!odb_replica_apply(db.r, updates, 2));
        CHECK(!odb_replica_apply(db.shadow, updates, 2));
        json_decref(updates);
    }
    printf("hwvtep: two batches\n");
    COUNT_TRACKED(acl_entry, idl, n);
    CHECK(n == 2);
    CHECK(e1->sequence == 13 && e3->sequence == 31);
    CHECK(hwvtep_acl_entry_is_updated(e1, HWVTEP_ACL_ENTRY_COL_SEQUENCE));
    CHECK(hwvtep_acl_entry_is_updated(e3, HWVTEP_ACL_ENTRY_COL_SEQUENCE));

    /* A complete copy (a reconnect that could not resume): compared with
     * the values the model holds, only the real differences. */
    json_t *copy = odb_replica_to_json(db.shadow);
    json_object_set_new(json_object_get(json_object_get(copy, "ACL_entry"),
                                        E3),
                        "sequence", json_integer(32));
    json_t *full = test_complete_copy(copy, NULL);
    odb_idl_track_clear(idl);
    odb_replica_clear_changes(db.r);
    CHECK(!odb_replica_apply_full(db.r, full, 2));
    CHECK(!odb_replica_apply_full(db.shadow, full, 2));
    json_decref(full);
    printf("hwvtep: complete copy\n");
    CHECK(db.r->n_changes == 1);
    COUNT_TRACKED(acl_entry, idl, n);
    CHECK(n == 1);
    CHECK(e3->sequence == 32 && !odb_idl_reloaded(idl));
    COUNT_TRACKED(physical_port, idl, n);
    CHECK(n == 0);

    /* Saved (as iovpd's snapshot holds a replica) and loaded into a new
     * replica of another model: the same rows, all inserted.  A saved form
     * that is not valid leaves the replica empty. */
    json_t *saved = odb_replica_save(db.r);
    struct odb_idl *idl3 = hwvtep_idl_create();
    struct test_db db3 = test_db(schema, NULL, hwvtep_idl_monitor,
                                 hwvtep_idl_n_monitor, idl3);
    for (int i = 0; i < 4; i++) {
        json_t *bad = json_deep_copy(saved);
        json_t *entries = json_object_get(bad, "ACL_entry");
        json_t *bad_rows = json_object_get(entries, "rows");
        json_t *row = json_array_get(bad_rows, 0);

        if (i == 0) {
            json_array_append_new(bad_rows, json_deep_copy(row));
        } else if (i == 1) {
            json_array_set_new(row, 1, json_integer(1000));
        } else if (i == 2) {
            json_array_set_new(json_object_get(entries, "columns"), 0,
                               json_string("no_such_column"));
        } else {
            json_array_set_new(row, 2, json_object());
        }
        char *error = odb_replica_load(db3.r, bad);
        CHECK(error != NULL);
        free(error);
        CHECK(!odb_replica_n_rows(db3.r) && !db3.r->n_changes);
        json_decref(bad);
    }
    CHECK(!hwvtep_acl_entry_first(idl3));
    CHECK(!odb_replica_load(db3.r, saved));
    CHECK(!odb_replica_load(db3.shadow, saved));
    json_decref(saved);
    printf("hwvtep: saved and loaded\n");
    CHECK(db3.r->n_changes == odb_replica_n_rows(db.r));
    json_t *loaded = odb_replica_to_json(db3.r);
    json_t *shadow = odb_replica_to_json(db.shadow);
    CHECK(json_equal(loaded, shadow));
    json_decref(loaded);
    json_decref(shadow);
    CHECK(hwvtep_acl_entry_get(idl3, E3)
          && hwvtep_acl_entry_get(idl3, E3)->sequence == 32);

    /* A complete copy that lacks a row of a table whose rows the model
     * holds (the replica keeps none of them): the row is deleted. */
    CHECK(odb_replica_find_table(db3.r, "ACL_entry")->held);
    json_t *all = odb_replica_to_json(db3.shadow);
    json_object_set_new(json_object_get(json_object_get(all, "ACL"), A1),
                        "acl_entries",
                        test_json("['set', [['uuid', '" E3 "']]]"));
    json_t *lacking = test_complete_copy(all, E1);
    odb_idl_track_clear(idl3);
    odb_replica_clear_changes(db3.r);
    CHECK(!odb_replica_apply_full(db3.r, lacking, 2));
    CHECK(!odb_replica_apply_full(db3.shadow, lacking, 2));
    json_decref(lacking);
    printf("hwvtep: complete copy without a row\n");
    CHECK(db3.r->n_changes == 2);
    CHECK(!hwvtep_acl_entry_get(idl3, E1) && hwvtep_acl_entry_get(idl3, E3));
    CHECK(odb_replica_n_rows(db3.r) == odb_replica_n_rows(db3.shadow));
    loaded = odb_replica_to_json(db3.r);
    shadow = odb_replica_to_json(db3.shadow);
    CHECK(json_equal(loaded, shadow));
    json_decref(loaded);
    json_decref(shadow);
    test_db_destroy(&db3);
    odb_idl_destroy(idl3);

    /* A new replica: everything reloaded. */
    struct test_db db2 = test_db(schema, NULL, hwvtep_idl_monitor,
                                 hwvtep_idl_n_monitor, idl);
    test_apply(&db2, "{"
        "'ACL_entry': {'" E1 "': {'insert': {'sequence': 12,"
        "     'direction': 'ingress', 'action': 'permit'}}}}");
    printf("hwvtep: reloaded\n");
    CHECK(odb_idl_reloaded(idl));
    size_t n_new = 0, n_deleted = 0;
    HWVTEP_ACL_ENTRY_FOR_EACH_TRACKED (e, idl) {
        n_new += hwvtep_acl_entry_is_new(e);
        n_deleted += hwvtep_acl_entry_is_deleted(e);
    }
    CHECK(n_new == 1 && n_deleted == 2);
    CHECK(hwvtep_acl_entry_get(idl, E1)
          && hwvtep_acl_entry_get(idl, E1)->sequence == 12);
    CHECK(!hwvtep_acl_first(idl));
    CHECK(!hwvtep_physical_port_first(idl));
    CHECK(odb_idl_n_rows(idl, &hwvtep_idl_class,
                         HWVTEP_TABLE_ACL_ENTRY) == 1);
    CHECK(hwvtep_acl_is_deleted(a1));
    CHECK(a1->n_acl_entries == 2 && a1->acl_entries[0] == e1);

    test_db_destroy(&db);
    test_db_destroy(&db2);
    odb_idl_destroy(idl);
}

/* A server whose schema is not ours: columns of other types, a column and
 * a table missing. */
static void
test_mismatch(const char *schema)
{
    struct odb_idl *idl = hwvtep_idl_create();
    struct test_db db = test_db(schema, "{"
        "'ACL_entry': {'sequence': 'string', 'icmp_type': null,"
        "              'tcp_flags': {'key': 'integer', 'min': 0,"
        "                            'max': 'unlimited'}},"
        "'Physical_Port': {'name': 'integer',"
        "                  'other_config': {'key': 'string', 'min': 0,"
        "                                   'max': 'unlimited'}},"
        "'Logical_Switch': {'tunnel_key': {'key': 'string', 'min': 0,"
        "                                  'max': 1}},"
        "'ACL': {'acl_entries': {'key': 'string', 'min': 0,"
        "                        'max': 'unlimited'}},"
        "'Iovp_Offload': null}", hwvtep_idl_monitor, hwvtep_idl_n_monitor,
        idl);

    test_apply(&db, "{"
        "'ACL_entry': {'" E1 "': {'insert': {'sequence': 'ten',"
        "     'direction': 'ingress', 'action': 'permit',"
        "     'tcp_flags': ['set', [1, 2]], 'protocol': 17}},"
        "              '" E2 "': {'insert': {'sequence': 'twenty',"
        "     'direction': 'egress', 'action': 'deny',"
        "     'tcp_flags': 4}}},"
        "'ACL': {'" A1 "': {'insert': {'acl_name': 'a1',"
        "     'acl_entries': ['set', ['" E1 "']]}}},"
        "'Physical_Port': {'" P1 "': {'insert': {'name': 5,"
        "     'other_config': ['set', ['x']]}}},"
        "'Logical_Switch': {'" LS1 "': {'insert': {'name': 'ls1',"
        "     'tunnel_key': 'five'}}}}");
    printf("mismatch: inserted\n");

    const struct hwvtep_acl_entry *e1 = hwvtep_acl_entry_get(idl, E1);
    const struct hwvtep_acl_entry *e2 = hwvtep_acl_entry_get(idl, E2);
    const struct hwvtep_physical_port *p1 = hwvtep_physical_port_get(idl,
                                                                      P1);
    const struct hwvtep_logical_switch *ls1;
    const struct hwvtep_acl *a1 = hwvtep_acl_get(idl, A1);

    ls1 = hwvtep_logical_switch_get(idl, LS1);
    CHECK(e1 && e2 && p1 && ls1 && a1);
    if (!(e1 && e2 && p1 && ls1 && a1)) {
        exit(EXIT_FAILURE);
    }
    CHECK(e1->sequence == 0);                   /* A string: default. */
    CHECK(e1->n_icmp_type == 0);                /* Absent: default. */
    CHECK(e1->n_tcp_flags == 0);                /* Two: too many. */
    CHECK(e2->n_tcp_flags == 1 && e2->tcp_flags[0] == 4);
    CHECK(e1->n_protocol == 1 && e1->protocol[0] == 17);
    CHECK_STR(e1->direction, "ingress");
    CHECK_STR(p1->name, "");                    /* An integer: default. */
    CHECK(p1->n_other_config == 0);             /* A set: not a map. */
    CHECK(ls1->n_tunnel_key == 0);
    CHECK_STR(ls1->name, "ls1");
    CHECK(a1->n_acl_entries == 0);              /* Strings: not uuids. */
    CHECK(!hwvtep_iovp_offload_first(idl));     /* No such table. */

    test_apply(&db, "{'ACL_entry': {'" E2 "': {'modify': {"
               "'sequence': 'twenty-one', 'tcp_flags': ['set', [1, 2]]}}}}");
    printf("mismatch: modified\n");
    CHECK(hwvtep_acl_entry_get(idl, E2) == e2);
    CHECK(e2->sequence == 0 && e2->n_tcp_flags == 0);
    CHECK(hwvtep_acl_entry_is_updated(e2, HWVTEP_ACL_ENTRY_COL_TCP_FLAGS));

    test_db_destroy(&db);
    odb_idl_destroy(idl);
}

/* The test model (tests/idltest.idl): booleans, and references from a
 * table of the model to another. */
static void
test_idltest(const char *schema)
{
    struct odb_idl *idl = idltest_idl_create();
    struct test_db db = test_db(schema, NULL, idltest_idl_monitor,
                                idltest_idl_n_monitor, idl);

    test_apply(&db, "{"
        "'Manager': {'" M1 "': {'insert': {'target': 'ptcp:6640',"
        "     'is_connected': true, 'inactivity_probe': 5000,"
        "     'status': ['map', [['state', 'ACTIVE']]]}}},"
        "'Global': {'" G1 "': {'insert': {"
        "     'managers': ['uuid', '" M1 "'],"
        "     'other_config': ['map', [['k', 'v']]]}}}}");
    printf("idltest: inserted\n");

    const struct idltest_manager *m1 = idltest_manager_get(idl, M1);
    const struct idltest_global *g1 = idltest_global_get(idl, G1);
    CHECK(m1 && g1);
    if (!(m1 && g1)) {
        exit(EXIT_FAILURE);
    }
    CHECK(m1->is_connected == true);
    CHECK_STR(m1->target, "ptcp:6640");
    CHECK(m1->n_inactivity_probe == 1 && m1->inactivity_probe[0] == 5000);
    CHECK(m1->n_max_backoff == 0);
    CHECK_STR(odb_idl_map_get(m1->key_status, m1->value_status,
                              m1->n_status, "state"), "ACTIVE");
    CHECK(g1->n_managers == 1 && g1->managers[0] == m1);
    CHECK_STR(odb_idl_map_get(g1->key_other_config, g1->value_other_config,
                              g1->n_other_config, "k"), "v");

    test_apply(&db, "{'Manager': {'" M1 "': {'modify': {"
               "'is_connected': false}}}}");
    printf("idltest: modified\n");
    CHECK(idltest_manager_get(idl, M1) == m1 && !m1->is_connected);
    CHECK(idltest_manager_is_updated(m1, IDLTEST_MANAGER_COL_IS_CONNECTED));
    CHECK(g1->managers[0] == m1);

    test_db_destroy(&db);
    odb_idl_destroy(idl);
}

int
test_idl_main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: test-iovp idl SCHEMA\n");
        return EXIT_FAILURE;
    }
    test_hwvtep(argv[1]);
    test_mismatch(argv[1]);
    test_idltest(argv[1]);
    printf("%d checks, %d failed\n", n_checks, n_failures);
    return n_failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Bytes allocated and in use. */
static size_t
test_heap(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

int
test_idl_memory_main(int argc, char *argv[])
{
    if (argc != 3) {
        fprintf(stderr, "usage: test-iovp idl-memory SCHEMA N\n");
        return EXIT_FAILURE;
    }
    size_t n = strtoul(argv[2], NULL, 10);
    json_t *rows = json_object();

    /* Entries as a controller writes them: a sequence, an address and a
     * mask, a protocol and a port range. */
    for (size_t i = 0; i < n; i++) {
        char uuid[37];
        snprintf(uuid, sizeof uuid, "00000000-0000-0000-0000-%012x",
                 (unsigned int) i);
        json_object_set_new(rows, uuid, json_pack(
            "{s:{s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s}}", "insert",
            "sequence", (json_int_t) i, "source_ip", "10.0.0.0",
            "source_mask", "255.255.255.0", "ethertype", "0x800",
            "protocol", (json_int_t) 6, "dest_port_min", (json_int_t) 80,
            "dest_port_max", (json_int_t) 89, "direction", "ingress",
            "action", "permit"));
    }
    json_t *updates = json_pack("{s:o}", "ACL_entry", rows);

    /* As iovpd holds them: the model, and a replica that keeps only the
     * rows' UUIDs.  Then a replica alone, which keeps the values. */
    size_t sizes[2];
    for (int i = 0; i < 2; i++) {
        struct odb_idl *idl = i ? NULL : hwvtep_idl_create();
        size_t before = test_heap();
        struct odb_replica *r = test_replica__(
            argv[1], NULL, hwvtep_idl_monitor, hwvtep_idl_n_monitor,
            idl ? odb_idl_store(idl) : NULL);
        char *error = odb_replica_apply(r, updates, 2);
        if (error) {
            iovp_fatal(-1, "%s", error);
        }
        odb_replica_clear_changes(r);
        if (idl) {
            odb_idl_track_clear(idl);
        }
        sizes[i] = test_heap() - before;
        odb_replica_destroy(r);
        odb_idl_destroy(idl);
    }
    json_decref(updates);

    printf("%zu ACL_entry rows: model and replica %zu bytes per row, "
           "a replica that keeps the values %zu bytes per row\n",
           n, n ? sizes[0] / n : 0, n ? sizes[1] / n : 0);
    return EXIT_SUCCESS;
}
