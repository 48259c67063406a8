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

#include "lib/control.h"

#include <errno.h>
#include <inttypes.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/list.h>
#include <openvswitch/vlog.h>

#include "lib/jsonrpc-stream.h"
#include "lib/jsonrpc.h"
#include "lib/util.h"

VLOG_DEFINE_THIS_MODULE(control);

/* Largest request accepted, in bytes; a larger one closes the connection.
 * It is also the most that a client may send while its connection is paused
 * (see below) before it is dropped. */
#define CONTROL_MAX_REQUEST (1024 * 1024)

/* Most connections served at once, counting those closed that are still
 * writing their last replies.  One more makes room as
 * control_server_make_room() says; if it cannot, the new one is closed.
 * A connection whose client did something less than CONTROL_MIN_IDLE ms
 * ago is not closed to make room for one of the same or a lower rank, so
 * that a flood of connections cannot close an administrator's before its
 * request is read. */
#define CONTROL_MAX_CONNS 64
#define CONTROL_MIN_IDLE 1000

/* Milliseconds after the last connection dropped with replies queued or
 * requests held, at which memory is given back to the system. */
#define CONTROL_TRIM_DELAY 1000

/* The limits that keep a client from making iovpd hold without bound what
 * it does not read.  Once a connection has more than CONTROL_MAX_BACKLOG
 * bytes of replies queued, or a request waiting for a reply that comes
 * later (control_defer()), no more of its requests are parsed until the
 * client has read (or the waiting request has been answered).  A request
 * is parsed only when neither holds, and it makes one reply, at once or
 * later, so iovpd queues at most CONTROL_MAX_BACKLOG bytes plus one reply
 * for a client.  (Allowing more than one deferred request at a time would
 * break that: their replies could all come at once, each queued whole.)
 * What the client sends meanwhile is held, up to CONTROL_MAX_REQUEST
 * bytes; more means the client sends requests and does not read the
 * replies, and it is dropped, as Open vSwitch's jsonrpc drops a peer over
 * its backlog limit.  A reply larger than the limit is still sent whole to
 * a client that reads it. */
#define CONTROL_MAX_BACKLOG (1024 * 1024)


static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

struct control_command {
    char *name;
    char *usage;
    int min_args, max_args;
    control_cb_func *cb;
    void *aux;
};

struct control_server {
    uv_pipe_t listener;
    uv_timer_t idle_timer;      /* Closes idle connections. */
    unsigned int idle_timeout;  /* In milliseconds; 0 for none. */
    uv_timer_t trim_timer;      /* control_server_trim_cb(). */

    /* Open libuv handles, the connections' included: freed when 0. */
    int n_handles;
    char *path;                 /* The socket's file name. */
    char *version;              /* What "version" replies. */

    struct control_command *commands;
    size_t n_commands, allocated_commands;

    /* Contains "struct control_conn"s, until their streams are closed.
     * 'n_conns' counts those not aborted: the connections served and those
     * still writing their last replies. */
    struct ovs_list conns;
    size_t n_conns;

    bool dispatching;           /* Inside a command's callback? */
    bool close_pending;         /* Closed from inside a callback. */
    bool closing;
};

struct control_conn {
    struct ovs_list node;       /* In 'server->conns'. */
    struct control_server *server;
    struct jrpc_stream *stream;
    enum control_format format;

    json_t *request_id;         /* The request being answered, or NULL. */
    bool busy;                  /* Inside a command's callback? */
    bool dead;                  /* Failed while busy: abort after. */
    bool eof;                   /* The client shut down its side. */
    bool closing;               /* control_conn_close() was called. */
    bool aborted;               /* ...without writing what is queued. */
    bool trim;                  /* Dropped holding much: trim memory. */
    bool privileged;            /* The client runs as root or as iovpd. */
    struct ovs_list deferred;   /* Its "struct control_deferred"s. */

    /* When the client last did something: connected, sent a request, read
     * some of its replies, or was sent a reply (uv_now()). */
    uint64_t last_used;
};

/* A request whose reply comes later (control_defer()). */
struct control_deferred {
    struct ovs_list node;       /* In 'conn->deferred'. */
    struct control_conn *conn;  /* NULL once the connection is gone. */
    json_t *request_id;
    enum control_format format;
};

static void control_server_close__(struct control_server *);
static void control_server_arm_idle_timer(struct control_server *);
static void control_server_unref(struct control_server *);

