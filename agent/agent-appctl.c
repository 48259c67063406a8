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

/* The control commands of iovpd (see iovpd(8)) and the JSON they answer
 * with. */

#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>
#include <openvswitch/flow.h>
#include <openvswitch/list.h>
#include <openvswitch/util.h>
#include <openvswitch/vlog.h>

#include "agent/agent.h"
#include "agent/agent-private.h"
#include "agent/engine.h"
#include "agent/overlay.h"
#include "agent/pipeline.h"
#include "agent/ports.h"
#include "agent/show.h"
#include "agent/trace.h"
#include "agent/translate.h"
#include "agent/xlate-acl.h"
#include "agent/xlate-capture.h"
#include "agent/xlate-lb.h"
#include "agent/xlate-nic.h"
#include "agent/xlate-steer.h"
#include "lib/control.h"
#include "lib/util.h"
#include "offload/fastpath.h"
#include "offload/nicctrl.h"
#include "offload/sim.h"
#include "ofp/client.h"
#include "ofp/desired.h"
#include "ofp/ofctrl.h"
#include "ofp/oflow.h"
#include "ovsdb/client.h"
#include "ovsdb/idl.h"
#include "ovsdb/replica.h"

VLOG_DEFINE_THIS_MODULE(appctl);

/* "exit": replies, then shuts the agent down. */
static void
agent_cmd_exit(struct control_conn *conn, int argc OVS_UNUSED,
               const char *argv[] OVS_UNUSED, void *agent_)
{
    struct agent *agent = agent_;

    control_reply(conn, "");
    agent_shutdown(agent);
}

/* Returns the client of database 'name', or NULL. */
static struct odb_client *
agent_find_db(const struct agent *agent, const char *name)
{
    return (!strcmp(name, "Open_vSwitch") ? agent->ovs_db
            : !strcmp(name, "hardware_vtep") ? agent->vtep_db
            : NULL);
}

/* "ovsdb/status": each OVSDB session's remote, state, leadership, last
 * transaction id, rows per table and counters. */
static void
agent_cmd_ovsdb_status(struct control_conn *conn, int argc OVS_UNUSED,
                       const char *argv[] OVS_UNUSED, void *agent_)
{
    static const char *const names[] = { "Open_vSwitch", "hardware_vtep" };
    struct agent *agent = agent_;

    if (control_conn_format(conn) == CONTROL_FMT_JSON) {
        json_t *status = json_object();
        for (size_t i = 0; i < IOVP_ARRAY_SIZE(names); i++) {
            json_object_set_new(status, names[i], odb_client_status(
                                    agent_find_db(agent, names[i])));
        }
        control_reply_json(conn, status);
        return;
    }

    struct ds text = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(names); i++) {
        char *db = odb_client_status_text(agent_find_db(agent, names[i]));
        ds_put_format(&text, "%s:\n%s", names[i], db);
        free(db);
    }
    control_reply(conn, ds_cstr(&text));
    ds_destroy(&text);
}

/* "ovsdb/dump DB": the replica of database DB, as JSON. */
static void
agent_cmd_ovsdb_dump(struct control_conn *conn, int argc OVS_UNUSED,
                     const char *argv[], void *agent_)
{
    struct agent *agent = agent_;
    struct odb_client *db = agent_find_db(agent, argv[1]);
    struct odb_replica *replica = db ? odb_client_replica(db) : NULL;

    if (!db) {
        control_reply_error(conn, "no such database (use Open_vSwitch or "
                            "hardware_vtep)");
    } else if (!replica) {
        control_reply_error(conn, "no copy of the database yet");
    } else {
        control_reply_json(conn, odb_replica_to_json(replica));
    }
}

/* "ovsdb/conditions DB": the conditions of iovpd's monitor of database
 * DB, {TABLE: <condition>} for each table that has one, as JSON. */
static void
agent_cmd_ovsdb_conditions(struct control_conn *conn, int argc OVS_UNUSED,
                           const char *argv[], void *agent_)
{
    struct agent *agent = agent_;
    struct odb_client *db = agent_find_db(agent, argv[1]);

    if (!db) {
        control_reply_error(conn, "no such database (use Open_vSwitch or "
                            "hardware_vtep)");
    } else {
        control_reply_json(conn, odb_client_conditions(db));
    }
}

/* Replies on 'conn' with 'result' (stolen): as JSON, or as the text that
 * 'text' makes of it. */
static void
agent_reply(struct control_conn *conn, json_t *result,
            char *(*text)(const json_t *))
{
    if (control_conn_format(conn) == CONTROL_FMT_JSON) {
        control_reply_json(conn, result);
    } else {
        char *s = text(result);
        control_reply(conn, s);
        free(s);
        json_decref(result);
    }
}

/* Replies to 'reply' with 'result' (stolen), as agent_reply() does. */
static void
agent_deferred_reply(struct control_deferred *reply, json_t *result,
                     char *(*text)(const json_t *))
{
    if (control_deferred_format(reply) == CONTROL_FMT_JSON) {
        control_deferred_reply_json(reply, result);
    } else {
        char *s = text(result);
        control_deferred_reply(reply, s);
        free(s);
        json_decref(result);
    }
}

/* Returns a new reference to the switch as show_switch() describes it,
 * from the replicas that are current. */
