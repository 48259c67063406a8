"""The OVSDB client that the benchmarks use to fill and query a database:
one JSON-RPC "transact" over a Unix socket, checked."""

import json
import socket
import sys


def transact(sock_path, params):
    """Sends the transaction 'params' (the database's name, then the
    operations) to the server at 'sock_path' and checks that every operation
    succeeded; returns their results.  Exits on failure."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall(json.dumps({'method': 'transact', 'params': params,
                          'id': 0}).encode())
    decoder = json.JSONDecoder()
    buf = ''
    while True:
        data = s.recv(1 << 20)
        if not data:
            sys.exit('ovsdb-server closed the connection')
        buf += data.decode()
        try:
            reply, _ = decoder.raw_decode(buf)
            break
        except ValueError:
            continue
    s.close()
    if reply.get('error') or any('error' in r for r in reply['result']):
        sys.exit('transaction failed: %s' % json.dumps(reply)[:500])
    return reply['result']
