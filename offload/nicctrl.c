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

#include "offload/nicctrl.h"

#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/hmap.h>
#include <openvswitch/vlog.h>

#include "lib/util.h"

VLOG_DEFINE_THIS_MODULE(nicctrl);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* How long a port whose backend failed is left to OVS before nicctrl tries
 * it again, in ms. */
#define NICCTRL_RETRY_MS 2000

/* How long a target whose redirected frames the kernel lost is left to
 * OVS, counted from the last read that found new losses, in ms. */
#define NICCTRL_ERROR_QUIET_MS 30000

/* The most rules that one read of the counters plans again, over all the
 * ports whose traffic changed (at least one port's, however many it has);
 * the others wait for the next read, those planned longest ago first.
 * Planning costs about the square of a port's rules, its dependencies
 * found by comparing each rule with the rules above it. */
#define NICCTRL_REPLAN_RULES 20000

/* The most rules that one commit plans (at least one port's, however many
 * it has); the other ports wait for the next commit, which the caller
 * makes at once, after what else its loop has to do: a policy change
 * that reaches many ports (a first sync) does not hold iovpd up for the
 * time the backend takes to put them all, loading a program on each. */
#define NICCTRL_COMMIT_RULES 5000

/* The NIC's counters of one entry id, as nicctrl has seen them. */
struct nc_count {
    struct hmap_node node;      /* In 'port->counts', by id. */
    uint32_t id;
    uint64_t seen;              /* The backend's counters when last */
    uint64_t seen_bytes;        /* read. */
    uint64_t total;             /* Everything they counted, across puts. */
    uint64_t total_bytes;
    uint64_t last;              /* What the last read counted. */
    double weight;              /* Recent packets, decayed. */
};

/* Whether the NIC forwards a port's frames to one target (a port, as the
 * backend names it) or leaves them to OVS, and why (the backend's
 * delivery()). */
struct nc_target {
    uint32_t out_port;
    bool forward;               /* False: its forward rules go to OVS. */
    char *why;
    uint64_t fallbacks;         /* Times it lost its forward entries. */

    /* The backend's redirect_errors(), if it counts them. */
    bool errors_known;          /* 'errors' has been read. */
    uint64_t errors;            /* Frames lost on the way, as last read. */
    long long int quiet_until;  /* Left to OVS until then, for losses. */
};

struct nc_port {
    struct hmap_node node;      /* In 'nc->ports', by name. */
    char *name;                 /* The VM port's (Physical_Port) name. */
    char *device;               /* Its network device: the backend's name
                                 * for it. */
    struct planner_rule *rules; /* Its rules, as OVS holds them (or will,
                                 * once committed). */
    size_t n_rules;
    struct fp_entry *installed; /* What the backend holds. */
    size_t n_installed;
    size_t n_masks;
    bool pending;               /* Rules changed: plan once committed. */
    bool stale;                 /* Its traffic changed since its last
                                 * plan: plan it again from the counters. */
    long long int planned_at;
    bool failed;                /* Left to OVS until 'retry_at'. */
    long long int retry_at;
    size_t max_entries;         /* The capabilities', or less once the
                                 * backend ran full before it. */
    struct hmap counts;         /* "struct nc_count"s. */
    uint64_t decided, dropped, covered;
    struct nc_target *targets;  /* Of its forward rules, by out_port. */
    size_t n_targets;

    /* Steering (the backend's steer()). */
    struct offload_steer *steers;
    size_t n_steers;
    bool steered;               /* The backend has 'steers'... */
    int steer_error;            /* ...or said this when given them. */
};

struct nicctrl {
    struct offload *backend;    /* Owned. */
    struct offload_caps caps;
    struct hmap ports;          /* "struct nc_port"s. */
};

/* Creates a nicctrl that keeps fast paths in 'backend', which it takes. */
struct nicctrl *
nicctrl_create(struct offload *backend)
{
    struct nicctrl *nc = iovp_xzalloc(sizeof *nc);

    nc->backend = backend;
    backend->class->capabilities(backend, &nc->caps);
    hmap_init(&nc->ports);
    return nc;
}

static void nc_port_destroy(struct nicctrl *, struct nc_port *);
static int nc_to_covers(struct nicctrl *, struct nc_port *,
                        const bool *doomed);

/* Destroys 'nc' and closes its backend.  What the backend holds stays (an
 * iovpd that restarts finds it again).  Accepts NULL. */
void
nicctrl_destroy(struct nicctrl *nc)
{
    if (nc) {
        struct nc_port *port;
        HMAP_FOR_EACH_SAFE (port, node, &nc->ports) {
            nc_port_destroy(nc, port);
        }
        hmap_destroy(&nc->ports);
        offload_close(nc->backend);
        free(nc);
    }
}

struct offload *
nicctrl_backend(const struct nicctrl *nc)
{
    return nc->backend;
}

static struct nc_port *
nc_find_port(const struct nicctrl *nc, const char *name)
{
    struct nc_port *port;

    HMAP_FOR_EACH_WITH_HASH (port, node, iovp_hash_string64(name),
                             &nc->ports) {
        if (!strcmp(port->name, name)) {
            return port;
        }
    }
    return NULL;
}

/* Returns the backend's name for network device 'device' (its index, for
 * the backends there are: offload/fastpath.h's 'out_port'), or 0 if there
 * is no such device. */
uint32_t
nicctrl_port_id(const struct nicctrl *nc OVS_UNUSED, const char *device)
{
    return if_nametoindex(device);
}

bool
nicctrl_has_port(const struct nicctrl *nc, const char *name)
{
    return nc_find_port(nc, name) != NULL;
}

static struct nc_count *
nc_find_count(const struct nc_port *port, uint32_t id)
{
    struct nc_count *c;

    HMAP_FOR_EACH_WITH_HASH (c, node, id, &port->counts) {
        if (c->id == id) {
            return c;
        }
    }
    return NULL;
}

