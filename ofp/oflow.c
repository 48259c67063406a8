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

#include "ofp/oflow.h"

#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/ofp-actions.h>
#include <openvswitch/ofp-errors.h>
#include <openvswitch/ofp-flow.h>
#include <openvswitch/ofp-match.h>
#include <openvswitch/ofp-protocol.h>
#include <openvswitch/ofp-util.h>
#include <openvswitch/util.h>
#include <openvswitch/vlog.h>

#include "lib/util.h"

VLOG_DEFINE_THIS_MODULE(oflow);

void
oflow_table_init(struct oflow_table *t)
{
    hmap_init(&t->flows);
}

/* Frees every flow in 't' and 't''s own memory.  Accepts NULL. */
void
oflow_table_destroy(struct oflow_table *t)
{
    if (t) {
        oflow_table_clear(t);
        hmap_destroy(&t->flows);
    }
}

/* Removes and frees every flow in 't'. */
void
oflow_table_clear(struct oflow_table *t)
{
    struct oflow *f;

    OFLOW_TABLE_FOR_EACH_SAFE (f, t) {
        hmap_remove(&t->flows, &f->node);
        oflow_destroy(f);
    }
}

void
oflow_table_swap(struct oflow_table *a, struct oflow_table *b)
{
    hmap_swap(&a->flows, &b->flows);
}

size_t
oflow_table_count(const struct oflow_table *t)
{
    return hmap_count(&t->flows);
}

/* Every flow's match and actions ("struct oflow_data"), each held once. */
static struct hmap oflow_datas = HMAP_INITIALIZER(&oflow_datas);

/* The masks of the interned matches, each held once: an ACL's flows differ
 * in the values they match far more often than in the fields and bits.
 * 'values' is a "struct minimask" of 'size' bytes (its map, then its
 * words), which libopenvswitch does not define in its public headers. */
struct oflow_mask {
    struct hmap_node node;      /* In 'oflow_masks', by content. */
    unsigned int n_refs;
    unsigned int size;
    uint64_t values[];
};

static struct hmap oflow_masks = HMAP_INITIALIZER(&oflow_masks);

/* Removes 'node' from 'interned' (oflow_datas or oflow_masks), and frees
 * the buckets once the last node is gone: a table of a hundred thousand
 * flows, deleted, leaves no megabyte of them behind. */
static void
oflow_interned_remove(struct hmap *interned, struct hmap_node *node)
{
    hmap_remove(interned, node);
    if (hmap_is_empty(interned)) {
        hmap_destroy(interned);
        hmap_init(interned);
    }
}

/* Makes 'm', which minimatch_init() made, hold the interned copy of its
 * mask, and shrinks its block to its flow alone.
 *
 * minimatch_init() puts the flow and the mask in one block, the mask just
 * after the flow, and both of one size (the mask has the flow's map):
 * minimatch_hash() relies on it, and so the distance between the two is
 * the size of each.  Once shared, the match must no longer be given to
 * minimatch_hash() or minimatch_destroy(): see oflow_match_release(). */
static void
oflow_match_share_mask(struct minimatch *m)
{
    size_t size = (const char *) m->mask - (const char *) m->flow;
    ovs_assert(size > 0 && size <= 4096 && size % sizeof(uint64_t) == 0);

    uint32_t hash = iovp_hash_words64((const uint64_t *) m->mask,
                                      size / sizeof(uint64_t), 0);
    struct oflow_mask *om;

    HMAP_FOR_EACH_WITH_HASH (om, node, hash, &oflow_masks) {
        if (om->size == size && !memcmp(om->values, m->mask, size)) {
            goto found;
        }
    }
    om = iovp_xmalloc(sizeof *om + size);
    om->n_refs = 0;
    om->size = size;
    memcpy(om->values, m->mask, size);
    hmap_insert(&oflow_masks, &om->node, hash);

found:
    om->n_refs++;
    m->flow = iovp_xrealloc(m->flow, size);
    m->mask = (struct minimask *) om->values;
}