static json_t *
agent_show(const struct agent *agent)
{
    struct odb_replica *ovs = agent_current(agent->ovs_db);
    struct odb_replica *vtep = agent_current(agent->vtep_db);
    const char *name, *tunnel_ip;

    translate_identity(agent->translate, ovs != NULL, &name,
                       &tunnel_ip);
    struct show_spec spec = {
        .switch_name = name,
        .tunnel_ip = tunnel_ip,
        .bridge = agent->bridge,
        .overlay = translate_overlay(agent->translate),
        .ports = translate_ports(agent->translate),
        .offload = agent->nicctrl != NULL,
        .load_balancers = xlate_lb_describe(
            translate_xlb(agent->translate),
            translate_desired(agent->translate),
            ofctrl_installed(agent->ofctrl)),
        .captures = xlate_capture_describe(
            translate_xcap(agent->translate),
            translate_desired(agent->translate),
            ofctrl_installed(agent->ofctrl)),
        .steering = xlate_steer_describe(translate_xsteer(agent->translate),
                                         agent->nicctrl),
    };
    json_t *show = show_switch(vtep ? agent->vtep_idl : NULL,
                               ovs ? agent->ovs_idl : NULL, &spec);
    json_decref(spec.load_balancers);
    json_decref(spec.captures);
    json_decref(spec.steering);
    return show;
}

/* "switch/show": the switch, its VM ports with their ofports, and their
 * bindings. */
static void
agent_cmd_switch_show(struct control_conn *conn, int argc OVS_UNUSED,
                      const char *argv[] OVS_UNUSED, void *agent_)
{
    struct agent *agent = agent_;
    json_t *show = agent_show(agent);

    agent_reply(conn, show, show_switch_text);
}

/* Returns the flow that the switch refused among 'agent''s rejections
 * (ofctrl_rejections()) that is 'f' as it is, or NULL. */
static const struct ofctrl_rejection *
agent_find_rejection(const struct agent *agent, const struct oflow *f)
{
    size_t n;
    const struct ofctrl_rejection *rej = ofctrl_rejections(agent->ofctrl, &n);

    for (size_t i = 0; i < n; i++) {
        const struct oflow *r = rej[i].flow;
        if (r->table_id == f->table_id && r->priority == f->priority
            && minimatch_equal(&r->data->match, &f->data->match)
            && oflow_same_actions(r, f)) {
            return &rej[i];
        }
    }
    return NULL;
}

/* Returns true if 'a' and 'b' are one flow as iovpd asks for it: identity,
 * cookie and actions. */
static bool
agent_same_flow(const struct oflow *a, const struct oflow *b)
{
    return a && b && a->cookie == b->cookie && oflow_same_actions(a, b);
}

/* Returns a new reference to one flow 'f' of "flows/dump" with 'status'
 * ("installed", "unrequested" or "missing"); 'nic_packets' and 'nic_bytes'
 * are what the NIC decided by it.  A missing flow has no counters, and the
 * reason the switch gave if it refused it. */
static json_t *
agent_flow_json(const struct oflow *f, const char *status,
                uint64_t nic_packets, uint64_t nic_bytes,
                const char *refused)
{
    struct ds match = DS_EMPTY_INITIALIZER;
    struct ds actions = DS_EMPTY_INITIALIZER;
    char hex[19];

    snprintf(hex, sizeof hex, "%#"PRIx64, f->cookie);
    oflow_format_match(f, &match);
    oflow_format_actions(f, &actions);
    json_t *flow = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s}",
                             "status", status, "cookie", hex,
                             "table", f->table_id, "priority", f->priority,
                             "match", ds_cstr(&match),
                             "actions", ds_cstr(&actions));
    ds_destroy(&match);
    ds_destroy(&actions);

    if (!strcmp(status, "missing")) {
        if (refused) {
            json_object_set_new(flow, "refused", json_string(refused));
        }
    } else {
        const struct oflow_stats *st = oflow_get_stats(f);
        json_object_set_new(flow, "n_packets",
                            json_integer(st->n_packets + nic_packets));
        json_object_set_new(flow, "nic_packets", json_integer(nic_packets));
        json_object_set_new(flow, "n_bytes",
                            json_integer(st->n_bytes + nic_bytes));
        json_object_set_new(flow, "nic_bytes", json_integer(nic_bytes));
        json_object_set_new(flow, "duration",
                            json_integer(f->duration_sec));
    }
    return flow;
}

/* Returns true if 'f' is a flow of the port whose flows have 'cookie',
 * or, if 'tunnel_ofport' is not -1, of the tunnel with that OpenFlow
 * port. */
static bool
agent_flow_is_ports(const struct oflow *f, uint64_t cookie,
                    int tunnel_ofport)
{
    return (tunnel_ofport >= 0
            ? pipeline_flow_is_tunnels(f, tunnel_ofport)
            : f->cookie == cookie);
}

/* Returns a new reference to what "flows/dump" answers: the flows that the
 * switch holds ('flows', as ofctrl_dump_flows() read them), with their
 * counters and the frames the NIC decided by them, each "installed" if
 * iovpd asked for it as it is, else "unrequested" (someone else's, or
 * iovpd's but no longer wanted); then the desired flows that the switch
 * lacks, "missing".  With 'port' nonnull, only the flows of
 * Physical_Port 'port' (by their cookie), or of the tunnel that 'port'
 * names (its OVS port or remote VTEP: pipeline_flow_is_tunnels()).  Each
 * is {"status", "cookie", "table",
 * "priority", "match", "actions"} and "n_packets", "nic_packets",
 * "n_bytes", "nic_bytes", "duration" for a flow the switch holds (the
 * totals counting the NIC's frames too), "refused" (the
 * switch's error) for a missing flow that it refused; in the order
 * oflow_table_sorted() gives. */
