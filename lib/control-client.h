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

#ifndef IOVP_CONTROL_CLIENT_H
#define IOVP_CONTROL_CLIENT_H 1

/* A blocking client of the control socket (see lib/control.h), for command
 * line tools such as iovp-ofctl: one connection, one request at a time,
 * each with a timeout. */

#include <jansson.h>

struct control_client;

char *control_client_target_path(const char *target, char **pathp);
char *control_client_daemon_path(const char *rundir, const char *target,
                                 char **pathp);
int control_client_open(const char *path, int timeout_ms,
                        struct control_client **);
void control_client_close(struct control_client *);
int control_client_transact(struct control_client *, const char *command,
                            int argc, const char *argv[],
                            json_t **result, json_t **error);

#endif /* control-client.h */
