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

#include <openvswitch/dynamic-string.h>

#include "lib/byte-stream.h"
#include "lib/json-encode.h"
#include "lib/jsonrpc.h"
#include "lib/util.h"

/* A JSON-RPC stream: a byte stream and the framing of its bytes. */
struct jrpc_stream {
    struct bstream *bytes;
    struct jrpc_parser parser;
    struct jrpc_stream_cbs cbs;
    void *aux;
    bool closing;               /* jrpc_stream_close() was called. */

    /* jrpc_stream_pause(): bytes that arrived while paused, unparsed. */
    bool paused;
    struct ds held;

    /* The peer ended its side while paused: 'cbs.eof' is due once what is
     * held has been delivered. */
    bool eof_pending;
};

static void
jrpc_stream_data(struct bstream *bytes, const char *p, size_t n, void *s_)
{
    struct jrpc_stream *s = s_;

    if (s->paused) {
        if (s->held.length + n > s->parser.max_size) {
            bstream_fail(bytes, -ENOBUFS, "peer sends requests faster than "
                         "it reads the replies");
            return;
        }
        ds_put_buffer(&s->held, p, n);
        return;
    }

    /* The callbacks may close 's' (its memory stays until libuv is done
     * with the byte stream), fail it or pause it; each ends the loop,
     * pausing after what is left is held. */
    while (n) {
        size_t used = jrpc_parser_feed(&s->parser, p, n);
        p += used;
        n -= used;

        if (jrpc_parser_is_done(&s->parser)) {
            json_t *msg;
            char *error = jrpc_parser_finish(&s->parser, &msg);
            if (error) {
                bstream_fail(bytes, -EPROTO, error);
                free(error);
                return;
            }
            s->cbs.msg(s, msg, s->aux);
            jrpc_parser_release(&s->parser, msg);
            if (s->closing) {
                return;
            }
            if (s->paused) {
                ds_put_buffer(&s->held, p, n);
                return;
            }
        } else if (jrpc_parser_get_error(&s->parser)) {
            bstream_fail(bytes, (jrpc_parser_is_too_long(&s->parser)
                                 ? -EMSGSIZE : -EPROTO),
                         jrpc_parser_get_error(&s->parser));
            return;
        }
    }
}

static void
jrpc_stream_error(struct bstream *bytes OVS_UNUSED, int error,
                  const char *reason, void *s_)
{
    struct jrpc_stream *s = s_;

    s->cbs.error(s, error, reason, s->aux);
}

static void
jrpc_stream_eof(struct bstream *bytes, void *s_)
{
    struct jrpc_stream *s = s_;

    if (!s->cbs.eof) {
        bstream_fail(bytes, UV_EOF, "connection closed by peer");
    } else if (s->paused) {
        s->eof_pending = true;
    } else {
        s->cbs.eof(s, s->aux);
    }
}

static void
jrpc_stream_sent(struct bstream *bytes OVS_UNUSED, void *s_)
{
    struct jrpc_stream *s = s_;

    if (s->cbs.sent) {
        s->cbs.sent(s, s->aux);
    }
}

static void
jrpc_stream_closed(void *s_)
{
    struct jrpc_stream *s = s_;

    if (s->cbs.closed) {
        s->cbs.closed(s->aux);
    }
    jrpc_parser_destroy(&s->parser);
    ds_destroy(&s->held);
    free(s);
}

/* Creates a stream of libuv handle 'type' (UV_NAMED_PIPE or UV_TCP) on
 * 'loop'.  Messages larger than 'max_msg_size' bytes fail the stream.  The
 * caller connects or accepts into jrpc_stream_handle() and then calls
 * jrpc_stream_start().  Returns NULL for an unsupported 'type'. */
