#! /usr/bin/env python3
"""offload-cost.py [--smoke] [--packets=N] [--rate=PPS] [--mode=MODE]
                 [--builddir=DIR]

Benchmark: what the fast path costs, and what it saves the host.

  - The xdp program's cost per frame: BPF_PROG_TEST_RUN of the program
    iovpd attaches, with 1, 8 and 32 tuples, each with a bucket of 1, 4
    and 8 entries that the frame finds (bench/offload-cost prog), for a
    frame no entry matches (every tuple looked up, every entry of each
    bucket checked) and one that an entry matches.
  - Host CPU per delivered frame of one VM-to-VM stream (N frames, UDP
    with 64 bytes of payload, default 1,000,000; 3,000 with --smoke, sent
    at PPS a second, default 100,000, a rate OVS's userspace datapath
    keeps up with here), through OVS's userspace datapath (iovpd
    --offload=none) and through the NIC path (iovpd --offload=xdp:mode=MODE,
    native by default: the program redirects each frame from vm1's port
    straight to vm2's), in one run.

    The endpoints are made cheap, so that the VMs' own network stacks are
    not counted as the switch's cost: the sender writes whole frames to a
    packet socket that bypasses the qdisc (bench/offload-cost send), and
    the receiver is an XDP program on the VM's eth0 that drops every frame
    (bench/offload-cost sink); delivered is that eth0's rx_packets.

    Total: the machine's busy CPU time while the stream runs (every CPU's
    time less its idle and iowait time from /proc/stat, which a NO_HZ
    kernel measures at each idle entry and exit: /proc/stat's busy times,
    sampled at each tick, miss a stream's short bursts), less the busy time
    of the 2 s before it with no stream.  The same
    stream between two namespaces joined by a veth pair, with no switch,
    measures what the endpoints cost; the switching share of each path is
    its total less that.  Each stream runs 3 times: the figures are those
    of the run of median total.  The CPU time of the sender, ovs-vswitchd and
    iovpd (each process's run time, /proc/PID/stat) is printed beside, the
    rest being the kernel's work outside them (softirqs on idle CPUs,
    ksoftirqd, kworkers).

    The program runs on the host CPU here, so the NIC path's figure is an
    upper bound of what it costs with a NIC that runs it in hardware.

It runs its own ovsdb-server, ovs-vswitchd and iovpd in a temporary
directory and network namespaces of its own, and never fails on a figure:
the exit status says only whether the measurements could be made."""

import json
import os
import subprocess
import sys
import time

from sandbox import Sandbox, options, sh, wait

RUNS = 3

VMS = (('vm1', '10.0.0.1', '02:00:00:00:00:01'),
       ('vm2', '10.0.0.2', '02:00:00:00:00:02'))


class Busy:
    """The machine's busy CPU time from here on: every CPU's time less its
    idle and iowait time.  /proc/stat counts busy time by sampling, at each
    tick, what runs: a stream's short bursts mostly fall between ticks.
    Idle time a NO_HZ kernel measures exactly, at each idle entry and exit;
    busy time is the rest."""

    def __init__(self):
        self.idle0, self.t0 = self.idle(), time.monotonic()

    @staticmethod
    def idle():
        with open('/proc/stat') as f:
            lines = f.read().splitlines()
        fields = [int(x) for x in lines[0].split()[1:]]
        cpus = sum(1 for l in lines if l[:3] == 'cpu' and l[3:4].isdigit())
        return (fields[3] + fields[4]) / os.sysconf('SC_CLK_TCK'), cpus

    def seconds(self):
        """The busy CPU time since this was made, and the elapsed time."""
        (idle, cpus), elapsed = self.idle(), time.monotonic() - self.t0
        return max(elapsed * cpus - (idle - self.idle0[0]), 0), elapsed


def process_seconds(pid):
    """Process 'pid''s CPU time, all its threads, or 0 if it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
    except (OSError, IndexError, ValueError):
        return 0


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

    def add_direct_pair(self):
        """Two namespaces joined by a veth pair, no switch between: what
        the endpoints cost."""
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
                        ['ethtool', '-K', 'eth0', 'tx', 'off']):
                sh('ip', 'netns', 'exec', ns, *cmd,
                   stdout=subprocess.DEVNULL)
        return names

    def delete(self):
        for ns in self.names:
            subprocess.run(['ip', 'netns', 'del', ns],
                           stderr=subprocess.DEVNULL)


def background():
    """The machine's busy CPU time with no stream, in seconds a second."""
    busy = Busy()
    time.sleep(2)
    seconds, elapsed = busy.seconds()
    return seconds / elapsed


