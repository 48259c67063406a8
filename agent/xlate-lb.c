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

#include "agent/xlate-lb.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/match.h>
#include <openvswitch/shash.h>
#include <openvswitch/vlog.h>

#include "agent/pipeline-tables.h"
#include "agent/ports.h"
#include "lib/util.h"
#include "model/vtep-idl.h"
#include "offload/fastpath.h"
#include "ofp/desired.h"
#include "ofp/ofctrl.h"
#include "ofp/oflow.h"

VLOG_DEFINE_THIS_MODULE(xlate_lb);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* At most this many selection slots (the sum of the up backends'
 * weights) a load balancer: multipath's highest random weight costs one
 * hash a slot, once for each new connection. */
#define LB_MAX_SLOTS 1024

struct lb_backend {
    char *uuid;                 /* Its Iovp_LB_Backend row's. */
    char *port;                 /* Its VM port's name, or NULL. */
    ovs_be32 ip;                /* 0: not an IPv4 address (no flows). */
    char ip_s[INET_ADDRSTRLEN];
    int tp;                     /* Its port (host order). */
    int weight;
    char mac[18];               /* Its VM's MAC, "" if not up. */
    const char *down;           /* Why it takes no new connection, or
                                 * NULL: it is up. */
    bool local;                 /* Its port is one of this switch's. */
    uint16_t id;                /* Names it in the connections' mark. */
};

struct lb {
    char *uuid;                 /* Its Iovp_Load_Balancer row's. */
    char *name;
    char *ls;                   /* Its logical switch, or NULL. */
    char *fault;                /* Why it applies to nothing, or NULL. */
    uint64_t metadata;
    char vip[INET_ADDRSTRLEN];
    char vmac[18];              /* The VIP's MAC, which the switch gives
                                 * in ARP replies. */
    const char *proto;          /* "tcp" or "udp". */
    int tp;
    bool source_ip;             /* Selection by source IP, else 5-tuple. */
    int zone;
    uint16_t id;
    struct lb_backend *backends;    /* By IP and port. */
    size_t n_backends;
};

struct xlate_lb {
    struct lb *lbs;             /* By UUID. */
    size_t n;
    struct shash groups;        /* The desired groups made (a set). */
};

struct xlate_lb *
xlate_lb_create(void)
{
    struct xlate_lb *xlb = iovp_xzalloc(sizeof *xlb);

    shash_init(&xlb->groups);
    return xlb;
}

static void
lbs_destroy(struct lb *lbs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < lbs[i].n_backends; j++) {
            free(lbs[i].backends[j].uuid);
            free(lbs[i].backends[j].port);
        }
        free(lbs[i].backends);
        free(lbs[i].uuid);
        free(lbs[i].name);
        free(lbs[i].ls);
        free(lbs[i].fault);
    }
    free(lbs);
}

void
xlate_lb_destroy(struct xlate_lb *xlb)
{
    if (xlb) {
        lbs_destroy(xlb->lbs, xlb->n);
        shash_destroy(&xlb->groups);
        free(xlb);
    }
}

static uint16_t
lb_hash16(const char *prefix, const char *s)
{
    char *key = iovp_xasprintf("%s:%s", prefix, s);
    uint64_t hash = iovp_hash_string64(key);

    free(key);
    return (hash & 0xffff) ? hash & 0xffff : 1;
}

/* Reads into 'b' backend row 'row' of load balancer 'lb', from this
 * switch's 'ports'. */
