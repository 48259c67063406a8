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

#include "agent/xlate-capture.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/match.h>
#include <openvswitch/ofp-flow.h>
#include <openvswitch/shash.h>
#include <openvswitch/vlog.h>

#include "agent/pipeline-tables.h"
#include "agent/ports.h"
#include "agent/xlate-offload.h"
#include "lib/util.h"
#include "model/vtep-idl.h"
#include "offload/fastpath.h"
#include "ofp/desired.h"
#include "ofp/ofctrl.h"
#include "ofp/oflow.h"

VLOG_DEFINE_THIS_MODULE(xlate_capture);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* Captures of one port and direction, or of one logical switch, each have
 * a bit of a register: at most this many. */
#define CAPTURE_MAX_PER_POINT 32

struct capture {
    char *uuid;                 /* Its Iovp_Capture row's, or "session:"
                                 * and its device for a session. */
    char *name;
    bool session;               /* A session's, not a row's. */
    char *source;               /* The source port's name, or NULL. */
    int source_ofport;
    char *ls;                   /* Or the logical switch's name, or NULL. */
    uint64_t metadata;
    bool ingress, egress;       /* For a source port. */
    char *match;                /* The frames it selects ("": all). */
    struct fp_match fp;         /* The same for the fast path... */
    bool fp_ok;                 /* ...if it can say it. */
    int snaplen;                /* 0: whole frames. */
    char *dest;                 /* The capture port's name, or NULL. */
    int dest_ofport;
    char *fault;                /* Why it captures nothing, or NULL. */
};

struct xlate_capture {
    struct capture *captures;   /* By UUID. */
    size_t n;
    struct shash groups;        /* The desired groups made (a set). */
};

struct xlate_capture *
xlate_capture_create(void)
{
    struct xlate_capture *xc = iovp_xzalloc(sizeof *xc);

    shash_init(&xc->groups);
    return xc;
}

static void
captures_destroy(struct capture *cs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(cs[i].uuid);
        free(cs[i].name);
        free(cs[i].source);
        free(cs[i].ls);
        free(cs[i].match);
        free(cs[i].dest);
        free(cs[i].fault);
    }
    free(cs);
}

void
xlate_capture_destroy(struct xlate_capture *xc)
{
    if (xc) {
        captures_destroy(xc->captures, xc->n);
        shash_destroy(&xc->groups);
        free(xc);
    }
}

/* Returns the port of this switch ('ports') that 'pp' is, or NULL. */
static const struct port *
capture_port(const struct ports *ports,
             const struct hwvtep_physical_port *pp)
{
    const struct port *port = pp ? ports_find(ports, pp->name) : NULL;

    return port && !strcmp(port->uuid, pp->header_.uuid) ? port : NULL;
}

/* Returns NULL if 'match' is a valid capture match (see
 * xlate_offload_parse_match()), else why not, malloc()'d for the caller to
 * free. */
char *
xlate_capture_check_match(const char *match)
{
    struct fp_match fp;
    bool fp_ok;

    return xlate_offload_parse_match(match, &fp, &fp_ok);
}

/* Reads capture 'row' into 'c' from this switch's 'ports'. */
static void
capture_read(const struct hwvtep_iovp_capture *row, const struct ports *ports,
             struct capture *c)
{
    const struct port *source = capture_port(ports, row->source_port);
    const struct port *dest = capture_port(ports, row->destination);
    const char *dir = row->direction ? row->direction : "both";

    memset(c, 0, sizeof *c);
    c->uuid = iovp_xstrdup(row->header_.uuid);
    c->name = iovp_xstrdup(row->name);
    c->match = iovp_xstrdup(row->match);
    c->snaplen = row->n_snaplen ? row->snaplen[0] : 0;
    c->ingress = strcmp(dir, "egress") != 0;
    c->egress = strcmp(dir, "ingress") != 0;
    c->source = source ? iovp_xstrdup(source->name) : NULL;
    c->source_ofport = source ? source->ofport : -1;
    if (row->logical_switch && row->logical_switch->name[0]) {
        c->ls = iovp_xstrdup(row->logical_switch->name);
        c->metadata = pipeline_ls_metadata(c->ls);
    }
    c->dest = dest ? iovp_xstrdup(dest->name) : NULL;
    c->dest_ofport = dest ? dest->ofport : -1;

