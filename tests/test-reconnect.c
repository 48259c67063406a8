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

/* "test-iovp reconnect FILE": a transcript of lib/reconnect.c.  FILE holds
 * one command a line ('#' starts a comment); the clock starts at 0:
 *
 *   backoff MIN MAX | probe MS | free-tries N      configure
 *   enable | connecting | connected | connect-failed | disconnected |
 *   activity                                        events, at the clock
 *   advance MS                                      moves the clock
 *   run                                             calls reconn_run()
 *
 * After each command it prints the clock, the state, the action that "run"
 * returned, and when the machine next wants to run. */

#include <config.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/reconnect.h"
#include "lib/util.h"
#include "tests/test-iovp.h"

static const char *
action_to_string(enum reconn_action action)
{
    switch (action) {
    case RECONN_NONE: return "none";
    case RECONN_CONNECT: return "connect";
    case RECONN_DISCONNECT: return "disconnect";
    case RECONN_PROBE: return "probe";
    }
    return "?";
}

int
test_reconnect_main(int argc, char *argv[])
{
    struct reconn r;
    long long int now = 0;
    char line[256];
    FILE *file;

    if (argc != 2) {
        iovp_fatal(0, "usage: reconnect FILE");
    }
    file = fopen(argv[1], "r");
    if (!file) {
        iovp_fatal(-1, "%s: cannot open", argv[1]);
    }
    reconn_init(&r, 1);

    while (fgets(line, sizeof line, file)) {
        const char *action = NULL;
        int a = 0, b = 0;

        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#') {
            continue;
        }

        if (sscanf(line, "backoff %d %d", &a, &b) == 2) {
            reconn_set_backoff(&r, a, b);
        } else if (sscanf(line, "probe %d", &a) == 1) {
            reconn_set_probe_interval(&r, a);
        } else if (sscanf(line, "free-tries %d", &a) == 1) {
            reconn_set_free_tries(&r, a);
        } else if (sscanf(line, "advance %d", &a) == 1) {
            now += a;
        } else if (!strcmp(line, "enable")) {
            reconn_enable(&r, now);
        } else if (!strcmp(line, "connecting")) {
            reconn_connecting(&r, now);
        } else if (!strcmp(line, "connected")) {
            reconn_connected(&r, now);
        } else if (!strcmp(line, "connect-failed")) {
            reconn_connect_failed(&r, now);
        } else if (!strcmp(line, "disconnected")) {
            reconn_disconnected(&r, now);
        } else if (!strcmp(line, "activity")) {
            reconn_activity(&r, now);
        } else if (!strcmp(line, "run")) {
            action = action_to_string(reconn_run(&r, now));
        } else {
            iovp_fatal(0, "unknown command: %s", line);
        }

        long long int timeout = reconn_timeout(&r);
        printf("%-16s t=%-6lld %s", line, now,
               reconn_state_to_string(r.state));
        if (action) {
            printf(" -> %s", action);
        }
        if (timeout != LLONG_MAX) {
            printf(" (next at %lld)", timeout);
        }
        putchar('\n');
    }
    fclose(file);
    return EXIT_SUCCESS;
}
