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

/* "test-iovp ovsdb-txn-stream [--leader-only] REMOTES N PROGRESS OUTPUT":
 * drives the OVSDB client (ovsdb/client.h) against a real hardware_vtep
 * server, through whatever happens to that server meanwhile.
 *
 * It sends N transactions, up to STREAM_WINDOW of them in flight at once,
 * the i-th inserting a Logical_Switch named "ls-i".  Each is made safe to
 * retry: a "wait" that no such row exists yet guards the insert, so a
 * transaction that already took effect fails its wait ("timed out")
 * instead of inserting twice.  A transaction whose outcome is unknown (the
 * connection dropped while it was in flight) is sent again once the client
 * is back.  Each outcome goes to PROGRESS as a line "i OUTCOME".
 *
 * When all N took effect and the replica shows them, it writes the replica
 * ({TABLE: {UUID: {COLUMN: VALUE}}}) to OUTPUT and exits 0; after 60
 * seconds it gives up and exits 1.  Either way it closes everything and
 * fails if uv_loop_close() finds a handle still open. */

#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "lib/util.h"
#include "ovsdb/client.h"
#include "tests/test-iovp.h"

/* Transactions in flight at once. */
#define STREAM_WINDOW 8

/* The state of one of the N transactions. */
enum txn_state {
    TXN_TO_SEND,
    TXN_IN_FLIGHT,
    TXN_DONE,
};

struct stream;

/* One transaction, the i-th. */
struct txn {
    struct stream *stream;
    int i;
    enum txn_state state;
};

struct stream {
    struct odb_client *client;
    uv_timer_t timer;
    uv_timer_t deadline;
    FILE *progress;
    const char *output;
    int n;                      /* Transactions to make. */
    struct txn *txns;           /* 'n' of them. */
    int n_done;
    int n_in_flight;
    int status;                 /* Exit status. */
};

static void
stream_txn_cb(enum odb_txn_outcome outcome, const json_t *result, void *t_)
{
    struct txn *t = t_;
    struct stream *s = t->stream;
    const char *error = (outcome == ODB_TXN_FAILED
                         ? json_string_value(json_object_get(result, "error"))
                         : NULL);

    s->n_in_flight--;
    if (outcome == ODB_TXN_COMMITTED) {
        fprintf(s->progress, "%d committed\n", t->i);
        t->state = TXN_DONE;
    } else if (error && !strcmp(error, "timed out")) {
        /* The wait failed: an earlier try of this one took effect. */
        fprintf(s->progress, "%d already committed\n", t->i);
        t->state = TXN_DONE;
    } else {
        char *r = result ? json_dumps(result, JSON_ENCODE_ANY) : NULL;
        fprintf(s->progress, "%d %s%s%s\n", t->i,
                odb_txn_outcome_to_string(outcome), r ? " " : "",
                r ? r : "");
        free(r);
        t->state = TXN_TO_SEND;
    }
    if (t->state == TXN_DONE) {
        s->n_done++;
    }
    fflush(s->progress);
}

/* Returns how many Logical_Switch rows the replica has. */
static size_t
stream_n_rows(const struct stream *s)
{
    const struct odb_replica *r = odb_client_replica(s->client);
    const struct odb_replica_table *t;

    t = r ? odb_replica_find_table(r, "Logical_Switch") : NULL;
    return t ? hmap_count(&t->rows) : 0;
}

static void
stream_finish(struct stream *s, int status)
{
    s->status = status;
    odb_client_destroy(s->client);
    s->client = NULL;
    free(s->txns);
    s->txns = NULL;
    uv_close((uv_handle_t *) &s->timer, NULL);
    uv_close((uv_handle_t *) &s->deadline, NULL);
}

