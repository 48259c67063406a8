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

#include <config.h>

#include "offload/fastpath.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/match.h>
#include <openvswitch/ofp-flow.h>
#include <openvswitch/util.h>

#include "lib/util.h"

#define FP_KEY_WORDS (sizeof(struct fp_key) / sizeof(uint64_t))
BUILD_ASSERT_DECL(sizeof(struct fp_key) == 32);

#define FP_ETH_TYPE_IP 0x0800
#define ETH_TYPE_VLAN_8021Q 0x8100
#define ETH_TYPE_VLAN_8021AD 0x88a8
#define FP_IPPROTO_ICMP 1
#define FP_IPPROTO_TCP 6
#define FP_IPPROTO_UDP 17
#define FP_IPPROTO_SCTP 132

/* The key's words.  Keys are read and written as words through memcpy(),
 * never through a cast pointer: their fields are written by their own
 * types, and C's aliasing rules let the compiler assume that a uint64_t
 * read does not see them. */
static inline uint64_t
fp_word(const struct fp_key *k, size_t i)
{
    uint64_t w;

    memcpy(&w, (const uint8_t *) k + i * sizeof w, sizeof w);
    return w;
}

static inline void
fp_set_word(struct fp_key *k, size_t i, uint64_t w)
{
    memcpy((uint8_t *) k + i * sizeof w, &w, sizeof w);
}

void
fp_match_init_catchall(struct fp_match *m)
{
    memset(m, 0, sizeof *m);
}

bool
fp_key_equal(const struct fp_key *a, const struct fp_key *b)
{
    return !memcmp(a, b, sizeof *a);
}

/* Returns true if 'a' has no bit that 'b' lacks. */
bool
fp_key_is_subset(const struct fp_key *a, const struct fp_key *b)
{
    for (size_t i = 0; i < FP_KEY_WORDS; i++) {
        if (fp_word(a, i) & ~fp_word(b, i)) {
            return false;
        }
    }
    return true;
}

void
fp_key_and(const struct fp_key *k, const struct fp_key *mask,
           struct fp_key *out)
{
    for (size_t i = 0; i < FP_KEY_WORDS; i++) {
        fp_set_word(out, i, fp_word(k, i) & fp_word(mask, i));
    }
}

uint32_t
fp_key_hash(const struct fp_key *k, uint32_t basis)
{
    uint64_t h = basis ^ 0x9e3779b97f4a7c15ULL;

    for (size_t i = 0; i < FP_KEY_WORDS; i++) {
        h = (h ^ fp_word(k, i)) * 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
    }
    return (uint32_t) (h ^ (h >> 32));
}

/* Returns true if key 'k' matches 'm'. */
bool
fp_match_matches(const struct fp_match *m, const struct fp_key *k)
{
    for (size_t i = 0; i < FP_KEY_WORDS; i++) {
        if ((fp_word(k, i) & fp_word(&m->mask, i))
            != fp_word(&m->value, i)) {
            return false;
        }
    }
    return true;
}

/* Returns true if some key matches both 'a' and 'b'. */
bool
fp_match_overlaps(const struct fp_match *a, const struct fp_match *b)
{
    for (size_t i = 0; i < FP_KEY_WORDS; i++) {
        if ((fp_word(&a->value, i) ^ fp_word(&b->value, i))
            & fp_word(&a->mask, i) & fp_word(&b->mask, i)) {
            return false;
        }
    }
    return true;
}

/* Stores in 'out' the match of the keys that match both 'a' and 'b', and
 * returns true; or returns false if there is none. */
bool
fp_match_intersect(const struct fp_match *a, const struct fp_match *b,
                   struct fp_match *out)
{
    if (!fp_match_overlaps(a, b)) {
        return false;
    }

    for (size_t i = 0; i < FP_KEY_WORDS; i++) {
        fp_set_word(&out->value, i,
                    fp_word(&a->value, i) | fp_word(&b->value, i));
        fp_set_word(&out->mask, i,
                    fp_word(&a->mask, i) | fp_word(&b->mask, i));
    }
    return true;
}

