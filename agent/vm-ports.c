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

/* Calls 'cb' with 'aux' for each row of 't' whose UUID the canonical set
 * (or atom) 'uuids' holds. */
static void
vm_ports_for_each(const struct odb_replica_table *t, const json_t *uuids,
                  void (*cb)(const struct odb_row *, void *), void *aux)
{
    const json_t *set = json_array_get(uuids, 1);
    size_t i;
    json_t *uuid;

    if (json_is_string(json_array_get(uuids, 0))
        && json_is_array(set)) {
        json_array_foreach (set, i, uuid) {
            const char *s = json_string_value(json_array_get(uuid, 1));
            const struct odb_row *row = s ? odb_replica_find_row(t, s) : NULL;
            if (row) {
                cb(row, aux);
            }
        }
    }
}

struct vm_ports_ctx {
    const struct odb_replica_table *ports;
    const struct odb_replica_table *ifaces;
    json_t *result;
};

static void
vm_ports_add_iface(const struct odb_row *iface, void *ctx_)
{
    struct vm_ports_ctx *ctx = ctx_;
    const json_t *ids = odb_row_get(ctx->ifaces, iface, "external_ids");
    const char *id = json_string_value(odb_map_get(ids, "iface-id"));
    const char *mac = json_string_value(odb_map_get(ids, "attached-mac"));
    const json_t *ofport = odb_row_get(ctx->ifaces, iface, "ofport");

    if (!id || !id[0]) {
        return;
    }
    char *lower = iovp_xstrdup(mac ? mac : "");
    for (char *p = lower; *p; p++) {
        *p = tolower((unsigned char) *p);
    }
    json_object_set_new(ctx->result, id, json_pack(
                            "{s:s, s:s, s:O}", "interface",
                            json_string_value(odb_row_get(ctx->ifaces, iface,
                                                          "name")),
                            "mac", lower,
                            "ofport", (json_is_integer(ofport) ? ofport
                                       : json_null())));
    free(lower);
}

static void
vm_ports_add_port(const struct odb_row *port, void *ctx_)
{
    struct vm_ports_ctx *ctx = ctx_;

    vm_ports_for_each(ctx->ifaces, odb_row_get(ctx->ports, port,
                                               "interfaces"),
                      vm_ports_add_iface, ctx);
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
    const struct odb_row *br = odb_find_row_by_string(bridges, "name",
                                                      bridge);
    struct vm_ports_ctx ctx = {
        .ports = odb_replica_find_table(ovs, "Port"),
        .ifaces = odb_replica_find_table(ovs, "Interface"),
        .result = json_object(),
    };

    if (br && ctx.ports && ctx.ifaces) {
        vm_ports_for_each(ctx.ports, odb_row_get(bridges, br, "ports"),
                          vm_ports_add_port, &ctx);
    }
    return ctx.result;
}
