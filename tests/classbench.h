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

#ifndef IOVP_TESTS_CLASSBENCH_H
#define IOVP_TESTS_CLASSBENCH_H 1

/* ClassBench rule sets (../shared/classbench) as hardware_vtep ACL entries,
 * and a seeded random generator, for the offload tests and benchmarks. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct acl_entry;

/* One rule of a set: IPv4 prefixes (host byte order), inclusive port
 * ranges, a protocol or -1 for any. */
struct classbench_rule {
    uint32_t src, src_mask, dst, dst_mask;
    int sport_lo, sport_hi, dport_lo, dport_hi;
    int proto;
};

struct classbench_rule *classbench_read(const char *file_name, size_t *n);
void classbench_to_entry(const struct classbench_rule *, int64_t sequence,
                         bool ingress, bool permit, struct acl_entry *);

void classbench_seed(uint64_t);
uint64_t classbench_random(void);
uint32_t classbench_below(uint32_t n);
int classbench_between(int lo, int hi);

#endif /* tests/classbench.h */
