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

/* A libFuzzer target for what an OVSDB server's bytes go through in iovpd:
 * the JSON-RPC framing (lib/jsonrpc.c) and the session and replica that
 * take the messages (ovsdb/session.c, ovsdb/replica.c, ovsdb/datum.c).
 *
 * Each input is a byte stream from a server to a session that is already
 * active with a small database (two tables, every kind of column type).
 * Whatever the input, nothing may crash, leak, or leave the replica with a
 * value that does not fit its schema (checked after every message). */

#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/vlog.h>

#include "lib/jsonrpc.h"
#include "lib/util.h"
#include "ovsdb/datum.h"
#include "ovsdb/schema.h"
#include "ovsdb/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char schema_text[] =
    "{\"name\":\"T\",\"version\":\"1.0.0\",\"tables\":{"
    "\"A\":{\"columns\":{"
    "\"name\":{\"type\":\"string\"},"
    "\"n\":{\"type\":{\"key\":{\"type\":\"integer\",\"minInteger\":0,"
    "\"maxInteger\":4095}}},"
    "\"r\":{\"type\":\"real\"},"
    "\"b\":{\"type\":\"boolean\"},"
    "\"tags\":{\"type\":{\"key\":\"string\",\"min\":0,"
    "\"max\":\"unlimited\"}},"
    "\"opt\":{\"type\":{\"key\":{\"type\":\"string\","
    "\"enum\":[\"set\",[\"x\",\"y\"]]},\"min\":0,\"max\":1}},"
    "\"m\":{\"type\":{\"key\":\"string\",\"value\":\"integer\","
    "\"min\":0,\"max\":\"unlimited\"}}}},"
    "\"B\":{\"columns\":{"
    "\"a\":{\"type\":{\"key\":{\"type\":\"uuid\",\"refTable\":\"A\"},"
    "\"min\":0,\"max\":\"unlimited\"}}}}}}";

static void
drain(struct odb_session *s)
{
    json_t *msg;

    while ((msg = odb_session_pop(s))) {
        json_decref(msg);
    }
}

/* Feeds 's' the reply 'result' (stolen) to request 'id'. */
static void
reply(struct odb_session *s, long long int id, json_t *result)
{
    json_t *msg = json_pack("{s:o, s:n, s:I}", "result", result, "error",
                            "id", (json_int_t) id);
    char *error = odb_session_receive(s, msg);

    if (error) {
        fprintf(stderr, "fuzz-ovsdb: setup failed: %s\n", error);
        abort();
    }
    json_decref(msg);
    drain(s);
}

/* Checks that every value in the replica fits its column's type. */
static void
check_replica(const struct odb_replica *r)
{
    for (size_t i = 0; i < r->n_tables; i++) {
        const struct odb_replica_table *t = &r->tables[i];
        const struct odb_row *row;

        HMAP_FOR_EACH (row, node, &t->rows) {
            for (size_t j = 0; j < t->n_columns; j++) {
                json_t *canonical;
                char *error = odb_datum_from_json(&t->columns[j]->type,
                                                  row->values[j],
                                                  &canonical);
                if (error || !json_equal(canonical, row->values[j])) {
                    fprintf(stderr, "fuzz-ovsdb: bad value in replica: %s\n",
                            error ? error : "not canonical");
                    abort();
                }
                json_decref(canonical);
            }
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct odb_monitor_table tables[] = {
        { "A", NULL }, { "B", NULL },
    };
    static const struct odb_session_options options = {
        .database = "T",
        .tables = tables,
        .n_tables = 2,
    };
    static bool initialized;
    struct odb_session *s;
    struct jrpc_parser parser;
    json_error_t jerror;

    if (!initialized) {
        vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
        initialized = true;
    }

    /* An active session, as after a real server's first replies. */
    s = odb_session_create(&options);
    odb_session_connected(s);
    drain(s);
    json_t *unknown = json_pack("{s:s}", "error", "unknown database");
    json_t *id = json_integer(0);
    json_t *msg = jrpc_error(unknown, id);
    json_decref(id);
    free(odb_session_receive(s, msg));
    json_decref(msg);
    drain(s);
    reply(s, 1, json_pack("[s]", "T"));
    reply(s, 2, json_loads(schema_text, 0, &jerror));
    reply(s, 3, json_pack("[b, s, {}]", 0,
                          "00000000-0000-0000-0000-000000000000"));
    if (!odb_session_is_active(s)) {
        fprintf(stderr, "fuzz-ovsdb: setup did not make the session "
                "active\n");
        abort();
    }

    /* Whatever the server sends now. */
    jrpc_parser_init(&parser, 1024 * 1024);
    while (size) {
        size_t used = jrpc_parser_feed(&parser, (const char *) data, size);
        data += used;
        size -= used;

        if (jrpc_parser_is_done(&parser)) {
            json_t *json;
            char *error = jrpc_parser_finish(&parser, &json);
            if (error) {
                free(error);
                break;
            }
            error = odb_session_receive(s, json);
            free(error);
            free(odb_session_take_reconnect(s));
            json_decref(json);
            drain(s);
            if (odb_session_replica(s)) {
                check_replica(odb_session_replica(s));
                odb_replica_clear_changes(odb_session_replica(s));
            }
        } else if (jrpc_parser_get_error(&parser)) {
            break;
        }
    }
    jrpc_parser_destroy(&parser);
    odb_session_destroy(s);
    return 0;
}
