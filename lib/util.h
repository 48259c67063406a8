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

#ifndef IOVP_UTIL_H
#define IOVP_UTIL_H 1

/* Small utilities shared by iovp's programs.
 *
 * The allocators abort with a message when memory runs out, as Open
 * vSwitch's do.  Theirs are internal to libopenvswitch (and their names
 * taken there), hence the "iovp_" prefix. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/param.h>

#include <openvswitch/compiler.h>

/* Returns the number of elements in 'ARRAY'.  (Open vSwitch's public
 * ARRAY_SIZE needs one of its internal headers.) */
#define IOVP_ARRAY_SIZE(ARRAY) (sizeof (ARRAY) / sizeof (ARRAY)[0])

void *iovp_xmalloc(size_t);
void *iovp_xzalloc(size_t);
void *iovp_xrealloc(void *, size_t);
char *iovp_xstrdup(const char *);
char *iovp_nullable_xstrdup(const char *);
void *iovp_xmemdup(const void *, size_t);
void iovp_trim_heap(void);
size_t iovp_malloc_size(const void *);
char *iovp_xasprintf(const char *format, ...) OVS_PRINTF_FORMAT(1, 2);
char *iovp_xvasprintf(const char *format, va_list) OVS_PRINTF_FORMAT(1, 0);

int iovp_compare_strings(const void *, const void *);
bool iovp_nullable_streq(const char *, const char *);
uint64_t iovp_hash_string64(const char *);
uint64_t iovp_hash_string64_more(uint64_t hash, const char *);
uint64_t iovp_hash_bytes64(const void *, size_t n, uint64_t basis);
uint64_t iovp_hash_words64(const uint64_t *, size_t n, uint64_t basis);

size_t iovp_utf8_sequence_len(const uint8_t *, size_t n);

struct json_t;
char *iovp_json_brief(const struct json_t *);
char *iovp_json_lines(const struct json_t *object, const char *indent);

OVS_NO_RETURN void iovp_fatal(int error, const char *format, ...)
    OVS_PRINTF_FORMAT(2, 3);

/* The directory where iovp's daemons keep their pidfiles and control
 * sockets: $IOVP_RUNDIR, else /var/run/iovp.  Never NULL. */
const char *iovp_rundir(void);

/* The directory for iovp's log files: $IOVP_LOGDIR, else /var/log/iovp. */
const char *iovp_logdir(void);

#endif /* util.h */
