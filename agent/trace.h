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

#ifndef IOVP_AGENT_TRACE_H
#define IOVP_AGENT_TRACE_H 1

/* "acl/trace": which ACL entries decide a packet that a VM sends, and its
 * fate.  A pure function of the switch (show.h's JSON) and the ACLs'
 * translation. */

#include <jansson.h>

struct desired;
struct xlate_acl;

char *trace_acl(const json_t *show, const char *port, const char *flow,
                const struct xlate_acl *, const struct desired *,
                json_t **tracep);
char *trace_acl_text(const json_t *);

#endif /* agent/trace.h */
