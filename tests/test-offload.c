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

/* "test-iovp offload-classbench RULES SEED COUNT [--check-ipv4]
 * [--openflow]": the offload planner checked by difference.
 *
 * A VM port's ingress ACL is the ClassBench rule set RULES (line N is the
 * entry of sequence N + 1, permitting when N is even, denying when it is
 * odd, as tests/acl-classbench.py writes it); the port reaches two local
 * destinations, the second with an egress ACL of every 50th rule (their
 * actions the other way round).  With --check-ipv4, anti-spoofing also
 * checks the port's two IPv4 addresses (those of two of the rules).
 *
 * With --openflow, the port is in OpenFlow mode, OpenFlow port 1: its
 * ingress ACL is every 10th rule, and a controller's table 0 takes the
 * place of the L2 lookup, with a flow for every 7th rule (IPv4 addresses,
 * protocol, a single destination port), of four priorities that overlap,
 * each dropping, outputting to either destination or doing something
 * else, some for another in_port, a metadata, a VLAN or a packet type
 * other than Ethernet, and a catch-all
 * output to the first destination.
 *
 * For each NIC shape (entries, masks, fields), the planner's fast path is
 * put into a "sim" backend, and COUNT frames drawn with random seed SEED
 * (most inside a random rule, from the port's MAC to a destination, the
 * rest anywhere: other MACs, VLAN tags, ARP, IPv6, broadcast) are
 * classified by it and by the reference model (agent/reference.h).  A frame
 * the fast path drops or forwards must get that fate from the reference.
 * Prints one line per shape: the entries (covers among them) and masks the
 * plan used, the frames the NIC decided, and the disagreements (each one
 * printed); exits 1 if there is any. */

#include <config.h>

#include <arpa/inet.h>
#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/flow.h>
#include <openvswitch/match.h>

#include "agent/acl.h"
#include "agent/reference.h"
#include "agent/xlate-acl.h"
#include "agent/xlate-offload.h"
#include "lib/util.h"
#include "offload/backend.h"
#include "offload/nicctrl.h"
#include "offload/planner.h"
#include "offload/sim.h"
#include "tests/classbench.h"
#include "tests/test-iovp.h"

static const struct eth_addr port_mac = ETH_ADDR_C(02,00,00,00,00,01);
static const struct eth_addr dest_macs[2] = {
    ETH_ADDR_C(02,00,00,00,00,02), ETH_ADDR_C(02,00,00,00,00,03),
};

static const struct eth_addr broadcast = ETH_ADDR_C(ff,ff,ff,ff,ff,ff);

static void
random_mac(struct eth_addr *mac)
{
    uint64_t x = classbench_random();
    for (int i = 0; i < 6; i++) {
        mac->ea[i] = x >> (8 * i);
    }
    mac->ea[0] &= ~1;           /* Unicast. */
}

