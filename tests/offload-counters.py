#! /usr/bin/env python3
"""offload-counters.py: sends a known number of frames from a VM, and reads
every counter iovpd reports, for the offload tests that check that each
frame counts once, wherever it was decided (in the NIC or in OVS).

  offload-counters.py send IFACE ipv4|ipv6 DST-PORT PAYLOAD COUNT
      Sends COUNT UDP datagrams of PAYLOAD bytes from 02:00:00:00:00:01
      (10.0.0.1 or 2001:db8::1) to 02:00:00:00:00:02 (10.0.0.2 or
      2001:db8::2), port DST-PORT, through a packet socket on IFACE.  Their
      checksum is wrong on purpose (IPv4's header checksum, or UDP's over
      IPv6): the receiving VM's stack drops them without an answer, so that
      no other frame follows them.

  offload-counters.py snap DB
      Prints, as JSON, every counter iovpd reports: its flows' (dump-flows),
      the ACL entries' (dump-policy), the NIC's entries' (dump-offload),
      vm1's and vm2's Logical_Binding_Stats of VLAN 0, and Iovp_Offload's
      hit rate from the hardware_vtep database at unix:DB.

  offload-counters.py consistent SNAP
      Checks that the statistics in snapshot SNAP agree with each other:
      each port's Logical_Binding_Stats with its flows in tables 0 and 50,
      and the hit rate with the share of the frames from the VMs that the
      NIC decided.  Prints what disagrees and exits 1, or exits 0.

  offload-counters.py diff BEFORE AFTER
      Prints every counter that differs between snapshots BEFORE and AFTER,
      with the difference, one a line, in a stable order (the hit rate,
      which depends on all the traffic before, aside: "consistent" checks
      it)."""

import json
import re
import socket
import struct
import subprocess
import sys

PORTS = ("vm1", "vm2")


def run(*args):
    return subprocess.run(args, check=True, capture_output=True,
                          text=True).stdout


def send(iface, family, dst_port, payload, count):
    data = b"x" * int(payload)
    if family == "ipv4":
        udp = struct.pack("!HHHH", 40000, int(dst_port), 8 + len(data), 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0,
                         20 + len(udp) + len(data), 0, 0, 64, 17, 0xdead,
                         socket.inet_aton("10.0.0.1"),
                         socket.inet_aton("10.0.0.2"))
        eth_type = 0x0800
    else:
        udp = struct.pack("!HHHH", 40000, int(dst_port), 8 + len(data),
                          0xdead)
        ip = (struct.pack("!IHBB", 6 << 28, len(udp) + len(data), 17, 64)
              + socket.inet_pton(socket.AF_INET6, "2001:db8::1")
              + socket.inet_pton(socket.AF_INET6, "2001:db8::2"))
        eth_type = 0x86dd
    eth = (bytes.fromhex("020000000002") + bytes.fromhex("020000000001")
           + struct.pack("!H", eth_type))
    frame = eth + ip + udp + data
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for _ in range(int(count)):
        s.send(frame)


def binding_stats(port):
    uuid = run("vtep-ctl", "get", "Physical_Port", port,
               "vlan_stats:0").strip()
    values = run("vtep-ctl", "get", "Logical_Binding_Stats", uuid,
                 "packets_from_local", "bytes_from_local",
                 "packets_to_local", "bytes_to_local").split()
    return dict(zip(("packets_from_local", "bytes_from_local",
                     "packets_to_local", "bytes_to_local"),
                    (int(v) for v in values)))


