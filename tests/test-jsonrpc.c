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

/* "test-iovp jsonrpc-parse [--chunk=N] [--max=BYTES] [--time] FILE": a
 * transcript of lib/jsonrpc.c.  Feeds the bytes of FILE to a jrpc_parser N
 * bytes at a time (default: all at once) and prints a line for each message
 * framed: its type and members, or why it is not a valid JSON-RPC message.
 * A framing error is printed and ends the run with status 1.  The output
 * must not depend on N.
 *
 * With --time, prints instead, at the end, the messages and bytes framed
 * and the seconds that parsing them took (jrpc_parser_feed() and
 * jrpc_parser_finish(), that is, lib/json-decode.c), and freeing them
 * (json_decref()): what reading a message costs before iovpd looks at it,
 * for the benchmarks. */

#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "lib/jsonrpc.h"
#include "lib/util.h"
#include "tests/test-iovp.h"

static void
print_json(const char *name, const json_t *json)
{
    char *s = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY
                         | JSON_SORT_KEYS);
    printf(" %s=%s", name, s);
    free(s);
}

static void
print_msg(json_t *json)
{
    struct jrpc_msg msg;
    char *error = jrpc_msg_parse(json, &msg);

    if (error) {
        printf("invalid: %s\n", error);
        free(error);
        return;
    }
    printf("%s", jrpc_msg_type_to_string(msg.type));
    if (msg.method) {
        printf(" method=\"%s\"", msg.method);
        print_json("params", msg.params);
    }
    if (msg.result) {
        print_json("result", msg.result);
    }
    if (msg.error) {
        print_json("error", msg.error);
    }
    if (msg.id) {
        print_json("id", msg.id);
    }
    putchar('\n');
}

int
test_jsonrpc_parse_main(int argc, char *argv[])
{
    size_t chunk = SIZE_MAX;
    size_t max = 1024 * 1024;
    const char *file_name = NULL;
    bool timed = false;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--time")) {
            timed = true;
        } else if (!strncmp(argv[i], "--chunk=", 8)) {
            chunk = strtoul(argv[i] + 8, NULL, 10);
        } else if (!strncmp(argv[i], "--max=", 6)) {
            max = strtoul(argv[i] + 6, NULL, 10);
        } else {
            file_name = argv[i];
        }
    }
    if (!file_name || !chunk) {
        iovp_fatal(0, "usage: jsonrpc-parse [--chunk=N] [--max=BYTES] "
                   "[--time] FILE");
    }

    size_t len;
    char *data = test_read_file(file_name, &len);
    struct jrpc_parser parser;
    int status = EXIT_SUCCESS;
    uint64_t parse_ns = 0, free_ns = 0;
    size_t n_msgs = 0;

    jrpc_parser_init(&parser, max);
    for (size_t ofs = 0; ofs < len; ) {
        size_t n = MIN(chunk, len - ofs);

        /* Feed one chunk, framing as many values as it holds. */
        while (n) {
            uint64_t start = uv_hrtime();
            size_t used = jrpc_parser_feed(&parser, data + ofs, n);
            parse_ns += uv_hrtime() - start;
            ofs += used;
            n -= used;

            if (jrpc_parser_is_done(&parser)) {
                json_t *json;
                start = uv_hrtime();
                char *error = jrpc_parser_finish(&parser, &json);
                parse_ns += uv_hrtime() - start;
                if (error) {
                    printf("error: %s\n", error);
                    free(error);
                    status = EXIT_FAILURE;
                    goto exit;
                }
                n_msgs++;
                if (!timed) {
                    print_msg(json);
                }
                start = uv_hrtime();
                json_decref(json);
                free_ns += uv_hrtime() - start;
            } else if (jrpc_parser_get_error(&parser)) {
                printf("error: %s\n", jrpc_parser_get_error(&parser));
                status = EXIT_FAILURE;
                goto exit;
            }
        }
    }
    if (timed) {
        printf("%zu messages, %zu bytes: parsed in %.3f s, freed in %.3f s\n",
               n_msgs, len, parse_ns / 1e9, free_ns / 1e9);
    }
    if (parser.len) {
        printf("incomplete: %zu bytes of an unfinished message\n",
               parser.len);
    }

exit:
    jrpc_parser_destroy(&parser);
    free(data);
    return status;
}
