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

/* A libFuzzer target for the fast path's frame parser (C side):
 * fp_key_from_frame() in offload/fastpath.c, which reads every frame a VM
 * sends when a NIC fast path is modelled or checked.
 *
 * Each input is one frame.  Whatever it holds, the parser may read no byte
 * beyond it (AddressSanitizer sees the input as exactly its size), and
 * the key it gives must keep the promises of offload/fastpath.h: no IPv4
 * fields unless the frame is IPv4, no L4 fields without an IPv4 protocol,
 * a tagged frame's CFI bit set; and the key matches itself. */

#include <config.h>

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>

#include "offload/fastpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what, const struct fp_key *key)
{
    struct fp_match m = { .value = *key };
    struct ds s = DS_EMPTY_INITIALIZER;

    memset(&m.mask, 0xff, sizeof m.mask);
    fp_match_format(&m, &s);
    fprintf(stderr, "fuzz-fastpath: %s: %s\n", what, ds_cstr(&s));
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly 'size' bytes, so that any read beyond is caught. */
    uint8_t *frame = malloc(size ? size : 1);
    struct fp_key key, again;

    memcpy(frame, data, size);
    memset(&key, 0x5a, sizeof key);
    if (!fp_key_from_frame(frame, size, &key)) {
        free(frame);
        return 0;
    }

    if (!fp_key_from_frame(frame, size, &again)
        || !fp_key_equal(&key, &again)) {
        fail("parsing twice gave two keys", &key);
    }
    if (key.dl_type != htons(0x0800)
        && (key.nw_src || key.nw_dst || key.nw_proto)) {
        fail("IPv4 fields in a frame that is not IPv4", &key);
    }
    if (!key.nw_proto && (key.tp_src || key.tp_dst || key.tcp_flags)) {
        fail("L4 fields without an IPv4 protocol", &key);
    }
    if (key.nw_proto != 6 && key.tcp_flags) {
        fail("TCP flags in a frame that is not TCP", &key);
    }
    if (key.vlan_tci && !(ntohs(key.vlan_tci) & FP_VLAN_CFI)) {
        fail("a tag without its CFI bit", &key);
    }
    if (key.pad) {
        fail("padding not zero", &key);
    }

    struct fp_match m = { .value = key };
    memset(&m.mask, 0xff, sizeof m.mask);
    if (!fp_match_matches(&m, &key)) {
        fail("the key does not match itself", &key);
    }
    free(frame);
    return 0;
}