static void
lb_read_backend(const struct lb *lb, const struct hwvtep_iovp_lb_backend *row,
                const struct ports *ports, struct lb_backend *b)
{
    const struct hwvtep_physical_port *pp = row->physical_port;
    const struct port *port = pp ? ports_find(ports, pp->name) : NULL;
    struct in_addr ip;

    memset(b, 0, sizeof *b);
    b->uuid = iovp_xstrdup(row->header_.uuid);
    b->port = pp ? iovp_xstrdup(pp->name) : NULL;
    b->tp = row->n_port ? row->port[0] : lb->tp;
    b->weight = row->n_weight ? row->weight[0] : 1;
    if (inet_pton(AF_INET, row->ip, &ip) == 1) {
        b->ip = ip.s_addr;
        inet_ntop(AF_INET, &ip, b->ip_s, sizeof b->ip_s);
    }
    char *key = iovp_xasprintf("%s:%d", b->ip_s, b->tp);
    b->id = lb_hash16("backend", key);
    free(key);

    const struct port_binding *binding = NULL;
    for (size_t i = 0; port && i < port->n_bindings; i++) {
        if (!strcmp(port->bindings[i].ls, lb->ls)) {
            binding = &port->bindings[i];
        }
    }
    struct eth_addr mac;
    b->local = port && !strcmp(port->uuid, pp->header_.uuid);
    b->down = (!b->ip ? "its IP is not an IPv4 address"
               : row->admin_state && !strcmp(row->admin_state, "down")
               ? "marked down by the controller"
               : !port || strcmp(port->uuid, pp->header_.uuid)
               ? "its port is not one of this switch's"
               : port->ofport < 0 ? "its port is not on the bridge"
               : !binding ? "its port is not bound to the logical switch"
               : !binding->owns_mac || !port_parse_mac(port, &mac)
               ? "its port's MAC does not lead to it in the logical switch"
               : NULL);
    if (!b->down) {
        snprintf(b->mac, sizeof b->mac, "%02x:%02x:%02x:%02x:%02x:%02x",
                 mac.ea[0], mac.ea[1], mac.ea[2], mac.ea[3], mac.ea[4],
                 mac.ea[5]);
    }
}

static int
lb_backend_compare(const void *a_, const void *b_)
{
    const struct lb_backend *a = a_, *b = b_;
    uint32_t ai = ntohl(a->ip), bi = ntohl(b->ip);

    return (ai != bi ? (ai < bi ? -1 : 1)
            : a->tp != b->tp ? (a->tp < b->tp ? -1 : 1)
            : strcmp(a->uuid, b->uuid));
}

/* Reads load balancer 'row' into 'lb'. */
static void
lb_read(const struct hwvtep_iovp_load_balancer *row,
        const struct ports *ports, struct lb *lb)
{
    struct in_addr vip;

    memset(lb, 0, sizeof *lb);
    lb->uuid = iovp_xstrdup(row->header_.uuid);
    lb->name = iovp_xstrdup(row->name);
    lb->proto = !strcmp(row->protocol, "udp") ? "udp" : "tcp";
    lb->tp = row->port;
    lb->source_ip = row->selection && !strcmp(row->selection, "source_ip");
    lb->id = lb_hash16("lb", lb->uuid);
    if (row->logical_switch && row->logical_switch->name[0]) {
        lb->ls = iovp_xstrdup(row->logical_switch->name);
        lb->metadata = pipeline_ls_metadata(lb->ls);
        lb->zone = pipeline_lb_zone(lb->ls);
    }
    if (!lb->ls) {
        lb->fault = iovp_xstrdup("its logical switch is unknown or has no "
                                 "name");
        return;
    } else if (inet_pton(AF_INET, row->vip, &vip) != 1) {
        lb->fault = iovp_xasprintf("its VIP \"%s\" is not an IPv4 address",
                                   row->vip);
        return;
    }
    inet_ntop(AF_INET, &vip, lb->vip, sizeof lb->vip);
    char *key = iovp_xasprintf("%s %s", lb->ls, lb->vip);
    uint64_t hash = iovp_hash_string64(key);
    free(key);
    snprintf(lb->vmac, sizeof lb->vmac, "0a:%02x:%02x:%02x:%02x:%02x",
             (unsigned int) (hash >> 32) & 0xff,
             (unsigned int) (hash >> 24) & 0xff,
             (unsigned int) (hash >> 16) & 0xff,
             (unsigned int) (hash >> 8) & 0xff, (unsigned int) hash & 0xff);

    lb->backends = iovp_xmalloc(MAX(row->n_backends, 1)
                                * sizeof *lb->backends);
    for (size_t i = 0; i < row->n_backends; i++) {
        if (row->backends[i]) {
            lb_read_backend(lb, row->backends[i], ports,
                            &lb->backends[lb->n_backends++]);
        }
    }
    qsort(lb->backends, lb->n_backends, sizeof *lb->backends,
          lb_backend_compare);
}

static int
lb_compare(const void *a_, const void *b_)
{
    const struct lb *a = a_, *b = b_;

    return strcmp(a->uuid, b->uuid);
}

