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

#include "agent/xlate-acl.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/flow.h>
#include <openvswitch/match.h>
#include <openvswitch/ofp-actions.h>
#include <openvswitch/ofpbuf.h>
#include <openvswitch/shash.h>
#include <openvswitch/util.h>
#include <openvswitch/vlog.h>

#include "agent/acl.h"
#include "agent/pipeline-tables.h"
#include "lib/util.h"
#include "ofp/ofctrl.h"
#include "ofp/desired.h"
#include "ofp/oflow.h"
#include "model/vtep-idl.h"

VLOG_DEFINE_THIS_MODULE(xlate_acl);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* Stores in 'priorities[i]' the priority of each of the 'n' 'entries' of
 * an ACL, sorted by acl_entry_compare(), or -1 for one that does not fit
 * in the priority space (see xlate-acl.h). */
void
xlate_acl_priorities(const struct acl_entry *entries, size_t n,
                     int *priorities)
{
    bool linear = true;
    for (size_t i = 0; i < n && linear; i++) {
        linear = (entries[i].sequence >= 0
                  && entries[i].sequence <= XLATE_ACL_MAX_SEQUENCE);
    }

    int64_t slot = 0;
    for (size_t i = 0; i < n; i++) {
        if (linear) {
            slot = entries[i].sequence;
        } else if (i && (entries[i].sequence != entries[i - 1].sequence
                         || entries[i].permit != entries[i - 1].permit)) {
            /* Entries of one sequence and action share a rank. */
            slot++;
        }
        priorities[i] = (slot > XLATE_ACL_MAX_SEQUENCE ? -1
                         : XLATE_ACL_TOP - 2 * slot
                           - (entries[i].permit ? 1 : 0));
    }
}

/* One value/mask pair of a port range. */
struct xlate_acl_prefix {
    int value, mask;
};

/* Stores in 'out' (room for 32) the fewest value/mask pairs that cover the
 * ports of 'r' exactly, and returns their number; a full range is one pair
 * with mask 0. */
static size_t
xlate_acl_range_prefixes(const struct acl_range *r,
                         struct xlate_acl_prefix out[32])
{
    size_t n = 0;

    for (int lo = r->min; lo <= r->max; ) {
        int size = 1;
        while (size < 0x10000 && !(lo & (2 * size - 1))
               && lo + 2 * size - 1 <= r->max) {
            size *= 2;
        }
        out[n++] = (struct xlate_acl_prefix) {
            .value = lo, .mask = ~(size - 1) & 0xffff,
        };
        lo += size;
    }
    return n;
}

/* Stores in 'src' and 'dst' (room for 32 each) the value/mask pairs of
 * entry 'e''s source and destination port ranges, and their numbers in
 * '*n_src' and '*n_dst' (0 where the entry has no range). */
static void
xlate_acl_port_prefixes(const struct acl_entry *e,
                        struct xlate_acl_prefix src[32], size_t *n_src,
                        struct xlate_acl_prefix dst[32], size_t *n_dst)
{
    *n_src = (e->source_ports.min >= 0
              ? xlate_acl_range_prefixes(&e->source_ports, src) : 0);
    *n_dst = (e->dest_ports.min >= 0
              ? xlate_acl_range_prefixes(&e->dest_ports, dst) : 0);
}

/* Stores in 'families' the address families whose flows entry 'e' makes
 * (both for an entry of either IP family) and returns their number. */
static size_t
xlate_acl_families(const struct acl_entry *e, enum acl_family families[2])
{
    if (e->family == ACL_FAMILY_IP) {
        families[0] = ACL_FAMILY_IPV4;
        families[1] = ACL_FAMILY_IPV6;
        return 2;
    }
    families[0] = e->family;
    return 1;
}

/* Adds the flow that 'format' gives to 'flows', for ACL 'acl_name'. */
static void OVS_PRINTF_FORMAT(3, 4)
xlate_acl_flow(struct oflow_table *flows, const char *acl_name,
               const char *format, ...)
{
    va_list args;

    va_start(args, format);
    char *text = iovp_xvasprintf(format, args);
    va_end(args);

    char *error = oflow_table_add_text(
        flows, ofctrl_cookie(pipeline_acl_origin(acl_name)), text);
    if (error) {
        VLOG_WARN_RL(&rl, "ACL %s: %s", acl_name, error);
        free(error);
    }
    free(text);
}

/* Returns the conjunction id of entry 'e' of ACL 'acl_name'. */
static uint32_t
xlate_acl_conj_id(const char *acl_name, const struct acl_entry *e)
{
    char *s = iovp_xasprintf("%s/%s", acl_name, e->uuid);
    uint64_t h = iovp_hash_string64(s);

    free(s);
    return (uint32_t) (h ^ (h >> 32));
}

/* Parses 'text', "ADDR" or "ADDR/MASK" (MASK an address or a prefix
 * length), as checked by acl_entry_parse(), into 'addr' and 'mask' (16
 * bytes each; an IPv4 address in the first 4). */
static void
xlate_acl_parse_address(const char *text, bool v6, uint8_t addr[16],
                        uint8_t mask[16])
{
    char *copy = iovp_xstrdup(text);
    char *slash = strchr(copy, '/');
    int af = v6 ? AF_INET6 : AF_INET;
    size_t n = v6 ? 16 : 4;

    memset(addr, 0, 16);
    memset(mask, 0xff, n);
    if (slash) {
        *slash++ = '\0';
        if (strspn(slash, "0123456789") == strlen(slash)) {
            int len = atoi(slash);
            memset(mask, 0, 16);
            for (int b = 0; b < len; b++) {
                mask[b / 8] |= 0x80 >> (b % 8);
            }
        } else {
            inet_pton(af, slash, mask);
        }
    }
    inet_pton(af, copy, addr);
    free(copy);
}

