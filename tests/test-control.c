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

/* "test-iovp control SOCKET": the control server (lib/control.c) and the
 * JSON-RPC stream (lib/jsonrpc-stream.c) on one libuv loop, in the manner
 * of libuv's own tests.  A server listens on SOCKET; clients made of
 * jrpc_streams connect to it and run a script of requests, printing each
 * reply; one client sends garbage and must be dropped; a command closes the
 * server from inside its own callback.  At the end every callback count is
 * printed and uv_loop_close() must return 0: a handle left open fails the
 * test. */

#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "lib/control.h"
#include "lib/jsonrpc-stream.h"
#include "lib/util.h"
#include "tests/test-iovp.h"

/* What happened, for the transcript. */
struct counts {
    int connects;
    int replies;
    int errors;
    int commands;
};

/* One client: a stream, and the requests it sends one after another. */
struct client {
    const char *name;
    struct jrpc_stream *stream;
    uv_connect_t connect;
    const char *const *requests;  /* JSON texts, NULL-terminated. */
    size_t next;
    struct counts *counts;
    struct control_server **serverp;
};

static void client_send_next(struct client *);

/* "test/close-server": replies, then closes the server from inside its own
 * callback, which must be safe. */
static void
cmd_close_server(struct control_conn *conn, int argc OVS_UNUSED,
                 const char *argv[] OVS_UNUSED, void *client_)
{
    struct client *client = client_;

    client->counts->commands++;
    control_reply(conn, "closing");
    control_server_close(*client->serverp);
    *client->serverp = NULL;
}

/* "test/echo ARG...": replies with its arguments, one a line. */
static void
cmd_echo(struct control_conn *conn, int argc, const char *argv[],
         void *client_)
{
    struct client *client = client_;
    char *text = iovp_xstrdup("");

    client->counts->commands++;
    for (int i = 1; i < argc; i++) {
        char *s = iovp_xasprintf("%s%s\n", text, argv[i]);
        free(text);
        text = s;
    }
    control_reply(conn, text);
    free(text);
}

static void
client_msg_cb(struct jrpc_stream *stream OVS_UNUSED, json_t *msg,
              void *client_)
{
    struct client *client = client_;
    char *s = json_dumps(msg, JSON_COMPACT);

    client->counts->replies++;
    printf("%s: %s\n", client->name, s);
    free(s);
    client_send_next(client);
}

static void
client_error_cb(struct jrpc_stream *stream, int error, const char *reason,
                void *client_)
{
    struct client *client = client_;

    client->counts->errors++;
    printf("%s: %s (%s)\n", client->name,
           error == UV_EOF ? "closed by server" : uv_err_name(error),
           reason);
    jrpc_stream_close(stream);
    client->stream = NULL;
}

static void
client_send_next(struct client *client)
{
    const char *text = client->requests[client->next];
    json_error_t error;

    if (!text) {
        printf("%s: done\n", client->name);
        jrpc_stream_close(client->stream);
        client->stream = NULL;
        return;
    }
    client->next++;

    json_t *msg = json_loads(text, JSON_DECODE_ANY, &error);
    if (msg) {
        jrpc_stream_send(client->stream, msg);
    } else {
        /* Not JSON: send the bytes as they are. */
        uv_buf_t buf = uv_buf_init((char *) text, strlen(text));
        uv_try_write(jrpc_stream_handle(client->stream), &buf, 1);
    }
}

static void
client_connect_cb(uv_connect_t *req, int status)
{
    struct client *client = req->data;

    if (status < 0) {
        printf("%s: connect failed (%s)\n", client->name,
               uv_strerror(status));
        jrpc_stream_close(client->stream);
        client->stream = NULL;
        return;
    }
    client->counts->connects++;
    jrpc_stream_start(client->stream, client->name);
    client_send_next(client);
}

static void
client_start(struct client *client, uv_loop_t *loop, const char *path)
{
    static const struct jrpc_stream_cbs cbs = {
        .msg = client_msg_cb,
        .error = client_error_cb,
    };

    client->stream = jrpc_stream_create(loop, UV_NAMED_PIPE, 1024 * 1024,
                                        &cbs, client);
    client->connect.data = client;
    uv_pipe_connect(&client->connect,
                    (uv_pipe_t *) jrpc_stream_handle(client->stream), path,
                    client_connect_cb);
}

int
test_control_main(int argc, char *argv[])
{
    static const char *const good[] = {
        "{\"method\":\"version\",\"params\":[],\"id\":1}",
        "{\"method\":\"test/echo\",\"params\":[\"a\",\"b\"],\"id\":2}",
        "{\"method\":\"nosuch\",\"params\":[],\"id\":3}",
        "{\"method\":\"set-options\",\"params\":[\"--format\",\"json\"],"
        "\"id\":4}",
        "{\"method\":\"list-commands\",\"params\":[],\"id\":5}",
        NULL,
    };
    static const char *const bad[] = {
        "{\"method\":\"version\",\"params\":[],\"id\":1}",
        "}{ not json",
        NULL,
    };
    static const char *const closer[] = {
        "{\"method\":\"test/close-server\",\"params\":[],\"id\":1}",
        "{\"method\":\"version\",\"params\":[],\"id\":2}",
        NULL,
    };
    struct control_server *server;
    struct counts counts = { 0, 0, 0, 0 };
    uv_loop_t loop;
    int error;

    if (argc != 2) {
        iovp_fatal(0, "usage: control SOCKET");
    }

    /* A write to a peer that has gone must fail, not kill us, as in
     * iovpd. */
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    uv_loop_init(&loop);
    error = control_server_open(&loop, argv[1], "test 1.0", &server);
    if (error) {
        iovp_fatal(error, "%s: cannot listen", argv[1]);
    }

    struct client clients[] = {
        { .name = "good", .requests = good },
        { .name = "bad", .requests = bad },
        { .name = "closer", .requests = closer },
    };
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(clients); i++) {
        clients[i].counts = &counts;
        clients[i].serverp = &server;
    }
    control_register(server, "test/echo", "ARG...", 0, 10, cmd_echo,
                     &clients[0]);
    control_register(server, "test/close-server", "", 0, 0,
                     cmd_close_server, &clients[2]);

    /* The first two clients run to their end; only then does the third
     * close the server. */
    client_start(&clients[0], &loop, argv[1]);
    client_start(&clients[1], &loop, argv[1]);
    while (clients[0].stream || clients[1].stream) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    client_start(&clients[2], &loop, argv[1]);
    uv_run(&loop, UV_RUN_DEFAULT);
    control_server_close(server);
    uv_run(&loop, UV_RUN_DEFAULT);

    printf("connects=%d replies=%d errors=%d commands=%d\n",
           counts.connects, counts.replies, counts.errors, counts.commands);
    error = uv_loop_close(&loop);
    printf("uv_loop_close: %s\n", error ? uv_err_name(error) : "0");
    return error ? EXIT_FAILURE : EXIT_SUCCESS;
}