static struct nc_count *
nc_get_count(struct nc_port *port, uint32_t id)
{
    struct nc_count *c = nc_find_count(port, id);

    if (!c) {
        c = iovp_xzalloc(sizeof *c);
        c->id = id;
        hmap_insert(&port->counts, &c->node, id);
    }
    return c;
}

static void
nc_port_destroy(struct nicctrl *nc, struct nc_port *port)
{
    struct nc_count *c;

    HMAP_FOR_EACH_POP (c, node, &port->counts) {
        free(c);
    }
    hmap_destroy(&port->counts);
    hmap_remove(&nc->ports, &port->node);
    for (size_t i = 0; i < port->n_targets; i++) {
        free(port->targets[i].why);
    }
    free(port->targets);
    free(port->steers);
    free(port->rules);
    free(port->installed);
    free(port->name);
    free(port->device);
    free(port);
}

static bool
nc_is_self(const struct fp_entry *e)
{
    return !(e->id & PLANNER_COVER_ID);
}

/* Removes from the backend's table of 'port' the installed entries for
 * which 'doomed[i]' is true.  Returns 0 or the backend's error. */
static int
nc_delete(struct nicctrl *nc, struct nc_port *port, const bool *doomed)
{
    uint32_t *ids = iovp_xmalloc(MAX(port->n_installed, 1) * sizeof *ids);
    size_t n_ids = 0, n_kept = 0;

    for (size_t i = 0; i < port->n_installed; i++) {
        if (doomed[i]) {
            ids[n_ids++] = port->installed[i].id;
            struct nc_count *c = nc_find_count(port, port->installed[i].id);
            if (c) {
                c->seen = 0;
            }
        } else {
            port->installed[n_kept++] = port->installed[i];
        }
    }
    int error = n_ids ? nc->backend->class->delete(nc->backend, port->device,
                                                   ids, n_ids) : 0;
    port->n_installed = n_kept;
    free(ids);
    return error;
}

/* Makes 'port''s state what the backend says it holds, after an error;
 * leaves it to OVS for a while. */
static void
nc_port_failed(struct nicctrl *nc, struct nc_port *port, int error,
               const char *what, long long int now)
{
    struct fp_entry *entries;
    size_t n;

    VLOG_WARN_RL(&rl, "%s: %s failed (%s): its traffic stays in OVS",
                 port->name, what, strerror(-error));
    free(port->installed);
    port->installed = NULL;
    port->n_installed = 0;
    if (!nc->backend->class->dump(nc->backend, port->device, &entries, &n)) {
        port->installed = entries;
        port->n_installed = n;
    } else {
        free(entries);
    }
    port->failed = error != -ENOSPC;
    port->retry_at = now + NICCTRL_RETRY_MS;
    port->pending = true;
    port->steered = false;
}

static bool
nc_same_fate(const struct fp_entry *e, const struct planner_rule *r)
{
    return (e->fate == r->fate
            && (e->fate != FP_FORWARD || e->out_port == r->out_port));
}

static int
nc_compare_rule_ids(const void *a_, const void *b_)
{
    const struct planner_rule *a = a_, *b = b_;

    return a->id < b->id ? -1 : a->id > b->id;
}

/* Returns the rule of 'rules' ('n' of them, sorted by id) with 'id', or
 * NULL. */
static const struct planner_rule *
nc_rule_by_id(const struct planner_rule *rules, size_t n, uint32_t id)
{
    const struct planner_rule key = { .id = id };

    return bsearch(&key, rules, n, sizeof *rules, nc_compare_rule_ids);
}

static int
nc_compare_entry_ids(const void *a_, const void *b_)
{
    const struct fp_entry *a = a_, *b = b_;

    return a->id < b->id ? -1 : a->id > b->id;
}

/* Returns a copy of 'port''s installed entries, sorted by id, for
 * nc_entry_by_id(). */
static struct fp_entry *
nc_installed_by_id(const struct nc_port *port)
{
    struct fp_entry *sorted = iovp_xmalloc(MAX(port->n_installed, 1)
                                           * sizeof *sorted);

    memcpy(sorted, port->installed, port->n_installed * sizeof *sorted);
    qsort(sorted, port->n_installed, sizeof *sorted, nc_compare_entry_ids);
    return sorted;
}

static const struct fp_entry *
nc_entry_by_id(const struct fp_entry *sorted, size_t n, uint32_t id)
{
    const struct fp_entry key = { .id = id };

    return bsearch(&key, sorted, n, sizeof *sorted, nc_compare_entry_ids);
}

/* Returns true if 'e', an installed rule as itself, is exactly rule 'r'
 * (ids are hashes: equal ids do not prove equal rules). */
static bool
nc_entry_is_rule(const struct fp_entry *e, const struct planner_rule *r)
{
    return (r->exact && e->priority == r->priority && e->fate == r->fate
            && (e->fate != FP_FORWARD || e->out_port == r->out_port)
            && fp_match_equal(&e->match, &r->match));
}

/* Gives VM port 'name', whose network device is 'device', the 'n' rules
 * 'rules' (it takes them), which OVS is about to be sent, and withdraws
 * from the NIC, before it returns, every entry that the change affects
 * (see nicctrl.h).  Returns true if the rules changed. */
bool
nicctrl_set_rules(struct nicctrl *nc, const char *name, const char *device,
                  struct planner_rule *rules, size_t n)
{
    struct nc_port *port = nc_find_port(nc, name);

    if (port && strcmp(port->device, device)) {
        nicctrl_remove_port(nc, name);      /* Another device now. */
        port = NULL;
    }
    if (!port) {
        port = iovp_xzalloc(sizeof *port);
        port->name = iovp_xstrdup(name);
        port->device = iovp_xstrdup(device);
        port->max_entries = nc->caps.max_entries;
        hmap_init(&port->counts);
        hmap_insert(&nc->ports, &port->node, iovp_hash_string64(name));

        /* What the NIC holds already (a previous iovpd's table, say): it
         * is treated as this port's, and withdrawn below where the rules
         * no longer say so. */
        struct fp_entry *entries;
        size_t n_entries;
        if (!nc->backend->class->dump(nc->backend, device, &entries,
                                      &n_entries)) {
            port->installed = entries;
            port->n_installed = n_entries;
        } else {
            free(entries);
        }
    }