static const char *
control_format_to_string(enum control_format format)
{
    switch (format) {
#define CONTROL_FORMAT(ENUM, NAME) case CONTROL_FMT_##ENUM: return NAME;
        CONTROL_FORMATS
#undef CONTROL_FORMAT
    }
    return "(unknown)";
}

static bool
control_format_from_string(const char *s, enum control_format *format)
{
#define CONTROL_FORMAT(ENUM, NAME)              \
    if (!strcmp(s, NAME)) {                     \
        *format = CONTROL_FMT_##ENUM;           \
        return true;                            \
    }
    CONTROL_FORMATS
#undef CONTROL_FORMAT
    return false;
}

/* Returns true if 'conn' is open and has no request in progress or
 * waiting for a reply: closing it loses the client nothing but the
 * connection. */
static bool
control_conn_is_idle(const struct control_conn *conn)
{
    return (!conn->closing && !conn->busy
            && ovs_list_is_empty(&conn->deferred));
}

/* Notes that the client on 'conn' did something now. */
static void
control_conn_touch(struct control_conn *conn)
{
    conn->last_used = uv_now(jrpc_stream_handle(conn->stream)->loop);
}

/* Gives memory back to the system, CONTROL_TRIM_DELAY after the last
 * connection that wanted it was dropped.
 *
 * What a client that did not read made iovpd hold (its replies queued, its
 * requests held) is freed by then, but it was many small blocks that glibc
 * keeps in its heap rather than return: iovpd would stay as large as the
 * worst client ever made it (a megabyte kept after one such client,
 * measured).  Once for a burst of such connections, not once each: a trim
 * walks the whole heap. */
static void
control_server_trim_cb(uv_timer_t *timer OVS_UNUSED)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

/* Called once the stream of 'conn' is closed: its file descriptor and what
 * was queued on it are gone, so 'conn' no longer takes a slot. */
static void
control_conn_closed_cb(void *conn_)
{
    struct control_conn *conn = conn_;
    struct control_server *server = conn->server;

    ovs_list_remove(&conn->node);
    if (!conn->aborted) {
        server->n_conns--;
    }
    if (conn->trim && !server->closing) {
        uv_timer_start(&server->trim_timer, control_server_trim_cb,
                       CONTROL_TRIM_DELAY, 0);
    }
    free(conn);
    control_server_unref(server);
}

/* Closes 'conn'.  If 'flush', the replies queued on it are still written,
 * as long as the client reads (see bstream_close()), and 'conn' keeps its
 * slot until they are; otherwise they are discarded, for a client that has
 * not read them and, being dropped, never will, and the slot is free at
 * once.  A closing connection may be closed again without 'flush', to
 * discard what it still had to write.  'conn' is freed once its stream is
 * closed (control_conn_closed_cb()). */
static void
control_conn_close(struct control_conn *conn, bool flush)
{
    if (!conn->closing) {
        struct control_deferred *d;

        conn->closing = true;
        LIST_FOR_EACH_POP (d, node, &conn->deferred) {
            d->conn = NULL;
        }
        json_decref(conn->request_id);
        conn->request_id = NULL;
        if (flush) {
            jrpc_stream_close(conn->stream);
            return;
        }
    }
    if (!flush && !conn->aborted) {
        conn->aborted = true;
        conn->server->n_conns--;
        conn->trim = (jrpc_stream_backlog(conn->stream) > 0
                      || jrpc_stream_is_paused(conn->stream));
        jrpc_stream_abort(conn->stream);
    }
}

/* Closes 'conn' and discards the replies queued on it. */
static void
control_conn_abort(struct control_conn *conn)
{
    control_conn_close(conn, false);
}

/* Closes 'conn', whose client shut down its side, once nothing it asked
 * for is left to answer: its replies are then written as they would be
 * to a client that had not. */
static void
control_conn_finish_eof(struct control_conn *conn)
{
    if (conn->eof && !conn->closing && !conn->busy
        && ovs_list_is_empty(&conn->deferred)
        && !jrpc_stream_is_paused(conn->stream)) {
        VLOG_DBG("%s: client shut down its side; closing after the "
                 "replies", conn->server->path);
        control_conn_close(conn, true);
    }
}

