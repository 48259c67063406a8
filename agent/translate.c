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

#include "agent/translate.h"

#include <string.h>
#include <unistd.h>

#include <openvswitch/vlog.h>

#include "agent/engine.h"
#include "agent/overlay.h"
#include "agent/pipeline.h"
#include "agent/ports.h"
#include "agent/xlate-acl.h"
#include "agent/xlate-capture.h"
#include "agent/xlate-steer.h"
#include "agent/xlate-lb.h"
#include "agent/xlate-nic.h"
#include "lib/util.h"
#include "ofp/desired.h"
#include "ofp/oflow.h"
#include "model/vswitch-idl.h"
#include "model/vtep-idl.h"
#include "ovsdb/idl.h"

VLOG_DEFINE_THIS_MODULE(translate);

struct translate {
    struct engine engine;

    /* Inputs: what changed in the databases since the last run. */
    struct engine_node ovs_ports;   /* The bridge's ports and interfaces. */
    struct engine_node identity;    /* The switch's name, tunnel address. */
    struct engine_node vtep_ports;  /* Physical_Switch, Physical_Port,
                                     * Logical_Switch, Iovp_Port, ACL
                                     * names. */
    struct engine_node vtep_acls;   /* ACL and ACL_entry rows. */
    struct engine_node vtep_overlay;    /* Logical_Switch, the remote
                                         * MACs and their locators. */
    struct engine_node acl_status;  /* Their fault statuses. */
    struct engine_node counters;    /* The switch's flow counters. */
    struct engine_node openflow;    /* The controller's table 0. */
    struct engine_node vtep_lbs;    /* Iovp_Load_Balancer and
                                     * Iovp_LB_Backend rows. */
    struct engine_node vtep_captures;   /* Iovp_Capture rows. */
    struct engine_node vtep_steering;   /* Iovp_Steering rows. */
    struct engine_node capture_sessions;    /* iovpd's own captures. */
    struct engine_node acl_backlog; /* ACLs that the last run left for the
                                     * next (xlate_acl_is_done()). */

    /* Nodes. */
    struct engine_node ports;
    struct engine_node overlay;
    struct engine_node pipeline;
    struct engine_node acls;
    struct engine_node lbs;
    struct engine_node captures;
    struct engine_node steering;
    struct engine_node nic;
    struct engine_node acl_faults;

    /* Configuration. */
    char *bridge;
    char *switch_name;          /* NULL: derived. */
    char *tunnel_ip;            /* NULL: derived. */
    struct nicctrl *nicctrl;    /* Not owned; NULL without offload. */
    struct xlate_nic *xnic;     /* With 'nicctrl'. */
    const struct nbswitch *nb;  /* Not owned; NULL without northbound. */

    /* The run under way: what its nodes read. */
    const struct odb_idl *vtep_idl;
    const struct odb_idl *ovs_idl;
    const struct oflow_table *installed;

    /* 'identity''s data: the switch's name and tunnel address as
     * Open_vSwitch gives them (or NULL), for when no option does, and the
     * host's name, for when neither does. */
    char *ovs_name;
    char *ovs_tunnel_ip;
    char hostname[256];

    /* 'vtep_acls''s data: the UUIDs of the ACL and ACL_entry rows changed
     * (sets: no data); 'acl_rows_all' when anything may have (a reload of
     * the model). */
    struct shash changed_acls;
    struct shash changed_entries;
    bool acl_rows_all;

    /* 'ports''s data: the ports as the last run read them and as the one
     * before did, and the ports and logical switches that differ between
     * the two (shash of names, NULL data). */
    struct ports readings[2];
    struct ports *ports_cur;    /* One of 'readings'. */
    struct ports *ports_prev;   /* The other. */
    struct shash changed_ports;
    struct shash changed_lswitches;

    /* 'overlay''s data: as for the ports, the last two readings, and the
     * logical switches whose overlay differs between them. */
    struct overlay overlays[2];
    struct overlay *overlay_cur;
    struct overlay *overlay_prev;
    struct shash changed_overlay;

    /* 'pipeline''s data. */
    struct desired desired;     /* Every node's flows, by group. */

    /* 'lbs''s data. */
    struct xlate_lb *xlb;

    /* 'captures''s data, and 'sessions''s: the captures that iovpd keeps
     * itself (translate_set_capture_sessions()). */
    struct xlate_capture *xcap;
    struct xlate_capture_session *sessions;
    size_t n_sessions;

    /* 'steering''s data. */
    struct xlate_steer *xsteer;

    /* 'acls''s data. */
    struct xlate_acl *xacl;
    bool acl_faults_changed;    /* By a run or handler since the last
                                 * translate_clear(). */
};

/* Inputs. */

/* Returns true if 'row' (tracked by its model) is new, deleted, or changed
 * in a column other than 'column'. */
static bool
translate_row_changed_beyond(const struct odb_idl_row *row,
                             unsigned int column, unsigned int n_columns)
{
    if (odb_idl_row_is_new(row) || odb_idl_row_is_deleted(row)) {
        return true;
    }
    for (unsigned int c = 0; c < n_columns; c++) {
        if (c != column && odb_idl_row_is_updated(row, c)) {
            return true;
        }
    }
    return false;
}

/* Returns true if 'row' (tracked by its model) is new, deleted, or changed
 * in a column other than its 'status' and 'statistics', which are iovpd's
 * to write. */
static bool
translate_settings_changed(const struct odb_idl_row *row, unsigned int status,
                           unsigned int statistics, unsigned int n_columns)
{
    if (odb_idl_row_is_new(row) || odb_idl_row_is_deleted(row)) {
        return true;
    }
    for (unsigned int c = 0; c < n_columns; c++) {
        if (c != status && c != statistics && odb_idl_row_is_updated(row, c)) {
            return true;
        }
    }
    return false;
}

