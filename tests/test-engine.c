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

/* "test-iovp engine SEED COUNT": COUNT runs of a random graph of the
 * engine (agent/engine.h), each after random changes of its inputs, each
 * checked against what the engine promises:
 *
 *   - every node's data is what a recompute from the inputs gives,
 *     whether it was brought there by handlers (which sometimes give up),
 *     by its run function, or left alone;
 *   - a node runs (by handlers or its run function) only when an input
 *     changed or it was made to recompute, and says that it changed
 *     exactly when its data changed;
 *   - debug/recompute (engine_force_recompute()) recomputes every node.
 *
 * A node's data is a number: the sum of its inputs' numbers times a factor
 * of its own, modulo a prime, so that a handler can take in one input's
 * change by its difference alone.
 *
 * Prints the first disagreement and exits 1, or "COUNT runs, N recomputes,
 * M incremental, 0 disagreements". */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/engine.h"
#include "lib/util.h"
#include "tests/test-iovp.h"

#define N_INPUTS 5
#define N_NODES 12
#define PRIME 1000003

struct test_node {
    struct engine_node node;
    long long int value;        /* Its data. */
    long long int prev;         /* As the last run left it. */
    long long int factor;
    int n_runs;                 /* Runs by handlers or 'run', this run. */
};

static unsigned long long int rng_state;

static unsigned int
rng(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng_state >> 33;
}

/* How often a handler gives up, in percent. */
static int give_up = 10;

static struct test_node *
test_node_cast(struct engine_node *node)
{
    return node->data;
}

static long long int
test_node_compute(const struct test_node *t)
{
    long long int sum = 0;

    for (size_t i = 0; i < t->node.n_inputs; i++) {
        sum += test_node_cast(t->node.inputs[i].node)->value;
    }
    return sum % PRIME * t->factor % PRIME;
}

static enum engine_result
test_node_run(struct engine_node *node)
{
    struct test_node *t = test_node_cast(node);

    t->n_runs++;
    t->value = test_node_compute(t);
    return t->value != t->prev ? ENGINE_CHANGED : ENGINE_UNCHANGED;
}

static enum engine_result
test_node_handler(struct engine_node *node, struct engine_node *input)
{
    struct test_node *t = test_node_cast(node);
    const struct test_node *in = test_node_cast(input);

    if (rng() % 100 < (unsigned int) give_up) {
        return ENGINE_RECOMPUTE;
    }
    t->n_runs++;
    long long int delta = (in->value - in->prev + PRIME) % PRIME;
    long long int before = t->value;
    t->value = (t->value + delta * t->factor) % PRIME;
    return t->value != before ? ENGINE_CHANGED : ENGINE_UNCHANGED;
}

static void
test_node_clear(struct engine_node *node)
{
    struct test_node *t = test_node_cast(node);

    t->prev = t->value;
}

/* The value node 'i' should have, computed from the inputs. */
static long long int
test_expected(struct test_node *nodes, size_t i)
{
    struct test_node *t = &nodes[i];

    if (!t->node.run) {
        return t->value;
    }
    long long int sum = 0;
    for (size_t j = 0; j < t->node.n_inputs; j++) {
        struct test_node *in = test_node_cast(t->node.inputs[j].node);
        sum += test_expected(nodes, in - nodes);
    }
    return sum % PRIME * t->factor % PRIME;
}

