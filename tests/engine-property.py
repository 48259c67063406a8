#! /usr/bin/env python3
"""engine-property.py: random policy changes, after which a full recompute
of iovpd's translation engine must change nothing.

  engine-property.py [--seed=N] [--changes=N] [--every=N] [--switch=NAME]
                     [--bridge=BRIDGE] [--log=FILE] [--verbose]

Talks to the test's ovsdb-server ($OVS_RUNDIR/db.sock) over OVSDB's
JSON-RPC, to iovpd over its control socket ($IOVP_RUNDIR/iovpd.PID.ctl)
and to the switch with ovs-ofctl.  Draws, with random seed N (default 1),
CHANGES (default 1000) changes of the policy of switch NAME (default
host-7) and of the VM ports on BRIDGE (default br-int), each legal in
OVSDB's terms (every reference resolves, every name is unique), though
not always in iovpd's (bad ACL entries, bad addresses, ACLs bound to a
VLAN the port has no binding for, two VLANs of a port in one logical
switch, two interfaces with one iface-id, two ports with one MAC):

  - vlan_bindings of the switch's Physical_Port rows set and cleared,
    untagged and tagged; Logical_Switch rows added, renamed, deleted;
  - acl_bindings set and cleared; ACL rows added, renamed (also two ACLs
    swapping names), deleted, replaced by another row of the same name;
    ACL_entry rows added, changed, removed, valid or not; once in a while
    an entry shared by two ACLs;
  - Iovp_Port rows (ips) added, changed, removed;
  - an Interface's external_ids:iface-id or :attached-mac changed or
    removed; a VM port deleted and added back; an internal port, vm5,
    added and deleted.

Several changes often go in one transaction; after a transaction the
driver goes on at once, or after a few milliseconds, or once iovpd has
caught up, so that iovpd's engine sees the changes one by one and merged.

Every EVERY changes (default 20: a change that the incremental path got
wrong shows only until something else makes iovpd read the same rows
again) and at the end, a checkpoint: once
iovpd is in sync (its replicas are the databases' contents, the switch
holds exactly the desired flows, and nothing has changed for a moment),
it takes the switch's flows (ovs-ofctl dump-flows), iovpd's view of them
(flows/dump: installed, unrequested, missing), the faults iovpd reported
in the database, and the number of flow_mods iovpd has sent (ofp/status);
then asks iovpd for a full recompute (debug/recompute), waits until the
engine has recomputed and iovpd is in sync again, and takes them again.
Nothing may differ, and no flow_mod may have been sent.  At the end,
engine/show must show the incremental path taken (node "acls" handled
changes incrementally) and one forced recompute for each checkpoint.

Prints the seed first, then a line for each checkpoint, and at the end a
summary.  On a failure prints the seed, the changes since the last
checkpoint and a diff of what the recompute changed, and exits 1; every
change goes to FILE too (default engine-property.log).  Exits 2 if the
driver itself fails (a transaction refused, iovpd not in sync in time)."""

import argparse
import difflib
import json
import os
import random
import subprocess
import sys
import time

import unixrpc

SYNC_TIMEOUT = 30       # Seconds for iovpd to catch up.
SETTLE = 0.4            # Seconds that nothing may change, to be in sync.

VMS = ("vm1", "vm2", "vm3", "vm4")
MACS = {"vm1": "02:00:00:00:00:01", "vm2": "02:00:00:00:00:02",
        "vm3": "02:00:00:00:00:03", "vm4": "02:00:00:00:00:04",
        "vm5": "02:00:00:00:00:05"}
VLANS = (0, 0, 0, 10, 20, 30)
SEQUENCES = (5, 10, 10, 20, 30, 40, 50)
RANGES = ((22, 22), (53, 53), (80, 80), (20, 90), (50, 5000), (0, 1023),
          (1024, 65535))
IPS = ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.1.7", "2001:db8::1",
       "2001:db8::3", "10.0.0.300", "bogus")
MAX_LS = 6

# The remote VTEPs (this host's tunnel address is 172.31.9.100) and MACs.
VTEPS = ("172.31.9.1", "172.31.9.2", "172.31.9.3")
REMOTE_MACS = tuple("0a:00:00:00:00:%02x" % i for i in range(1, 7))
MAX_ACLS = 5
MAX_ENTRIES = 6
MAX_IPORTS = 6

# The columns of ACL_entry that a controller sets (not the fault status).
ENTRY_COLUMNS = ("sequence", "direction", "action", "source_mac", "dest_mac",
                 "ethertype", "source_ip", "source_mask", "dest_ip",
                 "dest_mask", "protocol", "source_port_min",
                 "source_port_max", "dest_port_min", "dest_port_max",
                 "tcp_flags", "tcp_flags_mask", "icmp_type", "icmp_code")
ENTRY_OPTIONAL = ENTRY_COLUMNS[3:]


class Failure(Exception):
    """The driver cannot go on (not a disagreement of iovpd's)."""


def log(*args):
    print(*args, flush=True)


# ---------------------------------------------------------------------
# JSON-RPC.

class Ovsdb:
    """Transactions on ovsdb-server."""

    def __init__(self, path):
        self.rpc = unixrpc.JsonRpc(path)

    def transact(self, db, ops):
        result = self.rpc.call("transact", [db] + ops)
        for i, r in enumerate(result):
            if r and "error" in r:
                raise Failure("transaction on %s refused: %s\nops: %s"
                              % (db, json.dumps(result),
                                 json.dumps(ops, indent=1)))
        return result

    def select(self, db, tables, conditions=None):
        """Returns {TABLE: {UUID: {COLUMN: VALUE}}} for 'tables' ({TABLE:
        [COLUMN...]}): with 'conditions' ({TABLE: <condition>}, as a
        monitor's), only the rows that satisfy one of a table's clauses."""
        names = sorted(tables)
        ops, owners = [], []
        for t in names:
            for clause in (conditions or {}).get(t, [True]):
                if clause is not False:
                    ops.append({"op": "select", "table": t,
                                "where": [] if clause is True else [clause],
                                "columns": ["_uuid"] + tables[t]})
                    owners.append(t)
        result = self.transact(db, ops) if ops else []
        out = {t: {} for t in names}
        for t, r in zip(owners, result):
            out[t].update((row.pop("_uuid")[1], row) for row in r["rows"])
        return out


class Iovpd:
    """iovpd's control socket, in JSON."""

    def __init__(self):
        rundir = os.environ["IOVP_RUNDIR"]
        pid = open(os.path.join(rundir, "iovpd.pid")).read().strip()
        self.rpc = unixrpc.JsonRpc(os.path.join(rundir, "iovpd.%s.ctl" % pid))
        self.rpc.call("set-options", ["--format", "json"])

    def call(self, method, *params):
        return self.rpc.call(method, list(params))