static void
control_send_reply(struct control_conn *conn, bool success, json_t *body)
{
    if (!conn->request_id) {
        VLOG_ERR("%s: reply to a connection with no request in progress",
                 conn->server->path);
        json_decref(body);
        return;
    }

    json_t *reply = (success
                     ? jrpc_reply(body, conn->request_id)
                     : jrpc_error(body, conn->request_id));
    json_decref(conn->request_id);
    conn->request_id = NULL;

    /* A failure to send is reported through the stream's error callback,
     * which drops the connection. */
    jrpc_stream_send(conn->stream, reply);

    /* The idle time of a connection counts from its last reply, whenever
     * that comes: a deferred reply may come long after the request. */
    control_conn_touch(conn);
    control_server_arm_idle_timer(conn->server);
}

/* Returns a JSON string of 'body' with a new-line at its end, as ovs-appctl
 * expects text to end. */
static json_t *
control_text(const char *body)
{
    size_t len;

    body = body ? body : "";
    len = strlen(body);
    if (len && body[len - 1] != '\n') {
        char *s = iovp_xasprintf("%s\n", body);
        json_t *json = json_string(s);
        free(s);
        return json;
    }
    return json_string(body);
}

/* Replies to the request in progress on 'conn' with the text 'body'.  A
 * connection in JSON mode receives {"reply-format": "plain", "reply":
 * 'body'}. */
void
control_reply(struct control_conn *conn, const char *body)
{
    json_t *text = control_text(body);

    if (conn->format == CONTROL_FMT_JSON) {
        control_send_reply(conn, true,
                           json_pack("{s:s, s:o}", "reply-format", "plain",
                                     "reply", text));
    } else {
        control_send_reply(conn, true, text);
    }
}

/* Replies to the request in progress on 'conn' with 'body'.  Steals 'body',
 * even on failure.  A connection in text mode receives 'body' printed as
 * indented JSON text; commands that have a text form of their own check
 * control_conn_format() and call control_reply() instead. */
void
control_reply_json(struct control_conn *conn, json_t *body)
{
    if (conn->format == CONTROL_FMT_JSON) {
        control_send_reply(conn, true, body);
    } else {
        char *s = json_dumps(body, JSON_INDENT(4) | JSON_ENCODE_ANY);
        control_reply(conn, s);
        free(s);
        json_decref(body);
    }
}

/* Replies to the request in progress on 'conn' with the error 'error'. */
void
control_reply_error(struct control_conn *conn, const char *error)
{
    control_send_reply(conn, false, control_text(error));
}

/* Called from a command's callback instead of a reply: the reply will
 * come later, from one of the control_deferred_reply*() functions, which
 * the caller must call exactly once with what this returns.  If the client
 * goes away meanwhile, that reply goes nowhere. */
struct control_deferred *
control_defer(struct control_conn *conn)
{
    struct control_deferred *d = iovp_xmalloc(sizeof *d);

    d->conn = conn;
    d->request_id = conn->request_id;
    d->format = conn->format;
    conn->request_id = NULL;
    ovs_list_push_back(&conn->deferred, &d->node);
    return d;
}

/* Returns the output format that the client of 'd' had asked for. */
enum control_format
control_deferred_format(const struct control_deferred *d)
{
    return d->format;
}

/* Returns true if the connection of 'd' is gone: its reply would go
 * nowhere, so a caller that holds work or a place in a queue for it may
 * reply now (which frees 'd') and spare the work. */
bool
control_deferred_is_orphaned(const struct control_deferred *d)
{
    return !d->conn;
}

/* Makes 'd''s request the one in progress on its connection for a reply,
 * and returns the connection, or frees 'd' and returns NULL if the
 * connection is gone.  '*saved' keeps what was in progress. */
static struct control_conn *
control_deferred_begin(struct control_deferred *d, json_t **saved_id,
                       enum control_format *saved_format)
{
    struct control_conn *conn = d->conn;

    if (!conn) {
        json_decref(d->request_id);
        free(d);
        return NULL;
    }
    ovs_list_remove(&d->node);
    *saved_id = conn->request_id;
    *saved_format = conn->format;
    conn->request_id = d->request_id;
    conn->format = d->format;
    free(d);
    return conn;
}

static void
control_deferred_end(struct control_conn *conn, json_t *saved_id,
                     enum control_format saved_format)
{
    conn->request_id = saved_id;
    conn->format = saved_format;
}

/* Replies to 'd' as control_reply() does, and frees 'd'. */
void
control_deferred_reply(struct control_deferred *d, const char *body)
{
    enum control_format format;
    json_t *id;
    struct control_conn *conn = control_deferred_begin(d, &id, &format);

    if (conn) {
        control_reply(conn, body);
        control_deferred_end(conn, id, format);
        control_conn_finish_eof(conn);
    }
}

