#! /usr/bin/env python3
"""offload-cost.py [--smoke] [--packets=N] [--rate=PPS] [--mode=MODE]
                 [--builddir=DIR]

Benchmark: what the fast path costs, and what it saves the host.

  - The xdp program's cost per frame: BPF_PROG_TEST_RUN of the program
    iovpd attaches, with 1, 8 and 32 tuples, each with a bucket of 1, 4
    and 8 entries that the frame finds (bench/offload-cost prog), for a
    frame no entry matches (every tuple looked up, every entry of each
    bucket checked) and one that an entry matches.
  - Host CPU per delivered packet of one VM-to-VM UDP stream (N datagrams
    of 64 bytes, default 1,000,000; 3,000 with --smoke, sent at PPS a
    second, default 100,000, a rate OVS's userspace datapath keeps up with
    here), through OVS's
    userspace datapath (iovpd --offload=none) and through the NIC path
    (iovpd --offload=xdp:mode=MODE, native by default: the program redirects
    each datagram
    from vm1's port straight to vm2's), in one run.  CPU is the CPU time of
    every process plus softirq time (see cpu_seconds()) while the stream
    runs, less what the machine used in the 2 s before it with no stream;
    delivered is vm2's eth0 rx_packets.
    The program runs on the host CPU here, so the ratio is a floor of what
    a NIC that runs it in hardware saves.  The VMs are namespaces, so their
    own stacks (the sender's and the receiver's) run on the host CPU too:
    the same stream between two namespaces joined by a veth pair, with no
    switch, measures that part, and the switching cost of each path is
    printed less it as well.

It runs its own ovsdb-server, ovs-vswitchd and iovpd in a temporary
directory and network namespaces of its own, and never fails on a figure:
the exit status says only whether the measurements could be made."""

import json
import os
import subprocess
import sys
import time

from sandbox import Sandbox, options, sh, wait

VMS = (('vm1', '10.0.0.1', '02:00:00:00:00:01'),
       ('vm2', '10.0.0.2', '02:00:00:00:00:02'))


def cpu_seconds():
    """The CPU time of every process (what each has run, kernel threads
    such as ksoftirqd included, and the children this script waited for,
    the senders among them) plus the softirq time /proc/stat counts apart.
    Per-process times, which the kernel keeps as each task's run time, are
    exact where /proc/stat's totals, sampled at each tick, miss the short
    bursts a packet stream is made of on this machine."""
    ticks = 0
    for pid in os.listdir('/proc'):
        if pid.isdigit():
            try:
                with open('/proc/%s/stat' % pid) as f:
                    fields = f.read().rsplit(')', 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass        # Gone meanwhile.
    own = os.times()
    with open('/proc/stat') as f:
        softirq = int(f.readline().split()[7])
    hz = os.sysconf('SC_CLK_TCK')
    return (ticks + softirq) / hz + own.children_user + own.children_system


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
                    ['ethtool', '-K', 'eth0', 'tx', 'off'],
                    # Native XDP redirect into a veth needs GRO (or an XDP
                    # program) on the receiving end.
                    ['ethtool', '-K', 'eth0', 'gro', 'on']):
            sh('ip', 'netns', 'exec', ns, *cmd, stdout=subprocess.DEVNULL)
        self.box.ns_run('ip', 'link', 'set', name, 'up')
        self.box.ns_run('ethtool', '-K', name, 'tx', 'off',
                        stdout=subprocess.DEVNULL)
        self.box.run('ovs-vsctl', 'add-port', 'br-int', name, '--', 'set',
                     'interface', name, 'external_ids:iface-id=' + name,
                     'external_ids:attached-mac=' + mac)
        return ns

    def add_direct_pair(self):
        """Two namespaces joined by a veth pair, no switch between: what
        the senders' and receivers' own stacks cost."""
        names = ['%s-d%d' % (self.box.ns, i) for i in (1, 2)]
        for ns in names:
            sh('ip', 'netns', 'add', ns)
            self.names.append(ns)
        sh('ip', 'link', 'add', 'eth0', 'netns', names[0], 'type', 'veth',
           'peer', 'name', 'eth0', 'netns', names[1])
        for i, ns in enumerate(names):
            for cmd in (['ip', 'addr', 'add', '10.1.0.%d/24' % (i + 1),
                         'dev', 'eth0'],
                        ['ip', 'link', 'set', 'lo', 'up'],
                        ['ip', 'link', 'set', 'eth0', 'up'],
                        ['ethtool', '-K', 'eth0', 'tx', 'off'],
                        ['ethtool', '-K', 'eth0', 'gro', 'on']):
                sh('ip', 'netns', 'exec', ns, *cmd,
                   stdout=subprocess.DEVNULL)
        return names

    def delete(self):
        for ns in self.names:
            subprocess.run(['ip', 'netns', 'del', ns],
                           stderr=subprocess.DEVNULL)


def background():
    """The machine's CPU use with no stream, in CPU seconds a second."""
    cpu0, t0 = cpu_seconds(), time.monotonic()
    time.sleep(2)
    return (cpu_seconds() - cpu0) / (time.monotonic() - t0)