# ---------------------------------------------------------------------
# OVSDB values.

def canon(value):
    """'value' (OVSDB's JSON) made comparable: a set or a map as a sorted
    tuple, an atom as a set of one."""
    def atom(a):
        return tuple(a) if isinstance(a, list) else a
    if isinstance(value, list):
        if value[0] == "set":
            return tuple(sorted(atom(a) for a in value[1]))
        if value[0] == "map":
            return tuple(sorted((atom(k), atom(v)) for k, v in value[1]))
        return (atom(value),)
    return (value,)


def set_atoms(value):
    """The atoms of set 'value' (OVSDB's JSON), as a list."""
    if isinstance(value, list) and value[0] == "set":
        return [a[1] if isinstance(a, list) else a for a in value[1]]
    return [value[1] if isinstance(value, list) else value]


def map_dict(value):
    """Map 'value' (OVSDB's JSON) as a dict, each UUID as a string."""
    return {k: v[1] if isinstance(v, list) else v for k, v in value[1]}


def optional(value):
    """The atom of optional column 'value', or None."""
    atoms = set_atoms(value)
    return atoms[0] if atoms else None


def ref(uuid):
    """An OVSDB reference to row 'uuid' (a UUID, or the uuid-name of a row
    this transaction inserts)."""
    return ["named-uuid", uuid] if uuid.startswith("row_") else ["uuid",
                                                                  uuid]


def short(uuid):
    """'uuid' as the log shows it: its first 8 digits, or a uuid-name."""
    return uuid if uuid.startswith("row_") else uuid[:8]


def uuid_map(d):
    return ["map", [[k, ref(v)] for k, v in sorted(d.items())]]


def uuid_set(uuids):
    return ["set", [ref(u) for u in uuids]]


def where(uuid):
    return [["_uuid", "==", ref(uuid)]]


# ---------------------------------------------------------------------
# The model: what the databases hold, as the changes see it.

VTEP_TABLES = {
    "Physical_Switch": ["name", "ports"],
    "Physical_Port": ["name", "vlan_bindings", "acl_bindings"],
    "Logical_Switch": ["name", "tunnel_key"],
    "ACL": ["acl_name", "acl_entries"],
    "ACL_entry": list(ENTRY_COLUMNS),
    "Iovp_Port": ["physical_port", "ips"],
    "Physical_Locator": ["dst_ip"],
    "Ucast_Macs_Remote": ["MAC", "logical_switch", "locator"],
    "Mcast_Macs_Remote": ["MAC", "logical_switch", "locator_set"],
}
OVS_TABLES = {
    "Bridge": ["name", "ports"],
    "Port": ["name", "interfaces"],
    "Interface": ["name", "external_ids", "ofport"],
}
FAULT_TABLES = {
    "Physical_Port": ["name", "port_fault_status"],
    "ACL": ["acl_name", "acl_fault_status"],
    "ACL_entry": ["acle_fault_status"],
}


class Model:
    """The rows the changes work on, read from the databases, and changed
    as a transaction under construction changes them.

    The changes draw rows in the order of key(), not of their UUIDs, which
    differ from run to run, so that a seed draws the same changes each
    time: by 'labels' ({UUID: N}, N counting the rows the driver made),
    else by name; and they draw only from the switch's ports named in
    'ports' (those there at the last time iovpd was in sync: iovpd makes
    the rows of new VM ports, sooner or later)."""

    def __init__(self, vtep, ovs, switch, bridge, labels, ports):
        self.labels = labels
        self.known = ports
        ps = [u for u, r in vtep["Physical_Switch"].items()
              if r["name"] == switch]
        self.switch_ports = set(set_atoms(vtep["Physical_Switch"][ps[0]]
                                          ["ports"])) if ps else set()
        self.pports = {u: {"name": r["name"],
                           "vlan": map_dict(r["vlan_bindings"]),
                           "acl": map_dict(r["acl_bindings"])}
                       for u, r in vtep["Physical_Port"].items()}
        self.ls = {u: r["name"] for u, r in vtep["Logical_Switch"].items()}
        self.vni = {u: optional(r["tunnel_key"])
                    for u, r in vtep["Logical_Switch"].items()}
        self.locs = {r["dst_ip"]: u
                     for u, r in vtep["Physical_Locator"].items()}
        self.rmacs = {u: {"mac": r["MAC"], "ls": r["logical_switch"][1],
                          "loc": r["locator"][1]}
                      for u, r in vtep["Ucast_Macs_Remote"].items()}
        self.floods = {u: r["logical_switch"][1]
                       for u, r in vtep["Mcast_Macs_Remote"].items()}
        self.acls = {u: {"name": r["acl_name"],
                         "entries": set_atoms(r["acl_entries"])}
                     for u, r in vtep["ACL"].items()}
        for a in self.acls.values():
            a["entries"] = self.sort(a["entries"])
        self.entries = {u: {c: optional(r[c]) if c in ENTRY_OPTIONAL
                            else r[c] for c in ENTRY_COLUMNS}
                        for u, r in vtep["ACL_entry"].items()}
        self.iports = {u: {"pp": optional(r["physical_port"]),
                           "ips": set_atoms(r["ips"])}
                       for u, r in vtep["Iovp_Port"].items()}

        self.bridge_uuid = [u for u, r in ovs["Bridge"].items()
                            if r["name"] == bridge][0]
        self.ifaces = {}        # Name -> {"uuid", "port", "ids"}
        for pu in set_atoms(ovs["Bridge"][self.bridge_uuid]["ports"]):
            port = ovs["Port"][pu]
            for iu in set_atoms(port["interfaces"]):
                iface = ovs["Interface"][iu]
                self.ifaces[iface["name"]] = {
                    "uuid": iu, "port": pu,
                    "ids": map_dict(iface["external_ids"])}

    def key(self, uuid):
        """The order in which the changes see row 'uuid'."""
        if uuid.startswith("row_"):
            return (2, int(uuid[4:]), "")
        if uuid in self.labels:
            return (1, self.labels[uuid], "")
        for rows, name in ((self.pports, lambda r: r["name"]),
                           (self.ls, lambda r: r),
                           (self.acls, lambda r: r["name"])):
            if uuid in rows:
                return (0, 0, name(rows[uuid]))
        return (3, 0, uuid)

    def sort(self, uuids):
        return sorted(uuids, key=self.key)

    def our_ports(self):
        return self.sort(u for u in self.switch_ports if u in self.pports
                         and self.pports[u]["name"] in self.known)

    def pick_port(self, rng):
        """A Physical_Port row of the switch, most often a VM's own (not
        one that an interface's changed iface-id made), or None."""
        ports = self.our_ports()
        vms = [u for u in ports if self.pports[u]["name"] in MACS]
        if vms and rng.random() < 0.85:
            return rng.choice(vms)
        return rng.choice(ports) if ports else None

    def bound_acls(self):
        return set(a for u in self.our_ports()
                   for a in self.pports[u]["acl"].values())

    def pick_acls(self, rng, acls):
        """Of 'acls', those bound to a port of the switch, most often."""
        bound = [a for a in acls if a in self.bound_acls()]
        return bound if bound and rng.random() < 0.75 else acls