    /* Both the port's rules and the new ones sorted by id. */
    qsort(rules, n, sizeof *rules, nc_compare_rule_ids);
    bool changed = n != port->n_rules || (port->n_installed && !port->rules);
    for (size_t i = 0; i < n && !changed; i++) {
        changed = rules[i].id != port->rules[i].id;
    }
    if (!changed) {
        /* The same rules, with new weights, perhaps. */
        for (size_t i = 0; i < n && !port->stale; i++) {
            port->stale = rules[i].weight != port->rules[i].weight;
        }
        free(port->rules);
        port->rules = rules;
        return false;
    }

    /* The rules that are new. */
    const struct planner_rule **added = iovp_xmalloc(MAX(n, 1)
                                                     * sizeof *added);
    size_t n_added = 0;
    for (size_t i = 0; i < n; i++) {
        if (!nc_rule_by_id(port->rules, port->n_rules, rules[i].id)) {
            added[n_added++] = &rules[i];
        }
    }

    /* What the NIC must not keep: a rule as itself that is gone, or that a
     * new rule above it with another fate overlaps.  Covers stay: sending
     * a frame to OVS is never wrong. */
    bool *doomed = iovp_xzalloc(MAX(port->n_installed, 1) * sizeof *doomed);
    for (size_t i = 0; i < port->n_installed; i++) {
        const struct fp_entry *e = &port->installed[i];
        if (!nc_is_self(e)) {
            continue;
        }
        const struct planner_rule *r = nc_rule_by_id(rules, n, e->id);
        doomed[i] = !r || !nc_entry_is_rule(e, r);
        for (size_t j = 0; j < n_added && !doomed[i]; j++) {
            doomed[i] = (added[j]->priority > e->priority
                         && !nc_same_fate(e, added[j])
                         && fp_match_overlaps(&added[j]->match, &e->match));
        }
    }
    int error = nc_to_covers(nc, port, doomed);
    if (error) {
        /* The backend is failing: what it still holds cannot be trusted
         * to follow the policy, so take everything out of it. */
        VLOG_WARN_RL(&rl, "%s: withdrawing entries failed (%s); removing "
                     "all of them", name, strerror(-error));
        nc->backend->class->delete(nc->backend, port->device, NULL, 0);
        port->n_installed = 0;
        port->steered = false;
        port->failed = true;
    }

    free(port->rules);
    port->rules = rules;
    port->n_rules = n;
    port->pending = true;
    free(doomed);
    free(added);
    return true;
}

/* Takes 'name''s fast path out of the NIC and forgets the port. */
void
nicctrl_remove_port(struct nicctrl *nc, const char *name)
{
    struct nc_port *port = nc_find_port(nc, name);

    if (port) {
        nc->backend->class->delete(nc->backend, port->device, NULL, 0);
        nc_port_destroy(nc, port);
    }
}

static int
nc_compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Forgets every port but the 'n' named in 'names' (and takes their fast
 * paths out of the NIC). */
void
nicctrl_retain(struct nicctrl *nc, const char *const *names, size_t n)
{
    const char **sorted = iovp_xmemdup(names, n * sizeof *names);
    struct nc_port *port;

    qsort(sorted, n, sizeof *sorted, nc_compare_strings);
    HMAP_FOR_EACH_SAFE (port, node, &nc->ports) {
        const char *name = port->name;
        if (!bsearch(&name, sorted, n, sizeof *sorted, nc_compare_strings)) {
            nicctrl_remove_port(nc, port->name);
        }
    }
    free(sorted);
}

/* Takes every entry out of the NIC (for when OVS does not hold what the
 * rules say, a refused flow for one), to be planned again at the next
 * commit. */
void
nicctrl_withdraw_all(struct nicctrl *nc)
{
    struct nc_port *port;

    HMAP_FOR_EACH (port, node, &nc->ports) {
        if (port->n_installed) {
            nc->backend->class->delete(nc->backend, port->device, NULL, 0);
            port->n_installed = 0;
            port->steered = false;
        }
        port->pending = true;
    }
}

/* Reads the NIC's counters of 'port' into its counts.  Returns 0 or the
 * backend's error (it has lost the port's table, say). */
static int
nc_read_stats(struct nicctrl *nc, struct nc_port *port)
{
    struct offload_stats *stats;
    size_t n;

    int error = nc->backend->class->stats(nc->backend, port->device, &stats,
                                          &n);
    if (error) {
        free(stats);
        return error;
    }
    /* Counts decay; those of ids no rule has any more go. */
    struct fp_entry *installed = nc_installed_by_id(port);
    struct nc_count *c;
    HMAP_FOR_EACH_SAFE (c, node, &port->counts) {
        c->weight /= 2;
        c->last = 0;
        uint32_t rule_id = c->id & ~PLANNER_COVER_ID;
        if (!nc_rule_by_id(port->rules, port->n_rules, rule_id)
            && !nc_entry_by_id(installed, port->n_installed, c->id)) {
            hmap_remove(&port->counts, &c->node);
            free(c);
        }
    }
    for (size_t i = 0; i < n; i++) {
        c = nc_get_count(port, stats[i].id);

        /* Counters that went back started again (the entry was put
         * anew): all they say is new. */
        bool restarted = (stats[i].n_packets < c->seen
                          || stats[i].n_bytes < c->seen_bytes);
        uint64_t delta = stats[i].n_packets - (restarted ? 0 : c->seen);
        uint64_t delta_bytes = stats[i].n_bytes - (restarted
                                                   ? 0 : c->seen_bytes);
        c->seen = stats[i].n_packets;
        c->last = delta;
        c->seen_bytes = stats[i].n_bytes;
        c->total += delta;
        c->total_bytes += delta_bytes;
        c->weight += delta;
        port->stale |= delta != 0;
        if (!(stats[i].id & PLANNER_COVER_ID)) {
            const struct fp_entry *e = nc_entry_by_id(installed,
                                                      port->n_installed,
                                                      stats[i].id);
            port->decided += delta;
            port->dropped += e && e->fate == FP_DROP ? delta : 0;
        } else {
            port->covered += delta;
        }
    }
    free(stats);
    free(installed);
    return 0;
}