def stream(helper, src_ns, dst_ns, dst_ip, n, pps):
    """Sends 'n' datagrams from 'src_ns' to 'dst_ip' in 'dst_ns' at 'pps' a
    second; returns (delivered, CPU seconds above the background)."""
    idle = background()
    rx0 = rx_packets(dst_ns)
    cpu0, t0 = cpu_seconds(), time.monotonic()
    sh('ip', 'netns', 'exec', src_ns, helper, 'send', dst_ip, '9', str(n),
       str(pps), stdout=subprocess.DEVNULL)
    last, stable = rx_packets(dst_ns), 0
    while stable < 5:
        time.sleep(0.1)
        now = rx_packets(dst_ns)
        stable = stable + 1 if now == last else 0
        last = now
    elapsed = time.monotonic() - t0
    busy = cpu_seconds() - cpu0
    if os.environ.get('IOVP_BENCH_DEBUG'):
        print('  (debug: busy %.2f s over %.2f s, background %.3f/s)'
              % (busy, elapsed, idle))
    return last - rx0, max(busy - idle * elapsed, 0)


def main():
    args = options()
    smoke = 'smoke' in args
    n = int(args.get('packets', 3000 if smoke else 1000000))
    pps = int(args.get('rate', 100000))
    mode = args.get('mode', 'native')
    builddir = os.path.abspath(args.get(
        'builddir', os.path.join(os.path.dirname(__file__), '..')))
    helper = os.path.join(builddir, 'bench', 'offload-cost')

    box = Sandbox(builddir, ['--offload=none'])
    vms = Vms(box)
    receivers = []
    try:
        box.start()
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
        direct = vms.add_direct_pair()
        receivers = [subprocess.Popen(
            ['ip', 'netns', 'exec', ns, 'python3', '-c',
             'import socket, time; s = socket.socket(socket.AF_INET, '
             'socket.SOCK_DGRAM); s.bind(("%s", 9)); time.sleep(3600)' % ip])
            for ns, ip in ((vm_ns['vm2'], '10.0.0.2'),
                           (direct[1], '10.1.0.2'))]
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
            print('  %2s tuples, buckets of %s (%3s entries), %-4s: %s ns'
                  % (f['tuples'], f['bucket'], f['entries'], f['frame'],
                     f['ns_per_frame']))

        # No switch at all: the cost of the stacks at both ends.
        sh('ip', 'netns', 'exec', direct[0], 'ping', '-c', '1', '-W', '2',
           '10.1.0.2', stdout=subprocess.DEVNULL)
        direct_delivered, direct_cpu = stream(helper, direct[0], direct[1],
                                              '10.1.0.2', n, pps)

        # Through OVS.
        sh('ip', 'netns', 'exec', vm_ns['vm1'], 'ping', '-c', '1', '-W',
           '2', '10.0.0.2', stdout=subprocess.DEVNULL)
        ovs_delivered, ovs_cpu = stream(helper, vm_ns['vm1'], vm_ns['vm2'], '10.0.0.2', n, pps)

        # Through the NIC path.
        box.stop_iovpd()
        box.iovpd_args = ['--offload=xdp:mode=' + mode]
        box.start_iovpd()
        def has_fast_path():
            try:
                return 'forward' in json.dumps(box.ctl(
                    'iovpd', json_output=True).call('offload/show', 'vm1'))
            except RuntimeError:
                return False    # Not planned yet.
        wait(has_fast_path, 30, 'vm1\'s fast path')
        nic_delivered, nic_cpu = stream(helper, vm_ns['vm1'], vm_ns['vm2'], '10.0.0.2', n, pps)
        time.sleep(6)       # iovpd reads the NIC's counters every 5 s.
        show = box.ctl('iovpd', json_output=True).call('offload/show',
                                                       'vm1')

        print('VM-to-VM UDP stream, %d datagrams of 64 bytes at %d a second:'
              % (n, pps))
        ovs_us = ovs_cpu / max(ovs_delivered, 1) * 1e6
        nic_us = nic_cpu / max(nic_delivered, 1) * 1e6
        print('  through OVS:      %7d delivered, %6.2f s CPU, %6.2f us '
              'CPU per delivered packet' % (ovs_delivered, ovs_cpu, ovs_us))
        print('  through the NIC:  %7d delivered, %6.2f s CPU, %6.2f us '
              'CPU per delivered packet (%d decided in the NIC, XDP %s '
              'mode)' % (nic_delivered, nic_cpu, nic_us,
                         show['ports']['vm1']['decided'], mode))
        direct_us = direct_cpu / max(direct_delivered, 1) * 1e6
        print('  no switch (a veth pair): %7d delivered, %6.2f s CPU, %6.2f '
              'us CPU per delivered packet' % (direct_delivered, direct_cpu,
                                                direct_us))
        print('  ratio OVS/NIC: %.1f (goal: at least 5)'
              % (ovs_us / nic_us if nic_us else 0))
        ovs_sw, nic_sw = ovs_us - direct_us, nic_us - direct_us
        print('  switching alone (less the no-switch cost): OVS %.2f us, '
              'NIC %.2f us, ratio %s'
              % (ovs_sw, nic_sw, '%.1f' % (ovs_sw / nic_sw)
                 if nic_sw > 0.01 else 'over 100'))
    finally:
        for r in receivers:
            r.kill()
        box.stop()
        vms.delete()


if __name__ == '__main__':
    main()