    c->fault = xlate_offload_parse_match(c->match, &c->fp, &c->fp_ok);
    if (c->fault) {
        return;
    } else if (!row->source_port == !row->logical_switch) {
        c->fault = iovp_xstrdup("it names neither or both of a source "
                                "port and a logical switch");
    } else if (row->source_port && !source) {
        c->fault = iovp_xstrdup("its source port is not one of this "
                                "switch's");
    } else if (row->logical_switch && !c->ls) {
        c->fault = iovp_xstrdup("its logical switch has no name");
    } else if (!dest || dest->profile != PORT_PROFILE_CAPTURE) {
        c->fault = iovp_xstrdup("its destination is not a capture port of "
                                "this switch (Iovp_Port profile=capture)");
    } else if (dest->ofport < 0 || (source && source->ofport < 0)) {
        c->fault = iovp_xstrdup("its source or destination port is not "
                                "on the bridge");
    } else if (source == dest) {
        c->fault = iovp_xstrdup("its source is its destination");
    }
}

/* Reads session 's' into 'c' from this switch's 'ports': a capture of both
 * directions of its source port. */
static void
capture_read_session(const struct xlate_capture_session *s,
                     const struct ports *ports, struct capture *c)
{
    const struct port *source = ports_find(ports, s->source);

    memset(c, 0, sizeof *c);
    c->uuid = iovp_xasprintf("session:%s", s->device);
    c->name = iovp_xstrdup(s->device);
    c->session = true;
    c->match = iovp_xstrdup(s->match);
    c->snaplen = s->snaplen;
    c->ingress = c->egress = true;
    c->source = source ? iovp_xstrdup(source->name) : NULL;
    c->source_ofport = source ? source->ofport : -1;
    c->dest = iovp_xstrdup(s->device);
    c->dest_ofport = s->dest_ofport;

    c->fault = xlate_offload_parse_match(c->match, &c->fp, &c->fp_ok);
    if (c->fault) {
        return;
    } else if (!source || source->ofport < 0) {
        c->fault = iovp_xasprintf("port %s is not a VM port of this switch "
                                  "on the bridge", s->source);
    } else if (s->dest_ofport < 0) {
        c->fault = iovp_xasprintf("its capture port %s is not on the bridge "
                                  "yet", s->device);
    }
}

static int
capture_compare(const void *a_, const void *b_)
{
    const struct capture *a = a_, *b = b_;

    return strcmp(a->uuid, b->uuid);
}

/* Adds to 'flows' the flow that 'format' gives, in ovs-ofctl's syntax
 * (oflow_table_add_vformat()). */
static void OVS_PRINTF_FORMAT(3, 4)
capture_add(struct oflow_table *flows, uint64_t cookie,
            const char *format, ...)
{
    va_list args;

    va_start(args, format);
    oflow_table_add_vformat(flows, cookie, format, args);
    va_end(args);
}

/* Adds to 'flows' the flow of 'c' in 'table' that copies what 'point'
 * (its match, with a comma after it) selects, with bit 'bit' of register
 * 'reg', and goes on in that table. */
static void
capture_flow(const struct capture *c, struct oflow_table *flows, int table,
             const char *point, int reg, int bit)
{
    uint64_t cookie = ofctrl_cookie(pipeline_capture_origin(c->uuid));
    char *copy = (c->snaplen
                  ? iovp_xasprintf("output(port=%d,max_len=%d)",
                                   c->dest_ofport, c->snaplen)
                  : iovp_xasprintf("output:%d", c->dest_ofport));

    capture_add(flows, cookie, "table=%d,priority=%d,%sreg%d=0/%#x%s%s "
                "actions=load:1->NXM_NX_REG%d[%d],%s,resubmit(,%d)",
                table, 200 + bit, point, reg, 1u << bit,
                c->match[0] ? "," : "", c->match, reg, bit, copy, table);
    free(copy);
}

/* Reads the captures anew from 'vtep', the 'n_sessions' 'sessions' and
 * the VM ports of this switch, 'ports', and makes their flows in
 * 'desired'.  Returns true if anything changed: flows, or a capture's
 * status. */
bool
xlate_capture_run(struct xlate_capture *xc, const struct odb_idl *vtep,
                  const struct xlate_capture_session *sessions,
                  size_t n_sessions, const struct ports *ports,
                  struct desired *desired)
{
    unsigned long long int n_changes = desired->n_changes;
    json_t *old_status = xlate_capture_status(xc, NULL, NULL);
    const struct hwvtep_iovp_capture *row;
    size_t n = 0, allocated = 0;
    struct capture *cs = NULL;

