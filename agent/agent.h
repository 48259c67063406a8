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

#ifndef IOVP_AGENT_H
#define IOVP_AGENT_H 1

/* The agent: the one object that owns every module instance of iovpd and
 * the libuv handles that drive them.  Everything runs on one libuv loop in
 * the main thread. */

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "lib/tls.h"

struct agent;

/* What iovpd's command line tells the agent. */
struct agent_options {
    const char *control_path;   /* The control socket's file name. */
    const char *version;        /* What "version" answers. */
    int control_idle_timeout;   /* Control connections' idle limit, ms. */
    const char *ovs_db;         /* Remote of the Open_vSwitch database. */
    const char *vtep_db;        /* Remotes of the hardware_vtep database. */
    bool leader_only;           /* Use only a cluster's leader for vtep. */
    int probe_interval;         /* OVSDB inactivity probe, ms; 0: none. */
    int min_backoff, max_backoff;   /* OVSDB reconnection back-off, ms. */
    size_t max_message;         /* Largest OVSDB message taken, bytes. */
    const char *bridge;         /* The integration bridge's name. */
    const char *datapath_type;  /* For a bridge iovpd creates, or NULL. */
    const char *snapshot;       /* Where the hardware_vtep replica is saved
                                 * at exit and read at start, or NULL. */
    const char *switch_name;    /* NULL: from Open_vSwitch, or hostname. */
    const char *tunnel_ip;      /* NULL: from Open_vSwitch, or none. */
    long long int port_grace;   /* Seconds an unbound port of iovpd's
                                 * outlives its VM (report.h). */
    const char *ofp_remote;     /* The bridge's OpenFlow management socket. */
    const char *offload;        /* --offload's BACKEND[:OPTIONS], or NULL. */
    const char *openflow;       /* --openflow's targets, or NULL. */
    int of_rate_limit;          /* Packet-ins a second, 0: the default. */
    int of_burst_limit;
    struct tls_options tls;     /* Files for ssl: remotes, all NULL: none. */
};

int agent_create(uv_loop_t *, const struct agent_options *,
                 struct agent **);
uint64_t agent_privileges(const struct agent *);
void agent_shutdown(struct agent *);
void agent_destroy(struct agent *);

#endif /* agent.h */
