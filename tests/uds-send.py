#! /usr/bin/env python3
"""uds-send.py SOCKET [--chunk=N] [--timeout=SECS]

Connects to the Unix socket SOCKET, sends what standard input holds (in
pieces of N bytes, N by default all of it), then prints what the server
sends back until it closes the connection ("<closed>" last) or SECS seconds
(default 5) pass without it doing so ("<open>" last).  For tests of how a
server treats malformed requests."""

import socket
import sys
import time


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    opts = dict(a[2:].split('=', 1) for a in sys.argv[1:]
                if a.startswith('--'))
    if len(args) != 1:
        sys.stderr.write(__doc__)
        sys.exit(1)
    chunk = int(opts.get('chunk', 0))
    timeout = float(opts.get('timeout', 5))

    data = sys.stdin.buffer.read()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(args[0])
    try:
        if chunk:
            for i in range(0, len(data), chunk):
                s.sendall(data[i:i + chunk])
                time.sleep(0.001)
        else:
            s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass

    received = b''
    deadline = time.monotonic() + timeout
    state = '<open>'
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            buf = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            state = '<closed>'
            break
        if not buf:
            state = '<closed>'
            break
        received += buf
    sys.stdout.write(received.decode('utf-8', 'replace'))
    if received:
        sys.stdout.write('\n')
    sys.stdout.write(state + '\n')


main()
