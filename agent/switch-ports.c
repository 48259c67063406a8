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

#include "agent/switch-ports.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "model/vtep-idl.h"
#include "ovsdb/query.h"

/* Returns the Physical_Switch row called 'switch_name' in 'vtep', or NULL.
 * Of several, the one with the lowest UUID, whatever the model's hash
 * order. */
const struct hwvtep_physical_switch *
switch_ports_find_switch(const struct odb_idl *vtep, const char *switch_name)
{
    return hwvtep_physical_switch_find_by_string(
        vtep, HWVTEP_PHYSICAL_SWITCH_COL_NAME, switch_name);
}

/* Returns true if 'pp' has a binding ("vlan_bindings" or "acl_bindings"):
 * a controller configured it. */
bool
switch_port_is_bound(const struct hwvtep_physical_port *pp)
{
    return pp->n_vlan_bindings || pp->n_acl_bindings;
}

/* Returns every Physical_Port row of the switch called 'switch_name' in
 * 'vtep', sorted by odb_named_rows_sort(): by name, and of one name the row
 * iovpd uses first, then the ones it ignores (see the top of
 * switch-ports.h).  The array is malloc()'d (the caller frees it), its
 * length in '*n'; NULL (and 0) if there is no such switch.  The rows and
 * names are the model's: valid until its next update. */
struct odb_named_row *
switch_ports_rows(const struct odb_idl *vtep, const char *switch_name,
                  size_t *n)
{
    const struct hwvtep_physical_switch *ps = switch_ports_find_switch(
        vtep, switch_name);

    *n = 0;
    if (!ps) {
        return NULL;
    }

    struct odb_named_row *rows = iovp_xmalloc(MAX(1, ps->n_ports)
                                              * sizeof *rows);
    for (size_t i = 0; i < ps->n_ports; i++) {
        const struct hwvtep_physical_port *pp = ps->ports[i];
        rows[i] = (struct odb_named_row) {
            .name = pp->name,
            .preferred = switch_port_is_bound(pp),
            .uuid = pp->header_.uuid,
            .row = pp,
        };
    }
    odb_named_rows_sort(rows, ps->n_ports);
    *n = ps->n_ports;
    return rows;
}

/* Returns the Physical_Port rows of the switch called 'switch_name' in
 * 'vtep' that iovpd uses, one for each name, sorted by name, in a
 * malloc()'d array (the caller frees it) whose length goes in '*n'; NULL
 * (and 0) if there is no such switch. */
const struct hwvtep_physical_port **
switch_ports_used_rows(const struct odb_idl *vtep, const char *switch_name,
                       size_t *n)
{
    size_t n_all;
    struct odb_named_row *all = switch_ports_rows(vtep, switch_name, &n_all);

    *n = 0;
    if (!all) {
        return NULL;
    }
    const struct hwvtep_physical_port **rows = iovp_xmalloc(
        MAX(1, n_all) * sizeof *rows);
    for (size_t i = 0; i < n_all; i = odb_named_rows_next(all, n_all, i)) {
        rows[(*n)++] = all[i].row;
    }
    free(all);
    return rows;
}
