#! /usr/bin/env python3
"""frag.py: fragmented datagrams for the tests of fragments and ACLs, made
by hand as an attacker makes them (RFC 1858, RFC 3128), and a watcher of
what arrives.

  frag.py send IFACE KIND SRC-MAC DST-MAC SRC-IP DST-IP DPORT IP-ID
      Sends, with scapy, on IFACE the fragments of one datagram from
      SRC-IP to DST-IP (both IPv4 or both IPv6) port DPORT, with IP-ID as
      its identification.  KIND:

        tiny8, tiny16  a TCP SYN whose first fragment holds only the first
                       8 or 16 bytes of its TCP header (not the flags, or
                       not all of the header), the rest in the second;
        overlap-port   a TCP SYN to port 80 in a first fragment of 24
                       bytes, then a second first fragment of 8 bytes that
                       rewrites the destination port to DPORT, then the
                       rest;
        overlap-flags  a TCP ACK to DPORT of 3,000 bytes in fragments of
                       1,232 (long enough for any reassembly's minimum),
                       then a fragment at offset 8 that overlaps the first
                       to rewrite its flags to SYN;
        order          a TCP SYN of 3,000 bytes to DPORT in fragments of
                       1,232, sent last first;
        udp            a UDP datagram of 4,000 bytes to DPORT in fragments
                       of 1,232, sent last first.

  frag.py sniff IFACE SRC-IP IP-ID SECONDS READY-FILE
      Creates READY-FILE once it listens on IFACE (a packet socket), then
      for SECONDS prints a line for each fragment of datagram IP-ID from
      SRC-IP that arrives: "offset N, M bytes[, more]" (N and M in bytes of
      the fragmentable part), and "whole, M bytes" for the datagram
      unfragmented; "nothing" if none came.

  frag.py udp-listen ADDR PORT SECONDS READY-FILE
      Creates READY-FILE once its UDP socket on ADDR:PORT listens, then
      prints "received N bytes" for each datagram that arrives within
      SECONDS, or "nothing"."""

import ipaddress
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
CHUNK = 1232                    # A multiple of 8; 1,280 bytes with IPv6's.


def l4_bytes(v6, src, dst, l4):
    """The bytes of 'l4' (a scapy layer), checksummed over 'src' and
    'dst'."""
    from scapy.all import IP, IPv6

    ip = IPv6(src=src, dst=dst) if v6 else IP(src=src, dst=dst)
    return bytes(ip / l4)[40 if v6 else 20:]


