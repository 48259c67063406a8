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

/* "test-iovp send-buffer BYTES": sends a message of BYTES bytes on a Unix
 * socket whose peer reads nothing, once as it is and once after
 * bstream_fit_send_buffer(), and prints how many bytes are still queued in
 * the process after a turn of the loop: with the buffer fitted, none (the
 * kernel took the message whole). */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "lib/byte-stream.h"
#include "lib/util.h"
#include "tests/test-iovp.h"

static void
ignore_data(struct bstream *s OVS_UNUSED, const char *data OVS_UNUSED,
            size_t n OVS_UNUSED, void *aux OVS_UNUSED)
{
}

static void
report_error(struct bstream *s OVS_UNUSED, int error OVS_UNUSED,
             const char *reason, void *aux OVS_UNUSED)
{
    iovp_fatal(0, "stream failed: %s", reason);
}

/* Returns the bytes still queued after sending 'n' to a peer that does
 * not read, with the send buffer fitted to them if 'fit'. */
static size_t
queued_after_send(uv_loop_t *loop, size_t n, bool fit)
{
    static const struct bstream_cbs cbs = {
        .data = ignore_data,
        .error = report_error,
    };
    int fds[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds)) {
        iovp_fatal(-1, "socketpair failed");
    }
    struct bstream *s = bstream_create(loop, UV_NAMED_PIPE, &cbs, NULL);
    if (uv_pipe_open((uv_pipe_t *) bstream_handle(s), fds[0])
        || bstream_start(s, "test")) {
        iovp_fatal(0, "cannot open the stream");
    }
    if (fit) {
        bstream_fit_send_buffer(s, n);
    }
    char *data = iovp_xmalloc(n);
    memset(data, 'x', n);
    bstream_send(s, data, n);
    uv_run(loop, UV_RUN_NOWAIT);
    size_t queued = bstream_backlog(s);

    bstream_abort(s);
    uv_run(loop, UV_RUN_NOWAIT);
    close(fds[1]);
    return queued;
}

int
test_send_buffer_main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: test-iovp send-buffer BYTES\n");
        return EXIT_FAILURE;
    }

    size_t n = strtoul(argv[1], NULL, 10);
    uv_loop_t loop;
    uv_loop_init(&loop);
    printf("default send buffer: %s\n",
           queued_after_send(&loop, n, false) ? "some bytes left queued"
           : "none left queued");
    printf("fitted send buffer: %zu bytes left queued\n",
           queued_after_send(&loop, n, true));
    uv_loop_close(&loop);
    return EXIT_SUCCESS;
}