bool
fp_match_equal(const struct fp_match *a, const struct fp_match *b)
{
    return !memcmp(a, b, sizeof *a);
}

const char *
fp_fate_to_string(enum fp_fate fate)
{
    switch (fate) {
    case FP_TO_OVS:
        return "to-ovs";
    case FP_DROP:
        return "drop";
    case FP_FORWARD:
        return "forward";
    }
    return "<unknown>";
}

static bool
fp_is_zero(const void *p_, size_t n)
{
    const uint8_t *p = p_;

    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

/* Converts OpenFlow match 'm' into 'out'.  Returns true if 'out' is exactly
 * 'm'; false if 'm' also matches on fields a fast path does not have (IPv6
 * addresses, ARP fields, registers, ...), in which case 'out' is the match
 * on the rest, which every frame 'm' matches also matches. */
bool
fp_match_from_match(const struct match *m, struct fp_match *out)
{
    const struct flow *f = &m->flow;
    struct flow_wildcards rest = m->wc;
    struct fp_key *v = &out->value, *k = &out->mask;

    fp_match_init_catchall(out);

    memcpy(k->dl_dst, m->wc.masks.dl_dst.ea, 6);
    memcpy(k->dl_src, m->wc.masks.dl_src.ea, 6);
    k->vlan_tci = m->wc.masks.vlans[0].tci & htons(0x1fff);
    k->dl_type = m->wc.masks.dl_type;
    memset(&rest.masks.dl_dst, 0, sizeof rest.masks.dl_dst);
    memset(&rest.masks.dl_src, 0, sizeof rest.masks.dl_src);
    rest.masks.vlans[0].tci &= ~htons(0x1fff);
    rest.masks.dl_type = 0;
    rest.masks.packet_type = 0;

    /* IPv4 and its L4 fields, only where the match says IPv4: elsewhere
     * OpenFlow's nw_src and nw_proto are ARP's fields. */
    bool ipv4 = (m->wc.masks.dl_type == OVS_BE16_MAX
                 && f->dl_type == htons(FP_ETH_TYPE_IP));
    if (ipv4) {
        k->nw_src = m->wc.masks.nw_src;
        k->nw_dst = m->wc.masks.nw_dst;
        k->nw_proto = m->wc.masks.nw_proto;
        rest.masks.nw_src = rest.masks.nw_dst = 0;
        rest.masks.nw_proto = 0;

        bool l4 = (m->wc.masks.nw_proto == UINT8_MAX
                   && (f->nw_proto == FP_IPPROTO_TCP
                       || f->nw_proto == FP_IPPROTO_UDP
                       || f->nw_proto == FP_IPPROTO_SCTP
                       || f->nw_proto == FP_IPPROTO_ICMP));
        if (l4) {
            k->tp_src = m->wc.masks.tp_src;
            k->tp_dst = m->wc.masks.tp_dst;
            rest.masks.tp_src = rest.masks.tp_dst = 0;
            if (f->nw_proto == FP_IPPROTO_TCP) {
                k->tcp_flags = m->wc.masks.tcp_flags & htons(0x0fff);
                rest.masks.tcp_flags &= ~htons(0x0fff);
            }
        }
    }

    memcpy(v->dl_dst, f->dl_dst.ea, 6);
    memcpy(v->dl_src, f->dl_src.ea, 6);
    v->vlan_tci = f->vlans[0].tci;
    v->dl_type = f->dl_type;
    v->nw_src = f->nw_src;
    v->nw_dst = f->nw_dst;
    v->nw_proto = f->nw_proto;
    v->tcp_flags = f->tcp_flags;
    v->tp_src = f->tp_src;
    v->tp_dst = f->tp_dst;
    fp_key_and(v, k, v);

    return fp_is_zero(&rest.masks, sizeof rest.masks);
}

/* Converts 'm' into an OpenFlow match in 'out'. */
static void
fp_match_to_match(const struct fp_match *m, struct match *out)
{
    const struct fp_key *v = &m->value, *k = &m->mask;
    struct eth_addr ea, em;

    match_init_catchall(out);
    memcpy(ea.ea, v->dl_dst, 6);
    memcpy(em.ea, k->dl_dst, 6);
    match_set_dl_dst_masked(out, ea, em);
    memcpy(ea.ea, v->dl_src, 6);
    memcpy(em.ea, k->dl_src, 6);
    match_set_dl_src_masked(out, ea, em);
    if (k->vlan_tci) {
        match_set_dl_tci_masked(out, v->vlan_tci, k->vlan_tci);
    }
    if (k->dl_type) {
        match_set_dl_type(out, v->dl_type);
    }
    if (k->nw_src) {
        match_set_nw_src_masked(out, v->nw_src, k->nw_src);
    }
    if (k->nw_dst) {
        match_set_nw_dst_masked(out, v->nw_dst, k->nw_dst);
    }
    if (k->nw_proto) {
        match_set_nw_proto(out, v->nw_proto);
    }
    if (k->tp_src) {
        match_set_tp_src_masked(out, v->tp_src, k->tp_src);
    }
    if (k->tp_dst) {
        match_set_tp_dst_masked(out, v->tp_dst, k->tp_dst);
    }
    if (k->tcp_flags) {
        match_set_tcp_flags_masked(out, v->tcp_flags, k->tcp_flags);
    }
}

/* Appends 'm' to 's' in ovs-ofctl's match syntax ("*" for every frame). */
void
fp_match_format(const struct fp_match *m, struct ds *s)
{
    struct match om;
    size_t start = s->length;

    fp_match_to_match(m, &om);
    match_format(&om, NULL, s, OFP_DEFAULT_PRIORITY);
    if (s->length == start) {
        ds_put_cstr(s, "*");
    }
}

/* Appends 'e' to 's': "priority=P,MATCH actions=FATE". */
void
fp_entry_format(const struct fp_entry *e, struct ds *s)
{
    ds_put_format(s, "priority=%"PRIu32",", e->priority);
    fp_match_format(&e->match, s);
    ds_put_format(s, " actions=%s", fp_fate_to_string(e->fate));
    if (e->fate == FP_FORWARD) {
        ds_put_format(s, ":%"PRIu32, e->out_port);
    }
}

/* Stores in 'k' the fast-path key of OVS's 'flow'. */
void
fp_key_from_flow(const struct flow *flow, struct fp_key *k)
{
    memset(k, 0, sizeof *k);
    memcpy(k->dl_dst, flow->dl_dst.ea, 6);
    memcpy(k->dl_src, flow->dl_src.ea, 6);
    k->vlan_tci = flow->vlans[0].tci & htons(0x1fff);
    k->dl_type = flow->dl_type;
    if (flow->dl_type != htons(FP_ETH_TYPE_IP)) {
        return;
    }
    k->nw_src = flow->nw_src;
    k->nw_dst = flow->nw_dst;
    k->nw_proto = flow->nw_proto;
    if (flow->nw_frag & FLOW_NW_FRAG_LATER) {
        return;
    }
    switch (flow->nw_proto) {
    case FP_IPPROTO_TCP:
        k->tcp_flags = flow->tcp_flags & htons(0x0fff);
        /* Fall through. */
    case FP_IPPROTO_UDP:
    case FP_IPPROTO_SCTP:
    case FP_IPPROTO_ICMP:
        k->tp_src = flow->tp_src;
        k->tp_dst = flow->tp_dst;
        break;
    }
}

static uint16_t
fp_get16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

/* Reads the key of the 'len'-byte Ethernet frame at 'frame' into 'k'.
 * Returns false if the frame is too short for the headers it announces, or
 * is an IPv4 fragment, which a fast path leaves to OVS.  The eBPF program
 * reads frames the same way. */
bool
fp_key_from_frame(const void *frame, size_t len, struct fp_key *k)
{
    const uint8_t *p = frame, *end = p + len;

    memset(k, 0, sizeof *k);
    if (len < 14) {
        return false;
    }
    memcpy(k->dl_dst, p, 6);
    memcpy(k->dl_src, p + 6, 6);
    uint16_t type = fp_get16(p + 12);
    p += 14;
    if (type == ETH_TYPE_VLAN_8021Q || type == ETH_TYPE_VLAN_8021AD) {
        if (end - p < 4) {
            return false;
        }
        k->vlan_tci = htons((fp_get16(p) & 0x0fff) | FP_VLAN_CFI);
        type = fp_get16(p + 2);
        p += 4;
    }
    if (type < 0x600) {
        return false;           /* 802.3 length field: left to OVS. */
    }
    k->dl_type = htons(type);
    if (type != FP_ETH_TYPE_IP) {
        return true;
    }

    /* As OVS's own sanity check of IPv4, or stricter: a frame OVS would
     * not read as IPv4 is left to it. */
    if (end - p < 20 || (p[0] >> 4) != 4 || (p[0] & 0xf) < 5
        || end - p < (p[0] & 0xf) * 4) {
        return false;
    }
    size_t ihl = (p[0] & 0xf) * 4;
    size_t tot_len = fp_get16(p + 2);
    if (tot_len < ihl || tot_len > (size_t) (end - p)
        || (size_t) (end - p) - tot_len > 255) {
        return false;
    }
    /* Every fragment (more fragments, or an offset) is left to OVS, which
     * reassembles the datagram before its ACLs decide it: a fast path
     * that decided a fragment alone would judge a first fragment without
     * the rest of its datagram, or a later one without the header that
     * decides it, and one that forwarded a first fragment would keep the
     * later ones, which OVS holds until the datagram is whole, from ever
     * being delivered (agent/pipeline.c). */
    if (fp_get16(p + 6) & 0x3fff) {
        return false;
    }
    k->nw_proto = p[9];
    memcpy(&k->nw_src, p + 12, 4);
    memcpy(&k->nw_dst, p + 16, 4);
    p += ihl;

    /* L4 headers too short for OVS to read leave the frame to OVS. */
    switch (k->nw_proto) {
    case FP_IPPROTO_TCP:
        if (end - p < 20 || (p[12] >> 4) < 5 || end - p < (p[12] >> 4) * 4) {
            return false;
        }
        k->tcp_flags = htons(fp_get16(p + 12) & 0x0fff);
        memcpy(&k->tp_src, p, 2);
        memcpy(&k->tp_dst, p + 2, 2);
        break;
    case FP_IPPROTO_UDP:
    case FP_IPPROTO_SCTP:
        if (end - p < (k->nw_proto == FP_IPPROTO_UDP ? 8 : 12)) {
            return false;
        }
        memcpy(&k->tp_src, p, 2);
        memcpy(&k->tp_dst, p + 2, 2);
        break;
    case FP_IPPROTO_ICMP:
        if (end - p < 8) {
            return false;
        }
        k->tp_src = htons(p[0]);
        k->tp_dst = htons(p[1]);
        break;
    }
    return true;
}

static uint8_t *
fp_put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
    return p + 2;
}