/* Puts the 'n' entries 'batch' into 'port''s table and notes them as
 * installed: each replaces the installed entry of its id and the one of its
 * match (the backend does the same, in place).  Returns 0 or the backend's
 * error (then what the backend holds is to be read back). */
static int
nc_put_batch(struct nicctrl *nc, struct nc_port *port,
             const struct fp_entry *batch, size_t n)
{
    if (!n) {
        return 0;
    }
    int error = nc->backend->class->put(nc->backend, port->device, batch, n);
    if (error) {
        return error;
    }

    size_t n_kept = 0;
    for (size_t i = 0; i < port->n_installed; i++) {
        const struct fp_entry *e = &port->installed[i];
        bool replaced = false;
        for (size_t j = 0; j < n && !replaced; j++) {
            replaced = (batch[j].id == e->id
                        || fp_match_equal(&batch[j].match, &e->match));
        }
        if (!replaced) {
            port->installed[n_kept++] = *e;
        }
    }
    port->installed = iovp_xrealloc(port->installed,
                                    (n_kept + n) * sizeof *port->installed);
    memcpy(&port->installed[n_kept], batch, n * sizeof *batch);
    port->n_installed = n_kept + n;
    return 0;
}

/* Turns the installed rules as themselves for which 'doomed[i]' is true
 * into covers, in place: their frames go to OVS from then on, atomically,
 * and the rules below them that they shadow cannot take those frames.
 * (Deleting them instead would let a lower entry of another fate decide
 * their frames until the next plan.)  Returns 0 or the backend's error. */
static int
nc_to_covers(struct nicctrl *nc, struct nc_port *port, const bool *doomed)
{
    struct fp_entry *batch = iovp_xmalloc(MAX(port->n_installed, 1)
                                          * sizeof *batch);
    size_t n = 0;

    for (size_t i = 0; i < port->n_installed; i++) {
        if (doomed[i] && nc_is_self(&port->installed[i])) {
            struct fp_entry *e = &batch[n++];
            *e = port->installed[i];
            e->fate = FP_TO_OVS;
            e->out_port = 0;
            e->id |= PLANNER_COVER_ID;
        }
    }
    int error = nc_put_batch(nc, port, batch, n);
    free(batch);
    return error;
}

/* Puts the entries of 'plan' that 'port' does not hold and are covers (if
 * 'covers') or rules as themselves; returns 0 or the backend's error. */
static int
nc_put(struct nicctrl *nc, struct nc_port *port,
       const struct planner_plan *plan, bool covers)
{
    /* What it holds, by id: an entry it holds in another tuple than the
     * plan's goes in again, into the plan's tuple. */
    struct fp_entry *have = nc_installed_by_id(port);

    struct fp_entry *batch = iovp_xmalloc(MAX(plan->n_entries, 1)
                                          * sizeof *batch);
    size_t n = 0;
    for (size_t i = 0; i < plan->n_entries; i++) {
        const struct fp_entry *e = &plan->entries[i];
        const struct fp_entry *h = nc_entry_by_id(have, port->n_installed,
                                                  e->id);
        if (nc_is_self(e) != covers
            && (!h || !fp_key_equal(&h->tuple, &e->tuple))) {
            batch[n++] = *e;
        }
    }
    free(have);

    int error = nc_put_batch(nc, port, batch, n);
    free(batch);
    return error;
}

static const struct nc_target *
nc_find_target(const struct nc_port *port, uint32_t out_port)
{
    for (size_t i = 0; i < port->n_targets; i++) {
        if (port->targets[i].out_port == out_port) {
            return &port->targets[i];
        }
    }
    return NULL;
}

/* Reads, for 'port''s target 'out_port', the frames the backend counts as
 * lost on their way there (its redirect_errors()) into 't', which carries
 * over what 'old' (null for a new target) knew.  Returns the number lost
 * since the last read, and appends the backend's name for the target to
 * 'target'. */
static uint64_t
nc_read_errors(struct nicctrl *nc, const struct nc_port *port,
               const struct nc_target *old, struct nc_target *t,
               struct ds *target)
{
    uint64_t n;

    if (old) {
        t->errors_known = old->errors_known;
        t->errors = old->errors;
        t->quiet_until = old->quiet_until;
    }
    if (!nc->backend->class->redirect_errors
        || nc->backend->class->redirect_errors(nc->backend, port->device,
                                               t->out_port, &n, target)) {
        return 0;
    }
    uint64_t new = (t->errors_known && n > t->errors ? n - t->errors : 0);
    t->errors_known = true;
    t->errors = n;
    return new;
}

/* Asks the backend, for each target of the forward rules of 'port',
 * whether a frame forwarded there arrives (see nc_apply_targets()).  A
 * target whose redirected frames the kernel lost since the last read (the
 * backend's redirect_errors()) is left to OVS too, until
 * NICCTRL_ERROR_QUIET_MS have passed without a new loss.  Logs each
 * target's decision when it changes or, if it leaves the target to OVS,
 * when it is new; a target that stops taking
 * frames while the NIC forwards to it counts a fallback.  Returns true if
 * a target is new, gone, or decided otherwise than before. */