/* Draws a frame into 'f'. */
static void
draw_frame(const struct classbench_rule *rules, size_t n_rules,
           const struct xlate_offload_port *port, struct flow *f)
{
    memset(f, 0, sizeof *f);
    if (classbench_below(100) < 95) {
        f->dl_src = port_mac;
    } else {
        random_mac(&f->dl_src);
    }
    uint32_t d = classbench_below(100);
    if (d < 97) {
        f->dl_dst = (d < 45 ? dest_macs[0] : d < 90 ? dest_macs[1]
                     : d < 94 ? broadcast : port_mac);
    } else {
        random_mac(&f->dl_dst);
    }
    if (classbench_below(100) < 3) {
        f->vlans[0].tci = htons(FP_VLAN_CFI | classbench_between(1, 4094));
    }

    uint32_t t = classbench_below(100);
    if (t >= 90) {
        f->dl_type = htons(t < 95 ? 0x0806 : 0x86dd);
        if (t >= 95) {
            f->nw_proto = classbench_below(2) ? 6 : 17;
            f->tp_dst = htons(classbench_below(65536));
        }
        return;
    }
    f->dl_type = htons(0x0800);

    uint32_t src, dst;
    int proto, sport, dport;
    if (classbench_below(100) < 80) {
        const struct classbench_rule *r = &rules[classbench_below(n_rules)];
        src = r->src | ((uint32_t) classbench_random() & ~r->src_mask);
        dst = r->dst | ((uint32_t) classbench_random() & ~r->dst_mask);
        static const int protos[] = { 6, 17, 1, 47 };
        proto = r->proto >= 0 ? r->proto : protos[classbench_below(4)];
        sport = classbench_between(r->sport_lo, r->sport_hi);
        dport = classbench_between(r->dport_lo, r->dport_hi);
    } else {
        src = classbench_random();
        dst = classbench_random();
        static const int protos[] = { 6, 17, 1, 47 };
        proto = protos[classbench_below(4)];
        sport = classbench_below(65536);
        dport = classbench_below(65536);
    }
    if (port->check_ipv4 && classbench_below(100) < 70) {
        src = ntohl(port->ipv4[classbench_below(port->n_ipv4)]);
    }
    f->nw_src = htonl(src);
    f->nw_dst = htonl(dst);
    f->nw_proto = proto;
    if (proto == 6 || proto == 17) {
        f->tp_src = htons(sport);
        f->tp_dst = htons(dport);
        if (proto == 6) {
            f->tcp_flags = htons(classbench_below(0x1000));
        }
    } else if (proto == 1) {
        f->tp_src = htons(classbench_below(20));
        f->tp_dst = htons(classbench_below(4));
    }
}

/* Returns the rule of 'rules' (sorted by descending priority) that decides
 * 'key', or NULL. */
static struct planner_rule *
first_rule(struct planner_rule **sorted, size_t n, const struct fp_key *key)
{
    for (size_t i = 0; i < n; i++) {
        if (fp_match_matches(&sorted[i]->match, key)) {
            return sorted[i];
        }
    }
    return NULL;
}

static int
compare_rule_priority(const void *a_, const void *b_)
{
    const struct planner_rule *a = *(struct planner_rule *const *) a_;
    const struct planner_rule *b = *(struct planner_rule *const *) b_;

    return a->priority > b->priority ? -1 : a->priority < b->priority;
}

static void
format_flow(const struct flow *f, struct ds *s)
{
    struct fp_match m;

    fp_key_from_flow(f, &m.value);
    memset(&m.mask, 0xff, sizeof m.mask);
    m.mask.pad = 0;
    fp_match_format(&m, s);
}

/* Returns the sum of the packet and of the byte counters of 'device''s
 * entries in 'nic', in '*packets' and '*bytes'. */
static void
sum_counters(struct offload *nic, const char *spec, const char *device,
             uint64_t *packets, uint64_t *bytes)
{
    struct offload_stats *stats;
    size_t n;

    int retval = nic->class->stats(nic, device, &stats, &n);
    if (retval) {
        iovp_fatal(-retval, "%s: reading counters failed", spec);
    }
    *packets = *bytes = 0;
    for (size_t i = 0; i < n; i++) {
        *packets += stats[i].n_packets;
        *bytes += stats[i].n_bytes;
    }
    free(stats);
}

/* Checks the counters of 'device''s entries in 'nic' after check_shape()
 * classified its 'count' frames: a test run counts nowhere, so they are
 * all zero.  A sim backend then receives the same frames as real traffic,
 * and each frame an entry decides counts once, with its bytes.  Prints
 * what is wrong; returns the number of wrong counts. */
