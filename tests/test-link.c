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

/* "test-iovp link": proves that jansson and libopenvswitch live in one
 * process.  Both define json_object(), json_string(), json_array(),
 * json_integer(), json_real() and json_equal(); unless the library's names
 * are renamed (build-aux/install-deps.sh does it), a call meant for jansson
 * lands in Open vSwitch's function and the program crashes.  This uses each
 * of jansson's six and then encodes and prints an OpenFlow flow_mod through
 * libopenvswitch. */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>
#include <openflow/openflow.h>
#include <openvswitch/match.h>
#include <openvswitch/ofp-flow.h>
#include <openvswitch/ofp-print.h>
#include <openvswitch/ofp-protocol.h>
#include <openvswitch/ofpbuf.h>

#include "tests/test-iovp.h"

static int
check_jansson(void)
{
    json_t *a = json_object();
    json_object_set_new(a, "s", json_string("x"));
    json_object_set_new(a, "i", json_integer(42));
    json_object_set_new(a, "r", json_real(1.5));
    json_object_set_new(a, "a", json_array());

    json_error_t error;
    json_t *b = json_loads("{\"s\": \"x\", \"i\": 42, \"r\": 1.5, \"a\": []}",
                           0, &error);
    int equal = b && json_equal(a, b);
    char *s = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT);
    printf("jansson: %s %s\n", s, equal ? "equal" : "DIFFERENT");
    free(s);
    json_decref(a);
    json_decref(b);
    return equal;
}

static int
check_openflow(void)
{
    enum ofputil_protocol usable;
    struct ofputil_flow_mod fm;
    char *error;

    error = parse_ofp_flow_mod_str(&fm, "table=0,priority=100,in_port=1,"
                                   "dl_type=0x0800,nw_src=10.0.0.1,"
                                   "actions=output:2", NULL, NULL, OFPFC_ADD,
                                   &usable);
    if (error) {
        printf("openflow: parse error: %s\n", error);
        free(error);
        return 0;
    }

    struct ofpbuf *msg = ofputil_encode_flow_mod(&fm, OFPUTIL_P_OF13_OXM);
    char *s = ofp_to_string(msg->data, msg->size, NULL, NULL, 1);
    printf("openflow: %s", s);
    free(s);
    ofpbuf_delete(msg);
    minimatch_destroy(&fm.match);
    free(fm.ofpacts);
    return 1;
}

int
test_link_main(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    int ok = check_jansson() & check_openflow();
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