static bool
nc_update_targets(struct nicctrl *nc, struct nc_port *port,
                  long long int now)
{
    const struct planner_rule *rules = port->rules;
    size_t n = port->n_rules;
    bool changed = false;

    struct nc_target *targets = iovp_xmalloc(MAX(n, 1) * sizeof *targets);
    size_t n_targets = 0;

    for (size_t i = 0; i < n; i++) {
        uint32_t out_port = rules[i].out_port;
        bool seen = false;
        for (size_t j = 0; j < n_targets && !seen; j++) {
            seen = targets[j].out_port == out_port;
        }
        if (rules[i].fate != FP_FORWARD || seen) {
            continue;
        }

        struct ds why = DS_EMPTY_INITIALIZER;
        bool forward = true;
        if (nc->backend->class->delivery) {
            forward = nc->backend->class->delivery(nc->backend, port->device,
                                                   out_port, &why);
        } else {
            ds_put_cstr(&why, "the backend delivers to every port");
        }

        const struct nc_target *old = nc_find_target(port, out_port);
        struct nc_target t = { .out_port = out_port };
        struct ds target = DS_EMPTY_INITIALIZER;
        uint64_t lost = nc_read_errors(nc, port, old, &t, &target);
        if (lost) {
            t.quiet_until = now + NICCTRL_ERROR_QUIET_MS;
            if (forward) {
                ds_clear(&why);
                ds_put_format(&why, "%"PRIu64" redirect errors to %s since "
                              "the last read; tried again after %d s "
                              "without one", lost, ds_cstr(&target),
                              NICCTRL_ERROR_QUIET_MS / 1000);
            }
        } else if (forward && now < t.quiet_until && old && !old->forward) {
            /* Quiet time: the reason stays the one of the losses. */
            ds_clear(&why);
            ds_put_cstr(&why, old->why);
        }
        ds_destroy(&target);
        forward = forward && now >= t.quiet_until;

        uint64_t fallbacks = old ? old->fallbacks : 0;
        if (!old || old->forward != forward || strcmp(old->why,
                                                      ds_cstr(&why))) {
            bool in_nic = false;
            for (size_t j = 0; j < port->n_installed && !in_nic; j++) {
                in_nic = (port->installed[j].fate == FP_FORWARD
                          && port->installed[j].out_port == out_port);
            }
            if (old && old->forward && !forward && in_nic) {
                fallbacks++;
            }
            changed = true;
            /* A new target that takes frames is the usual case, one per
             * pair of ports: only worth a debug line. */
            enum vlog_level level = (!old && forward ? VLL_DBG : VLL_INFO);
            VLOG(level, "%s: frames to port %"PRIu32" %s (%s)", port->name,
                 out_port, forward ? "forwarded in the NIC" : "left to OVS",
                 ds_cstr(&why));
        }
        t.forward = forward;
        t.why = ds_steal_cstr(&why);
        t.fallbacks = fallbacks;
        targets[n_targets++] = t;
    }
    changed = changed || n_targets != port->n_targets;
    for (size_t i = 0; i < port->n_targets; i++) {
        free(port->targets[i].why);
    }
    free(port->targets);
    port->targets = targets;
    port->n_targets = n_targets;
    return changed;
}

/* Turns the forward rules among the 'n' rules 'rules' of 'port' toward a
 * target that nc_update_targets() found does not take frames into rules
 * that leave their frames to OVS (which the planner puts in the NIC only
 * as covers, so that the drops below them still happen there). */
static void
nc_apply_targets(const struct nc_port *port, struct planner_rule *rules,
                 size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct nc_target *t = nc_find_target(port, rules[i].out_port);
        if (rules[i].fate == FP_FORWARD && t && !t->forward) {
            rules[i].fate = FP_TO_OVS;
            rules[i].out_port = 0;
        }
    }
}

/* Plans 'port' for a NIC of 'max_entries' entries and makes the backend
 * hold the plan: rules as themselves that leave go first, then new covers,
 * then new rules as themselves, then the covers that leave.  Returns 0 or
 * the backend's error, with 'what' saying what failed. */
static int
nc_apply_plan(struct nicctrl *nc, struct nc_port *port, size_t max_entries,
              const char **what)
{
    /* Weights: OVS's, which the rules carry, and the NIC's. */
    struct planner_rule *rules = iovp_xmemdup(port->rules,
                                              port->n_rules * sizeof *rules);
    for (size_t i = 0; i < port->n_rules; i++) {
        struct planner_rule *r = &rules[i];
        const struct nc_count *c = nc_find_count(port, r->id);
        const struct nc_count *cc = nc_find_count(port,
                                                  r->id | PLANNER_COVER_ID);
        r->weight += (c ? c->weight : 0) + (cc ? cc->weight : 0);
    }
    nc_apply_targets(port, rules, port->n_rules);
    struct offload_caps caps = nc->caps;
    caps.max_entries = max_entries;
    struct planner_plan plan;
    planner_plan(rules, port->n_rules, &caps, port->installed,
                 port->n_installed, &plan);
    free(rules);

    /* Rules as themselves that leave become covers in place; then what is
     * in no plan leaves (no rule that stays needs it: the plan has every
     * cover its rules need); then new covers, then new rules. */
    struct fp_entry *planned = iovp_xmemdup(plan.entries,
                                            MAX(plan.n_entries, 1)
                                            * sizeof *planned);
    qsort(planned, plan.n_entries, sizeof *planned, nc_compare_entry_ids);
    bool *doomed = iovp_xzalloc(MAX(port->n_installed, 1) * sizeof *doomed);
    for (size_t i = 0; i < port->n_installed; i++) {
        doomed[i] = (nc_is_self(&port->installed[i])
                     && !nc_entry_by_id(planned, plan.n_entries,
                                        port->installed[i].id));
    }
    int error = nc_to_covers(nc, port, doomed);
    *what = "withdrawing entries";
    if (!error) {
        free(doomed);
        doomed = iovp_xzalloc(MAX(port->n_installed, 1) * sizeof *doomed);
        for (size_t i = 0; i < port->n_installed; i++) {
            doomed[i] = !nc_entry_by_id(planned, plan.n_entries,
                                        port->installed[i].id);
        }
        error = nc_delete(nc, port, doomed);
        *what = "removing covers";
    }
    if (!error) {
        error = nc_put(nc, port, &plan, true);
        *what = "a put of covers";
    }
    if (!error) {
        error = nc_put(nc, port, &plan, false);
        *what = "a put of entries";
    }
    if (!error) {
        port->n_masks = plan.n_masks;
    }
    free(doomed);
    free(planned);
    planner_plan_destroy(&plan);
    return error;
}

