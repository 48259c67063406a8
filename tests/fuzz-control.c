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

/* A libFuzzer target for the control socket (lib/control.c on
 * lib/jsonrpc-stream.c): what a client of iovpd's unixctl socket sends.
 *
 * One control server runs on a libuv loop for the whole run, on a socket
 * in a temporary directory, with the commands every server has
 * (list-commands, version, set-options), the vlog commands, and three of
 * the test's own: one that echoes its arguments as text, one as JSON, and
 * one that defers its reply to the next loop iteration.  Each input is
 * what one client writes on a new connection before it closes its
 * writing side; the client reads whatever comes back.  Whatever the
 * input, nothing may crash or leak, the server must answer or close the
 * connection, and it must still answer a well-formed request afterwards
 * (checked every 256 inputs). */

#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/vlog.h>
#include <uv.h>

#include "lib/control.h"
#include "lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t loop;
static struct control_server *server;
static char *socket_path;

static void
echo_text(struct control_conn *conn, int argc, const char *argv[],
          void *aux OVS_UNUSED)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    for (int i = 1; i < argc; i++) {
        ds_put_format(&s, "%s%s", i > 1 ? " " : "", argv[i]);
    }
    control_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
echo_json(struct control_conn *conn, int argc, const char *argv[],
          void *aux OVS_UNUSED)
{
    json_t *array = json_array();

    for (int i = 1; i < argc; i++) {
        json_array_append_new(array, json_string(argv[i]));
    }
    if (argc > 2 && !strcmp(argv[1], "error")) {
        json_decref(array);
        control_reply_error(conn, argv[2]);
    } else {
        control_reply_json(conn, array);
    }
}

/* A reply that comes later, as iovpd's commands that wait for the
 * switch's counters do. */
static void
later_cb(uv_timer_t *timer)
{
    control_deferred_reply(timer->data, "later");
    uv_close((uv_handle_t *) timer, (uv_close_cb) free);
}

static void
defer(struct control_conn *conn, int argc OVS_UNUSED,
      const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    uv_timer_t *timer = iovp_xzalloc(sizeof *timer);

    uv_timer_init(&loop, timer);
    timer->data = control_defer(conn);
    uv_timer_start(timer, later_cb, 0, 0);
}

/* Removes the socket and its directory when the fuzzer exits. */
static void
cleanup(void)
{
    char *dir = iovp_xstrdup(socket_path);

    unlink(socket_path);
    *strrchr(dir, '/') = '\0';
    rmdir(dir);
    free(dir);
}

static void
setup(void)
{
    char dir[] = "/tmp/fuzz-control-XXXXXX";

    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    if (!mkdtemp(dir) || uv_loop_init(&loop)) {
        abort();
    }
    socket_path = iovp_xasprintf("%s/fuzz.ctl", dir);
    atexit(cleanup);
    if (control_server_open(&loop, socket_path, "fuzz", &server)) {
        abort();
    }
    control_register_vlog(server);
    control_register(server, "echo", "[ARG...]", 0, INT_MAX, echo_text,
                     NULL);
    control_register(server, "echo-json", "[ARG...]", 0, 3, echo_json,
                     NULL);
    control_register(server, "defer", "", 0, 0, defer, NULL);
}

/* Writes 'data' to a new connection, closes its writing side and reads
 * until the server closes it.  Returns what came back, in '*reply'
 * (malloc()'d, NUL-terminated). */
static void
converse(const uint8_t *data, size_t size, char **reply)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    size_t n_reply = 0, sent = 0;
    bool shut = false;

    *reply = iovp_xzalloc(1);
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", socket_path);
    if (fd < 0 || connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        abort();
    }
    for (int spins = 0; spins < 100000; spins++) {
        if (sent < size) {
            ssize_t n = write(fd, data + sent, size - sent);
            if (n > 0) {
                sent += n;
            } else if (n < 0 && errno != EAGAIN) {
                sent = size;    /* The server closed it: fine. */
            }
        } else if (!shut) {
            shutdown(fd, SHUT_WR);
            shut = true;
        }
        uv_run(&loop, UV_RUN_NOWAIT);

        char buf[4096];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            *reply = iovp_xrealloc(*reply, n_reply + n + 1);
            memcpy(*reply + n_reply, buf, n);
            n_reply += n;
            (*reply)[n_reply] = '\0';
        } else if (n == 0 || (n < 0 && errno != EAGAIN)) {
            break;              /* Closed. */
        } else if (spins == 99999) {
            fprintf(stderr, "fuzz-control: the server keeps a connection "
                    "open after the client's end of input\n");
            abort();
        }
    }
    close(fd);
    for (int i = 0; i < 4; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char well_formed[]
        = "{\"method\":\"echo\",\"params\":[\"still\",\"here\"],\"id\":7}";
    static unsigned int n_inputs;
    char *reply;

    if (!server) {
        setup();
    }
    converse(data, size, &reply);
    free(reply);

    if (!(n_inputs++ % 256)) {
        converse((const uint8_t *) well_formed, strlen(well_formed), &reply);
        if (!strstr(reply, "still here")) {
            fprintf(stderr, "fuzz-control: no answer to a well-formed "
                    "request after the inputs so far: \"%s\"\n", reply);
            abort();
        }
        free(reply);
    }
    return 0;
}
