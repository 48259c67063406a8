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
 *   offload-cost send IP PORT COUNT PPS
 *       Sends COUNT UDP datagrams of 64 bytes of payload to IP:PORT, in
 *       batches of 16 (sendmmsg), at PPS datagrams a second. */

#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <openvswitch/flow.h>
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

static int
cost_send(const char *ip, int port, unsigned long count, unsigned long pps)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_port = htons(port) };
    char payload[64];
    struct mmsghdr msgs[64];
    struct iovec iov;

    if (fd < 0 || inet_pton(AF_INET, ip, &sin.sin_addr) != 1
        || connect(fd, (struct sockaddr *) &sin, sizeof sin)) {
        iovp_fatal(errno, "cannot send to %s:%d", ip, port);
    }
    memset(payload, 'x', sizeof payload);
    iov.iov_base = payload;
    iov.iov_len = sizeof payload;
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < 64; i++) {
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
        int n = sendmmsg(fd, msgs, MIN(16, count - sent), 0);
        if (n < 0) {
            if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED) {
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

int
main(int argc, char *argv[])
{
    if (argc == 4 && !strcmp(argv[1], "prog")) {
        return cost_prog(argv[2], strtoul(argv[3], NULL, 10));
    } else if (argc == 6 && !strcmp(argv[1], "send")) {
        return cost_send(argv[2], atoi(argv[3]), strtoul(argv[4], NULL, 10),
                         strtoul(argv[5], NULL, 10));
    }
    fprintf(stderr, "usage: %s prog DEVICE REPEAT | "
            "send IP PORT COUNT PPS\n", argv[0]);
    return 2;
}