/* Replies to 'd' as control_reply_json() does (stealing 'body'), and frees
 * 'd'. */
void
control_deferred_reply_json(struct control_deferred *d, json_t *body)
{
    enum control_format format;
    json_t *id;
    struct control_conn *conn = control_deferred_begin(d, &id, &format);

    if (conn) {
        control_reply_json(conn, body);
        control_deferred_end(conn, id, format);
        control_conn_finish_eof(conn);
    } else {
        json_decref(body);
    }
}

/* Replies to 'd' as control_reply_error() does, and frees 'd'. */
void
control_deferred_reply_error(struct control_deferred *d, const char *error)
{
    enum control_format format;
    json_t *id;
    struct control_conn *conn = control_deferred_begin(d, &id, &format);

    if (conn) {
        control_reply_error(conn, error);
        control_deferred_end(conn, id, format);
        control_conn_finish_eof(conn);
    }
}

/* Returns the output format that the client on 'conn' asked for. */
enum control_format
control_conn_format(const struct control_conn *conn)
{
    return conn->format;
}

static const struct control_command *
control_find_command(const struct control_server *server, const char *name)
{
    for (size_t i = 0; i < server->n_commands; i++) {
        if (!strcmp(server->commands[i].name, name)) {
            return &server->commands[i];
        }
    }
    return NULL;
}

/* Registers the command 'name' on 'server': 'usage' describes its
 * arguments for "list-commands", it takes from 'min_args' to 'max_args'
 * arguments, and 'cb' is called with 'aux' to answer it.  Registering a name
 * again replaces the earlier command. */
void
control_register(struct control_server *server, const char *name,
                 const char *usage, int min_args, int max_args,
                 control_cb_func *cb, void *aux)
{
    struct control_command *c;
    size_t i;

    for (i = 0; i < server->n_commands; i++) {
        if (strcmp(server->commands[i].name, name) >= 0) {
            break;
        }
    }
    if (i < server->n_commands && !strcmp(server->commands[i].name, name)) {
        c = &server->commands[i];
        free(c->name);
        free(c->usage);
    } else {
        if (server->n_commands >= server->allocated_commands) {
            server->allocated_commands = MAX(8,
                                             2 * server->allocated_commands);
            server->commands = iovp_xrealloc(
                server->commands,
                server->allocated_commands * sizeof *server->commands);
        }
        /* Kept sorted by name, for "list-commands". */
        memmove(&server->commands[i + 1], &server->commands[i],
                (server->n_commands - i) * sizeof *server->commands);
        server->n_commands++;
        c = &server->commands[i];
    }
    c->name = iovp_xstrdup(name);
    c->usage = iovp_xstrdup(usage);
    c->min_args = min_args;
    c->max_args = max_args;
    c->cb = cb;
    c->aux = aux;
}

/* Returns true if 'conn' has as much queued for its client, or coming,
 * as iovpd will queue (see CONTROL_MAX_BACKLOG). */
static bool
control_conn_is_full(const struct control_conn *conn)
{
    return (jrpc_stream_backlog(conn->stream) > CONTROL_MAX_BACKLOG
            || !ovs_list_is_empty(&conn->deferred));
}

static void
control_dispatch(struct control_conn *conn, const struct jrpc_msg *msg)
{
    struct control_server *server = conn->server;
    const struct control_command *command;
    size_t n_args = json_array_size(msg->params);
    char *error = NULL;

    conn->request_id = json_incref(msg->id);
    command = control_find_command(server, msg->method);
    if (!command) {
        error = iovp_xasprintf("\"%s\" is not a valid command (use "
                               "\"list-commands\" to see a list of valid "
                               "commands)", msg->method);
    } else if (n_args < command->min_args) {
        error = iovp_xasprintf("\"%s\" command requires at least %d "
                               "arguments", msg->method, command->min_args);
    } else if (n_args > command->max_args) {
        error = iovp_xasprintf("\"%s\" command takes at most %d arguments",
                               msg->method, command->max_args);
    } else {
        const char **argv = iovp_xmalloc((n_args + 2) * sizeof *argv);

        argv[0] = msg->method;
        for (size_t i = 0; i < n_args; i++) {
            json_t *arg = json_array_get(msg->params, i);
            if (!json_is_string(arg)) {
                error = iovp_xasprintf("\"%s\" command has non-string "
                                       "argument", msg->method);
                break;
            }
            argv[i + 1] = json_string_value(arg);
        }
        argv[n_args + 1] = NULL;

        if (!error) {
            VLOG_DBG("%s: running \"%s\" with %zu arguments", server->path,
                     msg->method, n_args);
            conn->busy = server->dispatching = true;
            command->cb(conn, n_args + 1, argv, command->aux);
            conn->busy = server->dispatching = false;
            if (conn->request_id) {
                VLOG_ERR("\"%s\" command did not reply", msg->method);
                error = iovp_xasprintf("internal error: \"%s\" command did "
                                       "not reply", msg->method);
            }
        }
        free(argv);
    }

    if (error) {
        control_reply_error(conn, error);
        free(error);
    }
}