/* Sets in 'm' the match on everything of 'e' but its ports, for family
 * 'family' (IPv4 or IPv6 when the entry's is ACL_FAMILY_IP). */
static void
xlate_acl_set_match(struct match *m, const struct acl_entry *e,
                    enum acl_family family)
{
    bool v6 = family == ACL_FAMILY_IPV6;
    unsigned int b[6];

    if (family == ACL_FAMILY_IPV4 || family == ACL_FAMILY_IPV6) {
        match_set_dl_type(m, htons(v6 ? 0x86dd : 0x0800));
    } else if (e->ethertype >= 0) {
        match_set_dl_type(m, htons(e->ethertype));
    }
    for (int k = 0; k < 2; k++) {
        const char *mac = k ? e->dest_mac : e->source_mac;
        if (mac && sscanf(mac, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2],
                          &b[3], &b[4], &b[5]) == 6) {
            struct eth_addr ea;
            for (int j = 0; j < 6; j++) {
                ea.ea[j] = b[j];
            }
            (k ? match_set_dl_dst : match_set_dl_src)(m, ea);
        }
    }
    for (int k = 0; k < 2; k++) {
        const char *ip = k ? e->dest_ip : e->source_ip;
        uint8_t addr[16], mask[16];
        if (!ip) {
            continue;
        }
        xlate_acl_parse_address(ip, v6, addr, mask);
        if (v6) {
            struct in6_addr a, mk;
            memcpy(&a, addr, 16);
            memcpy(&mk, mask, 16);
            (k ? match_set_ipv6_dst_masked
               : match_set_ipv6_src_masked)(m, &a, &mk);
        } else {
            ovs_be32 a, mk;
            memcpy(&a, addr, 4);
            memcpy(&mk, mask, 4);
            (k ? match_set_nw_dst_masked : match_set_nw_src_masked)(m, a, mk);
        }
    }
    if (e->protocol >= 0) {
        match_set_nw_proto(m, e->protocol);
    }
    if (e->tcp_flags >= 0) {
        match_set_tcp_flags_masked(m, htons(e->tcp_flags),
                                   htons(e->tcp_flags_mask));
    }
    if (e->icmp_type >= 0) {
        match_set_icmp_type(m, e->icmp_type);
    }
    if (e->icmp_code >= 0) {
        match_set_icmp_code(m, e->icmp_code);
    }
}

/* Adds to 'flows', for ACL 'acl_name', the flow of 'table', 'priority' and
 * 'm' with actions 'ofpacts'. */
static void
xlate_acl_add(struct oflow_table *flows, const char *acl_name, int table,
              int priority, const struct match *m,
              const struct ofpbuf *ofpacts)
{
    char *error = oflow_table_add(
        flows, ofctrl_cookie(pipeline_acl_origin(acl_name)), table, priority,
        m, ofpacts->data, ofpacts->size);
    if (error) {
        VLOG_WARN_RL(&rl, "ACL %s: %s", acl_name, error);
        free(error);
    }
}

/* Adds to 'flows' the flows of entry 'e' of ACL 'acl_name' at
 * 'priority'.  (Matches and actions are built directly, not parsed from
 * text: an ACL of a hundred thousand entries is made several times
 * faster.) */
void
xlate_acl_entry_flows(const char *acl_name, const struct acl_entry *e,
                      int priority, struct oflow_table *flows)
{
    int table = e->ingress ? PIPELINE_T_INGRESS_ACL : PIPELINE_T_EGRESS_ACL;
    int xreg = e->ingress ? 2 : 4;
    uint64_t id = pipeline_acl_id(acl_name);

    struct xlate_acl_prefix src[32], dst[32];
    size_t n_src, n_dst;
    xlate_acl_port_prefixes(e, src, &n_src, dst, &n_dst);
    bool conjunctive = n_src > 1 && n_dst > 1;
    uint32_t conj_id = conjunctive ? xlate_acl_conj_id(acl_name, e) : 0;

    /* The fate. */
    uint64_t stub[64 / 8];
    struct ofpbuf fate = OFPBUF_STUB_INITIALIZER(stub);
    if (e->permit) {
        ofpact_put_GOTO_TABLE(&fate)->table_id
            = e->ingress ? PIPELINE_T_QOS : PIPELINE_T_OUTPUT;
    }

    enum acl_family families[2];
    size_t n_families = xlate_acl_families(e, families);

    uint64_t conj_stub[64 / 8];
    struct ofpbuf conj = OFPBUF_STUB_INITIALIZER(conj_stub);
    for (size_t f = 0; f < n_families; f++) {
        struct match common, m;
        match_init_catchall(&common);
        match_set_default_packet_type(&common);   /* As ovs-ofctl does. */
        match_set_xreg(&common, xreg, id);
        xlate_acl_set_match(&common, e, families[f]);

        if (conjunctive) {
            for (int clause = 0; clause < 2; clause++) {
                const struct xlate_acl_prefix *ps = clause ? dst : src;
                size_t n = clause ? n_dst : n_src;
                ofpbuf_clear(&conj);
                struct ofpact_conjunction *c = ofpact_put_CONJUNCTION(&conj);
                c->id = conj_id;
                c->clause = clause;
                c->n_clauses = 2;
                for (size_t i = 0; i < n; i++) {
                    m = common;
                    (clause ? match_set_tp_dst_masked
                     : match_set_tp_src_masked)(&m,
                                                htons(ps[i].value),
                                                htons(ps[i].mask));
                    xlate_acl_add(flows, acl_name, table, priority, &m,
                                  &conj);
                }
            }
            continue;
        }
        for (size_t i = 0; i < MAX(n_src, 1); i++) {
            for (size_t j = 0; j < MAX(n_dst, 1); j++) {
                m = common;
                if (n_src && src[i].mask) {
                    match_set_tp_src_masked(&m, htons(src[i].value),
                                            htons(src[i].mask));
                }
                if (n_dst && dst[j].mask) {
                    match_set_tp_dst_masked(&m, htons(dst[j].value),
                                            htons(dst[j].mask));
                }
                xlate_acl_add(flows, acl_name, table, priority, &m, &fate);
            }
        }
    }
    if (conjunctive) {
        struct match m;
        match_init_catchall(&m);
        match_set_default_packet_type(&m);
        match_set_conj_id(&m, conj_id);
        match_set_xreg(&m, xreg, id);
        xlate_acl_add(flows, acl_name, table, priority, &m, &fate);
    }
    ofpbuf_uninit(&conj);
    ofpbuf_uninit(&fate);
}

