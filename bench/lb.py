#! /usr/bin/env python3
"""lb.py [--smoke] [--seconds=S] [--clients=C] [--builddir=DIR]

Benchmark: what a load balancer costs new connections.  Three VMs
(network namespaces on the integration bridge, userspace datapath) in one
logical switch: vm1 the client, vm2 and vm3 backends that accept TCP
connections on port 8080 and close them.  For S seconds (default 10; 2
with --smoke), C client threads in vm1 (default 8) open and close
connections as fast as they can:

  - to the VIP (a load balancer over vm2 and vm3: conntrack, NAT);
  - straight to vm2, the peer measured in the same run.

It prints the connections per second of each and their ratio, and the
memory that conntrack's entries take in ovs-vswitchd: its resident size
before and after the VIP's run over the entries that run left (each
closed connection stays in conntrack until it times out), per entry.
Never fails on a figure: the exit status says only whether the
measurements could be made."""

import subprocess
import sys

from sandbox import Sandbox, add_vm, options, transact, vm_ns, wait

VMS = (('vm1', '10.0.0.1', '02:00:00:00:00:01'),
       ('vm2', '10.0.0.2', '02:00:00:00:00:02'),
       ('vm3', '10.0.0.3', '02:00:00:00:00:03'))

SERVER = '''
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080))
s.listen(1024)
while True:
    s.accept()[0].close()
'''

CLIENT = '''
import socket, sys, threading, time
addr, port, seconds, n = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \\
    int(sys.argv[4])
counts = [0] * n
end = time.time() + seconds
def run(i):
    while time.time() < end:
        try:
            s = socket.create_connection((addr, port), timeout=2)
            s.recv(1)
            s.close()
            counts[i] += 1
        except OSError:
            pass
threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sum(counts))
'''


def uuid_of(box, table, name):
    return box.run('vtep-ctl', '--bare', '--columns=_uuid', 'find', table,
                   'name=' + name, capture_output=True,
                   text=True).stdout.strip()


def setup(box):
    box.start()
    for name, ip, mac in VMS:
        add_vm(box, name, ip, mac)
    wait(lambda: box.run('vtep-ctl', 'list-ports', 'bench', check=False,
                         capture_output=True, text=True).stdout.count('vm')
         == 3, 10, 'the Physical_Port rows')
    box.run('vtep-ctl', 'add-ls', 'ls1')
    for name, _, _ in VMS:
        box.run('vtep-ctl', 'bind-ls', 'bench', name, '0', 'ls1')
    servers = []
    for name in ('vm2', 'vm3'):
        servers.append(subprocess.Popen(
            ['ip', 'netns', 'exec', vm_ns(box, name), 'python3', '-c',
             SERVER], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    backends = []
    ops = []
    for i, name in enumerate(('vm2', 'vm3')):
        ops.append({'op': 'insert', 'table': 'Iovp_LB_Backend',
                    'uuid-name': 'b%d' % i,
                    'row': {'physical_port': [
                        'uuid', box.run('vtep-ctl', 'get', 'Physical_Port',
                                        name, '_uuid', capture_output=True,
                                        text=True).stdout.strip()],
                            'ip': '10.0.0.%d' % (i + 2), 'port': 8080}})
        backends.append(['named-uuid', 'b%d' % i])
    ops.append({'op': 'insert', 'table': 'Iovp_Load_Balancer',
                'row': {'name': 'web', 'vip': '10.0.0.100', 'port': 80,
                        'protocol': 'tcp',
                        'logical_switch': ['uuid', uuid_of(
                            box, 'Logical_Switch', 'ls1')],
                        'backends': ['set', backends]}})
    transact(box, *ops)
    wait(lambda: box.run('ovs-ofctl', '-O', 'OpenFlow15', 'dump-flows',
                         'br-int', 'table=27', capture_output=True,
                         text=True).stdout.count('nat(') == 2, 20,
         'the load balancer\'s flows')
    ping = ['ip', 'netns', 'exec', vm_ns(box, 'vm1'), 'ping', '-c', '1',
            '-W', '1', '10.0.0.2']
    wait(lambda: subprocess.run(ping, stdout=subprocess.DEVNULL).returncode
         == 0, 20, 'vm1 to reach vm2')
    return servers


def conntrack_entries(box):
    out = box.ns_run('ovs-appctl', '-t', box.ctl_path('ovs-vswitchd'),
                     'dpctl/dump-conntrack', capture_output=True,
                     text=True).stdout
    return sum(1 for line in out.splitlines() if line.strip())


def connections(box, addr, port, seconds, clients):
    out = subprocess.run(['ip', 'netns', 'exec', vm_ns(box, 'vm1'),
                          'python3', '-c', CLIENT, addr, str(port),
                          str(seconds), str(clients)],
                         capture_output=True, text=True, check=True).stdout
    return int(out) / seconds


def main():
    opts = options()
    smoke = bool(opts.get('smoke'))
    seconds = int(opts.get('seconds', 2 if smoke else 10))
    clients = int(opts.get('clients', 8))
    box = Sandbox(opts['builddir'])
    servers = []
    try:
        servers = setup(box)
        direct = connections(box, '10.0.0.2', 8080, seconds, clients)
        rss0, ct0 = box.rss_mb('ovs-vswitchd'), conntrack_entries(box)
        vip = connections(box, '10.0.0.100', 80, seconds, clients)
        rss1, ct1 = box.rss_mb('ovs-vswitchd'), conntrack_entries(box)
    finally:
        for s in servers:
            s.kill()
        for name, _, _ in VMS:
            subprocess.run(['ip', 'netns', 'del', vm_ns(box, name)],
                           stderr=subprocess.DEVNULL)
        box.stop()

    print('new TCP connections per second from vm1, %d threads, %d s, '
          'through OVS:' % (clients, seconds))
    print('  to the VIP (2 backends)   %8.0f/s' % vip)
    print('  straight to one backend   %8.0f/s   ratio %.2f'
          % (direct, vip / direct if direct else 0))
    entries = ct1 - ct0
    print('conntrack entries the VIP\'s run left: %d; ovs-vswitchd grew '
          '%.1f MB: %s bytes an entry'
          % (entries, rss1 - rss0,
             '%.0f' % ((rss1 - rss0) * 1048576 / entries) if entries > 0
             else '-'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
