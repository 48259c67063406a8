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

/* "test-iovp desired SEED COUNT": COUNT random changes of groups that claim
 * flows of a few shared identities, each checked against a model of what
 * ofp/desired.h promises:
 *
 *   - the desired flows are exactly the identities some group claims, each
 *     with the actions its claims make, whatever order they came in: all
 *     conjunction clauses give every conjunction once, in order; otherwise
 *     the actions of the first group's claim that is not a clause;
 *   - what desired_tracked() reports is enough: a switch that applies only
 *     the tracked identities after each change holds the desired flows;
 *   - each group's flows are the ones it was last given.
 *
 * Prints the first disagreement and exits 1, or "COUNT changes, N shared
 * identities seen, 0 disagreements". */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/match.h>

#include "lib/util.h"
#include "ofp/desired.h"
#include "ofp/oflow.h"
#include "tests/test-iovp.h"

#define N_GROUPS 6
#define N_IDS 8
#define COOKIE 0x10f0000000000001ULL

/* What a group makes of one identity: nothing, or one of these. */
enum claim {
    C_NONE,
    C_DROP,             /* "drop" */
    C_OUTPUT,           /* "output:1" */
    C_CLAUSE,           /* "conjunction(GROUP + 1, 1/2)" */
};

/* The model: per identity, the groups that claim it. */
struct model_id {
    int groups[N_GROUPS];
    enum claim claims[N_GROUPS];
    size_t n;
};

static unsigned int seed;

static unsigned int
rnd(unsigned int n)
{
    seed = seed * 1103515245 + 12345;
    return (seed >> 8) % n;
}

static char *
flow_text(int id, enum claim c, int group)
{
    const char *match = id % 2 ? "udp" : "tcp";
    int priority = 100 + id / 2;

    switch (c) {
    case C_DROP:
        return iovp_xasprintf("table=10,priority=%d,%s,tp_dst=%d "
                              "actions=drop", priority, match, id);
    case C_OUTPUT:
        return iovp_xasprintf("table=10,priority=%d,%s,tp_dst=%d "
                              "actions=output:1", priority, match, id);
    case C_CLAUSE:
        return iovp_xasprintf("table=10,priority=%d,%s,tp_dst=%d "
                              "actions=conjunction(%d,1/2)", priority, match,
                              id, group + 1);
    case C_NONE:
    default:
        abort();
    }
}

/* Returns the actions, as ovs-ofctl writes them, that the model says the
 * desired flow of 'm' has: of the claims that are not clauses, the first
 * group's; if all are clauses, every conjunction in order. */
static char *
model_actions(const struct model_id *m)
{
    int best = -1;
    for (size_t i = 0; i < m->n; i++) {
        if (m->claims[i] != C_CLAUSE
            && (best < 0 || m->groups[i] < m->groups[best])) {
            best = i;
        }
    }
    if (best >= 0) {
        return iovp_xstrdup(m->claims[best] == C_DROP ? "drop" : "output:1");
    }

    struct ds s = DS_EMPTY_INITIALIZER;
    for (int g = 0; g < N_GROUPS; g++) {
        for (size_t i = 0; i < m->n; i++) {
            if (m->groups[i] == g) {
                ds_put_format(&s, "%sconjunction(%d,1/2)", s.length ? "," : "",
                              g + 1);
            }
        }
    }
    return ds_steal_cstr(&s);
}

static char *
flow_actions(const struct oflow *f)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    oflow_format_actions(f, &s);
    return ds_steal_cstr(&s);
}

/* Parses 'text' into a new flow. */
static struct oflow *
flow_parse(const char *text)
{
    struct oflow_table t;
    oflow_table_init(&t);
    char *error = oflow_table_add_text(&t, COOKIE, text);
    if (error) {
        iovp_fatal(-1, "%s: %s", text, error);
    }
    struct oflow *f = CONTAINER_OF(hmap_first(&t.flows), struct oflow, node);
    oflow_table_remove(&t, f);
    oflow_table_destroy(&t);
    return f;
}

