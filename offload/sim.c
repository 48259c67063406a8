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

/* The "sim" backend: a model NIC, in the process, for testing the planner
 * and the fallback to OVS deterministically.
 *
 * Its tables work by tuple-space search (offload/fastpath.h): one hash
 * table per tuple, on the tuple's mask, whose buckets hold the entries of
 * that tuple, each checked in full, the highest priority of the matches
 * winning; with limits and faults set by options, "sim:KEY=VALUE,...":
 *
 *   entries=N       entries per port (default 1024)
 *   masks=N         tuples per port (default 32)
 *   bucket=N        entries per bucket (default 1: each tuple's mask is
 *                   its entries' own, as in the xdp backend)
 *   fields=F+F...   the fields a mask may have (default all of them:
 *                   dl_dst, dl_src, vlan_tci, dl_type, nw_src, nw_dst,
 *                   nw_proto, tcp_flags, tp_src, tp_dst)
 *   fates=F+F...    drop, forward: the final fates it gives (default both)
 *   latency=MS      each put takes MS milliseconds longer
 *   fail-every=N    every Nth put fails (-EIO), taking nothing
 *   full-at=N       a put fails (-ENOSPC) once a port holds N entries,
 *                   although the capabilities say more
 *   gone=1          the NIC has disappeared: every call fails (-ENODEV),
 *                   and its tables are empty
 *
 * offload_sim_configure() changes them while it runs.  As the xdp
 * backend's, its entries count only the frames it receives as real traffic
 * (offload_sim_receive(), for tests), never those of a test run
 * (classify()). */

#include <config.h>

#include "offload/sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/hmap.h>
#include <openvswitch/vlog.h>

#include "lib/util.h"

VLOG_DEFINE_THIS_MODULE(offload_sim);

#define SIM_MAX_MASKS 4096

struct sim_tuple {
    struct fp_key mask;
    size_t n_entries;
    struct hmap entries;        /* "struct sim_entry"s by their values
                                 * masked by 'mask': its buckets. */
};

struct sim_entry {
    struct hmap_node id_node;   /* In 'port->by_id'. */
    struct hmap_node node;      /* In 'tuple->entries'. */
    struct sim_tuple *tuple;
    struct fp_entry e;
    uint64_t n_packets, n_bytes;
};

struct sim_port {
    struct hmap_node node;      /* In 'sim->ports', by name. */
    char *name;
    struct hmap by_id;          /* "struct sim_entry"s by id. */
    struct sim_tuple **tuples;
    size_t n_tuples;
};

struct sim {
    struct offload up;
    struct hmap ports;          /* "struct sim_port"s. */
    struct offload_caps caps;
    unsigned int latency_ms;
    unsigned int fail_every;
    unsigned int n_puts;
    size_t full_at;
    bool gone;
};

static struct sim *
sim_cast(const struct offload *o)
{
    ovs_assert(o->class == &offload_sim_class);
    return CONTAINER_OF(o, struct sim, up);
}

/* The fields of 'struct fp_key', by name, for "fields=". */
static const struct {
    const char *name;
    size_t ofs, len;
} sim_fields[] = {
#define SIM_FIELD(NAME) \
    { #NAME, offsetof(struct fp_key, NAME), \
      sizeof ((struct fp_key *) 0)->NAME }
    SIM_FIELD(dl_dst), SIM_FIELD(dl_src), SIM_FIELD(vlan_tci),
    SIM_FIELD(dl_type), SIM_FIELD(nw_src), SIM_FIELD(nw_dst),
    SIM_FIELD(nw_proto), SIM_FIELD(tcp_flags), SIM_FIELD(tp_src),
    SIM_FIELD(tp_dst),
#undef SIM_FIELD
};

