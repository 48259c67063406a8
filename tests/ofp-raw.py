#! /usr/bin/env python3
"""ofp-raw.py SOCKET HEX...

Connects to the OpenFlow switch listening on Unix socket SOCKET, says hello
in OpenFlow 1.3, sends each HEX (an OpenFlow message in hexadecimal, as it
is, malformed or not), and prints in hexadecimal, one a line, each message
the switch sends back within 2 s but its hello: for tests of what a switch
answers to bad input ("ovs-ofctl ofp-print" decodes each line)."""

import binascii
import socket
import struct
import sys
import time


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        sys.exit(1)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.sendall(binascii.unhexlify("0400000800000001"))
    for h in sys.argv[2:]:
        s.sendall(binascii.unhexlify(h.replace(" ", "")))

    received = b''
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            buf = s.recv(65536)
        except socket.timeout:
            break
        if not buf:
            break
        received += buf
    while len(received) >= 8:
        length = struct.unpack("!H", received[2:4])[0]
        if length < 8 or length > len(received):
            break
        msg, received = received[:length], received[length:]
        if msg[1] != 0:         # OFPT_HELLO
            print(binascii.hexlify(msg).decode())


main()