static json_t *
agent_flows_json(const struct agent *agent, const char *port,
                 const struct oflow_table *flows)
{
    const struct oflow_table *installed = ofctrl_installed(agent->ofctrl);
    const struct oflow_table *want = desired_flows(
        translate_desired(agent->translate));

    /* The frames the NIC decided, by the installed flows they would have
     * taken. */
    struct xlate_nic_counts nic;
    if (agent->nicctrl) {
        struct xlate_nic_policy policy;
        translate_nic_policy(agent->translate, installed, &policy);
        xlate_nic_flow_stats(agent->nicctrl, &policy, &nic);
    } else {
        xlate_nic_counts_init(&nic);
    }

    const struct overlay_tunnel *tunnel = (
        port ? overlay_lookup_tunnel(translate_overlay(agent->translate),
                                     port)
        : NULL);
    int tunnel_ofport = tunnel ? tunnel->ofport : -1;
    uint64_t cookie = port ? ofctrl_cookie(pipeline_port_origin(port)) : 0;
    json_t *array = json_array();

    const struct oflow **sorted = oflow_table_sorted(flows);
    for (size_t i = 0; i < oflow_table_count(flows); i++) {
        const struct oflow *f = sorted[i];
        if (port && !agent_flow_is_ports(f, cookie, tunnel_ofport)) {
            continue;
        }

        const struct oflow *inst = oflow_table_find(installed, f);
        uint64_t nic_packets = 0, nic_bytes = 0;
        if (agent_same_flow(inst, f)) {
            xlate_nic_counts_get(&nic, inst, &nic_packets, &nic_bytes);
        }
        bool asked = agent_same_flow(oflow_table_find(want, f), f);
        json_array_append_new(array, agent_flow_json(
                                  f, asked ? "installed" : "unrequested",
                                  nic_packets, nic_bytes, NULL));
    }
    free(sorted);

    sorted = oflow_table_sorted(want);
    for (size_t i = 0; i < oflow_table_count(want); i++) {
        const struct oflow *w = sorted[i];
        if ((port && !agent_flow_is_ports(w, cookie, tunnel_ofport))
            || agent_same_flow(oflow_table_find(flows, w), w)) {
            continue;
        }
        const struct ofctrl_rejection *rej = agent_find_rejection(agent, w);
        json_array_append_new(array, agent_flow_json(
                                  w, "missing", 0, 0,
                                  rej ? rej->error : NULL));
    }
    free(sorted);
    xlate_nic_counts_destroy(&nic);
    return array;
}

/* Adds to each entry of 'describe' (xlate_acl_describe()'s) the frames
 * the NIC decided by it, from 'nic' ({"UUID": {"packets", "bytes"}}, or
 * NULL): as "nic_packets" and "nic_bytes", and in "n_packets" and
 * "n_bytes" too, which then count the entry's frames wherever they were
 * decided. */
static void
agent_add_nic_stats(json_t *describe, const json_t *nic)
{
    size_t i;
    json_t *e;

    json_array_foreach (json_object_get(describe, "entries"), i, e) {
        const char *uuid = json_string_value(json_object_get(e, "uuid"));
        const json_t *in_nic = uuid ? json_object_get(nic, uuid) : NULL;
        json_int_t packets = json_integer_value(json_object_get(in_nic,
                                                                "packets"));
        json_int_t bytes = json_integer_value(json_object_get(in_nic,
                                                              "bytes"));
        json_object_set_new(e, "nic_packets", json_integer(packets));
        json_object_set_new(e, "nic_bytes", json_integer(bytes));
        json_object_set_new(e, "n_packets", json_integer(
            json_integer_value(json_object_get(e, "n_packets")) + packets));
        json_object_set_new(e, "n_bytes", json_integer(
            json_integer_value(json_object_get(e, "n_bytes")) + bytes));
    }
}

/* Returns a new reference to the QoS of the binding for 'vlan' of port
 * 'port_name' as translation applies it, with its counters (see
 * pipeline_binding_qos_stats()), or to JSON null if it has none. */
static json_t *
agent_qos_json(const struct agent *agent, const char *port_name, int vlan)
{
    const struct port *port = ports_find(translate_ports(agent->translate),
                                         port_name);
    const struct port_binding *b = (port && !port->openflow
                                    ? port_find_binding(port, vlan) : NULL);
    if (!port || (!port->openflow && !b)) {
        return json_null();
    }

    json_t *qos = json_object();
    const struct port_qos *q = pipeline_binding_qos_stats(
        port, b, translate_desired(agent->translate),
        ofctrl_installed(agent->ofctrl), ofctrl_meters(agent->ofctrl), qos);
    if (!q) {
        json_decref(qos);
        return json_null();
    }
    json_object_set_new(qos, "name", json_string(q->name));
    json_object_set_new(qos, "uuid", json_string(q->uuid));
    if (q->police_rate) {
        json_object_set_new(qos, "police_rate",
                            json_integer(q->police_rate));
        json_object_set_new(qos, "police_burst", json_integer(
                                pipeline_qos_burst(q->police_rate,
                                                   q->police_burst)));
    }
    if (q->receive_rate) {
        json_object_set_new(qos, "receive_rate",
                            json_integer(q->receive_rate));
        json_object_set_new(qos, "receive_burst", json_integer(
                                pipeline_qos_burst(q->receive_rate,
                                                   q->receive_burst)));
    }
    if (q->dscp >= 0) {
        json_object_set_new(qos, "dscp", json_integer(q->dscp));
    }
    if (q->pcp >= 0) {
        json_object_set_new(qos, "pcp", json_integer(q->pcp));
    }
    return qos;
}

