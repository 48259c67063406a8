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

#include "agent/xlate-steer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/vlog.h>

#include "agent/ports.h"
#include "agent/xlate-offload.h"
#include "lib/util.h"
#include "model/vtep-idl.h"
#include "offload/backend.h"
#include "offload/nicctrl.h"

VLOG_DEFINE_THIS_MODULE(xlate_steer);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

struct steering {
    char *uuid;                 /* Its Iovp_Steering row's. */
    char *name;
    char *port;                 /* Its VM port's name. */
    char *match;
    struct offload_steer rule;  /* Its match, CPU and id. */
    int priority;
    char *fault;                /* Why it steers nothing, or NULL. */
};

struct xlate_steer {
    struct steering *rules;     /* By port, then in the order they apply. */
    size_t n;
};

struct xlate_steer *
xlate_steer_create(void)
{
    return iovp_xzalloc(sizeof(struct xlate_steer));
}

static void
steerings_destroy(struct steering *rules, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rules[i].uuid);
        free(rules[i].name);
        free(rules[i].port);
        free(rules[i].match);
        free(rules[i].fault);
    }
    free(rules);
}

void
xlate_steer_destroy(struct xlate_steer *xs)
{
    if (xs) {
        steerings_destroy(xs->rules, xs->n);
        free(xs);
    }
}

/* Reads 'row' into 's', if its port is a VM port of this switch ('ports');
 * returns false if it is not (another switch may steer by it). */
static bool
steering_read(const struct hwvtep_iovp_steering *row,
              const struct ports *ports, struct steering *s)
{
    const struct hwvtep_physical_port *pp = row->port;
    const struct port *port = pp ? ports_find(ports, pp->name) : NULL;
    bool fp_ok;

    if (!port || strcmp(port->uuid, pp->header_.uuid)) {
        return false;
    }
    memset(s, 0, sizeof *s);
    s->uuid = iovp_xstrdup(row->header_.uuid);
    s->name = iovp_xstrdup(row->name);
    s->port = iovp_xstrdup(port->name);
    s->match = iovp_xstrdup(row->match);
    s->priority = row->n_priority ? row->priority[0] : 0;
    s->rule.cpu = row->cpu;
    char head[9];               /* The UUID's first 32 bits name it. */
    snprintf(head, sizeof head, "%s", s->uuid);
    s->rule.id = strtoul(head, NULL, 16);
    s->fault = xlate_offload_parse_match(s->match, &s->rule.match, &fp_ok);
    if (!s->fault && !fp_ok) {
        s->fault = iovp_xasprintf("its match \"%s\" names fields that the "
                                  "fast path does not read", s->match);
    }
    return true;
}

static int
steering_compare(const void *a_, const void *b_)
{
    const struct steering *a = a_, *b = b_;
    int cmp = strcmp(a->port, b->port);

    return (cmp ? cmp
            : a->priority != b->priority ? (a->priority > b->priority ? -1 : 1)
            : strcmp(a->uuid, b->uuid));
}

/* Reads the steering rules anew from 'vtep' for the VM ports of this
 * switch, 'ports'.  Returns true if anything changed. */
bool
xlate_steer_run(struct xlate_steer *xs, const struct odb_idl *vtep,
                const struct ports *ports)
{
    const struct hwvtep_iovp_steering *row;
    struct steering *rules = NULL;
    size_t n = 0, allocated = 0;

    HWVTEP_IOVP_STEERING_FOR_EACH (row, vtep) {
        if (n >= allocated) {
            allocated = 2 * allocated + 4;
            rules = iovp_xrealloc(rules, allocated * sizeof *rules);
        }
        if (steering_read(row, ports, &rules[n])) {
            if (rules[n].fault) {
                VLOG_WARN_RL(&rl, "steering %s (%s) steers nothing: %s",
                             rules[n].name, rules[n].uuid, rules[n].fault);
            }
            n++;
        }
    }
    qsort(rules, n, sizeof *rules, steering_compare);

    /* Ids name a port's rules to the NIC: unique within the port. */
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j-- > 0 && !strcmp(rules[j].port, rules[i].port);) {
            if (rules[j].rule.id == rules[i].rule.id) {
                rules[i].rule.id++;
                j = i;
            }
        }
    }

    bool changed = n != xs->n;
    for (size_t i = 0; i < n && !changed; i++) {
        const struct steering *a = &rules[i], *b = &xs->rules[i];
        changed = (strcmp(a->uuid, b->uuid) || strcmp(a->port, b->port)
                   || strcmp(a->name, b->name) || strcmp(a->match, b->match)
                   || a->priority != b->priority
                   || a->rule.cpu != b->rule.cpu || a->rule.id != b->rule.id
                   || !a->fault != !b->fault
                   || (a->fault && strcmp(a->fault, b->fault)));
    }
    steerings_destroy(xs->rules, xs->n);
    xs->rules = rules;
    xs->n = n;
    return changed;
}