def snap(db):
    d = {"flows": {}, "policy": {}, "offload": {}, "lbs": {}, "cookies": {}}
    for f in json.loads(run("iovp-ofctl", "--format=json", "dump-flows")):
        key = "cookie=%s table=%d priority=%d %s actions=%s" % (
            f["cookie"], f["table"], f["priority"], f["match"],
            f["actions"])
        d["flows"][key] = {k: f.get(k, 0) for k in
                           ("n_packets", "n_bytes", "nic_packets",
                            "nic_bytes")}
    for port in PORTS:
        flows = json.loads(run("iovp-ofctl", "--format=json", "dump-flows",
                               port))
        d["cookies"][port] = flows[0]["cookie"] if flows else None
        d["lbs"][port] = binding_stats(port)
    policy = json.loads(run("iovp-ofctl", "--format=json", "dump-policy"))
    for port in policy["ports"]:
        for b in port["bindings"]:
            for e in (b["acl"] or {}).get("entries", []):
                key = "%s %s" % (port["name"], e["entry"])
                d["policy"][key] = {k: e.get(k, 0) for k in
                                    ("n_packets", "n_bytes", "nic_packets",
                                     "nic_bytes")}
    offload = json.loads(run("iovp-ofctl", "--format=json", "dump-offload"))
    for name, port in offload["ports"].items():
        for e in port["table"]:
            # The target's ifindex varies from run to run.
            entry = re.sub(r"forward:\d+", "forward:N", e["entry"])
            key = "%s %s (%s)" % (name, entry, e["kind"])
            d["offload"][key] = {k: e.get(k, 0) for k in
                                 ("n_packets", "n_bytes")}
    table = json.loads(run("ovsdb-client", "-f", "json", "dump",
                           "unix:" + db, "hardware_vtep", "Iovp_Offload",
                           "hit_rate"))
    d["hit_rate"] = table["data"][0][0] if table["data"] else None
    return d


def consistent(d):
    wrong = []
    nic_from_vms = 0
    for port in PORTS:
        want = dict.fromkeys(("packets_from_local", "bytes_from_local",
                              "packets_to_local", "bytes_to_local"), 0)
        for key, c in d["flows"].items():
            if not key.startswith("cookie=%s " % d["cookies"][port]):
                continue
            if " table=0 " in key and not key.endswith(" actions=drop"):
                want["packets_from_local"] += c["n_packets"]
                want["bytes_from_local"] += c["n_bytes"]
                nic_from_vms += c["nic_packets"]
            elif " table=50 " in key:
                want["packets_to_local"] += c["n_packets"]
                want["bytes_to_local"] += c["n_bytes"]
        if want != d["lbs"][port]:
            wrong.append("%s: Logical_Binding_Stats %s, flows %s"
                         % (port, d["lbs"][port], want))
    from_vms = sum(d["lbs"][p]["packets_from_local"] for p in PORTS)
    hit_rate = round(nic_from_vms / from_vms, 3) if from_vms else 0
    if d["hit_rate"] is None or abs(d["hit_rate"] - hit_rate) > 1e-9:
        wrong.append("hit rate %s, NIC decided %d of %d frames from the VMs"
                     % (d["hit_rate"], nic_from_vms, from_vms))
    for w in wrong:
        print(w)
    return not wrong


def diff(a, b):
    for section in ("flows", "policy", "offload", "lbs"):
        for key in sorted(set(a[section]) | set(b[section])):
            ca = a[section].get(key, {})
            cb = b[section].get(key, {})
            delta = {k: cb.get(k, 0) - ca.get(k, 0)
                     for k in sorted(set(ca) | set(cb))}
            if any(delta.values()):
                print("%s %s: %s" % (section, key, " ".join(
                    "%s=%+d" % (k, v) for k, v in delta.items() if v)))


def main():
    cmd = sys.argv[1]
    if cmd == "send":
        send(*sys.argv[2:7])
    elif cmd == "snap":
        json.dump(snap(sys.argv[2]), sys.stdout, indent=1, sort_keys=True)
    elif cmd == "consistent":
        with open(sys.argv[2]) as f:
            sys.exit(0 if consistent(json.load(f)) else 1)
    elif cmd == "diff":
        with open(sys.argv[2]) as f, open(sys.argv[3]) as g:
            diff(json.load(f), json.load(g))
    else:
        sys.exit("%s: unknown command" % cmd)


if __name__ == "__main__":
    main()
