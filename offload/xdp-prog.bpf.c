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

/* The xdp backend's fast path: an eBPF program on the host side of a VM's
 * port, run on every frame the VM sends before OVS sees it.
 *
 * It reads the frame's key as fp_key_from_frame() does (offload/
 * fastpath.c; the two must not differ), looks it up by tuple-space search
 * in the port's maps (offload/fastpath-key.h), checking each entry of each
 * bucket it finds, and does what the entry of the highest priority says:
 * drop the frame, redirect it to another VM's port, or pass it on to the
 * kernel, where OVS's userspace datapath reads it.  A frame it cannot
 * read, or that no entry matches, is passed on.  The entry's counters grow
 * by atomic add, except for the test frames that iovpd runs through the
 * program itself (FP_XDP_TEST_MARK); the program writes nothing else.
 *
 * A frame that a steering rule of the port matches is forwarded from the
 * CPU the rule names: the program hands it to the CPU map, whose program
 * (iovp_steered) forwards it there.
 *
 * The frames the kernel took for redirect and then lost are counted by
 * the programs of offload/xdp-errors.bpf.c, apart.
 *
 * Built with clang -target bpf; loaded and attached by offload/xdp.c. */

#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "offload/fastpath-key.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, FP_XDP_MAX_MASKS);
    __type(key, __u32);
    __type(value, struct fp_key);
} fp_masks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} fp_n_masks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);          /* The loader sets it. */
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct fp_xdp_key);
    __type(value, struct fp_xdp_bucket);
} fp_entries SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1024);          /* The loader sets it. */
    __uint(map_flags, BPF_F_MMAPABLE);  /* The loader reads it so. */
    __type(key, __u32);
    __type(value, struct fp_xdp_count);
} fp_counts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, FP_XDP_MAX_STEER);
    __type(key, __u32);
    __type(value, struct fp_xdp_steer);
} fp_steer SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} fp_n_steer SEC(".maps");

/* Shared by every port's program and the CPU map's (the loader makes them
 * once). */
struct {
    __uint(type, BPF_MAP_TYPE_CPUMAP);
    __uint(max_entries, 1);             /* The loader sets it. */
    __type(key, __u32);
    __type(value, struct bpf_cpumap_val);
} fp_cpus SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 4096);
    __type(key, struct fp_xdp_steer_key);
    __type(value, struct fp_xdp_steer_count);
} fp_steer_counts SEC(".maps");

#define ETH_TYPE_IP 0x0800
#define ETH_TYPE_VLAN_8021Q 0x8100
#define ETH_TYPE_VLAN_8021AD 0x88a8

static __always_inline __u16
get16(const __u8 *p)
{
    return (__u16) (p[0] << 8 | p[1]);
}

/* Reads the key of the frame of 'ctx' into 'k'; returns 0 if the frame is
 * too short for the headers it announces. */
static __always_inline int
read_key(const struct xdp_md *ctx, struct fp_key *k)
{
    const __u8 *p = (const __u8 *) (long) ctx->data;
    const __u8 *end = (const __u8 *) (long) ctx->data_end;

    if (p + 14 > end) {
        return 0;
    }
    __builtin_memcpy(k->dl_dst, p, 6);
    __builtin_memcpy(k->dl_src, p + 6, 6);
    __u16 type = get16(p + 12);
    p += 14;
    if (type == ETH_TYPE_VLAN_8021Q || type == ETH_TYPE_VLAN_8021AD) {
        if (p + 4 > end) {
            return 0;
        }
        k->vlan_tci = bpf_htons((get16(p) & 0x0fff) | 0x1000);
        type = get16(p + 2);
        p += 4;
    }
    if (type < 0x600) {
        return 0;
    }
    k->dl_type = bpf_htons(type);
    if (type != ETH_TYPE_IP) {
        return 1;
    }

    /* As OVS's own sanity check of IPv4, or stricter (and as
     * fp_key_from_frame()): a frame OVS would not read as IPv4 is left to
     * it. */
    if (p + 20 > end || (p[0] >> 4) != 4 || (p[0] & 0xf) < 5) {
        return 0;
    }
    __u32 ihl = (p[0] & 0xf) * 4;
    __u32 tot_len = get16(p + 2);
    __u32 room = end - p;
    if (p + ihl > end || tot_len < ihl || tot_len > room
        || room - tot_len > 255) {
        return 0;
    }
    /* Every fragment (more fragments, or an offset) is OVS's: it
     * reassembles a datagram before its ACLs decide it (see
     * fp_key_from_frame()). */
    if (get16(p + 6) & 0x3fff) {
        return 0;
    }
    k->nw_proto = p[9];
    __builtin_memcpy(&k->nw_src, p + 12, 4);
    __builtin_memcpy(&k->nw_dst, p + 16, 4);
    p += ihl;
    if (p > end) {
        return 0;
    }

    /* L4 headers too short for OVS to read leave the frame to OVS. */
    switch (k->nw_proto) {
    case 6: {
        if (p + 20 > end) {
            return 0;
        }
        __u32 doff = (p[12] >> 4) * 4;
        if (doff < 20 || p + doff > end) {
            return 0;
        }
        k->tcp_flags = bpf_htons(get16(p + 12) & 0x0fff);
        __builtin_memcpy(&k->tp_src, p, 2);
        __builtin_memcpy(&k->tp_dst, p + 2, 2);
        break;
    }
    case 17:
        if (p + 8 > end) {
            return 0;
        }
        __builtin_memcpy(&k->tp_src, p, 2);
        __builtin_memcpy(&k->tp_dst, p + 2, 2);
        break;
    case 132:
        if (p + 12 > end) {
            return 0;
        }
        __builtin_memcpy(&k->tp_src, p, 2);
        __builtin_memcpy(&k->tp_dst, p + 2, 2);
        break;
    case 1:
        if (p + 8 > end) {
            return 0;
        }
        k->tp_src = bpf_htons(p[0]);
        k->tp_dst = bpf_htons(p[1]);
        break;
    }
    return 1;
}

