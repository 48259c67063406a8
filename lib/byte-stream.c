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

#include "lib/byte-stream.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/util.h"

/* Bytes asked of the kernel per read. */
#define BSTREAM_READ_SIZE 65536

/* The most that bstream_fit_send_buffer() lets the kernel hold. */
#define BSTREAM_MAX_SEND_BUFFER (32 * 1024 * 1024)

struct bstream {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_pipe_t pipe;
        uv_tcp_t tcp;
    } u;
    struct bstream_cbs cbs;
    void *aux;
    char *name;                 /* For log messages. */

    uv_shutdown_t shutdown;     /* Flushes writes before closing. */
    uv_timer_t linger;          /* Bounds that flush (BSTREAM_LINGER_MS). */
    bool lingering;             /* 'shutdown' and 'linger' are active. */
    int n_handles;              /* Handles to close before freeing. */

    char *rx;                   /* BSTREAM_READ_SIZE bytes. */
    size_t backlog;             /* Bytes queued for writing. */
    size_t send_buffer;         /* What the socket's send buffer holds, as
                                 * bstream_fit_send_buffer() last found, or
                                 * 0. */

    bool failed;                /* 'cbs.error' was called. */
    bool eof;                   /* 'cbs.eof' was called. */
    bool closing;               /* bstream_close() was called. */
};

/* One queued write. */
struct bstream_write {
    uv_write_t req;
    struct bstream *stream;
    size_t len;
    char *buf;                  /* Owned. */
};

/* Creates a stream of libuv handle 'type' (UV_NAMED_PIPE or UV_TCP) on
 * 'loop'.  The caller connects or accepts into bstream_handle() and then
 * calls bstream_start().  Returns NULL for an unsupported 'type'. */
struct bstream *
bstream_create(uv_loop_t *loop, uv_handle_type type,
               const struct bstream_cbs *cbs, void *aux)
{
    struct bstream *s = iovp_xzalloc(sizeof *s);
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
    return s;
}

/* Returns the libuv stream that 's' owns, to connect or accept into. */
uv_stream_t *
bstream_handle(struct bstream *s)
{
    return &s->u.stream;
}

/* Returns the name given to bstream_start(). */
const char *
bstream_name(const struct bstream *s)
{
    return s->name;
}

/* Fails 's' for 'error' (a negative errno value) and 'reason', as its
 * owner may when what arrived makes no sense: reading stops and the 'error'
 * callback is made, unless 's' already failed or is closing. */
void
bstream_fail(struct bstream *s, int error, const char *reason)
{
    if (!s->failed && !s->closing) {
        s->failed = true;
        uv_read_stop(&s->u.stream);
        s->cbs.error(s, error, reason, s->aux);
    }
}

static void
bstream_alloc_cb(uv_handle_t *handle, size_t suggested OVS_UNUSED,
                     uv_buf_t *buf)
{
    struct bstream *s = handle->data;

    if (!s->rx) {
        s->rx = iovp_xmalloc(BSTREAM_READ_SIZE);
    }
    *buf = uv_buf_init(s->rx, BSTREAM_READ_SIZE);
}

/* Returns true if the peer of 's' is gone altogether, not only done
 * sending: a Unix socket's peer that closed (rather than shut down its
 * sending side) leaves POLLHUP.  No one will read what 's' would send.
 * Asks the kernel, so it holds even before 's' has read the end of the
 * stream. */
bool
bstream_is_peer_gone(const struct bstream *s)
{
    uv_os_fd_t fd;
    struct pollfd pfd;

    if (uv_fileno(&s->u.handle, &fd)) {
        return false;
    }
    pfd = (struct pollfd) { .fd = fd, .events = 0 };
    return poll(&pfd, 1, 0) == 1 && pfd.revents & (POLLHUP | POLLERR);
}

static void
bstream_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct bstream *s = stream->data;

    if (nread == UV_EOF && s->cbs.eof && !bstream_is_peer_gone(s)) {
        if (!s->eof && !s->failed && !s->closing) {
            s->eof = true;
            uv_read_stop(&s->u.stream);
            s->cbs.eof(s, s->aux);
        }
        return;
    }
    if (nread < 0) {
        bstream_fail(s, nread, nread == UV_EOF ? "connection closed by "
                         "peer" : uv_strerror(nread));
        return;
    }

    if (nread > 0) {
        s->cbs.data(s, buf->base, nread, s->aux);
    }
}

/* Starts reading from 's', which is now connected to 'name' (used in log
 * messages).  Returns 0 or a negative errno value. */
int
bstream_start(struct bstream *s, const char *name)
{
    free(s->name);
    s->name = iovp_xstrdup(name);
    return uv_read_start(&s->u.stream, bstream_alloc_cb,
                         bstream_read_cb);
}

static void
bstream_write_cb(uv_write_t *req, int status)
{
    struct bstream_write *w = req->data;
    struct bstream *s = w->stream;

    s->backlog -= w->len;
    free(w->buf);
    free(w);
    if (!status && s->lingering) {
        /* The peer reads: it gets BSTREAM_LINGER_MS more for the rest. */
        uv_timer_again(&s->linger);
    }
    if (status < 0 && status != UV_ECANCELED) {
        bstream_fail(s, status, uv_strerror(status));
    } else if (!status && s->cbs.sent && !s->failed && !s->closing) {
        s->cbs.sent(s, s->aux);
    }
}

