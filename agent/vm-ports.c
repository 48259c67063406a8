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

#include "agent/vm-ports.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "model/vswitch-idl.h"
#include "ovsdb/idl.h"
#include "ovsdb/query.h"

/* Returns the "external_ids:iface-id" of 'iface', or NULL if it has none
 * (or an empty one): NULL if it is not a VM's. */
static const char *
vm_iface_id(const struct vswitch_interface *iface)
{
    const char *id = odb_idl_map_get(iface->key_external_ids,
                                     iface->value_external_ids,
                                     iface->n_external_ids, "iface-id");
    return id && id[0] ? id : NULL;
}

/* Returns the OpenFlow port of 'iface', or -1 if it has none. */
static int64_t
vm_iface_ofport(const struct vswitch_interface *iface)
{
    return iface->n_ofport && iface->ofport[0] > 0 ? iface->ofport[0] : -1;
}

/* Returns the VM ports on 'bridge' in the Open_vSwitch model 'ovs', one
 * for each "iface-id", sorted by it, in a malloc()'d array whose length
 * goes in '*n' (free it with vm_ifaces_free()). */
struct vm_iface *
vm_ifaces_find(const struct odb_idl *ovs, const char *bridge, size_t *n)
{
    const struct vswitch_bridge *best = vswitch_bridge_find_by_string(
        ovs, VSWITCH_BRIDGE_COL_NAME, bridge);

    *n = 0;
    if (!best) {
        return NULL;
    }

    /* The VMs' Interfaces on the bridge. */
    struct odb_named_row *vms = NULL;
    size_t n_vms = 0, allocated = 0;
    for (size_t i = 0; i < best->n_ports; i++) {
        const struct vswitch_port *port = best->ports[i];
        for (size_t j = 0; j < port->n_interfaces; j++) {
            const struct vswitch_interface *iface = port->interfaces[j];
            const char *id = vm_iface_id(iface);
            if (!id) {
                continue;
            }
            if (n_vms >= allocated) {
                allocated = 2 * allocated + 8;
                vms = iovp_xrealloc(vms, allocated * sizeof *vms);
            }
            vms[n_vms++] = (struct odb_named_row) {
                .name = id,
                .preferred = vm_iface_ofport(iface) > 0,
                .uuid = iface->header_.uuid,
                .row = iface,
            };
        }
    }

    /* One VM port for each "iface-id". */
    odb_named_rows_sort(vms, n_vms);
    struct vm_iface *result = iovp_xzalloc(MAX(1, n_vms) * sizeof *result);
    for (size_t i = 0, next; i < n_vms; i = next) {
        const struct vswitch_interface *iface = vms[i].row;
        struct vm_iface *vm = &result[(*n)++];
        const char *mac = odb_idl_map_get(iface->key_external_ids,
                                          iface->value_external_ids,
                                          iface->n_external_ids,
                                          "attached-mac");

        next = odb_named_rows_next(vms, n_vms, i);
        vm->iface_id = vms[i].name;
        vm->iface = iface;
        vm->ofport = vm_iface_ofport(iface);
        vm->mac = iovp_xstrdup(mac ? mac : "");
        for (char *p = vm->mac; *p; p++) {
            *p = tolower((unsigned char) *p);
        }
        vm->n_ignored = next - i - 1;
        vm->ignored = iovp_xmalloc(MAX(1, vm->n_ignored)
                                   * sizeof *vm->ignored);
        for (size_t j = 0; j < vm->n_ignored; j++) {
            vm->ignored[j] = vms[i + 1 + j].row;
        }
    }
    free(vms);
    return result;
}

static int
vm_iface_compare_id(const void *key, const void *vm_)
{
    const struct vm_iface *vm = vm_;

    return strcmp(key, vm->iface_id);
}

/* Returns the VM port of 'iface_id' among the 'n' of 'vms' (as
 * vm_ifaces_find() returned them), or NULL. */
const struct vm_iface *
vm_ifaces_lookup(const struct vm_iface *vms, size_t n, const char *iface_id)
{
    return n ? bsearch(iface_id, vms, n, sizeof *vms, vm_iface_compare_id)
             : NULL;
}

/* Frees the 'n' VM ports of 'vms', as vm_ifaces_find() returned them
 * (NULL too); the rows they point to are the model's. */
void
vm_ifaces_free(struct vm_iface *vms, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(vms[i].ignored);
        free(vms[i].mac);
    }
    free(vms);
}
