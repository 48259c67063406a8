#! /usr/bin/env python3
"""acl-classbench.py: a ClassBench rule set as one hardware_vtep ACL, and a
differential check of its translation by packets.

  acl-classbench.py create RULES ACL
      Creates, with vtep-ctl, ACL called ACL with one ingress ACL_entry per
      rule of the ClassBench file RULES: line N (from 0) is the entry of
      sequence N + 1, which permits when N is even and denies when N is
      odd (so that neighbouring rules disagree), with the rule's addresses,
      port ranges and protocol (absent when the rule takes any).

  acl-classbench.py check RULES SEED COUNT BRIDGE IN-PORT SRC-MAC DST-MAC
      Draws COUNT packets with random seed SEED: most inside a random
      rule's ranges, the rest anywhere.  Each packet's fate by a plain
      first-match evaluation of the rules (no match permits) is compared
      with its fate in Open vSwitch ("ovs-appctl ofproto/trace BRIDGE"),
      the packet coming in on OpenFlow port IN-PORT from SRC-MAC to DST-MAC
      (a VM of the same logical switch).  Prints the number of packets and
      of disagreements, and each disagreement; exits 1 if there is one."""

import random
import subprocess
import sys


def parse_prefix(text):
    addr, length = text.split("/")
    value = 0
    for octet in addr.split("."):
        value = value * 256 + int(octet)
    length = int(length)
    mask = (0xffffffff << (32 - length)) & 0xffffffff if length else 0
    return value & mask, mask, addr, length


def parse_range(text):
    lo, hi = text.split(":")
    return int(lo), int(hi)


def read_rules(path):
    rules = []
    for line in open(path):
        fields = line.lstrip("@").rstrip("\n").split("\t")
        proto, proto_mask = (int(x, 16) for x in fields[4].split("/"))
        rules.append({
            "src": parse_prefix(fields[0]),
            "dst": parse_prefix(fields[1]),
            "sport": parse_range(fields[2]),
            "dport": parse_range(fields[3]),
            "proto": proto if proto_mask == 0xff else None,
        })
    return rules


def ip_text(value):
    return ".".join(str((value >> s) & 0xff) for s in (24, 16, 8, 0))


def mask_text(length):
    mask = (0xffffffff << (32 - length)) & 0xffffffff if length else 0
    return ip_text(mask)


def create(path, name):
    args = ["vtep-ctl"]
    ids = []
    for n, rule in enumerate(read_rules(path)):
        columns = ["sequence=%d" % (n + 1), "direction=ingress",
                   "action=%s" % ("permit" if n % 2 == 0 else "deny")]
        for column, prefix in (("source", rule["src"]),
                               ("dest", rule["dst"])):
            if prefix[3]:
                columns += ["%s_ip=%s" % (column, ip_text(prefix[0])),
                            "%s_mask=%s" % (column, mask_text(prefix[3]))]
        if rule["proto"] is not None:
            columns.append("protocol=%d" % rule["proto"])
        for column, (lo, hi) in (("source_port", rule["sport"]),
                                 ("dest_port", rule["dport"])):
            if (lo, hi) != (0, 65535):
                columns += ["%s_min=%d" % (column, lo),
                            "%s_max=%d" % (column, hi)]
        args += ["--", "--id=@e%d" % n, "create", "ACL_entry"] + columns
        ids.append("@e%d" % n)
    args += ["--", "create", "ACL", "acl_name=%s" % name,
             "acl_entries=%s" % ",".join(ids)]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return 0


def matches(rule, packet):
    src, dst, proto, sport, dport = packet
    if (src & rule["src"][1]) != rule["src"][0]:
        return False
    if (dst & rule["dst"][1]) != rule["dst"][0]:
        return False
    if rule["proto"] is not None and rule["proto"] != proto:
        return False
    if rule["sport"] != (0, 65535) or rule["dport"] != (0, 65535):
        if proto not in (6, 17):
            return False
        if not rule["sport"][0] <= sport <= rule["sport"][1]:
            return False
        if not rule["dport"][0] <= dport <= rule["dport"][1]:
            return False
    return True


def reference_fate(rules, packet):
    for n, rule in enumerate(rules):
        if matches(rule, packet):
            return ("permit" if n % 2 == 0 else "deny"), n + 1
    return "permit", None


def draw_packet(rules, rng):
    if rng.random() < 0.8:
        rule = rng.choice(rules)
        src = rule["src"][0] | (rng.getrandbits(32) & ~rule["src"][1])
        dst = rule["dst"][0] | (rng.getrandbits(32) & ~rule["dst"][1])
        proto = (rule["proto"] if rule["proto"] is not None
                 else rng.choice((6, 17, 1, 47)))
        sport = rng.randint(*rule["sport"])
        dport = rng.randint(*rule["dport"])
    else:
        src, dst = rng.getrandbits(32), rng.getrandbits(32)
        proto = rng.choice((6, 17, 1, 47))
        sport, dport = rng.randint(0, 65535), rng.randint(0, 65535)
    if proto not in (6, 17):
        sport = dport = 0
    return src & 0xffffffff, dst & 0xffffffff, proto, sport, dport


def flow_text(packet, in_port, src_mac, dst_mac):
    src, dst, proto, sport, dport = packet
    text = ("in_port=%s,dl_src=%s,dl_dst=%s,nw_src=%s,nw_dst=%s,nw_ttl=64"
            % (in_port, src_mac, dst_mac, ip_text(src), ip_text(dst)))
    if proto == 6:
        return "tcp,%s,tcp_src=%d,tcp_dst=%d" % (text, sport, dport)
    if proto == 17:
        return "udp,%s,udp_src=%d,udp_dst=%d" % (text, sport, dport)
    if proto == 1:
        return "icmp,%s,icmp_type=8,icmp_code=0" % text
    return "ip,%s,nw_proto=%d" % (text, proto)


def ovs_fate(bridge, flow):
    result = subprocess.run(["ovs-appctl", "ofproto/trace", bridge, flow],
                            capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError("ofproto/trace %s: %s" % (flow, result.stderr))
    out = result.stdout
    for line in out.splitlines():
        if line.startswith("Datapath actions:"):
            return "deny" if line.split(":", 1)[1].strip() == "drop" \
                else "permit"
    raise RuntimeError("no datapath actions in trace of %s" % flow)


def check(path, seed, count, bridge, in_port, src_mac, dst_mac):
    rules = read_rules(path)
    rng = random.Random(int(seed))
    disagreements = 0
    for _ in range(int(count)):
        packet = draw_packet(rules, rng)
        want, seq = reference_fate(rules, packet)
        flow = flow_text(packet, in_port, src_mac, dst_mac)
        got = ovs_fate(bridge, flow)
        if got != want:
            disagreements += 1
            print("%s: OVS %s, first match %s (sequence %s)"
                  % (flow, got, want, seq))
    print("%s packets, %d disagreements" % (count, disagreements))
    return 1 if disagreements else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "create":
        return create(argv[2], argv[3])
    if len(argv) == 9 and argv[1] == "check":
        return check(*argv[2:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
