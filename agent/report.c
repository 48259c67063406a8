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

#include "agent/report.h"

#include "ovsdb/query.h"
#include "ovsdb/replica.h"

/* Returns a new reference to the operations that make the hardware_vtep
 * database, as its replica 'vtep' shows it, hold this switch's
 * Physical_Switch row as 'spec' describes it; NULL when it already does. */
json_t *
report_physical_switch(const struct odb_replica *vtep,
                       const struct report_spec *spec)
{
    const struct odb_replica_table *globals = odb_replica_find_table(
        vtep, "Global");
    const struct odb_replica_table *switches = odb_replica_find_table(
        vtep, "Physical_Switch");
    const struct odb_row *global = odb_first_row(globals);
    const struct odb_row *ps = odb_find_row_by_string(switches, "name",
                                                      spec->switch_name);
    json_t *ops = json_array();

    if (!ps) {
        json_t *row = json_pack("{s:s}", "name", spec->switch_name);
        if (spec->tunnel_ip) {
            json_object_set_new(row, "tunnel_ips",
                                json_string(spec->tunnel_ip));
        }
        json_array_append_new(ops, json_pack(
            "{s:s, s:s, s:[[s, s, s]], s:[s], s:s, s:[], s:i}",
            "op", "wait", "table", "Physical_Switch",
            "where", "name", "==", spec->switch_name, "columns", "name",
            "until", "==", "rows", "timeout", 0));
        json_array_append_new(ops, json_pack(
            "{s:s, s:s, s:o, s:s}", "op", "insert",
            "table", "Physical_Switch", "row", row, "uuid-name", "ps"));
        if (global) {
            json_array_append_new(ops, json_pack(
                "{s:s, s:s, s:o, s:[[s, s, [s, s]]]}",
                "op", "mutate", "table", "Global",
                "where", odb_where_uuid(global),
                "mutations", "switches", "insert", "named-uuid", "ps"));
        } else {
            json_array_append_new(ops, json_pack(
                "{s:s, s:s, s:{s:[s, s]}}", "op", "insert",
                "table", "Global", "row", "switches", "named-uuid", "ps"));
        }
    } else {
        const json_t *ips = odb_row_get(switches, ps, "tunnel_ips");
        if (spec->tunnel_ip
            && (json_array_size(json_array_get(ips, 1)) != 1
                || !odb_set_has_string(ips, spec->tunnel_ip))) {
            json_array_append_new(ops, json_pack(
                "{s:s, s:s, s:o, s:{s:s}}", "op", "update",
                "table", "Physical_Switch", "where", odb_where_uuid(ps),
                "row", "tunnel_ips", spec->tunnel_ip));
        }
        if (global && !odb_set_has_uuid(odb_row_get(globals, global,
                                                    "switches"),
                                        ps->uuid)) {
            json_array_append_new(ops, json_pack(
                "{s:s, s:s, s:o, s:[[s, s, o]]}",
                "op", "mutate", "table", "Global",
                "where", odb_where_uuid(global),
                "mutations", "switches", "insert", odb_uuid(ps)));
        }
    }

    if (!json_array_size(ops)) {
        json_decref(ops);
        return NULL;
    }
    json_array_append_new(ops, json_pack(
        "{s:s, s:s}", "op", "comment", "comment",
        "iovpd: reporting this switch"));
    return ops;
}