static struct oflow_mask *
oflow_mask_of(const struct minimatch *m)
{
    return CONTAINER_OF((const uint64_t *) m->mask, struct oflow_mask,
                        values);
}

/* Frees what 'm', a match that oflow_match_share_mask() made, holds. */
static void
oflow_match_release(struct minimatch *m)
{
    struct oflow_mask *om = oflow_mask_of(m);

    if (!--om->n_refs) {
        oflow_interned_remove(&oflow_masks, &om->node);
        free(om);
    }
    free(m->flow);
    free(m->tun_md);
}

/* Makes 'f' refer to the interned data of 'match' (stolen, as
 * minimatch_init() made it) and the 'ofpacts_len' bytes of 'ofpacts'
 * (stolen, their padding zeroed). */
static void
oflow_set_data(struct oflow *f, struct minimatch *match,
               struct ofpact *ofpacts, size_t ofpacts_len)
{
    uint32_t hash = minimatch_hash(match, iovp_hash_bytes64(ofpacts,
                                                            ofpacts_len, 0));
    struct oflow_data *data;

    f->node.hash = minimatch_hash(match, ((uint32_t) f->table_id << 16)
                                         | f->priority);
    f->hashed = true;

    ovs_assert(ofpacts_len <= UINT_MAX);
    HMAP_FOR_EACH_WITH_HASH (data, node, hash, &oflow_datas) {
        if (minimatch_equal(&data->match, match)
            && ofpacts_equal(data->ofpacts, data->ofpacts_len,
                             ofpacts, ofpacts_len)) {
            data->n_refs++;
            minimatch_destroy(match);
            free(ofpacts);
            f->data = data;
            return;
        }
    }
    data = iovp_xmalloc(sizeof *data);
    data->n_refs = 1;
    data->match = *match;
    oflow_match_share_mask(&data->match);
    data->ofpacts = ofpacts;
    data->ofpacts_len = ofpacts_len;
    hmap_insert(&oflow_datas, &data->node, hash);
    f->data = data;
}

/* Zeroes the bytes of the 'len' bytes of actions 'ofpacts' that carry no
 * meaning: the padding after each set_field's value and mask, which
 * libopenvswitch leaves as it finds it.  Actions are compared bytewise
 * (ofpacts_equal()), so padding must not differ, nor be undefined. */
static void
oflow_zero_padding(struct ofpact *ofpacts, size_t len)
{
    struct ofpact_set_field *sf;

    OFPACT_FOR_EACH_TYPE_FLATTENED (sf, SET_FIELD, ofpacts, len) {
        size_t n = sf->field->n_bytes;
        size_t room = (n + OFPACT_ALIGNTO - 1) / OFPACT_ALIGNTO
                      * OFPACT_ALIGNTO;
        memset((uint8_t *) sf->value + n, 0, room - n);
        memset((uint8_t *) ofpact_set_field_mask(sf) + n, 0, room - n);
    }
}

/* Returns a malloc()'d copy of the 'len' bytes of actions 'ofpacts', with
 * their padding zeroed. */
struct ofpact *
oflow_copy_actions(const struct ofpact *ofpacts, size_t len)
{
    struct ofpact *copy = iovp_xmemdup(ofpacts, len);

    oflow_zero_padding(copy, len);
    return copy;
}

/* The round trip through OXM that oflow_normalize_match() makes, with
 * nothing remembered. */
static enum ofperr
oflow_oxm_round_trip(struct match *match)
{
    uint64_t stub[1024 / 8];
    struct ofpbuf b = OFPBUF_STUB_INITIALIZER(stub);
    struct match decoded;

    ofputil_put_ofp11_match(&b, match, OFPUTIL_P_OF15_OXM);
    enum ofperr error = ofputil_pull_ofp11_match(&b, NULL, NULL, &decoded,
                                                 NULL);
    if (!error) {
        *match = decoded;
    }
    ofpbuf_uninit(&b);
    return error;
}

