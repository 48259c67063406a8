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

/* The helper of bench/offload-cost.py:
 *
 *   offload-cost prog DEVICE REPEAT
 *       For 1, 8 and 32 tuples, each with a bucket of 1, 4 and 8 entries
 *       that a frame finds, puts a fast path into the xdp backend on DEVICE
 *       (generic mode) and runs its program on a frame that no entry
 *       matches (every tuple is looked up and every entry of each bucket
 *       checked: the most work a frame costs) and on one that the
 *       lowest-priority entry matches, REPEAT times each with
 *       BPF_PROG_TEST_RUN; prints the kernel's ns per run.
 *
 *   offload-cost send DEVICE DST_MAC DST_IP COUNT PPS
 *       Sends COUNT frames from DEVICE, each a UDP datagram of 64 bytes of
 *       payload from DEVICE's MAC and IPv4 address to DST_MAC and DST_IP,
 *       port 9, at PPS frames a second, through a packet socket that
 *       bypasses the qdisc, in batches of 64 (sendmmsg): a sender whose
 *       own cost is small next to a network stack's.
 *
 *   offload-cost sink DEVICE
 *       Attaches to DEVICE, in native mode, an XDP program that drops
 *       every frame (the device's ethtool counters count them): a receiver
 *       that costs about nothing, which a veth's native-mode redirect also
 *       needs at the receiving end.  The program stays attached when this
 *       exits. */

#include <config.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <openvswitch/flow.h>
#include <openvswitch/ofp-parse.h>
#include <openvswitch/util.h>

#include "lib/util.h"
#include "offload/backend.h"
#include "offload/fastpath.h"

static int
cost_prog(const char *device, unsigned int repeat)
{
    static const int tuple_counts[] = { 1, 8, 32 };
    static const int bucket_fills[] = { 1, 4, 8 };

    for (size_t ti = 0; ti < IOVP_ARRAY_SIZE(tuple_counts); ti++) {
        for (size_t bi = 0; bi < IOVP_ARRAY_SIZE(bucket_fills); bi++) {
            int n_tuples = tuple_counts[ti], fill = bucket_fills[bi];
            struct offload *nic;
            char *error = offload_open("xdp:mode=generic,entries=4096",
                                       &nic);
            if (error) {
                iovp_fatal(0, "%s", error);
            }

            /* Tuple t: IPv4 with nw_dst in 10.0.0.0/(t + 1), its one
             * bucket 'fill' entries that add nw_src exactly, from
             * 192.0.2.0. */
            size_t n = 0;
            struct fp_entry *entries = iovp_xzalloc(n_tuples * fill
                                                    * sizeof *entries);
            for (int t = 0; t < n_tuples; t++) {
                uint32_t mask = 0xffffffffu << (31 - t);
                for (int v = 0; v < fill; v++) {
                    struct fp_entry *e = &entries[n++];
                    e->match.mask.dl_type = htons(0xffff);
                    e->match.value.dl_type = htons(0x0800);
                    e->match.mask.nw_dst = htonl(mask);
                    e->match.value.nw_dst = htonl(0x0a000000u & mask);
                    e->tuple = e->match.mask;
                    e->match.mask.nw_src = htonl(0xffffffff);
                    e->match.value.nw_src = htonl(0xc0000200 + v);
                    e->priority = 1000 - t * 8 - v;
                    e->fate = FP_DROP;
                    e->id = n;
                }
            }
            int retval = nic->class->put(nic, device, entries, n);
            if (retval) {
                iovp_fatal(-retval, "put of %zu entries failed", n);
            }

            __u32 id = 0;
            bpf_xdp_query_id(if_nametoindex(device), XDP_FLAGS_SKB_MODE,
                             &id);
            int prog_fd = bpf_prog_get_fd_by_id(id);
            if (prog_fd < 0) {
                iovp_fatal(errno, "no program on %s", device);
            }

            for (int hit = 0; hit < 2; hit++) {
                struct flow f;
                uint8_t frame[128], out[256];
                memset(&f, 0, sizeof f);
                f.dl_type = htons(0x0800);
                f.nw_proto = 17;
                f.nw_src = htonl(hit ? 0xc0000200 + fill - 1 : 0xcb007101);
                f.nw_dst = htonl(0x0a000001);
                size_t len = fp_frame_from_flow(&f, frame, sizeof frame);
                LIBBPF_OPTS(bpf_test_run_opts, topts,
                            .data_in = frame, .data_size_in = len,
                            .data_out = out, .data_size_out = sizeof out,
                            .repeat = repeat);
                retval = bpf_prog_test_run_opts(prog_fd, &topts);
                if (retval) {
                    iovp_fatal(-retval, "BPF_PROG_TEST_RUN failed");
                }
                printf("tuples=%d bucket=%d entries=%zu frame=%s "
                       "ns_per_frame=%u\n", n_tuples, fill, n,
                       hit ? "hit" : "miss", topts.duration);
            }
            close(prog_fd);
            nic->class->delete(nic, device, NULL, 0);
            offload_close(nic);
            free(entries);
        }
    }
    return 0;
}