/* Stores in '*matchesp' (malloc()'d) and '*n' the value/mask matches whose
 * union is exactly the frames entry 'e' matches: its port ranges as their
 * prefixes, crossed (a fast path has no conjunction), an entry of either IP
 * family once for each.  They match no register, so they say nothing of
 * the port or the direction. */
void
xlate_acl_entry_matches(const struct acl_entry *e, struct match **matchesp,
                        size_t *n)
{
    struct xlate_acl_prefix src[32], dst[32];
    size_t n_src, n_dst;
    xlate_acl_port_prefixes(e, src, &n_src, dst, &n_dst);

    enum acl_family families[2];
    size_t n_families = xlate_acl_families(e, families);

    struct match *matches = iovp_xmalloc(n_families * MAX(n_src, 1)
                                         * MAX(n_dst, 1) * sizeof *matches);
    *n = 0;
    for (size_t f = 0; f < n_families; f++) {
        struct match common;
        match_init_catchall(&common);
        xlate_acl_set_match(&common, e, families[f]);
        for (size_t i = 0; i < MAX(n_src, 1); i++) {
            for (size_t j = 0; j < MAX(n_dst, 1); j++) {
                struct match *m = &matches[(*n)++];
                *m = common;
                if (n_src && src[i].mask) {
                    match_set_tp_src_masked(m, htons(src[i].value),
                                            htons(src[i].mask));
                }
                if (n_dst && dst[j].mask) {
                    match_set_tp_dst_masked(m, htons(dst[j].value),
                                            htons(dst[j].mask));
                }
            }
        }
    }
    *matchesp = matches;
}

/* Adds to 'flows' what denies all traffic of every port and VLAN that ACL
 * 'acl_name' is bound to, in both directions, above any entry. */
void
xlate_acl_fail_closed(const char *acl_name, struct oflow_table *flows)
{
    uint64_t id = pipeline_acl_id(acl_name);

    xlate_acl_flow(flows, acl_name, "table=%d,priority=%d,xreg2=%#"PRIx64
                   " actions=drop", PIPELINE_T_INGRESS_ACL,
                   XLATE_ACL_FAIL_CLOSED, id);
    xlate_acl_flow(flows, acl_name, "table=%d,priority=%d,xreg4=%#"PRIx64
                   " actions=drop", PIPELINE_T_EGRESS_ACL,
                   XLATE_ACL_FAIL_CLOSED, id);
}

/* What the flows of a bound ACL are. */
enum xlate_acl_mode {
    XLATE_ACL_ENTRIES,          /* Its entries (a valid version). */
    XLATE_ACL_RECOVERED,        /* What the switch held, kept as it was. */
    XLATE_ACL_DENY_ALL,         /* Deny all. */
};

/* The translation state of one bound ACL. */
struct xlate_acl_acl {
    struct hmap_node node;      /* In 'acls', by hash of 'name'. */
    char *name;
    char uuid[37];              /* Of its row when last read, or "". */
    enum xlate_acl_mode mode;
    bool fresh;                 /* Not read yet since it was bound. */
    struct acl_entry *entries;  /* XLATE_ACL_ENTRIES: its entries, in the */
    int *priorities;            /* order they apply, and the priorities */
    size_t n_entries;           /* of their flows. */
    bool beyond;                /* Has the deny-the-rest flows. */
    json_t *faults;             /* Its tokens: ["invalid_acl", ...]. */
    json_t *entry_faults;       /* {"UUID": ["invalid_acl_entry"]}. */
    json_t *entry_reasons;      /* {"UUID": "why it cannot be applied"}. */
    json_t *old_faults;         /* Those before the last read, to tell */
    json_t *old_entry_faults;   /* whether they changed. */
    struct xlate_acl_ref *refs; /* Each entry of its row, in the reverse */
    size_t n_refs;              /* index. */
    uint64_t version;           /* New each time it is read. */
    bool pending;               /* To be read again (xlate_acl_run()). */
};

/* An ACL's reference to an entry of its row, in the reverse index from
 * entries to ACLs: nothing in the schema keeps two ACLs from sharing an
 * entry, and a change of the entry changes both.  The entry is known by
 * the hash of its UUID alone: a change of another entry with the same
 * hash only has the ACL read again for nothing. */
struct xlate_acl_ref {
    struct hmap_node node;      /* In 'by_entry', by the entry's UUID. */
    struct xlate_acl_acl *acl;
};

/* The translation state of every bound ACL. */
struct xlate_acl {
    struct hmap acls;           /* Contains "struct xlate_acl_acl"s. */
    struct hmap by_entry;       /* Contains "struct xlate_acl_ref"s. */
    uint64_t last_version;
    size_t n_pending;           /* ACLs with 'pending'. */
};

/* The entries that one xlate_acl_run() reads, beyond the ACL that reaches
 * it: some 50 ms of work. */
#define XLATE_ACL_RUN_ENTRIES 10000

struct xlate_acl *
xlate_acl_create(void)
{
    struct xlate_acl *x = iovp_xzalloc(sizeof *x);

    hmap_init(&x->acls);
    hmap_init(&x->by_entry);
    return x;
}

