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

#ifndef IOVP_AGENT_REFERENCE_H
#define IOVP_AGENT_REFERENCE_H 1

/* The reference model: the fate of a frame from a VM port, by a plain
 * reading of the policy, step by step as the pipeline goes (anti-spoofing,
 * the port's ingress ACL, the L2 lookup to a local port or a remote MAC's
 * tunnel, the destination's egress ACL),
 * each ACL by first match over its entries' columns as hardware_vtep
 * defines them.  It shares no code with the translations (no OpenFlow
 * matches, no value/mask prefixes), so that checking the fast path and
 * OVS against it does not merely repeat a translation's mistakes. */

#include <stdbool.h>
#include <stdint.h>

#include "agent/xlate-offload.h"

struct flow;
struct fp_entry;

enum reference_fate {
    REFERENCE_DROP,
    REFERENCE_FORWARD,          /* To one local VM port. */
    REFERENCE_TUNNEL,           /* To a remote MAC's tunnel, in OVS. */
    REFERENCE_OTHER,            /* Anything else: flooding, an unknown
                                 * destination, a VLAN tag, or what the
                                 * model leaves to OVS (the finer
                                 * anti-spoofing of ARP and IPv6). */
};

struct reference_verdict {
    enum reference_fate fate;
    uint32_t out_port;          /* REFERENCE_FORWARD; the tunnel's
                                 * OpenFlow port for REFERENCE_TUNNEL. */
    const char *why;            /* Static. */
};

void reference_evaluate(const struct xlate_offload_port *,
                        const struct flow *, struct reference_verdict *);
bool reference_agrees(const struct reference_verdict *,
                      const struct fp_entry *);
const char *reference_fate_to_string(enum reference_fate);

#endif /* agent/reference.h */
