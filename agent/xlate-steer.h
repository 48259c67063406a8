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

#ifndef IOVP_AGENT_XLATE_STEER_H
#define IOVP_AGENT_XLATE_STEER_H 1

/* Translation of iovp's steering rules (Iovp_Steering rows) into the NIC's
 * steering (offload_class's steer()).
 *
 * A rule names a VM port of this switch, a match of the frames the port
 * sends (ovs-ofctl's syntax, over the fields the fast path reads) and a
 * CPU.  Of the rules of one port, the highest priority first (then the
 * lowest UUID), the first that a frame matches chooses the CPU that
 * forwards it.  Steering happens in the NIC only, after the fast path
 * decided to forward the frame: it chooses where the frame is processed,
 * never what becomes of it.  A frame that OVS decides is not steered:
 * OVS's userspace datapath reads a system port (a veth) from its main
 * thread, and other_config:pmd-rxq-affinity applies only to the ports its
 * PMD threads poll (DPDK, AF_XDP), which these are not. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct nicctrl;
struct odb_idl;
struct offload_steer;
struct port;
struct ports;

struct xlate_steer *xlate_steer_create(void);
void xlate_steer_destroy(struct xlate_steer *);

bool xlate_steer_run(struct xlate_steer *, const struct odb_idl *vtep,
                     const struct ports *);
void xlate_steer_port(const struct xlate_steer *, const struct port *,
                      struct offload_steer **, size_t *n);
json_t *xlate_steer_status(const struct xlate_steer *,
                           const struct nicctrl *);
json_t *xlate_steer_describe(const struct xlate_steer *,
                             const struct nicctrl *);

#endif /* agent/xlate-steer.h */
