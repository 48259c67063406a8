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

#include <config.h>

#include "agent/acl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openvswitch/dynamic-string.h>

#include "lib/util.h"
#include "model/vtep-idl.h"
#include "ovsdb/idl.h"

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_SCTP_ 132
#define IPPROTO_ICMP_ 1
#define IPPROTO_ICMPV6_ 58

/* Sets '*out' to 'v[0]', the value of the optional integer column 'name'
 * ('n' values, 0 or 1), if it is in [min, max], or -1 if it is absent.
 * Returns an error message otherwise. */
static char *
acl_int(const char *name, const int64_t *v, size_t n, int min, int max,
        int *out)
{
    *out = -1;
    if (!n) {
        return NULL;
    }
    if (v[0] < min || v[0] > max) {
        return iovp_xasprintf("%s: value is not in %d to %d", name, min,
                              max);
    }
    *out = v[0];
    return NULL;
}

/* Parses 's' as a MAC address into a lower-case shared copy in '*out'.
 * Returns an error message if it is not one. */
static char *
acl_mac(const char *name, const char *s, const char **out)
{
    unsigned int b[6];
    char c;

    *out = NULL;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
               &b[4], &b[5], &c) != 6 || strlen(s) != 17) {
        return iovp_xasprintf("%s: \"%s\" is not a MAC address", name, s);
    }
    char mac[18];
    snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1],
             b[2], b[3], b[4], b[5]);
    *out = odb_idl_string_ref(mac);
    return NULL;
}

/* Returns the family of IP address 's' (ACL_FAMILY_IPV4 or _IPV6), or
 * ACL_FAMILY_ANY if it is not one. */
static enum acl_family
acl_ip_family(const char *s)
{
    struct in6_addr a6;
    struct in_addr a4;

    return (inet_pton(AF_INET, s, &a4) == 1 ? ACL_FAMILY_IPV4
            : inet_pton(AF_INET6, s, &a6) == 1 ? ACL_FAMILY_IPV6
            : ACL_FAMILY_ANY);
}

/* Reads the address 'ip' of column 'ip_col' and its mask 'mask' of column
 * 'mask_col' (each NULL if absent) into '*out' ("ADDR" or "ADDR/MASK", the
 * mask an address of the same family or a prefix length), and the
 * address's family into '*family' (left alone if there is no address).
 * Returns an error message if they do not make sense. */
static char *
acl_address(const char *ip_col, const char *ip, const char *mask_col,
            const char *mask, const char **out, enum acl_family *family)
{
    *out = NULL;
    if (!ip) {
        return (mask ? iovp_xasprintf("%s without %s", mask_col, ip_col)
                : NULL);
    }
    enum acl_family f = acl_ip_family(ip);
    if (f == ACL_FAMILY_ANY) {
        return iovp_xasprintf("%s: \"%s\" is not an IP address", ip_col,
                              ip);
    }
    if (mask) {
        size_t n = strspn(mask, "0123456789");
        if (n && n == strlen(mask) && n <= 3) {
            int len = atoi(mask);
            if (len > (f == ACL_FAMILY_IPV4 ? 32 : 128)) {
                return iovp_xasprintf("%s: prefix length %d is too long",
                                      mask_col, len);
            }
        } else if (acl_ip_family(mask) != f) {
            return iovp_xasprintf("%s: \"%s\" is not a mask for %s",
                                  mask_col, mask, ip);
        }
        char *text = iovp_xasprintf("%s/%s", ip, mask);
        *out = odb_idl_string_ref(text);
        free(text);
    } else {
        *out = odb_idl_string_ref(ip);
    }
    *family = f;
    return NULL;
}

/* Reads a port range from columns 'min_col' (its 'n_min' values 'min')
 * and 'max_col' (likewise).  One bound alone is a single port. */
