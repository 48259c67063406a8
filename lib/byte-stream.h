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

#ifndef IOVP_BYTE_STREAM_H
#define IOVP_BYTE_STREAM_H 1

/* A byte stream over a libuv stream (a Unix socket or TCP), for the
 * protocols iovp speaks on top of it (JSON-RPC, OpenFlow).
 *
 * It owns its libuv handle.  Bytes read are handed to the owner's 'data'
 * callback as they come; bytes to send are queued for writing.  The first
 * failure (end of stream, a read or write error, or bstream_fail() by the
 * owner) is reported once through the 'error' callback, after which no data
 * is delivered; the owner then calls bstream_close(), which still writes
 * what is queued unless the stream failed.
 *
 * An owner that gives an 'eof' callback learns of the end of the stream
 * through it instead, as a half-close: nothing more is read, and what it
 * sends is still written, as to a client that shut down only its side
 * ("socat", "nc -N").  A peer that closed altogether (a Unix socket's
 * peer that will read nothing more) is a failure all the same: there is
 * no one left to answer.
 *
 * Writing what is queued at close is bounded: if the peer reads none of it
 * for BSTREAM_LINGER_MS, the rest is discarded and the handle closed, so
 * that a peer that does not read cannot keep a closed stream, its memory
 * and its file descriptor, nor the loop that runs it, for ever.
 *
 * The prefix is "bstream_" because libopenvswitch already defines the
 * "stream_" names. */

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct bstream;

/* How long, in milliseconds, a closed stream waits for its peer to read
 * some of what is still queued before it discards the rest. */
#define BSTREAM_LINGER_MS 2000

struct bstream_cbs {
    /* 'n' bytes at 'data' arrived (borrowed for the call). */
    void (*data)(struct bstream *, const char *data, size_t n, void *aux);

    /* The stream failed: 'error' is a negative errno value (UV_EOF at the
     * end of the stream) and 'reason' says more. */
    void (*error)(struct bstream *, int error, const char *reason,
                  void *aux);

    /* Optional: the peer ended its side of the stream.  Nothing more is
     * read; sending still works.  Without it, the end of the stream fails
     * the stream with UV_EOF through 'error'. */
    void (*eof)(struct bstream *, void *aux);

    /* Optional: the stream is closed and about to be freed, after
     * bstream_close(); the owner may free what it keeps for it. */
    void (*closed)(void *aux);

    /* Optional: queued bytes were written, so bstream_backlog() went
     * down.  Not called once the stream failed or is closing. */
    void (*sent)(struct bstream *, void *aux);
};

struct bstream *bstream_create(uv_loop_t *, uv_handle_type,
                               const struct bstream_cbs *, void *aux);
uv_stream_t *bstream_handle(struct bstream *);
int bstream_start(struct bstream *, const char *name);
const char *bstream_name(const struct bstream *);
int bstream_send(struct bstream *, char *data, size_t n);
void bstream_fail(struct bstream *, int error, const char *reason);
size_t bstream_backlog(const struct bstream *);
bool bstream_is_peer_gone(const struct bstream *);
void bstream_fit_send_buffer(struct bstream *, size_t n);
void bstream_close(struct bstream *);
void bstream_abort(struct bstream *);

#endif /* byte-stream.h */