static void
control_conn_msg_cb(struct jrpc_stream *stream, json_t *json, void *conn_)
{
    struct control_conn *conn = conn_;
    struct control_server *server = conn->server;
    struct jrpc_msg msg;
    char *error;

    error = jrpc_msg_parse(json, &msg);
    if (!error && msg.type != JRPC_REQUEST) {
        error = iovp_xasprintf("unexpected %s message",
                               jrpc_msg_type_to_string(msg.type));
    }
    if (error) {
        /* Not a client that deserves its replies: none is written more,
         * so that it cannot make iovpd hold them while it does not read. */
        VLOG_WARN_RL(&rl, "%s: dropping connection: %s",
                     jrpc_stream_name(stream), error);
        free(error);
        control_conn_abort(conn);
        return;
    }

    control_conn_touch(conn);
    control_dispatch(conn, &msg);
    if (conn->dead) {
        control_conn_abort(conn);
    } else if (control_conn_is_full(conn)) {
        /* Backpressure: parse no more of what the client sent until it has
         * read (control_conn_sent_cb() resumes). */
        VLOG_DBG("%s: pausing a connection with %zu bytes of replies "
                 "queued and %zu requests waiting", server->path,
                 jrpc_stream_backlog(conn->stream),
                 ovs_list_size(&conn->deferred));
        jrpc_stream_pause(stream);
    }
    if (server->close_pending) {
        control_server_close__(server);
    }
}

/* Some of the replies queued on 'conn' were written: the client reads. */
static void
control_conn_sent_cb(struct jrpc_stream *stream, void *conn_)
{
    struct control_conn *conn = conn_;

    control_conn_touch(conn);
    if (jrpc_stream_is_paused(stream) && !control_conn_is_full(conn)) {
        VLOG_DBG("%s: resuming a connection", conn->server->path);
        jrpc_stream_resume(stream);
        control_conn_finish_eof(conn);
    }
}

/* The client on 'conn' shut down its side of the connection, as "socat"
 * and "nc -N" do once they have sent their requests: it still reads. */
static void
control_conn_eof_cb(struct jrpc_stream *stream OVS_UNUSED, void *conn_)
{
    struct control_conn *conn = conn_;

    conn->eof = true;
    control_conn_finish_eof(conn);
}

static void
control_conn_error_cb(struct jrpc_stream *stream, int error,
                      const char *reason, void *conn_)
{
    struct control_conn *conn = conn_;

    if (error == UV_EOF) {
        VLOG_DBG("%s: %s", jrpc_stream_name(stream), reason);
    } else {
        VLOG_WARN_RL(&rl, "%s: dropping connection: %s",
                     jrpc_stream_name(stream), reason);
    }
    if (conn->busy) {
        conn->dead = true;
    } else {
        control_conn_abort(conn);
    }
}

/* Returns true if 'a' is a better connection to close than 'b' (which may
 * be NULL) to make room: a client that is not privileged before one that
 * is, then one idle before one that is not, then the one whose client did
 * something the longest ago. */
static bool
control_conn_evict_before(const struct control_conn *a,
                          const struct control_conn *b)
{
    if (!b) {
        return true;
    } else if (a->privileged != b->privileged) {
        return !a->privileged;
    } else if (control_conn_is_idle(a) != control_conn_is_idle(b)) {
        return control_conn_is_idle(a);
    } else {
        return a->last_used < b->last_used;
    }
}

/* Closes a connection of 'server', other than 'new', so that 'new' may be
 * served: slots held by clients that do nothing must not lock out an
 * administrator.  In order of choice: every connection whose client has
 * closed its end (clients that send and leave at once may be accepted
 * many at a time, before any of them is read); a connection already closed
 * that is still writing its last replies; a connection idle for
 * CONTROL_MIN_IDLE or longer, a privileged client's last; and, if 'new''s
 * client is privileged, any connection of a client that is not.  Returns
 * false if there is none of these. */