static double
cost_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads DEVICE's MAC and IPv4 address into 'mac' and '*ip'. */
static void
cost_device_addrs(int fd, const char *device, struct eth_addr *mac,
                  ovs_be32 *ip)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", device);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
        iovp_fatal(errno, "%s: cannot read its MAC", device);
    }
    memcpy(mac->ea, ifr.ifr_hwaddr.sa_data, 6);
    ifr.ifr_addr.sa_family = AF_INET;
    if (ioctl(fd, SIOCGIFADDR, &ifr)) {
        iovp_fatal(errno, "%s: cannot read its IPv4 address", device);
    }
    *ip = ((struct sockaddr_in *) &ifr.ifr_addr)->sin_addr.s_addr;
}

static int
cost_send(const char *device, const char *dst_mac, const char *dst_ip,
          unsigned long count, unsigned long pps)
{
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    int ifindex = if_nametoindex(device);
    struct in_addr dst;
    struct flow flow;
    int one = 1;

    if (fd < 0 || !ifindex) {
        iovp_fatal(errno, "%s: cannot send from it", device);
    }
    memset(&flow, 0, sizeof flow);
    char *error = str_to_mac(dst_mac, &flow.dl_dst);
    if (error || inet_pton(AF_INET, dst_ip, &dst) != 1) {
        iovp_fatal(0, "%s %s: not a MAC and an IPv4 address", dst_mac,
                   dst_ip);
    }
    cost_device_addrs(fd, device, &flow.dl_src, &flow.nw_src);
    /* Not through the qdisc: the sender's cost is the driver's. */
    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);

    /* The fast path's frame of the flow (its headers), then the payload,
     * the lengths that count it, and the header checksum. */
    flow.dl_type = htons(0x0800);  /* IPv4. */
    flow.nw_dst = dst.s_addr;
    flow.nw_proto = IPPROTO_UDP;
    flow.tp_src = flow.tp_dst = htons(9);
    uint8_t frame[128];
    fp_frame_from_flow(&flow, frame, sizeof frame);
    uint8_t *ip = frame + 14, *udp = ip + 20, *payload = udp + 8;
    size_t payload_len = 64;
    memset(payload, 'x', payload_len);
    ovs_be16 ip_len = htons(20 + 8 + payload_len);
    ovs_be16 udp_len = htons(8 + payload_len);
    memcpy(ip + 2, &ip_len, 2);
    memcpy(udp + 4, &udp_len, 2);
    ovs_be16 csum = htons(fp_ipv4_csum(ip));
    memcpy(ip + 10, &csum, 2);

    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_ifindex = ifindex,
        .sll_halen = 6,
    };
    memcpy(sll.sll_addr, flow.dl_dst.ea, 6);
    struct iovec iov = {
        .iov_base = frame, .iov_len = payload + payload_len - frame,
    };
    struct mmsghdr msgs[64];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < 64; i++) {
        msgs[i].msg_hdr.msg_name = &sll;
        msgs[i].msg_hdr.msg_namelen = sizeof sll;
        msgs[i].msg_hdr.msg_iov = &iov;
        msgs[i].msg_hdr.msg_iovlen = 1;
    }

    unsigned long sent = 0;
    double start = cost_now();
    while (sent < count) {
        double due = start + (double) sent / pps;
        double now = cost_now();
        if (now < due) {
            struct timespec ts = { 0, (long) ((due - now) * 1e9) };
            nanosleep(&ts, NULL);
        }
        int n = sendmmsg(fd, msgs, MIN(64, count - sent), 0);
        if (n < 0) {
            if (errno == ENOBUFS || errno == EAGAIN) {
                continue;
            }
            iovp_fatal(errno, "sendmmsg");
        }
        sent += n;
    }
    printf("sent=%lu\n", sent);
    close(fd);
    return 0;
}

static int
cost_sink(const char *device)
{
    /* r0 = XDP_DROP; exit. */
    const struct bpf_insn insns[] = {
        { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
          .imm = XDP_DROP },
        { .code = BPF_JMP | BPF_EXIT },
    };
    int ifindex = if_nametoindex(device);
    if (!ifindex) {
        iovp_fatal(errno, "%s", device);
    }
    int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "iovp_bench_sink", "GPL",
                           insns, IOVP_ARRAY_SIZE(insns), NULL);
    if (fd < 0) {
        iovp_fatal(-fd, "cannot load the sink program");
    }
    int error = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);
    if (error) {
        iovp_fatal(-error, "%s: cannot attach the sink program", device);
    }
    return 0;
}

int
main(int argc, char *argv[])
{
    if (argc == 4 && !strcmp(argv[1], "prog")) {
        return cost_prog(argv[2], strtoul(argv[3], NULL, 10));
    } else if (argc == 7 && !strcmp(argv[1], "send")) {
        return cost_send(argv[2], argv[3], argv[4],
                         strtoul(argv[5], NULL, 10),
                         strtoul(argv[6], NULL, 10));
    } else if (argc == 3 && !strcmp(argv[1], "sink")) {
        return cost_sink(argv[2]);
    }
    fprintf(stderr, "usage: %s prog DEVICE REPEAT | "
            "send DEVICE DST_MAC DST_IP COUNT PPS | sink DEVICE\n", argv[0]);
    return 2;
}
