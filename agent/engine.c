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

#include "agent/engine.h"

#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/util.h>
#include <openvswitch/vlog.h>

#include "lib/util.h"

VLOG_DEFINE_THIS_MODULE(engine);

void
engine_init(struct engine *e)
{
    memset(e, 0, sizeof *e);
}

/* Frees what 'e' holds of its own (not its nodes, which are their
 * owner's).  Accepts NULL. */
void
engine_destroy(struct engine *e)
{
    if (e) {
        free(e->nodes);
        e->nodes = NULL;
        e->n_nodes = e->allocated = 0;
    }
}

static bool
engine_contains(const struct engine *e, const struct engine_node *node)
{
    for (size_t i = 0; i < e->n_nodes; i++) {
        if (e->nodes[i] == node) {
            return true;
        }
    }
    return false;
}

/* Adds 'node', whose inputs must be in 'e' already, so that the order in
 * which nodes are added is one in which each comes after its inputs.  The
 * node recomputes in the first run. */
void
engine_add_node(struct engine *e, struct engine_node *node)
{
    for (size_t i = 0; i < node->n_inputs; i++) {
        ovs_assert(engine_contains(e, node->inputs[i].node));
    }
    if (e->n_nodes >= e->allocated) {
        e->allocated = e->allocated ? 2 * e->allocated : 16;
        e->nodes = iovp_xrealloc(e->nodes,
                                 e->allocated * sizeof *e->nodes);
    }
    e->nodes[e->n_nodes++] = node;
    node->stale = node->run != NULL;
    node->changed = node->run == NULL;
}

/* Makes 'input' an input of 'node': a change of 'input' is handled by
 * 'handler', or, if it is NULL, makes 'node' recompute. */
void
engine_add_input(struct engine_node *node, struct engine_node *input,
                 engine_handler_func *handler)
{
    ovs_assert(node->n_inputs < ENGINE_MAX_INPUTS);
    node->inputs[node->n_inputs++] = (struct engine_input) {
        .node = input, .handler = handler,
    };
}

/* Marks input node 'input' changed: its dependents look at it in the next
 * run. */
void
engine_input_changed(struct engine_node *input)
{
    ovs_assert(!input->run);
    input->changed = true;
}

/* Makes every node recompute in the next run (debug/recompute). */
void
engine_force_recompute(struct engine *e)
{
    e->n_forced++;
    for (size_t i = 0; i < e->n_nodes; i++) {
        if (e->nodes[i]->run) {
            e->nodes[i]->stale = true;
        }
    }
}

/* Returns true if a run of 'e' would do anything. */
bool
engine_has_changes(const struct engine *e)
{
    for (size_t i = 0; i < e->n_nodes; i++) {
        if (e->nodes[i]->changed || e->nodes[i]->stale) {
            return true;
        }
    }
    return false;
}

static void
engine_recompute(struct engine_node *node, const char *why)
{
    VLOG_DBG("%s: recompute (%s)", node->name, why);
    node->stale = false;
    node->n_recomputes++;
    node->changed = node->run(node) != ENGINE_UNCHANGED;
}

/* Brings 'node' up to date with its inputs. */
static void
engine_run_node(struct engine_node *node)
{
    if (node->stale) {
        engine_recompute(node, "asked to");
        return;
    }

    bool handled = false;
    node->changed = false;
    for (size_t i = 0; i < node->n_inputs; i++) {
        struct engine_input *in = &node->inputs[i];
        if (!in->node->changed) {
            continue;
        }
        enum engine_result r = (in->handler
                                ? in->handler(node, in->node)
                                : ENGINE_RECOMPUTE);
        if (r == ENGINE_RECOMPUTE) {
            /* What handlers before changed stays changed, whatever the
             * run says of the data they left. */
            bool changed = node->changed;
            engine_recompute(node, in->node->name);
            node->changed = node->changed || changed;
            return;
        }
        node->changed = node->changed || r == ENGINE_CHANGED;
        handled = true;
    }
    if (handled) {
        node->n_incremental++;
    }
}

