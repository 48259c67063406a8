#! /usr/bin/env python3
"""ovsdb-proxy.py LISTEN SERVER

Relays every connection made to the Unix socket LISTEN to the Unix socket
SERVER (a real ovsdb-server) and back, unchanged, until told otherwise: when
a file named "inject" appears in the current directory, the proxy sends its
bytes, as they are, to the client of the newest connection, just after a
whole message from the server, and removes the file.  So a test makes a
real server's stream carry one bad message of its choosing.

It runs until it is killed."""

import os
import selectors
import socket
import sys


def main():
    listen_path, server_path = sys.argv[1], sys.argv[2]
    if os.path.exists(listen_path):
        os.unlink(listen_path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(listen_path)
    listener.listen(16)

    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ)
    peers = {}          # socket -> its other end
    newest = None       # The newest client socket.
    depth = {}          # server socket -> JSON nesting depth seen so far

    while True:
        for key, _ in sel.select(timeout=0.05):
            sock = key.fileobj
            if sock is listener:
                client, _ = listener.accept()
                server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    server.connect(server_path)
                except OSError:
                    client.close()
                    continue
                peers[client], peers[server] = server, client
                depth[server] = [0, False, False]
                sel.register(client, selectors.EVENT_READ)
                sel.register(server, selectors.EVENT_READ)
                newest = client
                continue

            try:
                data = sock.recv(65536)
            except OSError:
                data = b''
            other = peers.get(sock)
            if not data or other is None:
                for s in (sock, other):
                    if s is not None and s in peers:
                        sel.unregister(s)
                        peers.pop(s, None)
                        depth.pop(s, None)
                        s.close()
                continue
            try:
                other.sendall(data)
            except OSError:
                pass
            if sock in depth:
                track(depth[sock], data)

        # Inject only between two whole messages from the server.
        if os.path.exists('inject') and newest in peers:
            server = peers[newest]
            if depth.get(server, [0])[0] == 0:
                with open('inject', 'rb') as f:
                    payload = f.read()
                os.unlink('inject')
                try:
                    newest.sendall(payload)
                except OSError:
                    pass


def track(state, data):
    """Follows JSON nesting in 'data' so that the proxy knows when the
    server is between two messages.  'state' is [depth, in_string,
    escape]."""
    d, in_string, escape = state
    for c in data.decode('utf-8', 'replace'):
        if in_string:
            if escape:
                escape = False
            elif c == '\\':
                escape = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in '{[':
            d += 1
        elif c in '}]':
            d -= 1
    state[:] = [d, in_string, escape]


main()
