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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openvswitch/list.h>
#include <openvswitch/ofp-port.h>
#include <openvswitch/ofpbuf.h>
#include <openvswitch/vlog.h>

#include "agent/agent-private.h"
#include "agent/ports.h"
#include "agent/translate.h"
#include "agent/xlate-nic.h"
#include "lib/control.h"
#include "lib/util.h"
#include "model/vswitch-idl.h"
#include "model/vtep-idl.h"
#include "northbound/switch.h"
#include "ofp/client.h"
#include "ofp/server.h"
#include "ovsdb/idl.h"

VLOG_DEFINE_THIS_MODULE(agent_northbound);

/* One connection to a controller: one that iovpd makes (an active
 * target's, 'client'), or one that a listener accepted ('sconn'). */
struct agent_nb_peer {
    struct ovs_list node;       /* In the agent's 'nb_peers'. */
    struct agent *agent;
    char *target;
    struct ofp_client *client;
    struct ofp_server_conn *sconn;
    struct nbconn *conn;        /* While connected. */
};

static const uint32_t agent_nb_versions = ((1u << OFP13_VERSION)
                                           | (1u << OFP14_VERSION)
                                           | (1u << OFP15_VERSION));

static void
agent_nb_send(void *peer_, struct ovs_list *msgs, void *agent_ OVS_UNUSED)
{
    struct agent_nb_peer *peer = peer_;

    if (peer->client) {
        ofp_client_send(peer->client, msgs);
    } else {
        ofp_server_conn_send(peer->sconn, msgs);
    }
}

static size_t
agent_nb_backlog(void *peer_, void *agent_ OVS_UNUSED)
{
    struct agent_nb_peer *peer = peer_;

    return (peer->client ? ofp_client_backlog(peer->client)
            : ofp_server_conn_backlog(peer->sconn));
}

static void
agent_nb_send_bridge(struct ovs_list *msgs, void *agent_)
{
    struct agent *agent = agent_;

    ofp_client_send(agent->nb_bridge, msgs);
}

/* Active targets. */

static void
agent_nb_client_active(struct ofp_client *client OVS_UNUSED,
                       enum ofp_version version, void *peer_)
{
    struct agent_nb_peer *peer = peer_;
    struct nbswitch *nb = peer->agent->nb;

    if (peer->conn) {
        nbswitch_disconnect(nb, peer->conn);
    }
    peer->conn = nbswitch_connect(nb, peer->target, peer);
    nbswitch_conn_active(nb, peer->conn, version);
}

static void
agent_nb_client_disconnected(struct ofp_client *client OVS_UNUSED,
                             void *peer_)
{
    struct agent_nb_peer *peer = peer_;

    if (peer->conn) {
        nbswitch_disconnect(peer->agent->nb, peer->conn);
        peer->conn = NULL;
    }
}

static void
agent_nb_client_msg(struct ofp_client *client OVS_UNUSED,
                    struct ofpbuf *msg, void *peer_)
{
    struct agent_nb_peer *peer = peer_;

    if (peer->conn) {
        nbswitch_receive(peer->agent->nb, peer->conn, msg);
    } else {
        ofpbuf_delete(msg);
    }
}

/* Listeners. */

static void *
agent_nb_accepted(struct ofp_server_conn *sconn, void *agent_)
{
    struct agent *agent = agent_;
    struct agent_nb_peer *peer = iovp_xzalloc(sizeof *peer);

    peer->agent = agent;
    peer->target = iovp_xstrdup(ofp_server_conn_name(sconn));
    peer->sconn = sconn;
    peer->conn = nbswitch_connect(agent->nb, peer->target, peer);
    ovs_list_push_back(&agent->nb_peers, &peer->node);
    return peer;
}

static void
agent_nb_server_active(struct ofp_server_conn *sconn OVS_UNUSED,
                       enum ofp_version version, void *peer_)
{
    struct agent_nb_peer *peer = peer_;

    nbswitch_conn_active(peer->agent->nb, peer->conn, version);
}

static void
agent_nb_server_msg(struct ofp_server_conn *sconn OVS_UNUSED,
                    struct ofpbuf *msg, void *peer_)
{
    struct agent_nb_peer *peer = peer_;

    nbswitch_receive(peer->agent->nb, peer->conn, msg);
}

static void
agent_nb_server_closed(struct ofp_server_conn *sconn OVS_UNUSED,
                       const char *reason OVS_UNUSED, void *peer_)
{
    struct agent_nb_peer *peer = peer_;

    nbswitch_disconnect(peer->agent->nb, peer->conn);
    ovs_list_remove(&peer->node);
    free(peer->target);
    free(peer);
}