/* Adds to 'flows' the flow that 'format' gives, in ovs-ofctl's syntax
 * (oflow_table_add_vformat()). */
static void OVS_PRINTF_FORMAT(3, 4)
lb_add(struct oflow_table *flows, uint64_t cookie, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    oflow_table_add_vformat(flows, cookie, format, args);
    va_end(args);
}

/* Adds to 'flows' the flows of 'lb' that the load balancers of its
 * logical switch may share, with 'cookie': its VIP's ARP answered, with
 * the VIP's MAC, and nothing else to that MAC; what comes back from a
 * backend into conntrack (table 25), to be un-NATed. */
static void
lb_shared_flows(const struct lb *lb, uint64_t cookie,
                struct oflow_table *flows)
{
    uint64_t md = lb->metadata;

    lb_add(flows, cookie, "table=%d,priority=110,metadata=%#"PRIx64","
           "reg%d=0,arp,arp_op=1,arp_tpa=%s actions="
           "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
           "set_field:%s->eth_src,set_field:2->arp_op,"
           "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],"
           "set_field:%s->arp_sha,"
           "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],"
           "set_field:%s->arp_spa,"
           "move:NXM_OF_IN_PORT[]->NXM_NX_REG7[0..15],"
           "load:0->NXM_OF_IN_PORT[],resubmit(,%d)",
           PIPELINE_T_LB, md, PIPELINE_REG_FROM_TUNNEL, lb->vip, lb->vmac,
           lb->vmac, lb->vip, PIPELINE_T_OUTPUT);
    lb_add(flows, cookie, "table=%d,priority=105,metadata=%#"PRIx64","
           "dl_dst=%s actions=drop", PIPELINE_T_LB, md, lb->vmac);
    for (size_t i = 0; i < lb->n_backends; i++) {
        const struct lb_backend *b = &lb->backends[i];
        if (b->ip) {
            lb_add(flows, cookie, "table=%d,priority=100,"
                   "metadata=%#"PRIx64",%s,nw_src=%s,tp_src=%d "
                   "actions=ct(zone=%d,nat,table=%d)",
                   PIPELINE_T_LB, md, lb->proto, b->ip_s, b->tp, lb->zone,
                   PIPELINE_T_LB_CT);
        }
    }
}

