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

#ifndef IOVP_CONTROL_H
#define IOVP_CONTROL_H 1

/* The control socket: Open vSwitch's unixctl protocol, served on libuv.
 *
 * A client connects to a Unix socket and sends JSON-RPC requests whose
 * method is a command's name and whose params are its arguments, all
 * strings.  The reply's result is the command's output, a string, and its
 * error a string that says what went wrong.  A stock "ovs-appctl -t SOCKET
 * COMMAND [ARG...]" is such a client, and so is iovp-ofctl.
 *
 * JSON output works as in newer Open vSwitch releases: a client first sends
 * "set-options --format json" on its connection; from then on results are
 * JSON values.  A command that has only text output replies, in that mode,
 * with {"reply-format": "plain", "reply": TEXT}.
 *
 * Built in: "list-commands", "version" and "set-options";
 * control_register_vlog() adds the "vlog/..." commands of Open vSwitch's
 * daemons, served by libopenvswitch's logging.
 *
 * The server bounds what each client can make it hold (the numbers are in
 * control.c): a request's size; the replies queued for a client, those that
 * come later (control_defer()) included, beyond which its further requests
 * wait, unparsed, until it reads, and a client that keeps sending all the
 * same is dropped; the time it goes on writing the last replies of a
 * closed connection to a client that does not read them, at exit too; the
 * number of connections, where one more closes a closed one still writing,
 * or one idle long enough, or, for a client that runs as root or as the
 * server's user, one of a client that does not, so that clients that hold
 * connections open without using them cannot lock out an administrator;
 * and the time a connection may stay idle.  A client that breaks the
 * protocol is dropped and its replies discarded.  A client that shuts down
 * its side after its requests still gets every reply.
 *
 * A program that serves it ignores SIGPIPE, so that a client that goes away
 * makes a write fail instead of killing the program.
 *
 * The prefix is "control_" because libopenvswitch already defines the
 * "unixctl_" names. */

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

struct control_server;
struct control_conn;

/* Default milliseconds after which a connection with no request waiting
 * for a reply, whose client neither sent a request nor read any of its
 * replies for that long, is closed (control_server_set_idle_timeout()).
 * ovs-appctl and iovp-ofctl send their request as soon as they connect;
 * only a client that holds connections open without using them meets
 * this. */
#define CONTROL_IDLE_TIMEOUT_DEFAULT (60 * 1000)

/* Output formats a connection can ask for, with their names. */
#define CONTROL_FORMATS                         \
    CONTROL_FORMAT(TEXT, "text")                \
    CONTROL_FORMAT(JSON, "json")

enum control_format {
#define CONTROL_FORMAT(ENUM, NAME) CONTROL_FMT_##ENUM,
    CONTROL_FORMATS
#undef CONTROL_FORMAT
};

/* Called for a request to a registered command.  'argv[0]' is the command's
 * name, 'argv[1]' to 'argv[argc - 1]' its arguments, already checked
 * against the registered minimum and maximum.  The callback replies with
 * exactly one of control_reply(), control_reply_json() or
 * control_reply_error() before it returns, or calls control_defer() and
 * replies later through what that returns. */
typedef void control_cb_func(struct control_conn *, int argc,
                             const char *argv[], void *aux);

int control_server_open(uv_loop_t *, const char *path, const char *version,
                        struct control_server **);
void control_server_close(struct control_server *);
const char *control_server_path(const struct control_server *);
void control_server_set_idle_timeout(struct control_server *,
                                     unsigned int msec);

void control_register(struct control_server *, const char *name,
                      const char *usage, int min_args, int max_args,
                      control_cb_func *, void *aux);
void control_register_vlog(struct control_server *);

enum control_format control_conn_format(const struct control_conn *);
void control_reply(struct control_conn *, const char *body);
void control_reply_json(struct control_conn *, json_t *body);
void control_reply_error(struct control_conn *, const char *error);

struct control_deferred;
struct control_deferred *control_defer(struct control_conn *);
enum control_format control_deferred_format(const struct control_deferred *);
bool control_deferred_is_orphaned(const struct control_deferred *);
void control_deferred_reply(struct control_deferred *, const char *body);
void control_deferred_reply_json(struct control_deferred *, json_t *body);
void control_deferred_reply_error(struct control_deferred *,
                                  const char *error);

#endif /* control.h */