static bool
control_server_make_room(struct control_server *server,
                         const struct control_conn *new)
{
    /* Its own, so that a flood's refusals do not hide what it closed. */
    static struct vlog_rate_limit evict_rl = VLOG_RATE_LIMIT_INIT(5, 5);
    uint64_t now = uv_now(server->listener.loop);
    struct control_conn *closing = NULL, *idle = NULL, *other = NULL;
    struct control_conn *conn;
    int n_gone = 0;

    LIST_FOR_EACH (conn, node, &server->conns) {
        if (conn == new || conn->aborted) {
            continue;
        } else if (jrpc_stream_is_peer_gone(conn->stream)) {
            /* No reply of its can be read: it loses nothing. */
            control_conn_abort(conn);
            n_gone++;
        } else if (conn->closing) {
            closing = conn;
        } else if (control_conn_is_idle(conn)
                   && now - conn->last_used >= CONTROL_MIN_IDLE) {
            if (control_conn_evict_before(conn, idle)) {
                idle = conn;
            }
        } else if (new->privileged && !conn->privileged
                   && control_conn_evict_before(conn, other)) {
            other = conn;
        }
    }
    if (n_gone) {
        VLOG_DBG("%s: serving %d connections already: closed %d whose "
                 "clients had left", server->path, CONTROL_MAX_CONNS, n_gone);
    } else if (closing) {
        VLOG_INFO_RL(&evict_rl, "%s: serving %d connections already: "
                     "discarding the last replies of one closed",
                     server->path, CONTROL_MAX_CONNS);
        control_conn_abort(closing);
    } else if (idle) {
        VLOG_INFO_RL(&evict_rl, "%s: serving %d connections already: "
                     "closing the one idle for the longest (%"PRIu64" ms)%s",
                     server->path, CONTROL_MAX_CONNS, now - idle->last_used,
                     idle->privileged ? "" : ", of an unprivileged client");
        control_conn_abort(idle);
    } else if (other) {
        VLOG_INFO_RL(&evict_rl, "%s: serving %d connections already: "
                     "closing one of an unprivileged client for a "
                     "privileged one", server->path, CONTROL_MAX_CONNS);
        control_conn_abort(other);
    } else {
        return false;
    }
    return true;
}

/* Returns true if the client on 'conn' runs as root or as this process's
 * user: the administrator, whom control_server_make_room() lets in before
 * others who may connect (the socket's group). */
static bool
control_conn_is_privileged(struct control_conn *conn)
{
    uv_os_fd_t fd;
    struct ucred cred;
    socklen_t len = sizeof cred;

    if (uv_fileno((uv_handle_t *) jrpc_stream_handle(conn->stream), &fd)
        || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
        return false;
    }
    return cred.uid == 0 || cred.uid == geteuid();
}

static void
control_connection_cb(uv_stream_t *listener, int status)
{
    static const struct jrpc_stream_cbs cbs = {
        .msg = control_conn_msg_cb,
        .error = control_conn_error_cb,
        .sent = control_conn_sent_cb,
        .eof = control_conn_eof_cb,
        .closed = control_conn_closed_cb,
    };
    struct control_server *server = listener->data;
    struct control_conn *conn;
    int error;

    if (status < 0) {
        VLOG_WARN_RL(&rl, "%s: accept failed: %s", server->path,
                     uv_strerror(status));
        return;
    }

    conn = iovp_xzalloc(sizeof *conn);
    ovs_list_init(&conn->deferred);
    conn->server = server;
    conn->format = CONTROL_FMT_TEXT;
    conn->stream = jrpc_stream_create(listener->loop, UV_NAMED_PIPE,
                                      CONTROL_MAX_REQUEST, &cbs, conn);
    ovs_list_push_back(&server->conns, &conn->node);
    server->n_conns++;
    server->n_handles++;
    control_conn_touch(conn);

    error = uv_accept(listener, jrpc_stream_handle(conn->stream));
    if (!error) {
        conn->privileged = control_conn_is_privileged(conn);
        if (server->n_conns > CONTROL_MAX_CONNS
            && !control_server_make_room(server, conn)) {
            VLOG_WARN_RL(&rl, "%s: refusing connection: already serving "
                         "%d, none of them idle for %d ms", server->path,
                         CONTROL_MAX_CONNS, CONTROL_MIN_IDLE);
            control_conn_abort(conn);
            return;
        }
        error = jrpc_stream_start(conn->stream, server->path);
    }
    if (error) {
        VLOG_WARN_RL(&rl, "%s: accept failed: %s", server->path,
                     uv_strerror(error));
        control_conn_abort(conn);
        return;
    }
    control_server_arm_idle_timer(server);
}