/* Starts 'port' afresh: whatever the backend holds of it goes, so that the
 * next plan goes in whole. */
static void
nc_port_restart(struct nicctrl *nc, struct nc_port *port)
{
    struct nc_count *c;

    nc->backend->class->delete(nc->backend, port->device, NULL, 0);
    port->n_installed = 0;
    port->steered = false;
    HMAP_FOR_EACH (c, node, &port->counts) {
        c->seen = 0;
    }
}

/* Plans 'port' and installs the plan.  A backend that runs full before its
 * capabilities say gets plans of half the size until one fits, and keeps
 * that capacity. */
static void
nc_plan_port(struct nicctrl *nc, struct nc_port *port, long long int now)
{
    if (port->failed) {
        if (now < port->retry_at) {
            return;
        }
        nc_port_restart(nc, port);
        port->failed = false;
    }

    nc_update_targets(nc, port, now);
    port->stale = false;
    port->planned_at = now;
    const char *what;
    int error = nc_apply_plan(nc, port, port->max_entries, &what);
    if ((error == -ENOSPC || error == -E2BIG) && nc->caps.bucket_size > 1
        && port->n_installed) {
        /* With relaxed tuples, a plan that the NIC holds whole may not fit
         * on top of what it holds, bucket by bucket: start the port
         * afresh, its frames in OVS for that moment. */
        VLOG_INFO_RL(&rl, "%s: the plan does not fit on the NIC's tuples as "
                     "they are: putting it in whole", port->name);
        nc_port_restart(nc, port);
        error = nc_apply_plan(nc, port, port->max_entries, &what);
    }
    while (error == -ENOSPC && port->max_entries > port->n_installed) {
        port->max_entries = MAX(port->n_installed, port->max_entries / 2);
        VLOG_INFO_RL(&rl, "%s: the NIC ran full; planning for %zu entries",
                     port->name, port->max_entries);
        error = nc_apply_plan(nc, port, port->max_entries, &what);
    }
    if (error) {
        nc_port_failed(nc, port, error, what, now);
    } else {
        port->pending = false;
    }
}

/* Gives the backend 'port''s steering rules, if it does not have them, and
 * if the port's rules are in its fast path. */
static void
nc_steer(struct nicctrl *nc, struct nc_port *port)
{
    if (port->steered || port->pending) {
        return;
    }
    int (*steer)(struct offload *, const char *,
                 const struct offload_steer *, size_t)
        = nc->backend->class->steer;
    if (!port->n_installed) {
        /* The backend serves the port once it holds an entry: steering
         * waits for that. */
        port->steer_error = port->n_steers ? -ENODEV : 0;
        return;
    }
    int error = (steer
                 ? steer(nc->backend, port->device, port->steers,
                         port->n_steers)
                 : port->n_steers ? -EOPNOTSUPP : 0);
    if (error && error != port->steer_error) {
        VLOG_WARN_RL(&rl, "%s: steering failed (%s)", port->name,
                     strerror(-error));
    }
    port->steer_error = error;
    port->steered = true;
}

/* OVS holds every rule now: plans and installs the ports whose rules
 * changed, and those whose backend failed a while ago, and gives the
 * backend the steering it lacks.  At most NICCTRL_COMMIT_RULES rules are
 * planned: returns true if ports were left for another commit. */
bool
nicctrl_commit(struct nicctrl *nc, long long int now)
{
    size_t budget = NICCTRL_COMMIT_RULES;
    bool more = false;
    struct nc_port *port;

    HMAP_FOR_EACH (port, node, &nc->ports) {
        if (port->pending) {
            if (port->n_rules > budget && budget < NICCTRL_COMMIT_RULES) {
                more = true;
                continue;
            }
            budget -= MIN(budget, port->n_rules);
            nc_plan_port(nc, port, now);
        }
        nc_steer(nc, port);
    }
    return more;
}

/* Sets the steering rules of 'name' (a port given to nicctrl_set_rules()),
 * for the next commit. */
void
nicctrl_set_steering(struct nicctrl *nc, const char *name,
                     const struct offload_steer *steers, size_t n)
{
    struct nc_port *port = nc_find_port(nc, name);

    if (!port
        || (n == port->n_steers
            && (!n || !memcmp(steers, port->steers, n * sizeof *steers)))) {
        return;
    }
    free(port->steers);
    port->steers = n ? iovp_xmemdup(steers, n * sizeof *steers) : NULL;
    port->n_steers = n;
    port->steered = false;
}

/* Returns 0 if the NIC steers the frames of 'name''s steering rules that
 * its fast path forwards, else why not: -ENODEV if the port's fast path is
 * not in the NIC (yet), -EOPNOTSUPP if the backend cannot steer, or the
 * backend's error. */
int
nicctrl_steering_error(const struct nicctrl *nc, const char *name)
{
    const struct nc_port *port = nc_find_port(nc, name);

    return (!port ? -ENODEV
            : port->steered || port->steer_error ? port->steer_error
            : -ENODEV);
}

/* Stores in '*statsp' (malloc()'d) and '*n' what 'name''s steering rules
 * sent through each CPU (see offload_class's steer_stats()). */