/* A match's flow and mask, without the values of its plain fields
 * (oflow_shape_key()): its shape.  (Not a struct match: its tunnel
 * metadata's allocation, unused without tunnel metadata, is left
 * uninitialized by match_init_catchall().) */
struct oflow_shape_key {
    struct flow flow;
    struct flow_wildcards wc;
};

/* A shape of match that is in the switch's form already, whatever the
 * values of its plain fields. */
struct oflow_shape {
    struct hmap_node node;
    struct oflow_shape_key key;
};

/* The shapes found so far, at most OFLOW_MAX_SHAPES: a policy has few (an
 * ACL of 100,000 entries that differ in addresses and ports, one), and a
 * controller that writes odd rows cannot make this grow without bound. */
#define OFLOW_MAX_SHAPES 1024
static struct hmap oflow_shapes = HMAP_INITIALIZER(&oflow_shapes);

/* Returns true if the 'n' bytes at 'value' have no bit set outside those
 * of the 'n' bytes at 'mask'. */
static bool
oflow_within_mask(const void *value_, const void *mask_, size_t n)
{
    const uint8_t *value = value_;
    const uint8_t *mask = mask_;

    for (size_t i = 0; i < n; i++) {
        if (value[i] & ~mask[i]) {
            return false;
        }
    }
    return true;
}

/* Sets 'key' to 'match' without the values of its plain fields: those
 * that OXM carries as they are, value and arbitrary mask, and that it
 * decodes into the same value and mask, so that whether their values
 * survive the round trip depends on their masks and the other fields
 * alone.  They are the registers and metadata (which hold iovpd's ACL and
 * port ids), the Ethernet addresses, the IP addresses under their
 * EtherType, and the TCP, UDP and SCTP ports (not ICMP's type and code,
 * which share their place, and are 8 bits).  Returns false if a plain
 * field has bits outside its mask (OXM refuses them), or 'match' has
 * tunnel metadata: it then has no shape to remember. */
static bool
oflow_shape_key(const struct match *match, struct oflow_shape_key *key)
{
    const struct flow *f = &match->flow;
    const struct flow *mask = &match->wc.masks;
    bool ipv4 = f->dl_type == htons(0x0800);
    bool arp = f->dl_type == htons(0x0806);
    bool ipv6 = f->dl_type == htons(0x86dd);
    bool ports = ((ipv4 || ipv6)
                  && (f->nw_proto == IPPROTO_TCP || f->nw_proto == IPPROTO_UDP
                      || f->nw_proto == IPPROTO_SCTP));

    if (match->tun_md.valid) {
        /* Tunnel metadata, which OXM carries as the allocation says. */
        return false;
    }
    memset(key, 0, sizeof *key);
    key->flow = match->flow;
    key->wc = match->wc;
    if (!oflow_within_mask(&f->dl_src, &mask->dl_src, sizeof f->dl_src)
        || !oflow_within_mask(&f->dl_dst, &mask->dl_dst, sizeof f->dl_dst)) {
        return false;
    }
    memset(&key->flow.dl_src, 0, sizeof key->flow.dl_src);
    memset(&key->flow.dl_dst, 0, sizeof key->flow.dl_dst);
    if (!oflow_within_mask(f->regs, mask->regs, sizeof f->regs)
        || !oflow_within_mask(&f->metadata, &mask->metadata,
                              sizeof f->metadata)) {
        return false;
    }
    memset(key->flow.regs, 0, sizeof key->flow.regs);
    key->flow.metadata = 0;
    if (ipv4 || arp) {
        if (!oflow_within_mask(&f->nw_src, &mask->nw_src, sizeof f->nw_src)
            || !oflow_within_mask(&f->nw_dst, &mask->nw_dst,
                                  sizeof f->nw_dst)) {
            return false;
        }
        key->flow.nw_src = key->flow.nw_dst = 0;
    }
    if (ipv6) {
        if (!oflow_within_mask(&f->ipv6_src, &mask->ipv6_src,
                               sizeof f->ipv6_src)
            || !oflow_within_mask(&f->ipv6_dst, &mask->ipv6_dst,
                                  sizeof f->ipv6_dst)) {
            return false;
        }
        memset(&key->flow.ipv6_src, 0, sizeof key->flow.ipv6_src);
        memset(&key->flow.ipv6_dst, 0, sizeof key->flow.ipv6_dst);
    }
    if (ports) {
        if (!oflow_within_mask(&f->tp_src, &mask->tp_src, sizeof f->tp_src)
            || !oflow_within_mask(&f->tp_dst, &mask->tp_dst,
                                  sizeof f->tp_dst)) {
            return false;
        }
        key->flow.tp_src = key->flow.tp_dst = 0;
    }
    return true;
}