static uint32_t
xlate_acl_hash(const char *s)
{
    return (uint32_t) iovp_hash_string64(s);
}

static struct xlate_acl_acl *
xlate_acl_find(const struct xlate_acl *x, const char *name)
{
    struct xlate_acl_acl *acl;

    HMAP_FOR_EACH_WITH_HASH (acl, node, xlate_acl_hash(name), &x->acls) {
        if (!strcmp(acl->name, name)) {
            return acl;
        }
    }
    return NULL;
}

static char *
xlate_acl_group_key(const char *acl, const char *what)
{
    /* "acl:ACL/WHAT", put together by hand: one for each entry of each
     * ACL read, and formatting took 2,000 instructions each. */
    size_t a = strlen(acl), w = strlen(what);
    char *key = iovp_xmalloc(4 + a + 1 + w + 1);

    memcpy(key, "acl:", 4);
    memcpy(key + 4, acl, a);
    key[4 + a] = '/';
    memcpy(key + 4 + a + 1, what, w + 1);
    return key;
}

static void
xlate_acl_remove_group(struct desired *d, const char *acl, const char *what)
{
    char *key = xlate_acl_group_key(acl, what);

    desired_remove_group(d, key);
    free(key);
}

static void
xlate_acl_set_group(struct desired *d, const char *acl, const char *what,
                    struct oflow_table *flows)
{
    char *key = xlate_acl_group_key(acl, what);

    desired_set_group(d, key, flows);
    free(key);
}

/* Forgets the entries of 'acl''s version in force; with 'd', removes their
 * flows too. */
static void
xlate_acl_clear_entries(struct xlate_acl_acl *acl, struct desired *d)
{
    for (size_t i = 0; i < acl->n_entries; i++) {
        if (d) {
            xlate_acl_remove_group(d, acl->name, acl->entries[i].uuid);
        }
        acl_entry_destroy(&acl->entries[i]);
    }
    free(acl->entries);
    free(acl->priorities);
    acl->entries = NULL;
    acl->priorities = NULL;
    acl->n_entries = 0;
}

/* Makes the 'n' entries 'rows' the entries of 'acl' in the reverse
 * index. */
static void
xlate_acl_index_entries(struct xlate_acl *x, struct xlate_acl_acl *acl,
                        struct hwvtep_acl_entry *const *rows, size_t n)
{
    for (size_t i = 0; i < acl->n_refs; i++) {
        hmap_remove(&x->by_entry, &acl->refs[i].node);
    }
    free(acl->refs);
    acl->refs = n ? iovp_xmalloc(n * sizeof *acl->refs) : NULL;
    acl->n_refs = n;
    for (size_t i = 0; i < n; i++) {
        struct xlate_acl_ref *ref = &acl->refs[i];
        ref->acl = acl;
        hmap_insert(&x->by_entry, &ref->node,
                    xlate_acl_hash(rows[i]->header_.uuid));
    }
}

/* Forgets 'acl'; with 'd', removes all its flows. */
static void
xlate_acl_forget(struct xlate_acl *x, struct xlate_acl_acl *acl,
                 struct desired *d)
{
    xlate_acl_clear_entries(acl, d);
    if (d) {
        xlate_acl_remove_group(d, acl->name, "beyond");
        xlate_acl_remove_group(d, acl->name, "recovered");
        xlate_acl_remove_group(d, acl->name, "fail-closed");
    }
    xlate_acl_index_entries(x, acl, NULL, 0);
    hmap_remove(&x->acls, &acl->node);
    x->n_pending -= acl->pending;
    json_decref(acl->faults);
    json_decref(acl->entry_faults);
    json_decref(acl->old_faults);
    json_decref(acl->old_entry_faults);
    json_decref(acl->entry_reasons);
    free(acl->name);
    free(acl);
}

/* Frees 'x'.  Accepts NULL. */
void
xlate_acl_destroy(struct xlate_acl *x)
{
    if (x) {
        struct xlate_acl_acl *acl;
        HMAP_FOR_EACH_SAFE (acl, node, &x->acls) {
            xlate_acl_forget(x, acl, NULL);
        }
        hmap_destroy(&x->acls);
        hmap_destroy(&x->by_entry);
        free(x);
    }
}

/* An entry of an ACL's version in force, while a new one replaces it. */
struct xlate_acl_old {
    struct hmap_node node;      /* By hash of its UUID. */
    bool stays;                 /* The new version has it too. */
};

/* Makes the entries 'v' (sorted, all valid, 'n' of them, a malloc()'d
 * array that it takes) the version of 'acl' in force: only the flows of
 * entries that are new, changed, or whose priority changed are made
 * again. */
static void
xlate_acl_apply(struct xlate_acl_acl *acl, struct acl_entry *v, size_t n,
                struct desired *d)
{
    size_t n_left_out[2] = { 0, 0 };     /* Egress, ingress. */
    int lowest[2] = { XLATE_ACL_TOP, XLATE_ACL_TOP };
    int *priorities = iovp_xmalloc(MAX(1, n) * sizeof *priorities);

    /* A version recovered or denying all gives way as a whole, before the
     * entries claim their flows: what the entries make is then theirs from
     * the start (the switch sees only the difference, at the next put). */
    xlate_acl_remove_group(d, acl->name, "recovered");
    xlate_acl_remove_group(d, acl->name, "fail-closed");

    /* The version in force until now, by UUID. */
    struct hmap by_uuid = HMAP_INITIALIZER(&by_uuid);
    struct xlate_acl_old *old = iovp_xmalloc(MAX(1, acl->n_entries)
                                             * sizeof *old);
    for (size_t i = 0; i < acl->n_entries; i++) {
        old[i].stays = false;
        hmap_insert(&by_uuid, &old[i].node,
                    xlate_acl_hash(acl->entries[i].uuid));
    }