/* Adds to 'flows' the flows of 'lb' (see iovpd(8), "Load balancing"). */
static void
lb_flows(const struct lb *lb, struct oflow_table *flows)
{
    uint64_t cookie = ofctrl_cookie(pipeline_lb_origin(lb->uuid));
    uint64_t md = lb->metadata;
    const char *p = lb->proto;
    uint32_t lb_mark = (uint32_t) lb->id << 16;

    /* Table 25: into conntrack, what goes to the VIP (what comes back from
     * a backend is lb_shared_flows()'s). */
    lb_add(flows, cookie, "table=%d,priority=110,metadata=%#"PRIx64","
           "reg%d=0,%s,nw_dst=%s,tp_dst=%d actions=ct(zone=%d,nat,table=%d)",
           PIPELINE_T_LB, md, PIPELINE_REG_FROM_TUNNEL, p, lb->vip, lb->tp,
           lb->zone, PIPELINE_T_LB_CT);
    /* Table 26: a new connection picks a slot; an established one keeps
     * its backend, and its replies get the VIP's MAC; one whose backend
     * is gone, or anything else to the VIP, is dropped. */
    int n_slots = 0;
    for (size_t i = 0; i < lb->n_backends; i++) {
        const struct lb_backend *b = &lb->backends[i];
        if (!b->ip) {
            continue;
        }
        uint32_t mark = lb_mark | b->id;
        lb_add(flows, cookie, "table=%d,priority=100,metadata=%#"PRIx64","
               "ct_state=-new+trk,ct_mark=%#"PRIx32",%s,nw_src=%s,tp_src=%d "
               "actions=set_field:%s->eth_src,goto_table:%d",
               PIPELINE_T_LB_CT, md, mark, p, lb->vip, lb->tp, lb->vmac,
               PIPELINE_T_L2);
        if (b->mac[0]) {
            lb_add(flows, cookie, "table=%d,priority=100,"
                   "metadata=%#"PRIx64",ct_state=-new+trk,"
                   "ct_mark=%#"PRIx32",%s,nw_dst=%s,tp_dst=%d "
                   "actions=set_field:%s->eth_dst,goto_table:%d",
                   PIPELINE_T_LB_CT, md, mark, p, b->ip_s, b->tp, b->mac,
                   PIPELINE_T_L2);
        }
        for (int w = 0; !b->down && w < b->weight
                 && n_slots < LB_MAX_SLOTS; w++) {
            lb_add(flows, cookie, "table=%d,priority=100,"
                   "metadata=%#"PRIx64",%s,nw_dst=%s,tp_dst=%d,reg%d=%d "
                   "actions=set_field:%s->eth_dst,ct(commit,zone=%d,"
                   "exec(set_field:%#"PRIx32"->ct_mark),"
                   "nat(dst=%s:%d),table=%d)",
                   PIPELINE_T_LB_SELECT, md, p, lb->vip, lb->tp,
                   PIPELINE_REG_LB_SLOT, n_slots++, b->mac, lb->zone, mark,
                   b->ip_s, b->tp, PIPELINE_T_L2);
        }
    }
    if (n_slots) {
        lb_add(flows, cookie, "table=%d,priority=110,metadata=%#"PRIx64","
               "ct_state=+new+trk,%s,nw_dst=%s,tp_dst=%d actions="
               "multipath(%s,0,hrw,%d,0,NXM_NX_REG%d[]),goto_table:%d",
               PIPELINE_T_LB_CT, md, p, lb->vip, lb->tp,
               lb->source_ip ? "nw_src" : "symmetric_l3l4+udp", n_slots,
               PIPELINE_REG_LB_SLOT, PIPELINE_T_LB_SELECT);
    }
    lb_add(flows, cookie, "table=%d,priority=90,metadata=%#"PRIx64","
           "ct_state=-new+trk,ct_mark=%#"PRIx32"/0xffff0000 actions=drop",
           PIPELINE_T_LB_CT, md, lb_mark);
    lb_add(flows, cookie, "table=%d,priority=80,metadata=%#"PRIx64",%s,"
           "nw_dst=%s,tp_dst=%d actions=drop", PIPELINE_T_LB_CT, md, p,
           lb->vip, lb->tp);
}

/* Reads the load balancers anew from 'vtep' and the VM ports of this
 * switch, 'ports', and makes their flows in 'desired'.  Returns true if
 * anything changed: flows, or what xlate_lb_status() reports. */
bool
xlate_lb_run(struct xlate_lb *xlb, const struct odb_idl *vtep,
             const struct ports *ports, struct desired *desired)
{
    unsigned long long int n_changes = desired->n_changes;
    json_t *old_status = xlate_lb_status(xlb, NULL, NULL);
    const struct hwvtep_iovp_load_balancer *row;
    size_t n = 0, allocated = 0;
    struct lb *lbs = NULL;

    HWVTEP_IOVP_LOAD_BALANCER_FOR_EACH (row, vtep) {
        if (n >= allocated) {
            allocated = 2 * allocated + 4;
            lbs = iovp_xrealloc(lbs, allocated * sizeof *lbs);
        }
        lb_read(row, ports, &lbs[n++]);
    }
    qsort(lbs, n, sizeof *lbs, lb_compare);

    struct shash groups = SHASH_INITIALIZER(&groups);
    struct shash vips = SHASH_INITIALIZER(&vips);
    struct shash by_ls = SHASH_INITIALIZER(&by_ls);   /* Shared flows. */
    struct shash_node *node;
    for (size_t i = 0; i < n; i++) {
        struct lb *lb = &lbs[i];
        if (!lb->fault) {
            /* Of load balancers of one VIP, port and protocol in one
             * logical switch, the first by UUID applies. */
            char *key = iovp_xasprintf("%s %s %s %d", lb->ls, lb->vip,
                                       lb->proto, lb->tp);
            const struct lb *first = shash_find_data(&vips, key);
            if (first) {
                lb->fault = iovp_xasprintf("load balancer %s has its VIP, "
                                           "port and protocol already",
                                           first->uuid);
                free(key);
            } else {
                shash_add_nocopy(&vips, key, lb);
            }
        }
        if (lb->fault) {
            VLOG_WARN_RL(&rl, "load balancer %s (%s) applies to nothing: "
                         "%s", lb->name, lb->uuid, lb->fault);
            continue;
        }

        char *group = iovp_xasprintf("lb/%s", lb->uuid);
        struct oflow_table flows;
        oflow_table_init(&flows);
        lb_flows(lb, &flows);
        desired_set_group(desired, group, &flows);
        shash_add_nocopy(&groups, group, NULL);

        oflow_table_destroy(&flows);

        struct oflow_table *shared = shash_find_data(&by_ls, lb->ls);
        if (!shared) {
            shared = iovp_xmalloc(sizeof *shared);
            oflow_table_init(shared);
            shash_add(&by_ls, lb->ls, shared);
        }
        lb_shared_flows(lb, ofctrl_cookie(pipeline_lb_origin(lb->ls)),
                        shared);
    }
    SHASH_FOR_EACH (node, &by_ls) {
        char *group = iovp_xasprintf("lb-ls/%s", node->name);
        desired_set_group(desired, group, node->data);
        shash_add_nocopy(&groups, group, NULL);
        oflow_table_destroy(node->data);
    }
    shash_destroy_free_data(&by_ls);
    shash_destroy(&vips);

    desired_keep_groups(desired, &xlb->groups, &groups);
    shash_destroy(&groups);
    lbs_destroy(xlb->lbs, xlb->n);
    xlb->lbs = lbs;
    xlb->n = n;

    json_t *new_status = xlate_lb_status(xlb, NULL, NULL);
    bool changed = (n_changes != desired->n_changes
                    || !json_equal(old_status, new_status));
    json_decref(old_status);
    json_decref(new_status);
    return changed;
}