/* The northbound's own connection to the bridge. */

/* The northbound's connection to the bridge is up.  If it was up before,
 * Open vSwitch may have restarted, without the controllers' flows: each
 * controller connection is dropped, as a switch that restarted drops them,
 * so that the controllers connect again and put back their flows. */
static void
agent_nb_bridge_active(struct ofp_client *client OVS_UNUSED,
                       enum ofp_version version, void *agent_)
{
    static const char reason[] = "the integration bridge reconnected";
    struct agent *agent = agent_;
    struct agent_nb_peer *peer;

    if (agent->nb_bridge_connections++) {
        nbswitch_bridge_reset(agent->nb);
        LIST_FOR_EACH_SAFE (peer, node, &agent->nb_peers) {
            if (peer->client) {
                ofp_client_reconnect(peer->client, reason);
            } else {
                ofp_server_conn_close(peer->sconn, reason);
            }
        }
    }
    nbswitch_bridge_active(agent->nb, version);
}

static void
agent_nb_bridge_disconnected(struct ofp_client *client OVS_UNUSED,
                             void *agent_)
{
    struct agent *agent = agent_;

    nbswitch_bridge_disconnected(agent->nb);
}

static void
agent_nb_bridge_msg(struct ofp_client *client OVS_UNUSED,
                    struct ofpbuf *msg, void *agent_)
{
    struct agent *agent = agent_;

    nbswitch_bridge_receive(agent->nb, msg);
}

/* A controller with this many bytes queued that it does not read is
 * dropped: what iovpd keeps for it stays bounded. */
#define AGENT_NB_MAX_BACKLOG (64 * 1024 * 1024)

/* Sends what the switch queued in this loop iteration, all of a batch of
 * input at once, and drops each controller that does not read. */
static void
agent_nb_flush(uv_check_t *check)
{
    static const char reason[] = "the controller does not read what it "
                                 "is sent";
    struct agent *agent = check->data;
    struct agent_nb_peer *peer;

    nbswitch_flush(agent->nb);
    LIST_FOR_EACH_SAFE (peer, node, &agent->nb_peers) {
        if (agent_nb_backlog(peer, agent) > AGENT_NB_MAX_BACKLOG) {
            VLOG_WARN("%s: %s", peer->target, reason);
            if (peer->client) {
                ofp_client_reconnect(peer->client, reason);
            } else {
                ofp_server_conn_close(peer->sconn, reason);
            }
        }
    }
}

/* Adds 'packets' and 'bytes' to the copy of 'key' in 'counts'. */
static void
agent_nb_count(struct oflow_table *counts, const struct oflow *key,
               uint64_t packets, uint64_t bytes)
{
    struct oflow *f = oflow_table_find(counts, key);

    if (!f) {
        f = oflow_clone(key);
        oflow_set_stats(f, NULL);
        oflow_table_insert(counts, f);
    }
    struct oflow_stats st = *oflow_get_stats(f);
    st.n_packets += packets;
    st.n_bytes += bytes;
    oflow_set_stats(f, &st);
}

/* What one rule of a port's fast path counted for a flow of the
 * controller's table 0, as of a read of the NIC's counters. */
struct agent_nb_rule {
    struct hmap_node node;      /* By agent_nb_rule_hash(). */
    char *port;
    uint32_t rule_id;
    struct oflow *flow;         /* A copy of the flow. */
    uint64_t packets, bytes;
};

static uint32_t
agent_nb_rule_hash(const char *port, uint32_t rule_id)
{
    uint32_t h = 2166136261u;

    for (const char *p = port; *p; p++) {
        h = (h ^ (uint8_t) *p) * 16777619u;
    }
    return (h ^ rule_id) * 16777619u;
}

static struct agent_nb_rule *
agent_nb_rule_find(const struct hmap *rules, const char *port,
                   uint32_t rule_id)
{
    struct agent_nb_rule *r;

    HMAP_FOR_EACH_WITH_HASH (r, node, agent_nb_rule_hash(port, rule_id),
                             rules) {
        if (r->rule_id == rule_id && !strcmp(r->port, port)) {
            return r;
        }
    }
    return NULL;
}

/* Frees the rules of 'rules' and empties it. */
static void
agent_nb_rules_clear(struct hmap *rules)
{
    struct agent_nb_rule *r;

    HMAP_FOR_EACH_POP (r, node, rules) {
        free(r->port);
        oflow_destroy(r->flow);
        free(r);
    }
}