    xlate_acl_priorities(v, n, priorities);
    size_t n_fit = 0;
    for (size_t i = 0; i < n; i++) {
        int priority = priorities[i];
        if (priority < 0) {
            n_left_out[v[i].ingress]++;
            acl_entry_destroy(&v[i]);
            continue;
        }
        lowest[v[i].ingress] = MIN(lowest[v[i].ingress], priority);

        struct xlate_acl_old *o;
        bool same = false;
        HMAP_FOR_EACH_WITH_HASH (o, node, xlate_acl_hash(v[i].uuid),
                                 &by_uuid) {
            const struct acl_entry *prev = &acl->entries[o - old];
            if (!strcmp(prev->uuid, v[i].uuid)) {
                o->stays = true;
                same = (acl->priorities[o - old] == priority
                        && acl_entry_equal(prev, &v[i]));
                break;
            }
        }
        if (!same) {
            struct oflow_table flows;
            oflow_table_init(&flows);
            xlate_acl_entry_flows(acl->name, &v[i], priority, &flows);
            xlate_acl_set_group(d, acl->name, v[i].uuid, &flows);
            oflow_table_destroy(&flows);
        }
        v[n_fit] = v[i];
        priorities[n_fit] = priority;
        n_fit++;
    }

    /* Entries gone. */
    for (size_t i = 0; i < acl->n_entries; i++) {
        if (!old[i].stays) {
            xlate_acl_remove_group(d, acl->name, acl->entries[i].uuid);
        }
        acl_entry_destroy(&acl->entries[i]);
    }
    hmap_destroy(&by_uuid);
    free(old);
    free(acl->entries);
    free(acl->priorities);
    acl->entries = (n_fit < n && n_fit
                    ? iovp_xrealloc(v, n_fit * sizeof *v) : v);
    acl->priorities = priorities;
    acl->n_entries = n_fit;

    /* What does not fit is denied, in the directions that have entries
     * that do not fit, below the last that does. */
    if (n_left_out[0] || n_left_out[1]) {
        uint64_t id = pipeline_acl_id(acl->name);
        struct oflow_table flows;
        oflow_table_init(&flows);
        if (n_left_out[1]) {
            xlate_acl_flow(&flows, acl->name, "table=%d,priority=%d,xreg2=%#"
                           PRIx64" actions=drop", PIPELINE_T_INGRESS_ACL,
                           lowest[1] - 1, id);
        }
        if (n_left_out[0]) {
            xlate_acl_flow(&flows, acl->name, "table=%d,priority=%d,xreg4=%#"
                           PRIx64" actions=drop", PIPELINE_T_EGRESS_ACL,
                           lowest[0] - 1, id);
        }
        xlate_acl_set_group(d, acl->name, "beyond", &flows);
        oflow_table_destroy(&flows);
        json_array_append_new(acl->faults,
                              json_string("resource_shortage"));
    } else {
        xlate_acl_remove_group(d, acl->name, "beyond");
    }
    acl->mode = XLATE_ACL_ENTRIES;
}

/* Reads 'acl' anew from 'vtep' and brings its flows in 'd' in line. */
static void
xlate_acl_update(struct xlate_acl *x, struct xlate_acl_acl *acl,
                 const struct odb_idl *vtep,
                 const struct oflow_table *installed, struct desired *d)
{
    const struct hwvtep_acl *row = acl_find_row(vtep, acl->name);
    size_t n_rows = row ? row->n_acl_entries : 0;
    struct hwvtep_acl_entry *const *rows = row ? row->acl_entries : NULL;

    snprintf(acl->uuid, sizeof acl->uuid, "%s",
             row ? row->header_.uuid : "");
    json_decref(acl->old_faults);
    json_decref(acl->old_entry_faults);
    acl->old_faults = acl->faults;
    acl->old_entry_faults = acl->entry_faults;
    acl->faults = json_array();
    acl->entry_faults = json_object();
    json_decref(acl->entry_reasons);
    acl->entry_reasons = json_object();

    struct acl_entry *v = iovp_xmalloc(MAX(1, n_rows) * sizeof *v);
    size_t n = 0;
    bool valid = row != NULL;
    for (size_t i = 0; i < n_rows; i++) {
        const char *uuid = rows[i]->header_.uuid;
        char *error = acl_entry_parse(rows[i], &v[n]);
        if (error) {
            VLOG_WARN_RL(&rl, "ACL %s: entry %s: %s", acl->name, uuid,
                         error);
            json_object_set_new(acl->entry_faults, uuid,
                                json_pack("[s]", "invalid_acl_entry"));
            json_object_set_new(acl->entry_reasons, uuid,
                                json_string(error));
            free(error);
            acl_entry_destroy(&v[n]);
            valid = false;
        } else {
            n++;
        }
    }
    xlate_acl_index_entries(x, acl, rows, n_rows);

    if (valid) {
        qsort(v, n, sizeof *v, acl_entry_compare);
        xlate_acl_apply(acl, v, n, d);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        acl_entry_destroy(&v[i]);
    }
    free(v);
    json_array_append_new(acl->faults, json_string("invalid_acl"));
    if (acl->mode != XLATE_ACL_DENY_ALL) {
        /* The version in force, or the one recovered, stays. */
        return;
    }

    /* No valid version known: what the switch holds, if this is the first
     * look at the ACL, else deny. */
    uint64_t cookie = ofctrl_cookie(pipeline_acl_origin(acl->name));
    struct oflow_table flows;
    const struct oflow *f;
    oflow_table_init(&flows);
    OFLOW_TABLE_FOR_EACH (f, installed) {
        if (f->cookie == cookie) {
            struct oflow *copy = oflow_clone(f);
            oflow_set_stats(copy, NULL);
            copy->duration_sec = 0;
            oflow_table_insert(&flows, copy);
        }
    }
    if (oflow_table_count(&flows) && acl->fresh) {
        xlate_acl_set_group(d, acl->name, "recovered", &flows);
        acl->mode = XLATE_ACL_RECOVERED;
    } else {
        xlate_acl_fail_closed(acl->name, &flows);
        xlate_acl_set_group(d, acl->name, "fail-closed", &flows);
    }
    oflow_table_destroy(&flows);
}