static char *
acl_ports(const char *min_col, const int64_t *min, size_t n_min,
          const char *max_col, const int64_t *max, size_t n_max,
          struct acl_range *r)
{
    char *error = acl_int(min_col, min, n_min, 0, 65535, &r->min);
    if (!error) {
        error = acl_int(max_col, max, n_max, 0, 65535, &r->max);
    }
    if (error) {
        return error;
    }
    if (r->min < 0) {
        r->min = r->max;
    } else if (r->max < 0) {
        r->max = r->min;
    }
    if (r->min > r->max) {
        return iovp_xasprintf("%s %d is above %s %d", min_col, r->min,
                              max_col, r->max);
    }
    return NULL;
}

/* Checks what the columns of 'e' mean together, and works out its family.
 * Returns an error message if they contradict each other. */
static char *
acl_entry_check(struct acl_entry *e, enum acl_family addr_family)
{
    bool has_ports = e->source_ports.min >= 0 || e->dest_ports.min >= 0;

    /* The family: from the addresses, the ethertype, the protocol. */
    enum acl_family family = addr_family;
    if (e->ethertype >= 0) {
        enum acl_family et = (e->ethertype == 0x0800 ? ACL_FAMILY_IPV4
                              : e->ethertype == 0x86dd ? ACL_FAMILY_IPV6
                              : ACL_FAMILY_ANY);
        if (family != ACL_FAMILY_ANY && et != family) {
            return iovp_xasprintf("ethertype %#06x does not carry the "
                                  "entry's IP%s addresses", e->ethertype,
                                  family == ACL_FAMILY_IPV4 ? "v4" : "v6");
        }
        if (et == ACL_FAMILY_ANY && e->protocol >= 0) {
            return iovp_xasprintf("ethertype %#06x has no IP protocol",
                                  e->ethertype);
        }
        family = et;
    }
    if (e->protocol == IPPROTO_ICMP_ || e->protocol == IPPROTO_ICMPV6_) {
        enum acl_family icmp = (e->protocol == IPPROTO_ICMP_
                                ? ACL_FAMILY_IPV4 : ACL_FAMILY_IPV6);
        if (family != ACL_FAMILY_ANY && family != icmp) {
            return iovp_xasprintf("protocol %d is not IP%s's ICMP",
                                  e->protocol,
                                  family == ACL_FAMILY_IPV4 ? "v4" : "v6");
        }
        family = icmp;
    } else if (e->protocol >= 0 && family == ACL_FAMILY_ANY) {
        family = ACL_FAMILY_IP;
    }
    e->family = family;

    /* The fields of each protocol. */
    if (has_ports && e->protocol != IPPROTO_TCP_
        && e->protocol != IPPROTO_UDP_ && e->protocol != IPPROTO_SCTP_) {
        return (e->protocol < 0
                ? iovp_xstrdup("ports without a protocol")
                : iovp_xasprintf("protocol %d has no ports", e->protocol));
    }
    if (e->tcp_flags_mask >= 0 && e->tcp_flags < 0) {
        return iovp_xstrdup("tcp_flags_mask without tcp_flags");
    }
    if (e->tcp_flags >= 0 && e->protocol != IPPROTO_TCP_) {
        return iovp_xstrdup("tcp_flags for a protocol that is not TCP");
    }
    if (e->tcp_flags >= 0 && e->tcp_flags_mask < 0) {
        e->tcp_flags_mask = 0xfff;
    }
    if (e->tcp_flags >= 0 && e->tcp_flags & ~e->tcp_flags_mask) {
        return iovp_xasprintf("tcp_flags %#x has bits outside "
                              "tcp_flags_mask %#x", e->tcp_flags,
                              e->tcp_flags_mask);
    }
    if ((e->icmp_type >= 0 || e->icmp_code >= 0)
        && e->protocol != IPPROTO_ICMP_ && e->protocol != IPPROTO_ICMPV6_) {
        return iovp_xstrdup("ICMP type or code for a protocol that is not "
                            "ICMP");
    }
    return NULL;
}

/* Reads 'row', an ACL_entry row, into '*e'.  Returns NULL if iovpd can
 * apply it, or a malloc()'d message that says why not (and '*e' is then to
 * be destroyed all the same). */
