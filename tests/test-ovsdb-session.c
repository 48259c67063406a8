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

/* "test-iovp ovsdb-session FILE": a transcript of ovsdb/session.c and the
 * replica under it.  FILE holds one command a line ('#' starts a comment):
 *
 *   monitor DB [--leader-only] TABLE[:COLUMN,...]...   (first)
 *   connected | disconnected | probe
 *   recv JSON          a message from the server, or as "@FILE", read
 *                      from FILE
 *   reply ID JSON      a reply from the server to request ID, JSON being
 *                      the result or, as "@FILE", read from FILE
 *   error ID JSON      an error reply to request ID
 *   transact JSON      an array of operations
 *   condition TABLE JSON   monitor only the rows of TABLE matching JSON
 *   step               apply the next slice of an update being applied
 *   changes            print, then clear, the replica's changes
 *   dump               print the replica
 *   rows               print how many rows each table of the replica has
 *   stats              print the session's counters
 *
 * After each command it prints what the session queued to send ("send:"),
 * a reason to drop the connection ("drop:"), transaction outcomes ("txn
 * N:"), and "applying" while an update is being applied a slice at a
 * time. */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jsonrpc.h"
#include "lib/util.h"
#include "ovsdb/schema.h"
#include "ovsdb/session.h"
#include "tests/test-iovp.h"

static void
print_json(const char *prefix, const json_t *json)
{
    char *s = json_dumps(json, JSON_COMPACT | JSON_SORT_KEYS
                         | JSON_ENCODE_ANY);
    printf("%s%s\n", prefix, s);
    free(s);
}

static void
txn_cb(enum odb_txn_outcome outcome, const json_t *result, void *n_)
{
    printf("txn %d: %s", (int) (intptr_t) n_,
           odb_txn_outcome_to_string(outcome));
    if (result) {
        print_json(" ", result);
    } else {
        putchar('\n');
    }
}

static void
flush(struct odb_session *s)
{
    json_t *msg;

    while ((msg = odb_session_pop(s))) {
        print_json("send: ", msg);
        json_decref(msg);
    }
}

static void
print_changes(struct odb_replica *r)
{
    for (size_t i = 0; i < r->n_changes; i++) {
        const struct odb_change *c = &r->changes[i];
        printf("change: %s %s %s", odb_change_kind_to_string(c->kind),
               r->tables[c->table].schema->name, c->uuid);
        if (c->columns) {
            print_json(" ", c->columns);
        } else {
            putchar('\n');
        }
    }
    if (!r->n_changes) {
        printf("change: none\n");
    }
    odb_replica_clear_changes(r);
}

/* Parses "monitor DB [--leader-only] TABLE[:COL,...]..." into 'options'.
 * The strings live in 'line', which must outlive the session. */
static void
parse_monitor(char *line, struct odb_session_options *options)
{
    char *save = NULL;
    char *word;

    memset(options, 0, sizeof *options);
    strtok_r(line, " ", &save);
    options->database = strtok_r(NULL, " ", &save);
    struct odb_monitor_table *tables = NULL;
    size_t n = 0;
    while ((word = strtok_r(NULL, " ", &save))) {
        if (!strcmp(word, "--leader-only")) {
            options->leader_only = true;
            continue;
        }
        tables = iovp_xrealloc(tables, (n + 1) * sizeof *tables);
        char *colon = strchr(word, ':');
        tables[n].table = word;
        tables[n].columns = NULL;
        if (colon) {
            const char **columns = NULL;
            size_t n_columns = 0;
            char *save2 = NULL;

            *colon = '\0';
            for (char *c = strtok_r(colon + 1, ",", &save2); c;
                 c = strtok_r(NULL, ",", &save2)) {
                columns = iovp_xrealloc(columns,
                                        (n_columns + 2) * sizeof *columns);
                columns[n_columns++] = c;
            }
            columns[n_columns] = NULL;
            tables[n].columns = columns;
        }
        n++;
    }
    options->tables = tables;
    options->n_tables = n;
}

/* The conditions that the script set and the session took: the session
 * asks its owner for them when it starts a monitor. */
static json_t *
script_conditions(void *conds)
{
    return json_deep_copy(conds);
}