struct jrpc_stream *
jrpc_stream_create(uv_loop_t *loop, uv_handle_type type, size_t max_msg_size,
                   const struct jrpc_stream_cbs *cbs, void *aux)
{
    static const struct bstream_cbs bytes_cbs = {
        .data = jrpc_stream_data,
        .error = jrpc_stream_error,
        .eof = jrpc_stream_eof,
        .closed = jrpc_stream_closed,
        .sent = jrpc_stream_sent,
    };
    struct jrpc_stream *s = iovp_xzalloc(sizeof *s);

    s->bytes = bstream_create(loop, type, &bytes_cbs, s);
    if (!s->bytes) {
        free(s);
        return NULL;
    }
    s->cbs = *cbs;
    s->aux = aux;
    jrpc_parser_init(&s->parser, max_msg_size);
    ds_init(&s->held);
    return s;
}

/* Returns the libuv stream that 's' owns, to connect or accept into. */
uv_stream_t *
jrpc_stream_handle(struct jrpc_stream *s)
{
    return bstream_handle(s->bytes);
}

/* Starts reading from 's', which is now connected to 'name' (used in log
 * messages).  Returns 0 or a negative errno value. */
int
jrpc_stream_start(struct jrpc_stream *s, const char *name)
{
    return bstream_start(s->bytes, name);
}

/* Returns the name given to jrpc_stream_start(). */
const char *
jrpc_stream_name(const struct jrpc_stream *s)
{
    return bstream_name(s->bytes);
}

/* Serializes 'msg' and queues it for sending on 's'.  Steals 'msg', even on
 * failure.  Returns 0 or a negative errno value (-EPIPE once 's' has failed
 * or is closing). */
int
jrpc_stream_send(struct jrpc_stream *s, json_t *msg)
{
    size_t len;
    char *text = msg ? iovp_json_encode(msg, &len) : NULL;

    json_decref(msg);
    return text ? bstream_send(s->bytes, text, len) : -EINVAL;
}

/* Returns the number of bytes queued on 's' but not yet written. */
size_t
jrpc_stream_backlog(const struct jrpc_stream *s)
{
    return bstream_backlog(s->bytes);
}

/* Stops delivering messages from 's' until jrpc_stream_resume(): the owner
 * has more to send to its peer than it will queue (see the comment at the
 * top of jsonrpc-stream.h).  May be called from the 'msg' callback, which
 * is then not called again for the rest of what arrived. */
void
jrpc_stream_pause(struct jrpc_stream *s)
{
    s->paused = true;
}

/* Delivers again the messages of 's', starting with those held while it
 * was paused.  The owner's callbacks run from inside this call, so it
 * should be called where a message may arrive, as from the 'sent'
 * callback, not from inside another message's handling. */
void
jrpc_stream_resume(struct jrpc_stream *s)
{
    if (s->paused && !s->closing) {
        struct ds held = s->held;

        s->paused = false;
        ds_init(&s->held);
        jrpc_stream_data(s->bytes, held.string, held.length, s);
        ds_destroy(&held);

        if (s->eof_pending && !s->paused && !s->closing) {
            s->eof_pending = false;
            s->cbs.eof(s, s->aux);
        }
    }
}

/* Returns true if 's' is paused. */
bool
jrpc_stream_is_paused(const struct jrpc_stream *s)
{
    return s->paused;
}

/* Returns true if the peer of 's' closed its end altogether: nothing sent
 * on 's' will be read (see bstream_is_peer_gone()). */
bool
jrpc_stream_is_peer_gone(const struct jrpc_stream *s)
{
    return bstream_is_peer_gone(s->bytes);
}

/* Closes 's': no callback is made after this but 'closed'.  Messages
 * already queued are still written, unless the stream has failed, as long
 * as the peer reads (see bstream_close()), and the memory is freed once
 * libuv has closed the handle.  Accepts NULL and may be called from within
 * the callbacks of 's'. */
void
jrpc_stream_close(struct jrpc_stream *s)
{
    if (s && !s->closing) {
        s->closing = true;
        bstream_close(s->bytes);
    }
}

/* Closes 's' as jrpc_stream_close() does, except that messages still
 * queued are discarded rather than written: for a peer that does not read.
 * On a stream that jrpc_stream_close() already closed, discards what it
 * still had to write.  Accepts NULL. */
void
jrpc_stream_abort(struct jrpc_stream *s)
{
    if (s) {
        s->closing = true;
        bstream_abort(s->bytes);
    }
}