char *
acl_entry_parse(const struct hwvtep_acl_entry *row, struct acl_entry *e)
{
    char *error = NULL;

    memset(e, 0, sizeof *e);
    memcpy(e->uuid, row->header_.uuid, sizeof e->uuid);
    e->sequence = row->sequence;
    e->ingress = strcmp(row->direction, "egress");
    e->permit = !strcmp(row->action, "permit");
    e->ethertype = e->protocol = e->tcp_flags = e->tcp_flags_mask = -1;
    e->icmp_type = e->icmp_code = -1;
    e->source_ports.min = e->source_ports.max = -1;
    e->dest_ports.min = e->dest_ports.max = -1;

    if (row->source_mac) {
        error = acl_mac("source_mac", row->source_mac, &e->source_mac);
    }
    if (!error && row->dest_mac) {
        error = acl_mac("dest_mac", row->dest_mac, &e->dest_mac);
    }
    if (!error && row->ethertype) {
        const char *s = row->ethertype;
        char *end;
        errno = 0;
        long et = strtol(s, &end, 0);
        if (errno || end == s || *end || et < 0x600 || et > 0xffff) {
            error = iovp_xasprintf("ethertype: \"%s\" is not an ethertype "
                                   "(0x0600 to 0xffff)", s);
        }
        e->ethertype = et;
    }

    enum acl_family src = ACL_FAMILY_ANY, dst = ACL_FAMILY_ANY;
    if (!error) {
        error = acl_address("source_ip", row->source_ip, "source_mask",
                            row->source_mask, &e->source_ip, &src);
    }
    if (!error) {
        error = acl_address("dest_ip", row->dest_ip, "dest_mask",
                            row->dest_mask, &e->dest_ip, &dst);
    }
    if (!error && src != ACL_FAMILY_ANY && dst != ACL_FAMILY_ANY
        && src != dst) {
        error = iovp_xstrdup("source_ip and dest_ip of different families");
    }
    int protocol = -1, tcp_flags = -1, tcp_flags_mask = -1;
    int icmp_type = -1, icmp_code = -1;
    if (!error) {
        error = acl_int("protocol", row->protocol, row->n_protocol, 0, 255,
                        &protocol);
    }
    if (!error) {
        error = acl_ports("source_port_min", row->source_port_min,
                          row->n_source_port_min, "source_port_max",
                          row->source_port_max, row->n_source_port_max,
                          &e->source_ports);
    }
    if (!error) {
        error = acl_ports("dest_port_min", row->dest_port_min,
                          row->n_dest_port_min, "dest_port_max",
                          row->dest_port_max, row->n_dest_port_max,
                          &e->dest_ports);
    }
    if (!error) {
        error = acl_int("tcp_flags", row->tcp_flags, row->n_tcp_flags, 0,
                        0xfff, &tcp_flags);
    }
    if (!error) {
        error = acl_int("tcp_flags_mask", row->tcp_flags_mask,
                        row->n_tcp_flags_mask, 0, 0xfff, &tcp_flags_mask);
    }
    if (!error) {
        error = acl_int("icmp_type", row->icmp_type, row->n_icmp_type, 0,
                        255, &icmp_type);
    }
    if (!error) {
        error = acl_int("icmp_code", row->icmp_code, row->n_icmp_code, 0,
                        255, &icmp_code);
    }
    e->protocol = protocol;         /* (Each in range, or -1.) */
    e->tcp_flags = tcp_flags;
    e->tcp_flags_mask = tcp_flags_mask;
    e->icmp_type = icmp_type;
    e->icmp_code = icmp_code;
    if (!error) {
        error = acl_entry_check(e, src != ACL_FAMILY_ANY ? src : dst);
    }
    return error;
}

/* Returns the ACL row called 'name' in 'vtep', or NULL.  Of several, the
 * one with the lowest UUID, whatever the model's hash order: the one whose
 * entries iovpd applies, and whose faults it reports. */