static void
control_list_commands(struct control_conn *conn, int argc OVS_UNUSED,
                      const char *argv[] OVS_UNUSED, void *server_)
{
    struct control_server *server = server_;

    if (conn->format == CONTROL_FMT_JSON) {
        json_t *commands = json_object();
        for (size_t i = 0; i < server->n_commands; i++) {
            const struct control_command *c = &server->commands[i];
            json_object_set_new(commands, c->name, json_string(c->usage));
        }
        control_reply_json(conn, commands);
    } else {
        struct ds text = DS_EMPTY_INITIALIZER;

        ds_put_cstr(&text, "The available commands are:\n");
        for (size_t i = 0; i < server->n_commands; i++) {
            const struct control_command *c = &server->commands[i];
            ds_put_format(&text, "  %-23s %s\n", c->name, c->usage);
        }
        control_reply(conn, ds_cstr(&text));
        ds_destroy(&text);
    }
}

static void
control_version(struct control_conn *conn, int argc OVS_UNUSED,
                const char *argv[] OVS_UNUSED, void *server_)
{
    struct control_server *server = server_;

    if (conn->format == CONTROL_FMT_JSON) {
        control_reply_json(conn, json_string(server->version));
    } else {
        control_reply(conn, server->version);
    }
}

/* "set-options [--format text|json]": options for this connection. */
static void
control_set_options(struct control_conn *conn, int argc, const char *argv[],
                    void *aux OVS_UNUSED)
{
    enum control_format format = conn->format;

    for (int i = 1; i < argc; i++) {
        const char *value = NULL;

        if (!strcmp(argv[i], "--format") && i + 1 < argc) {
            value = argv[++i];
        } else if (!strncmp(argv[i], "--format=", 9)) {
            value = argv[i] + 9;
        } else {
            char *error = iovp_xasprintf("set-options: unknown option or "
                                         "missing value \"%s\"", argv[i]);
            control_reply_error(conn, error);
            free(error);
            return;
        }

        if (!control_format_from_string(value, &format)) {
            char *error = iovp_xasprintf("set-options: unknown format "
                                         "\"%s\" (use text or json)", value);
            control_reply_error(conn, error);
            free(error);
            return;
        }
    }

    VLOG_DBG("%s: output format %s", conn->server->path,
             control_format_to_string(format));
    conn->format = format;
    control_reply(conn, "");
}

/* Closes the connections of 'server' that have been idle for its idle
 * timeout or longer. */
static void
control_server_idle_cb(uv_timer_t *timer)
{
    struct control_server *server = timer->data;
    uint64_t now = uv_now(timer->loop);
    struct control_conn *conn;

    LIST_FOR_EACH_SAFE (conn, node, &server->conns) {
        if (control_conn_is_idle(conn)
            && now - conn->last_used >= server->idle_timeout) {
            VLOG_INFO_RL(&rl, "%s: closing a connection idle for %"PRIu64
                         " ms", server->path, now - conn->last_used);
            control_conn_abort(conn);
        }
    }
    control_server_arm_idle_timer(server);
}

/* Makes 'server''s idle timer fire when its first idle connection reaches
 * the idle timeout, or stops it if none is idle.  A connection's deadline
 * only moves later as its client acts, so the timer may fire early, never
 * late: it then looks again. */
static void
control_server_arm_idle_timer(struct control_server *server)
{
    const struct control_conn *conn;
    uint64_t first = UINT64_MAX;

    if (server->closing || !server->idle_timeout
        || uv_is_active((uv_handle_t *) &server->idle_timer)) {
        return;
    }
    LIST_FOR_EACH (conn, node, &server->conns) {
        if (control_conn_is_idle(conn)) {
            first = MIN(first, conn->last_used);
        }
    }
    if (first == UINT64_MAX) {
        uv_timer_stop(&server->idle_timer);
    } else {
        uint64_t now = uv_now(server->listener.loop);
        uint64_t due = first + server->idle_timeout;
        uv_timer_start(&server->idle_timer, control_server_idle_cb,
                       due > now ? due - now : 0, 0);
    }
}