static uint32_t
oflow_shape_hash(const struct oflow_shape_key *key)
{
    BUILD_ASSERT_DECL(sizeof *key % sizeof(uint64_t) == 0);
    return iovp_hash_words64((const uint64_t *) key,
                             sizeof *key / sizeof(uint64_t), 0);
}

static bool
oflow_shape_known(const struct oflow_shape_key *key, uint32_t hash)
{
    const struct oflow_shape *shape;

    HMAP_FOR_EACH_WITH_HASH (shape, node, hash, &oflow_shapes) {
        if (!memcmp(&shape->key, key, sizeof *key)) {
            return true;
        }
    }
    return false;
}

/* Puts 'match' into the form in which the switch reports it back: what
 * OXM, the encoding of every match between iovpd and the switch (OpenFlow
 * 1.3 to 1.5 alike), makes of it.  Returns 0, or a positive OpenFlow error
 * (and leaves 'match' as it was) if it has no such form.
 *
 * A flow's identity includes its match bit for bit (minimatch_equal()), so
 * a desired flow must hold its match in the switch's form, or the flow
 * that the switch holds for it is not recognised as its own: ovs-ofctl's
 * parser, for one, gives "nw_frag=yes" the mask 0xfd (it sets the bits
 * outside the field, so that a mask can look exact), which OXM carries as
 * 0x01.  The two print alike; they do not compare alike.
 *
 * The round trip took half of the time of translating 100,000 ACL
 * entries, whose matches have one shape and differ in their plain fields'
 * values (oflow_shape_key()).  A match whose shape came through the round
 * trip unchanged once is in the switch's form already, and is taken as it
 * is. */
static enum ofperr
oflow_normalize_match(struct match *match)
{
    struct oflow_shape_key key;
    bool keyed = oflow_shape_key(match, &key);
    uint32_t hash = keyed ? oflow_shape_hash(&key) : 0;

    if (keyed && oflow_shape_known(&key, hash)) {
        return 0;
    }

    struct match original = *match;
    enum ofperr error = oflow_oxm_round_trip(match);
    if (!error && keyed && match_equal(match, &original)
        && hmap_count(&oflow_shapes) < OFLOW_MAX_SHAPES) {
        struct oflow_shape *shape = iovp_xmalloc(sizeof *shape);
        shape->key = key;
        hmap_insert(&oflow_shapes, &shape->node, hash);
    }
    return error;
}

/* Returns a hash of 'f''s identity (table, priority, match).  'f' is a
 * flow with interned data, or a lookup key whose match minimatch_init()
 * made. */
uint32_t
oflow_hash(const struct oflow *f)
{
    return (f->hashed ? f->node.hash
            : minimatch_hash(&f->data->match, ((uint32_t) f->table_id << 16)
                             | f->priority));
}

