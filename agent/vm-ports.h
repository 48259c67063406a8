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

#ifndef IOVP_AGENT_VM_PORTS_H
#define IOVP_AGENT_VM_PORTS_H 1

/* The VM ports of the host: the Interfaces on the integration bridge whose
 * "external_ids:iface-id" names them, as the Open_vSwitch database's
 * replica shows them.  A pure function. */

#include <jansson.h>

struct odb_replica;

json_t *vm_ports_find(const struct odb_replica *ovs, const char *bridge);

#endif /* agent/vm-ports.h */