/* Runs every node that has an input changed or was made to recompute, in
 * order, and returns true if any node changed.  The changes stay visible
 * (each node's 'changed' and what it tracked) until engine_clear(). */
bool
engine_run(struct engine *e)
{
    bool any = false;

    e->n_runs++;
    for (size_t i = 0; i < e->n_nodes; i++) {
        struct engine_node *node = e->nodes[i];
        if (node->run) {
            engine_run_node(node);
            if (node->changed) {
                node->n_changed++;
            }
        }
        any = any || node->changed;
    }
    return any;
}

/* Ends the run just done: no node is changed any longer, and each forgets
 * what it tracked. */
void
engine_clear(struct engine *e)
{
    for (size_t i = 0; i < e->n_nodes; i++) {
        struct engine_node *node = e->nodes[i];
        if (node->clear) {
            node->clear(node);
        }
        node->changed = false;
    }
}

/* Returns a new reference to what engine/show answers: {"runs": N,
 * "forced_recomputes": N, "nodes": [{"name", "inputs": [{"node",
 * "handler": bool}], "recomputes", "incremental", "changed"}]}, the nodes
 * in the order they run. */
json_t *
engine_show(const struct engine *e)
{
    json_t *nodes = json_array();

    for (size_t i = 0; i < e->n_nodes; i++) {
        const struct engine_node *node = e->nodes[i];
        json_t *inputs = json_array();

        for (size_t j = 0; j < node->n_inputs; j++) {
            json_array_append_new(inputs, json_pack(
                "{s:s, s:b}", "node", node->inputs[j].node->name,
                "handler", node->inputs[j].handler != NULL));
        }
        json_array_append_new(nodes, json_pack(
            "{s:s, s:b, s:o, s:I, s:I, s:I}", "name", node->name,
            "input", node->run == NULL, "inputs", inputs,
            "recomputes", (json_int_t) node->n_recomputes,
            "incremental", (json_int_t) node->n_incremental,
            "changed", (json_int_t) node->n_changed));
    }
    return json_pack("{s:I, s:I, s:o}", "runs", (json_int_t) e->n_runs,
                     "forced_recomputes", (json_int_t) e->n_forced,
                     "nodes", nodes);
}

/* Returns engine_show()'s 'show' as text, one node a line with its inputs
 * ("input <- handled, recomputes"), to be freed by the caller. */
char *
engine_show_text(const json_t *show)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    size_t i;
    const json_t *node;

    ds_put_format(&s, "runs: %"JSON_INTEGER_FORMAT", forced recomputes: %"
                  JSON_INTEGER_FORMAT"\n",
                  json_integer_value(json_object_get(show, "runs")),
                  json_integer_value(json_object_get(show,
                                                     "forced_recomputes")));
    json_array_foreach (json_object_get(show, "nodes"), i, node) {
        const char *name = json_string_value(json_object_get(node, "name"));
        if (json_is_true(json_object_get(node, "input"))) {
            ds_put_format(&s, "%s (input)\n", name);
            continue;
        }
        ds_put_format(&s, "%s: recomputes %"JSON_INTEGER_FORMAT
                      ", incremental %"JSON_INTEGER_FORMAT
                      ", changed %"JSON_INTEGER_FORMAT"\n", name,
                      json_integer_value(json_object_get(node, "recomputes")),
                      json_integer_value(json_object_get(node,
                                                         "incremental")),
                      json_integer_value(json_object_get(node, "changed")));
        size_t j;
        const json_t *in;
        json_array_foreach (json_object_get(node, "inputs"), j, in) {
            ds_put_format(&s, "    <- %s (%s)\n",
                          json_string_value(json_object_get(in, "node")),
                          json_is_true(json_object_get(in, "handler"))
                          ? "handled" : "recomputes");
        }
    }
    return ds_steal_cstr(&s);
}