/* Returns true if 'row' (tracked) is new, deleted, or changed in 'column'. */
static bool
translate_row_touched(const struct odb_idl_row *row, unsigned int column)
{
    return (odb_idl_row_is_new(row) || odb_idl_row_is_deleted(row)
            || odb_idl_row_is_updated(row, column));
}

/* Returns a copy of the value of 'key' in the Open_vSwitch row's
 * external_ids in 'ovs', or NULL. */
static char *
translate_ovs_external_id(const struct odb_idl *ovs, const char *key)
{
    const struct vswitch_open_vswitch *row = vswitch_open_vswitch_first(ovs);
    const char *value = (row
                         ? odb_idl_map_get(row->key_external_ids,
                                           row->value_external_ids,
                                           row->n_external_ids, key)
                         : NULL);

    return value ? iovp_xstrdup(value) : NULL;
}

/* Takes in what the Open_vSwitch model 'ovs' tracked (all of it after a
 * reload): the switch's identity, and the ports and interfaces of the
 * bridges.  The columns iovpd sets up on its bridge, and the configuration
 * counters, change no flow. */
void
translate_ovs_changed(struct translate *t, const struct odb_idl *ovs)
{
    const struct vswitch_open_vswitch *root;
    const struct vswitch_bridge *br;
    bool ports = odb_idl_reloaded(ovs), identity = odb_idl_reloaded(ovs);

    VSWITCH_OPEN_VSWITCH_FOR_EACH_TRACKED (root, ovs) {
        identity = identity || translate_row_touched(
            &root->header_, VSWITCH_OPEN_VSWITCH_COL_EXTERNAL_IDS);
    }
    VSWITCH_BRIDGE_FOR_EACH_TRACKED (br, ovs) {
        ports = (ports
                 || translate_row_touched(&br->header_,
                                          VSWITCH_BRIDGE_COL_NAME)
                 || translate_row_touched(&br->header_,
                                          VSWITCH_BRIDGE_COL_PORTS));
    }
    ports = (ports || vswitch_port_track_first(ovs)
             || vswitch_interface_track_first(ovs));

    if (ports) {
        engine_input_changed(&t->ovs_ports);
    }
    if (identity) {
        char *name = translate_ovs_external_id(ovs, "system-id");
        char *ip = translate_ovs_external_id(ovs, "iovp-tunnel-ip");
        if (!iovp_nullable_streq(name, t->ovs_name)
            || !iovp_nullable_streq(ip, t->ovs_tunnel_ip)) {
            free(t->ovs_name);
            free(t->ovs_tunnel_ip);
            t->ovs_name = name;
            t->ovs_tunnel_ip = ip;
            engine_input_changed(&t->identity);
        } else {
            free(name);
            free(ip);
        }
    }
}

/* Reads the host's name again, which names the switch when neither
 * --switch-name nor Open_vSwitch's external_ids:system-id does: a change
 * is a change of the switch's identity.  Cheap enough for every run
 * pass. */
void
translate_hostname_changed(struct translate *t)
{
    char hostname[sizeof t->hostname];

    if (gethostname(hostname, sizeof hostname)) {
        hostname[0] = '\0';
    }
    hostname[sizeof hostname - 1] = '\0';
    if (strcmp(hostname, t->hostname)) {
        memcpy(t->hostname, hostname, sizeof hostname);
        engine_input_changed(&t->identity);
    }
}

/* Takes in tracked 'row', an ACL or ACL_entry row whose fault status is
 * column 'status' of 'n_columns': a change of its status (someone else's
 * write) is one of 'acl_status'; a change of anything else is one of
 * 'vtep_acls', with the row's UUID noted in 'changed'. */
static void
translate_acl_row_changed(struct translate *t, const struct odb_idl_row *row,
                          unsigned int status, unsigned int n_columns,
                          struct shash *changed)
{
    if (translate_row_touched(row, status)) {
        engine_input_changed(&t->acl_status);
    }
    if (translate_row_changed_beyond(row, status, n_columns)) {
        shash_replace(changed, row->uuid, NULL);
        engine_input_changed(&t->vtep_acls);
    }
}

/* Takes in what the hardware_vtep model 'vtep' tracked (all of it after
 * a reload: a new schema's).  What iovpd itself writes there (the statuses
 * and statistics of ports, ACLs and entries, the local MACs, the offload
 * report) changes no node, but a fault status that someone else changed
 * makes iovpd look at the faults again. */