static void
agent_nb_nic_read_cb(const char *port, uint32_t rule_id,
                     const struct oflow *f, uint64_t packets,
                     uint64_t bytes, void *rules)
{
    struct agent_nb_rule *r = iovp_xzalloc(sizeof *r);

    r->port = iovp_xstrdup(port);
    r->rule_id = rule_id;
    r->flow = oflow_clone(f);
    r->packets = packets;
    r->bytes = bytes;
    hmap_insert(rules, &r->node, agent_nb_rule_hash(port, rule_id));
}

/* The NIC's counters were read: takes what each rule of each port's fast
 * path counted for a flow of the controller's table 0 ('nb_nic_rules'),
 * and their sums by flow ('nb_nic_now').  What a rule that is gone, or
 * whose count went down (its counters restarted), had counted is kept for
 * its flow ('nb_nic_gone'), as long as the controller's table has the
 * flow. */
void
agent_northbound_read_nic(struct agent *agent)
{
    if (!agent->nb || !agent->nicctrl
        || !nbswitch_table0(agent->nb)) {
        return;
    }

    struct hmap rules = HMAP_INITIALIZER(&rules);
    struct xlate_nic_policy policy;
    translate_nic_policy(agent->translate, NULL, &policy);
    xlate_nic_openflow_stats(agent->nicctrl, &policy, agent_nb_nic_read_cb,
                             &rules);

    struct agent_nb_rule *r;
    HMAP_FOR_EACH (r, node, &agent->nb_nic_rules) {
        const struct agent_nb_rule *now = agent_nb_rule_find(
            &rules, r->port, r->rule_id);
        if (!now || now->packets < r->packets) {
            agent_nb_count(&agent->nb_nic_gone, r->flow, r->packets,
                           r->bytes);
        }
    }
    agent_nb_rules_clear(&agent->nb_nic_rules);
    hmap_swap(&rules, &agent->nb_nic_rules);
    hmap_destroy(&rules);

    oflow_table_clear(&agent->nb_nic_now);
    HMAP_FOR_EACH (r, node, &agent->nb_nic_rules) {
        agent_nb_count(&agent->nb_nic_now, r->flow, r->packets, r->bytes);
    }

    /* The counts of flows that the controller's table no longer has. */
    struct oflow *gone;
    OFLOW_TABLE_FOR_EACH_SAFE (gone, &agent->nb_nic_gone) {
        if (!oflow_table_find(nbswitch_table0(agent->nb), gone)) {
            oflow_table_remove(&agent->nb_nic_gone, gone);
            oflow_destroy(gone);
        }
    }
}

/* nbswitch's table0_counts callback. */
static void
agent_nb_table0_counts(const struct oflow *key, uint64_t *packets,
                       uint64_t *bytes, void *agent_)
{
    struct agent *agent = agent_;
    const struct oflow *flows[] = {
        oflow_table_find(&agent->nb_nic_now, key),
        oflow_table_find(&agent->nb_nic_gone, key),
    };

    *packets = *bytes = 0;
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(flows); i++) {
        if (flows[i]) {
            *packets += oflow_get_stats(flows[i])->n_packets;
            *bytes += oflow_get_stats(flows[i])->n_bytes;
        }
    }
}

/* The controller's table 0 is about to change in the bridge: the NIC's
 * rules that the change may affect go first. */
static void
agent_nb_table0_changing(void *agent_)
{
    struct agent *agent = agent_;

    translate_openflow_changing(agent->translate);
    agent_wake(agent);
}

/* The copy of the controller's table 0 is the bridge's again: the NIC's
 * rules follow it. */
static void
agent_nb_table0_changed(void *agent_)
{
    struct agent *agent = agent_;

    translate_openflow_changed(agent->translate);
    agent_wake(agent);
}

/* Opens the OpenFlow northbound for the comma-separated 'targets' (NULL or
 * empty: none), with a connection of its own to the bridge at
 * 'bridge_remote'.  Returns NULL or a malloc()'d error. */
