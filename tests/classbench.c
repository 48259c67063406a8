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

#include "tests/classbench.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/acl.h"
#include "lib/util.h"
#include "ovsdb/idl.h"

/* xorshift64*: small, seeded, the same on every machine. */
static uint64_t classbench_state = 1;

void
classbench_seed(uint64_t seed)
{
    classbench_state = seed ? seed : 1;
}

uint64_t
classbench_random(void)
{
    classbench_state ^= classbench_state >> 12;
    classbench_state ^= classbench_state << 25;
    classbench_state ^= classbench_state >> 27;
    return classbench_state * 0x2545f4914f6cdd1dULL;
}

/* Returns a random number from 0 to 'n' - 1 (0 if 'n' is 0). */
uint32_t
classbench_below(uint32_t n)
{
    return n ? (uint32_t) ((classbench_random() >> 32) % n) : 0;
}

/* Returns a random number from 'lo' to 'hi', inclusive. */
int
classbench_between(int lo, int hi)
{
    return lo + (int) classbench_below(hi - lo + 1);
}

static uint32_t
classbench_prefix_mask(int len)
{
    return len ? 0xffffffffu << (32 - len) : 0;
}

/* Reads the ClassBench rule set in 'file_name' (see ../shared/classbench/
 * README.md), highest priority first; returns the rules (malloc()'d) and
 * their number in '*n'.  Exits with a message on a line it cannot read. */
struct classbench_rule *
classbench_read(const char *file_name, size_t *n)
{
    FILE *f = fopen(file_name, "r");
    struct classbench_rule *rules = NULL;
    size_t allocated = 0;
    char line[512];

    if (!f) {
        iovp_fatal(-1, "%s: cannot open", file_name);
    }
    *n = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned int s[4], d[4], proto, proto_mask;
        int sl, dl;
        struct classbench_rule r;
        if (sscanf(line, "@%u.%u.%u.%u/%d %u.%u.%u.%u/%d %d : %d %d : %d "
                   "%x/%x", &s[0], &s[1], &s[2], &s[3], &sl, &d[0], &d[1],
                   &d[2], &d[3], &dl, &r.sport_lo, &r.sport_hi, &r.dport_lo,
                   &r.dport_hi, &proto, &proto_mask) != 16) {
            iovp_fatal(-1, "%s: bad rule: %s", file_name, line);
        }
        r.src_mask = classbench_prefix_mask(sl);
        r.dst_mask = classbench_prefix_mask(dl);
        r.src = (s[0] << 24 | s[1] << 16 | s[2] << 8 | s[3]) & r.src_mask;
        r.dst = (d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3]) & r.dst_mask;
        r.proto = proto_mask == 0xff ? (int) proto : -1;
        if (*n >= allocated) {
            allocated = allocated ? 2 * allocated : 1024;
            rules = iovp_xrealloc(rules, allocated * sizeof *rules);
        }
        rules[(*n)++] = r;
    }
    fclose(f);
    return rules;
}

/* Returns the text of 'addr'/'mask' as an entry holds it: a use of the
 * models' shared copy. */
static const char *
classbench_ip_text(uint32_t addr, uint32_t mask)
{
    struct in_addr a = { htonl(addr) }, m = { htonl(mask) };
    char as[INET_ADDRSTRLEN], ms[INET_ADDRSTRLEN];
    char text[2 * INET_ADDRSTRLEN];

    inet_ntop(AF_INET, &a, as, sizeof as);
    inet_ntop(AF_INET, &m, ms, sizeof ms);
    if (mask == 0xffffffffu) {
        snprintf(text, sizeof text, "%s", as);
    } else {
        snprintf(text, sizeof text, "%s/%s", as, ms);
    }
    return odb_idl_string_ref(text);
}

/* Makes rule 'r' the ACL entry 'e' of 'sequence', direction and action, as
 * acl.c would read the row that tests/acl-classbench.py writes for it. */
void
classbench_to_entry(const struct classbench_rule *r, int64_t sequence,
                    bool ingress, bool permit, struct acl_entry *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->uuid, sizeof e->uuid, "%c%"PRId64, ingress ? 'i' : 'e',
             sequence);
    e->sequence = sequence;
    e->ingress = ingress;
    e->permit = permit;
    e->ethertype = e->protocol = e->tcp_flags = e->tcp_flags_mask = -1;
    e->icmp_type = e->icmp_code = -1;
    e->source_ports.min = e->source_ports.max = -1;
    e->dest_ports.min = e->dest_ports.max = -1;
    e->family = ACL_FAMILY_ANY;
    if (r->src_mask) {
        e->source_ip = classbench_ip_text(r->src, r->src_mask);
        e->family = ACL_FAMILY_IPV4;
    }
    if (r->dst_mask) {
        e->dest_ip = classbench_ip_text(r->dst, r->dst_mask);
        e->family = ACL_FAMILY_IPV4;
    }
    if (r->proto >= 0) {
        e->protocol = r->proto;
        if (e->family == ACL_FAMILY_ANY) {
            e->family = r->proto == 1 ? ACL_FAMILY_IPV4 : ACL_FAMILY_IP;
        }
    }
    if (r->sport_lo != 0 || r->sport_hi != 65535) {
        e->source_ports = (struct acl_range) { r->sport_lo, r->sport_hi };
    }
    if (r->dport_lo != 0 || r->dport_hi != 65535) {
        e->dest_ports = (struct acl_range) { r->dport_lo, r->dport_hi };
    }
}