static size_t
check_counters(struct offload *nic, const char *spec, const char *device,
               const struct classbench_rule *cb, size_t n_cb,
               const struct xlate_offload_port *port, uint64_t seed,
               size_t count)
{
    uint64_t packets, bytes;
    size_t wrong = 0;

    sum_counters(nic, spec, device, &packets, &bytes);
    if (packets || bytes) {
        printf("  counters: %"PRIu64" packets and %"PRIu64" bytes counted "
               "for test runs\n", packets, bytes);
        wrong++;
    }
    if (nic->class != &offload_sim_class) {
        return wrong;
    }

    uint64_t want_packets = 0, want_bytes = 0;
    classbench_seed(seed * 2 + 1);
    for (size_t i = 0; i < count; i++) {
        struct flow f;
        uint8_t frame[128];
        struct fp_entry e;

        draw_frame(cb, n_cb, port, &f);
        size_t len = fp_frame_from_flow(&f, frame, sizeof frame);
        int retval = offload_sim_receive(nic, device, frame, len, &e);
        if (retval) {
            iovp_fatal(-retval, "%s: receive failed", spec);
        }
        if (e.id) {
            want_packets++;
            want_bytes += len;
        }
    }
    sum_counters(nic, spec, device, &packets, &bytes);
    if (packets != want_packets || bytes != want_bytes) {
        printf("  counters: %"PRIu64" packets and %"PRIu64" bytes counted "
               "for %"PRIu64" frames of %"PRIu64" bytes received\n",
               packets, bytes, want_packets, want_bytes);
        wrong++;
    }
    return wrong;
}

/* Opens the NIC of 'spec' (offload_open()'s) and stores its capabilities
 * in '*caps'; exits if it cannot. */
static struct offload *
open_nic(const char *spec, struct offload_caps *caps)
{
    struct offload *nic;
    char *error = offload_open(spec, &nic);

    if (error) {
        iovp_fatal(-1, "%s", error);
    }
    nic->class->capabilities(nic, caps);
    return nic;
}

/* Runs the check for one NIC shape; returns the disagreements. */
static size_t
check_shape(const char *spec, const char *device,
            struct planner_rule *rules, size_t n_rules,
            const struct classbench_rule *cb, size_t n_cb,
            const struct xlate_offload_port *port, uint64_t seed,
            size_t count)
{
    struct offload_caps caps;
    struct offload *nic = open_nic(spec, &caps);

    struct planner_plan plan;
    planner_plan(rules, n_rules, &caps, NULL, 0, &plan);
    int retval = nic->class->put(nic, device, plan.entries, plan.n_entries);
    if (retval) {
        iovp_fatal(-retval, "%s: put of %zu entries failed", spec,
                   plan.n_entries);
    }

    size_t decided = 0, disagreements = 0;
    classbench_seed(seed * 2 + 1);
    for (size_t i = 0; i < count; i++) {
        struct flow f;
        uint8_t frame[128];
        struct fp_entry e;
        struct reference_verdict v;

        draw_frame(cb, n_cb, port, &f);
        size_t len = fp_frame_from_flow(&f, frame, sizeof frame);
        retval = nic->class->classify(nic, device, frame, len, &e);
        if (retval) {
            iovp_fatal(-retval, "%s: classify failed", spec);
        }
        reference_evaluate(port, &f, &v);
        if (e.fate == FP_TO_OVS) {
            continue;
        }
        decided++;
        if (!reference_agrees(&v, &e)) {
            struct ds s = DS_EMPTY_INITIALIZER;
            format_flow(&f, &s);
            ds_put_cstr(&s, ": NIC ");
            fp_entry_format(&e, &s);
            ds_put_format(&s, "; reference %s %"PRIu32" (%s)",
                          reference_fate_to_string(v.fate), v.out_port,
                          v.why);
            printf("  disagreement: %s\n", ds_cstr(&s));
            ds_destroy(&s);
            disagreements++;
        }
    }
    disagreements += check_counters(nic, spec, device, cb, n_cb, port, seed,
                                    count);
    printf("%s: %zu entries (%zu covers), %zu masks; NIC decided %zu of "
           "%zu frames; %zu disagreements\n", spec, plan.n_entries,
           plan.n_covers, plan.n_masks, decided, count, disagreements);
    planner_plan_destroy(&plan);
    nic->class->delete(nic, device, NULL, 0);   /* Detaches xdp's program. */
    offload_close(nic);
    return disagreements;
}

/* Plans 'rules' again and again through nicctrl on a NIC of 'spec', their
 * weights drawn anew each time as traffic moves: each plan must go in
 * whole (the port never fails, nor runs full: the entries that stay keep
 * their tuples, so that the buckets the planner counted on are the NIC's),
 * and the NIC must still agree with the reference.  Returns the
 * failures. */