void
translate_vtep_changed(struct translate *t, const struct odb_idl *vtep)
{
    if (odb_idl_reloaded(vtep)) {
        t->acl_rows_all = true;
        engine_input_changed(&t->vtep_ports);
        engine_input_changed(&t->vtep_overlay);
        engine_input_changed(&t->vtep_acls);
        engine_input_changed(&t->acl_status);
        engine_input_changed(&t->vtep_lbs);
        engine_input_changed(&t->vtep_captures);
        engine_input_changed(&t->vtep_steering);
        return;
    }

    const struct hwvtep_physical_switch *ps;
    HWVTEP_PHYSICAL_SWITCH_FOR_EACH_TRACKED (ps, vtep) {
        if (translate_row_touched(&ps->header_,
                                  HWVTEP_PHYSICAL_SWITCH_COL_NAME)
            || translate_row_touched(&ps->header_,
                                     HWVTEP_PHYSICAL_SWITCH_COL_PORTS)) {
            engine_input_changed(&t->vtep_ports);
        }
        if (translate_row_touched(&ps->header_,
                                  HWVTEP_PHYSICAL_SWITCH_COL_NAME)
            || translate_row_touched(&ps->header_,
                                     HWVTEP_PHYSICAL_SWITCH_COL_TUNNELS)) {
            engine_input_changed(&t->vtep_overlay);
        }
    }
    /* A Tunnel's BFD configuration; its status and local addresses are
     * iovpd's to write. */
    const struct hwvtep_tunnel *tunnel;
    HWVTEP_TUNNEL_FOR_EACH_TRACKED (tunnel, vtep) {
        if (hwvtep_tunnel_is_new(tunnel) || hwvtep_tunnel_is_deleted(tunnel)
            || hwvtep_tunnel_is_updated(tunnel, HWVTEP_TUNNEL_COL_LOCAL)
            || hwvtep_tunnel_is_updated(tunnel, HWVTEP_TUNNEL_COL_REMOTE)
            || hwvtep_tunnel_is_updated(tunnel,
                                        HWVTEP_TUNNEL_COL_BFD_PARAMS)
            || hwvtep_tunnel_is_updated(tunnel,
                                        HWVTEP_TUNNEL_COL_BFD_CONFIG_REMOTE)) {
            engine_input_changed(&t->vtep_overlay);
        }
    }
    const struct hwvtep_physical_port *pp;
    HWVTEP_PHYSICAL_PORT_FOR_EACH_TRACKED (pp, vtep) {
        if (translate_row_touched(&pp->header_,
                                  HWVTEP_PHYSICAL_PORT_COL_NAME)
            || translate_row_touched(&pp->header_,
                                     HWVTEP_PHYSICAL_PORT_COL_VLAN_BINDINGS)
            || translate_row_touched(&pp->header_,
                                     HWVTEP_PHYSICAL_PORT_COL_ACL_BINDINGS)) {
            engine_input_changed(&t->vtep_ports);
        }
    }
    if (hwvtep_logical_switch_track_first(vtep)
        || hwvtep_iovp_port_track_first(vtep)) {
        engine_input_changed(&t->vtep_ports);
    }
    /* A load balancer's or a backend's settings; their status and
     * statistics are iovpd's to write. */
    const struct hwvtep_iovp_load_balancer *lb;
    HWVTEP_IOVP_LOAD_BALANCER_FOR_EACH_TRACKED (lb, vtep) {
        if (translate_row_changed_beyond(
                &lb->header_, HWVTEP_IOVP_LOAD_BALANCER_COL_STATUS,
                HWVTEP_IOVP_LOAD_BALANCER_N_COLUMNS)) {
            engine_input_changed(&t->vtep_lbs);
        }
    }
    const struct hwvtep_iovp_lb_backend *be;
    HWVTEP_IOVP_LB_BACKEND_FOR_EACH_TRACKED (be, vtep) {
        if (translate_settings_changed(
                &be->header_, HWVTEP_IOVP_LB_BACKEND_COL_STATUS,
                HWVTEP_IOVP_LB_BACKEND_COL_STATISTICS,
                HWVTEP_IOVP_LB_BACKEND_N_COLUMNS)) {
            engine_input_changed(&t->vtep_lbs);
        }
    }

    /* A capture's settings; its status and statistics are iovpd's. */
    const struct hwvtep_iovp_capture *cap;
    HWVTEP_IOVP_CAPTURE_FOR_EACH_TRACKED (cap, vtep) {
        if (translate_settings_changed(
                &cap->header_, HWVTEP_IOVP_CAPTURE_COL_STATUS,
                HWVTEP_IOVP_CAPTURE_COL_STATISTICS,
                HWVTEP_IOVP_CAPTURE_N_COLUMNS)) {
            engine_input_changed(&t->vtep_captures);
        }
    }

    /* A steering rule's settings; its status and statistics are
     * iovpd's. */
    const struct hwvtep_iovp_steering *st;
    HWVTEP_IOVP_STEERING_FOR_EACH_TRACKED (st, vtep) {
        if (translate_settings_changed(
                &st->header_, HWVTEP_IOVP_STEERING_COL_STATUS,
                HWVTEP_IOVP_STEERING_COL_STATISTICS,
                HWVTEP_IOVP_STEERING_N_COLUMNS)) {
            engine_input_changed(&t->vtep_steering);
        }
    }

    /* A QoS row's settings; its statistics are iovpd's to write. */
    const struct hwvtep_iovp_qos *qos;
    HWVTEP_IOVP_QOS_FOR_EACH_TRACKED (qos, vtep) {
        if (translate_row_changed_beyond(&qos->header_,
                                         HWVTEP_IOVP_QOS_COL_STATISTICS,
                                         HWVTEP_IOVP_QOS_N_COLUMNS)) {
            engine_input_changed(&t->vtep_ports);
        }
    }
    if (hwvtep_logical_switch_track_first(vtep)
        || hwvtep_ucast_macs_remote_track_first(vtep)
        || hwvtep_mcast_macs_remote_track_first(vtep)
        || hwvtep_physical_locator_track_first(vtep)
        || hwvtep_physical_locator_set_track_first(vtep)) {
        engine_input_changed(&t->vtep_overlay);
    }

    const struct hwvtep_acl *acl;
    HWVTEP_ACL_FOR_EACH_TRACKED (acl, vtep) {
        translate_acl_row_changed(t, &acl->header_,
                                  HWVTEP_ACL_COL_ACL_FAULT_STATUS,
                                  HWVTEP_ACL_N_COLUMNS, &t->changed_acls);
        if (translate_row_touched(&acl->header_, HWVTEP_ACL_COL_ACL_NAME)) {
            engine_input_changed(&t->vtep_ports);
        }
    }
    const struct hwvtep_acl_entry *e;
    HWVTEP_ACL_ENTRY_FOR_EACH_TRACKED (e, vtep) {
        translate_acl_row_changed(t, &e->header_,
                                  HWVTEP_ACL_ENTRY_COL_ACLE_FAULT_STATUS,
                                  HWVTEP_ACL_ENTRY_N_COLUMNS,
                                  &t->changed_entries);
    }
}

/* Gives the NIC's translation the OpenFlow controller's switch 'nb', whose
 * copy of the controller's table 0 the ports in OpenFlow mode use. */