/* Returns the flow in 't' with the identity (table, priority, match) of
 * 'key', or NULL. */
struct oflow *
oflow_table_find(const struct oflow_table *t, const struct oflow *key)
{
    struct oflow *f;

    HMAP_FOR_EACH_WITH_HASH (f, node, oflow_hash(key), &t->flows) {
        if (oflow_same_identity(f, key)) {
            return f;
        }
    }
    return NULL;
}

/* Returns true if 'a' and 'b' have one identity: table, priority and
 * match. */
bool
oflow_same_identity(const struct oflow *a, const struct oflow *b)
{
    return (a->table_id == b->table_id && a->priority == b->priority
            && minimatch_equal(&a->data->match, &b->data->match));
}

/* Inserts 'f' into 't', which takes ownership, and returns true; or, if 't'
 * already has a flow of the same identity, returns false and leaves 'f' to
 * the caller. */
bool
oflow_table_insert(struct oflow_table *t, struct oflow *f)
{
    if (oflow_table_find(t, f)) {
        return false;
    }
    hmap_insert(&t->flows, &f->node, oflow_hash(f));
    return true;
}

/* Removes 'f' from 't', without freeing it. */
void
oflow_table_remove(struct oflow_table *t, struct oflow *f)
{
    hmap_remove(&t->flows, &f->node);
}

/* Parses 'text', a flow in ovs-ofctl's syntax ("table=10, priority=100,
 * ip,nw_src=10.0.0.1 actions=goto_table:20"), and adds it to 't' with
 * 'cookie'.  Returns NULL, or a malloc()'d error message (and adds nothing)
 * if 'text' does not parse or 't' has a different flow of its identity.  A
 * flow identical to one 't' holds is taken as already there. */
char *
oflow_table_add_text(struct oflow_table *t, uint64_t cookie,
                     const char *text)
{
    struct ofputil_flow_mod fm;
    enum ofputil_protocol usable;

    char *error = parse_ofp_str(&fm, OFPFC_ADD, text, NULL, NULL, &usable);
    if (error) {
        char *msg = iovp_xasprintf("%s: %s", text, error);
        free(error);
        return msg;
    }

    struct match match;
    minimatch_expand(&fm.match, &match);
    minimatch_destroy(&fm.match);
    enum ofperr oferr = oflow_normalize_match(&match);
    if (oferr) {
        free(fm.ofpacts);
        return iovp_xasprintf("%s: OpenFlow cannot carry its match (%s)",
                              text, ofperr_to_string(oferr));
    }
    struct minimatch mm;
    minimatch_init(&mm, &match);

    struct oflow *f = iovp_xzalloc(sizeof *f);
    f->table_id = fm.table_id == 0xff ? 0 : fm.table_id;
    f->priority = fm.priority;
    f->cookie = cookie;
    oflow_zero_padding(fm.ofpacts, fm.ofpacts_len);
    oflow_set_data(f, &mm, fm.ofpacts, fm.ofpacts_len);  /* Steals. */

    if (!oflow_table_insert(t, f)) {
        struct oflow *old = oflow_table_find(t, f);
        bool same = old->cookie == f->cookie && oflow_same_actions(old, f);
        oflow_destroy(f);
        return same ? NULL : iovp_xasprintf("%s: conflicts with a flow "
                                            "of the same match", text);
    }
    return NULL;
}

/* Adds to 't' the flow with 'cookie', 'table_id', 'priority', 'match' (in
 * the switch's form, oflow_normalize_match()) and the 'ofpacts_len' bytes
 * of actions 'ofpacts' (all copied), the way oflow_table_add_text() adds
 * one it parsed: returns NULL, or a malloc()'d error message if 't' has a
 * different flow of its identity or OpenFlow cannot carry 'match'. */
