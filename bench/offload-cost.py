#! /usr/bin/env python3
"""offload-cost.py [--smoke] [--packets=N] [--rate=PPS] [--builddir=DIR]

Benchmark: what the fast path costs, and what it saves the host.

  - The xdp program's cost per frame: BPF_PROG_TEST_RUN of the program
    iovpd attaches, with 1, 8 and 32 masks (bench/offload-cost prog), for a
    frame no entry matches (every mask looked up) and one that an entry
    matches.
  - Host CPU per delivered packet of one VM-to-VM UDP stream (N datagrams
    of 64 bytes, default 300,000; 3,000 with --smoke, sent at PPS a second,
    default 20,000, a rate OVS's userspace datapath keeps up with), through
    OVS's
    userspace datapath (iovpd --offload=none) and through the NIC path
    (iovpd --offload=xdp:mode=generic: the program redirects each datagram
    from vm1's port straight to vm2's), in one run.  CPU is all of the
    machine's non-idle time from /proc/stat (every process, softirq
    included) while the stream runs, less what the machine used in the 2 s
    before it with no stream; delivered is vm2's eth0 rx_packets.
    The program runs on the host CPU here, so the ratio is a floor of what
    a NIC that runs it in hardware saves.

It runs its own ovsdb-server, ovs-vswitchd and iovpd in a temporary
directory and network namespaces of its own, and never fails on a figure:
the exit status says only whether the measurements could be made."""

import json
import os
import subprocess
import sys
import time

from sandbox import Sandbox, sh, wait

VMS = (('vm1', '10.0.0.1', '02:00:00:00:00:01'),
       ('vm2', '10.0.0.2', '02:00:00:00:00:02'))


def cpu_busy_seconds():
    with open('/proc/stat') as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq = fields[:7]
    steal = fields[7] if len(fields) > 7 else 0
    return (user + nice + system + irq + softirq + steal) \
        / os.sysconf('SC_CLK_TCK')


def rx_packets(ns):
    out = subprocess.run(['ip', 'netns', 'exec', ns, 'cat',
                          '/sys/class/net/eth0/statistics/rx_packets'],
                         check=True, capture_output=True, text=True).stdout
    return int(out)


class Vms:
    def __init__(self, box):
        self.box = box
        self.names = []

    def add(self, name, ip, mac):
        ns = '%s-%s' % (self.box.ns, name)
        sh('ip', 'netns', 'add', ns)
        self.names.append(ns)
        self.box.ns_run('ip', 'link', 'add', name, 'type', 'veth', 'peer',
                        'name', 'eth0', 'netns', ns)
        for cmd in (['ip', 'link', 'set', 'eth0', 'address', mac],
                    ['ip', 'addr', 'add', ip + '/24', 'dev', 'eth0'],
                    ['ip', 'link', 'set', 'lo', 'up'],
                    ['ip', 'link', 'set', 'eth0', 'up'],
                    ['ethtool', '-K', 'eth0', 'tx', 'off']):
            sh('ip', 'netns', 'exec', ns, *cmd, stdout=subprocess.DEVNULL)
        self.box.ns_run('ip', 'link', 'set', name, 'up')
        self.box.ns_run('ethtool', '-K', name, 'tx', 'off',
                        stdout=subprocess.DEVNULL)
        self.box.run('ovs-vsctl', 'add-port', 'br-int', name, '--', 'set',
                     'interface', name, 'external_ids:iface-id=' + name,
                     'external_ids:attached-mac=' + mac)
        return ns

    def delete(self):
        for ns in self.names:
            subprocess.run(['ip', 'netns', 'del', ns],
                           stderr=subprocess.DEVNULL)


def background():
    """The machine's CPU use with no stream, in CPU seconds a second."""
    cpu0, t0 = cpu_busy_seconds(), time.monotonic()
    time.sleep(2)
    return (cpu_busy_seconds() - cpu0) / (time.monotonic() - t0)


def stream(box, helper, vm_ns, n, pps):
    """Sends 'n' datagrams from vm1 to vm2 at 'pps' a second; returns
    (delivered, CPU seconds above the background)."""
    idle = background()
    rx0 = rx_packets(vm_ns['vm2'])
    cpu0, t0 = cpu_busy_seconds(), time.monotonic()
    sh('ip', 'netns', 'exec', vm_ns['vm1'], helper, 'send', '10.0.0.2',
       '9', str(n), str(pps), stdout=subprocess.DEVNULL)
    last, stable = rx_packets(vm_ns['vm2']), 0
    while stable < 5:
        time.sleep(0.1)
        now = rx_packets(vm_ns['vm2'])
        stable = stable + 1 if now == last else 0
        last = now
    elapsed = time.monotonic() - t0
    return last - rx0, max(cpu_busy_seconds() - cpu0 - idle * elapsed, 0)