/* Stores in '*policyp' a new reference to the policy in force, for
 * "policy/dump": for each VLAN binding of each port (or of 'port_name', if
 * nonnull), the ACL in force, entry by entry in the order they apply, with
 * each entry's counters, and what is wrong with it (see
 * show_policy_text()).  Returns NULL if successful, otherwise a malloc()'d
 * error message for the caller to free, with '*policyp' set to NULL. */
static char *
agent_policy_json(struct agent *agent, const char *port_name,
                  json_t **policyp)
{
    *policyp = NULL;
    if (!odb_client_is_active(agent->vtep_db)) {
        return iovp_xstrdup("no copy of the hardware_vtep database yet");
    }
    json_t *show = agent_show(agent);

    /* What the NIC decided, by ACL entry. */
    json_t *nic = NULL;
    if (agent->nicctrl) {
        struct xlate_nic_policy policy;
        translate_nic_policy(agent->translate, NULL, &policy);
        nic = xlate_nic_entry_stats(agent->nicctrl, &policy);
    }

    json_t *ports = json_array();
    size_t i;
    json_t *port;
    json_array_foreach (json_object_get(show, "ports"), i, port) {
        const char *pname = json_string_value(json_object_get(port,
                                                              "name"));
        if (port_name && strcmp(port_name, pname)) {
            continue;
        }
        json_t *bindings = json_array();
        size_t j;
        json_t *b;
        json_array_foreach (json_object_get(port, "bindings"), j, b) {
            const char *acl = json_string_value(json_object_get(b, "acl"));
            json_t *describe = (acl
                                ? xlate_acl_describe(
                                    translate_xacl(agent->translate), acl,
                                    translate_desired(agent->translate),
                                    ofctrl_installed(agent->ofctrl))
                                : NULL);
            if (describe && nic) {
                agent_add_nic_stats(describe, json_object_get(nic, acl));
            }
            json_array_append_new(bindings, json_pack(
                "{s:O, s:O, s:o, s:o}", "vlan", json_object_get(b, "vlan"),
                "logical_switch", json_object_get(b, "logical_switch"),
                "acl", describe ? describe : json_null(),
                "qos", agent_qos_json(agent, pname, json_integer_value(
                                          json_object_get(b, "vlan")))));
        }
        json_array_append_new(ports, json_pack("{s:s, s:o}", "name", pname,
                                               "bindings", bindings));
    }
    json_decref(show);
    json_decref(nic);
    if (port_name && !json_array_size(ports)) {
        json_decref(ports);
        return iovp_xstrdup("no such port");
    }
    *policyp = json_pack("{s:o}", "ports", ports);
    return NULL;
}

/* Adds to 'trace' (trace_acl()'s result for a frame from 'port') where
 * the frame is decided: by an entry of the port's fast path in the NIC, or
 * in OVS. */
static void
agent_trace_nic(struct agent *agent, const char *port, json_t *trace)
{
    const char *ovs_flow = json_string_value(json_object_get(trace,
                                                             "ovs_flow"));
    struct flow packet;
    char *error = ovs_flow ? oflow_parse_packet(ovs_flow, &packet) : NULL;
    struct fp_entry e;
    uint8_t frame[128];

    memset(&e, 0, sizeof e);
    e.fate = FP_TO_OVS;
    if (!error && nicctrl_has_port(agent->nicctrl, port)) {
        size_t len = fp_frame_from_flow(&packet, frame, sizeof frame);
        if (nicctrl_classify(agent->nicctrl, port, frame, len, &e)) {
            e.fate = FP_TO_OVS;
        }
    }
    free(error);

    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&s, json_string_value(json_object_get(trace, "text")));
    if (e.fate == FP_TO_OVS) {
        ds_put_format(&s, "decided in: OVS (%s)\n",
                      e.id ? "a cover in the NIC sends it there"
                      : "no entry of the NIC's takes it");
        json_object_set_new(trace, "nic", json_pack(
                                "{s:s, s:b}", "decided_in", "OVS",
                                "cover", e.id != 0));
    } else {
        struct ds entry = DS_EMPTY_INITIALIZER;
        fp_entry_format(&e, &entry);
        ds_put_format(&s, "decided in: the NIC, by %s\n", ds_cstr(&entry));
        json_object_set_new(trace, "nic", json_pack(
                                "{s:s, s:s, s:s}", "decided_in", "NIC",
                                "entry", ds_cstr(&entry),
                                "fate", fp_fate_to_string(e.fate)));
        ds_destroy(&entry);
    }
    json_object_set_new(trace, "text", json_string(ds_cstr(&s)));
    ds_destroy(&s);
}