/* Returns the connections that backend 'b' of 'lb' took: the packets of
 * its slots' flows in table 27 that 'installed' holds. */
static uint64_t
lb_connections(const struct lb *lb, const struct lb_backend *b,
               const struct desired *desired,
               const struct oflow_table *installed)
{
    char *group = iovp_xasprintf("lb/%s", lb->uuid);
    char *want = iovp_xasprintf("nat(dst=%s:%d)", b->ip_s, b->tp);
    size_t n;
    struct oflow *const *flows = desired_group_flows(desired, group, &n);
    uint64_t connections = 0;

    for (size_t i = 0; i < n; i++) {
        const struct oflow *f = flows[i];
        const struct oflow *inst;
        if (f->table_id != PIPELINE_T_LB_SELECT
            || !(inst = oflow_table_find(installed, f))) {
            continue;
        }
        struct ds s = DS_EMPTY_INITIALIZER;
        oflow_format(f, false, &s);
        if (strstr(ds_cstr(&s), want)) {
            connections += oflow_get_stats(inst)->n_packets;
        }
        ds_destroy(&s);
    }
    free(want);
    free(group);
    return connections;
}

/* Returns {"state": 'state', "reason": 'reason'}, without "reason" if
 * 'reason' is NULL. */
static json_t *
lb_state(const char *state, const char *reason)
{
    json_t *o = json_pack("{s:s}", "state", state);

    if (reason) {
        json_object_set_new(o, "reason", json_string(reason));
    }
    return o;
}

/* Returns what iovpd reports of the load balancers: {"lbs": {"UUID":
 * {"state", "reason"}}, "backends": {"UUID": {"status": {"state",
 * "reason"}, "statistics": {"connections"}}}}, the statistics only with
 * 'installed' (and 'desired', whose flows it counts).  Only this switch's
 * backends, and the load balancers that have one or apply to nothing, are
 * there: another switch may report the others. */
json_t *
xlate_lb_status(const struct xlate_lb *xlb, const struct desired *desired,
                const struct oflow_table *installed)
{
    json_t *lbs = json_object();
    json_t *backends = json_object();

    for (size_t i = 0; i < xlb->n; i++) {
        const struct lb *lb = &xlb->lbs[i];
        bool local = lb->fault != NULL;
        for (size_t j = 0; j < lb->n_backends; j++) {
            local = local || lb->backends[j].local;
        }
        if (!local) {
            continue;
        }
        json_object_set_new(lbs, lb->uuid, lb_state(
                                lb->fault ? "invalid" : "applied",
                                lb->fault));
        for (size_t j = 0; j < lb->n_backends; j++) {
            const struct lb_backend *b = &lb->backends[j];
            if (!b->local) {
                continue;
            }
            json_t *status = lb_state(b->down ? "down" : "up", b->down);
            json_t *o = json_pack("{s:o}", "status", status);
            if (installed && !lb->fault) {
                json_object_set_new(o, "statistics", json_pack(
                    "{s:I}", "connections",
                    (json_int_t) lb_connections(lb, b, desired,
                                                installed)));
            }
            json_object_set_new(backends, b->uuid, o);
        }
    }
    return json_pack("{s:o, s:o}", "lbs", lbs, "backends", backends);
}