static char *
sim_parse_list(const char *value, struct sim *sim, bool fields)
{
    char *copy = iovp_xstrdup(value), *save = NULL, *error = NULL;

    if (fields) {
        memset(&sim->caps.fields, 0, sizeof sim->caps.fields);
    } else {
        sim->caps.drop = sim->caps.forward = false;
    }
    for (char *t = strtok_r(copy, "+", &save); t && !error;
         t = strtok_r(NULL, "+", &save)) {
        bool found = false;
        if (fields) {
            for (size_t i = 0; i < IOVP_ARRAY_SIZE(sim_fields); i++) {
                if (!strcmp(t, sim_fields[i].name)) {
                    memset((uint8_t *) &sim->caps.fields + sim_fields[i].ofs,
                           0xff, sim_fields[i].len);
                    found = true;
                }
            }
        } else if (!strcmp(t, "drop")) {
            sim->caps.drop = found = true;
        } else if (!strcmp(t, "forward")) {
            sim->caps.forward = found = true;
        }
        if (!found) {
            error = iovp_xasprintf("%s: unknown %s", t,
                                   fields ? "field" : "fate");
        }
    }
    free(copy);
    return error;
}

static char *
sim_parse_number(const char *key, const char *value, unsigned long max,
                 unsigned long *n)
{
    char *end;

    *n = strtoul(value, &end, 10);
    if (!*value || *end || *n > max) {
        return iovp_xasprintf("%s=%s: not a number from 0 to %lu", key,
                              value, max);
    }
    return NULL;
}

/* Applies 'options' to 'sim'.  Returns NULL, or a malloc()'d error (with
 * 'sim' changed by the options before the bad one). */
static char *
sim_configure(struct sim *sim, const char *options)
{
    char *copy = iovp_xstrdup(options), *save = NULL, *error = NULL;

    for (char *opt = strtok_r(copy, ",", &save); opt && !error;
         opt = strtok_r(NULL, ",", &save)) {
        char *value = strchr(opt, '=');
        unsigned long n = 0;
        if (!value) {
            error = iovp_xasprintf("%s: option without a value", opt);
            break;
        }
        *value++ = '\0';
        if (!strcmp(opt, "fields")) {
            error = sim_parse_list(value, sim, true);
        } else if (!strcmp(opt, "fates")) {
            error = sim_parse_list(value, sim, false);
        } else if (!strcmp(opt, "entries")) {
            error = sim_parse_number(opt, value, 1 << 24, &n);
            sim->caps.max_entries = n;
        } else if (!strcmp(opt, "masks")) {
            error = sim_parse_number(opt, value, SIM_MAX_MASKS, &n);
            sim->caps.max_masks = n;
        } else if (!strcmp(opt, "bucket")) {
            error = sim_parse_number(opt, value, 64, &n);
            sim->caps.bucket_size = MAX(n, 1);
        } else if (!strcmp(opt, "latency")) {
            error = sim_parse_number(opt, value, 10000, &n);
            sim->latency_ms = n;
        } else if (!strcmp(opt, "fail-every")) {
            error = sim_parse_number(opt, value, UINT32_MAX, &n);
            sim->fail_every = n;
            sim->n_puts = 0;
        } else if (!strcmp(opt, "full-at")) {
            error = sim_parse_number(opt, value, SIZE_MAX, &n);
            sim->full_at = n;
        } else if (!strcmp(opt, "gone")) {
            error = sim_parse_number(opt, value, 1, &n);
            sim->gone = n;
        } else {
            error = iovp_xasprintf("%s: unknown option of the sim backend",
                                   opt);
        }
    }
    free(copy);
    return error;
}

static void sim_port_destroy(struct sim *, struct sim_port *);

/* Changes the options of 'o', a sim backend, to 'options' (see the top of
 * this file): how tests inject faults while it runs.  Returns NULL if
 * successful, otherwise a malloc()'d error message for the caller to free
 * (with 'o' changed by the options before the bad one). */
char *
offload_sim_configure(struct offload *o, const char *options)
{
    struct sim *sim = sim_cast(o);
    char *error = sim_configure(sim, options);

    if (sim->gone) {
        struct sim_port *port;
        HMAP_FOR_EACH_SAFE (port, node, &sim->ports) {
            sim_port_destroy(sim, port);
        }
    }
    return error;
}

