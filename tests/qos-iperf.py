#! /usr/bin/env python3
"""qos-iperf.py: one iperf3 run between two network namespaces, for the QoS
tests: prints the rate that the receiver measured, in kbit/s.

    qos-iperf.py CLIENT-NS SERVER-NS SERVER-ADDR tcp|udp SECONDS [UDP-RATE]

The server (iperf3 -s -1) runs in SERVER-NS for this one run; the client
sends from CLIENT-NS for SECONDS, over TCP or over UDP at UDP-RATE (an
iperf3 -b value, default 20M) in 1,400-byte datagrams."""

import json
import subprocess
import sys
import time


def main():
    client_ns, server_ns, addr, proto, seconds = sys.argv[1:6]
    udp_rate = sys.argv[6] if len(sys.argv) > 6 else '20M'

    server = subprocess.Popen(['ip', 'netns', 'exec', server_ns,
                               'iperf3', '-s', '-1', '-J'],
                              stdout=subprocess.PIPE, text=True)
    argv = ['ip', 'netns', 'exec', client_ns, 'iperf3', '-c', addr,
            '-t', seconds, '-J']
    if proto == 'udp':
        argv += ['-u', '-b', udp_rate, '-l', '1400']
    for _ in range(100):
        listening = subprocess.run(['ip', 'netns', 'exec', server_ns, 'ss',
                                    '-Hltn', 'sport', '=', ':5201'],
                                   capture_output=True, text=True).stdout
        if listening.strip():
            break
        time.sleep(0.05)
    client = subprocess.run(argv, capture_output=True, text=True)
    try:
        out, _ = server.communicate(timeout=int(seconds) + 30)
    except subprocess.TimeoutExpired:
        server.kill()
        out, _ = server.communicate()
    if client.returncode:
        sys.exit('iperf3 client: %s' % (client.stdout + client.stderr)[-500:])

    try:
        end = json.loads(out)['end']
    except ValueError:
        sys.exit('iperf3 server: %r; client: %s'
                 % (out[-500:], (client.stdout + client.stderr)[-1500:]))
    print('%d' % (end['sum_received']['bits_per_second'] / 1000))


if __name__ == '__main__':
    main()