/* Returns a copy of the text of 'trace' (trace_acl()'s, with what
 * agent_trace_nic() added). */
static char *
agent_trace_text(const json_t *trace)
{
    return iovp_xstrdup(json_string_value(json_object_get(trace, "text")));
}

/* "acl/trace PORT FLOW": which ACL entries decide the packet FLOW that
 * the VM on PORT sends, or that tunnel PORT brings, and its fate
 * (agent/trace.h). */
static void
agent_cmd_acl_trace(struct control_conn *conn, int argc OVS_UNUSED,
                    const char *argv[], void *agent_)
{
    struct agent *agent = agent_;

    if (!odb_client_is_active(agent->vtep_db)
        || !odb_client_is_active(agent->ovs_db)) {
        control_reply_error(conn, "no copy of the databases yet");
        return;
    }
    json_t *show = agent_show(agent);
    json_t *trace;
    char *error = trace_acl(show, argv[1], argv[2],
                            translate_xacl(agent->translate),
                            translate_desired(agent->translate), &trace);
    json_decref(show);
    if (error) {
        control_reply_error(conn, error);
        free(error);
        return;
    }
    if (agent->nicctrl && !json_object_get(trace, "tunnel")) {
        /* (What a tunnel brings never meets the NIC's fast paths, which
         * are the VM ports'.) */
        agent_trace_nic(agent, argv[1], trace);
    }
    agent_reply(conn, trace, agent_trace_text);
}

/* "offload/show [PORT]": each VM port's fast path in the NIC (offload/
 * nicctrl.h), or just PORT's, with the totals. */
static void
agent_cmd_offload_show(struct control_conn *conn, int argc,
                       const char *argv[], void *agent_)
{
    struct agent *agent = agent_;

    if (!agent->nicctrl) {
        control_reply_error(conn, "offload is off (iovpd --offload=none)");
        return;
    }
    if (argc > 1 && !nicctrl_has_port(agent->nicctrl, argv[1])) {
        char *error = iovp_xasprintf("%s: no fast path for this port (it "
                                     "needs an untagged binding or OpenFlow "
                                     "mode, a known MAC and a network "
                                     "device)", argv[1]);
        control_reply_error(conn, error);
        free(error);
        return;
    }
    json_t *show = json_pack("{s:o, s:o}",
                             "summary", nicctrl_summary(agent->nicctrl),
                             "ports", nicctrl_show(agent->nicctrl,
                                                   argc > 1 ? argv[1]
                                                   : NULL));
    agent_reply(conn, show, show_offload_text);
}

/* "offload/verify PORT [COUNT [SEED]]": PORT's fast path checked against
 * the reference model by COUNT frames (default 10000) drawn with SEED
 * (default 1); see xlate_nic_verify(). */
static void
agent_cmd_offload_verify(struct control_conn *conn, int argc,
                         const char *argv[], void *agent_)
{
    struct agent *agent = agent_;
    struct odb_replica *ovs = agent_current(agent->ovs_db);
    struct odb_replica *vtep = agent_current(agent->vtep_db);
    unsigned long long int count = 10000, seed = 1;
    char *end;

    if (!agent->nicctrl) {
        control_reply_error(conn, "offload is off (iovpd --offload=none)");
        return;
    }
    if (!ovs || !vtep) {
        control_reply_error(conn, "no copy of the databases yet");
        return;
    }
    if (argc > 2) {
        count = strtoull(argv[2], &end, 10);
        if (!argv[2][0] || *end || !count || count > 10000000) {
            control_reply_error(conn, "COUNT must be from 1 to 10000000");
            return;
        }
    }
    if (argc > 3) {
        seed = strtoull(argv[3], &end, 10);
        if (!argv[3][0] || *end) {
            control_reply_error(conn, "SEED must be a number");
            return;
        }
    }

    struct xlate_nic_policy policy;
    translate_nic_policy(agent->translate, NULL, &policy);
    json_t *result;
    char *error = xlate_nic_verify(agent->nicctrl, &policy, argv[1], count,
                                   seed, &result);
    if (error) {
        control_reply_error(conn, error);
        free(error);
    } else if (control_conn_format(conn) == CONTROL_FMT_JSON) {
        json_object_set_new(result, "bridge", json_string(agent->bridge));
        json_t *captures = json_array();
        const struct ports *ports = translate_ports(agent->translate);
        for (size_t i = 0; i < ports->n; i++) {
            const struct port *p = ports->sorted[i];
            if (p->profile == PORT_PROFILE_CAPTURE && p->ofport >= 0) {
                json_array_append_new(captures, json_integer(p->ofport));
            }
        }
        json_object_set_new(result, "capture_ofports", captures);
        control_reply_json(conn, result);
    } else {
        char *text = iovp_xasprintf(
            "%s: %"JSON_INTEGER_FORMAT" frames, %"JSON_INTEGER_FORMAT
            " decided in the NIC, %"JSON_INTEGER_FORMAT" disagreements\n",
            argv[1],
            json_integer_value(json_object_get(result, "frames")),
            json_integer_value(json_object_get(result, "decided_in_nic")),
            json_integer_value(json_object_get(result, "disagreements")));
        control_reply(conn, text);
        free(text);
        json_decref(result);
    }
}