/* The sim backend's open() (see offload_class). */
static char *
sim_open(const char *options, struct offload **op)
{
    struct sim *sim = iovp_xzalloc(sizeof *sim);

    sim->up.class = &offload_sim_class;
    hmap_init(&sim->ports);
    sim->caps.max_entries = 1024;
    sim->caps.max_masks = 32;
    sim->caps.bucket_size = 1;
    memset(&sim->caps.fields, 0xff, sizeof sim->caps.fields);
    sim->caps.fields.pad = 0;
    sim->caps.drop = sim->caps.forward = true;

    char *error = sim_configure(sim, options);
    if (error) {
        sim->up.class->close(&sim->up);
        *op = NULL;
        return error;
    }
    *op = &sim->up;
    return NULL;
}

static void
sim_close(struct offload *o)
{
    struct sim *sim = sim_cast(o);
    struct sim_port *port;

    HMAP_FOR_EACH_SAFE (port, node, &sim->ports) {
        sim_port_destroy(sim, port);
    }
    hmap_destroy(&sim->ports);
    free(sim);
}

static void
sim_capabilities(const struct offload *o, struct offload_caps *caps)
{
    *caps = sim_cast(o)->caps;
}

static struct sim_port *
sim_find_port(const struct sim *sim, const char *name)
{
    struct sim_port *port;

    HMAP_FOR_EACH_WITH_HASH (port, node, iovp_hash_string64(name),
                             &sim->ports) {
        if (!strcmp(port->name, name)) {
            return port;
        }
    }
    return NULL;
}

static struct sim_entry *
sim_find_entry(const struct sim_port *port, uint32_t id)
{
    struct sim_entry *se;

    HMAP_FOR_EACH_WITH_HASH (se, id_node, id, &port->by_id) {
        if (se->e.id == id) {
            return se;
        }
    }
    return NULL;
}

/* Returns the hash of the bucket of tuple mask 'mask' that an entry of
 * value 'value', or a key, falls in, and stores its masked value in
 * '*masked'. */
static uint32_t
sim_bucket_hash(const struct fp_key *value, const struct fp_key *mask,
                struct fp_key *masked)
{
    fp_key_and(value, mask, masked);
    return fp_key_hash(masked, 0);
}

/* Returns the entry of 'port' with match 'm', or NULL. */
static struct sim_entry *
sim_find_match(const struct sim_port *port, const struct fp_match *m)
{
    for (size_t i = 0; i < port->n_tuples; i++) {
        const struct sim_tuple *t = port->tuples[i];
        struct fp_key masked;
        struct sim_entry *se;
        if (!fp_key_is_subset(&t->mask, &m->mask)) {
            continue;
        }
        HMAP_FOR_EACH_WITH_HASH (se, node,
                                 sim_bucket_hash(&m->value, &t->mask,
                                                 &masked),
                                 &t->entries) {
            if (fp_match_equal(&se->e.match, m)) {
                return se;
            }
        }
    }
    return NULL;
}

static struct sim_tuple *
sim_find_tuple(const struct sim_port *port, const struct fp_key *mask)
{
    for (size_t i = 0; i < port->n_tuples; i++) {
        if (fp_key_equal(&port->tuples[i]->mask, mask)) {
            return port->tuples[i];
        }
    }
    return NULL;
}

/* Returns how many entries of 'port' the bucket of entry 'e' holds, but
 * for those of the 'n' entries 'batch' replace (by id or by match). */
static size_t
sim_bucket_count(const struct sim_port *port, const struct fp_entry *e,
                 const struct fp_entry *batch, size_t n)
{
    const struct sim_tuple *t = sim_find_tuple(port, &e->tuple);
    struct fp_key key, masked;
    struct sim_entry *se;
    size_t count = 0;

    if (!t) {
        return 0;
    }
    HMAP_FOR_EACH_WITH_HASH (se, node,
                             sim_bucket_hash(&e->match.value, &t->mask, &key),
                             &t->entries) {
        fp_key_and(&se->e.match.value, &t->mask, &masked);
        bool replaced = !fp_key_equal(&masked, &key);
        for (size_t i = 0; i < n && !replaced; i++) {
            replaced = (batch[i].id == se->e.id
                        || fp_match_equal(&batch[i].match, &se->e.match));
        }
        count += !replaced;
    }
    return count;
}