/* Stores in '*rulesp' (malloc()'d) and '*n' the steering rules of VM port
 * 'port', in the order they apply. */
void
xlate_steer_port(const struct xlate_steer *xs, const struct port *port,
                 struct offload_steer **rulesp, size_t *n)
{
    *rulesp = iovp_xmalloc(MAX(xs->n, 1) * sizeof **rulesp);
    *n = 0;
    for (size_t i = 0; i < xs->n; i++) {
        const struct steering *s = &xs->rules[i];
        if (!s->fault && !strcmp(s->port, port->name)) {
            (*rulesp)[(*n)++] = s->rule;
        }
    }
}

/* Returns why the NIC does not steer by the rules of a port, for the
 * error 'error' that nicctrl gives. */
static const char *
steer_reason(int error)
{
    switch (error) {
    case -ENODEV:
        return ("the port's fast path is not in the NIC (iovpd runs "
                "without --offload, the port's profile is plain or "
                "capture, or its fast path holds nothing yet)");
    case -EOPNOTSUPP:
        return ("the offload backend cannot steer (xdp steers in native "
                "mode only)");
    case -EINVAL:
        return ("one of the port's steering rules names a CPU that is not "
                "online");
    case -E2BIG:
        return "the port has more steering rules than the NIC holds";
    default:
        return "the NIC refused the port's steering rules";
    }
}

/* Returns what iovpd reports of the steering rules of this switch's ports:
 * {"UUID": {"status": {"state", "reason"}, "statistics": {"packets",
 * "bytes", "cpuN_packets", "cpuN_bytes", "cpuN_queue_drops"...}}}, with
 * 'nc' the NIC (or NULL without offload). */
json_t *
xlate_steer_status(const struct xlate_steer *xs, const struct nicctrl *nc)
{
    json_t *all = json_object();
    struct offload_steer_stats *stats = NULL;
    size_t n_stats = 0;
    const char *stats_port = NULL;

    for (size_t i = 0; i < xs->n; i++) {
        const struct steering *s = &xs->rules[i];
        int error = (s->fault ? 0
                     : nc ? nicctrl_steering_error(nc, s->port) : -ENODEV);
        json_t *status = json_pack("{s:s}", "state",
                                   s->fault ? "invalid"
                                   : error ? "not applied" : "applied");
        if (s->fault || error) {
            json_object_set_new(status, "reason", json_string(
                                    s->fault ? s->fault
                                    : steer_reason(error)));
        }

        json_t *counts = json_object();
        uint64_t packets = 0, bytes = 0;
        if (nc && !s->fault && !error) {
            if (!stats_port || strcmp(stats_port, s->port)) {
                free(stats);
                nicctrl_steer_stats(nc, s->port, &stats, &n_stats);
                stats_port = s->port;
            }
            for (size_t j = 0; j < n_stats; j++) {
                if (stats[j].id != s->rule.id) {
                    continue;
                }
                char key[32];
                snprintf(key, sizeof key, "cpu%"PRIu32"_packets",
                         stats[j].cpu);
                json_object_set_new(counts, key,
                                    json_integer(stats[j].n_packets));
                snprintf(key, sizeof key, "cpu%"PRIu32"_bytes",
                         stats[j].cpu);
                json_object_set_new(counts, key,
                                    json_integer(stats[j].n_bytes));
                snprintf(key, sizeof key, "cpu%"PRIu32"_queue_drops",
                         stats[j].cpu);
                json_object_set_new(counts, key,
                                    json_integer(stats[j].n_queue_drops));
                packets += stats[j].n_packets;
                bytes += stats[j].n_bytes;
            }
        }
        json_object_set_new(counts, "packets", json_integer(packets));
        json_object_set_new(counts, "bytes", json_integer(bytes));
        json_object_set_new(all, s->uuid, json_pack("{s:o, s:o}",
                                                    "status", status,
                                                    "statistics", counts));
    }
    free(stats);
    return all;
}

/* Returns what "show" prints of the steering rules of this switch's ports:
 * an array of {"name", "port", "match", "cpu", "priority", "status",
 * "statistics"} in the order they apply, the status and statistics as
 * xlate_steer_status() gives them. */
json_t *
xlate_steer_describe(const struct xlate_steer *xs, const struct nicctrl *nc)
{
    json_t *status = xlate_steer_status(xs, nc);
    json_t *all = json_array();

    for (size_t i = 0; i < xs->n; i++) {
        const struct steering *s = &xs->rules[i];
        json_t *o = json_object_get(status, s->uuid);
        json_array_append_new(all, json_pack(
            "{s:s, s:s, s:s, s:I, s:i, s:O, s:O}",
            "name", s->name, "port", s->port, "match", s->match,
            "cpu", (json_int_t) s->rule.cpu, "priority", s->priority,
            "status", json_object_get(o, "status"),
            "statistics", json_object_get(o, "statistics")));
    }
    json_decref(status);
    return all;
}