/* Queues the 'n' bytes at 'data' (malloc()'d; stolen, even on failure)
 * for sending on 's'.  Returns 0 or a negative errno value (-EPIPE once 's'
 * has failed or is closing). */
int
bstream_send(struct bstream *s, char *data, size_t n)
{
    if (s->failed || s->closing) {
        free(data);
        return -EPIPE;
    }

    struct bstream_write *w = iovp_xmalloc(sizeof *w);
    w->req.data = w;
    w->stream = s;
    w->buf = data;
    w->len = n;

    uv_buf_t buf = uv_buf_init(w->buf, w->len);
    int error = uv_write(&w->req, &s->u.stream, &buf, 1, bstream_write_cb);
    if (error) {
        free(w->buf);
        free(w);
        bstream_fail(s, error, uv_strerror(error));
        return error;
    }
    s->backlog += w->len;
    return 0;
}

/* Returns the number of bytes queued on 's' but not yet written. */
size_t
bstream_backlog(const struct bstream *s)
{
    return s->backlog;
}

/* Makes the kernel's send buffer of the socket under 's' hold 'n' bytes
 * (at most BSTREAM_MAX_SEND_BUFFER), if it can, so that a message of that
 * size is written at once: the peer then reads it while this process goes
 * on with its work, where it would otherwise wait for this process to
 * give it each next part.  (A default buffer holds about 200 kB, and
 * iovpd's first monitor request after a restart 6 MB for 100,000 ACL
 * entries.)  The buffer is enlarged past the system's limit
 * (net.core.wmem_max) with CAP_NET_ADMIN, and up to it otherwise.  It is
 * only a limit: the kernel takes memory for what is in flight. */
void
bstream_fit_send_buffer(struct bstream *s, size_t n)
{
    uv_os_fd_t fd;
    int size;
    socklen_t len = sizeof size;

    n = MIN(n, BSTREAM_MAX_SEND_BUFFER);
    if (n <= s->send_buffer || uv_fileno(&s->u.handle, &fd)
        || getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len)) {
        return;
    }
    if ((size_t) size < n) {
        /* (The kernel doubles what it is given, for its own overhead.) */
        size = n;
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size)) {
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        }
        len = sizeof size;
        if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len)) {
            return;
        }
    }
    s->send_buffer = size;
}

static void
bstream_close_cb(uv_handle_t *handle)
{
    struct bstream *s = handle->data;

    if (--s->n_handles) {
        return;
    }
    if (s->cbs.closed) {
        s->cbs.closed(s->aux);
    }
    free(s->rx);
    free(s->name);
    free(s);
}

/* Closes the handles of 's', which frees it once libuv is done with them.
 * Closing the stream cancels its writes and shutdown still pending. */
static void
bstream_close_handles(struct bstream *s)
{
    if (!uv_is_closing(&s->u.handle)) {
        s->n_handles++;
        uv_close(&s->u.handle, bstream_close_cb);
    }
    if (s->lingering) {
        s->lingering = false;
        s->n_handles++;
        uv_close((uv_handle_t *) &s->linger, bstream_close_cb);
    }
}

static void
bstream_shutdown_cb(uv_shutdown_t *req, int status OVS_UNUSED)
{
    bstream_close_handles(req->data);
}

/* The peer of a closed stream read none of what is queued for
 * BSTREAM_LINGER_MS. */
static void
bstream_linger_cb(uv_timer_t *timer)
{
    bstream_close_handles(timer->data);
}

/* Closes 's': no callback is made after this but 'closed'.  What is
 * queued is still written, unless the stream has failed, for as long as
 * the peer reads some of it every BSTREAM_LINGER_MS; the memory is freed
 * once libuv has closed the handle.  Accepts NULL and may be called from
 * within the callbacks of 's'. */
void
bstream_close(struct bstream *s)
{
    if (!s || s->closing) {
        return;
    }
    s->closing = true;
    uv_read_stop(&s->u.stream);
    if (s->backlog && !s->failed) {
        s->shutdown.data = s;
        if (!uv_shutdown(&s->shutdown, &s->u.stream,
                         bstream_shutdown_cb)) {
            uv_timer_init(s->u.handle.loop, &s->linger);
            s->linger.data = s;
            uv_timer_start(&s->linger, bstream_linger_cb, BSTREAM_LINGER_MS,
                           BSTREAM_LINGER_MS);
            s->lingering = true;
            return;
        }
    }
    bstream_close_handles(s);
}

/* Closes 's' as bstream_close() does, except that what is still queued is
 * discarded rather than written: for a peer that does not read, whose
 * queued bytes would otherwise be kept until it does.  On a stream that
 * bstream_close() already closed, discards what it still had to write.
 * Accepts NULL. */
void
bstream_abort(struct bstream *s)
{
    if (!s) {
        return;
    } else if (!s->closing) {
        s->failed = true;
        bstream_close(s);
    } else if (s->lingering) {
        bstream_close_handles(s);
    }
}
