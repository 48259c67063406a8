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

#ifndef IOVP_AGENT_REPORT_H
#define IOVP_AGENT_REPORT_H 1

/* What iovpd reports in the hardware_vtep database, as a TOR reports
 * itself: its Physical_Switch row and a Physical_Port row for each VM port.
 * Pure functions of the databases' typed models (ovsdb/idl.h,
 * model/vtep-idl.h, model/vswitch-idl.h): each reads typed rows and
 * returns the transaction to make, or nothing.
 *
 * The Physical_Switch row is the one whose name is the switch's name: made
 * by iovpd when missing (with a Global row, when the database has none,
 * that lists it), adopted when an operator made it first.  Its "tunnel_ips"
 * is set to the host's tunnel address when iovpd knows one, and otherwise
 * left alone.
 *
 * A VM port is an Interface on the integration bridge whose
 * "external_ids:iface-id" names it; its Physical_Port row has that name.
 * iovpd makes the row when the switch has no port of that name (marking it
 * "other_config:iovp-created=true") and adopts one an operator made first.
 *
 * When the VM's interface leaves the bridge (a VM that reboots, or
 * migrates away and perhaps back), the port goes down, as a TOR's port
 * whose link goes down: a TOR does not forget the port's configuration,
 * and neither does iovpd.  A row iovpd made stays, bindings and all; iovpd
 * notes since when its port is down in "other_config:iovp-down-since"
 * (seconds since the epoch, in the database so that a restart does not
 * reset it) and reports "unspecified_fault" for it.  When an interface of
 * the port's name comes back, it takes the row, bindings and all, and the
 * mark and the fault go.  A row that iovpd made and that is unbound goes
 * once it has been down for 'port_grace' seconds (at once if that is 0),
 * or at once if another row of its name stands beside it.  iovpd deletes
 * no row that carries a binding, since every binding is a controller's: a
 * bound row stays until the controller deletes or unbinds it.  An adopted
 * row stays, as before, and is never marked.
 *
 * The name joins a row to its VM port.  A controller that renames a row
 * moves its configuration to the VM port of the new name: the row is that
 * port's from then on (down if there is none yet), and the VM port of the
 * old name, which has no row any more, gets a new one as any new VM port
 * does.  A port with several rows of its name (a controller's row beside
 * iovpd's, see agent/switch-ports.h) has a row already: iovpd makes no
 * other.
 *
 * Ucast_Macs_Local: for each VM port of the switch and each logical switch
 * its "vlan_bindings" puts it in, the VM's MAC (its Interface's
 * "external_ids:attached-mac") in that logical switch, behind the
 * Physical_Locator of the host's tunnel address.  The rows behind that
 * locator are iovpd's: those no longer true are deleted.  Without a tunnel
 * address, nothing is reported.
 *
 * Tunnel: a row of the switch's toward each remote VTEP of the overlay,
 * with the switch's BFD addresses and its BFD status (report_tunnels()).
 *
 * Mcast_Macs_Local: "unknown-dst" behind this host's locator for each
 * logical switch on the overlay (report_mcast_macs_local()). */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct odb_idl;
struct overlay;
struct shash;

struct report_spec {
    const char *switch_name;
    const char *tunnel_ip;      /* NULL if unknown. */
    long long int now;          /* Seconds since the epoch. */
    long long int port_grace;   /* Seconds an unbound down port stays. */
    bool switch_fault;          /* The switch has an "unspecified_fault". */
};

json_t *report_physical_switch(const struct odb_idl *vtep,
                               const struct report_spec *);
json_t *report_physical_ports(const struct odb_idl *vtep,
                              const struct odb_idl *ovs,
                              const struct report_spec *,
                              const char *bridge, long long int *deadline,
                              json_t *notes);
json_t *report_ucast_macs_local(const struct odb_idl *vtep,
                                const struct odb_idl *ovs,
                                const struct report_spec *,
                                const char *bridge);
json_t *report_port_faults(const struct odb_idl *vtep,
                           const struct report_spec *,
                           const json_t *faults);
json_t *report_acl_faults(const struct odb_idl *vtep,
                          const struct shash *acls, const json_t *faults);
json_t *report_vlan_stats(const struct odb_idl *vtep,
                          const struct report_spec *, const json_t *stats);
json_t *report_qos_stats(const struct odb_idl *vtep, const json_t *stats);
json_t *report_lb_status(const struct odb_idl *vtep, const json_t *status);
json_t *report_steering_status(const struct odb_idl *vtep,
                               const json_t *status);
json_t *report_capture_status(const struct odb_idl *vtep,
                              const json_t *status);

json_t *report_tunnels(const struct odb_idl *vtep,
                       const struct report_spec *, const struct overlay *);
json_t *report_mcast_macs_local(const struct odb_idl *vtep,
                                const struct report_spec *,
                                const struct overlay *);

json_t *report_offload(const struct odb_idl *vtep,
                       const struct report_spec *, const json_t *summary);

#endif /* agent/report.h */