/* Writes into 'buf' ('size' bytes, at least 128) an Ethernet frame with
 * the fields of 'flow' that a fast path reads, and returns its length
 * (at least 60 bytes, padded with zeros).  The frame is for classifying,
 * not for sending: checksums are left zero. */
size_t
fp_frame_from_flow(const struct flow *flow, uint8_t *buf, size_t size)
{
    uint8_t *p = buf;

    ovs_assert(size >= 128);
    memset(buf, 0, 128);
    memcpy(p, flow->dl_dst.ea, 6);
    memcpy(p + 6, flow->dl_src.ea, 6);
    p += 12;
    if (flow->vlans[0].tci & htons(FP_VLAN_CFI)) {
        p = fp_put16(p, ETH_TYPE_VLAN_8021Q);
        p = fp_put16(p, ntohs(flow->vlans[0].tci) & ~FP_VLAN_CFI);
    }
    p = fp_put16(p, ntohs(flow->dl_type));
    if (flow->dl_type != htons(FP_ETH_TYPE_IP)) {
        return MAX(p - buf, 60);
    }

    uint8_t *ip = p;
    ip[0] = 0x45;
    ip[8] = 64;
    ip[9] = flow->nw_proto;
    if (flow->nw_frag & FLOW_NW_FRAG_LATER) {
        fp_put16(ip + 6, 1);    /* Fragment offset 8. */
    } else if (flow->nw_frag & FLOW_NW_FRAG_ANY) {
        fp_put16(ip + 6, 0x2000);       /* More fragments. */
    }
    memcpy(ip + 12, &flow->nw_src, 4);
    memcpy(ip + 16, &flow->nw_dst, 4);
    p = ip + 20;

    size_t l4 = 8;
    if (!(flow->nw_frag & FLOW_NW_FRAG_LATER)) {
        switch (flow->nw_proto) {
        case FP_IPPROTO_TCP:
            memcpy(p, &flow->tp_src, 2);
            memcpy(p + 2, &flow->tp_dst, 2);
            fp_put16(p + 12, 0x5000 | (ntohs(flow->tcp_flags) & 0x0fff));
            l4 = 20;
            break;
        case FP_IPPROTO_SCTP:
            l4 = 12;
            /* Fall through. */
        case FP_IPPROTO_UDP:
            memcpy(p, &flow->tp_src, 2);
            memcpy(p + 2, &flow->tp_dst, 2);
            break;
        case FP_IPPROTO_ICMP:
            p[0] = ntohs(flow->tp_src);
            p[1] = ntohs(flow->tp_dst);
            break;
        }
    }
    p += l4;
    fp_put16(ip + 2, p - ip);
    return MAX(p - buf, 60);
}

