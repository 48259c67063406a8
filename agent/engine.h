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

#ifndef IOVP_ENGINE_H
#define IOVP_ENGINE_H 1

/* An incremental processing engine, in the manner of OVN's
 * lib/inc-proc-eng.h.
 *
 * What iovpd computes is a graph of nodes.  An input node holds something
 * that changes from outside (the rows of some tables, the flows' counters)
 * and is marked changed by whoever sees the change.  Every other node
 * computes its data from its inputs: by its 'run' function, a full
 * recompute, or, for a change of an input that has a handler, by the
 * handler, which brings the node's data up to date with that input's
 * change alone, or gives up and has the node recompute.  A node whose
 * inputs did not change does nothing.  Each run and handler says whether
 * the node's data changed, which is what its own dependents see.
 *
 * The engine does no I/O and knows nothing of what its nodes compute: a
 * node's data, and the context it needs, are its owner's. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* What a run or a change handler did to its node's data. */
enum engine_result {
    ENGINE_UNCHANGED,           /* Nothing that a dependent would see. */
    ENGINE_CHANGED,             /* Changed. */
    ENGINE_RECOMPUTE,           /* (A handler only.) Cannot handle this
                                 * change: the node recomputes. */
};

struct engine_node;

/* Recomputes 'node''s data from all of its inputs. */
typedef enum engine_result engine_run_func(struct engine_node *node);

/* Brings 'node''s data up to date with the change of its input 'input'. */
typedef enum engine_result engine_handler_func(struct engine_node *node,
                                               struct engine_node *input);

/* Forgets what 'node' tracked of the changes of the run just done (for an
 * input node: the changes that it was given). */
typedef void engine_clear_func(struct engine_node *node);

#define ENGINE_MAX_INPUTS 8

struct engine_input {
    struct engine_node *node;
    engine_handler_func *handler;   /* NULL: a change recomputes. */
};

struct engine_node {
    const char *name;
    void *data;                 /* Its owner's. */
    engine_run_func *run;       /* NULL for an input node. */
    engine_clear_func *clear;   /* NULL if it tracks nothing. */
    struct engine_input inputs[ENGINE_MAX_INPUTS];
    size_t n_inputs;

    /* The engine's. */
    bool changed;               /* In the run under way or just done; for
                                 * an input node, since the last run. */
    bool stale;                 /* Recomputes in the next run.  A run may
                                 * set it, to run again in the next one: it
                                 * waits for a node that does its work over
                                 * several runs. */
    unsigned long long int n_recomputes;    /* Runs by 'run'. */
    unsigned long long int n_incremental;   /* Runs by handlers only. */
    unsigned long long int n_changed;       /* Runs that changed it. */
};

struct engine {
    struct engine_node **nodes; /* Each after its inputs. */
    size_t n_nodes, allocated;
    unsigned long long int n_runs;
    unsigned long long int n_forced;    /* Forced recomputes. */
};

void engine_init(struct engine *);
void engine_destroy(struct engine *);

void engine_add_node(struct engine *, struct engine_node *);
void engine_add_input(struct engine_node *, struct engine_node *input,
                      engine_handler_func *);

void engine_input_changed(struct engine_node *);
void engine_force_recompute(struct engine *);
bool engine_has_changes(const struct engine *);
bool engine_run(struct engine *);
void engine_clear(struct engine *);

json_t *engine_show(const struct engine *);
char *engine_show_text(const json_t *);

#endif /* agent/engine.h */
