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

#ifndef IOVP_TRANSLATE_H
#define IOVP_TRANSLATE_H 1

/* Translation: the policy in the two databases' models, and what the
 * switch holds and counts, made into the desired flows (ofp/desired.h)
 * and the NIC's rules (offload/nicctrl.h), through an incremental engine
 * (agent/engine.h) whose graph is:
 *
 *   node          its inputs ("h": a change is handled incrementally;
 *                 any other input's change makes the node recompute)
 *   ----          ----------
 *   ports         ovs_ports, identity, vtep_ports
 *   pipeline      ports (h)
 *   acls          ports (h), vtep_acls (h)
 *   nic           ports, pipeline, acls, counters, openflow, lbs,
 *                 captures
 *   acl_faults    acls (h), acl_status
 *   lbs           vtep_lbs, ports, vtep_overlay
 *   captures      vtep_captures, ports, vtep_overlay, sessions
 *
 * where the inputs are: ovs_ports, the bridge's ports and interfaces;
 * identity, the switch's name and tunnel address; vtep_ports, the
 * Physical_Switch, Physical_Port, Logical_Switch and Iovp_Port rows and
 * the ACLs' names; vtep_acls, the ACL and ACL_entry rows changed;
 * acl_status, their fault statuses; counters, the switch's flow counters;
 * vtep_lbs and vtep_captures, the Iovp_Load_Balancer, Iovp_LB_Backend and
 * Iovp_Capture rows; sessions, the captures that iovpd keeps itself for
 * "iovp-ofctl capture" (translate_set_capture_sessions()).
 *
 * 'ports' reads the VM ports (agent/ports.h), with their faults and the
 * ACLs that their bindings use, and finds which ports and logical
 * switches differ from the last reading; 'pipeline' makes again the flows
 * of exactly those (agent/pipeline.h: a group of desired flows for each
 * binding and each logical switch); 'acls' makes the bound ACLs' flows
 * (incrementally, by the ACL and ACL_entry rows that changed,
 * agent/xlate-acl.h); 'nic' the NIC's rules
 * (agent/xlate-nic.h), which weigh what each ACL entry's flows count in
 * OVS; 'acl_faults' changes when the ACLs' faults may differ from what the
 * database shows.
 *
 * What iovpd itself writes in the databases (statuses, statistics, the
 * local MACs, Iovp_Offload) is not an input of any node. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct desired;
struct nbswitch;
struct engine;
struct nicctrl;
struct odb_idl;
struct shash;
struct xlate_nic_policy;
struct oflow_table;
struct overlay;
struct ports;
struct xlate_acl;
struct xlate_lb;
struct xlate_capture;

struct translate_options {
    const char *bridge;         /* The integration bridge. */
    const char *switch_name;    /* NULL: from Open_vSwitch or hostname. */
    const char *tunnel_ip;      /* NULL: from Open_vSwitch, or none. */
    struct nicctrl *nicctrl;    /* Offload's, or NULL: no NIC rules. */
};

struct translate *translate_create(const struct translate_options *);
void translate_destroy(struct translate *);

void translate_ovs_changed(struct translate *, const struct odb_idl *);
void translate_vtep_changed(struct translate *, const struct odb_idl *);
bool translate_counters_changed(struct translate *,
                                const struct oflow_table *installed,
                                uint64_t acl_counters, long long int now);
void translate_set_openflow(struct translate *, const struct nbswitch *);
void translate_openflow_changing(struct translate *);
void translate_openflow_changed(struct translate *);
void translate_hostname_changed(struct translate *);
void translate_force_recompute(struct translate *);
struct xlate_capture_session;
void translate_set_capture_sessions(struct translate *,
                                    const struct xlate_capture_session *,
                                    size_t n);

void translate_identity(const struct translate *, bool ovs_current,
                        const char **namep, const char **ipp);

void translate_run(struct translate *, const struct odb_idl *vtep,
                   const struct odb_idl *ovs,
                   const struct oflow_table *installed);
bool translate_acl_faults_changed(const struct translate *);
void translate_clear(struct translate *);
bool translate_is_done(const struct translate *);

struct desired *translate_desired(struct translate *);
const struct xlate_acl *translate_xacl(const struct translate *);
const struct xlate_lb *translate_xlb(const struct translate *);
const struct xlate_capture *translate_xcap(const struct translate *);
const struct xlate_steer *translate_xsteer(const struct translate *);
const struct overlay *translate_overlay(const struct translate *);
const struct ports *translate_ports(const struct translate *);
const json_t *translate_port_faults(const struct translate *);
const struct shash *translate_bound_acls(const struct translate *);
void translate_nic_policy(const struct translate *,
                          const struct oflow_table *installed,
                          struct xlate_nic_policy *);
const struct engine *translate_engine(const struct translate *);

#endif /* agent/translate.h */
