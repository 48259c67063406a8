#! /usr/bin/env python3
"""raw-frame.py: sends and watches Ethernet frames on an interface through a
packet socket (AF_PACKET), for what a VM's own network stack cannot do on a
kernel without 802.1Q devices: frames tagged with a VLAN, and frames from an
address a host does not have yet.

  raw-frame.py arp IFACE VLAN SRC-MAC SRC-IP DST-IP [TIMEOUT]
      Sends an ARP request for DST-IP (tagged VLAN, or untagged if 0) and
      waits for the reply.  Prints "reply from MAC, VLAN N" (N is 0 for an
      untagged reply) and exits 0, or prints "no reply" and exits 1.

  raw-frame.py dhcp IFACE SRC-MAC
      Sends a DHCP discover from 0.0.0.0:68 to 255.255.255.255:67.

  raw-frame.py sniff IFACE WHAT TIMEOUT READY-FILE
      Creates READY-FILE once it listens, then waits for a frame and prints
      "VLAN N" (0: untagged) for the first that matches WHAT, exiting 0, or
      prints "nothing" and exits 1.  WHAT is "arp-request:IP" (an ARP
      request for IP) or "dhcp-discover".

The kernel takes a received frame's tag out of the frame (into the
packet's metadata) before a packet socket sees it; the socket reads it back
from PACKET_AUXDATA."""

import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_8021Q = 0x8100
ETH_P_ARP = 0x0806
ETH_P_IP = 0x0800

SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def mac_text(b):
    return ":".join("%02x" % x for x in b)


def ethernet(dst, src, vlan, ethertype, payload):
    header = dst + src
    if vlan:
        header += struct.pack("!HH", ETH_P_8021Q, vlan)
    frame = header + struct.pack("!H", ethertype) + payload
    return frame + bytes(max(0, 60 - len(frame)))


def parse(frame):
    """Returns (vlan, ethertype, payload) of 'frame'."""
    vlan = 0
    ethertype, = struct.unpack("!H", frame[12:14])
    payload = frame[14:]
    if ethertype == ETH_P_8021Q:
        tci, ethertype = struct.unpack("!HH", frame[14:18])
        vlan = tci & 0xfff
        payload = frame[18:]
    return vlan, ethertype, payload


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def open_socket(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((iface, 0))
    return s


def receive(s, deadline, match):
    """Returns the first frame received before 'deadline' for which
    match(vlan, ethertype, payload) returns a true value, as that value."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            return None
        frame, ancdata, _, addr = s.recvmsg(65535, socket.CMSG_LEN(64))
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        vlan, ethertype, payload = parse(frame)
        for level, kind, data in ancdata:
            if level == SOL_PACKET and kind == PACKET_AUXDATA:
                status, _, _, _, _, tci = struct.unpack("=IIIHHH",
                                                        data[:18])
                if status & TP_STATUS_VLAN_VALID:
                    vlan = tci & 0xfff
        result = match(vlan, ethertype, payload)
        if result:
            return result


def arp(iface, vlan, src_mac, src_ip, dst_ip, timeout=2.0):
    s = open_socket(iface)
    payload = struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, 1,
                          mac_bytes(src_mac), socket.inet_aton(src_ip),
                          bytes(6), socket.inet_aton(dst_ip))
    s.send(ethernet(b"\xff" * 6, mac_bytes(src_mac), int(vlan), ETH_P_ARP,
                    payload))

    def is_reply(vlan, ethertype, payload):
        if ethertype != ETH_P_ARP or len(payload) < 28:
            return None
        op, sha, spa = struct.unpack("!6xH6s4s", payload[:18])
        if op == 2 and spa == socket.inet_aton(dst_ip):
            return "reply from %s, VLAN %d" % (mac_text(sha), vlan)
        return None

    result = receive(s, time.monotonic() + float(timeout), is_reply)
    print(result or "no reply")
    return 0 if result else 1


def dhcp(iface, src_mac):
    s = open_socket(iface)
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128s4s", 1, 1, 6, 0,
                        0x1010, 0, 0x8000, bytes(4), bytes(4), bytes(4),
                        bytes(4), mac_bytes(src_mac), bytes(64), bytes(128),
                        b"\x63\x82\x53\x63")
    bootp += b"\x35\x01\x01\xff"        # Message type: discover; end.
    udp = struct.pack("!HHHH", 68, 67, 8 + len(bootp), 0) + bootp
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17,
                     0, bytes(4), b"\xff" * 4)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    s.send(ethernet(b"\xff" * 6, mac_bytes(src_mac), 0, ETH_P_IP, ip + udp))
    return 0


def sniff(iface, what, timeout, ready_file):
    s = open_socket(iface)
    open(ready_file, "w").close()

    def matches(vlan, ethertype, payload):
        if what.startswith("arp-request:") and ethertype == ETH_P_ARP:
            op, tpa = struct.unpack("!6xH16x4s", payload[:28])
            if op == 1 and tpa == socket.inet_aton(what.split(":")[1]):
                return "VLAN %d" % vlan
        elif what == "dhcp-discover" and ethertype == ETH_P_IP:
            proto = payload[9]
            ihl = (payload[0] & 0xf) * 4
            if proto == 17:
                sport, dport = struct.unpack("!HH", payload[ihl:ihl + 4])
                if (sport, dport) == (68, 67):
                    return "VLAN %d" % vlan
        return None

    result = receive(s, time.monotonic() + float(timeout), matches)
    print(result or "nothing")
    return 0 if result else 1


def main(argv):
    commands = {"arp": (arp, 5, 6), "dhcp": (dhcp, 2, 2),
                "sniff": (sniff, 4, 4)}
    if len(argv) < 2 or argv[1] not in commands:
        sys.stderr.write(__doc__)
        return 2
    func, min_args, max_args = commands[argv[1]]
    args = argv[2:]
    if not min_args <= len(args) <= max_args:
        sys.stderr.write(__doc__)
        return 2
    return func(*args)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
