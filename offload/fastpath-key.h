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

#ifndef IOVP_OFFLOAD_FASTPATH_KEY_H
#define IOVP_OFFLOAD_FASTPATH_KEY_H 1

/* What iovpd and the eBPF programs (offload/xdp-prog.bpf.c, offload/
 * xdp-errors.bpf.c) share, byte for byte: the key of a fast-path entry and
 * the xdp backend's maps.  Plain
 * kernel types only, so that both compilers read it alike. */

#include <linux/types.h>

/* The fields of a frame that a fast-path entry can match, in network byte
 * order (see offload/fastpath.h). */
struct fp_key {
    __u8 dl_dst[6];
    __u8 dl_src[6];
    __u16 vlan_tci;
    __u16 dl_type;
    __u32 nw_src;
    __u32 nw_dst;
    __u8 nw_proto;
    __u8 pad;
    __u16 tcp_flags;            /* The 12 bits of TCP flags. */
    __u16 tp_src;
    __u16 tp_dst;
};

/* The xdp backend's maps, for each port it serves:
 *
 *   fp_masks     array: slot -> the mask of that slot's tuple (unused: all
 *                zeros)
 *   fp_n_masks   array of one: how many slots the program looks at
 *   fp_entries   hash: (key masked by the tuple's mask, slot) -> bucket:
 *                at most FP_XDP_BUCKET entries, each with its own match
 *   fp_counts    array: an entry's 'counter' -> its frames and bytes
 *                (mappable: iovpd reads it in memory)
 *
 * The program looks the frame's key up once for each slot, masked by the
 * slot's mask (tuple-space search), checks each entry of the bucket it
 * finds, and the entry of the highest priority found decides (of equal
 * ones, the lowest id).  A tuple whose mask is coarser than its entries'
 * (relaxed, offload/fastpath.h) holds entries of many masks. */
#define FP_XDP_MAX_MASKS 32
#define FP_XDP_BUCKET 8

struct fp_xdp_key {
    struct fp_key key;          /* Masked by the slot's mask. */
    __u32 slot;
};

enum fp_xdp_fate {
    FP_XDP_TO_OVS,
    FP_XDP_DROP,
    FP_XDP_FORWARD,
};

struct fp_xdp_entry {
    struct fp_key mask;
    struct fp_key value;        /* Masked by 'mask'. */
    __u32 priority;
    __u32 fate;                 /* enum fp_xdp_fate. */
    __u32 out_ifindex;          /* FP_XDP_FORWARD. */
    __u32 id;
    __u32 counter;              /* Its counters' index in fp_counts. */
    __u32 pad;
};

struct fp_xdp_bucket {
    __u32 n;                    /* Entries in use, from the first. */
    __u32 pad;
    struct fp_xdp_entry entries[FP_XDP_BUCKET];
};

/* The only thing the program writes, by atomic add, for real frames
 * only. */
struct fp_xdp_count {
    __u64 n_packets;
    __u64 n_bytes;
};

/* A frame that iovpd runs through a port's program itself
 * (BPF_PROG_TEST_RUN, for verify-offload and trace) carries this value in
 * the first 4 bytes of its XDP metadata, in host byte order; the program
 * decides it as any other frame but counts it in no entry, since the
 * entries' counters are the VMs' traffic: the statistics iovpd reports and
 * the weights the planner chooses by.  Only an XDP program can put
 * metadata in front of a frame (it is not on the wire, and a VM cannot set
 * it), and no other program runs before ours on the port, so a real frame
 * never carries it; the value itself guards against one that someone
 * chains in front. */
#define FP_XDP_TEST_MARK 0x696f7670     /* "iovp". */

/* Steering, for each port: after its entries decided to forward a frame,
 * the first rule whose match the frame's key meets (the loader sorts them
 * by priority) has the frame forwarded from CPU 'cpu' rather than the one
 * that received it.
 *
 *   fp_steer     array: index -> rule (only the first 'fp_n_steer' used)
 *   fp_n_steer   array of one: how many rules the program looks at
 *
 * The program puts a 'struct fp_xdp_steer_meta' in front of the frame, as
 * XDP metadata, and redirects it into the backend's CPU map, one for all
 * ports:
 *
 *   fp_cpus          cpumap: CPU -> queue and the program that runs there
 *   fp_steer_counts  per-CPU hash: (ifindex, rule id) -> frames, bytes
 *
 * On the chosen CPU, the CPU map's program counts the frame in that CPU's
 * slot of 'fp_steer_counts' and redirects it to 'out_ifindex'. */
#define FP_XDP_MAX_STEER 16

struct fp_xdp_steer {
    struct fp_key mask;
    struct fp_key value;        /* Masked. */
    __u32 cpu;
    __u32 id;
};

#define FP_XDP_STEER_MARK 0x73746572    /* "ster". */

struct fp_xdp_steer_meta {
    __u32 mark;                 /* FP_XDP_STEER_MARK. */
    __u32 out_ifindex;
    __u32 id;                   /* The rule's. */
    __u32 pad;
};

struct fp_xdp_steer_key {
    __u32 ifindex;              /* The port whose rule it is. */
    __u32 id;
};

struct fp_xdp_steer_count {
    __u64 n_packets;
    __u64 n_bytes;
};

/* The xdp backend's count of the frames that the kernel took for redirect
 * and then lost, one map for the whole backend (not per port), written by the
 * programs of offload/xdp-errors.bpf.c on the tracepoints xdp:xdp_redirect_err
 * (one per failed redirect) and xdp:xdp_devmap_xmit (the frames a flush to a
 * target's ndo_xdp_xmit dropped):
 *
 *   fp_redirect_errors   hash: (from ifindex, to ifindex) -> frames lost
 *
 * Only the events of devices in the network namespace 'fp_netns' (its
 * inode number, set by the loader; zero: any) count, since ifindexes are
 * per namespace. */
#define FP_XDP_MAX_ERROR_KEYS 4096

/* A third program, on xdp:xdp_cpumap_enqueue, counts there the frames that
 * a full queue of steering's CPU map (the one whose id the loader writes
 * in 'fp_cpus_id') dropped, under the key (0, FP_XDP_CPU_TARGET | CPU). */
#define FP_XDP_CPU_TARGET 0x80000000u

struct fp_xdp_error_key {
    __u32 from_ifindex;
    __u32 to_ifindex;
};

#endif /* offload/fastpath-key.h */