char *
agent_northbound_open(struct agent *agent, const char *targets,
                      const char *bridge_remote,
                      const struct bclient_options *options)
{
    static const struct nbswitch_cbs nb_cbs = {
        .send = agent_nb_send,
        .send_bridge = agent_nb_send_bridge,
        .backlog = agent_nb_backlog,
        .table0_changing = agent_nb_table0_changing,
        .table0_changed = agent_nb_table0_changed,
        .table0_counts = agent_nb_table0_counts,
    };
    static const struct ofp_client_cbs bridge_cbs = {
        .active = agent_nb_bridge_active,
        .disconnected = agent_nb_bridge_disconnected,
        .msg = agent_nb_bridge_msg,
    };
    static const struct ofp_client_cbs client_cbs = {
        .active = agent_nb_client_active,
        .disconnected = agent_nb_client_disconnected,
        .msg = agent_nb_client_msg,
    };
    static const struct ofp_server_cbs server_cbs = {
        .accepted = agent_nb_accepted,
        .active = agent_nb_server_active,
        .msg = agent_nb_server_msg,
        .closed = agent_nb_server_closed,
    };
    char *error = NULL;

    if (!targets || !targets[0]) {
        return NULL;
    }

    agent->nb = nbswitch_create(&nb_cbs, agent);
    hmap_init(&agent->nb_nic_rules);
    oflow_table_init(&agent->nb_nic_now);
    oflow_table_init(&agent->nb_nic_gone);
    if (agent->nicctrl) {
        /* Offload reads the controller's table 0. */
        nbswitch_watch_table0(agent->nb, true);
        translate_set_openflow(agent->translate, agent->nb);
    }
    uv_check_init(agent->loop, &agent->nb_flush);
    agent->nb_flush.data = agent;
    uv_check_start(&agent->nb_flush, agent_nb_flush);
    error = ofp_client_create(agent->loop, bridge_remote, options,
                              &bridge_cbs, agent, &agent->nb_bridge);
    if (error) {
        return error;
    }

    char *copy = iovp_xstrdup(targets);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t && !error;
         t = strtok_r(NULL, ",", &save)) {
        if (ofp_server_is_target(t)) {
            struct ofp_server *server;
            error = ofp_server_create(agent->loop, t, agent_nb_versions,
                                      options->probe_interval, agent->tls,
                                      &server_cbs, agent, &server);
            if (!error) {
                agent->nb_servers = iovp_xrealloc(
                    agent->nb_servers,
                    (agent->n_nb_servers + 1) * sizeof *agent->nb_servers);
                agent->nb_servers[agent->n_nb_servers++] = server;
            }
        } else {
            struct agent_nb_peer *peer = iovp_xzalloc(sizeof *peer);
            peer->agent = agent;
            peer->target = iovp_xstrdup(t);
            error = ofp_client_create(agent->loop, t, options, &client_cbs,
                                      peer, &peer->client);
            if (error) {
                free(peer->target);
                free(peer);
            } else {
                ovs_list_push_back(&agent->nb_peers, &peer->node);
            }
        }
    }
    free(copy);
    return error;
}

/* Closes the northbound's connections and listeners. */
void
agent_northbound_close(struct agent *agent)
{
    struct agent_nb_peer *peer;

    if (agent->nb && agent->translate) {
        translate_set_openflow(agent->translate, NULL);
    }

    for (size_t i = 0; i < agent->n_nb_servers; i++) {
        ofp_server_destroy(agent->nb_servers[i]);
    }
    free(agent->nb_servers);
    agent->nb_servers = NULL;
    agent->n_nb_servers = 0;
    LIST_FOR_EACH_SAFE (peer, node, &agent->nb_peers) {
        /* Only active targets' peers are left. */
        if (peer->conn) {
            nbswitch_disconnect(agent->nb, peer->conn);
        }
        ofp_client_destroy(peer->client);
        ovs_list_remove(&peer->node);
        free(peer->target);
        free(peer);
    }
    ofp_client_destroy(agent->nb_bridge);
    agent->nb_bridge = NULL;
    if (agent->nb) {
        uv_close((uv_handle_t *) &agent->nb_flush, NULL);
        nbswitch_destroy(agent->nb);
        agent->nb = NULL;
        agent_nb_rules_clear(&agent->nb_nic_rules);
        hmap_destroy(&agent->nb_nic_rules);
        oflow_table_destroy(&agent->nb_nic_now);
        oflow_table_destroy(&agent->nb_nic_gone);
    }
}

/* Returns the datapath id of switch 'name': its Iovp_Switch row's
 * "other_config:datapath-id" (16 hex digits), else 48 bits of a hash of
 * its name, as OVS derives one from a MAC. */
static uint64_t
agent_nb_datapath_id(const struct odb_idl *vtep, const char *name)
{
    const struct hwvtep_iovp_switch *is;

    HWVTEP_IOVP_SWITCH_FOR_EACH (is, vtep) {
        if (!is->physical_switch || !name
            || strcmp(is->physical_switch->name, name)) {
            continue;
        }
        for (size_t i = 0; i < is->n_other_config; i++) {
            if (!strcmp(is->key_other_config[i], "datapath-id")) {
                const char *s = is->value_other_config[i];
                char *end;
                unsigned long long int id = strtoull(s, &end, 16);
                if (strlen(s) == 16 && !*end) {
                    return id;
                }
                VLOG_WARN_ONCE("Iovp_Switch other_config:datapath-id "
                               "\"%s\" is not 16 hexadecimal digits", s);
            }
        }
    }
    return name ? iovp_hash_string64(name) & 0xffffffffffffULL : 0;
}