def main():
    args = dict(a[2:].split('=', 1) if '=' in a else (a[2:], '1')
                for a in sys.argv[1:])
    smoke = 'smoke' in args
    n = int(args.get('packets', 3000 if smoke else 300000))
    pps = int(args.get('rate', 20000))
    builddir = os.path.abspath(args.get(
        'builddir', os.path.join(os.path.dirname(__file__), '..')))
    helper = os.path.join(builddir, 'bench', 'offload-cost')

    box = Sandbox(builddir, ['--offload=none'])
    vms = Vms(box)
    receiver = None
    try:
        box.start()
        wait(lambda: box.run('ovs-vsctl', 'br-exists', 'br-int',
                             check=False).returncode == 0, 10, 'br-int')
        vm_ns = {name: vms.add(name, ip, mac) for name, ip, mac in VMS}
        box.run('vtep-ctl', 'add-ls', 'ls1')
        wait(lambda: len(box.run('vtep-ctl', 'list-ports', 'bench',
                                 capture_output=True, text=True,
                                 check=False).stdout.split()) == 2,
             10, 'the ports in hardware_vtep')
        box.run('vtep-ctl', 'bind-ls', 'bench', 'vm1', '0', 'ls1', '--',
                'bind-ls', 'bench', 'vm2', '0', 'ls1')
        # No ARP during the stream; a socket on vm2 that takes (and, full,
        # drops) the datagrams, so that vm2 sends nothing back.
        sh('ip', 'netns', 'exec', vm_ns['vm1'], 'ip', 'neigh', 'replace',
           '10.0.0.2', 'lladdr', VMS[1][2], 'dev', 'eth0')
        receiver = subprocess.Popen(
            ['ip', 'netns', 'exec', vm_ns['vm2'], 'python3', '-c',
             'import socket, time; s = socket.socket(socket.AF_INET, '
             'socket.SOCK_DGRAM); s.bind(("10.0.0.2", 9)); time.sleep(3600)'])
        wait(lambda: 'reg7' in box.run('ovs-ofctl', '-O', 'OpenFlow15', 'dump-flows', 'br-int',
                                       'table=30', capture_output=True,
                                       text=True).stdout, 10, 'the flows')
        time.sleep(0.5)

        # The program's cost per frame.
        print('xdp program, ns per frame (BPF_PROG_TEST_RUN):')
        out = box.ns_run(helper, 'prog', 'vm1',
                         '100000' if smoke else '2000000',
                         capture_output=True, text=True).stdout
        for line in out.splitlines():
            f = dict(x.split('=') for x in line.split())
            print('  %2s masks (%4s entries), %-4s: %s ns'
                  % (f['masks'], f['entries'], f['frame'],
                     f['ns_per_frame']))

        # Through OVS.
        sh('ip', 'netns', 'exec', vm_ns['vm1'], 'ping', '-c', '1', '-W',
           '2', '10.0.0.2', stdout=subprocess.DEVNULL)
        ovs_delivered, ovs_cpu = stream(box, helper, vm_ns, n, pps)

        # Through the NIC path.
        box.stop_iovpd()
        box.iovpd_args = ['--offload=xdp:mode=generic']
        box.start_iovpd()
        wait(lambda: 'forward' in json.dumps(box.ctl(
            'iovpd', json_output=True).call('offload/show', 'vm1')),
             30, 'vm1\'s fast path')
        nic_delivered, nic_cpu = stream(box, helper, vm_ns, n, pps)
        ctl = box.ctl('iovpd', json_output=True)
        show = wait(lambda: (lambda s: s['ports']['vm1']['decided'] and s)(
            ctl.call('offload/show', 'vm1')), 12, 'the NIC\'s counters')

        print('VM-to-VM UDP stream, %d datagrams of 64 bytes at %d a second:'
              % (n, pps))
        ovs_us = ovs_cpu / max(ovs_delivered, 1) * 1e6
        nic_us = nic_cpu / max(nic_delivered, 1) * 1e6
        print('  through OVS:      %7d delivered, %6.2f s CPU, %6.2f us '
              'CPU per delivered packet' % (ovs_delivered, ovs_cpu, ovs_us))
        print('  through the NIC:  %7d delivered, %6.2f s CPU, %6.2f us '
              'CPU per delivered packet (%d decided in the NIC)'
              % (nic_delivered, nic_cpu, nic_us,
                 show['ports']['vm1']['decided']))
        print('  ratio OVS/NIC: %.1f (goal: at least 5)'
              % (ovs_us / nic_us if nic_us else 0))
    finally:
        if receiver:
            receiver.kill()
        box.stop()
        vms.delete()


if __name__ == '__main__':
    main()
