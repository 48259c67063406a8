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

#ifndef IOVP_OFFLOAD_FASTPATH_H
#define IOVP_OFFLOAD_FASTPATH_H 1

/* The fast path: what a NIC holds for one VM port.
 *
 * A fast path is one table of entries, each a value/mask match over the
 * fields of 'struct fp_key', a priority and a fate: drop, forward to
 * another local VM port, or leave the frame to OVS.  The highest-priority
 * entry that matches a frame decides it; a frame that matches none goes to
 * OVS.  Every backend (offload/backend.h) runs exactly these semantics;
 * the planner (offload/planner.h) chooses the entries so that a final fate
 * the NIC gives is always the one OVS's full pipeline would give.
 *
 * A backend finds the entries that match a frame by tuple-space search:
 * its table is a few tuples, each a hash table on a mask, its "tuple
 * mask"; an entry is in the tuple whose mask it is given ('tuple'), which
 * has no bit that the entry's own mask lacks, in the bucket of its value
 * under that mask, and a frame's key, masked by each tuple's mask in turn,
 * finds each bucket whose entries it may match, each checked in full.  A
 * tuple whose mask is its entries' own mask holds one entry per bucket;
 * relaxed tuples (a coarser mask, as TupleMerge's: Daly and Torng, IEEE/ACM
 * ToN 2019) hold entries of many masks, a few per bucket.  How entries go
 * into tuples changes how many a NIC holds, never which entry decides a
 * frame.
 *
 * A key is read from a frame by fp_key_from_frame(), the one definition of
 * how a frame's fields are found (the eBPF program reads them the same
 * way).  Everything is in network byte order, as in the frame. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;
struct flow;
struct match;

/* 'struct fp_key', the fields of a frame that a fast-path entry can match,
 * is in offload/fastpath-key.h, which the eBPF program shares.  Fields a
 * frame does not have are zero: 'vlan_tci' is zero for an untagged frame
 * (and has FP_VLAN_CFI set for a tagged one), the IPv4 fields are zero for
 * a frame that is not IPv4, the L4 fields zero unless TCP, UDP, SCTP or
 * ICMP (and not a later fragment).  For ICMP, 'tp_src' is the type and
 * 'tp_dst' the code, as in OpenFlow. */
#include "offload/fastpath-key.h"

#define FP_VLAN_CFI 0x1000      /* In host byte order. */

/* A value/mask match: a frame matches if its key, masked, equals 'value'.
 * 'value' has no bit that 'mask' does not have. */
struct fp_match {
    struct fp_key value;
    struct fp_key mask;
};

enum fp_fate {
    FP_TO_OVS,                  /* Not decided here: OVS decides. */
    FP_DROP,
    FP_FORWARD,                 /* To the local VM port 'out_port'. */
};

struct fp_entry {
    struct fp_match match;
    uint32_t priority;          /* Higher wins. */
    enum fp_fate fate;
    uint32_t out_port;          /* FP_FORWARD: the port, as the backend
                                 * names ports (an ifindex for xdp). */
    uint32_t id;                /* Names the entry within its port's table;
                                 * its counters are read by it. */
    struct fp_key tuple;        /* Its tuple's mask: no bit that
                                 * 'match.mask' lacks. */
};

/* Matches. */
void fp_match_init_catchall(struct fp_match *);
bool fp_match_from_match(const struct match *, struct fp_match *);
bool fp_match_matches(const struct fp_match *, const struct fp_key *);
bool fp_match_intersect(const struct fp_match *, const struct fp_match *,
                        struct fp_match *);
bool fp_match_overlaps(const struct fp_match *, const struct fp_match *);
bool fp_match_equal(const struct fp_match *, const struct fp_match *);
bool fp_key_equal(const struct fp_key *, const struct fp_key *);
bool fp_key_is_subset(const struct fp_key *, const struct fp_key *);
uint32_t fp_key_hash(const struct fp_key *, uint32_t basis);
void fp_key_and(const struct fp_key *, const struct fp_key *mask,
                struct fp_key *out);
void fp_match_format(const struct fp_match *, struct ds *);
void fp_entry_format(const struct fp_entry *, struct ds *);
const char *fp_fate_to_string(enum fp_fate);

/* Keys and frames. */
void fp_key_from_flow(const struct flow *, struct fp_key *);
bool fp_key_from_frame(const void *frame, size_t len, struct fp_key *);
size_t fp_frame_from_flow(const struct flow *, uint8_t *buf, size_t size);
size_t fp_probe_frame(const struct fp_match *, uint8_t *buf, size_t size);
uint16_t fp_ipv4_csum(const uint8_t *ip);

#endif /* offload/fastpath.h */