void
nicctrl_steer_stats(const struct nicctrl *nc, const char *name,
                    struct offload_steer_stats **statsp, size_t *n)
{
    const struct nc_port *port = nc_find_port(nc, name);

    *statsp = NULL;
    *n = 0;
    if (port && port->steered && !port->steer_error
        && nc->backend->class->steer_stats
        && nc->backend->class->steer_stats(nc->backend, port->device,
                                           statsp, n)) {
        free(*statsp);
        *statsp = NULL;
        *n = 0;
    }
}

static int
nc_compare_planned_at(const void *a_, const void *b_)
{
    const struct nc_port *a = *(const struct nc_port **) a_;
    const struct nc_port *b = *(const struct nc_port **) b_;

    return (a->planned_at != b->planned_at
            ? (a->planned_at < b->planned_at ? -1 : 1)
            : strcmp(a->name, b->name));
}

/* Reads the NIC's counters and plans again, from traffic, the ports whose
 * traffic changed since their last plan (their counters in the NIC or the
 * weights their rules carry from OVS), or whose targets take frames or
 * stop taking them: a port with nothing new would get the same plan.  At
 * most NICCTRL_REPLAN_RULES rules are planned in one call, those planned
 * longest ago first. */
void
nicctrl_replan(struct nicctrl *nc, long long int now)
{
    struct nc_port **stale = iovp_xmalloc(MAX(hmap_count(&nc->ports), 1)
                                          * sizeof *stale);
    size_t n_stale = 0;
    struct nc_port *port;

    HMAP_FOR_EACH (port, node, &nc->ports) {
        if (port->pending) {
            /* Its rules are not all in OVS yet, or it failed: only a
             * commit plans it. */
            continue;
        }
        int error = nc_read_stats(nc, port);
        if (error) {
            nc_port_failed(nc, port, error, "reading counters", now);
            continue;
        }
        if (nc_update_targets(nc, port, now) || port->stale) {
            stale[n_stale++] = port;
        }
        nc_steer(nc, port);
    }

    qsort(stale, n_stale, sizeof *stale, nc_compare_planned_at);
    size_t budget = NICCTRL_REPLAN_RULES;
    for (size_t i = 0; i < n_stale; i++) {
        port = stale[i];
        if (i && port->n_rules > budget) {
            break;
        }
        budget -= MIN(budget, port->n_rules);
        nc_plan_port(nc, port, now);
        nc_steer(nc, port);
    }
    free(stale);
}

void
nicctrl_port_stats(const struct nicctrl *nc, const char *name,
                   struct nicctrl_port_stats *s)
{
    const struct nc_port *port = nc_find_port(nc, name);

    memset(s, 0, sizeof *s);
    if (port) {
        s->decided = port->decided;
        s->dropped = port->dropped;
        s->covered = port->covered;
    }
}

/* Stores in '*packets' and '*bytes' the frames the NIC decided by rule
 * 'rule_id' of 'name' (as itself), as of the last read of its counters. */
void
nicctrl_rule_stats(const struct nicctrl *nc, const char *name,
                   uint32_t rule_id, uint64_t *packets, uint64_t *bytes)
{
    const struct nc_port *port = nc_find_port(nc, name);
    const struct nc_count *c = port ? nc_find_count(port, rule_id) : NULL;

    *packets = c ? c->total : 0;
    *bytes = c ? c->total_bytes : 0;
}

/* Calls 'cb' for each rule of 'name' by which the NIC decided frames in
 * the last read of its counters (as itself), with how many. */
void
nicctrl_rules_decided(const struct nicctrl *nc, const char *name,
                      nicctrl_rule_cb *cb, void *aux)
{
    const struct nc_port *port = nc_find_port(nc, name);

    for (size_t i = 0; port && i < port->n_rules; i++) {
        const struct nc_count *c = nc_find_count(port, port->rules[i].id);
        if (c && c->last) {
            cb(&port->rules[i], c->last, aux);
        }
    }
}

static json_t *
nc_entry_json(const struct nc_port *port, const struct fp_entry *e)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    const struct nc_count *c = nc_find_count(port, e->id);

    fp_entry_format(e, &s);
    json_t *j = json_pack("{s:s, s:s, s:I, s:I}", "entry", ds_cstr(&s),
                          "kind", nc_is_self(e) ? "rule" : "cover",
                          "n_packets", (json_int_t) (c ? c->total : 0),
                          "n_bytes", (json_int_t) (c ? c->total_bytes : 0));
    ds_destroy(&s);
    return j;
}

