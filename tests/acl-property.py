#! /usr/bin/env python3
"""acl-property.py: random break, fix and restart sequences of an ACL,
checked against a reference model in Open vSwitch.

  acl-property.py SEED COUNT BRIDGE PORT1 PORT2 PIDFILE START-COMMAND

Runs COUNT sequences drawn with random seed SEED.  Each binds a new ACL
to the whole of Physical_Port "vm1" (OpenFlow port PORT1, MAC
02:00:00:00:00:01, 10.0.0.1 and 2001:db8::1), which talks to "vm2"
(PORT2, ...:02, .2, ::2) in one logical switch, and then changes it step
by step: adds an entry (valid or not), removes or changes one, restarts
iovpd (an "exit" through its control socket, or SIGKILL, then
START-COMMAND, a shell command, with the pid in PIDFILE).

The model is the ACL's semantics as iovpd(8) gives them, from the policy
alone: entries by ascending sequence, deny before permit at one
sequence, the first that matches decides, no match permits; an ACL with
an entry iovpd cannot apply keeps the version in force before it (across
restarts: iovpd recovers it from the switch), and one that never had a
valid version denies everything.  After each step, once acl_fault_status
says what the model expects, every probe (both directions, IPv4 and
IPv6, TCP and UDP, a few ports) is traced through BRIDGE with
ofproto/trace, straight over ovs-vswitchd's control socket, until all
agree with the model and still do a moment later; 10 s without that is a
failure.  Prints one line per failing step, and at the end the number of
sequences, steps and disagreements; exits 1 on a disagreement."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import unixrpc

SEQUENCES = (5, 10, 15, 20, 25)
PORTS = (22, 53, 80, 5000)
SOURCE_PORTS = (1000, 40000)
# Port ranges, some of them more than one value/mask pair, so that an entry
# with two of them is a conjunction.
RANGES = ((22, 22), (53, 53), (80, 80), (20, 90), (50, 5000), (0, 1023))
INVALID = ("protocol=17 tcp_flags=2",
           "protocol=6 dest_port_min=30 dest_port_max=20",
           "protocol=1 dest_port_min=80 dest_port_max=80")

VMS = {"vm1": ("02:00:00:00:00:01", "10.0.0.1", "2001:db8::1"),
       "vm2": ("02:00:00:00:00:02", "10.0.0.2", "2001:db8::2")}


def run(*argv):
    result = subprocess.run(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if result.returncode:
        raise RuntimeError("%s: %s" % (" ".join(argv), result.stderr))
    return result.stdout.strip()


class Unixctl(unixrpc.JsonRpc):
    """A JSON-RPC connection to a daemon's control socket."""

    def call(self, method, *params):
        return super().call(method, list(params))


def vswitchd_ctl():
    rundir = os.environ["OVS_RUNDIR"]
    pid = open(os.path.join(rundir, "ovs-vswitchd.pid")).read().strip()
    return os.path.join(rundir, "ovs-vswitchd.%s.ctl" % pid)


def entry_spec(e):
    """The vtep-ctl column arguments of entry 'e' (a dict)."""
    if e["invalid"]:
        fields = e["invalid"]
    else:
        fields = ""
        if e["protocol"] is not None:
            fields += " protocol=%d" % e["protocol"]
        if e["dport"] is not None:
            fields += " dest_port_min=%d dest_port_max=%d" % e["dport"]
        if e["sport"] is not None:
            fields += " source_port_min=%d source_port_max=%d" % e["sport"]
    return ("sequence=%d direction=%s action=%s %s"
            % (e["seq"], "ingress" if e["ingress"] else "egress",
               "permit" if e["permit"] else "deny", fields.strip()))


def draw_entry(rng, invalid):
    e = {"seq": rng.choice(SEQUENCES), "ingress": rng.random() < 0.5,
         "permit": rng.random() < 0.4, "invalid": None, "protocol": None,
         "dport": None, "sport": None, "uuid": None}
    if invalid:
        e["invalid"] = rng.choice(INVALID)
        return e
    e["protocol"] = rng.choice((6, 17, 6, 17, None))
    if e["protocol"] is not None:
        if rng.random() < 0.8:
            e["dport"] = rng.choice(RANGES)
        if rng.random() < 0.3:
            e["sport"] = rng.choice(RANGES)
    return e


