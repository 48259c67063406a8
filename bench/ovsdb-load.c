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

/* "ovsdb-load REMOTE DB TABLE": how long iovp's OVSDB client takes to
 * receive and apply the initial monitor of every column of TABLE, and how
 * much memory the replica takes.  Prints one line:
 *
 *     rows=N ms=T rss_before_kb=A rss_after_kb=B
 *
 * The time runs from the start of the connection to the moment the replica
 * holds the complete table.  Used by bench/ovsdb-initial-monitor.py. */

#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include <openvswitch/vlog.h>

#include "lib/util.h"
#include "ovsdb/client.h"

struct load {
    struct odb_client *client;
    uv_timer_t timer;
    const char *table;
    long long int start;
    long long int end;
};

static long int
rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long int kb = -1;

    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6)) {
            kb = atol(line + 6);
        }
    }
    if (f) {
        fclose(f);
    }
    return kb;
}

static void
load_changed(struct odb_client *client, void *load_)
{
    struct load *load = load_;

    odb_replica_clear_changes(odb_client_replica(client));
    if (!load->end && odb_client_is_active(client)) {
        load->end = uv_hrtime();
        uv_timer_stop(&load->timer);
        uv_stop(uv_default_loop());
    }
}

static void
load_timeout(uv_timer_t *timer OVS_UNUSED)
{
    fprintf(stderr, "ovsdb-load: timed out\n");
    exit(EXIT_FAILURE);
}

int
main(int argc, char *argv[])
{
    if (argc != 4) {
        fprintf(stderr, "usage: ovsdb-load REMOTE DB TABLE\n");
        return EXIT_FAILURE;
    }
    ovs_set_program_name(argv[0], PACKAGE_VERSION);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_WARN);
    signal(SIGPIPE, SIG_IGN);

    struct odb_monitor_table table = { .table = argv[3] };
    struct odb_client_options options = {
        .remotes = argv[1],
        .session = {
            .database = argv[2],
            .tables = &table,
            .n_tables = 1,
        },
    };
    struct load load = { .table = argv[3] };
    uv_loop_t *loop = uv_default_loop();
    long int before = rss_kb();

    load.start = uv_hrtime();
    char *error = odb_client_create(loop, &options, load_changed, &load,
                                    &load.client);
    if (error) {
        fprintf(stderr, "ovsdb-load: %s\n", error);
        return EXIT_FAILURE;
    }
    uv_timer_init(loop, &load.timer);
    uv_timer_start(&load.timer, load_timeout, 600000, 0);
    uv_run(loop, UV_RUN_DEFAULT);

    long int after = rss_kb();
    printf("rows=%zu ms=%.1f rss_before_kb=%ld rss_after_kb=%ld\n",
           odb_replica_n_rows(odb_client_replica(load.client)),
           (load.end - load.start) / 1e6, before, after);

    odb_client_destroy(load.client);
    uv_close((uv_handle_t *) &load.timer, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    return uv_loop_close(loop) ? EXIT_FAILURE : EXIT_SUCCESS;
}