/* Marks 'acl' to be read again. */
static void
xlate_acl_mark(struct xlate_acl *x, struct xlate_acl_acl *acl)
{
    if (!acl->pending) {
        acl->pending = true;
        x->n_pending++;
    }
}

/* Brings the ACL flows in 'd' in line with the policy in 'vtep':
 *
 *   - 'bound' (a set: its keys are ACL names) names the ACLs that bindings
 *     use: the flows of the others go;
 *   - 'changed_acls' and 'changed_entries' (sets of UUIDs of ACL and
 *     ACL_entry rows) say what changed since the last run, or are NULL
 *     when anything may have: only the ACLs they concern, and those newly
 *     bound, are read again, and of those only the entries that changed
 *     get new flows;
 *   - 'installed' (the flows the switch holds) is where an ACL with no
 *     valid version is recovered from, as xlate-acl.h says.
 *
 * A run reads ACLs until it has read XLATE_ACL_RUN_ENTRIES entries: the
 * rest wait for the next runs (xlate_acl_is_done()), and 'd' holds part of
 * the change until then.
 *
 * Returns true if the faults of an ACL or entry (xlate_acl_faults())
 * may have changed. */
bool
xlate_acl_run(struct xlate_acl *x, const struct odb_idl *vtep,
              const struct shash *bound, const struct shash *changed_acls,
              const struct shash *changed_entries,
              const struct oflow_table *installed, struct desired *d)
{
    struct xlate_acl_acl *acl;
    const struct shash_node *sn;

    bool faults_changed = false;

    /* Unbound: gone. */
    HMAP_FOR_EACH_SAFE (acl, node, &x->acls) {
        if (!shash_find(bound, acl->name)) {
            xlate_acl_forget(x, acl, d);
            faults_changed = true;
        }
    }

    /* What to read again: newly bound, changed, or everything. */
    SHASH_FOR_EACH (sn, bound) {
        const char *key = sn->name;

        acl = xlate_acl_find(x, key);
        if (!acl) {
            acl = iovp_xzalloc(sizeof *acl);
            acl->name = iovp_xstrdup(key);
            acl->mode = XLATE_ACL_DENY_ALL;
            acl->fresh = true;
            acl->faults = json_array();
            acl->entry_faults = json_object();
            hmap_insert(&x->acls, &acl->node, xlate_acl_hash(key));
            xlate_acl_mark(x, acl);
        } else if (!changed_acls || !changed_entries) {
            xlate_acl_mark(x, acl);
        }
    }
    if (changed_acls) {
        HMAP_FOR_EACH (acl, node, &x->acls) {
            if (shash_find(changed_acls, acl->uuid)) {
                xlate_acl_mark(x, acl);
            }
        }
        /* A row that replaced another of the same name. */
        SHASH_FOR_EACH (sn, changed_acls) {
            const struct hwvtep_acl *row = hwvtep_acl_get(vtep, sn->name);
            if (row && (acl = xlate_acl_find(x, row->acl_name))) {
                xlate_acl_mark(x, acl);
            }
        }
    }
    if (changed_entries) {
        SHASH_FOR_EACH (sn, changed_entries) {
            const struct xlate_acl_ref *ref;
            HMAP_FOR_EACH_WITH_HASH (ref, node, xlate_acl_hash(sn->name),
                                     &x->by_entry) {
                xlate_acl_mark(x, ref->acl);
            }
        }
    }

    size_t n_read = 0;
    HMAP_FOR_EACH (acl, node, &x->acls) {
        if (!x->n_pending || n_read >= XLATE_ACL_RUN_ENTRIES) {
            break;
        } else if (!acl->pending) {
            continue;
        }
        acl->pending = false;
        x->n_pending--;

        xlate_acl_update(x, acl, vtep, installed, d);
        acl->version = ++x->last_version;
        faults_changed = (faults_changed || acl->fresh
                          || !json_equal(acl->faults, acl->old_faults)
                          || !json_equal(acl->entry_faults,
                                         acl->old_entry_faults));
        acl->fresh = false;
        n_read += acl->n_refs + 1;
    }
    return faults_changed;
}

/* Returns true if the last xlate_acl_run() read every ACL it had to: the
 * flows it left in 'd' are the whole policy's. */
bool
xlate_acl_is_done(const struct xlate_acl *x)
{
    return !x->n_pending;
}

/* Returns the bytes of heap that the translation state of the bound ACLs
 * takes (their faults' JSON aside): each ACL's entries in force, parsed
 * (their texts are the models' shared strings), and the reverse index
 * from entries to ACLs.  See iovp_malloc_size(). */
size_t
xlate_acl_memory(const struct xlate_acl *x)
{
    size_t n = ((x->acls.mask + 1) * sizeof *x->acls.buckets
                + (x->by_entry.mask + 1) * sizeof *x->by_entry.buckets);
    const struct xlate_acl_acl *acl;

    HMAP_FOR_EACH (acl, node, &x->acls) {
        n += (iovp_malloc_size(acl) + iovp_malloc_size(acl->name)
              + iovp_malloc_size(acl->refs)
              + iovp_malloc_size(acl->entries)
              + iovp_malloc_size(acl->priorities));
    }
    return n;
}

