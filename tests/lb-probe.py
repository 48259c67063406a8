#! /usr/bin/env python3
"""lb-probe.py: the backends and clients of the load-balancing tests.

    lb-probe.py serve NAME tcp|udp PORT READY-FILE
        Serves on PORT: over TCP, each connection gets "NAME\\n" and then
        its lines echoed; over UDP, each datagram is answered "NAME".
        Creates READY-FILE once it listens.

    lb-probe.py count ADDR PORT N tcp|udp
        Makes N short connections (or sends N datagrams, each from a
        socket of its own) to ADDR:PORT and prints how many each backend
        answered, as "NAME COUNT" lines by name, and "none COUNT" for those
        that got no answer.

    lb-probe.py hold ADDR PORT K DIR
        Opens K TCP connections to ADDR:PORT and writes the backend of
        each to DIR/names (one a line), then every 0.2 s sends a line on
        each and waits up to 2 s for its echo, until DIR/stop exists,
        and once more after that; then writes "NAME alive" or "NAME
        dead" for each connection, in order, to DIR/result."""

import os
import socket
import sys
import threading
import time


def serve(name, proto, port, ready):
    if proto == 'udp':
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(('0.0.0.0', port))
        open(ready, 'w').close()
        while True:
            _, peer = s.recvfrom(2048)
            s.sendto(name.encode(), peer)

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', port))
    s.listen(128)
    open(ready, 'w').close()

    def echo(conn):
        try:
            conn.sendall(('%s\n' % name).encode())
            while True:
                data = conn.recv(4096)
                if not data:
                    break
                conn.sendall(data)
        except OSError:
            pass
        conn.close()

    while True:
        conn, _ = s.accept()
        threading.Thread(target=echo, args=(conn,), daemon=True).start()


def read_line(s):
    data = b''
    while not data.endswith(b'\n'):
        chunk = s.recv(4096)
        if not chunk:
            raise OSError('closed')
        data += chunk
    return data.decode().strip()


def count(addr, port, n, proto):
    counts = {}
    for _ in range(n):
        try:
            if proto == 'tcp':
                s = socket.create_connection((addr, port), timeout=2)
                name = read_line(s)
            else:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.settimeout(2)
                s.sendto(b'hello', (addr, port))
                name = s.recv(2048).decode()
            s.close()
        except OSError:
            name = 'none'
        counts[name] = counts.get(name, 0) + 1
    for name in sorted(counts):
        print(name, counts[name])


def hold(addr, port, k, d):
    conns = []
    for _ in range(k):
        s = socket.create_connection((addr, port), timeout=2)
        conns.append([s, read_line(s), True])
    with open(os.path.join(d, 'names.tmp'), 'w') as f:
        for c in conns:
            f.write(c[1] + '\n')
    os.rename(os.path.join(d, 'names.tmp'), os.path.join(d, 'names'))
    def probe():
        for c in conns:
            if not c[2]:
                continue
            try:
                c[0].sendall(b'x\n')
                if read_line(c[0]) != 'x':
                    c[2] = False
            except OSError:
                c[2] = False

    while not os.path.exists(os.path.join(d, 'stop')):
        probe()
        time.sleep(0.2)
    probe()     # Each connection once more, all after the stop.
    with open(os.path.join(d, 'result'), 'w') as f:
        for c in conns:
            f.write('%s %s\n' % (c[1], 'alive' if c[2] else 'dead'))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == 'serve':
        serve(args[0], args[1], int(args[2]), args[3])
    elif cmd == 'count':
        count(args[0], int(args[1]), int(args[2]), args[3])
    elif cmd == 'hold':
        hold(args[0], int(args[1]), int(args[2]), args[3])
    else:
        sys.exit('lb-probe.py: unknown command %s' % cmd)


if __name__ == '__main__':
    main()