/* Sets to 'msec' milliseconds the time after which 'server' closes a
 * connection that is idle: one with no request waiting for a reply whose
 * client has neither sent a request nor read any of the replies for that
 * long.  0 means never.  The default is a minute. */
void
control_server_set_idle_timeout(struct control_server *server,
                                unsigned int msec)
{
    server->idle_timeout = msec;
    uv_timer_stop(&server->idle_timer);
    control_server_arm_idle_timer(server);
}

/* Creates a control server on 'loop' that listens on the Unix socket 'path'
 * (a stale socket file there is replaced) and answers "version" with
 * 'version'.  The socket is made accessible only to its owner and group.
 * Returns 0 and the server in '*serverp', or a negative errno value and
 * NULL. */
int
control_server_open(uv_loop_t *loop, const char *path, const char *version,
                    struct control_server **serverp)
{
    struct control_server *server = iovp_xzalloc(sizeof *server);
    int error;

    *serverp = NULL;
    server->path = iovp_xstrdup(path);
    server->version = iovp_xstrdup(version);
    server->idle_timeout = CONTROL_IDLE_TIMEOUT_DEFAULT;
    ovs_list_init(&server->conns);

    error = uv_pipe_init(loop, &server->listener, 0);
    if (error) {
        goto error;
    }
    server->listener.data = server;
    uv_timer_init(loop, &server->idle_timer);
    server->idle_timer.data = server;
    uv_timer_init(loop, &server->trim_timer);
    server->trim_timer.data = server;
    server->n_handles = 3;

    /* Bind with a umask, so that no one else can connect even for a moment
     * before a chmod() would have run. */
    unlink(path);
    mode_t old_umask = umask(0117);
    error = uv_pipe_bind(&server->listener, path);
    umask(old_umask);
    if (!error) {
        error = uv_listen((uv_stream_t *) &server->listener, 16,
                          control_connection_cb);
    }
    if (error) {
        uv_close((uv_handle_t *) &server->listener, NULL);
        uv_close((uv_handle_t *) &server->idle_timer, NULL);
        uv_close((uv_handle_t *) &server->trim_timer, NULL);
        uv_run(loop, UV_RUN_NOWAIT);
        goto error;
    }

    control_register(server, "list-commands", "", 0, 0,
                     control_list_commands, server);
    control_register(server, "version", "", 0, 0, control_version, server);
    control_register(server, "set-options", "[--format text|json]", 0, 2,
                     control_set_options, NULL);

    VLOG_INFO("%s: listening", path);
    *serverp = server;
    return 0;

error:
    free(server->path);
    free(server->version);
    free(server);
    return error;
}

/* Returns the file name of the socket 'server' listens on. */
const char *
control_server_path(const struct control_server *server)
{
    return server->path;
}

/* Frees 'server' once the last of its handles, its connections' among
 * them, is closed. */
static void
control_server_unref(struct control_server *server)
{
    if (--server->n_handles) {
        return;
    }
    for (size_t i = 0; i < server->n_commands; i++) {
        free(server->commands[i].name);
        free(server->commands[i].usage);
    }
    free(server->commands);
    free(server->path);
    free(server->version);
    free(server);
}

static void
control_server_close_cb(uv_handle_t *handle)
{
    control_server_unref(handle->data);
}

static void
control_server_close__(struct control_server *server)
{
    struct control_conn *conn;

    server->closing = true;
    server->close_pending = false;
    LIST_FOR_EACH_SAFE (conn, node, &server->conns) {
        /* What is queued is still written, as the reply to "exit" must be,
         * except to a client that is not reading: it would hold the loop,
         * and so the program's exit, until it read.  One that reads little
         * or nothing of what it was sent holds it for BSTREAM_LINGER_MS at
         * most. */
        control_conn_close(conn, !control_conn_is_full(conn));
    }
    unlink(server->path);
    uv_close((uv_handle_t *) &server->listener, control_server_close_cb);
    uv_close((uv_handle_t *) &server->idle_timer, control_server_close_cb);
    uv_close((uv_handle_t *) &server->trim_timer, control_server_close_cb);
}

/* Stops 'server' listening, closes its connections and removes its socket
 * file.  Its memory is freed when libuv has closed its handles.  From
 * inside a command's callback, this happens once the callback returns.
 * Accepts NULL. */
void
control_server_close(struct control_server *server)
{
    if (!server || server->closing) {
        return;
    }
    if (server->dispatching) {
        server->close_pending = true;
    } else {
        control_server_close__(server);
    }
}