    HWVTEP_IOVP_CAPTURE_FOR_EACH (row, vtep) {
        if (n >= allocated) {
            allocated = 2 * allocated + 4;
            cs = iovp_xrealloc(cs, allocated * sizeof *cs);
        }
        capture_read(row, ports, &cs[n++]);
    }
    if (n_sessions) {
        cs = iovp_xrealloc(cs, (n + n_sessions) * sizeof *cs);
        for (size_t i = 0; i < n_sessions; i++) {
            capture_read_session(&sessions[i], ports, &cs[n++]);
        }
    }
    qsort(cs, n, sizeof *cs, capture_compare);

    /* Each capture point's next bit. */
    struct shash bits = SHASH_INITIALIZER(&bits);
    struct shash groups = SHASH_INITIALIZER(&groups);
    for (size_t i = 0; i < n; i++) {
        struct capture *c = &cs[i];
        struct oflow_table flows;

        oflow_table_init(&flows);
        for (int d = 0; !c->fault && d < 3; d++) {
            static const int regs[] = { 11, 12, 13 };
            static const int tables[] = {
                PIPELINE_T_CLASSIFY, PIPELINE_T_OUTPUT, PIPELINE_T_L2,
            };
            if ((d == 0 && !(c->source && c->ingress))
                || (d == 1 && !(c->source && c->egress))
                || (d == 2 && !c->ls)) {
                continue;
            }
            char *key = iovp_xasprintf("%d %s", d, d < 2 ? c->source : c->ls);
            struct shash_node *node = shash_find(&bits, key);
            int bit = node ? (intptr_t) node->data : 0;
            if (bit >= CAPTURE_MAX_PER_POINT) {
                c->fault = iovp_xasprintf("%d captures already take that "
                                          "port or logical switch",
                                          CAPTURE_MAX_PER_POINT);
                free(key);
                break;
            }
            shash_replace(&bits, key, (void *) (intptr_t) (bit + 1));
            free(key);

            char *point = (d == 0 ? iovp_xasprintf("in_port=%d,",
                                                   c->source_ofport)
                           : d == 1 ? iovp_xasprintf("reg7=%d,",
                                                     c->source_ofport)
                           : iovp_xasprintf("metadata=%#"PRIx64",",
                                            c->metadata));
            capture_flow(c, &flows, tables[d], point, regs[d], bit);
            free(point);
        }
        if (c->fault) {
            /* A session's fault is its client's to hear (see
             * xlate_capture_session_state()). */
            if (c->session) {
                VLOG_DBG("capture session %s captures nothing: %s",
                         c->name, c->fault);
            } else {
                VLOG_WARN_RL(&rl, "capture %s (%s) captures nothing: %s",
                             c->name, c->uuid, c->fault);
            }
            oflow_table_destroy(&flows);
            continue;
        }

        char *group = iovp_xasprintf("capture/%s", c->uuid);
        desired_set_group(desired, group, &flows);
        oflow_table_destroy(&flows);
        shash_add_nocopy(&groups, group, NULL);
    }
    shash_destroy(&bits);

    desired_keep_groups(desired, &xc->groups, &groups);
    shash_destroy(&groups);
    captures_destroy(xc->captures, xc->n);
    xc->captures = cs;
    xc->n = n;

    json_t *new_status = xlate_capture_status(xc, NULL, NULL);
    bool changed = (n_changes != desired->n_changes
                    || !json_equal(old_status, new_status));
    json_decref(old_status);
    json_decref(new_status);
    return changed;
}

/* Returns what iovpd reports of the captures: {"UUID": {"status":
 * {"state", "reason"}, "statistics": {"packets", "bytes"}}}, the
 * statistics (the copies its flows made) only with 'installed' (and
 * 'desired', whose flows it counts).  Only the captures whose source port
 * or destination is this switch's are there: another switch may report
 * the others. */
json_t *
xlate_capture_status(const struct xlate_capture *xc,
                     const struct desired *desired,
                     const struct oflow_table *installed)
{
    json_t *all = json_object();

    for (size_t i = 0; i < xc->n; i++) {
        const struct capture *c = &xc->captures[i];
        if ((!c->source && !c->dest) || c->session) {
            continue;
        }
        json_t *status = json_pack("{s:s}", "state",
                                   c->fault ? "invalid" : "applied");
        if (c->fault) {
            json_object_set_new(status, "reason", json_string(c->fault));
        }
        json_t *o = json_pack("{s:o}", "status", status);
        if (installed && !c->fault) {
            char *group = iovp_xasprintf("capture/%s", c->uuid);
            size_t n;
            struct oflow *const *flows = desired_group_flows(desired, group,
                                                             &n);
            uint64_t packets = 0, bytes = 0;
            for (size_t j = 0; j < n; j++) {
                const struct oflow *inst = oflow_table_find(installed,
                                                            flows[j]);
                if (inst) {
                    packets += oflow_get_stats(inst)->n_packets;
                    bytes += oflow_get_stats(inst)->n_bytes;
                }
            }
            free(group);
            json_object_set_new(o, "statistics", json_pack(
                "{s:I, s:I}", "packets", (json_int_t) packets,
                "bytes", (json_int_t) bytes));
        }
        json_object_set_new(all, c->uuid, o);
    }
    return all;
}