char *
oflow_table_add(struct oflow_table *t, uint64_t cookie, uint8_t table_id,
                uint16_t priority, const struct match *match,
                const struct ofpact *ofpacts, size_t ofpacts_len)
{
    struct match normal = *match;
    enum ofperr oferr = oflow_normalize_match(&normal);
    if (oferr) {
        return iovp_xasprintf("OpenFlow cannot carry a match (%s)",
                              ofperr_to_string(oferr));
    }

    struct oflow *f = oflow_create(table_id, priority, cookie, &normal,
                                   ofpacts, ofpacts_len);

    if (!oflow_table_insert(t, f)) {
        struct oflow *old = oflow_table_find(t, f);
        bool same = old->cookie == f->cookie && oflow_same_actions(old, f);
        char *error = NULL;
        if (!same) {
            struct ds s = DS_EMPTY_INITIALIZER;
            oflow_format(f, false, &s);
            error = iovp_xasprintf("%s: conflicts with a flow of the same "
                                   "match", ds_cstr(&s));
            ds_destroy(&s);
        }
        oflow_destroy(f);
        return error;
    }
    return NULL;
}

/* Returns a new flow, in no table, with 'table_id', 'priority', 'cookie',
 * 'match' and the 'ofpacts_len' bytes of actions 'ofpacts' (all copied).
 * 'match' is taken as it is: one that the switch reported is in its own
 * form already; one that iovpd builds goes in through oflow_table_add(),
 * which puts it in that form. */
struct oflow *
oflow_create(uint8_t table_id, uint16_t priority, uint64_t cookie,
             const struct match *match, const struct ofpact *ofpacts,
             size_t ofpacts_len)
{
    struct oflow *f = iovp_xzalloc(sizeof *f);
    struct minimatch mm;

    f->table_id = table_id;
    f->priority = priority;
    f->cookie = cookie;
    minimatch_init(&mm, match);
    oflow_set_data(f, &mm, oflow_copy_actions(ofpacts, ofpacts_len),
                   ofpacts_len);
    return f;
}

/* Returns a copy of 'f', counters included, in no table, that shares its
 * match and actions. */
struct oflow *
oflow_clone(const struct oflow *f)
{
    struct oflow *c = iovp_xmalloc(sizeof *c);

    oflow_copy(c, f);
    return c;
}

/* Makes '*dst' (memory that the caller owns) a copy of 'f', as
 * oflow_clone() makes one, to be released with oflow_uninit(). */
void
oflow_copy(struct oflow *dst, const struct oflow *f)
{
    *dst = *f;
    dst->group = NULL;
    dst->stats = f->stats ? iovp_xmemdup(f->stats, sizeof *f->stats) : NULL;
    dst->data->n_refs++;
}

/* Releases what 'f', a copy that oflow_copy() made, holds, but not 'f'
 * itself. */
void
oflow_uninit(struct oflow *f)
{
    struct oflow_data *data = f->data;

    free(f->stats);
    if (!--data->n_refs) {
        oflow_interned_remove(&oflow_datas, &data->node);
        oflow_match_release(&data->match);
        free(data->ofpacts);
        free(data);
    }
}

/* Frees 'f', which is in no table.  Accepts NULL. */
void
oflow_destroy(struct oflow *f)
{
    if (f) {
        oflow_uninit(f);
        free(f);
    }
}

/* Returns the bytes of heap that the flows of 'table' take: each flow, and
 * its share of the match and actions that it shares with its copies (the
 * whole of them when it has none).  See iovp_malloc_size(). */
size_t
oflow_table_memory(const struct oflow_table *table)
{
    size_t n = (table->flows.mask + 1) * sizeof *table->flows.buckets;
    const struct oflow *f;

    OFLOW_TABLE_FOR_EACH (f, table) {
        const struct oflow_data *d = f->data;
        const struct oflow_mask *om = oflow_mask_of(&d->match);

        n += iovp_malloc_size(f) + iovp_malloc_size(f->stats);
        n += (iovp_malloc_size(d) + iovp_malloc_size(d->match.flow)
              + iovp_malloc_size(d->match.tun_md)
              + iovp_malloc_size(d->ofpacts)
              + iovp_malloc_size(om) / om->n_refs) / d->n_refs;
    }
    return n;
}