/* "offload/sim-configure OPTIONS": changes the options of the sim backend
 * while it runs (offload/sim.c), how tests inject faults. */
static void
agent_cmd_offload_sim_configure(struct control_conn *conn,
                                int argc OVS_UNUSED, const char *argv[],
                                void *agent_)
{
    struct agent *agent = agent_;
    struct offload *backend = (agent->nicctrl
                               ? nicctrl_backend(agent->nicctrl) : NULL);

    if (!backend || backend->class != &offload_sim_class) {
        control_reply_error(conn, "the offload backend is not sim");
        return;
    }

    char *error = offload_sim_configure(backend, argv[1]);
    if (error) {
        control_reply_error(conn, error);
        free(error);
    } else {
        control_reply(conn, "");
        agent_wake(agent);
    }
}

/* A "policy/dump" that waits for a new read of the flows' counters. */
struct agent_waiter {
    struct ovs_list node;       /* In 'agent->waiters'. */
    struct control_deferred *reply;
    char *port;                 /* Its argument, or NULL. */
};

/* Answers 'w' with what it asked for, and frees it. */
static void
agent_answer(struct agent *agent, struct agent_waiter *w)
{
    json_t *result;
    char *error = agent_policy_json(agent, w->port, &result);

    if (error) {
        control_deferred_reply_error(w->reply, error);
        free(error);
    } else {
        agent_deferred_reply(w->reply, result, show_policy_text);
    }
    free(w->port);
    free(w);
}

/* Answers every command waiting for counters. */
void
agent_answer_waiters(struct agent *agent)
{
    struct agent_waiter *w;

    LIST_FOR_EACH_POP (w, node, &agent->waiters) {
        agent_answer(agent, w);
    }
}

/* "policy/dump [PORT]": answered once the switch has given the counters
 * anew. */
static void
agent_cmd_policy_dump(struct control_conn *conn, int argc,
                      const char *argv[], void *agent_)
{
    struct agent *agent = agent_;
    struct agent_waiter *w = iovp_xmalloc(sizeof *w);

    w->reply = control_defer(conn);
    w->port = argc > 1 ? iovp_xstrdup(argv[1]) : NULL;
    ovs_list_push_back(&agent->waiters, &w->node);
    agent_read_all_stats(agent);
}

/* A "flows/dump" that waits for the switch's list of its flows. */
struct agent_flows_request {
    struct ovs_list node;       /* In 'agent->flows_reading' or
                                 * 'agent->flows_next'. */
    struct control_deferred *reply;
    char *port;                 /* Its argument, or NULL. */
};

/* Answers 'r' with 'flows', what the switch holds, or, if 'flows' is NULL,
 * with 'error'; takes it off its list and frees it.  A request whose
 * client is gone is only freed. */
static void
agent_flows_answer(const struct agent *agent, struct agent_flows_request *r,
                   const struct oflow_table *flows, const char *error)
{
    ovs_list_remove(&r->node);
    if (control_deferred_is_orphaned(r->reply)) {
        control_deferred_reply_error(r->reply, "");
    } else if (flows) {
        agent_deferred_reply(r->reply, agent_flows_json(agent, r->port,
                                                        flows),
                             show_flows_text);
    } else {
        char *s = iovp_xasprintf("the switch's flows could not be read "
                                 "(%s)", error);
        control_deferred_reply_error(r->reply, s);
        free(s);
    }
    free(r->port);
    free(r);
}

/* Answers every request on 'list' as agent_flows_answer() does. */
void
agent_flows_answer_all(const struct agent *agent, struct ovs_list *list,
                       const struct oflow_table *flows, const char *error)
{
    struct agent_flows_request *r;

    LIST_FOR_EACH_SAFE (r, node, list) {
        agent_flows_answer(agent, r, flows, error);
    }
}

/* ofctrl_dump_flows()'s callback: answers the "flows/dump"s that the read
 * was for, and has the agent start the next read if more wait.  (Not
 * here: ofctrl is in the middle of a message.) */
static void
agent_flows_dumped(const struct oflow_table *flows, const char *error,
                   void *agent_)
{
    struct agent *agent = agent_;

    agent_flows_answer_all(agent, &agent->flows_reading, flows, error);
    if (!ovs_list_is_empty(&agent->flows_next)) {
        agent_wake(agent);
    }
}

/* Unless a read of the switch's flows is under way, starts one for the
 * "flows/dump"s that wait.  Those whose client has gone are dropped
 * first, so that a client that asks and leaves, over and over, makes
 * neither the waiting list nor the reads grow. */
void
agent_flows_read(struct agent *agent)
{
    struct agent_flows_request *r;

    LIST_FOR_EACH_SAFE (r, node, &agent->flows_next) {
        if (control_deferred_is_orphaned(r->reply)) {
            agent_flows_answer(agent, r, NULL, NULL);
        }
    }
    if (ovs_list_is_empty(&agent->flows_next)
        || ofctrl_is_dumping_flows(agent->ofctrl)) {
        return;
    }

    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
    int error = ofctrl_dump_flows(agent->ofctrl, agent_flows_dumped, agent,
                                  &msgs);
    if (!error) {
        ovs_list_push_back_all(&agent->flows_reading, &agent->flows_next);
        agent_ofp_send(agent, &msgs);
    } else {
        agent_flows_answer_all(agent, &agent->flows_next, NULL,
                               "not connected to the switch");
    }
}