/* Returns what "show" prints of the captures of this switch's ports: an
 * array of {"name", "source" or "logical_switch", "direction", "match",
 * "snaplen", "destination", "status", "statistics"} by UUID, the status
 * and statistics as xlate_capture_status() gives them. */
json_t *
xlate_capture_describe(const struct xlate_capture *xc,
                       const struct desired *desired,
                       const struct oflow_table *installed)
{
    json_t *status = xlate_capture_status(xc, desired, installed);
    json_t *all = json_array();

    for (size_t i = 0; i < xc->n; i++) {
        const struct capture *c = &xc->captures[i];
        json_t *s = json_object_get(status, c->uuid);
        if (!s) {
            continue;
        }
        json_array_append_new(all, json_pack(
            "{s:s, s:s?, s:s?, s:s, s:s, s:i, s:s?, s:O, s:O?}",
            "name", c->name, "source", c->source, "logical_switch", c->ls,
            "direction", (c->ingress && c->egress ? "both"
                          : c->ingress ? "ingress" : "egress"),
            "match", c->match, "snaplen", c->snaplen,
            "destination", c->dest,
            "status", json_object_get(s, "status"),
            "statistics", json_object_get(s, "statistics")));
    }
    json_decref(status);
    return all;
}

/* Returns the state of session 'device''s capture: 0 if the switch holds
 * its flows ('installed' has every flow of it that 'desired' has),
 * -EAGAIN if not yet, -ENOENT if the last run had no such session, or
 * -EINVAL if it captures nothing, with why in '*fault' (borrowed: valid
 * until the next run). */
int
xlate_capture_session_state(const struct xlate_capture *xc,
                            const char *device, const struct desired *desired,
                            const struct oflow_table *installed,
                            const char **fault)
{
    *fault = NULL;
    for (size_t i = 0; i < xc->n; i++) {
        const struct capture *c = &xc->captures[i];
        if (!c->session || strcmp(c->name, device)) {
            continue;
        }
        if (c->fault) {
            /* A port that OVS has not numbered yet comes. */
            if (c->dest_ofport < 0) {
                return -EAGAIN;
            }
            *fault = c->fault;
            return -EINVAL;
        }

        char *group = iovp_xasprintf("capture/%s", c->uuid);
        size_t n;
        struct oflow *const *flows = desired_group_flows(desired, group, &n);
        free(group);
        if (!n) {
            return -EAGAIN;
        }
        for (size_t j = 0; j < n; j++) {
            if (!oflow_table_find(installed, flows[j])) {
                return -EAGAIN;
            }
        }
        return 0;
    }
    return -ENOENT;
}

/* Stores in '*punts' (malloc()'d) and '*n' the matches of what VM port
 * 'port' sends that a capture selects and OVS must see, so that it copies
 * it: what a capture of the port's ingress, or of a logical switch the
 * port is bound to untagged, selects (everything, where the fast path
 * cannot say the capture's match). */
void
xlate_capture_punts(const struct xlate_capture *xc, const struct port *port,
                    struct fp_match **punts, size_t *n)
{
    const struct port_binding *b = port_find_binding(port, 0);

    *punts = iovp_xmalloc(MAX(xc->n, 1) * sizeof **punts);
    *n = 0;
    for (size_t i = 0; i < xc->n; i++) {
        const struct capture *c = &xc->captures[i];
        if (c->fault
            || !(c->source
                 ? c->ingress && !strcmp(c->source, port->name)
                 : b && !strcmp(c->ls, b->ls))) {
            continue;
        }
        if (c->fp_ok) {
            (*punts)[(*n)++] = c->fp;
        } else {
            fp_match_init_catchall(&(*punts)[(*n)++]);
        }
    }
}

/* Returns true if a capture selects what leaves toward 'port': then the
 * NIC forwards nothing to it. */
bool
xlate_capture_watches(const struct xlate_capture *xc,
                      const struct port *port)
{
    for (size_t i = 0; i < xc->n; i++) {
        const struct capture *c = &xc->captures[i];
        if (!c->fault && c->source && c->egress
            && !strcmp(c->source, port->name)) {
            return true;
        }
    }
    return false;
}
