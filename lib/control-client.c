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

#include "lib/control-client.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/jsonrpc.h"
#include "lib/util.h"

/* Largest reply accepted, in bytes. */
#define CONTROL_CLIENT_MAX_REPLY (64 * 1024 * 1024)

struct control_client {
    int fd;
    int timeout_ms;             /* Per request; negative waits forever. */
    long long int next_id;
    struct jrpc_parser parser;
};

/* Finds the control socket of 'target', as ovs-appctl does: a 'target' with
 * a '/' is the socket's file name itself; otherwise it names a daemon whose
 * pidfile <rundir>/'target'.pid gives the pid in <rundir>/'target'.PID.ctl,
 * <rundir> being iovp's (iovp_rundir()).  Returns NULL and the malloc()'d
 * file name in '*pathp', or a malloc()'d error message and NULL in
 * '*pathp'. */
char *
control_client_target_path(const char *target, char **pathp)
{
    return control_client_daemon_path(iovp_rundir(), target, pathp);
}

/* As control_client_target_path(), with 'rundir' for the run directory
 * (an Open vSwitch daemon's, say). */
char *
control_client_daemon_path(const char *rundir, const char *target,
                           char **pathp)
{
    char *pidfile;
    long int pid;
    FILE *file;
    int n;

    *pathp = NULL;
    if (strchr(target, '/')) {
        *pathp = iovp_xstrdup(target);
        return NULL;
    }

    pidfile = iovp_xasprintf("%s/%s.pid", rundir, target);
    file = fopen(pidfile, "r");
    if (!file) {
        char *error = iovp_xasprintf("cannot read pidfile \"%s\" (%s)",
                                     pidfile, strerror(errno));
        free(pidfile);
        return error;
    }
    n = fscanf(file, "%ld", &pid);
    fclose(file);
    if (n != 1 || pid <= 0) {
        char *error = iovp_xasprintf("pidfile \"%s\" does not hold a pid",
                                     pidfile);
        free(pidfile);
        return error;
    }
    free(pidfile);

    *pathp = iovp_xasprintf("%s/%s.%ld.ctl", rundir, target, pid);
    return NULL;
}

/* Connects to the control socket 'path'.  Each later request waits at most
 * 'timeout_ms' milliseconds for its reply (a negative value waits forever).
 * Returns 0 and the client in '*clientp', or a negative errno value and
 * NULL. */
int
control_client_open(const char *path, int timeout_ms,
                    struct control_client **clientp)
{
    struct sockaddr_un sun;
    int fd;

    *clientp = NULL;
    if (strlen(path) >= sizeof sun.sun_path) {
        return -ENAMETOOLONG;
    }
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    if (connect(fd, (struct sockaddr *) &sun, sizeof sun) < 0) {
        int error = -errno;
        close(fd);
        return error;
    }

    struct control_client *client = iovp_xzalloc(sizeof *client);
    client->fd = fd;
    client->timeout_ms = timeout_ms;
    jrpc_parser_init(&client->parser, CONTROL_CLIENT_MAX_REPLY);
    *clientp = client;
    return 0;
}

/* Closes 'client'.  Accepts NULL. */
void
control_client_close(struct control_client *client)
{
    if (client) {
        close(client->fd);
        jrpc_parser_destroy(&client->parser);
        free(client);
    }
}

static long long int
time_msec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Waits until 'client' can do 'events' or 'deadline' (a time_msec(), or
 * negative for none) passes.  Returns 0 or -ETIMEDOUT. */
static int
control_client_wait(struct control_client *client, short events,
                    long long int deadline)
{
    for (;;) {
        struct pollfd pfd = { .fd = client->fd, .events = events };
        int timeout = -1;
        int n;

        if (deadline >= 0) {
            long long int left = deadline - time_msec();
            if (left <= 0) {
                return -ETIMEDOUT;
            }
            timeout = left;
        }
        n = poll(&pfd, 1, timeout);
        if (n > 0) {
            return 0;
        } else if (n == 0) {
            return -ETIMEDOUT;
        } else if (errno != EINTR) {
            return -errno;
        }
    }
}

static int
control_client_send(struct control_client *client, const char *text,
                    long long int deadline)
{
    size_t len = strlen(text);

    while (len) {
        int error = control_client_wait(client, POLLOUT, deadline);
        if (error) {
            return error;
        }
        ssize_t n = send(client->fd, text, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return -errno;
        }
        text += n;
        len -= n;
    }
    return 0;
}

/* Reads one JSON value from 'client' into '*jsonp' (a new reference).
 * Returns 0, or a negative errno value with '*jsonp' NULL (-EPROTO if what
 * the server sent is not one JSON value). */
static int
control_client_recv(struct control_client *client, long long int deadline,
                    json_t **jsonp)
{
    *jsonp = NULL;
    while (!jrpc_parser_is_done(&client->parser)) {
        char buf[4096];
        int error = control_client_wait(client, POLLIN, deadline);
        if (error) {
            return error;
        }

        ssize_t n = recv(client->fd, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return -errno;
        } else if (n == 0) {
            return -ECONNRESET;
        }

        /* The server sends one reply per request, so whatever follows the
         * reply's value in 'buf' is a protocol error. */
        size_t used = jrpc_parser_feed(&client->parser, buf, n);
        if (jrpc_parser_get_error(&client->parser) || used < n) {
            return -EPROTO;
        }
    }

    char *error = jrpc_parser_finish(&client->parser, jsonp);
    if (error) {
        free(error);
        return -EPROTO;
    }
    return 0;
}

/* Sends 'command' with the 'argc' arguments in 'argv' to the server and
 * waits for its reply.  Returns 0 with either '*result' or '*error' set to
 * a new reference to what the server answered (the other NULL), or a
 * negative errno value with both NULL: -ETIMEDOUT when the reply did not
 * come in time, -EPROTO when it was not a well-formed reply. */
int
control_client_transact(struct control_client *client, const char *command,
                        int argc, const char *argv[],
                        json_t **result, json_t **error)
{
    long long int deadline = (client->timeout_ms < 0 ? -1
                              : time_msec() + client->timeout_ms);
    json_t *params = json_array();
    json_t *reply;
    char *text;
    int retval;

    *result = *error = NULL;
    for (int i = 0; i < argc; i++) {
        json_array_append_new(params, json_string(argv[i]));
    }
    long long int id = client->next_id++;
    json_t *request = jrpc_request(command, params, json_integer(id));
    text = json_dumps(request, JSON_COMPACT);
    json_decref(request);
    if (!text) {
        /* An argument that is not valid UTF-8 cannot be sent as JSON. */
        return -EINVAL;
    }

    retval = control_client_send(client, text, deadline);
    free(text);
    if (!retval) {
        retval = control_client_recv(client, deadline, &reply);
    }
    if (retval) {
        return retval;
    }

    struct jrpc_msg msg;
    char *msg_error = jrpc_msg_parse(reply, &msg);
    if (msg_error || (msg.type != JRPC_REPLY && msg.type != JRPC_ERROR)
        || !json_is_integer(msg.id) || json_integer_value(msg.id) != id) {
        free(msg_error);
        json_decref(reply);
        return -EPROTO;
    }
    if (msg.type == JRPC_REPLY) {
        *result = json_incref(msg.result);
    } else {
        *error = json_incref(msg.error);
    }
    json_decref(reply);
    return 0;
}