void
translate_set_openflow(struct translate *t, const struct nbswitch *nb)
{
    t->nb = nb;
    engine_input_changed(&t->openflow);
}

/* The controller's table 0 changed, or its copy became known again: the
 * NIC's rules follow in the next run. */
void
translate_openflow_changed(struct translate *t)
{
    engine_input_changed(&t->openflow);
}

/* The controller's table 0 is about to change: the NIC's rules that read
 * what may change are withdrawn at once (the switch shows the changes in
 * flight, or no table at all). */
void
translate_openflow_changing(struct translate *t)
{
    if (t->nicctrl) {
        struct xlate_nic_policy policy;
        translate_nic_policy(t, t->installed, &policy);
        xlate_nic_update(t->nicctrl, &policy);
    }
    engine_input_changed(&t->openflow);
}

/* The switch's counters were read anew into 'installed', at 'now' (ms):
 * the NIC's rules weigh them, and follow the traffic they show.
 * 'acl_counters' changes when those of the ingress ACLs' flows did
 * (ofctrl_counters_seqno()).  Returns true if that is a change for
 * translation (with offload). */
bool
translate_counters_changed(struct translate *t,
                           const struct oflow_table *installed,
                           uint64_t acl_counters, long long int now)
{
    if (t->nicctrl) {
        struct xlate_nic_policy policy;
        translate_nic_policy(t, installed, &policy);
        xlate_nic_read_traffic(t->xnic, t->nicctrl, &policy, acl_counters,
                               now);
        engine_input_changed(&t->counters);
    }
    return t->nicctrl != NULL;
}

static void
translate_acls_clear(struct engine_node *node)
{
    struct translate *t = node->data;

    t->acl_faults_changed = false;
}

/* The ports and logical switches that changed are the run's: the next run
 * must not take them for its own. */
static void
translate_ports_clear(struct engine_node *node)
{
    struct translate *t = node->data;

    shash_clear(&t->changed_ports);
    shash_clear(&t->changed_lswitches);
}

static void
translate_overlay_clear(struct engine_node *node)
{
    struct translate *t = node->data;

    shash_clear(&t->changed_overlay);
}

static void
translate_vtep_acls_clear(struct engine_node *node)
{
    struct translate *t = node->data;

    shash_clear(&t->changed_acls);
    shash_clear(&t->changed_entries);
    t->acl_rows_all = false;
}

/* Sets '*namep' to the switch's name: --switch-name, else Open_vSwitch
 * external_ids:system-id, else the host name (NULL while 'ovs_current' is
 * false, the Open_vSwitch replica not current, and no option gave it); and
 * '*ipp' to the host's tunnel address: --tunnel-ip, else
 * external_ids:iovp-tunnel-ip, else NULL.  Both are borrowed: valid until
 * the next change of the Open_vSwitch database. */
void
translate_identity(const struct translate *t, bool ovs_current,
                   const char **namep, const char **ipp)
{
    *namep = t->switch_name;
    *ipp = t->tunnel_ip;
    if (ovs_current) {
        *namep = *namep ? *namep : t->ovs_name;
        *ipp = *ipp ? *ipp : t->ovs_tunnel_ip;
        if (!*namep && t->hostname[0]) {
            *namep = t->hostname;
        }
    }
}

/* Nodes. */

/* Logs each ambiguity of 'new' that 'old' did not have, and each one
 * that 'old' had and 'new' does not: once per change, however often the
 * ports are read again. */
static void
translate_log_ambiguities(const json_t *old, const json_t *new)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    const char *text;
    json_t *value;

    json_object_foreach (CONST_CAST(json_t *, new), text, value) {
        if (!json_object_get(old, text)) {
            VLOG_WARN_RL(&rl, "%s", text);
        }
    }
    json_object_foreach (CONST_CAST(json_t *, old), text, value) {
        if (!json_object_get(new, text)) {
            VLOG_INFO_RL(&rl, "resolved: %s", text);
        }
    }
}

/* 'ports': the VM ports read again, and which ports and logical switches
 * differ from the last reading. */
static enum engine_result
translate_ports_run(struct engine_node *node)
{
    struct translate *t = node->data;
    const char *name, *ip;

    translate_identity(t, true, &name, &ip);
    struct ports *older = t->ports_prev;
    t->ports_prev = t->ports_cur;
    t->ports_cur = older;
    ports_destroy(t->ports_cur);
    ports_init(t->ports_cur);
    ports_read(t->ports_cur, t->vtep_idl, t->ovs_idl, name, t->bridge);
    translate_log_ambiguities(t->ports_prev->ambiguities,
                              t->ports_cur->ambiguities);

    shash_clear(&t->changed_ports);
    shash_clear(&t->changed_lswitches);
    ports_diff(t->ports_prev, t->ports_cur, &t->changed_ports,
               &t->changed_lswitches);
    bool changed = (!shash_is_empty(&t->changed_ports)
                    || !json_equal(t->ports_prev->faults, t->ports_cur->faults)
                    || !ports_same_acls(t->ports_prev, t->ports_cur));
    return changed ? ENGINE_CHANGED : ENGINE_UNCHANGED;
}

/* 'overlay': the overlay read again, and which logical switches' overlay
 * differs from the last reading. */
static enum engine_result
translate_overlay_run(struct engine_node *node)
{
    struct translate *t = node->data;
    const char *name, *ip;

    translate_identity(t, true, &name, &ip);
    struct overlay *older = t->overlay_prev;
    t->overlay_prev = t->overlay_cur;
    t->overlay_cur = older;
    overlay_destroy(t->overlay_cur);
    overlay_init(t->overlay_cur);
    overlay_read(t->overlay_cur, t->overlay_prev, t->vtep_idl, t->ovs_idl,
                 name, t->bridge, ip);
    translate_log_ambiguities(t->overlay_prev->faults,
                              t->overlay_cur->faults);

    shash_clear(&t->changed_overlay);
    overlay_diff(t->overlay_prev, t->overlay_cur, &t->changed_overlay);
    return (shash_is_empty(&t->changed_overlay)
            && overlay_same_tunnels(t->overlay_prev, t->overlay_cur)
            ? ENGINE_UNCHANGED : ENGINE_CHANGED);
}