def entry_matches(e, probe):
    ingress, v6, protocol, sport, dport = probe
    if e["ingress"] != ingress:
        return False
    if e["protocol"] is not None and e["protocol"] != protocol:
        return False
    for field, port in (("dport", dport), ("sport", sport)):
        if e[field] is not None and not e[field][0] <= port <= e[field][1]:
            return False
    return True


def model_verdict(in_force, probe):
    """True if the ACL version 'in_force' (a list of entries, or None for
    deny all) permits 'probe'."""
    if in_force is None:
        return False
    for e in sorted(in_force,
                    key=lambda e: (e["seq"], e["permit"], e["uuid"])):
        if entry_matches(e, probe):
            return e["permit"]
    return True


def probes():
    for ingress in (True, False):
        for v6 in (False, True):
            for protocol in (6, 17):
                for sport in SOURCE_PORTS:
                    for dport in PORTS:
                        yield ingress, v6, protocol, sport, dport


def probe_flow(probe, ports):
    ingress, v6, protocol, sport, dport = probe
    src, dst = ("vm1", "vm2") if ingress else ("vm2", "vm1")
    l4 = "tcp" if protocol == 6 else "udp"
    if v6:
        l3 = "%s6,ipv6_src=%s,ipv6_dst=%s" % (l4, VMS[src][2], VMS[dst][2])
    else:
        l3 = "%s,nw_src=%s,nw_dst=%s" % (l4, VMS[src][1], VMS[dst][1])
    return ("in_port=%s,dl_src=%s,dl_dst=%s,%s,%s_src=%d,%s_dst=%d"
            % (ports[src], VMS[src][0], VMS[dst][0], l3, l4, sport, l4,
               dport))


class Checker:
    def __init__(self, bridge, ports):
        self.bridge = bridge
        self.ports = ports
        self.ctl = Unixctl(vswitchd_ctl())

    def ovs_permits(self, probe):
        out = self.ctl.call("ofproto/trace", self.bridge,
                            probe_flow(probe, self.ports))
        last = out.rstrip().splitlines()[-1]
        if not last.startswith("Datapath actions:"):
            raise RuntimeError("ofproto/trace: %s" % last)
        return last != "Datapath actions: drop"

    def disagreements(self, in_force):
        return [p for p in probes()
                if self.ovs_permits(p) != model_verdict(in_force, p)]


def acl_faults(name):
    return run("vtep-ctl", "--bare", "--columns=acl_fault_status", "find",
               "ACL", "acl_name=%s" % name)