/* Returns what the switch said of 'f' (all zeros for a desired flow). */
const struct oflow_stats *
oflow_get_stats(const struct oflow *f)
{
    static const struct oflow_stats zeros;

    return f->stats ? f->stats : &zeros;
}

/* Makes 'stats' (NULL: zeros) what the switch said of 'f'. */
void
oflow_set_stats(struct oflow *f, const struct oflow_stats *stats)
{
    if (!stats || (!stats->n_packets && !stats->n_bytes
                   && !stats->idle_timeout && !stats->hard_timeout)) {
        free(f->stats);
        f->stats = NULL;
    } else {
        if (!f->stats) {
            f->stats = iovp_xmalloc(sizeof *f->stats);
        }
        *f->stats = *stats;
    }
}

/* Returns true if 'a' and 'b' have the same cookie and actions.  Actions
 * that differ in their binary form but mean the same (a set_field that the
 * switch returns with an explicit mask, say) count as the same: they are
 * compared as ovs-ofctl would write them. */
bool
oflow_same_actions(const struct oflow *a, const struct oflow *b)
{
    return (a->cookie == b->cookie
            && (ofpacts_equal(a->data->ofpacts, a->data->ofpacts_len,
                              b->data->ofpacts, b->data->ofpacts_len)
                || ofpacts_equal_stringwise(a->data->ofpacts,
                                            a->data->ofpacts_len,
                                            b->data->ofpacts,
                                            b->data->ofpacts_len)));
}

/* Appends 'f''s match, as ovs-ofctl writes it, to 's'. */
void
oflow_format_match(const struct oflow *f, struct ds *s)
{
    size_t start = s->length;

    minimatch_format(&f->data->match, NULL, NULL, s, OFP_DEFAULT_PRIORITY);
    if (s->length == start) {
        ds_put_cstr(s, "*");
    }
}

/* Appends 'f''s actions, as ovs-ofctl writes them, to 's'. */
void
oflow_format_actions(const struct oflow *f, struct ds *s)
{
    struct ofpact_format_params fp = { .s = s };

    if (f->data->ofpacts_len) {
        ofpacts_format(f->data->ofpacts, f->data->ofpacts_len, &fp);
    } else {
        ds_put_cstr(s, "drop");
    }
}

/* Appends 'f' to 's' as "ovs-ofctl dump-flows" prints a flow, with its
 * counters if 'stats' (and without the durations, which ofctrl does not
 * keep current). */
void
oflow_format(const struct oflow *f, bool stats, struct ds *s)
{
    const struct oflow_stats *st = oflow_get_stats(f);

    ds_put_format(s, "cookie=%#"PRIx64", ", f->cookie);
    if (stats) {
        ds_put_format(s, "duration=%"PRIu32"s, ", f->duration_sec);
    }
    ds_put_format(s, "table=%"PRIu8", ", f->table_id);
    if (stats) {
        ds_put_format(s, "n_packets=%"PRIu64", n_bytes=%"PRIu64", ",
                      st->n_packets, st->n_bytes);
    }
    ds_put_format(s, "priority=%"PRIu16, f->priority);
    struct ds match = DS_EMPTY_INITIALIZER;
    minimatch_format(&f->data->match, NULL, NULL, &match,
                     OFP_DEFAULT_PRIORITY);
    if (match.length) {
        ds_put_format(s, ",%s", ds_cstr(&match));
    }
    ds_destroy(&match);
    ds_put_cstr(s, " actions=");
    oflow_format_actions(f, s);
}