/* Makes again the pipeline's flows of the ports named in 'names' and of
 * the logical switches in 'lswitches': from the ports' and the overlay's
 * last readings, where their groups hold what the readings before made
 * (the remote MACs that differ, or with 'all' every one).  The old flows
 * of those of 'names' that changed go first, so that no new flow meets an
 * old one of another port that claims its match (an OpenFlow port or a MAC
 * that moved from one port to another); no other port's flows are
 * touched (the overlay's handler, which runs in the same run as the
 * ports', names none). */
static void
translate_pipeline_update(struct translate *t, const struct shash *names,
                          const struct shash *lswitches, bool all)
{
    const struct shash_node *n;

    SHASH_FOR_EACH (n, names) {
        if (shash_find(&t->changed_ports, n->name)) {
            pipeline_update_port(&t->desired,
                                 ports_find(t->ports_prev, n->name), NULL);
        }
    }
    SHASH_FOR_EACH (n, lswitches) {
        pipeline_retire_overlay(&t->desired, t->overlay_prev, t->overlay_cur,
                                n->name);
    }
    SHASH_FOR_EACH (n, names) {
        const struct port *old = (shash_find(&t->changed_ports, n->name)
                                  ? NULL
                                  : ports_find(t->ports_prev, n->name));
        pipeline_update_port(&t->desired, old,
                             ports_find(t->ports_cur, n->name));
    }
    SHASH_FOR_EACH (n, lswitches) {
        pipeline_update_ls(&t->desired, t->ports_cur, t->overlay_prev,
                           t->overlay_cur, n->name, all);
    }

    bool openflow = all;
    SHASH_FOR_EACH (n, names) {
        const struct port *old = ports_find(t->ports_prev, n->name);
        const struct port *new = ports_find(t->ports_cur, n->name);
        openflow = (openflow || (old && old->openflow)
                    || (new && new->openflow));
    }
    if (openflow) {
        pipeline_update_openflow(&t->desired, t->ports_cur);
    }
}

/* 'pipeline': every port's, every logical switch's, every tunnel's and
 * the fixed flows made again. */
static enum engine_result
translate_pipeline_run(struct engine_node *node)
{
    struct translate *t = node->data;
    unsigned long long int n_changes = t->desired.n_changes;
    struct shash names = SHASH_INITIALIZER(&names);
    struct shash lswitches = SHASH_INITIALIZER(&lswitches);

    for (size_t i = 0; i < IOVP_ARRAY_SIZE(t->readings); i++) {
        for (size_t j = 0; j < t->readings[i].n; j++) {
            const struct port *port = t->readings[i].sorted[j];
            shash_replace(&names, port->name, NULL);
            for (size_t k = 0; k < port->n_bindings; k++) {
                shash_replace(&lswitches, port->bindings[k].ls, NULL);
            }
        }
        struct shash_node *node_;
        SHASH_FOR_EACH (node_, &t->overlays[i].switches) {
            shash_replace(&lswitches, node_->name, NULL);
        }
    }
    pipeline_update_fixed(&t->desired);
    pipeline_update_tunnels(&t->desired, t->overlay_prev, t->overlay_cur,
                            true);
    translate_pipeline_update(t, &names, &lswitches, true);
    shash_destroy(&names);
    shash_destroy(&lswitches);
    return (n_changes != t->desired.n_changes
            ? ENGINE_CHANGED : ENGINE_UNCHANGED);
}

/* Ports changed: the flows of those, and of their logical switches. */
static enum engine_result
translate_pipeline_ports_handler(struct engine_node *node,
                                 struct engine_node *input OVS_UNUSED)
{
    struct translate *t = node->data;
    unsigned long long int n_changes = t->desired.n_changes;

    translate_pipeline_update(t, &t->changed_ports, &t->changed_lswitches,
                              false);
    return (n_changes != t->desired.n_changes
            ? ENGINE_CHANGED : ENGINE_UNCHANGED);
}

/* The overlay changed: the flows of the tunnels and of the logical
 * switches whose overlay did. */
static enum engine_result
translate_pipeline_overlay_handler(struct engine_node *node,
                                   struct engine_node *input OVS_UNUSED)
{
    struct translate *t = node->data;
    unsigned long long int n_changes = t->desired.n_changes;
    struct shash none = SHASH_INITIALIZER(&none);

    pipeline_update_tunnels(&t->desired, t->overlay_prev, t->overlay_cur,
                            false);
    translate_pipeline_update(t, &none, &t->changed_overlay, false);
    return (n_changes != t->desired.n_changes
            ? ENGINE_CHANGED : ENGINE_UNCHANGED);
}

/* 'acls': the flows of the bound ACLs, with 'changed_acls' and
 * 'changed_entries' the rows changed (NULL: read every ACL again). */
static enum engine_result
translate_acls_update(struct translate *t, const struct shash *changed_acls,
                      const struct shash *changed_entries)
{
    unsigned long long int n_changes = t->desired.n_changes;

    bool faults_changed = xlate_acl_run(t->xacl, t->vtep_idl,
                                        &t->ports_cur->acls,
                                        changed_acls, changed_entries,
                                        t->installed, &t->desired);
    t->acl_faults_changed = t->acl_faults_changed || faults_changed;
    return (n_changes != t->desired.n_changes || faults_changed
            ? ENGINE_CHANGED : ENGINE_UNCHANGED);
}

