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

#ifndef IOVP_AGENT_SWITCH_PORTS_H
#define IOVP_AGENT_SWITCH_PORTS_H 1

/* This switch's Physical_Port rows, one for each name.
 *
 * hardware_vtep does not make a port's name unique within its switch, and
 * a switch may list two rows of one name: a controller that inserted its
 * own row for a port that iovpd had reported, say.  Of those, iovpd uses
 * one, the same on every run whatever the order in which the rows were
 * made or seen: the row with bindings ("vlan_bindings" or "acl_bindings"),
 * and of several with bindings or several without, the one with the lowest
 * UUID (odb_named_rows_sort()).  The others are ignored: no flows, no
 * statistics, no local MACs; agent/pipeline.c reports them as faults.
 * Pure functions of the hardware_vtep database's typed model (ovsdb/idl.h,
 * model/vtep-idl.h). */

#include <stdbool.h>
#include <stddef.h>

/* The rows of switch_ports_rows()'s array are "const struct
 * hwvtep_physical_port *"s. */
struct hwvtep_physical_port;
struct hwvtep_physical_switch;
struct odb_idl;
struct odb_named_row;

const struct hwvtep_physical_switch *switch_ports_find_switch(
    const struct odb_idl *vtep, const char *switch_name);
bool switch_port_is_bound(const struct hwvtep_physical_port *);
struct odb_named_row *switch_ports_rows(const struct odb_idl *vtep,
                                        const char *switch_name, size_t *n);
const struct hwvtep_physical_port **switch_ports_used_rows(
    const struct odb_idl *vtep, const char *switch_name, size_t *n);

#endif /* agent/switch-ports.h */
