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

#ifndef IOVP_OFP_OFLOW_H
#define IOVP_OFP_OFLOW_H 1

/* OpenFlow flows and tables of them: what iovpd wants on the switch (the
 * desired table, built by translation) and what the switch holds (the
 * installed table, private to ofctrl).
 *
 * A flow is identified, as in the switch, by its table, priority and match;
 * a table holds at most one flow with each identity.  Its cookie carries
 * iovpd's mark (OFCTRL_COOKIE_MAGIC, ofp/ofctrl.h) and, in its low 48 bits,
 * the flow's origin: the policy object it was made for.  A flow of the
 * installed table also carries the switch's counters as of the last time
 * ofctrl read them. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openvswitch/compiler.h>
#include <openvswitch/hmap.h>
#include <openvswitch/match.h>

struct ds;
struct ofpact;

/* A flow's match and actions, held once for every flow that has the same
 * (interned): a desired flow, its copies in flight and installed (what
 * oflow_clone() copies is a reference), and the same flow read back from
 * the switch after a restart share one.  Read only.
 *
 * The match's mask is itself held once for every interned match that has
 * it, apart from its flow: such a match is for minimatch_equal(),
 * minimatch_expand() and the like, never for minimatch_hash() or
 * minimatch_destroy(), which expect the two in one block.  (A lookup key
 * made on the stack with minimatch_init() has them in one block.) */
struct oflow_data {
    struct hmap_node node;      /* In the interned data, by content. */
    unsigned int n_refs;
    unsigned int ofpacts_len;   /* (An OpenFlow message is at most 64 kB.) */
    struct minimatch match;
    struct ofpact *ofpacts;
};

/* A switch's counters of a flow, and its timeouts (flows read from a
 * switch that has them). */
struct oflow_stats {
    uint64_t n_packets, n_bytes;
    uint16_t idle_timeout, hard_timeout;
};

/* (A flow takes a 64-byte block.  Its stats, which every desired flow and
 * most installed ones have as zeros, are a block of their own when they
 * are not: inline, they made a hundred thousand flows, desired and
 * installed, take 3 MB more.) */
struct oflow {
    struct hmap_node node;      /* In an oflow_table, by identity.  Its
                                 * 'hash' is oflow_hash() once 'hashed'. */
    struct oflow_data *data;    /* Its match and actions: shared,
                                 * reference-counted. */
    uint64_t cookie;

    /* Desired flows: the group that made it (ofp/desired.h), or NULL. */
    const void *group;

    /* Flows read from a switch: what it said (oflow_get_stats()), or NULL
     * if it said only zeros. */
    struct oflow_stats *stats;
    uint32_t duration_sec;      /* As the switch said at its last read. */

    uint16_t priority;
    uint8_t table_id;
    bool hashed;                /* False in a lookup key on the stack. */
};

struct oflow_table {
    struct hmap flows;          /* Contains "struct oflow"s. */
};

void oflow_table_init(struct oflow_table *);
void oflow_table_destroy(struct oflow_table *);
void oflow_table_clear(struct oflow_table *);
void oflow_table_swap(struct oflow_table *, struct oflow_table *);
size_t oflow_table_count(const struct oflow_table *);
size_t oflow_table_memory(const struct oflow_table *);

uint32_t oflow_hash(const struct oflow *);
bool oflow_same_identity(const struct oflow *, const struct oflow *);
struct oflow *oflow_table_find(const struct oflow_table *,
                               const struct oflow *key);
bool oflow_table_insert(struct oflow_table *, struct oflow *);
void oflow_table_remove(struct oflow_table *, struct oflow *);
void oflow_table_add_vformat(struct oflow_table *, uint64_t cookie,
                             const char *format, va_list)
    OVS_PRINTF_FORMAT(3, 0);
char *oflow_table_add_text(struct oflow_table *, uint64_t cookie,
                           const char *text);
char *oflow_table_add(struct oflow_table *, uint64_t cookie,
                      uint8_t table_id, uint16_t priority,
                      const struct match *, const struct ofpact *,
                      size_t ofpacts_len);

struct oflow *oflow_create(uint8_t table_id, uint16_t priority,
                           uint64_t cookie, const struct match *,
                           const struct ofpact *, size_t ofpacts_len);
struct oflow *oflow_clone(const struct oflow *);
struct ofpact *oflow_copy_actions(const struct ofpact *, size_t len);
void oflow_destroy(struct oflow *);
void oflow_copy(struct oflow *dst, const struct oflow *);
void oflow_uninit(struct oflow *);
bool oflow_same_actions(const struct oflow *, const struct oflow *);
const struct oflow_stats *oflow_get_stats(const struct oflow *);
void oflow_set_stats(struct oflow *, const struct oflow_stats *);
void oflow_format(const struct oflow *, bool stats, struct ds *);
void oflow_format_match(const struct oflow *, struct ds *);
void oflow_format_actions(const struct oflow *, struct ds *);
const struct oflow **oflow_table_sorted(const struct oflow_table *);

struct flow;
char *oflow_parse_packet(const char *text, struct flow *);
char *oflow_check_exact_packet(const char *text);

#define OFLOW_TABLE_FOR_EACH(FLOW, TABLE) \
    HMAP_FOR_EACH (FLOW, node, &(TABLE)->flows)
#define OFLOW_TABLE_FOR_EACH_SAFE(FLOW, TABLE) \
    HMAP_FOR_EACH_SAFE (FLOW, node, &(TABLE)->flows)

#endif /* ofp/oflow.h */