static int
nc_compare_entries(const void *a_, const void *b_)
{
    const struct fp_entry *a = a_, *b = b_;

    if (a->priority != b->priority) {
        return a->priority > b->priority ? -1 : 1;
    }
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Returns a new reference to a JSON object that shows the fast path of
 * each port (or just 'name''s, if nonnull): its entries, covers and masks
 * against the NIC's capacity, the frames the NIC decided, whether it
 * forwards to each target of the port's rules (and why), and each entry
 * with its counter. */
json_t *
nicctrl_show(const struct nicctrl *nc, const char *name)
{
    json_t *ports = json_object();
    const struct nc_port *port;

    HMAP_FOR_EACH (port, node, &nc->ports) {
        if (name && strcmp(name, port->name)) {
            continue;
        }
        struct fp_entry *sorted = iovp_xmemdup(
            port->installed, port->n_installed * sizeof *sorted);
        qsort(sorted, port->n_installed, sizeof *sorted, nc_compare_entries);
        json_t *entries = json_array();
        size_t n_covers = 0;
        for (size_t i = 0; i < port->n_installed; i++) {
            n_covers += !nc_is_self(&sorted[i]);
            json_array_append_new(entries, nc_entry_json(port, &sorted[i]));
        }
        free(sorted);
        json_t *delivery = json_array();
        for (size_t i = 0; i < port->n_targets; i++) {
            const struct nc_target *t = &port->targets[i];
            json_array_append_new(delivery, json_pack(
                "{s:I, s:s, s:s, s:I}",
                "out_port", (json_int_t) t->out_port,
                "fate", t->forward ? "forward" : "to-OVS",
                "reason", t->why,
                "fallbacks", (json_int_t) t->fallbacks));
        }
        json_object_set_new(ports, port->name, json_pack(
            "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:o, "
            "s:o}",
            "backend", nc->backend->class->name,
            "device", port->device,
            "rules", (json_int_t) port->n_rules,
            "entries", (json_int_t) port->n_installed,
            "covers", (json_int_t) n_covers,
            "masks", (json_int_t) port->n_masks,
            "capacity", (json_int_t) port->max_entries,
            "max_masks", (json_int_t) nc->caps.max_masks,
            "decided", (json_int_t) port->decided,
            "dropped", (json_int_t) port->dropped,
            "failed", port->failed,
            "delivery", delivery,
            "table", entries));
    }
    return ports;
}

/* Returns a new reference to a JSON object of the totals over every port:
 * the capacity, entries and masks used, frames decided in the NIC, and
 * targets that lost their forward entries (fallbacks). */
json_t *
nicctrl_summary(const struct nicctrl *nc)
{
    const struct nc_port *port;
    uint64_t entries = 0, masks = 0, decided = 0, dropped = 0, covered = 0;
    uint64_t fallbacks = 0;

    HMAP_FOR_EACH (port, node, &nc->ports) {
        for (size_t i = 0; i < port->n_targets; i++) {
            fallbacks += port->targets[i].fallbacks;
        }
        entries += port->n_installed;
        masks += port->n_masks;
        decided += port->decided;
        dropped += port->dropped;
        covered += port->covered;
    }
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                     "backend", nc->backend->class->name,
                     "ports", (json_int_t) hmap_count(&nc->ports),
                     "capacity", (json_int_t) (nc->caps.max_entries
                                               * hmap_count(&nc->ports)),
                     "entries", (json_int_t) entries,
                     "masks", (json_int_t) masks,
                     "decided", (json_int_t) decided,
                     "dropped", (json_int_t) dropped,
                     "covered", (json_int_t) covered,
                     "fallbacks", (json_int_t) fallbacks);
}

/* Checks that the NIC delivers what 'name''s fast path forwards: for up to
 * 'max' of its forward entries, by priority, a frame of the entry that the
 * VM behind the target ignores (fp_probe_frame()) goes through the fast
 * path for real (the backend's deliver()), after a dry run has shown that
 * the entry decides it.  Returns a new reference to a JSON object:
 * {"checked", "delivered", "not_delivered": [{"entry", "why"}],
 * "not_confirmed": [{"entry", "why"}]}, and "unchecked" with the reason
 * if the backend sends no frames. */
json_t *
nicctrl_verify_delivery(struct nicctrl *nc, const char *name, size_t max)
{
    const struct nc_port *port = nc_find_port(nc, name);
    json_t *not_delivered = json_array();
    json_t *not_confirmed = json_array();
    size_t checked = 0, delivered = 0;

    json_t *result = json_object();
    if (!nc->backend->class->deliver) {
        json_object_set_new(result, "unchecked", json_sprintf(
                                "the %s backend sends no frames",
                                nc->backend->class->name));
    }
    struct fp_entry *sorted = NULL;
    size_t n = 0;
    if (port && nc->backend->class->deliver) {
        sorted = iovp_xmemdup(port->installed,
                              port->n_installed * sizeof *sorted);
        n = port->n_installed;
        qsort(sorted, n, sizeof *sorted, nc_compare_entries);
    }
    for (size_t i = 0; i < n && checked < max; i++) {
        const struct fp_entry *e = &sorted[i];
        if (!nc_is_self(e) || e->fate != FP_FORWARD) {
            continue;
        }
        checked++;

        struct ds entry = DS_EMPTY_INITIALIZER;
        struct ds why = DS_EMPTY_INITIALIZER;
        fp_entry_format(e, &entry);
        uint8_t frame[128];
        size_t len = fp_probe_frame(&e->match, frame, sizeof frame);
        struct fp_entry decided;
        int ok;
        if (!len) {
            ds_put_cstr(&why, "no IPv4 frame matches it, and no other kind "
                        "is surely ignored by the VM");
            ok = -EOPNOTSUPP;
        } else if (nc->backend->class->classify(nc->backend, port->device,
                                                frame, len, &decided)
                   || decided.id != e->id) {
            ds_put_cstr(&why, "the frame chosen for it is decided by "
                        "another entry");
            ok = -EOPNOTSUPP;
        } else {
            ok = nc->backend->class->deliver(nc->backend, port->device,
                                             frame, len, e->out_port, &why);
        }
        if (ok > 0) {
            delivered++;
        } else {
            json_array_append_new(ok ? not_confirmed : not_delivered,
                                  json_pack("{s:s, s:s}",
                                            "entry", ds_cstr(&entry),
                                            "why", ds_cstr(&why)));
        }
        ds_destroy(&entry);
        ds_destroy(&why);
    }
    free(sorted);
    json_object_set_new(result, "checked", json_integer(checked));
    json_object_set_new(result, "delivered", json_integer(delivered));
    json_object_set_new(result, "not_delivered", not_delivered);
    json_object_set_new(result, "not_confirmed", not_confirmed);
    return result;
}

/* Runs 'name''s fast path on a frame (see offload_class's classify). */
int
nicctrl_classify(struct nicctrl *nc, const char *name, const void *frame,
                 size_t len, struct fp_entry *e)
{
    const struct nc_port *port = nc_find_port(nc, name);

    if (!port) {
        memset(e, 0, sizeof *e);
        e->fate = FP_TO_OVS;
        return 0;
    }
    return nc->backend->class->classify(nc->backend, port->device, frame,
                                        len, e);
}