static int
oflow_compare(const void *a_, const void *b_)
{
    const struct oflow *a = *(const struct oflow **) a_;
    const struct oflow *b = *(const struct oflow **) b_;

    if (a->table_id != b->table_id) {
        return a->table_id < b->table_id ? -1 : 1;
    }
    if (a->priority != b->priority) {
        return a->priority > b->priority ? -1 : 1;
    }

    struct ds sa = DS_EMPTY_INITIALIZER, sb = DS_EMPTY_INITIALIZER;
    oflow_format(a, false, &sa);
    oflow_format(b, false, &sb);
    int cmp = strcmp(ds_cstr(&sa), ds_cstr(&sb));
    ds_destroy(&sa);
    ds_destroy(&sb);
    return cmp;
}

/* Returns a malloc()'d array of the flows of 't', in the order ovs-ofctl's
 * "--sort" would not quite use but a reader expects: by table, then by
 * descending priority, then by text.  The caller frees the array, not the
 * flows. */
const struct oflow **
oflow_table_sorted(const struct oflow_table *t)
{
    size_t n = oflow_table_count(t);
    const struct oflow **flows = iovp_xmalloc(MAX(1, n) * sizeof *flows);
    const struct oflow *f;
    size_t i = 0;

    OFLOW_TABLE_FOR_EACH (f, t) {
        flows[i++] = f;
    }
    qsort(flows, n, sizeof *flows, oflow_compare);
    return flows;
}

/* Parses 'text', a packet's fields in ovs-ofctl's flow syntax
 * ("tcp,nw_src=10.0.0.1,tp_dst=22"), into '*packet': the fields it gives,
 * every other field zero.  Returns NULL, or a malloc()'d error message. */
char *
oflow_parse_packet(const char *text, struct flow *packet)
{
    struct ofputil_flow_mod fm;
    enum ofputil_protocol usable;

    if (strstr(text, "actions")) {
        return iovp_xstrdup("a packet has no actions");
    }
    char *s = iovp_xasprintf("%s actions=drop", text);
    char *error = parse_ofp_str(&fm, OFPFC_ADD, s, NULL, NULL, &usable);
    free(s);
    if (error) {
        return error;
    }

    struct match match;
    minimatch_expand(&fm.match, &match);
    *packet = match.flow;
    minimatch_destroy(&fm.match);
    free(fm.ofpacts);
    return NULL;
}

/* Returns NULL if 'text' is a packet as OVS's ofproto/trace reads it, with
 * parse_ofp_exact_flow(): each field and the Ethernet type set once, each
 * after its prerequisites (so "ipv6,tcp", which sets the Ethernet type
 * twice, is not one, although a flow match may say it).  Otherwise returns
 * why not, malloc()'d, without repeating 'text'. */
char *
oflow_check_exact_packet(const char *text)
{
    struct flow flow;
    char *error = parse_ofp_exact_flow(&flow, NULL, NULL, text, NULL);

    if (error) {
        /* OVS's message starts with 'text' and ": ". */
        size_t n = strlen(text);
        if (!strncmp(error, text, n) && !strncmp(error + n, ": ", 2)) {
            memmove(error, error + n + 2, strlen(error + n + 2) + 1);
        }
    }
    return error;
}

/* Adds to 't' the flow that 'format' (printf()'s, with 'args') gives in
 * ovs-ofctl's syntax, with 'cookie', as oflow_table_add_text() does; a
 * flow that does not parse or that conflicts with one 't' holds is logged
 * (a bug of the caller's, who made the text) and left out. */
void
oflow_table_add_vformat(struct oflow_table *t, uint64_t cookie,
                        const char *format, va_list args)
{
    static struct vlog_rate_limit add_rl = VLOG_RATE_LIMIT_INIT(5, 20);
    char *text = iovp_xvasprintf(format, args);
    char *error = oflow_table_add_text(t, cookie, text);

    if (error) {
        VLOG_WARN_RL(&add_rl, "%s", error);
        free(error);
    }
    free(text);
}