const struct hwvtep_acl *
acl_find_row(const struct odb_idl *vtep, const char *name)
{
    return hwvtep_acl_find_by_string(vtep, HWVTEP_ACL_COL_ACL_NAME, name);
}

/* Frees what 'e' holds.  Accepts NULL. */
void
acl_entry_destroy(struct acl_entry *e)
{
    if (e) {
        odb_idl_string_unref(e->source_mac);
        odb_idl_string_unref(e->dest_mac);
        odb_idl_string_unref(e->source_ip);
        odb_idl_string_unref(e->dest_ip);
    }
}

/* Returns true if 'a' and 'b' match the same packets the same way (their
 * sequences aside). */
bool
acl_entry_equal(const struct acl_entry *a, const struct acl_entry *b)
{
    return (a->ingress == b->ingress && a->permit == b->permit
            && iovp_nullable_streq(a->source_mac, b->source_mac)
            && iovp_nullable_streq(a->dest_mac, b->dest_mac)
            && a->ethertype == b->ethertype && a->family == b->family
            && iovp_nullable_streq(a->source_ip, b->source_ip)
            && iovp_nullable_streq(a->dest_ip, b->dest_ip)
            && a->protocol == b->protocol
            && a->source_ports.min == b->source_ports.min
            && a->source_ports.max == b->source_ports.max
            && a->dest_ports.min == b->dest_ports.min
            && a->dest_ports.max == b->dest_ports.max
            && a->tcp_flags == b->tcp_flags
            && a->tcp_flags_mask == b->tcp_flags_mask
            && a->icmp_type == b->icmp_type
            && a->icmp_code == b->icmp_code);
}

/* Orders entries as an ACL applies them: by ascending sequence; of entries
 * with one sequence, deny before permit; then by UUID. */
int
acl_entry_compare(const void *a_, const void *b_)
{
    const struct acl_entry *a = a_, *b = b_;

    if (a->sequence != b->sequence) {
        return a->sequence < b->sequence ? -1 : 1;
    }
    if (a->permit != b->permit) {
        return a->permit ? 1 : -1;
    }
    return strcmp(a->uuid, b->uuid);
}

/* Returns a malloc()'d description of 'e', as iovp-ofctl dump-policy shows
 * it: "seq 10 ingress deny tcp nw_src=... tp_dst=22". */
char *
acl_entry_to_string(const struct acl_entry *e)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_format(&s, "seq %"PRId64" %s %s", e->sequence,
                  e->ingress ? "ingress" : "egress",
                  e->permit ? "permit" : "deny");
    if (e->source_mac) {
        ds_put_format(&s, " source_mac=%s", e->source_mac);
    }
    if (e->dest_mac) {
        ds_put_format(&s, " dest_mac=%s", e->dest_mac);
    }
    if (e->ethertype >= 0) {
        ds_put_format(&s, " ethertype=%#06x", e->ethertype);
    }
    if (e->source_ip) {
        ds_put_format(&s, " source_ip=%s", e->source_ip);
    }
    if (e->dest_ip) {
        ds_put_format(&s, " dest_ip=%s", e->dest_ip);
    }
    if (e->protocol >= 0) {
        ds_put_format(&s, " protocol=%d", e->protocol);
    }
    if (e->source_ports.min >= 0) {
        ds_put_format(&s, " source_ports=%d-%d", e->source_ports.min,
                      e->source_ports.max);
    }
    if (e->dest_ports.min >= 0) {
        ds_put_format(&s, " dest_ports=%d-%d", e->dest_ports.min,
                      e->dest_ports.max);
    }
    if (e->tcp_flags >= 0) {
        ds_put_format(&s, " tcp_flags=%#x/%#x", e->tcp_flags,
                      e->tcp_flags_mask);
    }
    if (e->icmp_type >= 0) {
        ds_put_format(&s, " icmp_type=%d", e->icmp_type);
    }
    if (e->icmp_code >= 0) {
        ds_put_format(&s, " icmp_code=%d", e->icmp_code);
    }
    return ds_steal_cstr(&s);
}