class Iovpd:
    def __init__(self, pidfile, start):
        self.pidfile = pidfile
        self.start = start

    def pid(self):
        return int(open(self.pidfile).read())

    def alive(self, pid):
        try:
            state = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1]
        except OSError:
            return False
        return state.split()[0] not in ("Z", "X", "x")

    def restart(self, how):
        pid = self.pid()
        if how == "kill":
            os.kill(pid, signal.SIGKILL)
        else:
            run("ovs-appctl", "-t",
                os.path.join(os.environ["IOVP_RUNDIR"], "iovpd.%d.ctl" % pid),
                "exit")
        deadline = time.monotonic() + 10
        while self.alive(pid):
            if time.monotonic() > deadline:
                raise RuntimeError("iovpd %d did not exit" % pid)
            time.sleep(0.01)
        subprocess.run(self.start, shell=True, check=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                status = json.loads(run("iovp-ofctl", "-f", "json",
                                        "ofp/status"))
                if status["flows"]["state"] == "ready":
                    return
            except (RuntimeError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("iovpd is not ready after a restart")
            time.sleep(0.02)


def settle(checker, name, in_force, invalid):
    """Waits until the ACL's faults and OVS's verdicts agree with the model
    and still agree a moment later.  Returns the disagreements, empty on
    success."""
    want = "invalid_acl" if invalid else ""
    deadline = time.monotonic() + 10
    agreed = False
    while True:
        wrong = []
        faults = acl_faults(name)
        if faults != want:
            wrong = ["acl_fault_status %r, not %r" % (faults, want)]
        else:
            wrong = checker.disagreements(in_force)
        if not wrong:
            if agreed:
                return []
            agreed = True
            time.sleep(0.1)
            continue
        agreed = False
        if time.monotonic() > deadline:
            return wrong
        time.sleep(0.02)


def run_sequence(rng, number, checker, iovpd, old_name):
    name = "p%d" % number
    entries = [draw_entry(rng, rng.random() < 0.15)
               for _ in range(rng.randint(1, 3))]

    # The new ACL, bound in place of the last, which goes.
    args = []
    for i, e in enumerate(entries):
        args += ["--", "--id=@e%d" % i, "create", "ACL_entry"]
        args += entry_spec(e).split()
    ids = ",".join("@e%d" % i for i in range(len(entries)))
    args += ["--", "--id=@a", "create", "ACL", "acl_name=%s" % name,
             "acl_entries=%s" % ids,
             "--", "set", "Physical_Port", "vm1", "acl_bindings:0=@a"]
    if old_name:
        args += ["--", "destroy", "ACL", run(
            "vtep-ctl", "--bare", "--columns=_uuid", "find", "ACL",
            "acl_name=%s" % old_name)]
    uuids = run("vtep-ctl", *args).split()
    for e, uuid in zip(entries, uuids):
        e["uuid"] = uuid
    acl_uuid = run("vtep-ctl", "--bare", "--columns=_uuid", "find", "ACL",
                   "acl_name=%s" % name)

    in_force = None
    log = []
    failures = 0
    n_steps = rng.randint(3, 6)
    for step in range(n_steps + 1):
        if step:
            what = rng.choice(("add", "add", "break", "remove", "remove",
                               "change", "restart"))
            if what == "restart":
                how = rng.choice(("exit", "kill"))
                iovpd.restart(how)
                log.append("restart (%s)" % how)
            elif what in ("add", "break"):
                e = draw_entry(rng, what == "break")
                e["uuid"] = run("vtep-ctl", "--", "--id=@e", "create",
                                "ACL_entry", *entry_spec(e).split(),
                                "--", "add", "ACL", acl_uuid, "acl_entries",
                                "@e")
                entries.append(e)
                log.append("add %s" % entry_spec(e))
            elif what == "remove" and len(entries) > 1:
                e = rng.choice(entries)
                # Removing the bad entry is how a controller fixes an ACL.
                bad = [x for x in entries if x["invalid"]]
                if bad and rng.random() < 0.7:
                    e = rng.choice(bad)
                run("vtep-ctl", "remove", "ACL", acl_uuid, "acl_entries",
                    e["uuid"])
                entries.remove(e)
                log.append("remove %s" % entry_spec(e))
            else:
                e = rng.choice(entries)
                new = draw_entry(rng, False)
                for key in ("invalid", "protocol", "dport", "sport",
                            "permit"):
                    e[key] = new[key]
                run("vtep-ctl", "--", "clear", "ACL_entry", e["uuid"],
                    "protocol", "source_port_min", "source_port_max",
                    "dest_port_min", "dest_port_max", "tcp_flags",
                    "--", "set", "ACL_entry", e["uuid"],
                    *entry_spec(e).split())
                log.append("change to %s" % entry_spec(e))
        else:
            log.append("create %s" % "; ".join(entry_spec(e)
                                                for e in entries))

        invalid = any(e["invalid"] for e in entries)
        if not invalid:
            in_force = [dict(e) for e in entries]
        wrong = settle(checker, name, in_force, invalid)
        if wrong:
            failures += 1
            print("sequence %d (%s), after: %s" % (number, name,
                                                   " | ".join(log)))
            for w in wrong[:8]:
                if isinstance(w, str):
                    print("    %s" % w)
                else:
                    print("    %s: model %s, OVS %s"
                          % (probe_flow(w, checker.ports),
                             "permit" if model_verdict(in_force, w)
                             else "deny",
                             "deny" if model_verdict(in_force, w)
                             else "permit"))
            break
    return name, n_steps, failures


def main(argv):
    if len(argv) != 8:
        sys.stderr.write(__doc__)
        return 2
    seed, count, bridge, port1, port2, pidfile, start = argv[1:]
    rng = random.Random(int(seed))
    checker = Checker(bridge, {"vm1": port1, "vm2": port2})
    iovpd = Iovpd(pidfile, start)
    name = None
    steps = failures = 0
    for number in range(int(count)):
        name, n, f = run_sequence(rng, number, checker, iovpd, name)
        steps += n
        failures += f
    print("%s sequences, %d steps, %d disagreements"
          % (count, steps, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