class Txn:
    """The operations of one transaction on each database, and what each
    change did, in words."""

    def __init__(self):
        self.vtep = []
        self.ovs = []
        self.what = []
        self.n_rows = 0

    def row_name(self):
        self.n_rows += 1
        return "row_%d" % self.n_rows


# ---------------------------------------------------------------------
# ACL entries.

def draw_entry(rng, bad):
    """A new ACL_entry's columns (None: empty), valid unless 'bad'."""
    e = {c: None for c in ENTRY_COLUMNS}
    e["sequence"] = (rng.choice(SEQUENCES) if rng.random() < 0.95
                     else rng.choice((29001, 30000, 40000)))
    e["direction"] = rng.choice(("ingress", "egress"))
    e["action"] = rng.choice(("permit", "deny", "deny"))
    kind = rng.choice(("any", "l2", "ip4", "ip6", "l4", "l4", "l4", "icmp",
                       "flags"))
    if kind == "l2":
        if rng.random() < 0.5:
            e["source_mac"] = MACS[rng.choice(VMS)]
        else:
            e["dest_mac"] = MACS[rng.choice(VMS)]
        if rng.random() < 0.3:
            e["ethertype"] = "0x0806"
    elif kind == "ip4":
        e["ethertype"] = rng.choice((None, "0x0800"))
        col = rng.choice(("source", "dest"))
        e[col + "_ip"] = rng.choice(("10.0.0.1", "10.0.0.0", "10.0.0.2"))
        e[col + "_mask"] = rng.choice((None, "24", "255.255.255.0", "32"))
    elif kind == "ip6":
        e["dest_ip"] = rng.choice(("2001:db8::1", "2001:db8::"))
        e["dest_mask"] = rng.choice((None, "64", "128"))
    elif kind == "l4":
        e["protocol"] = rng.choice((6, 17))
        if rng.random() < 0.8:
            e["dest_port_min"], e["dest_port_max"] = rng.choice(RANGES)
        if rng.random() < 0.3:
            e["source_port_min"], e["source_port_max"] = rng.choice(RANGES)
        if rng.random() < 0.2:
            e["source_ip"] = "10.0.0.%d" % rng.randint(1, 4)
    elif kind == "icmp":
        e["protocol"] = 1
        e["icmp_type"] = rng.choice((None, 0, 8))
        if e["icmp_type"] is not None and rng.random() < 0.5:
            e["icmp_code"] = 0
    elif kind == "flags":
        e["protocol"] = 6
        e["tcp_flags"] = 2
        e["tcp_flags_mask"] = rng.choice((None, 0x12))
    if bad:
        spoil_entry(rng, e)
    return e


def spoil_entry(rng, e):
    """Makes entry 'e' one that iovpd cannot apply."""
    how = rng.choice(("ip", "mask", "mac", "ports", "proto", "range",
                      "family", "flags", "ethertype"))
    if how == "ip":
        e["source_ip"] = rng.choice(("10.0.0.256", "bogus", "10.0.0"))
    elif how == "mask":
        e["dest_ip"] = "10.0.0.0"
        e["dest_mask"] = rng.choice(("33", "ffff::", "255.0.x.0"))
        e["source_ip"] = None
    elif how == "mac":
        e["source_mac"] = rng.choice(("02:00:00:00:00", "zz:00:00:00:00:01"))
    elif how == "ports":
        e["protocol"] = 1
        e["icmp_type"] = e["icmp_code"] = None
        e["dest_port_min"] = e["dest_port_max"] = 80
    elif how == "proto":
        e["protocol"] = None
        e["source_port_min"] = e["source_port_max"] = 22
    elif how == "range":
        e["protocol"] = 6
        e["dest_port_min"], e["dest_port_max"] = 30, 20
    elif how == "family":
        e["source_ip"], e["source_mask"] = "10.0.0.1", None
        e["dest_ip"], e["dest_mask"] = "2001:db8::1", None
    elif how == "flags":
        e["protocol"] = 17
        e["tcp_flags"], e["tcp_flags_mask"] = 2, None
        e["dest_port_min"] = e["dest_port_max"] = None
        e["source_port_min"] = e["source_port_max"] = None
    else:
        e["ethertype"] = rng.choice(("0x0100", "ip"))


def tweak_entry(rng, e):
    """Entry 'e' (a copy) changed in one column: its sequence, action,
    direction or a port range, or made bad."""
    e = dict(e)
    how = rng.choice(("sequence", "sequence", "action", "direction", "range",
                      "spoil"))
    if how == "sequence":
        e["sequence"] = rng.choice(SEQUENCES + (29001,))
    elif how == "action":
        e["action"] = "permit" if e["action"] == "deny" else "deny"
    elif how == "direction":
        e["direction"] = ("egress" if e["direction"] == "ingress"
                          else "ingress")
    elif how == "range" and e["protocol"] in (6, 17):
        e["dest_port_min"], e["dest_port_max"] = rng.choice(RANGES)
    else:
        spoil_entry(rng, e)
    return e


def entry_row(e):
    return {c: (["set", []] if e[c] is None else e[c])
            for c in ENTRY_COLUMNS}


def entry_text(e):
    return " ".join("%s=%s" % (c, e[c]) for c in ENTRY_COLUMNS
                    if e[c] is not None)


# ---------------------------------------------------------------------
# The changes.  Each takes the random generator, the model and the
# transaction under construction; adds its operations and changes the
# model as they will; returns what it did in words, or None if it does
# not apply to the model as it is.