int
test_ovsdb_session_main(int argc, char *argv[])
{
    struct odb_session_options options;
    json_t *conds = json_object();
    struct odb_session *s = NULL;
    char *monitor_line = NULL;
    int n_txns = 0;
    char line[65536];
    FILE *file;

    if (argc != 2) {
        iovp_fatal(0, "usage: ovsdb-session FILE");
    }
    file = fopen(argv[1], "r");
    if (!file) {
        iovp_fatal(-1, "%s: cannot open", argv[1]);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    while (fgets(line, sizeof line, file)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#') {
            continue;
        }
        printf("> %s\n", line);

        char *arg = strchr(line, ' ');
        arg = arg ? arg + 1 : "";
        if (!strncmp(line, "monitor ", 8)) {
            monitor_line = iovp_xstrdup(line);
            parse_monitor(monitor_line, &options);
            options.conditions = script_conditions;
            options.conditions_aux = conds;
            s = odb_session_create(&options);
            continue;
        } else if (!s) {
            iovp_fatal(0, "the first command must be \"monitor\"");
        }

        if (!strcmp(line, "connected")) {
            odb_session_connected(s);
        } else if (!strcmp(line, "disconnected")) {
            odb_session_disconnected(s);
        } else if (!strcmp(line, "probe")) {
            odb_session_probe(s);
        } else if (!strncmp(line, "recv ", 5)) {
            json_error_t jerror;
            json_t *msg = (arg[0] == '@'
                           ? json_load_file(arg + 1, 0, &jerror)
                           : json_loads(arg, 0, &jerror));
            if (!msg) {
                iovp_fatal(0, "bad JSON: %s", jerror.text);
            }
            char *error = odb_session_receive(s, msg);
            json_decref(msg);
            if (error) {
                printf("drop: %s\n", error);
                free(error);
            }
            error = odb_session_take_reconnect(s);
            if (error) {
                printf("reconnect: %s\n", error);
                free(error);
            }
        } else if (!strncmp(line, "reply ", 6)
                   || !strncmp(line, "error ", 6)) {
            char *value = strchr(arg, ' ');
            json_error_t jerror;
            json_t *json;

            if (!value) {
                iovp_fatal(0, "usage: reply|error ID JSON");
            }
            *value++ = '\0';
            json = (value[0] == '@'
                    ? json_load_file(value + 1, 0, &jerror)
                    : json_loads(value, JSON_DECODE_ANY, &jerror));
            if (!json) {
                iovp_fatal(0, "bad JSON: %s", jerror.text);
            }
            json_t *id = json_integer(atoll(arg));
            json_t *msg = (line[0] == 'r'
                           ? jrpc_reply(json, id) : jrpc_error(json, id));
            json_decref(id);
            char *error = odb_session_receive(s, msg);
            json_decref(msg);
            if (error) {
                printf("drop: %s\n", error);
                free(error);
            }
        } else if (!strncmp(line, "transact ", 9)) {
            json_error_t jerror;
            json_t *ops = json_loads(arg, 0, &jerror);
            int n = n_txns++;
            if (!ops) {
                iovp_fatal(0, "bad JSON: %s", jerror.text);
            }
            if (odb_session_transact(s, ops, txn_cb, (void *) (intptr_t) n)) {
                printf("txn %d: not sent (not active)\n", n);
            }
        } else if (!strncmp(line, "condition ", 10)) {
            char *where = strchr(arg, ' ');
            json_error_t jerror;
            json_t *json;

            if (!where) {
                iovp_fatal(0, "usage: condition TABLE JSON");
            }
            *where++ = '\0';
            json = json_loads(where, 0, &jerror);
            if (!json) {
                iovp_fatal(0, "bad JSON: %s", jerror.text);
            }
            if (odb_session_set_condition(s, arg, json_incref(json))) {
                printf("condition refused\n");
            } else {
                json_object_set(conds, arg, json);
            }
            json_decref(json);
        } else if (!strcmp(line, "changes")) {
            if (odb_session_replica(s)) {
                print_changes(odb_session_replica(s));
            }
        } else if (!strcmp(line, "dump")) {
            if (odb_session_replica(s)) {
                json_t *dump = odb_replica_to_json(odb_session_replica(s));
                print_json("dump: ", dump);
                json_decref(dump);
            }
        } else if (!strcmp(line, "step")) {
            char *error = odb_session_run(s);
            if (error) {
                printf("drop: %s\n", error);
                free(error);
            }
        } else if (!strcmp(line, "rows")) {
            const struct odb_replica *r = odb_session_replica(s);
            printf("rows:");
            for (size_t i = 0; r && i < r->n_tables; i++) {
                printf(" %s=%zu", r->tables[i].schema->name,
                       odb_replica_table_n_rows(r, i));
            }
            putchar('\n');
        } else if (!strcmp(line, "stats")) {
            const struct odb_session_stats *st = odb_session_stats(s);
            printf("stats: state=%s full=%u resyncs=%u resumed=%u "
                   "updates=%u\n",
                   odb_session_state_to_string(odb_session_get_state(s)),
                   st->n_full, st->n_resyncs, st->n_resumed, st->n_updates);
        } else {
            iovp_fatal(0, "unknown command: %s", line);
        }
        if (odb_session_is_applying(s)) {
            printf("applying\n");
        }
        flush(s);
    }
    fclose(file);

    if (s) {
        for (size_t i = 0; i < options.n_tables; i++) {
            free((void *) options.tables[i].columns);
        }
        free((void *) options.tables);
        odb_session_destroy(s);
    }
    json_decref(conds);
    free(monitor_line);
    return EXIT_SUCCESS;
}