/* Returns true if 'agent' has a VM port called 'name', as "show" lists
 * them, or a tunnel whose port or remote VTEP 'name' names. */
static bool
agent_has_port(const struct agent *agent, const char *name)
{
    if (overlay_lookup_tunnel(translate_overlay(agent->translate), name)) {
        return true;
    }

    json_t *show = agent_show(agent);
    const json_t *port;
    bool found = false;
    size_t i;

    json_array_foreach (json_object_get(show, "ports"), i, port) {
        found = found || !strcmp(json_string_value(
                                     json_object_get(port, "name")), name);
    }
    json_decref(show);
    return found;
}

/* "flows/dump [PORT]": the flows that the switch holds, read from it anew
 * over the OpenFlow connection (by a read that begins after the request
 * came), compared with those iovpd wants (agent_flows_json()). */
static void
agent_cmd_flows_dump(struct control_conn *conn, int argc,
                     const char *argv[], void *agent_)
{
    struct agent *agent = agent_;

    if (argc > 1 && !agent_has_port(agent, argv[1])) {
        control_reply_error(conn, "no such port");
        return;
    } else if (!ofctrl_has_installed(agent->ofctrl)) {
        /* Before the first read, iovpd wants flows that it cannot have
         * sent yet: "missing" would say more than is known. */
        control_reply_error(conn, "not connected to the switch yet");
        return;
    }

    struct agent_flows_request *r = iovp_xmalloc(sizeof *r);
    r->reply = control_defer(conn);
    r->port = argc > 1 ? iovp_xstrdup(argv[1]) : NULL;
    ovs_list_push_back(&agent->flows_next, &r->node);
    agent_flows_read(agent);
}

/* Replies on 'conn' with 'status' (stolen), a JSON object of counters and
 * states: as JSON, or as a "key: value" line for each member. */
static char *
agent_status_text(const json_t *status)
{
    return iovp_json_lines(status, "");
}

static void
agent_reply_status(struct control_conn *conn, json_t *status)
{
    agent_reply(conn, status, agent_status_text);
}

/* "memory/show": what iovpd holds, as Open vSwitch's daemons answer it:
 * its resident memory, the heap in use, and the counts of what fills it. */
static void
agent_cmd_memory_show(struct control_conn *conn, int argc OVS_UNUSED,
                      const char *argv[] OVS_UNUSED, void *agent_)
{
    struct agent *agent = agent_;
    long int rss_kb = 0;
    FILE *status = fopen("/proc/self/status", "r");
    char line[256];

    while (status && fgets(line, sizeof line, status)) {
        if (!strncmp(line, "VmRSS:", 6)) {
            rss_kb = atol(line + 6);
        }
    }
    if (status) {
        fclose(status);
    }
#ifdef __GLIBC__
    struct mallinfo2 mi = mallinfo2();
    json_int_t heap_kb = (mi.uordblks + mi.hblkhd) / 1024;
#else
    json_int_t heap_kb = -1;
#endif

    struct odb_replica *ovs = odb_client_replica(agent->ovs_db);
    struct odb_replica *vtep = odb_client_replica(agent->vtep_db);
    const struct oflow_table *desired
        = desired_flows(translate_desired(agent->translate));
    const struct oflow_table *installed = ofctrl_installed(agent->ofctrl);
    json_t *memory = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I}",
        "rss_kb", (json_int_t) rss_kb, "heap_in_use_kb", heap_kb,
        "desired_flows", (json_int_t) oflow_table_count(desired),
        "installed_flows", (json_int_t) oflow_table_count(installed),
        "ovs_rows", (json_int_t) (ovs ? odb_replica_n_rows(ovs) : 0),
        "vtep_rows", (json_int_t) (vtep ? odb_replica_n_rows(vtep) : 0));

    /* The heap's largest parts, by walking them, and the rest. */
    if (heap_kb >= 0 && iovp_malloc_size(agent)) {
        struct {
            const char *name;
            size_t bytes;
        } parts[] = {
            { "desired_flows_kb", oflow_table_memory(desired) },
            { "installed_flows_kb", oflow_table_memory(installed) },
            { "vtep_replica_kb", vtep ? odb_replica_memory(vtep) : 0 },
            { "vtep_model_kb", odb_idl_memory(agent->vtep_idl) },
            { "ovs_replica_kb", ovs ? odb_replica_memory(ovs) : 0 },
            { "ovs_model_kb", odb_idl_memory(agent->ovs_idl) },
            { "model_strings_kb", odb_idl_strings_memory() },
            { "desired_groups_kb", desired_groups_memory(
                  translate_desired(agent->translate)) },
            { "acl_translation_kb", xlate_acl_memory(
                  translate_xacl(agent->translate)) },
        };
        json_int_t rest = heap_kb;
        for (size_t i = 0; i < IOVP_ARRAY_SIZE(parts); i++) {
            json_int_t kb = parts[i].bytes / 1024;
            json_object_set_new(memory, parts[i].name, json_integer(kb));
            rest -= kb;
        }
        json_object_set_new(memory, "other_kb", json_integer(MAX(rest, 0)));
    }
    if (agent->lag.started) {
        json_object_update_new(memory, loop_lag_status(&agent->lag));
    }

    agent_reply_status(conn, memory);
}