static enum engine_result
translate_acls_run(struct engine_node *node)
{
    return translate_acls_update(node->data, NULL, NULL);
}

/* The ports changed: if the ACLs they bind did, those no longer bound go,
 * those newly bound are read. */
static enum engine_result
translate_acls_ports_handler(struct engine_node *node,
                             struct engine_node *input OVS_UNUSED)
{
    struct translate *t = node->data;

    if (ports_same_acls(t->ports_prev, t->ports_cur)) {
        return ENGINE_UNCHANGED;
    }

    struct shash none = SHASH_INITIALIZER(&none);
    return translate_acls_update(t, &none, &none);
}

/* The last run left ACLs to read: the next ones are. */
static enum engine_result
translate_acls_backlog_handler(struct engine_node *node,
                               struct engine_node *input OVS_UNUSED)
{
    struct translate *t = node->data;
    struct shash none = SHASH_INITIALIZER(&none);

    return translate_acls_update(t, &none, &none);
}

/* ACL or ACL_entry rows changed: the ACLs they concern are read again,
 * and of those only the entries that changed get new flows. */
static enum engine_result
translate_acls_rows_handler(struct engine_node *node,
                            struct engine_node *input OVS_UNUSED)
{
    struct translate *t = node->data;

    if (t->acl_rows_all) {
        return ENGINE_RECOMPUTE;
    }
    return translate_acls_update(t, &t->changed_acls, &t->changed_entries);
}

/* 'lbs': the load balancers' flows, all made again. */
static enum engine_result
translate_lbs_run(struct engine_node *node)
{
    struct translate *t = node->data;

    return (xlate_lb_run(t->xlb, t->vtep_idl, t->ports_cur, &t->desired)
            ? ENGINE_CHANGED : ENGINE_UNCHANGED);
}

/* 'captures': the captures' flows, all made again. */
static enum engine_result
translate_captures_run(struct engine_node *node)
{
    struct translate *t = node->data;

    return (xlate_capture_run(t->xcap, t->vtep_idl, t->sessions,
                              t->n_sessions, t->ports_cur, &t->desired)
            ? ENGINE_CHANGED : ENGINE_UNCHANGED);
}

/* 'steering': the steering rules, all read again. */
static enum engine_result
translate_steering_run(struct engine_node *node)
{
    struct translate *t = node->data;

    return (xlate_steer_run(t->xsteer, t->vtep_idl, t->ports_cur)
            ? ENGINE_CHANGED : ENGINE_UNCHANGED);
}

/* 'nic': the NIC's rules, for the desired flows as they are now and the
 * counters of the ACL entries' flows in OVS. */
static enum engine_result
translate_nic_run(struct engine_node *node)
{
    struct translate *t = node->data;

    if (!t->nicctrl) {
        return ENGINE_UNCHANGED;
    } else if (!xlate_acl_is_done(t->xacl)) {
        /* The ACLs' flows are part of the way to the policy: the NIC's
         * rules follow them once they are all there. */
        node->stale = true;
        return ENGINE_UNCHANGED;
    }
    struct xlate_nic_policy policy;
    translate_nic_policy(t, t->installed, &policy);
    xlate_nic_update(t->nicctrl, &policy);
    return ENGINE_CHANGED;
}

/* 'acl_faults': changes when the ACLs' faults may differ from what the
 * database shows. */
static enum engine_result
translate_acl_faults_run(struct engine_node *node OVS_UNUSED)
{
    return ENGINE_CHANGED;
}

static enum engine_result
translate_acl_faults_acls_handler(struct engine_node *node,
                                  struct engine_node *input OVS_UNUSED)
{
    struct translate *t = node->data;

    return t->acl_faults_changed ? ENGINE_CHANGED : ENGINE_UNCHANGED;
}

static void
translate_node_init(struct translate *t, struct engine_node *node,
                    const char *name, engine_run_func *run)
{
    node->name = name;
    node->data = t;
    node->run = run;
}

static void
translate_sessions_free(struct xlate_capture_session *sessions, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(sessions[i].device);
        free(sessions[i].source);
        free(sessions[i].match);
    }
    free(sessions);
}

static bool
translate_session_equal(const struct xlate_capture_session *a,
                        const struct xlate_capture_session *b)
{
    return (!strcmp(a->device, b->device)
            && !strcmp(a->source, b->source)
            && !strcmp(a->match, b->match)
            && a->snaplen == b->snaplen
            && a->dest_ofport == b->dest_ofport);
}

/* Sets the captures that iovpd keeps itself, the 'n' 'sessions' (copied),
 * which the next run translates along with the Iovp_Capture rows: a
 * change of the 'sessions' input if they differ from the last. */
void
translate_set_capture_sessions(struct translate *t,
                               const struct xlate_capture_session *sessions,
                               size_t n)
{
    bool same = n == t->n_sessions;
    for (size_t i = 0; same && i < n; i++) {
        same = translate_session_equal(&sessions[i], &t->sessions[i]);
    }
    if (same) {
        return;
    }

    translate_sessions_free(t->sessions, t->n_sessions);
    t->sessions = iovp_xmalloc(MAX(n, 1) * sizeof *t->sessions);
    for (size_t i = 0; i < n; i++) {
        t->sessions[i] = (struct xlate_capture_session) {
            .device = iovp_xstrdup(sessions[i].device),
            .source = iovp_xstrdup(sessions[i].source),
            .match = iovp_xstrdup(sessions[i].match),
            .snaplen = sessions[i].snaplen,
            .dest_ofport = sessions[i].dest_ofport,
        };
    }
    t->n_sessions = n;
    engine_input_changed(&t->capture_sessions);
}

/* Creates the translation as 'options' say, with its engine: nothing
 * translated yet. */