class Changes:
    def __init__(self):
        self.n_names = 0

    def new_name(self, prefix):
        self.n_names += 1
        return "%s%d" % (prefix, self.n_names)

    # Physical_Port bindings.

    def update_port(self, m, t, pp):
        p = m.pports[pp]
        t.vtep.append({"op": "update", "table": "Physical_Port",
                       "where": where(pp),
                       "row": {"vlan_bindings": uuid_map(p["vlan"]),
                               "acl_bindings": uuid_map(p["acl"])}})

    def bind_ls(self, rng, m, t):
        pp = m.pick_port(rng)
        if not pp or not m.ls:
            return None
        vlan = rng.choice(VLANS)
        ls = rng.choice(m.sort(m.ls))
        m.pports[pp]["vlan"][vlan] = ls
        self.update_port(m, t, pp)
        return "bind %s VLAN %d to logical switch %s" % (
            m.pports[pp]["name"], vlan, m.ls[ls])

    def unbind_ls(self, rng, m, t):
        bound = [(pp, v) for pp in m.our_ports()
                 for v in sorted(m.pports[pp]["vlan"])]
        if not bound:
            return None
        pp, vlan = rng.choice(bound)
        del m.pports[pp]["vlan"][vlan]
        self.update_port(m, t, pp)
        return "unbind %s VLAN %d" % (m.pports[pp]["name"], vlan)

    def bind_acl(self, rng, m, t):
        pp = m.pick_port(rng)
        if not pp or not m.acls:
            return None
        vlans = sorted(m.pports[pp]["vlan"])
        vlan = (rng.choice(vlans) if vlans and rng.random() < 0.85
                else rng.choice(VLANS))
        acl = rng.choice(m.sort(m.acls))
        m.pports[pp]["acl"][vlan] = acl
        self.update_port(m, t, pp)
        return "bind ACL %s to %s VLAN %d" % (m.acls[acl]["name"],
                                              m.pports[pp]["name"], vlan)

    def unbind_acl(self, rng, m, t):
        bound = [(pp, v) for pp in m.our_ports()
                 for v in sorted(m.pports[pp]["acl"])]
        if not bound:
            return None
        pp, vlan = rng.choice(bound)
        del m.pports[pp]["acl"][vlan]
        self.update_port(m, t, pp)
        return "unbind the ACL of %s VLAN %d" % (m.pports[pp]["name"], vlan)

    # Logical_Switch.

    def add_ls(self, rng, m, t):
        if len(m.ls) >= MAX_LS:
            return None
        name = self.new_name("ls")
        u = t.row_name()
        m.ls[u] = name
        t.vtep.append({"op": "insert", "table": "Logical_Switch",
                       "row": {"name": name}, "uuid-name": u})
        return "add logical switch %s" % name

    def rename_ls(self, rng, m, t):
        if not m.ls:
            return None
        ls = rng.choice(m.sort(m.ls))
        old, m.ls[ls] = m.ls[ls], self.new_name("ls")
        t.vtep.append({"op": "update", "table": "Logical_Switch",
                       "where": where(ls), "row": {"name": m.ls[ls]}})
        return "rename logical switch %s to %s" % (old, m.ls[ls])

    def del_ls(self, rng, m, t):
        if len(m.ls) < 2:
            return None
        ls = rng.choice(m.sort(m.ls))
        for pp in m.sort(m.pports):
            p = m.pports[pp]
            vlans = [v for v, x in p["vlan"].items() if x == ls]
            for v in vlans:
                del p["vlan"][v]
            if vlans:
                self.update_port(m, t, pp)
        # Its remote MACs and flooding first: they refer to it.
        for u in m.sort(u for u, r in m.rmacs.items() if r["ls"] == ls):
            del m.rmacs[u]
            t.vtep.append({"op": "delete", "table": "Ucast_Macs_Remote",
                           "where": where(u)})
        for u in m.sort(u for u, x in m.floods.items() if x == ls):
            del m.floods[u]
            t.vtep.append({"op": "delete", "table": "Mcast_Macs_Remote",
                           "where": where(u)})
        if not ls.startswith("row_"):
            # And the rows iovpd reports in it (a controller must take
            # them too: they refer to the switch).
            for table in ("Ucast_Macs_Local", "Mcast_Macs_Local"):
                t.vtep.append({"op": "delete", "table": table,
                               "where": [["logical_switch", "==",
                                          ["uuid", ls]]]})
        m.vni.pop(ls, None)
        t.vtep.append({"op": "delete", "table": "Logical_Switch",
                       "where": where(ls)})
        return "delete logical switch %s" % m.ls.pop(ls)

    # The overlay: VNIs (shared ones and OVN's 0 too), remote MACs (one
    # of them a local VM's, at times) and their VTEPs, flooding.

    def locator(self, rng, m, t):
        """A Physical_Locator of one of a few VTEPs, made if missing."""
        ip = rng.choice(VTEPS)
        if ip not in m.locs:
            u = t.row_name()
            m.locs[ip] = u
            t.vtep.append({"op": "insert", "table": "Physical_Locator",
                           "row": {"encapsulation_type": "vxlan_over_ipv4",
                                   "dst_ip": ip}, "uuid-name": u})
        return m.locs[ip], ip

    def set_vni(self, rng, m, t):
        if not m.ls:
            return None
        ls = rng.choice(m.sort(m.ls))
        vni = rng.choice((None, 0, 100, 101, 102))
        m.vni[ls] = vni
        t.vtep.append({"op": "update", "table": "Logical_Switch",
                       "where": where(ls),
                       "row": {"tunnel_key": ["set", [] if vni is None
                                              else [vni]]}})
        return "logical switch %s: tunnel_key %s" % (m.ls[ls], vni)

    def add_rmac(self, rng, m, t):
        if not m.ls or len(m.rmacs) >= 12:
            return None
        ls = rng.choice(m.sort(m.ls))
        mac = (rng.choice(REMOTE_MACS) if rng.random() < 0.9
               else MACS[rng.choice(VMS)])
        loc, ip = self.locator(rng, m, t)
        u = t.row_name()
        m.rmacs[u] = {"mac": mac, "ls": ls, "loc": loc}
        t.vtep.append({"op": "insert", "table": "Ucast_Macs_Remote",
                       "row": {"MAC": mac, "logical_switch": ref(ls),
                               "locator": ref(loc)}, "uuid-name": u})
        return "remote MAC %s in %s behind %s" % (mac, m.ls[ls], ip)

    def move_rmac(self, rng, m, t):
        if not m.rmacs:
            return None
        u = rng.choice(m.sort(m.rmacs))
        loc, ip = self.locator(rng, m, t)
        m.rmacs[u]["loc"] = loc
        t.vtep.append({"op": "update", "table": "Ucast_Macs_Remote",
                       "where": where(u), "row": {"locator": ref(loc)}})
        return "remote MAC %s moved behind %s" % (m.rmacs[u]["mac"], ip)

    def del_rmac(self, rng, m, t):
        if not m.rmacs:
            return None
        u = rng.choice(m.sort(m.rmacs))
        r = m.rmacs.pop(u)
        t.vtep.append({"op": "delete", "table": "Ucast_Macs_Remote",
                       "where": where(u)})
        return "remote MAC %s deleted" % r["mac"]

    def add_flood(self, rng, m, t):
        if not m.ls or len(m.floods) >= 6:
            return None
        ls = rng.choice(m.sort(m.ls))
        locs = sorted(set(self.locator(rng, m, t)[0]
                          for _ in range(rng.choice((1, 2)))),
                      key=m.key)
        # unknown-dst, or a multicast MAC of its own.
        mac = ("unknown-dst" if rng.random() < 0.7
               else rng.choice(("01:00:5e:00:00:fb", "33:33:00:00:00:01")))
        set_name, u = t.row_name(), t.row_name()
        m.floods[u] = ls
        t.vtep.append({"op": "insert", "table": "Physical_Locator_Set",
                       "row": {"locators": ["set", [ref(l) for l in locs]]},
                       "uuid-name": set_name})
        t.vtep.append({"op": "insert", "table": "Mcast_Macs_Remote",
                       "row": {"MAC": mac, "logical_switch": ref(ls),
                               "locator_set": ref(set_name)},
                       "uuid-name": u})
        return "%s of %s to %d VTEPs" % (mac, m.ls[ls], len(locs))

    def del_flood(self, rng, m, t):
        if not m.floods:
            return None
        u = rng.choice(m.sort(m.floods))
        ls = m.floods.pop(u)
        t.vtep.append({"op": "delete", "table": "Mcast_Macs_Remote",
                       "where": where(u)})
        return "Mcast_Macs_Remote of %s deleted" % m.ls.get(ls, "?")

    # ACL and ACL_entry.

    def insert_entry(self, m, t, e):
        u = t.row_name()
        m.entries[u] = e
        t.vtep.append({"op": "insert", "table": "ACL_entry",
                       "row": entry_row(e), "uuid-name": u})
        return u

    def update_acl_entries(self, m, t, acl):
        t.vtep.append({"op": "update", "table": "ACL", "where": where(acl),
                       "row": {"acl_entries":
                               uuid_set(m.acls[acl]["entries"])}})

    def referenced(self, m, entry, but=None):
        return any(entry in a["entries"] for u, a in m.acls.items()
                   if u != but)

    def add_acl(self, rng, m, t):
        if len(m.acls) >= MAX_ACLS:
            return None
        name = self.new_name("acl")
        entries = [draw_entry(rng, rng.random() < 0.1)
                   for _ in range(rng.randint(1, 3))]
        uuids = [self.insert_entry(m, t, e) for e in entries]
        u = t.row_name()
        m.acls[u] = {"name": name, "entries": uuids}
        t.vtep.append({"op": "insert", "table": "ACL", "uuid-name": u,
                       "row": {"acl_name": name,
                               "acl_entries": uuid_set(uuids)}})
        return "add ACL %s: %s" % (name, "; ".join(
            "entry %s: %s" % (u, entry_text(e))
            for u, e in zip(uuids, entries)))

    def unbind_all(self, m, t, acl, new=None):
        """Removes every binding of 'acl', or makes it one of 'new'."""
        for pp in m.sort(m.pports):
            p = m.pports[pp]
            vlans = [v for v, x in p["acl"].items() if x == acl]
            for v in vlans:
                if new:
                    p["acl"][v] = new
                else:
                    del p["acl"][v]
            if vlans:
                self.update_port(m, t, pp)

    def del_acl(self, rng, m, t):
        if len(m.acls) < 2:
            return None
        acl = rng.choice(m.sort(m.acls))
        self.unbind_all(m, t, acl)
        t.vtep.append({"op": "delete", "table": "ACL", "where": where(acl)})
        a = m.acls.pop(acl)
        if rng.random() < 0.7:
            for e in a["entries"]:
                if not self.referenced(m, e):
                    del m.entries[e]
                    t.vtep.append({"op": "delete", "table": "ACL_entry",
                                   "where": where(e)})
        return "delete ACL %s" % a["name"]

    def rename_acl(self, rng, m, t):
        if not m.acls:
            return None
        acl = rng.choice(m.sort(m.acls))
        old = m.acls[acl]["name"]
        others = m.sort(u for u in m.acls if u != acl)
        if others and rng.random() < 0.3:
            other = rng.choice(others)
            m.acls[acl]["name"] = m.acls[other]["name"]
            m.acls[other]["name"] = old
            for u in (acl, other):
                t.vtep.append({"op": "update", "table": "ACL",
                               "where": where(u),
                               "row": {"acl_name": m.acls[u]["name"]}})
            return "swap the names of ACLs %s and %s" % (
                old, m.acls[acl]["name"])
        m.acls[acl]["name"] = self.new_name("acl")
        t.vtep.append({"op": "update", "table": "ACL", "where": where(acl),
                       "row": {"acl_name": m.acls[acl]["name"]}})
        return "rename ACL %s to %s" % (old, m.acls[acl]["name"])

    def replace_acl(self, rng, m, t):
        if not m.acls:
            return None
        acl = rng.choice(m.sort(m.acls))
        old = m.acls.pop(acl)
        how = rng.choice(("same", "new", "mixed"))
        uuids = list(old["entries"]) if how != "new" else []
        if how != "same":
            entries = [draw_entry(rng, rng.random() < 0.1)
                       for _ in range(rng.randint(1, 2))]
            uuids += [self.insert_entry(m, t, e) for e in entries]
        if how == "mixed" and len(uuids) > 1:
            uuids.pop(rng.randrange(len(uuids)))
        u = t.row_name()
        t.vtep.append({"op": "delete", "table": "ACL", "where": where(acl)})
        t.vtep.append({"op": "insert", "table": "ACL", "uuid-name": u,
                       "row": {"acl_name": old["name"],
                               "acl_entries": uuid_set(uuids)}})
        m.acls[u] = {"name": old["name"], "entries": uuids}
        self.unbind_all(m, t, acl, u)
        return "replace ACL %s by a new row (%s entries)" % (old["name"],
                                                             how)

    def add_entry(self, rng, m, t):
        acls = m.sort(u for u, a in m.acls.items()
                      if len(a["entries"]) < MAX_ENTRIES)
        if not acls:
            return None
        acl = rng.choice(m.pick_acls(rng, acls))
        e = draw_entry(rng, rng.random() < 0.15)
        u = self.insert_entry(m, t, e)
        m.acls[acl]["entries"].append(u)
        self.update_acl_entries(m, t, acl)
        return "add to ACL %s entry %s: %s" % (m.acls[acl]["name"], u,
                                               entry_text(e))

    def change_entry(self, rng, m, t):
        used = m.sort(set(e for a in m.pick_acls(rng, m.sort(m.acls))
                          for e in m.acls[a]["entries"]))
        shared = [e for e in used
                  if sum(e in a["entries"] for a in m.acls.values()) > 1]
        orphans = m.sort(set(m.entries) - set(e for a in m.acls.values()
                                              for e in a["entries"]))
        if shared and rng.random() < 0.5:
            used = shared
        elif orphans and rng.random() < 0.1:
            used = orphans
        if not used:
            return None
        u = rng.choice(used)
        old = m.entries[u]
        if rng.random() < 0.5:
            new = tweak_entry(rng, old)
        else:
            new = draw_entry(rng, rng.random() < 0.15)
        m.entries[u] = new
        t.vtep.append({"op": "update", "table": "ACL_entry",
                       "where": where(u), "row": entry_row(new)})
        acls = [a["name"] for a in m.acls.values() if u in a["entries"]]
        return "change entry %s of ACL %s to: %s" % (
            short(u), ",".join(sorted(acls)) or "-", entry_text(new))

    def remove_entry(self, rng, m, t):
        acls = m.sort(u for u, a in m.acls.items() if len(a["entries"]) > 1)
        if not acls:
            return None
        acl = rng.choice(m.pick_acls(rng, acls))
        a = m.acls[acl]
        bad = [e for e in a["entries"] if not entry_valid(m.entries[e])]
        e = (rng.choice(bad) if bad and rng.random() < 0.6
             else rng.choice(a["entries"]))
        a["entries"].remove(e)
        self.update_acl_entries(m, t, acl)
        text = entry_text(m.entries[e])
        if not self.referenced(m, e) and rng.random() < 0.8:
            del m.entries[e]
            t.vtep.append({"op": "delete", "table": "ACL_entry",
                           "where": where(e)})
        return "remove from ACL %s entry %s: %s" % (a["name"], short(e),
                                                     text)

    def share_entry(self, rng, m, t):
        acls = m.pick_acls(rng, m.sort(m.acls))
        pairs = [(a, e) for a in acls
                 for b in m.pick_acls(rng, m.sort(m.acls)) if b != a
                 for e in m.acls[b]["entries"]
                 if e not in m.acls[a]["entries"]
                 and len(m.acls[a]["entries"]) < MAX_ENTRIES]
        if not pairs:
            return None
        acl, e = rng.choice(pairs)
        m.acls[acl]["entries"].append(e)
        self.update_acl_entries(m, t, acl)
        return "add to ACL %s entry %s of another ACL: %s" % (
            m.acls[acl]["name"], short(e), entry_text(m.entries[e]))

    # Iovp_Port.

    def draw_ips(self, rng):
        return sorted(set(rng.choice(IPS) for _ in range(rng.randint(0, 3))))

    def iport_row(self, ip):
        return {"physical_port": (["set", []] if ip["pp"] is None
                                  else ref(ip["pp"])),
                "ips": ["set", ip["ips"]]}

    def add_iport(self, rng, m, t):
        ports = m.our_ports()
        if len(m.iports) >= MAX_IPORTS or not ports:
            return None
        u = t.row_name()
        m.iports[u] = {"pp": rng.choice(ports), "ips": self.draw_ips(rng)}
        t.vtep.append({"op": "insert", "table": "Iovp_Port", "uuid-name": u,
                       "row": self.iport_row(m.iports[u])})
        return "add Iovp_Port for %s: ips %s" % (
            m.pports[m.iports[u]["pp"]]["name"], m.iports[u]["ips"])

    def change_iport(self, rng, m, t):
        if not m.iports:
            return None
        u = rng.choice(m.sort(m.iports))
        ip = m.iports[u]
        if rng.random() < 0.3 and m.our_ports():
            ip["pp"] = rng.choice(m.our_ports())
        else:
            ip["ips"] = self.draw_ips(rng)
        t.vtep.append({"op": "update", "table": "Iovp_Port",
                       "where": where(u), "row": self.iport_row(ip)})
        name = m.pports[ip["pp"]]["name"] if ip["pp"] in m.pports else "-"
        return "change Iovp_Port to %s: ips %s" % (name, ip["ips"])

    def del_iport(self, rng, m, t):
        if not m.iports:
            return None
        u = rng.choice(m.sort(m.iports))
        del m.iports[u]
        t.vtep.append({"op": "delete", "table": "Iovp_Port",
                       "where": where(u)})
        return "delete an Iovp_Port"

    # Open_vSwitch.

    def set_external_id(self, m, t, name, key, value):
        iface = m.ifaces[name]
        mutations = [["external_ids", "delete", ["set", [key]]]]
        if value is None:
            iface["ids"].pop(key, None)
        else:
            iface["ids"][key] = value
            mutations.append(["external_ids", "insert",
                              ["map", [[key, value]]]])
        t.ovs.append({"op": "mutate", "table": "Interface",
                      "where": where(iface["uuid"]),
                      "mutations": mutations})

    def iface_id(self, rng, m, t):
        names = sorted(n for n in m.ifaces if n in MACS)
        if not names:
            return None
        name = rng.choice(names)
        current = m.ifaces[name]["ids"].get("iface-id")
        if current != name and rng.random() < 0.6:
            value = name
        else:
            value = rng.choice((name + "x", rng.choice(VMS), None))
        self.set_external_id(m, t, name, "iface-id", value)
        return "interface %s: iface-id %s" % (name, value)

    def attached_mac(self, rng, m, t):
        names = sorted(n for n in m.ifaces if n in MACS)
        if not names:
            return None
        name = rng.choice(names)
        current = m.ifaces[name]["ids"].get("attached-mac")
        if current != MACS[name] and rng.random() < 0.6:
            value = MACS[name]
        else:
            value = rng.choice(("02:00:00:00:01:%02x" % rng.randint(1, 9),
                                MACS[rng.choice(VMS)], None))
        self.set_external_id(m, t, name, "attached-mac", value)
        return "interface %s: attached-mac %s" % (name, value)

    def add_port(self, m, t, name, internal):
        iu, pu = t.row_name(), t.row_name()
        row = {"name": name,
               "external_ids": ["map", [["iface-id", name],
                                        ["attached-mac", MACS[name]]]]}
        if internal:
            row["type"] = "internal"
        t.ovs += [
            {"op": "insert", "table": "Interface", "uuid-name": iu,
             "row": row},
            {"op": "insert", "table": "Port", "uuid-name": pu,
             "row": {"name": name, "interfaces": ["named-uuid", iu]}},
            {"op": "mutate", "table": "Bridge",
             "where": [["_uuid", "==", ["uuid", m.bridge_uuid]]],
             "mutations": [["ports", "insert", ["named-uuid", pu]]]}]
        m.ifaces[name] = {"uuid": iu, "port": pu,
                          "ids": {"iface-id": name,
                                  "attached-mac": MACS[name]}}

    def del_port(self, m, t, name):
        t.ovs.append({"op": "mutate", "table": "Bridge",
                      "where": [["_uuid", "==", ["uuid", m.bridge_uuid]]],
                      "mutations": [["ports", "delete",
                                     ref(m.ifaces[name]["port"])]]})
        del m.ifaces[name]

    def replug(self, rng, m, t):
        """A VM port deleted and added back (in one transaction or two),
        or vm5, an internal port, added or deleted."""
        if rng.random() < 0.5:
            if "vm5" in m.ifaces:
                self.del_port(m, t, "vm5")
                return "delete port vm5"
            self.add_port(m, t, "vm5", True)
            return "add port vm5 (internal)"
        name = rng.choice(("vm3", "vm4"))
        if name not in m.ifaces:
            self.add_port(m, t, name, False)
            return "add port %s back" % name
        self.del_port(m, t, name)
        if rng.random() < 0.5:
            self.add_port(m, t, name, False)
            return "delete port %s and add it back" % name
        return "delete port %s" % name