/* Makes the northbound's ports those of the ports in OpenFlow mode, as the
 * bridge shows them: each with its VM's MAC (external_ids:attached-mac),
 * else its interface's, and its interface's state and speed. */
void
agent_northbound_run(struct agent *agent)
{
    if (!agent->nb) {
        return;
    }

    const struct ports *ports = translate_ports(agent->translate);
    struct nbswitch_port *nbps = iovp_xmalloc(MAX(1, ports->n)
                                              * sizeof *nbps);
    size_t n = 0;

    for (size_t i = 0; i < ports->n; i++) {
        const struct port *port = ports->sorted[i];
        if (!port->openflow || port->ofport < 0) {
            continue;
        }

        struct nbswitch_port *nbp = &nbps[n++];
        struct ofputil_phy_port *pp = &nbp->pp;
        memset(nbp, 0, sizeof *nbp);
        pp->port_no = (OVS_FORCE ofp_port_t) port->ofport;
        snprintf(pp->name, sizeof pp->name, "%s", port->name);
        pp->state = OFPUTIL_PS_LIVE;

        const struct vswitch_interface *iface
            = (port->interface
               ? vswitch_interface_find_by_string(agent->ovs_idl,
                                                  VSWITCH_INTERFACE_COL_NAME,
                                                  port->interface)
               : NULL);
        if (!iface) {
            continue;
        }
        uint8_t *ea = nbp->bridge_hw_addr.ea;
        if (iface->mac_in_use
            && sscanf(iface->mac_in_use, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx",
                      &ea[0], &ea[1], &ea[2], &ea[3], &ea[4], &ea[5]) != 6) {
            memset(ea, 0, 6);
        }
        if (!port_parse_mac(port, &pp->hw_addr)) {
            pp->hw_addr = nbp->bridge_hw_addr;
        }
        if (iface->admin_state && !strcmp(iface->admin_state, "down")) {
            pp->config |= OFPUTIL_PC_PORT_DOWN;
        }
        if (iface->link_state && !strcmp(iface->link_state, "down")) {
            pp->state = OFPUTIL_PS_LINK_DOWN;
        }
        if (iface->n_link_speed) {
            pp->curr_speed = pp->max_speed = iface->link_speed[0] / 1000;
        }
    }

    const char *name, *ip;
    translate_identity(agent->translate, true, &name, &ip);
    nbswitch_set_datapath_id(agent->nb,
                             agent_nb_datapath_id(agent->vtep_idl, name));
    nbswitch_set_ports(agent->nb, nbps, n);
    free(nbps);
}

/* Returns a new reference to the northbound's status, for
 * "controller/show": the switch, its listeners, and each controller
 * connection (an active target's, or one a listener accepted) as
 * "ovs-vsctl list controller" shows OVS's:
 *
 *   {"datapath_id": "HEX", "bridge_connected": BOOL, "ports": N,
 *    "listeners": ["TARGET", ...],
 *    "controllers": [{"target": "TARGET", "is_connected": BOOL,
 *                     "state": "ACTIVE"|"BACKOFF"|..., "sec_since_connect": N,
 *                     "role": "master"|"slave"|"equal", "version": "...",
 *                     "packet_ins": N, "packet_ins_dropped": N,
 *                     "errors": N}, ...]}
 *
 * or null without --openflow. */
json_t *
agent_northbound_status(const struct agent *agent)
{
    const struct agent_nb_peer *peer;

    if (!agent->nb) {
        return json_null();
    }

    json_t *listeners = json_array();
    for (size_t i = 0; i < agent->n_nb_servers; i++) {
        json_array_append_new(listeners, json_string(
                                  ofp_server_target(agent->nb_servers[i])));
    }

    json_t *controllers = json_array();
    LIST_FOR_EACH (peer, node, &agent->nb_peers) {
        json_t *c = nbswitch_conn_status(peer->conn);
        json_t *io = (peer->client ? ofp_client_status(peer->client)
                      : ofp_server_conn_status(peer->sconn));

        json_object_set_new(c, "target", json_string(peer->target));
        json_object_set(c, "state", json_object_get(io, "connection"));
        json_object_set(c, "sec_since_connect",
                        json_object_get(io, "sec_since_connect"));
        json_decref(io);
        json_array_append_new(controllers, c);
    }

    json_t *status = nbswitch_status(agent->nb);
    json_object_set_new(status, "listeners", listeners);
    json_object_set_new(status, "controllers", controllers);
    return status;
}