static size_t
check_replans(const char *spec, const char *device,
              const struct planner_rule *rules, size_t n_rules,
              const struct classbench_rule *cb, size_t n_cb,
              const struct xlate_offload_port *port, uint64_t seed,
              size_t count)
{
    struct offload_caps caps;
    struct offload *nic = open_nic(spec, &caps);
    struct nicctrl *nc = nicctrl_create(nic);
    size_t wrong = 0, rounds = 10;

    classbench_seed(seed * 7 + 3);
    for (size_t round = 0; round < rounds; round++) {
        struct planner_rule *copy = iovp_xmemdup(rules,
                                                 n_rules * sizeof *copy);
        for (size_t i = 0; i < n_rules; i++) {
            /* Most rules cold, a few hot. */
            copy[i].weight = (classbench_below(20) ? 0
                              : classbench_below(1000));
        }
        nicctrl_set_rules(nc, "p", device, copy, n_rules);
        nicctrl_commit(nc, round * 10000);
        nicctrl_replan(nc, round * 10000 + 5000);

        json_t *show = nicctrl_show(nc, "p");
        json_t *p = json_object_get(show, "p");
        if (json_is_true(json_object_get(p, "failed"))
            || (size_t) json_integer_value(json_object_get(p, "capacity"))
               != caps.max_entries) {
            printf("  replan %zu: the NIC failed or ran full\n", round);
            wrong++;
        }
        json_decref(show);
    }

    classbench_seed(seed * 2 + 1);
    for (size_t i = 0; i < count; i++) {
        struct flow f;
        uint8_t frame[128];
        struct fp_entry e;
        struct reference_verdict v;

        draw_frame(cb, n_cb, port, &f);
        size_t len = fp_frame_from_flow(&f, frame, sizeof frame);
        if (nicctrl_classify(nc, "p", frame, len, &e)) {
            iovp_fatal(-1, "%s: classify failed", spec);
        }
        reference_evaluate(port, &f, &v);
        if (e.fate != FP_TO_OVS && !reference_agrees(&v, &e)) {
            wrong++;
        }
    }
    printf("replans of %s: %zu rounds; %zu disagreements\n", spec, rounds,
           wrong);
    nicctrl_destroy(nc);
    return wrong;
}

/* Makes in 'flows' ('n' of them, each with a minimatch in 'matches') the
 * controller's table 0 of --openflow from 'cb', in descending priority. */
static size_t
openflow_table0(const struct classbench_rule *cb, size_t n_cb,
                struct xlate_offload_flow *flows, struct minimatch *matches)
{
    size_t n = 0;

    for (size_t i = 0; i < n_cb; i += 7) {
        const struct classbench_rule *r = &cb[i];
        struct match m;

        match_init_catchall(&m);
        match_set_dl_type(&m, htons(0x0800));
        match_set_nw_src_masked(&m, htonl(r->src), htonl(r->src_mask));
        match_set_nw_dst_masked(&m, htonl(r->dst), htonl(r->dst_mask));
        if (r->proto >= 0) {
            match_set_nw_proto(&m, r->proto);
            if ((r->proto == 6 || r->proto == 17)
                && r->dport_lo == r->dport_hi) {
                match_set_tp_dst(&m, htons(r->dport_lo));
            }
        }
        switch (i % 13) {
        case 1:
            match_set_in_port(&m, (OVS_FORCE ofp_port_t) 1);
            break;
        case 2:
            match_set_in_port(&m, (OVS_FORCE ofp_port_t) 2);
            break;
        case 3:
            match_set_metadata(&m, (OVS_FORCE ovs_be64) htobe64(5));
            break;
        case 4:
            match_set_dl_vlan(&m, htons(5), 0);
            break;
        case 5:
            /* IPv4 without Ethernet: never a VM's frame. */
            match_set_packet_type(&m, htonl((1 << 16) | 0x0800));
            break;
        }
        minimatch_init(&matches[n], &m);

        uint32_t fate = classbench_below(10);
        flows[n] = (struct xlate_offload_flow) {
            .match = &matches[n],
            .priority = 100 + 10 * classbench_below(4),
            .fate = (fate < 3 ? XLATE_OFFLOAD_DROP
                     : fate < 9 ? XLATE_OFFLOAD_OUTPUT
                     : XLATE_OFFLOAD_OTHER),
            .dest = fate < 6 ? 0 : 1,
        };
        n++;
    }

