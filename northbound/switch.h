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

#ifndef IOVP_NORTHBOUND_SWITCH_H
#define IOVP_NORTHBOUND_SWITCH_H 1

/* The OpenFlow switch that iovpd is to its controllers, as a state machine
 * that does no I/O.
 *
 * The owner tells it of each controller connection (nbswitch_connect(),
 * nbswitch_conn_active(), nbswitch_disconnect()) and hands it the
 * messages each sends (nbswitch_receive()); it tells it of its own
 * OpenFlow connection to the integration bridge (nbswitch_bridge_*()),
 * of the ports in OpenFlow mode (nbswitch_set_ports()) and of the
 * datapath id.  The switch answers what it knows itself (features, port
 * descriptions, roles, configuration), and takes the rest to the bridge
 * translated (northbound/xlate.h): the controller's flows live in the
 * bridge's tables, so that the bridge keeps them across an iovpd restart
 * and counts, times out and reports them itself.  The bridge's replies,
 * errors, packet-ins and flow removals come back translated to the
 * controller that asked, or to those whose role and asynchronous
 * configuration want them.
 *
 * What the switch sends waits until the owner calls nbswitch_flush(),
 * which hands it to the 'send' callbacks given to nbswitch_create(): once
 * for each batch of input, so that a controller's thousands of flow_mods
 * reach the bridge in large writes. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openflow/openflow.h>

#include <openvswitch/ofp-port.h>

struct nbswitch;
struct nbconn;
struct oflow;
struct ofpbuf;
struct ovs_list;

/* A port of the switch: as the controller sees it, and the MAC that the
 * bridge gives it (a port_mod names the port by its MAC). */
struct nbswitch_port {
    struct ofputil_phy_port pp;
    struct eth_addr bridge_hw_addr;
};

struct nbswitch_cbs {
    /* Sends 'msgs' (taken) on the connection whose 'io' it is. */
    void (*send)(void *io, struct ovs_list *msgs, void *aux);

    /* Sends 'msgs' (taken) to the bridge. */
    void (*send_bridge)(struct ovs_list *msgs, void *aux);

    /* Returns the bytes queued on the connection whose 'io' it is that the
     * controller has not read yet. */
    size_t (*backlog)(void *io, void *aux);

    /* While the owner watches the controller's table 0 (for offload):
     * 'table0_changing' is called before the switch sends the bridge what
     * may change what that table does with a frame (a flow_mod, a bundle's
     * commit, a port_mod), for the owner to read at once the flows that
     * may change (nbswitch_table0_is_changing(),
     * nbswitch_table0_adding(), nbswitch_port_forwards()), and when the
     * switch loses its copy (nbswitch_table0() becomes NULL);
     * 'table0_changed' when the copy changed, or changes were confirmed,
     * for the owner to read it again when it may.  Either may be NULL. */
    void (*table0_changing)(void *aux);
    void (*table0_changed)(void *aux);

    /* Adds to '*packets' and '*bytes' the frames that the flow of the
     * bridge's copy of the controller's table 0 with the identity of 'key'
     * decided outside the bridge (in the NIC), for the controller's flow
     * statistics.  May be NULL. */
    void (*table0_counts)(const struct oflow *key, uint64_t *packets,
                          uint64_t *bytes, void *aux);
};

/* A controller that has this many bytes queued unread gets no more
 * packet-ins until it reads (they are dropped, and counted), as OVS
 * limits what it queues for a controller. */
#define NBSWITCH_PACKET_IN_BACKLOG (1024 * 1024)

/* Packet-ins per second to each controller, and their burst, by default:
 * what OVS's controller_rate_limit would give with 1000. */
#define NBSWITCH_RATE_LIMIT 1000
#define NBSWITCH_BURST_LIMIT 250

struct nbswitch *nbswitch_create(const struct nbswitch_cbs *, void *aux);
void nbswitch_destroy(struct nbswitch *);
void nbswitch_set_datapath_id(struct nbswitch *, uint64_t);
void nbswitch_set_rate_limit(struct nbswitch *, int rate, int burst);
void nbswitch_set_ports(struct nbswitch *, const struct nbswitch_port *,
                        size_t n);

struct nbconn *nbswitch_connect(struct nbswitch *, const char *name,
                                void *io);
void nbswitch_conn_active(struct nbswitch *, struct nbconn *,
                          enum ofp_version);
void nbswitch_disconnect(struct nbswitch *, struct nbconn *);
void nbswitch_receive(struct nbswitch *, struct nbconn *, struct ofpbuf *);

void nbswitch_bridge_active(struct nbswitch *, enum ofp_version);
void nbswitch_bridge_reset(struct nbswitch *);
void nbswitch_bridge_disconnected(struct nbswitch *);
void nbswitch_bridge_receive(struct nbswitch *, struct ofpbuf *);

void nbswitch_flush(struct nbswitch *);

/* Offload: the controller's table 0 as the bridge holds it. */
struct oflow_table;
void nbswitch_watch_table0(struct nbswitch *, bool watch);
const struct oflow_table *nbswitch_table0(const struct nbswitch *);
bool nbswitch_table0_is_changing(const struct nbswitch *,
                                 const struct oflow *);
void nbswitch_table0_adding(const struct nbswitch *,
                            const struct oflow ***flowsp, size_t *n);
bool nbswitch_port_forwards(const struct nbswitch *, ofp_port_t);

json_t *nbswitch_status(const struct nbswitch *);
json_t *nbswitch_conn_status(const struct nbconn *);

#endif /* northbound/switch.h */
