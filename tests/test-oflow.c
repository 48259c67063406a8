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

/* "test-iovp oflow-normalize SEED COUNT": adds COUNT random matches to a
 * flow table with oflow_table_add(), which puts each in the switch's form
 * and remembers the shapes that are in it already, and checks each
 * against what a round trip through OXM (libopenvswitch's encoder and
 * decoder, nothing remembered) makes of it: the same match, or the same
 * refusal.  The matches are of few shapes (EtherTypes, protocols, which
 * fields are set and how they are masked), many with values outside their
 * masks, ports above 255 under ICMP and the odd masks of ovs-ofctl's
 * parser, registers and metadata, so that the remembered shapes are put
 * to the test.  Prints each
 * match handled otherwise, then a count. */

#include <config.h>

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/match.h>
#include <openvswitch/ofp-errors.h>
#include <openvswitch/ofp-match.h>
#include <openvswitch/ofp-protocol.h>
#include <openvswitch/ofpbuf.h>

#include "lib/util.h"
#include "ofp/oflow.h"
#include "tests/test-iovp.h"

static uint32_t
random_next(uint64_t *state)
{
    /* xorshift64*. */
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (*state * 2685821657736338717ULL) >> 32;
}

/* Returns one of a few masks of 'n' bytes (none, all, a prefix, an odd
 * one), chosen by 'shape', and a random value that stays within the mask
 * but for one time in eight. */
static void
random_field(uint64_t *state, unsigned int shape, void *value_, void *mask_,
             size_t n)
{
    uint8_t *value = value_;
    uint8_t *mask = mask_;

    for (size_t i = 0; i < n; i++) {
        switch (shape % 4) {
        case 0: mask[i] = 0; break;
        case 1: mask[i] = 0xff; break;
        case 2: mask[i] = i < n / 2 ? 0xff : 0; break;
        default: mask[i] = i % 2 ? 0xf0 : 0x0f; break;
        }
        value[i] = random_next(state);
    }
    if (!(shape % 4) || random_next(state) % 8) {
        for (size_t i = 0; i < n; i++) {
            value[i] &= mask[i];
        }
    }
}

static void
random_match(uint64_t *state, struct match *m)
{
    static const uint16_t dl_types[] = { 0x0800, 0x86dd, 0x0806, 0x88cc };
    static const uint8_t protos[] = {
        IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_ICMP, IPPROTO_ICMPV6,
        47,
    };
    /* Few shapes: the random bits that decide one come from a small set. */
    unsigned int shape = random_next(state) % 64;
    uint64_t shape_state = shape * 0x9e3779b97f4a7c15ULL + 1;

    match_init_catchall(m);
    if (random_next(&shape_state) % 8) {
        /* As iovpd's translators do: without it, no match survives the
         * round trip unchanged, which sets it. */
        match_set_default_packet_type(m);
    }
    match_set_dl_type(m, htons(dl_types[random_next(&shape_state)
                                         % IOVP_ARRAY_SIZE(dl_types)]));
    if (random_next(&shape_state) % 4) {
        match_set_nw_proto(m, protos[random_next(&shape_state)
                                     % IOVP_ARRAY_SIZE(protos)]);
    }
    if (random_next(&shape_state) % 8 == 0) {
        match_set_nw_frag_masked(m, random_next(&shape_state) % 4,
                                 random_next(&shape_state) % 2 ? 0xfd : 0x03);
    }
    if (random_next(&shape_state) % 8 == 0) {
        match_set_reg_masked(m, random_next(&shape_state) % 16,
                             random_next(state),
                             random_next(&shape_state) % 2 ? UINT32_MAX
                             : 0xffff0000);
    }
    if (random_next(&shape_state) % 8 == 0) {
        match_set_metadata(m, ((uint64_t) random_next(state) << 32)
                              | random_next(state));
    }

    /* Mostly the fields that the EtherType and protocol allow; sometimes
     * others, which OXM drops or refuses. */
    struct flow *f = &m->flow;
    struct flow *mask = &m->wc.masks;
    bool ip4 = f->dl_type == htons(0x0800) || f->dl_type == htons(0x0806);
    bool ip6 = f->dl_type == htons(0x86dd);
    bool l4 = ((ip4 || ip6) && m->wc.masks.nw_proto
               && f->nw_proto != 47);
    bool stray = random_next(&shape_state) % 8 == 0;
#define FIELD(MEMBER, ALLOWED)                                          \
    random_field(state, (ALLOWED) || stray ? random_next(&shape_state) : 0, \
                 &f->MEMBER, &mask->MEMBER, sizeof f->MEMBER)
    FIELD(dl_src, true);
    FIELD(dl_dst, true);
    FIELD(nw_src, ip4);
    FIELD(nw_dst, ip4);
    FIELD(ipv6_src, ip6);
    FIELD(ipv6_dst, ip6);
    FIELD(tp_src, l4);
    FIELD(tp_dst, l4);
#undef FIELD
}

int
test_oflow_normalize_main(int argc, char *argv[])
{
    if (argc != 3) {
        fprintf(stderr, "usage: test-iovp oflow-normalize SEED COUNT\n");
        return EXIT_FAILURE;
    }

    uint64_t state = strtoull(argv[1], NULL, 10) | 1;
    unsigned long int count = strtoul(argv[2], NULL, 10);
    size_t n_refused = 0, n_differ = 0;

    for (unsigned long int i = 0; i < count; i++) {
        struct match m;
        random_match(&state, &m);

        /* What the switch would make of it. */
        uint64_t stub[1024 / 8];
        struct ofpbuf b = OFPBUF_STUB_INITIALIZER(stub);
        struct match expected;
        ofputil_put_ofp11_match(&b, &m, OFPUTIL_P_OF15_OXM);
        enum ofperr error = ofputil_pull_ofp11_match(&b, NULL, NULL,
                                                     &expected, NULL);
        ofpbuf_uninit(&b);

        struct oflow_table t;
        oflow_table_init(&t);
        char *msg = oflow_table_add(&t, 0, 0, 100, &m, NULL, 0);
        bool ok;
        if (error || msg) {
            ok = error && msg;
            n_refused += ok;
        } else {
            struct match got;
            const struct oflow **flows = oflow_table_sorted(&t);
            minimatch_expand(&flows[0]->data->match, &got);
            free(flows);
            ok = match_equal(&got, &expected);
        }
        if (!ok) {
            struct ds s = DS_EMPTY_INITIALIZER;
            match_format(&m, NULL, &s, OFP_DEFAULT_PRIORITY);
            printf("differ: %s: %s\n", ds_cstr(&s),
                   msg ? msg : "taken otherwise than by OXM");
            ds_destroy(&s);
            n_differ++;
        }
        free(msg);
        oflow_table_destroy(&t);
    }
    printf("%lu matches (%zu refused by OXM), %zu handled otherwise than "
           "by a round trip through OXM\n", count, n_refused, n_differ);
    return n_differ ? EXIT_FAILURE : EXIT_SUCCESS;
}
