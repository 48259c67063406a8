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

#ifndef AGENT_VTEP_SCOPE_H
#define AGENT_VTEP_SCOPE_H 1

/* The rows of the hardware_vtep database that one switch needs.
 *
 * A fleet of hosts shares one database, and each iovpd monitors only its
 * own rows: its Physical_Switch by name, and from there what the rows it
 * holds refer to (its ports, their logical switches and ACLs, the ACLs'
 * entries, the logical switches' MACs, their locators, and iovp's tables
 * of its ports and switches), as monitor conditions.  The conditions are
 * computed from the replica and follow the references as they change: a
 * row that a held row refers to enters the conditions, and comes from
 * the server, at the next change.  This does no I/O. */

#include <stdbool.h>

#include <jansson.h>

struct odb_idl;

json_t *vtep_scope_conditions(const struct odb_idl *vtep,
                              const char *switch_name, const char *tunnel_ip,
                              json_t *digests);
bool vtep_scope_changed(const struct odb_idl *vtep);

extern const char *const vtep_scope_unread_tables[];

#endif /* agent/vtep-scope.h */