/* Writes into 'buf' ('size' bytes, at least 128) an IPv4 frame that
 * 'match' matches, for a probe that goes into a VM: of the fields 'match'
 * leaves free, UDP, port 9 (discard), the rest zero; and an IPv4 header
 * checksum that is wrong on purpose, so that the VM's IP stack drops the
 * frame silently (it checks every header's checksum before anything else,
 * and answers nothing).  Returns the frame's length, or 0 if 'match'
 * matches no IPv4 frame. */
size_t
fp_probe_frame(const struct fp_match *match, uint8_t *buf, size_t size)
{
    struct fp_key k = match->value;
    struct flow flow;

    if (match->mask.dl_type && k.dl_type != htons(FP_ETH_TYPE_IP)) {
        return 0;
    }
    k.dl_type = htons(FP_ETH_TYPE_IP);
    if (!match->mask.nw_proto) {
        k.nw_proto = FP_IPPROTO_UDP;
    }
    if (!match->mask.tp_dst && k.nw_proto == FP_IPPROTO_UDP) {
        k.tp_dst = htons(9);
    }

    memset(&flow, 0, sizeof flow);
    memcpy(flow.dl_dst.ea, k.dl_dst, 6);
    memcpy(flow.dl_src.ea, k.dl_src, 6);
    flow.vlans[0].tci = (k.vlan_tci & htons(FP_VLAN_CFI)
                         ? k.vlan_tci : 0);
    flow.dl_type = k.dl_type;
    flow.nw_src = k.nw_src;
    flow.nw_dst = k.nw_dst;
    flow.nw_proto = k.nw_proto;
    flow.tcp_flags = k.tcp_flags;
    flow.tp_src = k.tp_src;
    flow.tp_dst = k.tp_dst;
    size_t len = fp_frame_from_flow(&flow, buf, size);

    /* The header checksum: the right one, with its lowest bit flipped. */
    uint8_t *ip = buf + (flow.vlans[0].tci ? 18 : 14);
    fp_put16(ip + 10, fp_ipv4_csum(ip) ^ 1);
    return len;
}

/* Returns the checksum of the 20-byte IPv4 header at 'ip', its checksum
 * field taken as zero, in host byte order. */
uint16_t
fp_ipv4_csum(const uint8_t *ip)
{
    uint32_t sum = 0;

    for (size_t i = 0; i < 20; i += 2) {
        sum += i == 10 ? 0 : fp_get16(ip + i);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum;
}