static void
stream_tick(uv_timer_t *timer)
{
    struct stream *s = timer->data;

    for (int i = 0; i < s->n && s->n_in_flight < STREAM_WINDOW; i++) {
        struct txn *t = &s->txns[i];
        if (t->state != TXN_TO_SEND || !odb_client_is_active(s->client)) {
            continue;
        }

        char *name = iovp_xasprintf("ls-%d", i);
        json_t *ops = json_pack(
            "[{s:s, s:s, s:[[s, s, s]], s:[s], s:s, s:[], s:i},"
            " {s:s, s:s, s:{s:s}}]",
            "op", "wait", "table", "Logical_Switch",
            "where", "name", "==", name, "columns", "name", "until", "==",
            "rows", "timeout", 0,
            "op", "insert", "table", "Logical_Switch", "row", "name", name);
        free(name);
        if (!odb_client_transact(s->client, ops, stream_txn_cb, t)) {
            t->state = TXN_IN_FLIGHT;
            s->n_in_flight++;
        }
    }

    if (s->n_done == s->n && stream_n_rows(s) >= (size_t) s->n) {
        json_t *dump = odb_replica_to_json(odb_client_replica(s->client));
        int error = json_dump_file(dump, s->output, JSON_SORT_KEYS);
        json_decref(dump);
        stream_finish(s, error ? EXIT_FAILURE : EXIT_SUCCESS);
    }
}

static void
stream_deadline(uv_timer_t *timer)
{
    struct stream *s = timer->data;

    fprintf(s->progress, "gave up with %d of %d done\n", s->n_done, s->n);
    stream_finish(s, EXIT_FAILURE);
}

static void
stream_changed(struct odb_client *client, void *s_ OVS_UNUSED)
{
    odb_replica_clear_changes(odb_client_replica(client));
}

int
test_ovsdb_txn_stream_main(int argc, char *argv[])
{
    static const char *const columns[] = { "name", "description", NULL };
    static const struct odb_monitor_table tables[] = {
        { .table = "Logical_Switch", .columns = columns },
    };
    bool leader_only = false;
    struct stream s;
    uv_loop_t loop;
    char *error;

    if (argc > 1 && !strcmp(argv[1], "--leader-only")) {
        leader_only = true;
        argc--;
        argv++;
    }
    if (argc != 5) {
        iovp_fatal(0, "usage: ovsdb-txn-stream [--leader-only] REMOTES N "
                   "PROGRESS OUTPUT");
    }
    signal(SIGPIPE, SIG_IGN);
    memset(&s, 0, sizeof s);
    s.n = atoi(argv[2]);
    s.output = argv[4];
    s.progress = fopen(argv[3], "w");
    if (!s.progress) {
        iovp_fatal(-1, "%s: cannot open", argv[3]);
    }
    s.txns = iovp_xzalloc(MAX(1, s.n) * sizeof *s.txns);
    for (int i = 0; i < s.n; i++) {
        s.txns[i] = (struct txn) { .stream = &s, .i = i };
    }

    struct odb_client_options options = {
        .remotes = argv[1],
        .session = {
            .database = "hardware_vtep",
            .tables = tables,
            .n_tables = IOVP_ARRAY_SIZE(tables),
            .leader_only = leader_only,
        },
        .connection = {
            .min_backoff = 100,
            .max_backoff = 1000,
            .probe_interval = 1000,
            .seed = 42,
        },
    };
    uv_loop_init(&loop);
    error = odb_client_create(&loop, &options, stream_changed, &s,
                              &s.client);
    if (error) {
        iovp_fatal(0, "%s", error);
    }
    uv_timer_init(&loop, &s.timer);
    uv_timer_init(&loop, &s.deadline);
    s.timer.data = s.deadline.data = &s;
    uv_timer_start(&s.timer, stream_tick, 10, 10);
    uv_timer_start(&s.deadline, stream_deadline, 60000, 0);

    uv_run(&loop, UV_RUN_DEFAULT);
    fclose(s.progress);
    if (uv_loop_close(&loop)) {
        fprintf(stderr, "uv_loop_close: handles still open\n");
        return EXIT_FAILURE;
    }
    return s.status;
}