    struct match all;
    match_init_catchall(&all);
    minimatch_init(&matches[n], &all);
    flows[n] = (struct xlate_offload_flow) {
        .match = &matches[n], .priority = 1,
        .fate = XLATE_OFFLOAD_OUTPUT, .dest = 0,
    };
    n++;

    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            if (flows[j].priority > flows[i].priority) {
                struct xlate_offload_flow tmp = flows[i];
                flows[i] = flows[j];
                flows[j] = tmp;
            }
        }
    }
    return n;
}

int
test_offload_classbench_main(int argc, char *argv[])
{
    if (argc < 4) {
        iovp_fatal(-1, "usage: offload-classbench RULES SEED COUNT "
                   "[--check-ipv4] [--xdp=DEVICE]");
    }
    uint64_t seed = strtoull(argv[2], NULL, 10);
    size_t count = strtoul(argv[3], NULL, 10);
    bool check_ipv4 = false;
    bool openflow = false;
    const char *xdp_device = NULL;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--check-ipv4")) {
            check_ipv4 = true;
        } else if (!strcmp(argv[i], "--openflow")) {
            openflow = true;
        } else if (!strncmp(argv[i], "--xdp=", 6)) {
            xdp_device = argv[i] + 6;
        } else {
            iovp_fatal(-1, "%s: unknown option", argv[i]);
        }
    }

    size_t n_cb;
    struct classbench_rule *cb = classbench_read(argv[1], &n_cb);

    /* The port's ingress ACL: every rule (every 10th in OpenFlow
     * mode). */
    struct acl_entry *in = iovp_xmalloc(n_cb * sizeof *in);
    int *in_prio = iovp_xmalloc(n_cb * sizeof *in_prio);
    size_t n_in = 0;
    for (size_t i = 0; i < n_cb; i += openflow ? 10 : 1) {
        classbench_to_entry(&cb[i], n_in + 1, true, i % 2 == 0, &in[n_in]);
        n_in++;
    }
    xlate_acl_priorities(in, n_in, in_prio);

    /* The second destination's egress ACL: every 50th rule. */
    size_t n_out = 0;
    struct acl_entry *out = iovp_xmalloc((n_cb / 50 + 1) * sizeof *out);
    int *out_prio = iovp_xmalloc((n_cb / 50 + 1) * sizeof *out_prio);
    for (size_t i = 0; i < n_cb; i += 50) {
        classbench_to_entry(&cb[i], n_out + 1, false, i % 100 != 0,
                      &out[n_out]);
        n_out++;
    }
    xlate_acl_priorities(out, n_out, out_prio);

    classbench_seed(seed * 2 + 1);
    ovs_be32 ipv4[2] = {
        htonl(cb[classbench_below(n_cb)].src | 1),
        htonl(cb[classbench_below(n_cb)].src),
    };
    struct xlate_offload_dest dests[2] = {
        { .mac = dest_macs[0], .out_port = 2 },
        { .mac = dest_macs[1], .out_port = 3,
          .acl = { .entries = out, .priorities = out_prio, .n = n_out } },
    };
    struct xlate_offload_port port = {
        .mac = port_mac,
        .check_ipv4 = check_ipv4,
        .ipv4 = ipv4,
        .n_ipv4 = 2,
        .acl = { .entries = in, .priorities = in_prio, .n = n_in },
        .dests = dests,
        .n_dests = 2,
    };
    struct xlate_offload_flow *flows = NULL;
    struct minimatch *matches = NULL;
    if (openflow) {
        flows = iovp_xmalloc((n_cb / 7 + 2) * sizeof *flows);
        matches = iovp_xmalloc((n_cb / 7 + 2) * sizeof *matches);
        port.openflow = true;
        port.ofport = 1;
        port.flows = flows;
        port.n_flows = openflow_table0(cb, n_cb, flows, matches);
    }

    struct planner_rule *rules;
    size_t n_rules;
    xlate_offload_port(&port, &rules, &n_rules, NULL);

    /* Traffic weights, from a sample of frames of another seed. */
    struct planner_rule **sorted = iovp_xmalloc(MAX(n_rules, 1)
                                                * sizeof *sorted);
    for (size_t i = 0; i < n_rules; i++) {
        sorted[i] = &rules[i];
    }
    qsort(sorted, n_rules, sizeof *sorted, compare_rule_priority);
    classbench_seed(seed * 2 + 2);
    for (size_t i = 0; i < 2000; i++) {
        struct flow f;
        struct fp_key key;
        draw_frame(cb, n_cb, &port, &f);
        fp_key_from_flow(&f, &key);
        struct planner_rule *r = first_rule(sorted, n_rules, &key);
        if (r) {
            r->weight += 1;
        }
    }
    free(sorted);
    printf("%zu ACL entries, %zu egress entries, %zu flows: %zu rules\n",
           n_in, n_out, port.n_flows, n_rules);

    static const char *const shapes[] = {
        "sim:entries=0",
        "sim:entries=16,masks=32",
        "sim:entries=64,masks=32",
        "sim:entries=256,masks=32",
        "sim:entries=1024,masks=32",
        "sim:entries=4096,masks=4096",
        "sim:entries=100000,masks=4096",
        "sim:entries=1024,masks=64,fields=dl_dst+dl_src+vlan_tci+dl_type"
        "+nw_src+nw_dst+nw_proto",
        "sim:entries=1024,masks=64,fates=drop",
        /* Relaxed tuples. */
        "sim:entries=64,masks=8,bucket=8",
        "sim:entries=256,masks=8,bucket=8",
        "sim:entries=256,masks=32,bucket=8",
        "sim:entries=1024,masks=4,bucket=4",
    };
    static const char *const xdp_shapes[] = {
        "xdp:mode=generic,entries=16",
        "xdp:mode=generic,entries=64",
        "xdp:mode=generic,entries=256",
        "xdp:mode=generic,entries=1024",
        "xdp:mode=generic,entries=4096",
    };
    size_t disagreements = 0;
    size_t n_shapes = (xdp_device ? IOVP_ARRAY_SIZE(xdp_shapes)
                       : IOVP_ARRAY_SIZE(shapes));
    for (size_t i = 0; i < n_shapes; i++) {
        disagreements += check_shape(xdp_device ? xdp_shapes[i] : shapes[i],
                                     xdp_device ? xdp_device : "p1",
                                     rules, n_rules, cb, n_cb, &port, seed,
                                     count);
    }
    if (!xdp_device) {
        /* Re-plans with as many tuples as the xdp backend, and with few,
         * where the NIC often has to take a plan whole. */
        static const char *const replan_shapes[] = {
            "sim:entries=256,masks=32,bucket=8",
            "sim:entries=256,masks=8,bucket=8",
        };
        for (size_t i = 0; i < IOVP_ARRAY_SIZE(replan_shapes); i++) {
            disagreements += check_replans(replan_shapes[i], "p1", rules,
                                           n_rules, cb, n_cb, &port, seed,
                                           count);
        }
    }

    free(rules);
    for (size_t i = 0; i < port.n_flows; i++) {
        minimatch_destroy(&matches[i]);
    }
    free(matches);
    free(flows);
    for (size_t i = 0; i < n_in; i++) {
        acl_entry_destroy(&in[i]);
    }
    for (size_t i = 0; i < n_out; i++) {
        acl_entry_destroy(&out[i]);
    }
    free(in);
    free(in_prio);
    free(out);
    free(out_prio);
    free(cb);
    return disagreements ? 1 : 0;
}
