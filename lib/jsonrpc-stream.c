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

#include "lib/jsonrpc-stream.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jsonrpc.h"
#include "lib/util.h"

/* Bytes asked of the kernel per read. */
#define JRPC_STREAM_READ_SIZE 65536

struct jrpc_stream {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_pipe_t pipe;
        uv_tcp_t tcp;
    } u;
    struct jrpc_stream_cbs cbs;
    void *aux;
    char *name;                 /* For log messages. */

    uv_shutdown_t shutdown;     /* Flushes writes before closing. */

    struct jrpc_parser parser;
    char *rx;                   /* JRPC_STREAM_READ_SIZE bytes. */
    size_t backlog;             /* Bytes queued for writing. */

    bool failed;                /* 'cbs.error' was called. */
    bool closing;               /* jrpc_stream_close() was called. */
};

/* One queued write. */
struct jrpc_write {
    uv_write_t req;
    struct jrpc_stream *stream;
    size_t len;
    char *buf;                  /* Owned, from json_dumps(). */
};

/* Creates a stream of libuv handle 'type' (UV_NAMED_PIPE or UV_TCP) on
 * 'loop'.  Messages larger than 'max_msg_size' bytes fail the stream.  The
 * caller connects or accepts into jrpc_stream_handle() and then calls
 * jrpc_stream_start().  Returns NULL for an unsupported 'type'. */
struct jrpc_stream *
jrpc_stream_create(uv_loop_t *loop, uv_handle_type type, size_t max_msg_size,
                   const struct jrpc_stream_cbs *cbs, void *aux)
{
    struct jrpc_stream *s = iovp_xzalloc(sizeof *s);
    int error;

    if (type == UV_NAMED_PIPE) {
        error = uv_pipe_init(loop, &s->u.pipe, 0);
    } else if (type == UV_TCP) {
        error = uv_tcp_init(loop, &s->u.tcp);
    } else {
        error = UV_EINVAL;
    }
    if (error) {
        free(s);
        return NULL;
    }
    s->u.handle.data = s;
    s->cbs = *cbs;
    s->aux = aux;
    s->name = iovp_xstrdup("(unconnected)");
    jrpc_parser_init(&s->parser, max_msg_size);
    return s;
}

/* Returns the libuv stream that 's' owns, to connect or accept into. */
uv_stream_t *
jrpc_stream_handle(struct jrpc_stream *s)
{
    return &s->u.stream;
}

/* Returns the name given to jrpc_stream_start(). */
const char *
jrpc_stream_name(const struct jrpc_stream *s)
{
    return s->name;
}

static void
jrpc_stream_fail(struct jrpc_stream *s, int error, const char *reason)
{
    if (!s->failed && !s->closing) {
        s->failed = true;
        uv_read_stop(&s->u.stream);
        s->cbs.error(s, error, reason, s->aux);
    }
}

static void
jrpc_stream_alloc_cb(uv_handle_t *handle, size_t suggested OVS_UNUSED,
                     uv_buf_t *buf)
{
    struct jrpc_stream *s = handle->data;

    if (!s->rx) {
        s->rx = iovp_xmalloc(JRPC_STREAM_READ_SIZE);
    }
    *buf = uv_buf_init(s->rx, JRPC_STREAM_READ_SIZE);
}

static void
jrpc_stream_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct jrpc_stream *s = stream->data;

    if (nread < 0) {
        jrpc_stream_fail(s, nread, nread == UV_EOF ? "connection closed by "
                         "peer" : uv_strerror(nread));
        return;
    }

    const char *p = buf->base;
    size_t n = nread;
    while (n && !s->failed && !s->closing) {
        size_t used = jrpc_parser_feed(&s->parser, p, n);
        p += used;
        n -= used;

        if (jrpc_parser_is_done(&s->parser)) {
            char *error;
            json_t *msg = jrpc_parser_finish(&s->parser, &error);
            if (msg) {
                s->cbs.msg(s, msg, s->aux);
                json_decref(msg);
            } else {
                jrpc_stream_fail(s, -EPROTO, error);
                free(error);
            }
        } else if (jrpc_parser_get_error(&s->parser)) {
            jrpc_stream_fail(s, (jrpc_parser_is_too_long(&s->parser)
                                 ? -EMSGSIZE : -EPROTO),
                             jrpc_parser_get_error(&s->parser));
        }
    }
}

/* Starts reading from 's', which is now connected to 'name' (used in log
 * messages).  Returns 0 or a negative errno value. */
int
jrpc_stream_start(struct jrpc_stream *s, const char *name)
{
    free(s->name);
    s->name = iovp_xstrdup(name);
    return uv_read_start(&s->u.stream, jrpc_stream_alloc_cb,
                         jrpc_stream_read_cb);
}

static void
jrpc_stream_write_cb(uv_write_t *req, int status)
{
    struct jrpc_write *w = req->data;
    struct jrpc_stream *s = w->stream;

    s->backlog -= w->len;
    free(w->buf);
    free(w);
    if (status < 0 && status != UV_ECANCELED) {
        jrpc_stream_fail(s, status, uv_strerror(status));
    }
}

/* Serializes 'msg' and queues it for sending on 's'.  Steals 'msg', even on
 * failure.  Returns 0 or a negative errno value (-EPIPE once 's' has failed
 * or is closing). */
int
jrpc_stream_send(struct jrpc_stream *s, json_t *msg)
{
    char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;

    json_decref(msg);
    if (!text) {
        return -EINVAL;
    } else if (s->failed || s->closing) {
        free(text);
        return -EPIPE;
    }

    struct jrpc_write *w = iovp_xmalloc(sizeof *w);
    w->req.data = w;
    w->stream = s;
    w->buf = text;
    w->len = strlen(text);

    uv_buf_t buf = uv_buf_init(w->buf, w->len);
    int error = uv_write(&w->req, &s->u.stream, &buf, 1,
                         jrpc_stream_write_cb);
    if (error) {
        free(w->buf);
        free(w);
        jrpc_stream_fail(s, error, uv_strerror(error));
        return error;
    }
    s->backlog += w->len;
    return 0;
}

/* Returns the number of bytes queued on 's' but not yet written. */
size_t
jrpc_stream_backlog(const struct jrpc_stream *s)
{
    return s->backlog;
}

static void
jrpc_stream_close_cb(uv_handle_t *handle)
{
    struct jrpc_stream *s = handle->data;

    jrpc_parser_destroy(&s->parser);
    free(s->rx);
    free(s->name);
    free(s);
}

static void
jrpc_stream_shutdown_cb(uv_shutdown_t *req, int status OVS_UNUSED)
{
    struct jrpc_stream *s = req->data;

    uv_close(&s->u.handle, jrpc_stream_close_cb);
}

/* Closes 's': no callback is made after this.  Messages already queued are
 * still written, unless the stream has failed, and the memory is freed once
 * libuv has closed the handle.  Accepts NULL and may be called from within
 * the callbacks of 's'. */
void
jrpc_stream_close(struct jrpc_stream *s)
{
    if (!s || s->closing) {
        return;
    }
    s->closing = true;
    uv_read_stop(&s->u.stream);
    if (s->backlog && !s->failed) {
        s->shutdown.data = s;
        if (!uv_shutdown(&s->shutdown, &s->u.stream,
                         jrpc_stream_shutdown_cb)) {
            return;
        }
    }
    uv_close(&s->u.handle, jrpc_stream_close_cb);
}