/* Returns true if the frame of 'ctx' is one of iovpd's test frames, which
 * no counter counts (see FP_XDP_TEST_MARK).  Real frames have no metadata:
 * 'data_meta' equals 'data' (or lies beyond it, on a driver that gives
 * none). */
static __always_inline int
is_test_frame(const struct xdp_md *ctx)
{
    const __u8 *meta = (const __u8 *) (long) ctx->data_meta;
    const __u8 *data = (const __u8 *) (long) ctx->data;
    __u32 mark;

    if (meta + sizeof mark > data) {
        return 0;
    }
    __builtin_memcpy(&mark, meta, sizeof mark);
    return mark == FP_XDP_TEST_MARK;
}

/* The entry that decides a frame, so far. */
struct fp_best {
    __u32 found;
    __u32 priority;
    __u32 id;
    __u32 fate;
    __u32 out_ifindex;
    __u32 counter;
};

/* Checks each entry of bucket 'b' against key 'k', making '*best' any
 * that matches and wins over it.  A global function, which the verifier
 * checks once, whatever bucket the caller passes. */
__attribute__((noinline)) int
fp_check_bucket(const struct fp_xdp_bucket *b, const struct fp_key *k,
                struct fp_best *best)
{
    if (!b || !k || !best) {
        return 0;
    }
    const __u64 *kw = (const __u64 *) k;
    __u32 n = b->n;
    for (__u32 j = 0; j < FP_XDP_BUCKET; j++) {
        if (j >= n) {
            break;
        }
        const struct fp_xdp_entry *e = &b->entries[j];
        const __u64 *em = (const __u64 *) &e->mask;
        const __u64 *ev = (const __u64 *) &e->value;
        if ((kw[0] & em[0]) == ev[0] && (kw[1] & em[1]) == ev[1]
            && (kw[2] & em[2]) == ev[2] && (kw[3] & em[3]) == ev[3]
            && (!best->found || e->priority > best->priority
                || (e->priority == best->priority && e->id < best->id))) {
            best->found = 1;
            best->priority = e->priority;
            best->id = e->id;
            best->fate = e->fate;
            best->out_ifindex = e->out_ifindex;
            best->counter = e->counter;
        }
    }
    return 0;
}

/* Returns the first steering rule of the port that key 'k' meets, or
 * NULL. */
static __always_inline const struct fp_xdp_steer *
find_steer(const struct fp_key *k)
{
    __u32 zero = 0;
    const __u32 *np = bpf_map_lookup_elem(&fp_n_steer, &zero);
    __u32 n = np ? *np : 0;
    const __u64 *kw = (const __u64 *) k;

    for (__u32 i = 0; i < FP_XDP_MAX_STEER; i++) {
        if (i >= n) {
            break;
        }
        __u32 slot = i;
        const struct fp_xdp_steer *s = bpf_map_lookup_elem(&fp_steer, &slot);
        if (!s) {
            break;
        }
        const __u64 *m = (const __u64 *) &s->mask;
        const __u64 *v = (const __u64 *) &s->value;
        if ((kw[0] & m[0]) == v[0] && (kw[1] & m[1]) == v[1]
            && (kw[2] & m[2]) == v[2] && (kw[3] & m[3]) == v[3]) {
            return s;
        }
    }
    return NULL;
}

/* Forwards the frame of 'ctx' to 'out_ifindex' from the CPU that steering
 * rule 's' names, through the CPU map, or from this CPU if the map has no
 * queue for it. */