static void
sim_remove_entry(struct sim_port *port, struct sim_entry *se)
{
    struct sim_tuple *t = se->tuple;

    hmap_remove(&port->by_id, &se->id_node);
    hmap_remove(&t->entries, &se->node);
    free(se);
    if (!--t->n_entries) {
        for (size_t i = 0; i < port->n_tuples; i++) {
            if (port->tuples[i] == t) {
                port->tuples[i] = port->tuples[--port->n_tuples];
                break;
            }
        }
        hmap_destroy(&t->entries);
        free(t);
    }
}

static void
sim_port_destroy(struct sim *sim, struct sim_port *port)
{
    struct sim_entry *se;

    HMAP_FOR_EACH_SAFE (se, id_node, &port->by_id) {
        sim_remove_entry(port, se);
    }
    hmap_destroy(&port->by_id);
    hmap_remove(&sim->ports, &port->node);
    free(port->tuples);
    free(port->name);
    free(port);
}

/* Returns 0 if 'sim' can hold 'e' at all, else the error to give. */
static int
sim_check_entry(const struct sim *sim, const struct fp_entry *e)
{
    const uint8_t *mask = (const uint8_t *) &e->match.mask;
    const uint8_t *fields = (const uint8_t *) &sim->caps.fields;

    for (size_t i = 0; i < sizeof e->match.mask; i++) {
        if (mask[i] & ~fields[i]) {
            return -EOPNOTSUPP;
        }
    }
    if ((e->fate == FP_DROP && !sim->caps.drop)
        || (e->fate == FP_FORWARD && !sim->caps.forward)) {
        return -EOPNOTSUPP;
    }
    if (sim->caps.bucket_size > 1
        ? !fp_key_is_subset(&e->tuple, &e->match.mask)
        : !fp_key_equal(&e->tuple, &e->match.mask)) {
        return -EINVAL;         /* Not a tuple this entry can be in. */
    }
    return 0;
}

static void
sim_sleep(unsigned int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) && errno == EINTR) {
        continue;
    }
}

