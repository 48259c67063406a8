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

#ifndef IOVP_TEST_IOVP_H
#define IOVP_TEST_IOVP_H 1

/* test-iovp: one program for the test suite's drivers of pure modules, as
 * Open vSwitch has ovstest.  "test-iovp COMMAND [ARG...]" runs COMMAND.
 *
 * A transcript driver reads an input file and prints the module's state as
 * it goes, so that a test compares printed output with what it expects. */

#include <stddef.h>

char *test_read_file(const char *name, size_t *lenp);
void test_write_file(const char *dir, const char *name, const void *data,
                     size_t n);

/* A driver's entry point: returns the program's exit status. */
typedef int test_iovp_func(int argc, char *argv[]);

test_iovp_func test_control_main;
test_iovp_func test_desired_main;
test_iovp_func test_engine_main;
test_iovp_func test_idl_main;
test_iovp_func test_idl_memory_main;
test_iovp_func test_json_decode_main;
test_iovp_func test_json_encode_main;
test_iovp_func test_jsonrpc_parse_main;
test_iovp_func test_link_main;
test_iovp_func test_loop_lag_main;
test_iovp_func test_offload_classbench_main;
test_iovp_func test_nb_seeds_main;
test_iovp_func test_ofconn_main;
test_iovp_func test_oflow_normalize_main;
test_iovp_func test_ofp_seeds_main;
test_iovp_func test_ovsdb_datum_main;
test_iovp_func test_ovsdb_session_main;
test_iovp_func test_ovsdb_txn_stream_main;
test_iovp_func test_reconnect_main;
test_iovp_func test_send_buffer_main;

#endif /* test-iovp.h */
