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

#include <errno.h>

#include "tests/test-iovp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/util.h>

#include "lib/util.h"

struct test_iovp_command {
    const char *name;
    const char *usage;
    test_iovp_func *main;
};

static const struct test_iovp_command commands[] = {
    {"control", "SOCKET", test_control_main},
    {"desired", "SEED COUNT", test_desired_main},
    {"engine", "SEED COUNT", test_engine_main},
    {"idl", "SCHEMA", test_idl_main},
    {"idl-memory", "SCHEMA N", test_idl_memory_main},
    {"json-decode", "SEED COUNT | --time N", test_json_decode_main},
    {"json-encode", "SEED COUNT | --time N", test_json_encode_main},
    {"jsonrpc-parse", "[--chunk=N] FILE", test_jsonrpc_parse_main},
    {"link", "", test_link_main},
    {"loop-lag", "", test_loop_lag_main},
    {"offload-classbench", "RULES SEED COUNT [--check-ipv4]",
     test_offload_classbench_main},
    {"nb-seeds", "DIR", test_nb_seeds_main},
    {"ofconn", "FILE", test_ofconn_main},
    {"oflow-normalize", "SEED COUNT", test_oflow_normalize_main},
    {"ofp-seeds", "DIR", test_ofp_seeds_main},
    {"ovsdb-datum", "FILE", test_ovsdb_datum_main},
    {"ovsdb-session", "FILE", test_ovsdb_session_main},
    {"ovsdb-txn-stream", "[--leader-only] REMOTES N PROGRESS OUTPUT",
     test_ovsdb_txn_stream_main},
    {"reconnect", "FILE", test_reconnect_main},
    {"send-buffer", "BYTES", test_send_buffer_main},
};

/* Writes the 'n' bytes at 'data' to the file 'name' in directory 'dir'
 * (a seed of a fuzz target's corpus), or exits with a message. */
void
test_write_file(const char *dir, const char *name, const void *data,
                size_t n)
{
    char *file = iovp_xasprintf("%s/%s", dir, name);
    FILE *stream = fopen(file, "wb");

    if (!stream || fwrite(data, 1, n, stream) != n || fclose(stream)) {
        iovp_fatal(-errno, "%s: cannot write", file);
    }
    free(file);
}

/* Returns the contents of the file named 'name', malloc()'d, with a null
 * byte after them, and their length in '*lenp' if 'lenp' is nonnull.
 * Exits with a message if the file cannot be read. */
char *
test_read_file(const char *name, size_t *lenp)
{
    FILE *file = fopen(name, "rb");
    char *buf = NULL;
    size_t len = 0;

    if (!file) {
        iovp_fatal(-1, "%s: cannot open", name);
    }
    for (;;) {
        buf = iovp_xrealloc(buf, len + 4097);
        size_t n = fread(buf + len, 1, 4096, file);
        len += n;
        if (n < 4096) {
            break;
        }
    }
    fclose(file);
    buf[len] = '\0';
    if (lenp) {
        *lenp = len;
    }
    return buf;
}

static void
usage(void)
{
    printf("usage: test-iovp COMMAND [ARG...]\ncommands:\n");
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(commands); i++) {
        printf("  %s %s\n", commands[i].name, commands[i].usage);
    }
}

int
main(int argc, char *argv[])
{
    ovs_set_program_name(argv[0], PACKAGE_VERSION);
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        usage();
        return argc < 2 ? EXIT_FAILURE : EXIT_SUCCESS;
    }
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(commands); i++) {
        if (!strcmp(commands[i].name, argv[1])) {
            return commands[i].main(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "test-iovp: unknown command \"%s\"\n", argv[1]);
    return EXIT_FAILURE;
}
