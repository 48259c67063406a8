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

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/shash.h>
#include <openvswitch/util.h>
#include <openvswitch/vlog.h>

#include "agent/acl.h"
#include "agent/pipeline.h"
#include "lib/util.h"
#include "ofp/ofctrl.h"
#include "ofp/oflow.h"
#include "ovsdb/query.h"
#include "ovsdb/replica.h"

VLOG_DEFINE_THIS_MODULE(xlate_acl);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* Returns the id of the ACL called 'acl_name' in the pipeline's registers:
 * a hash of its name, never 0 (which means "no ACL"). */
uint64_t
xlate_acl_id(const char *acl_name)
{
    char *s = iovp_xasprintf("acl:%s", acl_name);
    uint64_t id = iovp_hash_string64(s);

    free(s);
    return id ? id : 1;
}

/* Returns the origin (ofctrl_cookie()) of the flows of ACL 'acl_name'. */
uint64_t
xlate_acl_origin(const char *acl_name)
{
    return xlate_acl_id(acl_name) & ~OFCTRL_COOKIE_MASK;
}

/* Returns the priority of entry 'i' of the 'n' 'entries' of an ACL, sorted
 * by acl_entry_compare(), or -1 if it does not fit in the priority space
 * (see xlate-acl.h). */
int
xlate_acl_priority(const struct acl_entry *entries, size_t n, size_t i)
{
    bool linear = true;
    for (size_t j = 0; j < n && linear; j++) {
        linear = (entries[j].sequence >= 0
                  && entries[j].sequence <= XLATE_ACL_MAX_SEQUENCE);
    }

    int64_t slot;
    if (linear) {
        slot = entries[i].sequence;
    } else {
        /* Entries of one sequence and action share a rank. */
        slot = 0;
        for (size_t j = 1; j <= i; j++) {
            if (entries[j].sequence != entries[j - 1].sequence
                || entries[j].permit != entries[j - 1].permit) {
                slot++;
            }
        }
        if (slot > XLATE_ACL_MAX_SEQUENCE) {
            return -1;
        }
    }
    return XLATE_ACL_TOP - 2 * slot - (entries[i].permit ? 1 : 0);
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

/* Appends to 's' the match on port field 'field' for 'p', if any. */
static void
xlate_acl_put_prefix(struct ds *s, const char *field,
                     const struct xlate_acl_prefix *p)
{
    if (p && p->mask == 0xffff) {
        ds_put_format(s, ",%s=%d", field, p->value);
    } else if (p && p->mask) {
        ds_put_format(s, ",%s=%#x/%#x", field, p->value, p->mask);
    }
}

/* Appends to 's' the match on everything of 'e' but its ports, for family
 * 'family' (IPv4 or IPv6 when the entry's is ACL_FAMILY_IP). */
static void
xlate_acl_put_match(struct ds *s, const struct acl_entry *e,
                    enum acl_family family)
{
    bool v6 = family == ACL_FAMILY_IPV6;

    if (family == ACL_FAMILY_IPV4 || family == ACL_FAMILY_IPV6) {
        ds_put_cstr(s, v6 ? ",ipv6" : ",ip");
    } else if (e->ethertype >= 0) {
        ds_put_format(s, ",dl_type=%#06x", e->ethertype);
    }
    if (e->source_mac) {
        ds_put_format(s, ",dl_src=%s", e->source_mac);
    }
    if (e->dest_mac) {
        ds_put_format(s, ",dl_dst=%s", e->dest_mac);
    }
    if (e->source_ip) {
        ds_put_format(s, ",%s=%s", v6 ? "ipv6_src" : "nw_src",
                      e->source_ip);
    }
    if (e->dest_ip) {
        ds_put_format(s, ",%s=%s", v6 ? "ipv6_dst" : "nw_dst", e->dest_ip);
    }
    if (e->protocol >= 0) {
        ds_put_format(s, ",nw_proto=%d", e->protocol);
    }
    if (e->tcp_flags >= 0) {
        ds_put_format(s, ",tcp_flags=%#x/%#x", e->tcp_flags,
                      e->tcp_flags_mask);
    }
    if (e->icmp_type >= 0) {
        ds_put_format(s, ",%s=%d", v6 ? "icmpv6_type" : "icmp_type",
                      e->icmp_type);
    }
    if (e->icmp_code >= 0) {
        ds_put_format(s, ",%s=%d", v6 ? "icmpv6_code" : "icmp_code",
                      e->icmp_code);
    }
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
        flows, ofctrl_cookie(xlate_acl_origin(acl_name)), text);
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

/* Adds to 'flows' the flows of entry 'e' of ACL 'acl_name' at
 * 'priority'. */
void
xlate_acl_entry_flows(const char *acl_name, const struct acl_entry *e,
                      int priority, struct oflow_table *flows)
{
    int table = e->ingress ? PIPELINE_T_INGRESS_ACL : PIPELINE_T_EGRESS_ACL;
    const char *reg = e->ingress ? "xreg2" : "xreg4";
    const char *fate = (!e->permit ? "drop"
                        : e->ingress ? "goto_table:20" : "goto_table:50");
    uint64_t id = xlate_acl_id(acl_name);

    struct xlate_acl_prefix src[32], dst[32];
    size_t n_src = 0, n_dst = 0;
    if (e->source_ports.min >= 0) {
        n_src = xlate_acl_range_prefixes(&e->source_ports, src);
    }
    if (e->dest_ports.min >= 0) {
        n_dst = xlate_acl_range_prefixes(&e->dest_ports, dst);
    }
    bool conjunctive = n_src > 1 && n_dst > 1;
    uint32_t conj_id = conjunctive ? xlate_acl_conj_id(acl_name, e) : 0;

    enum acl_family families[2];
    size_t n_families = 0;
    if (e->family == ACL_FAMILY_IP) {
        families[n_families++] = ACL_FAMILY_IPV4;
        families[n_families++] = ACL_FAMILY_IPV6;
    } else {
        families[n_families++] = e->family;
    }

    struct ds common = DS_EMPTY_INITIALIZER;
    struct ds match = DS_EMPTY_INITIALIZER;
    for (size_t f = 0; f < n_families; f++) {
        ds_clear(&common);
        ds_put_format(&common, "table=%d,priority=%d,%s=%#"PRIx64, table,
                      priority, reg, id);
        xlate_acl_put_match(&common, e, families[f]);

        if (conjunctive) {
            for (size_t i = 0; i < n_src; i++) {
                ds_clear(&match);
                ds_put_cstr(&match, ds_cstr(&common));
                xlate_acl_put_prefix(&match, "tp_src", &src[i]);
                xlate_acl_flow(flows, acl_name,
                               "%s actions=conjunction(%"PRIu32",1/2)",
                               ds_cstr(&match), conj_id);
            }
            for (size_t i = 0; i < n_dst; i++) {
                ds_clear(&match);
                ds_put_cstr(&match, ds_cstr(&common));
                xlate_acl_put_prefix(&match, "tp_dst", &dst[i]);
                xlate_acl_flow(flows, acl_name,
                               "%s actions=conjunction(%"PRIu32",2/2)",
                               ds_cstr(&match), conj_id);
            }
            continue;
        }
        for (size_t i = 0; i < MAX(n_src, 1); i++) {
            for (size_t j = 0; j < MAX(n_dst, 1); j++) {
                ds_clear(&match);
                ds_put_cstr(&match, ds_cstr(&common));
                xlate_acl_put_prefix(&match, "tp_src", n_src ? &src[i]
                                     : NULL);
                xlate_acl_put_prefix(&match, "tp_dst", n_dst ? &dst[j]
                                     : NULL);
                xlate_acl_flow(flows, acl_name, "%s actions=%s",
                               ds_cstr(&match), fate);
            }
        }
    }
    if (conjunctive) {
        xlate_acl_flow(flows, acl_name,
                       "table=%d,priority=%d,conj_id=%"PRIu32",%s=%#"PRIx64
                       " actions=%s", table, priority, conj_id, reg, id,
                       fate);
    }
    ds_destroy(&common);
    ds_destroy(&match);
}

/* Adds to 'flows' what denies all traffic of every port and VLAN that ACL
 * 'acl_name' is bound to, in both directions, above any entry. */
void
xlate_acl_fail_closed(const char *acl_name, struct oflow_table *flows)
{
    uint64_t id = xlate_acl_id(acl_name);

    xlate_acl_flow(flows, acl_name, "table=%d,priority=%d,xreg2=%#"PRIx64
                   " actions=drop", PIPELINE_T_INGRESS_ACL,
                   XLATE_ACL_FAIL_CLOSED, id);
    xlate_acl_flow(flows, acl_name, "table=%d,priority=%d,xreg4=%#"PRIx64
                   " actions=drop", PIPELINE_T_EGRESS_ACL,
                   XLATE_ACL_FAIL_CLOSED, id);
}

/* Adds to 'flows' the flows of ACL 'acl_name' whose 'n' valid 'entries'
 * are sorted by acl_entry_compare().  Returns the number of entries that
 * did not fit in the priority space (0 if all did); the ACL then denies
 * everything below the last that fits. */
size_t
xlate_acl_flows(const char *acl_name, const struct acl_entry *entries,
                size_t n, struct oflow_table *flows)
{
    size_t n_left_out = 0;
    int lowest = XLATE_ACL_TOP;

    for (size_t i = 0; i < n; i++) {
        int priority = xlate_acl_priority(entries, n, i);
        if (priority < 0) {
            n_left_out++;
            continue;
        }
        lowest = MIN(lowest, priority);
        xlate_acl_entry_flows(acl_name, &entries[i], priority, flows);
    }
    if (n_left_out) {
        uint64_t id = xlate_acl_id(acl_name);
        xlate_acl_flow(flows, acl_name, "table=%d,priority=%d,xreg2=%#"
                       PRIx64" actions=drop", PIPELINE_T_INGRESS_ACL,
                       lowest - 1, id);
        xlate_acl_flow(flows, acl_name, "table=%d,priority=%d,xreg4=%#"
                       PRIx64" actions=drop", PIPELINE_T_EGRESS_ACL,
                       lowest - 1, id);
    }
    return n_left_out;
}

/* The last valid version of an ACL. */
struct xlate_acl_version {
    struct acl_entry *entries;  /* Sorted by acl_entry_compare(). */
    size_t n;
};

/* The last valid version of each ACL, by name. */
struct xlate_acl_cache {
    struct shash versions;      /* Contains "struct xlate_acl_version"s. */
};

struct xlate_acl_cache *
xlate_acl_cache_create(void)
{
    struct xlate_acl_cache *cache = iovp_xmalloc(sizeof *cache);

    shash_init(&cache->versions);
    return cache;
}

static void
xlate_acl_version_destroy(struct xlate_acl_version *v)
{
    if (v) {
        for (size_t i = 0; i < v->n; i++) {
            acl_entry_destroy(&v->entries[i]);
        }
        free(v->entries);
        free(v);
    }
}

/* Frees 'cache'.  Accepts NULL. */
void
xlate_acl_cache_destroy(struct xlate_acl_cache *cache)
{
    if (cache) {
        struct shash_node *node;
        SHASH_FOR_EACH_SAFE (node, &cache->versions) {
            xlate_acl_version_destroy(node->data);
            shash_delete(&cache->versions, node);
        }
        shash_destroy(&cache->versions);
        free(cache);
    }
}

/* Adds 'token' to the array at 'key' in the object at 'kind' of
 * 'faults'. */
static void
xlate_acl_fault(json_t *faults, const char *kind, const char *key,
                const char *token)
{
    json_t *object = json_object_get(faults, kind);
    if (!object) {
        object = json_object();
        json_object_set_new(faults, kind, object);
    }
    json_t *list = json_object_get(object, key);
    if (!list) {
        list = json_array();
        json_object_set_new(object, key, list);
    }
    json_array_append_new(list, json_string(token));
}

/* Adds to 'desired' the flows of each ACL named in 'acls' (a JSON object
 * whose keys are ACL names), as the ACL and ACL_entry tables of 'vtep'
 * say, and keeps each valid ACL's version in 'cache'.  Adds to 'faults'
 * what is wrong:
 *
 *   {"acls": {"NAME": ["invalid_acl" | "resource_shortage"]},
 *    "entries": {"UUID": ["invalid_acl_entry"]},
 *    "reasons": {"UUID": "why the entry cannot be applied"}}
 *
 * An ACL that is bad keeps its last valid version, as xlate-acl.h says,
 * from 'cache', or from 'installed' (the flows the switch holds). */
void
xlate_acl_build(const struct odb_replica *vtep, const json_t *acls,
                struct xlate_acl_cache *cache,
                const struct oflow_table *installed,
                struct oflow_table *desired, json_t *faults)
{
    const struct odb_replica_table *acl_table = odb_replica_find_table(
        vtep, "ACL");
    const struct odb_replica_table *entry_table = odb_replica_find_table(
        vtep, "ACL_entry");
    const char *name;
    json_t *value;

    json_object_foreach (CONST_CAST(json_t *, acls), name, value) {
        const struct odb_row *acl = odb_find_row_by_string(
            acl_table, "acl_name", name);
        size_t n_rows;
        const struct odb_row **rows = (acl ? odb_rows_referenced(
                                           entry_table,
                                           odb_row_get(acl_table, acl,
                                                       "acl_entries"),
                                           &n_rows)
                                       : NULL);
        if (!acl) {
            n_rows = 0;
        }

        struct xlate_acl_version *v = iovp_xzalloc(sizeof *v);
        v->entries = iovp_xmalloc(MAX(1, n_rows) * sizeof *v->entries);
        bool valid = acl != NULL;
        for (size_t i = 0; i < n_rows; i++) {
            struct acl_entry *e = &v->entries[v->n];
            char *error = acl_entry_parse(entry_table, rows[i], e);
            if (error) {
                VLOG_WARN_RL(&rl, "ACL %s: entry %s: %s", name,
                             rows[i]->uuid, error);
                xlate_acl_fault(faults, "entries", rows[i]->uuid,
                                "invalid_acl_entry");
                json_t *reasons = json_object_get(faults, "reasons");
                if (!reasons) {
                    reasons = json_object();
                    json_object_set_new(faults, "reasons", reasons);
                }
                json_object_set_new(reasons, rows[i]->uuid,
                                    json_string(error));
                free(error);
                acl_entry_destroy(e);
                valid = false;
            } else {
                v->n++;
            }
        }
        free(rows);
        qsort(v->entries, v->n, sizeof *v->entries, acl_entry_compare);

        if (valid) {
            xlate_acl_version_destroy(shash_replace(&cache->versions, name,
                                                    v));
        } else {
            xlate_acl_fault(faults, "acls", name, "invalid_acl");
            xlate_acl_version_destroy(v);
            v = shash_find_data(&cache->versions, name);
        }

        if (v) {
            if (xlate_acl_flows(name, v->entries, v->n, desired)) {
                xlate_acl_fault(faults, "acls", name, "resource_shortage");
            }
            continue;
        }

        /* No valid version known: what the switch holds, else deny. */
        uint64_t cookie = ofctrl_cookie(xlate_acl_origin(name));
        bool recovered = false;
        const struct oflow *f;
        OFLOW_TABLE_FOR_EACH (f, installed) {
            if (f->cookie == cookie) {
                struct oflow *copy = oflow_clone(f);
                copy->n_packets = copy->n_bytes = 0;
                if (!oflow_table_insert(desired, copy)) {
                    oflow_destroy(copy);
                }
                recovered = true;
            }
        }
        if (!recovered) {
            xlate_acl_fail_closed(name, desired);
        }
    }
}