static int
sim_put(struct offload *o, const char *name, const struct fp_entry *entries,
        size_t n)
{
    struct sim *sim = sim_cast(o);

    if (sim->gone) {
        return -ENODEV;
    }
    if (sim->latency_ms) {
        sim_sleep(sim->latency_ms);
    }
    if (sim->fail_every && ++sim->n_puts % sim->fail_every == 0) {
        return -EIO;
    }

    struct sim_port *port = sim_find_port(sim, name);
    if (!port) {
        port = iovp_xzalloc(sizeof *port);
        port->name = iovp_xstrdup(name);
        hmap_init(&port->by_id);
        /* Room for as many tuples as any configuration allows. */
        port->tuples = iovp_xmalloc(SIM_MAX_MASKS * sizeof *port->tuples);
        hmap_insert(&sim->ports, &port->node, iovp_hash_string64(name));
    }

    /* Check the whole batch first: the sim takes all of it or nothing. */
    size_t n_new = 0, n_new_tuples = 0;
    struct fp_key *new_tuples = iovp_xmalloc(MAX(n, 1) * sizeof *new_tuples);
    int error = 0;
    for (size_t i = 0; i < n && !error; i++) {
        const struct fp_entry *e = &entries[i];
        error = sim_check_entry(sim, e);
        if (!sim_find_entry(port, e->id)
            && !sim_find_match(port, &e->match)) {
            n_new++;
        }
        size_t in_bucket = sim_bucket_count(port, e, entries, n);
        for (size_t j = 0; j < i && !error; j++) {
            const struct fp_entry *f = &entries[j];
            struct fp_key a, b;
            if (fp_match_equal(&f->match, &e->match)) {
                error = -EEXIST;    /* One entry per match. */
            }
            fp_key_and(&f->match.value, &f->tuple, &a);
            fp_key_and(&e->match.value, &e->tuple, &b);
            in_bucket += (fp_key_equal(&f->tuple, &e->tuple)
                          && fp_key_equal(&a, &b));
        }
        if (!error && in_bucket >= MAX(sim->caps.bucket_size, 1)) {
            error = -ENOSPC;        /* Its bucket is full. */
        }
        bool known = sim_find_tuple(port, &e->tuple) != NULL;
        for (size_t j = 0; j < n_new_tuples && !known; j++) {
            known = fp_key_equal(&new_tuples[j], &e->tuple);
        }
        if (!known) {
            new_tuples[n_new_tuples++] = e->tuple;
        }
    }
    size_t n_entries = hmap_count(&port->by_id) + n_new;
    if (!error && (n_entries > sim->caps.max_entries
                   || (sim->full_at && n_entries > sim->full_at))) {
        error = -ENOSPC;
    }
    /* Tuples that replaced entries free are not counted as freed: a real
     * NIC frees them only after the batch, too. */
    if (!error && port->n_tuples + n_new_tuples > sim->caps.max_masks) {
        error = -E2BIG;
    }
    free(new_tuples);
    if (error) {
        if (!hmap_count(&port->by_id)) {
            sim_port_destroy(sim, port);
        }
        return error;
    }

    for (size_t i = 0; i < n; i++) {
        const struct fp_entry *e = &entries[i];
        struct sim_entry *old = sim_find_entry(port, e->id);
        uint64_t n_packets = 0, n_bytes = 0;
        if (old) {
            n_packets = old->n_packets;
            n_bytes = old->n_bytes;
            sim_remove_entry(port, old);
        }
        old = sim_find_match(port, &e->match);
        if (old) {
            sim_remove_entry(port, old);    /* Replaced in place. */
        }

        struct sim_tuple *t = sim_find_tuple(port, &e->tuple);
        if (!t) {
            t = iovp_xzalloc(sizeof *t);
            t->mask = e->tuple;
            hmap_init(&t->entries);
            port->tuples[port->n_tuples++] = t;
        }
        struct sim_entry *se = iovp_xzalloc(sizeof *se);
        struct fp_key masked;
        se->e = *e;
        se->tuple = t;
        se->n_packets = n_packets;
        se->n_bytes = n_bytes;
        hmap_insert(&port->by_id, &se->id_node, e->id);
        hmap_insert(&t->entries, &se->node,
                    sim_bucket_hash(&e->match.value, &t->mask, &masked));
        t->n_entries++;
    }
    return 0;
}

static int
sim_delete(struct offload *o, const char *name, const uint32_t *ids,
           size_t n)
{
    struct sim *sim = sim_cast(o);

    if (sim->gone) {
        return -ENODEV;
    }
    struct sim_port *port = sim_find_port(sim, name);
    if (!port) {
        return 0;
    }
    if (!n) {
        sim_port_destroy(sim, port);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        struct sim_entry *se = sim_find_entry(port, ids[i]);
        if (se) {
            sim_remove_entry(port, se);
        }
    }
    return 0;
}

/* Finds port 'name' of 'o' for a read, in '*portp' (NULL if there is no
 * such port); returns -ENODEV if the NIC is gone, else 0. */
static int
sim_read_port(const struct offload *o, const char *name,
              struct sim_port **portp)
{
    const struct sim *sim = sim_cast(o);

    *portp = sim->gone ? NULL : sim_find_port(sim, name);
    return sim->gone ? -ENODEV : 0;
}

static int
sim_stats(struct offload *o, const char *name,
          struct offload_stats **statsp, size_t *n)
{
    struct sim_port *port;
    struct sim_entry *se;

    *statsp = NULL;
    *n = 0;
    int error = sim_read_port(o, name, &port);
    if (error || !port) {
        return error;
    }
    *statsp = iovp_xmalloc(MAX(hmap_count(&port->by_id), 1)
                           * sizeof **statsp);
    HMAP_FOR_EACH (se, id_node, &port->by_id) {
        (*statsp)[(*n)++] = (struct offload_stats) {
            .id = se->e.id,
            .n_packets = se->n_packets,
            .n_bytes = se->n_bytes,
        };
    }
    return 0;
}

