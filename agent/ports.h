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

#ifndef IOVP_AGENT_PORTS_H
#define IOVP_AGENT_PORTS_H 1

/* The VM ports of this switch: the one form in which the pipeline, the
 * NIC's rules, the statistics and the show commands see a port.
 *
 * A port is a Physical_Port of this switch (hardware_vtep), with the OVS
 * Interface whose "external_ids:iface-id" names it, its VLAN bindings that the
 * pipeline applies, and its Iovp_Port addresses.  ports_read() reads them all
 * from the two databases' models; ports_diff() tells which ports and which
 * logical switches differ between two readings, so that the pipeline makes
 * again the flows of exactly those.  Where several rows claim one name, one is
 * used by odb_named_rows_sort()'s rule (see agent/switch-ports.h and
 * agent/vm-ports.c), and the others are faults.
 *
 * No I/O; every string is the port's own copy. */

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openvswitch/shash.h>

struct eth_addr;
struct odb_idl;

/* A VLAN binding that the pipeline applies: frames of 'vlan' (0:
 * untagged) belong to logical switch 'ls'. */
struct port_binding {
    int vlan;
    char *ls;                   /* The logical switch's name. */
    uint64_t metadata;          /* Its id in the pipeline. */
    char *acl;                  /* The ACL bound to it, or NULL. */
    bool owns_mac;              /* The port's MAC in 'ls' leads to it: of
                                 * ports with one MAC in one logical
                                 * switch, the first by name has it. */
};

/* One of a port's Iovp_Port addresses. */
struct port_address {
    int family;                 /* AF_INET or AF_INET6. */
    union {
        struct in_addr ipv4;
        struct in6_addr ipv6;
    };
};

/* What an Iovp_QoS row asks for the frames of a binding (or of a port in
 * OpenFlow mode): 0 or -1 where it asks nothing. */
struct port_qos {
    int vlan;                   /* Its key in "qos_bindings": 0, the whole
                                 * port, or one binding's VLAN. */
    char *uuid;                 /* The Iovp_QoS row's. */
    char *name;                 /* Its "name". */
    uint32_t police_rate;       /* What the VM sends: kbit/s, or 0. */
    uint32_t police_burst;      /* kbit. */
    uint32_t receive_rate;      /* What the VM receives: kbit/s, or 0. */
    uint32_t receive_burst;     /* kbit. */
    int dscp;                   /* Set on the IP frames the VM sends, or
                                 * -1. */
    int pcp;                    /* The 802.1p priority of the frames the VM
                                 * sends where they leave tagged (0 when
                                 * no QoS sets it). */
};

/* What a port is for: its Iovp_Port "profile". */
enum port_profile {
    PORT_PROFILE_DEFAULT,       /* None given: "offload" with --offload,
                                 * else "plain". */
    PORT_PROFILE_PLAIN,         /* Everything in OVS. */
    PORT_PROFILE_OFFLOAD,       /* Its fast path in the NIC where it can. */
    PORT_PROFILE_CAPTURE,       /* A capture port: it receives the copies
                                 * of captures (agent/xlate-capture.h) and
                                 * nothing else, and sends nothing. */
};

struct port {
    char *name;
    char *uuid;                 /* Its Physical_Port row's. */
    char *interface;            /* Its OVS Interface's name, or NULL. */
    int ofport;                 /* Its OpenFlow port, or -1 if none yet. */
    char *mac;                  /* "external_ids:attached-mac" in lower
                                 * case, "" if none: not always a MAC. */
    struct port_binding *bindings;  /* By VLAN. */
    size_t n_bindings;

    /* In OpenFlow mode (Iovp_Port "mode"), the port belongs to the
     * OpenFlow controller (northbound/): it has no VLAN bindings, and
     * 'acl' is the ACL bound to it as a whole ("acl_bindings" key 0), or
     * NULL. */
    bool openflow;
    char *acl;

    enum port_profile profile;

    /* Its Iovp_Port addresses: when 'checks_ips', only those (and what a
     * host sends before it has one) may leave it.  'n_ips' counts the
     * valid ones; the others are its faults. */
    bool checks_ips;
    struct port_address *ips;
    size_t n_ips;

    /* Its Iovp_Port "qos_bindings" that apply, by VLAN (see
     * port_find_qos()). */
    struct port_qos *qos;
    size_t n_qos;
};

struct ports {
    struct shash by_name;       /* Name -> "struct port". */
    const struct port **sorted; /* By name. */
    size_t n;
    json_t *faults;             /* {"UUID": ["fault", ...]} of this
                                 * switch's Physical_Port rows. */
    json_t *ambiguities;        /* {"text": true}: each resolved. */
    struct shash acls;          /* The names of the ACLs bound (a set:
                                 * no data). */
};

void ports_init(struct ports *);
void ports_destroy(struct ports *);
void ports_read(struct ports *, const struct odb_idl *vtep,
                const struct odb_idl *ovs, const char *switch_name,
                const char *bridge);

const struct port *ports_find(const struct ports *, const char *name);
const struct port_binding *port_find_binding(const struct port *, int vlan);
const struct port_qos *port_find_qos(const struct port *, int vlan);
bool port_equal(const struct port *, const struct port *);
bool port_parse_mac(const struct port *, struct eth_addr *);
bool port_address_parse(const char *, struct port_address *);
void port_address_format(const struct port_address *,
                         char s[INET6_ADDRSTRLEN]);

void ports_diff(const struct ports *old, const struct ports *new,
                struct shash *ports, struct shash *lswitches);
bool ports_same_acls(const struct ports *, const struct ports *);

/* For the show commands, which list every binding, applied or not. */
struct hwvtep_physical_port;
char *ports_binding_fault(const struct hwvtep_physical_port *, size_t idx);
const char *ports_binding_acl(const struct hwvtep_physical_port *,
                              int vlan);

#endif /* agent/ports.h */