/* Returns a new reference to the faults of the bound ACLs and their
 * entries, for report_acl_faults(): {"acls": {"NAME": [tokens]},
 * "entries": {"UUID": [tokens]}}. */
json_t *
xlate_acl_faults(const struct xlate_acl *x)
{
    json_t *acls = json_object();
    json_t *entries = json_object();
    const struct xlate_acl_acl *acl;

    HMAP_FOR_EACH (acl, node, &x->acls) {
        json_object_set(acls, acl->name, acl->faults);
        json_object_update(entries, acl->entry_faults);
    }
    return json_pack("{s:o, s:o}", "acls", acls, "entries", entries);
}

/* Returns a new reference to a description of bound ACL 'name' as 'x'
 * applies it, or NULL if 'x' does not know it:
 *
 *   {"acl": NAME, "in_force": "entries" | "recovered" | "deny all",
 *    "faults": [tokens],
 *    "entries": [{"uuid", "sequence", "direction", "action", "entry",
 *                 "priority", "n_packets", "n_bytes"}],
 *    "invalid_entries": {"UUID": "reason"}}
 *
 * "entries" is the version in force, in the order it applies, each with
 * the counters of its flows in 'installed' (as of the last read). */
json_t *
xlate_acl_describe(const struct xlate_acl *x, const char *name,
                   const struct desired *d,
                   const struct oflow_table *installed)
{
    static const char *const modes[] = {
        [XLATE_ACL_ENTRIES] = "entries",
        [XLATE_ACL_RECOVERED] = "recovered",
        [XLATE_ACL_DENY_ALL] = "deny all",
    };
    const struct xlate_acl_acl *acl = xlate_acl_find(x, name);

    if (!acl) {
        return NULL;
    }

    json_t *entries = json_array();
    for (size_t i = 0; i < acl->n_entries; i++) {
        const struct acl_entry *e = &acl->entries[i];
        char *key = xlate_acl_group_key(name, e->uuid);
        size_t n_flows;
        struct oflow *const *flows = desired_group_flows(d, key, &n_flows);
        uint64_t packets = 0, bytes = 0;
        for (size_t j = 0; j < n_flows; j++) {
            const struct oflow *f = oflow_table_find(installed, flows[j]);
            if (f) {
                packets += oflow_get_stats(f)->n_packets;
                bytes += oflow_get_stats(f)->n_bytes;
            }
        }
        free(key);

        char *text = acl_entry_to_string(e);
        json_array_append_new(entries, json_pack(
            "{s:s, s:I, s:s, s:s, s:s, s:i, s:I, s:I}",
            "uuid", e->uuid, "sequence", (json_int_t) e->sequence,
            "direction", e->ingress ? "ingress" : "egress",
            "action", e->permit ? "permit" : "deny", "entry", text,
            "priority", acl->priorities[i],
            "n_packets", (json_int_t) packets,
            "n_bytes", (json_int_t) bytes));
        free(text);
    }

    return json_pack("{s:s, s:s, s:O, s:o, s:o}", "acl", name,
                     "in_force", modes[acl->mode], "faults", acl->faults,
                     "entries", entries, "invalid_entries",
                     acl->entry_reasons ? json_incref(acl->entry_reasons)
                     : json_object());
}

/* Returns true if 'packet' matches the entry whose flows are the 'n' in
 * 'flows': one of them, or, for a conjunctive entry, a flow of each of its
 * clauses (its one flow that is not conjunctive, the one that matches the
 * conjunction's id, is not the packet's to match). */
static bool
xlate_acl_flows_match(struct oflow *const *flows, size_t n,
                      const struct flow *packet)
{
    uint32_t clauses_matched = 0, clauses = 0;
    bool any = false;

    for (size_t i = 0; i < n; i++) {
        const struct oflow *f = flows[i];
        const struct ofpact *a = f->data->ofpacts;
        if (f->data->ofpacts_len && a->type == OFPACT_CONJUNCTION) {
            const struct ofpact_conjunction *c
                = (const struct ofpact_conjunction *) a;
            clauses |= 1u << c->clause;
            if (minimatch_matches_flow(&f->data->match, packet)) {
                clauses_matched |= 1u << c->clause;
            }
        } else if (minimatch_matches_flow(&f->data->match, packet)) {
            any = true;
        }
    }
    return clauses ? clauses_matched == clauses : any;
}

/* Returns a new reference to how ACL 'name' (bound, known to 'x') decides
 * 'packet' in 'direction' (true: ingress), by the flows of the version in
 * force in 'd': {"acl", "decided_by": "entry" | "no match" | "deny all" |
 * "recovered flows" | "beyond the priority space", "entry": text or null,
 * "action": "permit" | "deny"}; or NULL if 'x' does not know the ACL. */
