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

#ifndef IOVP_JSONRPC_STREAM_H
#define IOVP_JSONRPC_STREAM_H 1

/* A JSON-RPC connection over a libuv stream (a Unix socket or TCP).
 *
 * It owns its libuv handle.  Bytes read are framed by a jrpc_parser and
 * each whole JSON value is handed to the owner's 'msg' callback; sending
 * serializes a value and queues it for writing.  The first failure (end of
 * stream, a read or write error, a malformed or oversized message) is
 * reported once through the 'error' callback, after which no message is
 * delivered; the owner then calls jrpc_stream_close().
 *
 * The owner may pause a stream whose peer sends requests faster than it
 * reads the replies: messages stop being delivered, and bytes that arrive
 * meanwhile are held, unparsed, up to the stream's largest message; a peer
 * that sends more than that while paused fails the stream with -ENOBUFS.
 * Reading goes on while paused so that such a peer is found out, and an
 * end of stream too, at once rather than when it is resumed.
 *
 * An owner that gives an 'eof' callback serves half-closed peers: the end
 * of the stream is reported through it, not 'error', once every message
 * that arrived before it has been delivered (after jrpc_stream_resume() if
 * paused), and replies can still be sent.  jrpc_stream_close() writes them
 * within the bound that byte-stream.h describes. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct jrpc_stream;

struct jrpc_stream_cbs {
    /* A JSON value arrived: 'msg' is borrowed for the call. */
    void (*msg)(struct jrpc_stream *, json_t *msg, void *aux);

    /* The stream failed: 'error' is a negative errno value (UV_EOF at the
     * end of the stream, -EPROTO for a malformed message, -EMSGSIZE for an
     * oversized one) and 'reason' says more. */
    void (*error)(struct jrpc_stream *, int error, const char *reason,
                  void *aux);

    /* Optional: queued bytes were written, so jrpc_stream_backlog() went
     * down. */
    void (*sent)(struct jrpc_stream *, void *aux);

    /* Optional: the peer ended its side of the stream, and every message
     * it sent before has been delivered.  A partial message at the end is
     * discarded.  Without it, the end of the stream is an 'error'. */
    void (*eof)(struct jrpc_stream *, void *aux);

    /* Optional: the stream, closed by jrpc_stream_close() or
     * jrpc_stream_abort(), is about to be freed: its file descriptor and
     * what was queued on it are gone.  The only callback after a close. */
    void (*closed)(void *aux);
};

struct jrpc_stream *jrpc_stream_create(uv_loop_t *, uv_handle_type,
                                       size_t max_msg_size,
                                       const struct jrpc_stream_cbs *,
                                       void *aux);
uv_stream_t *jrpc_stream_handle(struct jrpc_stream *);
int jrpc_stream_start(struct jrpc_stream *, const char *name);
const char *jrpc_stream_name(const struct jrpc_stream *);
int jrpc_stream_send(struct jrpc_stream *, json_t *msg);
size_t jrpc_stream_backlog(const struct jrpc_stream *);
void jrpc_stream_pause(struct jrpc_stream *);
void jrpc_stream_resume(struct jrpc_stream *);
bool jrpc_stream_is_paused(const struct jrpc_stream *);
bool jrpc_stream_is_peer_gone(const struct jrpc_stream *);
void jrpc_stream_close(struct jrpc_stream *);
void jrpc_stream_abort(struct jrpc_stream *);

#endif /* jsonrpc-stream.h */
