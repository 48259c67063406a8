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

#ifndef IOVP_AGENT_SHOW_H
#define IOVP_AGENT_SHOW_H 1

/* What "iovp-ofctl show" prints: the switch, each VM port with its OVS
 * ofport, and the VLANs and logical switches it is bound to.  Pure
 * functions of the databases' models. */

#include <jansson.h>
#include <stdbool.h>

struct odb_idl;
struct overlay;

struct show_spec {
    const char *switch_name;    /* NULL if not known yet. */
    const char *tunnel_ip;      /* NULL if none. */
    const char *bridge;
    const struct overlay *overlay;  /* As translation last read it, or
                                     * NULL. */
    const struct ports *ports;  /* As translation last read them. */
    bool offload;               /* iovpd runs with --offload. */
    json_t *load_balancers;     /* xlate_lb_describe()'s, or NULL. */
    json_t *captures;           /* xlate_capture_describe()'s, or NULL. */
    json_t *steering;           /* xlate_steer_describe()'s, or NULL. */
};

json_t *show_switch(const struct odb_idl *vtep, const struct odb_idl *ovs,
                    const struct show_spec *);
char *show_switch_text(const json_t *);

char *show_policy_text(const json_t *policy);
char *show_flows_text(const json_t *flows);
char *show_offload_text(const json_t *show);

#endif /* agent/show.h */