int
test_desired_main(int argc, char *argv[])
{
    if (argc != 3) {
        fprintf(stderr, "usage: test-iovp desired SEED COUNT\n");
        return 2;
    }
    seed = strtoul(argv[1], NULL, 10);
    int count = atoi(argv[2]);

    struct desired d;
    struct oflow_table sw;                 /* The simulated switch. */
    enum claim made[N_GROUPS][N_IDS];      /* What each group makes. */
    struct model_id model[N_IDS];
    int shared = 0;

    desired_init(&d);
    oflow_table_init(&sw);
    memset(made, 0, sizeof made);
    memset(model, 0, sizeof model);

    for (int step = 0; step < count; step++) {
        int g = rnd(N_GROUPS);
        enum claim next[N_IDS];

        /* A new set of flows for group 'g': often a small change of the
         * last, sometimes none at all (the group goes). */
        bool gone = rnd(8) == 0;
        for (int id = 0; id < N_IDS; id++) {
            next[id] = made[g][id];
            if (gone) {
                next[id] = C_NONE;
            } else if (rnd(3) == 0) {
                next[id] = rnd(4);
            }
        }

        struct oflow_table flows;
        oflow_table_init(&flows);
        for (int id = 0; id < N_IDS; id++) {
            if (next[id] != C_NONE) {
                char *text = flow_text(id, next[id], g);
                oflow_table_insert(&flows, flow_parse(text));
                free(text);
            }
        }
        char key[16];
        snprintf(key, sizeof key, "g%d", g);
        if (gone && rnd(2)) {
            desired_remove_group(&d, key);
        } else {
            desired_set_group(&d, key, &flows);
        }
        oflow_table_destroy(&flows);

        /* The model. */
        for (int id = 0; id < N_IDS; id++) {
            struct model_id *m = &model[id];
            size_t i;
            for (i = 0; i < m->n && m->groups[i] != g; i++) {
                continue;
            }
            if (next[id] == C_NONE && i < m->n) {
                memmove(&m->groups[i], &m->groups[i + 1],
                        (m->n - i - 1) * sizeof m->groups[0]);
                memmove(&m->claims[i], &m->claims[i + 1],
                        (m->n - i - 1) * sizeof m->claims[0]);
                m->n--;
            } else if (next[id] != C_NONE && i < m->n) {
                m->claims[i] = next[id];
            } else if (next[id] != C_NONE) {
                m->groups[m->n] = g;
                m->claims[m->n++] = next[id];
            }
            made[g][id] = next[id];
            shared += m->n > 1;
        }

        /* The switch applies what was tracked, as ofctrl_put() does. */
        const struct oflow *t;
        OFLOW_TABLE_FOR_EACH (t, desired_tracked(&d)) {
            struct oflow *have = oflow_table_find(&sw, t);
            struct oflow *want = oflow_table_find(desired_flows(&d), t);
            if (have) {
                oflow_table_remove(&sw, have);
                oflow_destroy(have);
            }
            if (want) {
                oflow_table_insert(&sw, oflow_clone(want));
            }
        }
        desired_clear_tracked(&d);

        /* Check. */
        size_t n_expected = 0;
        for (int id = 0; id < N_IDS; id++) {
            const struct model_id *m = &model[id];
            if (!m->n) {
                continue;
            }
            n_expected++;

            char *text = flow_text(id, m->claims[0], m->groups[0]);
            struct oflow *key_flow = flow_parse(text);
            free(text);
            const struct oflow *w = oflow_table_find(desired_flows(&d),
                                                     key_flow);
            const struct oflow *s = oflow_table_find(&sw, key_flow);
            oflow_destroy(key_flow);

            char *expected = model_actions(m);
            char *got = w ? flow_actions(w) : iovp_xstrdup("(none)");
            char *on_switch = s ? flow_actions(s) : iovp_xstrdup("(none)");
            bool ok = !strcmp(expected, got) && !strcmp(expected, on_switch);
            if (!ok) {
                printf("step %d: identity %d: expected actions %s, desired "
                       "%s, switch %s\n", step, id, expected, got,
                       on_switch);
            }
            free(expected);
            free(got);
            free(on_switch);
            if (!ok) {
                return 1;
            }
        }
        if (oflow_table_count(desired_flows(&d)) != n_expected
            || oflow_table_count(&sw) != n_expected) {
            printf("step %d: %zu identities claimed, %zu"
                   " desired, %zu on the switch\n", step,
                   n_expected, oflow_table_count(desired_flows(&d)),
                   oflow_table_count(&sw));
            return 1;
        }

        /* Each group's flows are what it was given. */
        for (int h = 0; h < N_GROUPS; h++) {
            char hkey[16];
            size_t n, n_made = 0;
            snprintf(hkey, sizeof hkey, "g%d", h);
            struct oflow *const *gf = desired_group_flows(&d, hkey, &n);
            for (int id = 0; id < N_IDS; id++) {
                n_made += made[h][id] != C_NONE;
            }
            if (n != n_made) {
                printf("step %d: group %d has %zu flows, not %zu\n", step,
                       h, n, n_made);
                return 1;
            }
            for (int id = 0; id < N_IDS; id++) {
                if (made[h][id] == C_NONE) {
                    continue;
                }
                char *text = flow_text(id, made[h][id], h);
                struct oflow *want = flow_parse(text);
                bool found = false;
                for (size_t i = 0; i < n; i++) {
                    found = found || (oflow_same_identity(gf[i], want)
                                      && oflow_same_actions(gf[i], want));
                }
                oflow_destroy(want);
                if (!found) {
                    printf("step %d: group %d lacks %s\n", step, h, text);
                    free(text);
                    return 1;
                }
                free(text);
            }
        }
    }

    /* The switch's flows read back, as after a restart: each is made anew
     * from the switch's match and actions, and shares them with the desired
     * flow that has the same (they are interned), so that reading them
     * back takes no second copy. */
    struct oflow_table read;
    const struct oflow *t;
    oflow_table_init(&read);
    OFLOW_TABLE_FOR_EACH (t, &sw) {
        struct match m;
        minimatch_expand(&t->data->match, &m);
        oflow_table_insert(&read, oflow_create(t->table_id, t->priority,
                                               t->cookie, &m,
                                               t->data->ofpacts,
                                               t->data->ofpacts_len));
    }
    const struct oflow *r;
    OFLOW_TABLE_FOR_EACH (r, &read) {
        const struct oflow *w = oflow_table_find(desired_flows(&d), r);
        if (!w || r->data != w->data) {
            printf("a flow read back does not share the match and actions "
                   "of the desired flow\n");
            return 1;
        }
    }

    desired_destroy(&d);
    oflow_table_destroy(&read);
    oflow_table_destroy(&sw);
    printf("%d changes, %d shared identities seen, 0 disagreements\n",
           count, shared);
    return 0;
}
