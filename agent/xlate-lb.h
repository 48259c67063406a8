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

#ifndef IOVP_AGENT_XLATE_LB_H
#define IOVP_AGENT_XLATE_LB_H 1

/* Translation of iovp's load balancers (Iovp_Load_Balancer and
 * Iovp_LB_Backend rows) into flows of the pipeline's load-balancing
 * tables, 25 to 27.  iovpd(8) documents the flows.
 *
 * A load balancer is a virtual IP and port of one protocol in one logical
 * switch, with backends: VM ports of this switch bound to that logical
 * switch, each with its IP (and port) and weight.  A client's frame to the
 * VIP enters conntrack in the logical switch's zone with NAT (table 25):
 * a new connection picks an up backend by a hash (multipath, highest
 * random weight, over the 5-tuple or the source IP) among slots that the
 * weights give (table 26), and is committed with its destination NATed to
 * that backend and a mark that names the load balancer and the backend
 * (table 27); an established one keeps its backend for its life, replies
 * are un-NATed on their way back, and a connection whose backend is gone
 * is dropped.  The switch answers ARP for the VIP with a MAC of its own.
 *
 * Each load balancer's flows are a group of the desired flows, made again
 * whenever a load balancer, a backend or a port changes (load balancers
 * are few; each costs a few flows per backend). */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct desired;
struct fp_match;
struct odb_idl;
struct oflow_table;
struct port;
struct ports;

struct xlate_lb *xlate_lb_create(void);
void xlate_lb_destroy(struct xlate_lb *);

bool xlate_lb_run(struct xlate_lb *, const struct odb_idl *vtep,
                  const struct ports *, struct desired *);

json_t *xlate_lb_status(const struct xlate_lb *, const struct desired *,
                        const struct oflow_table *installed);
json_t *xlate_lb_describe(const struct xlate_lb *, const struct desired *,
                          const struct oflow_table *installed);
void xlate_lb_punts(const struct xlate_lb *, const struct port *,
                    struct fp_match **, size_t *n);

#endif /* agent/xlate-lb.h */