struct translate *
translate_create(const struct translate_options *options)
{
    struct translate *t = iovp_xzalloc(sizeof *t);

    t->bridge = iovp_xstrdup(options->bridge);
    t->switch_name = (options->switch_name
                      ? iovp_xstrdup(options->switch_name) : NULL);
    t->tunnel_ip = (options->tunnel_ip
                    ? iovp_xstrdup(options->tunnel_ip) : NULL);
    t->nicctrl = options->nicctrl;
    t->xnic = t->nicctrl ? xlate_nic_create() : NULL;
    desired_init(&t->desired);
    ports_init(&t->readings[0]);
    ports_init(&t->readings[1]);
    t->ports_cur = &t->readings[0];
    t->ports_prev = &t->readings[1];
    overlay_init(&t->overlays[0]);
    overlay_init(&t->overlays[1]);
    t->overlay_cur = &t->overlays[0];
    t->overlay_prev = &t->overlays[1];
    shash_init(&t->changed_overlay);
    shash_init(&t->changed_ports);
    shash_init(&t->changed_acls);
    shash_init(&t->changed_entries);
    shash_init(&t->changed_lswitches);
    t->xacl = xlate_acl_create();
    t->xlb = xlate_lb_create();
    t->xcap = xlate_capture_create();
    t->xsteer = xlate_steer_create();

    translate_node_init(t, &t->ovs_ports, "ovs_ports", NULL);
    translate_node_init(t, &t->identity, "identity", NULL);
    translate_node_init(t, &t->vtep_ports, "vtep_ports", NULL);
    translate_node_init(t, &t->vtep_acls, "vtep_acls", NULL);
    t->vtep_acls.clear = translate_vtep_acls_clear;
    translate_node_init(t, &t->vtep_overlay, "vtep_overlay", NULL);
    translate_node_init(t, &t->acl_status, "acl_status", NULL);
    translate_node_init(t, &t->counters, "counters", NULL);
    translate_node_init(t, &t->openflow, "openflow", NULL);
    translate_node_init(t, &t->vtep_lbs, "vtep_lbs", NULL);
    translate_node_init(t, &t->lbs, "lbs", translate_lbs_run);
    translate_node_init(t, &t->vtep_captures, "vtep_captures", NULL);
    translate_node_init(t, &t->vtep_steering, "vtep_steering", NULL);
    translate_node_init(t, &t->capture_sessions, "sessions", NULL);
    translate_node_init(t, &t->acl_backlog, "acl_backlog", NULL);
    translate_node_init(t, &t->captures, "captures",
                        translate_captures_run);
    translate_node_init(t, &t->steering, "steering", translate_steering_run);
    translate_node_init(t, &t->ports, "ports", translate_ports_run);
    t->ports.clear = translate_ports_clear;
    translate_node_init(t, &t->overlay, "overlay", translate_overlay_run);
    t->overlay.clear = translate_overlay_clear;
    translate_node_init(t, &t->pipeline, "pipeline", translate_pipeline_run);
    translate_node_init(t, &t->acls, "acls", translate_acls_run);
    t->acls.clear = translate_acls_clear;
    translate_node_init(t, &t->nic, "nic", translate_nic_run);
    translate_node_init(t, &t->acl_faults, "acl_faults",
                        translate_acl_faults_run);

    engine_add_input(&t->ports, &t->ovs_ports, NULL);
    engine_add_input(&t->ports, &t->identity, NULL);
    engine_add_input(&t->ports, &t->vtep_ports, NULL);
    engine_add_input(&t->overlay, &t->vtep_overlay, NULL);
    engine_add_input(&t->overlay, &t->ovs_ports, NULL);
    engine_add_input(&t->overlay, &t->identity, NULL);
    engine_add_input(&t->pipeline, &t->ports,
                     translate_pipeline_ports_handler);
    engine_add_input(&t->pipeline, &t->overlay,
                     translate_pipeline_overlay_handler);
    engine_add_input(&t->acls, &t->ports, translate_acls_ports_handler);
    engine_add_input(&t->acls, &t->vtep_acls, translate_acls_rows_handler);
    engine_add_input(&t->acls, &t->acl_backlog,
                     translate_acls_backlog_handler);
    engine_add_input(&t->nic, &t->ports, NULL);
    engine_add_input(&t->nic, &t->pipeline, NULL);
    engine_add_input(&t->nic, &t->acls, NULL);
    engine_add_input(&t->nic, &t->counters, NULL);
    engine_add_input(&t->nic, &t->openflow, NULL);
    engine_add_input(&t->lbs, &t->vtep_lbs, NULL);
    engine_add_input(&t->lbs, &t->ports, NULL);
    engine_add_input(&t->lbs, &t->vtep_overlay, NULL);
    engine_add_input(&t->nic, &t->lbs, NULL);
    engine_add_input(&t->captures, &t->vtep_captures, NULL);
    engine_add_input(&t->captures, &t->ports, NULL);
    engine_add_input(&t->captures, &t->vtep_overlay, NULL);
    engine_add_input(&t->captures, &t->capture_sessions, NULL);
    engine_add_input(&t->nic, &t->captures, NULL);
    engine_add_input(&t->steering, &t->vtep_steering, NULL);
    engine_add_input(&t->steering, &t->ports, NULL);
    engine_add_input(&t->nic, &t->steering, NULL);
    engine_add_input(&t->acl_faults, &t->acls,
                     translate_acl_faults_acls_handler);
    engine_add_input(&t->acl_faults, &t->acl_status, NULL);

    engine_init(&t->engine);
    engine_add_node(&t->engine, &t->ovs_ports);
    engine_add_node(&t->engine, &t->identity);
    engine_add_node(&t->engine, &t->vtep_ports);
    engine_add_node(&t->engine, &t->vtep_acls);
    engine_add_node(&t->engine, &t->vtep_overlay);
    engine_add_node(&t->engine, &t->acl_status);
    engine_add_node(&t->engine, &t->counters);
    engine_add_node(&t->engine, &t->openflow);
    engine_add_node(&t->engine, &t->vtep_lbs);
    engine_add_node(&t->engine, &t->vtep_captures);
    engine_add_node(&t->engine, &t->vtep_steering);
    engine_add_node(&t->engine, &t->capture_sessions);
    engine_add_node(&t->engine, &t->acl_backlog);
    engine_add_node(&t->engine, &t->ports);
    engine_add_node(&t->engine, &t->overlay);
    engine_add_node(&t->engine, &t->pipeline);
    engine_add_node(&t->engine, &t->acls);
    engine_add_node(&t->engine, &t->lbs);
    engine_add_node(&t->engine, &t->captures);
    engine_add_node(&t->engine, &t->steering);
    engine_add_node(&t->engine, &t->nic);
    engine_add_node(&t->engine, &t->acl_faults);
    translate_vtep_acls_clear(&t->vtep_acls);
    return t;
}

