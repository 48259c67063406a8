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
#include <stdlib.h>

#include "lib/util.h"
#include "ovsdb/query.h"
#include "ovsdb/replica.h"

/* Adds 'iface', an Interface row of table 'ifaces', to 'result' if it is a
 * VM's. */
static void
vm_ports_add_iface(const struct odb_replica_table *ifaces,
                   const struct odb_row *iface, json_t *result)
{
    const json_t *ids = odb_row_get(ifaces, iface, "external_ids");
    const char *id = json_string_value(odb_map_get(ids, "iface-id"));
    const char *mac = json_string_value(odb_map_get(ids, "attached-mac"));
    const json_t *ofport = odb_row_get(ifaces, iface, "ofport");

    if (!id || !id[0]) {
        return;
    }
    char *lower = iovp_xstrdup(mac ? mac : "");
    for (char *p = lower; *p; p++) {
        *p = tolower((unsigned char) *p);
    }
    json_object_set_new(result, id, json_pack(
                            "{s:s, s:s, s:O}", "interface",
                            json_string_value(odb_row_get(ifaces, iface,
                                                          "name")),
                            "mac", lower,
                            "ofport", (json_is_integer(ofport) ? ofport
                                       : json_null())));
    free(lower);
}

/* Returns a new reference to a JSON object that maps the
 * "external_ids:iface-id" of each Interface on 'bridge' in the Open_vSwitch
 * replica 'ovs' to {"interface": its name, "mac": its
 * "external_ids:attached-mac" in lower case (or ""), "ofport": its OpenFlow
 * port number or null}. */
json_t *
vm_ports_find(const struct odb_replica *ovs, const char *bridge)
{
    const struct odb_replica_table *bridges = odb_replica_find_table(
        ovs, "Bridge");
    const struct odb_replica_table *ports = odb_replica_find_table(
        ovs, "Port");
    const struct odb_replica_table *ifaces = odb_replica_find_table(
        ovs, "Interface");
    const struct odb_row *br = odb_find_row_by_string(bridges, "name",
                                                      bridge);
    json_t *result = json_object();

    if (br && ports && ifaces) {
        size_t n_ports;
        const struct odb_row **br_ports = odb_rows_referenced(
            ports, odb_row_get(bridges, br, "ports"), &n_ports);
        for (size_t i = 0; i < n_ports; i++) {
            size_t n_ifaces;
            const struct odb_row **port_ifaces = odb_rows_referenced(
                ifaces, odb_row_get(ports, br_ports[i], "interfaces"),
                &n_ifaces);
            for (size_t j = 0; j < n_ifaces; j++) {
                vm_ports_add_iface(ifaces, port_ifaces[j], result);
            }
            free(port_ifaces);
        }
        free(br_ports);
    }
    return result;
}