class Stream:
    """A stream of 'n' frames at 'pps' a second from eth0 in 'src_ns' to
    'dst_mac' and 'dst_ip' in 'dst_ns': what was delivered, and the CPU
    time it took, in total (above the background) and by process."""

    def __init__(self, helper, src_ns, dst_ns, dst_mac, dst_ip, n, pps,
                 daemons):
        idle = background()
        rx0 = rx_packets(dst_ns)
        own0 = os.times()
        procs0 = dict((name, process_seconds(pid))
                      for name, pid in daemons.items())
        busy = Busy()
        sh('ip', 'netns', 'exec', src_ns, helper, 'send', 'eth0', dst_mac,
           dst_ip, str(n), str(pps), stdout=subprocess.DEVNULL)
        last, stable = rx_packets(dst_ns), 0
        while stable < 5:
            time.sleep(0.1)
            now = rx_packets(dst_ns)
            stable = stable + 1 if now == last else 0
            last = now
        seconds, elapsed = busy.seconds()
        self.delivered = last - rx0
        self.cpu = max(seconds - idle * elapsed, 0)
        own = os.times()
        self.procs = {'sender': (own.children_user + own.children_system
                                 - own0.children_user
                                 - own0.children_system)}
        for name, pid in daemons.items():
            self.procs[name] = process_seconds(pid) - procs0[name]

    def us(self, seconds=None):
        """'seconds' (by default, the total) per delivered frame, in us."""
        return ((self.cpu if seconds is None else seconds)
                / max(self.delivered, 1) * 1e6)

    def line(self, what):
        rest = self.cpu - sum(self.procs.values())
        parts = ['%s %.2f' % (name, self.us(t))
                 for name, t in sorted(self.procs.items())]
        return ('  %-24s %8d delivered, %6.2f s CPU, %6.2f us per frame '
                '(%s, the rest %.2f)'
                % (what, self.delivered, self.cpu, self.us(), ', '.join(parts),
                   self.us(max(rest, 0))))


def median_stream(*args):
    """The run of median total CPU per frame of RUNS streams (Stream's
    arguments): the daemons' periodic work, which the background measured
    before each stream may catch or miss, makes single runs vary."""
    runs = sorted((Stream(*args) for _ in range(RUNS)), key=Stream.us)
    return runs[len(runs) // 2]


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
        direct = vms.add_direct_pair()
        direct_mac = sh('ip', 'netns', 'exec', direct[1], 'cat',
                        '/sys/class/net/eth0/address', capture_output=True,
                        text=True).stdout.strip()
        # The receivers: every frame dropped on arrival, nothing sent back.
        for ns in (vm_ns['vm2'], direct[1]):
            sh('ip', 'netns', 'exec', ns, helper, 'sink', 'eth0')
        wait(lambda: 'reg7' in box.run('ovs-ofctl', '-O', 'OpenFlow15',
                                       'dump-flows', 'br-int', 'table=30',
                                       capture_output=True,
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

        def daemons():
            return {'ovs-vswitchd': box.pid('ovs-vswitchd'),
                    'iovpd': box.pid('iovpd')}

        # No switch at all: what the endpoints cost.
        alone = median_stream(helper, direct[0], direct[1], direct_mac,
                              '10.1.0.2', n, pps, {})

        # Through OVS.
        ovs = median_stream(helper, vm_ns['vm1'], vm_ns['vm2'], VMS[1][2],
                            VMS[1][1], n, pps, daemons())

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
        nic = median_stream(helper, vm_ns['vm1'], vm_ns['vm2'], VMS[1][2],
                            VMS[1][1], n, pps, daemons())
        time.sleep(6)       # iovpd reads the NIC's counters every 5 s.
        show = box.ctl('iovpd', json_output=True).call('offload/show',
                                                       'vm1')

        print('VM-to-VM stream, %d frames (UDP, 64 bytes of payload) at %d '
              'a second, from a packet socket to an XDP drop:' % (n, pps))
        print('host CPU per delivered frame, in us (the machine\'s busy '
              'time less its background, the median of %d runs; by process '
              'beside):' % RUNS)
        print(alone.line('no switch (veth pair):'))
        print(ovs.line('through OVS:'))
        print(nic.line('through the NIC:'))
        print('  (%d of the %d frames of its %d runs decided in the NIC, '
              'XDP %s mode)' % (show['ports']['vm1']['decided'], n * RUNS,
                                RUNS, mode))
        print('  total, ratio OVS/NIC: %.1f (goal: at least 5)'
              % (ovs.us() / nic.us() if nic.us() else 0))
        ovs_sw, nic_sw = ovs.us() - alone.us(), nic.us() - alone.us()
        print('  switching share (total less the no-switch figure): OVS '
              '%.2f us, NIC %.2f us, ratio %s (goal: at least 5)'
              % (ovs_sw, nic_sw, '%.1f' % (ovs_sw / nic_sw)
                 if nic_sw > 0.01 else 'over 100'))
    finally:
        box.stop()
        vms.delete()


if __name__ == '__main__':
    main()