int
test_engine_main(int argc, char *argv[])
{
    if (argc != 3) {
        iovp_fatal(0, "usage: test-iovp engine SEED COUNT");
    }
    rng_state = strtoull(argv[1], NULL, 10);
    int count = atoi(argv[2]);

    struct test_node nodes[N_INPUTS + N_NODES];
    static char names[N_INPUTS + N_NODES][16];
    struct engine e;

    memset(nodes, 0, sizeof nodes);
    engine_init(&e);
    for (size_t i = 0; i < N_INPUTS + N_NODES; i++) {
        struct test_node *t = &nodes[i];
        snprintf(names[i], sizeof names[i], "%s%zu",
                 i < N_INPUTS ? "in" : "n", i);
        t->node.name = names[i];
        t->node.data = t;
        t->node.clear = test_node_clear;
        t->factor = 2 + rng() % 97;
        if (i >= N_INPUTS) {
            /* One to three inputs among the nodes before it. */
            t->node.run = test_node_run;
            size_t n = 1 + rng() % 3;
            for (size_t j = 0; j < n; j++) {
                struct test_node *in = &nodes[rng() % i];
                bool dup = false;
                for (size_t k = 0; k < t->node.n_inputs; k++) {
                    dup = dup || t->node.inputs[k].node == &in->node;
                }
                if (!dup) {
                    engine_add_input(&t->node, &in->node,
                                     rng() % 3 ? test_node_handler : NULL);
                }
            }
        }
        engine_add_node(&e, &t->node);
    }

    int n_errors = 0;
    for (int run = 0; run < count && !n_errors; run++) {
        bool forced = !(rng() % 50);
        if (forced) {
            engine_force_recompute(&e);
        }
        /* Change some inputs, some to the value they had. */
        bool any = forced || !run;
        for (size_t i = 0; i < N_INPUTS; i++) {
            if (!(rng() % 3)) {
                if (rng() % 4) {
                    nodes[i].value = rng() % PRIME;
                }
                engine_input_changed(&nodes[i].node);
                any = true;
            }
        }
        if (engine_has_changes(&e) != any) {
            printf("run %d: engine_has_changes() says %d\n", run, !any);
            n_errors++;
        }
        for (size_t i = 0; i < N_INPUTS + N_NODES; i++) {
            nodes[i].n_runs = 0;
        }

        engine_run(&e);

        for (size_t i = N_INPUTS; i < N_INPUTS + N_NODES && !n_errors; i++) {
            struct test_node *t = &nodes[i];
            long long int want = test_expected(nodes, i);
            bool input_changed = false;
            for (size_t j = 0; j < t->node.n_inputs; j++) {
                input_changed = (input_changed
                                 || t->node.inputs[j].node->changed);
            }
            if (t->value != want) {
                printf("run %d: %s is %lld, a recompute gives %lld\n", run,
                       t->node.name, t->value, want);
                n_errors++;
            } else if (t->node.changed != (t->value != t->prev)) {
                printf("run %d: %s says changed=%d, but it went from %lld "
                       "to %lld\n", run, t->node.name, t->node.changed,
                       t->prev, t->value);
                n_errors++;
            } else if (t->n_runs && !input_changed && !forced && run) {
                printf("run %d: %s ran with no input changed\n", run,
                       t->node.name);
                n_errors++;
            } else if (forced && t->n_runs != 1) {
                printf("run %d: %s ran %d times in a forced recompute\n",
                       run, t->node.name, t->n_runs);
                n_errors++;
            }
        }
        engine_clear(&e);
        if (engine_has_changes(&e)) {
            printf("run %d: changes left after engine_clear()\n", run);
            n_errors++;
        }
    }

    unsigned long long int n_recomputes = 0, n_incremental = 0;
    for (size_t i = N_INPUTS; i < N_INPUTS + N_NODES; i++) {
        n_recomputes += nodes[i].node.n_recomputes;
        n_incremental += nodes[i].node.n_incremental;
    }
    json_t *show = engine_show(&e);
    char *text = engine_show_text(show);
    if (json_integer_value(json_object_get(show, "runs")) != count
        && !n_errors) {
        printf("engine/show counts %"JSON_INTEGER_FORMAT" runs\n",
               json_integer_value(json_object_get(show, "runs")));
        n_errors++;
    }
    fputs(text, stderr);
    free(text);
    json_decref(show);
    engine_destroy(&e);

    if (!n_errors) {
        printf("%d runs, %s recomputes, %s incremental, 0 disagreements\n",
               count, n_recomputes ? "some" : "no",
               n_incremental ? "some" : "no");
    }
    return n_errors ? 1 : 0;
}
