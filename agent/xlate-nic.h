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

#ifndef IOVP_AGENT_NIC_H
#define IOVP_AGENT_NIC_H 1

/* The policy side of offload: what each VM port's fast path is to do, from
 * the VM ports (agent/ports.h) and the ACLs' translation, handed to nicctrl
 * (offload/nicctrl.h); and the check of a port's fast path against the
 * reference model (verify-offload). */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openvswitch/hmap.h>

struct desired;
struct nbswitch;
struct nicctrl;
struct oflow;
struct oflow_table;
struct overlay;
struct ports;
struct xlate_acl;
struct xlate_nic;

/* What the policy is made of at one moment: the VM ports and the ACLs'
 * translation, valid until the next translation. */
struct xlate_nic_policy {
    const struct ports *ports;          /* The VM ports. */
    const struct overlay *overlay;      /* Their remote MACs. */
    const struct xlate_acl *xacl;
    const struct desired *desired;      /* For the ACL entries' traffic in */
    const struct oflow_table *installed;    /* OVS, or NULL. */
    uint64_t installed_seqno;           /* ofctrl_installed_seqno() of
                                         * 'installed', or 0 if unknown. */
    const struct nbswitch *openflow;    /* The OpenFlow controller's
                                         * switch, or NULL. */
    const struct xlate_lb *xlb;         /* The load balancers, or NULL. */
    const struct xlate_capture *xcap;   /* The captures, or NULL. */
    const struct xlate_steer *xsteer;   /* The steering rules, or NULL. */

    /* What the translation keeps from one call to the next, or NULL for
     * nothing: every destination warm, everything read and flattened
     * anew.  Only xlate_nic_update(), xlate_nic_read_traffic() and
     * xlate_nic_flow_stats() change it. */
    struct xlate_nic *state;
};

/* The state of the NIC's translation, which makes it incremental:
 *
 *   - which destinations each VM port sent frames to lately, as OVS's
 *     counters and the NIC's say: the others are "cold"
 *     (agent/xlate-offload.h), their frames left to OVS, so that a port's
 *     rules grow with the destinations it talks to, not with its logical
 *     switch;
 *   - each ACL's effect, read again only when the ACL changed, and
 *     weighed again only after a read of the counters;
 *   - each port's rules as last flattened, with what they came from: a
 *     port whose inputs (its model, its ACLs' versions, its ingress
 *     entries' weights) are as they were is not flattened again, nor
 *     given to nicctrl;
 *   - the installed flows that any port's frames may take (the ACLs'
 *     defaults, QoS, load balancing), found again only when the installed
 *     flows changed ('installed_seqno'). */
struct xlate_nic *xlate_nic_create(void);
void xlate_nic_destroy(struct xlate_nic *);
void xlate_nic_read_traffic(struct xlate_nic *, const struct nicctrl *,
                            const struct xlate_nic_policy *,
                            uint64_t acl_counters, long long int now);

void xlate_nic_update(struct nicctrl *, const struct xlate_nic_policy *);
json_t *xlate_nic_entry_stats(const struct nicctrl *,
                              const struct xlate_nic_policy *);
/* The frames the NIC decided, by the installed flow they would have taken
 * in OVS. */
struct xlate_nic_counts {
    struct hmap flows;          /* Private. */
};
void xlate_nic_flow_stats(const struct nicctrl *,
                          const struct xlate_nic_policy *,
                          struct xlate_nic_counts *);
bool xlate_nic_counts_get(const struct xlate_nic_counts *,
                          const struct oflow *, uint64_t *packets,
                          uint64_t *bytes);
void xlate_nic_counts_init(struct xlate_nic_counts *);
void xlate_nic_counts_destroy(struct xlate_nic_counts *);
typedef void xlate_nic_flow_cb(const char *port, uint32_t rule_id,
                               const struct oflow *, uint64_t packets,
                               uint64_t bytes, void *aux);
void xlate_nic_openflow_stats(const struct nicctrl *,
                              const struct xlate_nic_policy *,
                              xlate_nic_flow_cb *, void *aux);
char *xlate_nic_verify(struct nicctrl *, const struct xlate_nic_policy *,
                       const char *port, size_t count, uint64_t seed,
                       json_t **resultp);

#endif /* agent/xlate-nic.h */