def entry_valid(e):
    """A rough guess whether iovpd can apply 'e', to fix a bad ACL more
    often than not; iovpd decides."""
    for c in ("source_ip", "dest_ip"):
        if e[c] not in (None, "10.0.0.1", "10.0.0.0", "10.0.0.2",
                        "10.0.0.3", "10.0.0.4", "2001:db8::1",
                        "2001:db8::"):
            return False
    if e["dest_mask"] in ("33", "ffff::", "255.0.x.0"):
        return False
    if e["source_mac"] and len(e["source_mac"]) != 17:
        return False
    if e["ethertype"] in ("0x0100", "ip"):
        return False
    if e["source_mac"] and e["source_mac"].startswith("zz"):
        return False
    has_ports = any(e[c] is not None for c in ("source_port_min",
                                               "dest_port_min"))
    if has_ports and e["protocol"] not in (6, 17):
        return False
    if e["dest_port_min"] is not None and (e["dest_port_min"]
                                           > e["dest_port_max"]):
        return False
    if e["tcp_flags"] is not None and e["protocol"] != 6:
        return False
    if (e["source_ip"] and e["dest_ip"]
            and (":" in e["source_ip"]) != (":" in e["dest_ip"])):
        return False
    return True


# The changes and how often each is drawn.
WEIGHTS = (
    ("bind_ls", 10), ("unbind_ls", 4), ("add_ls", 2), ("rename_ls", 1),
    ("del_ls", 1), ("bind_acl", 10), ("unbind_acl", 3), ("add_acl", 3),
    ("del_acl", 2), ("rename_acl", 3), ("replace_acl", 3),
    ("add_entry", 10), ("change_entry", 14), ("remove_entry", 8),
    ("share_entry", 4), ("add_iport", 3), ("change_iport", 3),
    ("del_iport", 2), ("iface_id", 3), ("attached_mac", 3), ("replug", 3),
    ("set_vni", 4), ("add_rmac", 5), ("move_rmac", 4), ("del_rmac", 3),
    ("add_flood", 2), ("del_flood", 1),
)


