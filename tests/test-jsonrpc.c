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

/* "test-iovp jsonrpc-parse [--chunk=N] [--max=BYTES] FILE": a transcript of
 * lib/jsonrpc.c.  Feeds the bytes of FILE to a jrpc_parser N bytes at a
 * time (default: all at once) and prints a line for each message framed:
 * its type and members, or why it is not a valid JSON-RPC message.  A
 * framing error is printed and ends the run with status 1.  The output must
 * not depend on N. */

#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--chunk=", 8)) {
            chunk = strtoul(argv[i] + 8, NULL, 10);
        } else if (!strncmp(argv[i], "--max=", 6)) {
            max = strtoul(argv[i] + 6, NULL, 10);
        } else {
            file_name = argv[i];
        }
    }
    if (!file_name || !chunk) {
        iovp_fatal(0, "usage: jsonrpc-parse [--chunk=N] [--max=BYTES] FILE");
    }

    size_t len;
    char *data = test_read_file(file_name, &len);
    struct jrpc_parser parser;
    int status = EXIT_SUCCESS;

    jrpc_parser_init(&parser, max);
    for (size_t ofs = 0; ofs < len; ) {
        size_t n = MIN(chunk, len - ofs);

        /* Feed one chunk, framing as many values as it holds. */
        while (n) {
            size_t used = jrpc_parser_feed(&parser, data + ofs, n);
            ofs += used;
            n -= used;

            if (jrpc_parser_is_done(&parser)) {
                json_t *json;
                char *error = jrpc_parser_finish(&parser, &json);
                if (error) {
                    printf("error: %s\n", error);
                    free(error);
                    status = EXIT_FAILURE;
                    goto exit;
                }
                print_msg(json);
                json_decref(json);
            } else if (jrpc_parser_get_error(&parser)) {
                printf("error: %s\n", jrpc_parser_get_error(&parser));
                status = EXIT_FAILURE;
                goto exit;
            }
        }
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