json_t *
xlate_acl_evaluate(const struct xlate_acl *x, const char *name,
                   bool ingress, const struct flow *packet_,
                   const struct desired *d)
{
    const struct xlate_acl_acl *acl = xlate_acl_find(x, name);
    if (!acl) {
        return NULL;
    }

    /* The packet, with the ACL's id in the register its flows match. */
    struct flow packet = *packet_;
    uint64_t id = pipeline_acl_id(name);
    int reg = ingress ? 4 : 8;
    packet.regs[reg] = id >> 32;
    packet.regs[reg + 1] = id;

    const char *decided_by = "no match";
    const char *action = "permit";
    char *text = NULL;
    size_t n_flows;
    struct oflow *const *flows;

    if (acl->mode == XLATE_ACL_DENY_ALL) {
        decided_by = "deny all";
        action = "deny";
    } else if (acl->mode == XLATE_ACL_RECOVERED) {
        /* The highest priority of the recovered flows that matches. */
        char *key = xlate_acl_group_key(name, "recovered");
        int best = -1;
        flows = desired_group_flows(d, key, &n_flows);
        free(key);
        for (size_t i = 0; i < n_flows; i++) {
            const struct oflow *f = flows[i];
            if (f->table_id == (ingress ? PIPELINE_T_INGRESS_ACL
                                : PIPELINE_T_EGRESS_ACL)
                && f->priority > best
                && xlate_acl_flows_match(&flows[i], 1, &packet)) {
                best = f->priority;
                action = f->data->ofpacts_len ? "permit" : "deny";
                decided_by = "recovered flows";
            }
        }
    } else {
        for (size_t i = 0; i < acl->n_entries; i++) {
            const struct acl_entry *e = &acl->entries[i];
            if (e->ingress != ingress) {
                continue;
            }
            char *key = xlate_acl_group_key(name, e->uuid);
            flows = desired_group_flows(d, key, &n_flows);
            free(key);
            if (xlate_acl_flows_match(flows, n_flows, &packet)) {
                decided_by = "entry";
                action = e->permit ? "permit" : "deny";
                text = acl_entry_to_string(e);
                break;
            }
        }

        char *key = xlate_acl_group_key(name, "beyond");
        flows = desired_group_flows(d, key, &n_flows);
        free(key);
        for (size_t i = 0; !text && i < n_flows; i++) {
            if (flows[i]->table_id == (ingress ? PIPELINE_T_INGRESS_ACL
                                       : PIPELINE_T_EGRESS_ACL)) {
                decided_by = "beyond the priority space";
                action = "deny";
            }
        }
    }

    json_t *result = json_pack("{s:s, s:s, s:s?, s:s}", "acl", name,
                               "decided_by", decided_by, "entry", text,
                               "action", action);
    free(text);
    return result;
}

/* Stores in 'out' what ACL 'name' does now, for the fast path
 * (agent/xlate-offload.h): the entries of its version in force, sorted,
 * with their priorities and, given the desired flows 'd' and the switch's
 * 'installed' ones, the traffic of the ingress entries (the packets of
 * their flows; the planner weighs by no other) (malloc()'d
 * arrays, the entries shallow copies, valid until
 * the next xlate_acl_run(); free them with xlate_acl_effect_free()), or
 * that it denies everything, or that it is known only as flows (or not yet
 * read). */
void
xlate_acl_effect(const struct xlate_acl *x, const char *name,
                 const struct desired *d,
                 const struct oflow_table *installed,
                 struct xlate_acl_effect *out)
{
    const struct xlate_acl_acl *acl = xlate_acl_find(x, name);

    memset(out, 0, sizeof *out);
    if (!acl || acl->fresh || acl->mode == XLATE_ACL_RECOVERED) {
        out->unknown = true;
        return;
    }
    if (acl->mode == XLATE_ACL_DENY_ALL) {
        out->deny_all = true;
        return;
    }

    size_t n = acl->n_entries;
    out->entries = (n ? iovp_xmemdup(acl->entries, n * sizeof *acl->entries)
                    : NULL);
    out->priorities = (n ? iovp_xmemdup(acl->priorities,
                                        n * sizeof *acl->priorities)
                       : NULL);
    out->n = n;
    xlate_acl_effect_weigh(name, d, installed, out);
}

/* Gives 'acl', the effect of ACL 'name' (xlate_acl_effect()), the traffic
 * of its ingress entries: the packets that the switch's flows 'installed'
 * counted in the flows of 'd' that each one has (none without 'd' and
 * 'installed'). */
void
xlate_acl_effect_weigh(const char *name, const struct desired *d,
                       const struct oflow_table *installed,
                       struct xlate_acl_effect *acl)
{
    double *weights = iovp_xzalloc(MAX(acl->n, 1) * sizeof *weights);

    for (size_t i = 0; d && installed && i < acl->n; i++) {
        if (acl->entries[i].ingress) {
            char *key = xlate_acl_group_key(name, acl->entries[i].uuid);
            size_t n_flows;
            struct oflow *const *flows = desired_group_flows(d, key,
                                                             &n_flows);
            for (size_t j = 0; j < n_flows; j++) {
                const struct oflow *f = oflow_table_find(installed,
                                                         flows[j]);
                weights[i] += f ? oflow_get_stats(f)->n_packets : 0;
            }
            free(key);
        }
    }
    free((double *) acl->weights);
    acl->weights = weights;
}

/* Returns a number that changes each time ACL 'name' is read anew (so that
 * its effect may differ), or 0 if it is not bound. */
uint64_t
xlate_acl_version(const struct xlate_acl *x, const char *name)
{
    const struct xlate_acl_acl *acl = xlate_acl_find(x, name);

    return acl ? acl->version : 0;
}

void
xlate_acl_effect_free(struct xlate_acl_effect *acl)
{
    free((struct acl_entry *) acl->entries);
    free((int *) acl->priorities);
    free((double *) acl->weights);
    acl->entries = NULL;
    acl->priorities = NULL;
    acl->weights = NULL;
}

/* Stores in '*flowsp' (malloc()'d) and '*n' the flows of entry 'uuid' of
 * ACL 'acl' that the switch holds ('installed'), of those 'd' wants. */
void
xlate_acl_entry_installed(const struct desired *d,
                          const struct oflow_table *installed,
                          const char *acl, const char *uuid,
                          const struct oflow ***flowsp, size_t *n)
{
    char *key = xlate_acl_group_key(acl, uuid);
    size_t n_flows;
    struct oflow *const *flows = desired_group_flows(d, key, &n_flows);
    const struct oflow **out = iovp_xmalloc(MAX(n_flows, 1) * sizeof *out);

    *n = 0;
    for (size_t i = 0; i < n_flows; i++) {
        const struct oflow *f = oflow_table_find(installed, flows[i]);
        if (f) {
            out[(*n)++] = f;
        }
    }
    free(key);
    *flowsp = out;
}
