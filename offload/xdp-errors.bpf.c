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

/* The xdp backend's counters of loss: programs on the kernel's XDP
 * tracepoints that count the frames the kernel took for redirect, from a
 * port's fast path (offload/xdp-prog.bpf.c) or into a CPU map, and then
 * lost, for the whole backend.  They read the kernel's structures, which
 * libbpf relocates against the kernel's BTF: an object apart from the
 * ports' programs, so that loading one of those, once per port, does not
 * read the kernel's BTF (see fastpath-key.h).
 *
 * Built with clang -target bpf; loaded and attached by offload/xdp.c. */

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "offload/fastpath-key.h"

/* The tracepoint programs' map and namespace (see fastpath-key.h). */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, FP_XDP_MAX_ERROR_KEYS);
    __type(key, struct fp_xdp_error_key);
    __type(value, __u64);
} fp_redirect_errors SEC(".maps");

const volatile __u32 fp_netns = 0;

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} fp_cpus_id SEC(".maps");

/* What the tracepoint programs read of the kernel's structures, relocated
 * by libbpf against the kernel's BTF (CO-RE): the layouts are not
 * assumed. */
struct ns_common {
    unsigned int inum;
} __attribute__((preserve_access_index));

struct net {
    struct ns_common ns;
} __attribute__((preserve_access_index));

typedef struct {
    struct net *net;
} possible_net_t;

struct net_device {
    int ifindex;
    possible_net_t nd_net;
} __attribute__((preserve_access_index));

/* Adds 'n' to the count of frames lost under 'key'. */
static __always_inline void
count_key(const struct fp_xdp_error_key *key, __u64 n)
{
    __u64 *count = bpf_map_lookup_elem(&fp_redirect_errors, key);
    if (!count) {
        __u64 zero = 0;
        bpf_map_update_elem(&fp_redirect_errors, key, &zero, BPF_NOEXIST);
        count = bpf_map_lookup_elem(&fp_redirect_errors, key);
        if (!count) {
            return;
        }
    }
    __sync_fetch_and_add(count, n);
}

/* Adds 'n' to the count of frames lost on their way from 'from' to the
 * device of ifindex 'to', if 'from' is in our namespace. */
static __always_inline void
count_error(const struct net_device *from, __u32 to, __u64 n)
{
    if (!from || !n) {
        return;
    }
    if (fp_netns && from->nd_net.net->ns.inum != fp_netns) {
        return;
    }
    struct fp_xdp_error_key key = {
        .from_ifindex = from->ifindex,
        .to_ifindex = to,
    };
    count_key(&key, n);
}

#define FP_BPF_MAP_TYPE_UNSPEC 0
#define FP_INT_MAX 0x7fffffff

/* xdp:xdp_redirect_err, TP_PROTO(dev, xdp, tgt, err, map_type, map_id,
 * index): a redirect the kernel refused.  For a redirect to an ifindex
 * (bpf_redirect(), not a map), 'map_type' is unspecified, 'map_id' is
 * INT_MAX and 'index' the target's ifindex. */
SEC("tp_btf/xdp_redirect_err")
int
iovp_redirect_err(unsigned long long *ctx)
{
    const struct net_device *dev = (const struct net_device *) ctx[0];
    __u32 map_type = ctx[4], map_id = ctx[5], index = ctx[6];

    if (map_type == FP_BPF_MAP_TYPE_UNSPEC && map_id == FP_INT_MAX) {
        count_error(dev, index, 1);
    }
    return 0;
}

/* xdp:xdp_devmap_xmit, TP_PROTO(from_dev, to_dev, sent, drops, err): a
 * flush of redirected frames to 'to_dev''s ndo_xdp_xmit, which took 'sent'
 * of them and dropped 'drops' (a full receive ring on a veth's peer, a
 * frame larger than its MTU, the driver's error 'err'). */
SEC("tp_btf/xdp_devmap_xmit")
int
iovp_devmap_xmit(unsigned long long *ctx)
{
    const struct net_device *from = (const struct net_device *) ctx[0];
    const struct net_device *to = (const struct net_device *) ctx[1];
    int drops = ctx[3];

    if (to && drops > 0) {
        count_error(from, to->ifindex, drops);
    }
    return 0;
}

/* xdp:xdp_cpumap_enqueue, TP_PROTO(map_id, processed, drops, to_cpu): a
 * flush of frames into the queue of CPU 'to_cpu' of a CPU map, which
 * dropped 'drops' of them (the queue was full). */
SEC("tp_btf/xdp_cpumap_enqueue")
int
iovp_cpumap_enqueue(unsigned long long *ctx)
{
    int map_id = ctx[0];
    unsigned int drops = ctx[2];
    int to_cpu = ctx[3];
    __u32 zero = 0;
    const __u32 *ours = bpf_map_lookup_elem(&fp_cpus_id, &zero);

    if (drops && ours && *ours && map_id == *ours && to_cpu >= 0) {
        struct fp_xdp_error_key key = {
            .from_ifindex = 0,
            .to_ifindex = FP_XDP_CPU_TARGET | to_cpu,
        };
        count_key(&key, drops);
    }
    return 0;
}

char _license[] SEC("license") = "GPL";