/* Frees 't'.  Accepts NULL. */
void
translate_destroy(struct translate *t)
{
    if (t) {
        engine_destroy(&t->engine);
        xlate_acl_destroy(t->xacl);
        xlate_lb_destroy(t->xlb);
        xlate_capture_destroy(t->xcap);
        xlate_steer_destroy(t->xsteer);
        xlate_nic_destroy(t->xnic);
        translate_sessions_free(t->sessions, t->n_sessions);
        desired_destroy(&t->desired);
        ports_destroy(&t->readings[0]);
        ports_destroy(&t->readings[1]);
        overlay_destroy(&t->overlays[0]);
        overlay_destroy(&t->overlays[1]);
        shash_destroy(&t->changed_overlay);
        shash_destroy(&t->changed_ports);
        shash_destroy(&t->changed_lswitches);
        shash_destroy(&t->changed_acls);
        shash_destroy(&t->changed_entries);
        free(t->ovs_name);
        free(t->ovs_tunnel_ip);
        free(t->bridge);
        free(t->switch_name);
        free(t->tunnel_ip);
        free(t);
    }
}

/* Makes every node compute its data anew in the next run
 * (debug/recompute). */
void
translate_force_recompute(struct translate *t)
{
    engine_force_recompute(&t->engine);
}

/* Translates what changed since the last run, from the models 'vtep_idl'
 * and 'ovs_idl' of the current replicas, and the flows that the switch
 * holds, 'installed' (an ACL with no valid version is recovered from
 * them).  The switch's name must be known.  What each node changed stays
 * visible until translate_clear(). */
void
translate_run(struct translate *t, const struct odb_idl *vtep_idl,
              const struct odb_idl *ovs_idl,
              const struct oflow_table *installed)
{
    t->vtep_idl = vtep_idl;
    t->ovs_idl = ovs_idl;
    t->installed = installed;
    engine_run(&t->engine);
    t->vtep_idl = t->ovs_idl = NULL;
    t->installed = NULL;
}

/* Returns true if, in the run just done, the ACLs' faults may have come
 * to differ from what the database shows. */
bool
translate_acl_faults_changed(const struct translate *t)
{
    return t->acl_faults.changed;
}

/* Ends the run just done (engine_clear()).  ACLs that it left to read
 * are for the next. */
void
translate_clear(struct translate *t)
{
    engine_clear(&t->engine);
    if (!xlate_acl_is_done(t->xacl)) {
        engine_input_changed(&t->acl_backlog);
    }
}

/* Returns true if the last run translated every change it was given: the
 * desired flows are the whole policy's.  Otherwise the next run goes
 * on. */
bool
translate_is_done(const struct translate *t)
{
    return xlate_acl_is_done(t->xacl);
}

/* Returns the desired flows. */
struct desired *
translate_desired(struct translate *t)
{
    return &t->desired;
}

/* Returns the ACLs' translation. */
const struct xlate_acl *
translate_xacl(const struct translate *t)
{
    return t->xacl;
}

/* Returns the overlay as the last run read it. */
const struct overlay *
translate_overlay(const struct translate *t)
{
    return t->overlay_cur;
}

/* Returns the VM ports as the last run read them. */
const struct ports *
translate_ports(const struct translate *t)
{
    return t->ports_cur;
}

/* Returns the faults of this switch's ports (the ports' 'faults'),
 * borrowed. */
const json_t *
translate_port_faults(const struct translate *t)
{
    return t->ports_cur->faults;
}

/* Returns the names of the ACLs that bindings use (a set), borrowed. */
const struct shash *
translate_bound_acls(const struct translate *t)
{
    return &t->ports_cur->acls;
}

/* Fills in '*policy' with what the NIC's translation (agent/xlate-nic.h)
 * reads: the VM ports, the ACLs' translation, the desired flows and the
 * switch's flows, 'installed' (or NULL). */
void
translate_nic_policy(const struct translate *t,
                     const struct oflow_table *installed,
                     struct xlate_nic_policy *policy)
{
    *policy = (struct xlate_nic_policy) {
        .ports = t->ports_cur,
        .overlay = t->overlay_cur,
        .xacl = t->xacl,
        .desired = &t->desired,
        .installed = installed,
        .openflow = t->nb,
        .xlb = t->xlb,
        .xcap = t->xcap,
        .xsteer = t->xsteer,
        .state = t->xnic,
    };
}

/* Returns the captures' translation. */
const struct xlate_capture *
translate_xcap(const struct translate *t)
{
    return t->xcap;
}

/* Returns the steering rules' translation. */
const struct xlate_steer *
translate_xsteer(const struct translate *t)
{
    return t->xsteer;
}

/* Returns the load balancers' translation. */
const struct xlate_lb *
translate_xlb(const struct translate *t)
{
    return t->xlb;
}

/* Returns the engine, for engine/show. */
const struct engine *
translate_engine(const struct translate *t)
{
    return &t->engine;
}
