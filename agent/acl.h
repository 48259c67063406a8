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

#ifndef IOVP_AGENT_ACL_H
#define IOVP_AGENT_ACL_H 1

/* hardware_vtep's ACL_entry rows, read and checked: the policy model of
 * one entry.  Pure functions, no I/O.
 *
 * An entry that iovpd cannot apply gets a reason, and its ACL is then
 * invalid (acl_fault_status "invalid_acl"): see acl_entry_parse(). */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include <openvswitch/compiler.h>
#include <openvswitch/util.h>

struct hwvtep_acl;
struct hwvtep_acl_entry;
struct odb_idl;

/* An inclusive range of transport ports, or none (min = -1). */
struct acl_range {
    int min, max;
};

/* The families an entry's match applies to. */
enum OVS_PACKED_ENUM acl_family {
    ACL_FAMILY_ANY,             /* No L3 field: every frame. */
    ACL_FAMILY_IPV4,
    ACL_FAMILY_IPV6,
    ACL_FAMILY_IP,              /* L4 fields without an address or
                                 * ethertype: IPv4 and IPv6 alike. */
};

/* (The members are as narrow as their values and in the order that packs
 * them in 112 bytes: the translation keeps one for each entry in
 * force.) */
struct acl_entry {
    char uuid[37];
    bool ingress;               /* Else egress. */
    bool permit;                /* Else deny. */
    enum acl_family family;
    int64_t sequence;

    /* The match, each part NULL (or -1, or an empty range) if absent.
     * The texts are uses of the models' shared strings
     * (odb_idl_string_ref()). */
    const char *source_mac, *dest_mac;
    const char *source_ip, *dest_ip;    /* "ADDR/MASK" or "ADDR". */
    int32_t ethertype;          /* -1: none. */
    struct acl_range source_ports, dest_ports;
    int16_t protocol;           /* -1: none. */
    int16_t tcp_flags, tcp_flags_mask;  /* -1: none. */
    int16_t icmp_type, icmp_code;       /* -1: none. */
};
BUILD_ASSERT_DECL(sizeof(struct acl_entry) <= 112);

const struct hwvtep_acl *acl_find_row(const struct odb_idl *,
                                      const char *name);
char *acl_entry_parse(const struct hwvtep_acl_entry *, struct acl_entry *);
void acl_entry_destroy(struct acl_entry *);
bool acl_entry_equal(const struct acl_entry *, const struct acl_entry *);
char *acl_entry_to_string(const struct acl_entry *);
int acl_entry_compare(const void *, const void *);

#endif /* agent/acl.h */