/* Returns the load balancers for "switch/show" and "policy/dump": [{"name",
 * "uuid", "logical_switch", "vip", "vip_mac", "protocol", "port",
 * "selection", "fault", "backends": [{"uuid", "port", "ip", "tp",
 * "weight", "state", "reason", "connections"}]}]. */
json_t *
xlate_lb_describe(const struct xlate_lb *xlb, const struct desired *desired,
                  const struct oflow_table *installed)
{
    json_t *array = json_array();

    for (size_t i = 0; i < xlb->n; i++) {
        const struct lb *lb = &xlb->lbs[i];
        json_t *backends = json_array();
        for (size_t j = 0; j < lb->n_backends; j++) {
            const struct lb_backend *b = &lb->backends[j];
            json_array_append_new(backends, json_pack(
                "{s:s, s:s?, s:s, s:i, s:i, s:s, s:s?, s:I}",
                "uuid", b->uuid, "port", b->port,
                "ip", b->ip ? b->ip_s : "(invalid)", "tp", b->tp,
                "weight", b->weight, "state", b->down ? "down" : "up",
                "reason", b->down,
                "connections", (json_int_t) (
                    installed && !lb->fault
                    ? lb_connections(lb, b, desired, installed) : 0)));
        }
        json_array_append_new(array, json_pack(
            "{s:s, s:s, s:s?, s:s, s:s, s:s, s:i, s:s, s:s?, s:o}",
            "name", lb->name, "uuid", lb->uuid, "logical_switch", lb->ls,
            "vip", lb->vip[0] ? lb->vip : "(invalid)", "vip_mac", lb->vmac,
            "protocol", lb->proto, "port", lb->tp,
            "selection", lb->source_ip ? "source_ip" : "hash",
            "fault", lb->fault, "backends", backends));
    }
    return array;
}

/* Stores in '*punts' (malloc()'d) and '*n' the matches of what VM port
 * 'port' sends that the load balancers must see in OVS, whatever the
 * fast path would do: frames to a VIP of a logical switch the port is
 * bound to untagged, and, for a backend, its frames from its IP and port
 * (replies to un-NAT). */
void
xlate_lb_punts(const struct xlate_lb *xlb, const struct port *port,
               struct fp_match **punts, size_t *n)
{
    const struct port_binding *b = port_find_binding(port, 0);
    size_t allocated = 0;

    *punts = NULL;
    *n = 0;
    for (size_t i = 0; b && i < xlb->n; i++) {
        const struct lb *lb = &xlb->lbs[i];
        if (lb->fault || strcmp(lb->ls, b->ls)) {
            continue;
        }
        for (size_t j = 0; j <= lb->n_backends; j++) {
            const struct lb_backend *be = j ? &lb->backends[j - 1] : NULL;
            if (be && (!be->port || strcmp(be->port, port->name)
                       || !be->ip)) {
                continue;
            }

            struct match m;
            struct in_addr vip;
            match_init_catchall(&m);
            match_set_dl_type(&m, htons(0x0800));
            match_set_nw_proto(&m, !strcmp(lb->proto, "udp") ? 17 : 6);
            if (be) {
                match_set_nw_src(&m, be->ip);
                match_set_tp_src(&m, htons(be->tp));
            } else {
                inet_pton(AF_INET, lb->vip, &vip);
                match_set_nw_dst(&m, vip.s_addr);
                match_set_tp_dst(&m, htons(lb->tp));
            }
            if (*n >= allocated) {
                allocated = 2 * allocated + 4;
                *punts = iovp_xrealloc(*punts, allocated * sizeof **punts);
            }
            if (fp_match_from_match(&m, &(*punts)[*n])) {
                (*n)++;
            }
        }
    }
}