def fragment(v6, src, dst, proto, ip_id, offset, data, more):
    """One fragment at byte 'offset' (a multiple of 8) holding 'data'."""
    from scapy.all import IP, IPv6, IPv6ExtHdrFragment, Raw

    if v6:
        return (IPv6(src=src, dst=dst)
                / IPv6ExtHdrFragment(nh=proto, offset=offset // 8,
                                     m=int(more), id=ip_id)
                / Raw(data))
    return IP(src=src, dst=dst, proto=proto, id=ip_id,
              flags="MF" if more else 0, frag=offset // 8) / Raw(data)


def split(v6, src, dst, proto, ip_id, data, size):
    """'data' in fragments of 'size' bytes, in order."""
    frags = []
    for offset in range(0, len(data), size):
        more = offset + size < len(data)
        frags.append(fragment(v6, src, dst, proto, ip_id, offset,
                              data[offset:offset + size], more))
    return frags


def send(iface, kind, src_mac, dst_mac, src, dst, dport, ip_id):
    from scapy.all import Ether, TCP, UDP, sendp

    v6 = ipaddress.ip_address(src).version == 6
    dport = int(dport)
    ip_id = int(ip_id)

    def syn(port, payload=b"", flags="S"):
        return l4_bytes(v6, src, dst,
                        TCP(sport=40000, dport=port, flags=flags, seq=1000,
                            window=8192) / payload)

    if kind in ("tiny8", "tiny16"):
        data = syn(dport, b"x" * 16)
        n = 8 if kind == "tiny8" else 16
        frags = [fragment(v6, src, dst, 6, ip_id, 0, data[:n], True),
                 fragment(v6, src, dst, 6, ip_id, n, data[n:], False)]
    elif kind == "overlap-port":
        real = syn(dport, b"x" * 16)
        decoy = syn(80, b"x" * 16)
        frags = [fragment(v6, src, dst, 6, ip_id, 0, decoy[:24], True),
                 fragment(v6, src, dst, 6, ip_id, 0, real[:8], True),
                 fragment(v6, src, dst, 6, ip_id, 24, real[24:], False)]
    elif kind == "overlap-flags":
        ack = syn(dport, b"y" * 3000, flags="A")
        rewritten = syn(dport, b"y" * 3000, flags="S")
        frags = split(v6, src, dst, 6, ip_id, ack, CHUNK)
        frags.insert(1, fragment(v6, src, dst, 6, ip_id, 8,
                                 rewritten[8:8 + CHUNK], True))
    elif kind == "order":
        frags = split(v6, src, dst, 6, ip_id, syn(dport, b"z" * 3000),
                      CHUNK)[::-1]
    elif kind == "udp":
        data = l4_bytes(v6, src, dst,
                        UDP(sport=40000, dport=dport) / (b"u" * 4000))
        frags = split(v6, src, dst, 17, ip_id, data, CHUNK)[::-1]
    else:
        sys.stderr.write("%s: unknown kind\n" % kind)
        sys.exit(2)

    sendp([Ether(src=src_mac, dst=dst_mac) / f for f in frags], iface=iface,
          verbose=False)


def describe(frame, src, ip_id):
    """Returns what 'frame' is of datagram 'ip_id' from 'src', or None."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if ethertype == 0x0800 and len(ip) >= 20:
        if socket.inet_ntop(socket.AF_INET, ip[12:16]) != src:
            return None
        if struct.unpack("!H", ip[4:6])[0] != ip_id & 0xffff:
            return None
        ihl = (ip[0] & 0xf) * 4
        size = struct.unpack("!H", ip[2:4])[0] - ihl
        frag = struct.unpack("!H", ip[6:8])[0]
        offset, more = (frag & 0x1fff) * 8, bool(frag & 0x2000)
        if not offset and not more:
            return "whole, %d bytes" % size
    elif ethertype == 0x86dd and len(ip) >= 48:
        if ipaddress.ip_address(ip[8:24]) != ipaddress.ip_address(src):
            return None
        if ip[6] != 44:
            return None
        if struct.unpack("!I", ip[44:48])[0] != ip_id:
            return None
        size = struct.unpack("!H", ip[4:6])[0] - 8
        frag = struct.unpack("!H", ip[42:44])[0]
        offset, more = frag & 0xfff8, bool(frag & 1)
    else:
        return None
    return "offset %d, %d bytes%s" % (offset, size, ", more" if more else "")


def sniff(iface, src, ip_id, seconds, ready):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    open(ready, "w").close()
    seen = []
    deadline = time.time() + float(seconds)
    while True:
        left = deadline - time.time()
        if left <= 0:
            break
        if not select.select([s], [], [], left)[0]:
            continue
        frame, addr = s.recvfrom(65535)
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        what = describe(frame, src, int(ip_id))
        if what:
            seen.append(what)
    print("\n".join(sorted(seen)) if seen else "nothing")


def udp_listen(addr, port, seconds, ready):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    open(ready, "w").close()
    got = False
    deadline = time.time() + float(seconds)
    while True:
        left = deadline - time.time()
        if left <= 0:
            break
        if select.select([s], [], [], left)[0]:
            print("received %d bytes" % len(s.recv(65535)))
            sys.stdout.flush()
            got = True
    if not got:
        print("nothing")


def main():
    commands = {"send": (send, 8), "sniff": (sniff, 5),
                "udp-listen": (udp_listen, 4)}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.stderr.write(__doc__)
        sys.exit(2)
    function, n_args = commands[sys.argv[1]]
    if len(sys.argv) != 2 + n_args:
        sys.stderr.write(__doc__)
        sys.exit(2)
    function(*sys.argv[2:])


if __name__ == "__main__":
    main()