static __always_inline int
steer(struct xdp_md *ctx, const struct fp_xdp_steer *s, __u32 out_ifindex)
{
    struct fp_xdp_steer_meta m = {
        .mark = FP_XDP_STEER_MARK,
        .out_ifindex = out_ifindex,
        .id = s->id,
    };
    __u32 cpu = s->cpu;

    if (bpf_xdp_adjust_meta(ctx, -(int) sizeof m)) {
        return bpf_redirect(out_ifindex, 0);
    }
    __u8 *meta = (__u8 *) (long) ctx->data_meta;
    if (meta + sizeof m > (__u8 *) (long) ctx->data) {
        return bpf_redirect(out_ifindex, 0);
    }
    __builtin_memcpy(meta, &m, sizeof m);
    long verdict = bpf_redirect_map(&fp_cpus, cpu, 0);
    if (verdict != XDP_REDIRECT) {
        bpf_xdp_adjust_meta(ctx, sizeof m);
        return bpf_redirect(out_ifindex, 0);
    }
    return verdict;
}

SEC("xdp")
int
iovp_fastpath(struct xdp_md *ctx)
{
    struct fp_key k;
    __u32 zero = 0;

    __builtin_memset(&k, 0, sizeof k);
    if (!read_key(ctx, &k)) {
        return XDP_PASS;
    }
#ifdef IOVP_TEST_VARIANT
    /* Only in the build the tests make to stand for an older iovpd's
     * program: one more test, which no frame meets, gives it another
     * tag. */
    if (ctx->rx_queue_index == 0xfffffffe) {
        return XDP_ABORTED;
    }
#endif

    const __u32 *np = bpf_map_lookup_elem(&fp_n_masks, &zero);
    __u32 n = np ? *np : 0;
    const __u64 *kw = (const __u64 *) &k;
    struct fp_best best;

    __builtin_memset(&best, 0, sizeof best);
    /* A bounded loop, which the verifier follows slot by slot. */
    for (__u32 i = 0; i < FP_XDP_MAX_MASKS; i++) {
        if (i >= n) {
            break;
        }
        __u32 slot = i;
        const __u64 *m = bpf_map_lookup_elem(&fp_masks, &slot);
        if (!m) {
            break;
        }
        struct fp_xdp_key hk;
        __u64 *h = (__u64 *) &hk.key;
        h[0] = kw[0] & m[0];
        h[1] = kw[1] & m[1];
        h[2] = kw[2] & m[2];
        h[3] = kw[3] & m[3];
        hk.slot = i;

        fp_check_bucket(bpf_map_lookup_elem(&fp_entries, &hk), &k, &best);
    }
    if (!best.found) {
        return XDP_PASS;
    }

    int test = is_test_frame(ctx);
    if (!test) {
        __u32 counter = best.counter;
        struct fp_xdp_count *c = bpf_map_lookup_elem(&fp_counts, &counter);
        if (c) {
            __sync_fetch_and_add(&c->n_packets, 1);
            __sync_fetch_and_add(&c->n_bytes, ctx->data_end - ctx->data);
        }
    }
    switch (best.fate) {
    case FP_XDP_DROP:
        return XDP_DROP;
    case FP_XDP_FORWARD: {
        /* iovpd's test frames are never steered: they would be counted on
         * their CPU. */
        const struct fp_xdp_steer *s = test ? NULL : find_steer(&k);
        return (s ? steer(ctx, s, best.out_ifindex)
                : bpf_redirect(best.out_ifindex, 0));
    }
    default:
        return XDP_PASS;
    }
}

/* The CPU map's program: runs on the CPU that a steering rule chose, on
 * each frame that a port's program put in its queue, counts it there and
 * forwards it as that program decided.  A frame without the metadata goes
 * to the kernel as if the port had received it. */
SEC("xdp/cpumap")
int
iovp_steered(struct xdp_md *ctx)
{
    struct fp_xdp_steer_meta m;
    const __u8 *meta = (const __u8 *) (long) ctx->data_meta;

    if (meta + sizeof m > (const __u8 *) (long) ctx->data) {
        return XDP_PASS;
    }
    __builtin_memcpy(&m, meta, sizeof m);
    if (m.mark != FP_XDP_STEER_MARK) {
        return XDP_PASS;
    }
    bpf_xdp_adjust_meta(ctx, sizeof m);

    struct fp_xdp_steer_key key = {
        .ifindex = ctx->ingress_ifindex,
        .id = m.id,
    };
    struct fp_xdp_steer_count *c = bpf_map_lookup_elem(&fp_steer_counts,
                                                       &key);
    if (!c) {
        struct fp_xdp_steer_count zero = { 0, 0 };
        bpf_map_update_elem(&fp_steer_counts, &key, &zero, BPF_NOEXIST);
        c = bpf_map_lookup_elem(&fp_steer_counts, &key);
    }
    if (c) {
        /* This CPU's own slot: no other CPU writes it. */
        c->n_packets++;
        c->n_bytes += ctx->data_end - ctx->data;
    }
    return bpf_redirect(m.out_ifindex, 0);
}

char _license[] SEC("license") = "GPL";