/* "ofp/status": the OpenFlow connection to the integration bridge. */
static void
agent_cmd_ofp_status(struct control_conn *conn, int argc OVS_UNUSED,
                     const char *argv[] OVS_UNUSED, void *agent_)
{
    struct agent *agent = agent_;
    json_t *status = ofp_client_status(agent->ofp);

    json_t *flows = ofctrl_status(agent->ofctrl);
    json_object_set_new(flows, "dump_waiters", json_integer(
                            ovs_list_size(&agent->flows_reading)
                            + ovs_list_size(&agent->flows_next)));
    json_object_set_new(status, "flows", flows);

    agent_reply_status(conn, status);
}

/* The text of "controller/show" for 'status'
 * (agent_northbound_status()). */
static char *
agent_controller_text(const json_t *status)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    const json_t *value;
    size_t i;

    if (json_is_null(status)) {
        return iovp_xstrdup("no OpenFlow northbound (see --openflow)\n");
    }
    ds_put_format(&s, "datapath_id: %s\nbridge_connected: %s\nports: %"
                  JSON_INTEGER_FORMAT"\n",
                  json_string_value(json_object_get(status, "datapath_id")),
                  json_is_true(json_object_get(status, "bridge_connected"))
                  ? "true" : "false",
                  json_integer_value(json_object_get(status, "ports")));
    json_array_foreach (json_object_get(status, "listeners"), i, value) {
        ds_put_format(&s, "listening: %s\n", json_string_value(value));
    }
    json_array_foreach (json_object_get(status, "controllers"), i, value) {
        const char *key;
        const json_t *v;

        ds_put_format(&s, "controller %s\n", json_string_value(
                          json_object_get(value, "target")));
        json_object_foreach ((json_t *) value, key, v) {
            if (!strcmp(key, "target")) {
                continue;
            }
            char *text = json_dumps(v, JSON_ENCODE_ANY);
            ds_put_format(&s, "    %s: %s\n", key,
                          json_is_string(v) ? json_string_value(v) : text);
            free(text);
        }
    }
    return ds_steal_cstr(&s);
}

/* "controller/show": the OpenFlow northbound's switch and its
 * controllers. */
static void
agent_cmd_controller_show(struct control_conn *conn, int argc OVS_UNUSED,
                          const char *argv[] OVS_UNUSED, void *agent_)
{
    agent_reply(conn, agent_northbound_status(agent_),
                agent_controller_text);
}

/* "engine/show": the translation engine's nodes, in the order they run,
 * with their inputs and how often each recomputed and ran incrementally
 * (agent/engine.h). */
static void
agent_cmd_engine_show(struct control_conn *conn, int argc OVS_UNUSED,
                      const char *argv[] OVS_UNUSED, void *agent_)
{
    struct agent *agent = agent_;

    agent_reply(conn, engine_show(translate_engine(agent->translate)),
                engine_show_text);
}

/* "debug/recompute": every node of the translation engine computes its
 * data anew from the replicas, as the incremental runs should have left
 * it; the flows that differ go to the switch. */
static void
agent_cmd_debug_recompute(struct control_conn *conn, int argc OVS_UNUSED,
                          const char *argv[] OVS_UNUSED, void *agent_)
{
    struct agent *agent = agent_;

    translate_force_recompute(agent->translate);
    agent_wake(agent);
    control_reply(conn, "");
}

/* Registers the agent's control commands. */
void
agent_appctl_register(struct agent *agent)
{
    static const struct {
        const char *name, *usage;
        int min_args, max_args;
        control_cb_func *cb;
    } cmds[] = {
        { "memory/show", "", 0, 0, agent_cmd_memory_show },
        { "ofp/status", "", 0, 0, agent_cmd_ofp_status },
        { "controller/show", "", 0, 0, agent_cmd_controller_show },
        { "flows/dump", "[PORT]", 0, 1, agent_cmd_flows_dump },
        { "switch/show", "", 0, 0, agent_cmd_switch_show },
        { "policy/dump", "[PORT]", 0, 1, agent_cmd_policy_dump },
        { "acl/trace", "PORT FLOW", 2, 2, agent_cmd_acl_trace },
        { "offload/show", "[PORT]", 0, 1, agent_cmd_offload_show },
        { "offload/verify", "PORT [COUNT [SEED]]", 1, 3,
          agent_cmd_offload_verify },
        { "offload/sim-configure", "OPTIONS", 1, 1,
          agent_cmd_offload_sim_configure },
        { "engine/show", "", 0, 0, agent_cmd_engine_show },
        { "debug/recompute", "", 0, 0, agent_cmd_debug_recompute },
        { "exit", "", 0, 0, agent_cmd_exit },
        { "ovsdb/status", "", 0, 0, agent_cmd_ovsdb_status },
        { "ovsdb/dump", "DB", 1, 1, agent_cmd_ovsdb_dump },
        { "ovsdb/conditions", "DB", 1, 1, agent_cmd_ovsdb_conditions },
    };

    control_register_vlog(agent->control);
    agent_capture_register(agent);
    for (size_t i = 0; i < IOVP_ARRAY_SIZE(cmds); i++) {
        control_register(agent->control, cmds[i].name, cmds[i].usage,
                         cmds[i].min_args, cmds[i].max_args, cmds[i].cb,
                         agent);
    }
}
