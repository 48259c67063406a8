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

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/vlog.h>

#include "lib/control.h"

/* The "vlog/..." control commands, as Open vSwitch's daemons have them, on
 * top of libopenvswitch's public logging API. */

/* "vlog/set [SPEC...]": sets log levels and patterns, each SPEC as
 * --verbose takes it; with none, every module logs everything to every
 * destination at "dbg". */
static void
vlog_cmd_set(struct control_conn *conn, int argc, const char *argv[],
             void *aux OVS_UNUSED)
{
    if (argc == 1) {
        vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_DBG);
    }
    for (int i = 1; i < argc; i++) {
        char *error = vlog_set_levels_from_string(argv[i]);
        if (error) {
            control_reply_error(conn, error);
            free(error);
            return;
        }
    }
    control_reply(conn, "");
}

/* "vlog/list": every module's level for each destination. */
static void
vlog_cmd_list(struct control_conn *conn, int argc OVS_UNUSED,
              const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    char *levels = vlog_get_levels();
    control_reply(conn, levels);
    free(levels);
}

/* "vlog/list-pattern": the pattern of each destination. */
static void
vlog_cmd_list_pattern(struct control_conn *conn, int argc OVS_UNUSED,
                      const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    char *patterns = vlog_get_patterns();
    control_reply(conn, patterns);
    free(patterns);
}

/* "vlog/reopen": reopens the log file, for log rotation. */
static void
vlog_cmd_reopen(struct control_conn *conn, int argc OVS_UNUSED,
                const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    char *file = vlog_get_log_file();
    int error = file ? vlog_reopen_log_file() : 0;

    if (!file) {
        control_reply_error(conn, "Logging to file not configured");
    } else if (error) {
        control_reply_error(conn, strerror(error));
    } else {
        control_reply(conn, "");
    }
    free(file);
}

/* Registers the "vlog/..." commands on 'server'. */
void
control_register_vlog(struct control_server *server)
{
    control_register(server, "vlog/set",
                     "{spec | PATTERN:destination:pattern}", 0, INT_MAX,
                     vlog_cmd_set, NULL);
    control_register(server, "vlog/list", "", 0, 0, vlog_cmd_list, NULL);
    control_register(server, "vlog/list-pattern", "", 0, 0,
                     vlog_cmd_list_pattern, NULL);
    control_register(server, "vlog/reopen", "", 0, 0, vlog_cmd_reopen, NULL);
}
