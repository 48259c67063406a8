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

#include "ofp/desired.h"

#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/vlog.h>

#include "lib/util.h"

VLOG_DEFINE_THIS_MODULE(desired);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* A group of desired flows. */
struct desired_group {
    struct hmap_node node;      /* In 'groups', by hash of 'key'. */
    char *key;
    struct oflow **flows;       /* In 'flows' of the desired table. */
    size_t n_flows;
};

void
desired_init(struct desired *d)
{
    oflow_table_init(&d->flows);
    hmap_init(&d->groups);
    oflow_table_init(&d->tracked);
}

/* Frees what 'd' holds.  Accepts NULL. */
void
desired_destroy(struct desired *d)
{
    if (d) {
        struct desired_group *g;
        HMAP_FOR_EACH_SAFE (g, node, &d->groups) {
            hmap_remove(&d->groups, &g->node);
            free(g->key);
            free(g->flows);
            free(g);
        }
        hmap_destroy(&d->groups);
        oflow_table_destroy(&d->flows);
        oflow_table_destroy(&d->tracked);
    }
}

static uint32_t
desired_hash_key(const char *key)
{
    return (uint32_t) iovp_hash_string64(key);
}

static struct desired_group *
desired_find_group(const struct desired *d, const char *key)
{
    struct desired_group *g;

    HMAP_FOR_EACH_WITH_HASH (g, node, desired_hash_key(key), &d->groups) {
        if (!strcmp(g->key, key)) {
            return g;
        }
    }
    return NULL;
}

/* Notes that the flow with the identity of 'f' changed. */
static void
desired_track(struct desired *d, const struct oflow *f)
{
    if (!oflow_table_find(&d->tracked, f)) {
        oflow_table_insert(&d->tracked, oflow_clone(f));
    }
}

/* Makes the flows of group 'key' in 'd' those of 'flows', whose flows it
 * takes (leaving 'flows' empty), and tracks what changed. */
void
desired_set_group(struct desired *d, const char *key,
                  struct oflow_table *flows)
{
    struct desired_group *g = desired_find_group(d, key);

    if (!g) {
        g = iovp_xzalloc(sizeof *g);
        g->key = iovp_xstrdup(key);
        hmap_insert(&d->groups, &g->node, desired_hash_key(key));
    }

    /* The group's old flows, to tell those kept from those gone. */
    struct oflow **old = g->flows;
    size_t n_old = g->n_flows;
    for (size_t i = 0; i < n_old; i++) {
        old[i]->group = NULL;   /* Unmarked: gone unless kept below. */
    }

    g->flows = iovp_xmalloc(MAX(1, oflow_table_count(flows))
                            * sizeof *g->flows);
    g->n_flows = 0;

    struct oflow *f;
    OFLOW_TABLE_FOR_EACH_SAFE (f, flows) {
        oflow_table_remove(flows, f);

        struct oflow *cur = oflow_table_find(&d->flows, f);
        if (cur && !cur->group && oflow_same_actions(cur, f)) {
            /* The same as before: kept. */
            cur->group = g;
            g->flows[g->n_flows++] = cur;
            oflow_destroy(f);
            continue;
        } else if (cur && cur->group) {
            struct ds s = DS_EMPTY_INITIALIZER;
            oflow_format(f, false, &s);
            VLOG_WARN_RL(&rl, "%s: flow %s: another flow has its match "
                         "and priority", key, ds_cstr(&s));
            ds_destroy(&s);
            oflow_destroy(f);
            continue;
        } else if (cur) {
            /* Changed: the old one goes now, the new one takes its
             * place. */
            oflow_table_remove(&d->flows, cur);
            for (size_t i = 0; i < n_old; i++) {
                if (old[i] == cur) {
                    old[i] = NULL;
                }
            }
            oflow_destroy(cur);
        }
        f->group = g;
        oflow_table_insert(&d->flows, f);
        g->flows[g->n_flows++] = f;
        desired_track(d, f);
    }

    for (size_t i = 0; i < n_old; i++) {
        if (old[i] && !old[i]->group) {
            desired_track(d, old[i]);
            oflow_table_remove(&d->flows, old[i]);
            oflow_destroy(old[i]);
        }
    }
    free(old);

    if (!g->n_flows) {
        hmap_remove(&d->groups, &g->node);
        free(g->key);
        free(g->flows);
        free(g);
    }
}

/* Removes group 'key' and its flows from 'd', if it is there. */
void
desired_remove_group(struct desired *d, const char *key)
{
    if (desired_find_group(d, key)) {
        struct oflow_table empty;

        oflow_table_init(&empty);
        desired_set_group(d, key, &empty);
        oflow_table_destroy(&empty);
    }
}

/* Returns true if 'd' has a group 'key' (with flows). */
bool
desired_has_group(const struct desired *d, const char *key)
{
    return desired_find_group(d, key) != NULL;
}

/* Returns the flows of group 'key' in 'd', and their number in '*n' (0 if
 * there is no such group). */
struct oflow *const *
desired_group_flows(const struct desired *d, const char *key, size_t *n)
{
    const struct desired_group *g = desired_find_group(d, key);

    *n = g ? g->n_flows : 0;
    return g ? g->flows : NULL;
}

/* Returns every desired flow. */
const struct oflow_table *
desired_flows(const struct desired *d)
{
    return &d->flows;
}

/* Returns the identities (table, priority, match) of the flows that
 * changed since the last desired_clear_tracked(): added, changed or
 * removed. */
const struct oflow_table *
desired_tracked(const struct desired *d)
{
    return &d->tracked;
}

void
desired_clear_tracked(struct desired *d)
{
    oflow_table_clear(&d->tracked);
}
