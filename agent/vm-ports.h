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
 * "external_ids:iface-id" names them, as the Open_vSwitch database shows
 * them.  Pure functions of its typed model (ovsdb/idl.h,
 * model/vswitch-idl.h). */

#include <stddef.h>
#include <stdint.h>

struct odb_idl;
struct vswitch_interface;

/* The VM port of one "iface-id": of several Interfaces on the bridge with
 * that "iface-id", the one with an OpenFlow port, and of several with or
 * without, the one with the lowest UUID (odb_named_rows_sort()); the
 * others are 'ignored'.  Rows are the Open_vSwitch model's: valid until its
 * next update. */
struct vm_iface {
    const char *iface_id;
    const struct vswitch_interface *iface;
    const struct vswitch_interface **ignored;
    size_t n_ignored;
    char *mac;                  /* "external_ids:attached-mac" in lower
                                 * case, or "". */
    int64_t ofport;             /* Its OpenFlow port, or -1 if none. */
};

struct vm_iface *vm_ifaces_find(const struct odb_idl *ovs,
                                const char *bridge, size_t *n);
const struct vm_iface *vm_ifaces_lookup(const struct vm_iface *, size_t n,
                                        const char *iface_id);
void vm_ifaces_free(struct vm_iface *, size_t n);

#endif /* agent/vm-ports.h */