static int
sim_dump(struct offload *o, const char *name, struct fp_entry **entriesp,
         size_t *n)
{
    struct sim_port *port;
    struct sim_entry *se;

    *entriesp = NULL;
    *n = 0;
    int error = sim_read_port(o, name, &port);
    if (error || !port) {
        return error;
    }
    *entriesp = iovp_xmalloc(MAX(hmap_count(&port->by_id), 1)
                             * sizeof **entriesp);
    HMAP_FOR_EACH (se, id_node, &port->by_id) {
        (*entriesp)[(*n)++] = se->e;
    }
    return 0;
}

/* Tuple-space search: looks 'key' up in each tuple, under its mask, checks
 * each entry of the bucket it finds, and keeps the match of the highest
 * priority (of equal ones, the lowest id, so that the answer does not
 * depend on the order of the tuples). */
static struct sim_entry *
sim_lookup(const struct sim_port *port, const struct fp_key *key)
{
    struct sim_entry *best = NULL;

    for (size_t i = 0; i < port->n_tuples; i++) {
        const struct sim_tuple *t = port->tuples[i];
        struct fp_key masked;
        struct sim_entry *se;

        HMAP_FOR_EACH_WITH_HASH (se, node,
                                 sim_bucket_hash(key, &t->mask, &masked),
                                 &t->entries) {
            if (fp_match_matches(&se->e.match, key)
                && (!best || se->e.priority > best->e.priority
                    || (se->e.priority == best->e.priority
                        && se->e.id < best->e.id))) {
                best = se;
            }
        }
    }
    return best;
}

/* Decides the 'len'-byte frame 'frame' by 'name''s table, storing the
 * entry that decides it in '*entry' (its fate FP_TO_OVS and id 0 if none
 * does), and counts it in that entry if 'count'. */
static int
sim_decide(struct offload *o, const char *name, const void *frame,
           size_t len, bool count, struct fp_entry *entry)
{
    struct sim *sim = sim_cast(o);
    struct sim_port *port = sim->gone ? NULL : sim_find_port(sim, name);
    struct fp_key key;

    memset(entry, 0, sizeof *entry);
    entry->fate = FP_TO_OVS;
    if (sim->gone) {
        return -ENODEV;
    }
    if (!port || !fp_key_from_frame(frame, len, &key)) {
        return 0;
    }

    struct sim_entry *se = sim_lookup(port, &key);
    if (se) {
        if (count) {
            se->n_packets++;
            se->n_bytes += len;
        }
        *entry = se->e;
    }
    return 0;
}

/* A test run, as the xdp backend's: decided, counted nowhere. */
static int
sim_classify(struct offload *o, const char *name, const void *frame,
             size_t len, struct fp_entry *entry)
{
    return sim_decide(o, name, frame, len, false, entry);
}

/* Makes 'o', a sim backend, receive the 'len'-byte frame 'frame' from the
 * VM behind port 'name', as a NIC receives real traffic: the entry that
 * decides it (stored in '*entry', as classify() does) counts it, its
 * packets and its bytes.  Returns 0, or -ENODEV if the NIC is gone. */
int
offload_sim_receive(struct offload *o, const char *name, const void *frame,
                    size_t len, struct fp_entry *entry)
{
    return sim_decide(o, name, frame, len, true, entry);
}

static void
sim_describe(const struct offload *o, struct ds *s)
{
    const struct sim *sim = sim_cast(o);
    const struct sim_port *port;

    ds_put_format(s, "sim: %zu entries and %zu tuples of buckets of %zu "
                  "per port%s\n", sim->caps.max_entries, sim->caps.max_masks,
                  sim->caps.bucket_size, sim->gone ? " (gone)" : "");
    HMAP_FOR_EACH (port, node, &sim->ports) {
        ds_put_format(s, "  %s: %zu entries, %zu tuples\n", port->name,
                      hmap_count(&port->by_id), port->n_tuples);
    }
}

const struct offload_class offload_sim_class = {
    .name = "sim",
    .open = sim_open,
    .close = sim_close,
    .capabilities = sim_capabilities,
    .put = sim_put,
    .delete = sim_delete,
    .stats = sim_stats,
    .dump = sim_dump,
    .classify = sim_classify,
    .describe = sim_describe,
};