# ---------------------------------------------------------------------
# Being in sync, and what a checkpoint compares.

def strip_flows(dump):
    """flows/dump's answer without counters, as lines."""
    lines = []
    for f in dump:
        lines.append("%-11s cookie=%s table=%d priority=%d %s actions=%s%s"
                     % (f["status"], f["cookie"], f["table"], f["priority"],
                        f["match"], f["actions"],
                        " refused: %s" % f["refused"] if "refused" in f
                        else ""))
    return lines


def node(engine, name):
    for n in engine["nodes"]:
        if n["name"] == name:
            return n
    raise Failure("engine/show has no node %s" % name)


def work_done(engine):
    """How many times the engine's nodes have computed anything."""
    return tuple((n["recomputes"], n["incremental"])
                 for n in engine["nodes"] if not n["input"])


class Driver:
    def __init__(self, args):
        self.args = args
        rundir = os.environ["OVS_RUNDIR"]
        self.db = Ovsdb(os.path.join(rundir, "db.sock"))
        self.iovpd = Iovpd()
        self.changes = Changes()
        self.rng = random.Random(args.seed)
        self.log = open(args.log, "w")
        self.recent = []        # What changed since the last checkpoint.
        self.labels = {}        # UUID -> N, of the rows the driver made.
        self.ports = set()      # Names of the switch's ports, as of the
                                # last time iovpd was in sync.

    def note(self, text):
        self.log.write(text + "\n")
        self.log.flush()
        self.recent.append(text)
        if self.args.verbose:
            log(text)

    def read_model(self):
        vtep = self.db.select("hardware_vtep", VTEP_TABLES)
        ovs = self.db.select("Open_vSwitch", OVS_TABLES)
        return Model(vtep, ovs, self.args.switch, self.args.bridge,
                     self.labels, self.ports)

    # In sync.

    def replica_current(self):
        """Returns None if iovpd's replicas of the tables and columns the
        changes touch are the databases', else what differs."""
        for db, tables in (("hardware_vtep", VTEP_TABLES),
                           ("Open_vSwitch", OVS_TABLES)):
            replica = self.iovpd.call("ovsdb/dump", db)
            server = self.db.select(db, tables,
                                    self.iovpd.call("ovsdb/conditions", db))
            for table, columns in tables.items():
                mine = replica.get(table, {})
                if set(mine) != set(server[table]):
                    return "%s: rows of %s" % (db, table)
                for u, row in server[table].items():
                    for c in columns:
                        if canon(row[c]) != canon(mine[u].get(c,
                                                              ["set", []])):
                            return "%s: %s %s %s" % (db, table, u, c)
        return None

    def sync(self, what):
        """Waits until iovpd is in sync: its replicas are current, the
        switch holds exactly the desired flows (none missing, none
        unrequested), no bundle is in flight, and none of that, nor the
        engine's work and the flow_mods sent, changed for SETTLE seconds.
        Returns the flows/dump answer."""
        deadline = time.monotonic() + SYNC_TIMEOUT
        last = since = None
        while True:
            why = self.replica_current()
            status = self.iovpd.call("ofp/status")["flows"]
            engine = self.iovpd.call("engine/show")
            try:
                dump = self.iovpd.call("flows/dump")
            except unixrpc.ErrorReply as e:
                why, dump = why or str(e), []
            odd = [f for f in dump if f["status"] != "installed"]
            if why is None and status["state"] != "ready":
                why = "flows: %s" % status["state"]
            if why is None and odd:
                why = "%d flows not as desired, e.g. %s" % (
                    len(odd), strip_flows(odd[:1])[0])
            key = (work_done(engine), status["flow_mods"],
                   status["installed"], why)
            now = time.monotonic()
            if key != last:
                last, since = key, now
            elif why is None and now - since >= SETTLE:
                model = self.read_model()
                self.ports.clear()
                self.ports.update(model.pports[u]["name"]
                                  for u in model.switch_ports
                                  if u in model.pports)
                return dump
            if now > deadline:
                raise Failure("%s: iovpd not in sync after %d s: %s"
                              % (what, SYNC_TIMEOUT, why or "still busy"))
            time.sleep(0.05)

    def snapshot(self, what):
        dump = self.sync(what)
        ofctl = subprocess.run(
            ["ovs-ofctl", "-O", "OpenFlow15", "--no-stats", "--sort",
             "dump-flows", self.args.bridge],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if ofctl.returncode:
            raise Failure("ovs-ofctl: %s" % ofctl.stderr)
        faults = self.db.select("hardware_vtep", FAULT_TABLES)
        fault_lines = []
        for table in sorted(faults):
            for u, row in sorted(faults[table].items()):
                fault_lines.append("%s %s %s" % (table, u, json.dumps(
                    {c: canon(v) for c, v in sorted(row.items())})))
        status = self.iovpd.call("ofp/status")["flows"]
        return {"ovs-ofctl dump-flows": ofctl.stdout.splitlines(),
                "flows/dump": strip_flows(dump),
                "faults in the database": fault_lines,
                "flow_mods": status["flow_mods"],
                "n_flows": len(dump)}

    # A checkpoint.

    def checkpoint(self, n_changes):
        label = "after %d changes" % n_changes
        before = self.snapshot(label)
        engine = self.iovpd.call("engine/show")
        self.iovpd.call("debug/recompute")
        deadline = time.monotonic() + SYNC_TIMEOUT
        while True:
            recomputed = self.iovpd.call("engine/show")
            if (recomputed["forced_recomputes"]
                == engine["forced_recomputes"] + 1
                and all(node(recomputed, n)["recomputes"]
                        > node(engine, n)["recomputes"]
                        for n in ("pipeline", "acls"))):
                break
            if time.monotonic() > deadline:
                raise Failure("%s: debug/recompute: the engine did not "
                              "recompute" % label)
            time.sleep(0.02)
        after = self.snapshot(label + ", recomputed")

        problems = []
        for key in ("ovs-ofctl dump-flows", "flows/dump",
                    "faults in the database"):
            if before[key] != after[key]:
                diff = difflib.unified_diff(
                    before[key], after[key], "%s (incremental)" % key,
                    "%s (recomputed)" % key, lineterm="", n=1)
                problems.append("\n".join(diff))
        if after["flow_mods"] != before["flow_mods"]:
            problems.append("the recompute sent %d flow_mods"
                            % (after["flow_mods"] - before["flow_mods"]))
        a = node(recomputed, "acls")
        log("checkpoint %s: %d flows, %d flow_mods sent so far; acls: "
            "%d recomputes, %d incremental: %s"
            % (label, before["n_flows"], before["flow_mods"],
               a["recomputes"], a["incremental"],
               "DIFFERENT" if problems else "a recompute changes nothing"))
        if problems:
            log("seed %d: a recompute %s differs from the incremental "
                "result.  The changes since the last checkpoint:"
                % (self.args.seed, label))
            for line in self.recent:
                log("    " + line)
            for p in problems:
                log(p)
        self.recent = []
        return not problems

    # The run.

    def run(self):
        args = self.args
        log("seed %d, %d changes, a checkpoint every %d"
            % (args.seed, args.changes, args.every))
        self.sync("at the start")
        start = self.iovpd.call("engine/show")
        names = [n for n, w in WEIGHTS]
        weights = [w for n, w in WEIGHTS]
        n_changes = n_txns = n_failed = n_checkpoints = 0
        next_checkpoint = args.every
        while n_changes < args.changes:
            model = self.read_model()
            txn = Txn()
            size = self.rng.choice((1, 1, 1, 2, 2, 3, 5))
            size = min(size, next_checkpoint - n_changes)
            while len(txn.what) < size:
                change = self.rng.choices(names, weights)[0]
                what = getattr(self.changes, change)(self.rng, model, txn)
                if what:
                    txn.what.append(what)
            n_txns += 1
            new = {}
            for db, ops in (("hardware_vtep", txn.vtep),
                            ("Open_vSwitch", txn.ovs)):
                if ops:
                    result = self.db.transact(db, ops)
                    for op, r in zip(ops, result):
                        if "uuid-name" in op:
                            new[op["uuid-name"]] = short(r["uuid"][1])
                            self.labels[r["uuid"][1]] = len(self.labels)
            self.note("txn %d: %s%s" % (
                n_txns, " | ".join(txn.what),
                " (%s)" % ", ".join("%s=%s" % (k, new[k])
                                    for k in sorted(new, key=lambda k:
                                                    int(k[4:])))
                if new else ""))
            n_changes += len(txn.what)

            if n_changes >= next_checkpoint:
                n_checkpoints += 1
                if not self.checkpoint(n_changes):
                    n_failed += 1
                next_checkpoint += args.every
                continue
            pace = self.rng.random()
            if pace < 0.3:
                time.sleep(self.rng.uniform(0.002, 0.03))
            elif pace < 0.38:
                self.sync("after txn %d" % n_txns)
        if n_changes % args.every:
            n_checkpoints += 1
            if not self.checkpoint(n_changes):
                n_failed += 1

        end = self.iovpd.call("engine/show")
        checks = []
        for name in ("pipeline", "acls"):
            n0, n1 = node(start, name), node(end, name)
            log("%s: %d recomputes, %d incremental runs, %d changed"
                % (name, n1["recomputes"] - n0["recomputes"],
                   n1["incremental"] - n0["incremental"],
                   n1["changed"] - n0["changed"]))
        if node(end, "acls")["incremental"] <= node(start,
                                                    "acls")["incremental"]:
            checks.append("node acls never ran incrementally")
        forced = end["forced_recomputes"] - start["forced_recomputes"]
        if forced != n_checkpoints:
            checks.append("forced_recomputes counted %d recomputes, not %d"
                          % (forced, n_checkpoints))
        for c in checks:
            log("seed %d: engine/show: %s" % (args.seed, c))
        log("seed %d: %d changes in %d transactions, %d checkpoints, "
            "%d differ%s" % (args.seed, n_changes, n_txns, n_checkpoints,
                             n_failed, "" if not checks
                             else "; engine/show: %s" % "; ".join(checks)))
        return 1 if n_failed or checks else 0


def main():
    parser = argparse.ArgumentParser(
        description="Random policy changes; then a recompute of iovpd's "
        "engine must change nothing.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--every", type=int, default=20)
    parser.add_argument("--switch", default="host-7")
    parser.add_argument("--bridge", default="br-int")
    parser.add_argument("--log", default="engine-property.log")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    try:
        return Driver(args).run()
    except (Failure, unixrpc.Closed, unixrpc.ErrorReply) as e:
        log("seed %d: %s" % (args.seed, e))
        return 2


if __name__ == "__main__":
    sys.exit(main())
