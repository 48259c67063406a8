#! /usr/bin/env python3
"""qos.py [--smoke] [--seconds=S] [--rates=R,...] [--builddir=DIR]

Benchmark: how well iovp's QoS holds a rate, and what it costs the host.
Two VMs (network namespaces on the integration bridge, userspace datapath)
in one logical switch; iperf3 from vm1 to vm2 for S seconds a run (default
10; 2 with --smoke) at each rate R in Mbit/s (default 1, 10 and 100; 10
with --smoke):

  - vm1 policed at R (Iovp_QoS police_rate: an OpenFlow meter on what it
    sends), TCP, and UDP offered at 2R;
  - vm2 limited on receive at R (receive_rate: a meter at output), TCP and
    UDP; against the peer measured in the same run, Open vSwitch's own
    linux-htb QoS on vm2's interface at R (a shaper in the kernel);
  - each with iovpd's XDP fast path on (--offload=xdp, generic mode), where
    a policed VM's frames go to OVS.

For each run it prints the rate the receiver got and its ratio to R, and
ovs-vswitchd's and iovpd's CPU time per datagram that vm1 sent in the UDP
runs (user plus system, from /proc), against the same UDP load with no
QoS.  Never fails on a figure: the exit status says only whether the
measurements could be made."""

import json
import os
import subprocess
import sys
import time

from sandbox import Sandbox, add_vm, options, transact, vm_ns, wait

VMS = (('vm1', '10.0.0.1', '02:00:00:00:00:01'),
       ('vm2', '10.0.0.2', '02:00:00:00:00:02'))


def set_qos(box, port, row):
    """Binds a QoS with the columns 'row' to the whole of 'port' (None:
    unbinds it)."""
    pp = box.run('vtep-ctl', 'get', 'Physical_Port', port, '_uuid',
                 capture_output=True, text=True).stdout.strip()
    transact(box, {'op': 'delete', 'table': 'Iovp_Port',
                   'where': [['physical_port', '==', ['uuid', pp]]]})
    if row is None:
        return
    transact(box,
             {'op': 'insert', 'table': 'Iovp_QoS', 'uuid-name': 'q',
              'row': dict(row, name='bench-%s' % port)},
             {'op': 'insert', 'table': 'Iovp_Port',
              'row': {'physical_port': ['uuid', pp],
                      'qos_bindings': ['map', [[0, ['named-uuid', 'q']]]]}})


def meters(box):
    return box.run('ovs-ofctl', '-O', 'OpenFlow15', 'dump-meters', 'br-int',
                   capture_output=True, text=True).stdout.count('meter=')


def setup(box):
    box.start()
    for name, ip, mac in VMS:
        add_vm(box, name, ip, mac)
    wait(lambda: box.run('vtep-ctl', 'list-ports', 'bench', check=False,
                         capture_output=True, text=True).stdout.count('vm')
         == 2, 10, 'the Physical_Port rows')
    box.run('vtep-ctl', 'add-ls', 'ls1', '--', 'bind-ls', 'bench', 'vm1',
            '0', 'ls1', '--', 'bind-ls', 'bench', 'vm2', '0', 'ls1')
    ping = ['ip', 'netns', 'exec', vm_ns(box, 'vm1'), 'ping', '-c', '1',
            '-W', '1', '10.0.0.2']
    wait(lambda: subprocess.run(ping, stdout=subprocess.DEVNULL).returncode
         == 0, 20, 'vm1 to reach vm2')


def cpu_seconds(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def iperf(box, seconds, udp_mbps=None):
    """Returns the receiver's rate in Mbit/s, the datagrams sent (UDP) and
    the CPU seconds of ovs-vswitchd and iovpd meanwhile."""
    server = subprocess.Popen(['ip', 'netns', 'exec', vm_ns(box, 'vm2'),
                               'iperf3', '-s', '-1', '-J'],
                              stdout=subprocess.PIPE, text=True)
    wait(lambda: subprocess.run(
        ['ip', 'netns', 'exec', vm_ns(box, 'vm2'), 'ss', '-Hltn', 'sport',
         '=', ':5201'], capture_output=True, text=True).stdout.strip(),
         10, 'iperf3 to listen')
    argv = ['ip', 'netns', 'exec', vm_ns(box, 'vm1'), 'iperf3', '-c',
            '10.0.0.2', '-t', str(seconds), '-J']
    if udp_mbps:
        argv += ['-u', '-b', '%dM' % udp_mbps, '-l', '1400']
    pids = [box.pid('ovs-vswitchd'), box.pid('iovpd')]
    before = [cpu_seconds(p) for p in pids]
    client = subprocess.run(argv, capture_output=True, text=True)
    after = [cpu_seconds(p) for p in pids]
    out, _ = server.communicate(timeout=seconds + 30)
    if client.returncode:
        raise RuntimeError('iperf3: %s' % client.stdout[-300:])
    rate = json.loads(out)['end']['sum_received']['bits_per_second'] / 1e6
    sent = (json.loads(client.stdout)['end']['sum']['packets']
            if udp_mbps else 0)
    return rate, sent, sum(after) - sum(before)


def measure(builddir, iovpd_args, rates, seconds, peer):
    """Returns {(what, rate, proto): (Mbit/s, CPU s per datagram)}."""
    box = Sandbox(builddir, iovpd_args)
    results = {}
    try:
        setup(box)
        for rate in rates:
            kbps = rate * 1000
            for what, port, row in (
                    ('plain', None, None),
                    ('policed', 'vm1', {'police_rate': kbps}),
                    ('limited', 'vm2', {'receive_rate': kbps}),
                    ('htb', 'vm2', None)):
                if what == 'htb' and not peer:
                    continue
                if port and row:
                    set_qos(box, port, row)
                    wait(lambda: meters(box) == 1, 10, 'the meter')
                elif what == 'htb':
                    box.run('ovs-vsctl', 'set', 'port', 'vm2', 'qos=@q',
                            '--', '--id=@q', 'create', 'qos',
                            'type=linux-htb',
                            'other-config:max-rate=%d' % (kbps * 1000),
                            'queues:0=@q0', '--', '--id=@q0', 'create',
                            'queue', 'other-config:max-rate=%d'
                            % (kbps * 1000), stdout=subprocess.DEVNULL)
                    time.sleep(1)
                for proto in ('tcp', 'udp'):
                    mbps, sent, cpu = iperf(box, seconds,
                                            2 * rate if proto == 'udp'
                                            else None)
                    results[(what, rate, proto)] = (
                        mbps, cpu / sent if sent else 0)
                if port and row:
                    set_qos(box, port, None)
                    wait(lambda: meters(box) == 0, 10, 'no meter')
                elif what == 'htb':
                    box.run('ovs-vsctl', 'clear', 'port', 'vm2', 'qos')
                    time.sleep(1)
        return results
    finally:
        for name, _, _ in VMS:
            subprocess.run(['ip', 'netns', 'del', vm_ns(box, name)],
                           stderr=subprocess.DEVNULL)
        box.stop()


def main():
    opts = options()
    smoke = bool(opts.get('smoke'))
    seconds = int(opts.get('seconds', 2 if smoke else 10))
    rates = [int(r) for r in opts.get('rates',
                                      '10' if smoke else '1,10,100')
             .split(',')]
    builddir = opts['builddir']

    labels = {'plain': 'no QoS',
              'policed': 'vm1 policed (meter)',
              'limited': 'vm2 limited on receive (meter)',
              'htb': 'peer: linux-htb on vm2 (OVS QoS)'}
    for mode, args in (('through OVS', []),
                       ('XDP fast path on', ['--offload=xdp:mode=generic'])):
        peer = not args
        res = measure(builddir, args, rates, seconds, peer)
        print('%s, iperf3 vm1 -> vm2, %d s a run; Mbit/s received (ratio '
              'to the rate); for UDP offered at twice the rate, host CPU '
              '(ovs-vswitchd + iovpd) per datagram sent:' % (mode, seconds))
        for rate in rates:
            print('  rate %d Mbit/s' % rate)
            plain_cpu = res[('plain', rate, 'udp')][1]
            for what, label in labels.items():
                if (what, rate, 'tcp') not in res:
                    continue
                tcp = res[(what, rate, 'tcp')][0]
                udp, cpu = res[(what, rate, 'udp')]
                line = '    %-36s TCP %8.2f' % (label, tcp)
                if what != 'plain':
                    line += ' (%.2f)' % (tcp / rate)
                line += '   UDP %8.2f' % udp
                if what != 'plain':
                    line += ' (%.2f)' % (udp / rate)
                line += '   CPU %6.2f us/datagram' % (cpu * 1e6)
                if what != 'plain' and plain_cpu:
                    line += ' (%.2fx no QoS)' % (cpu / plain_cpu)
                print(line)
    return 0


if __name__ == '__main__':
    sys.exit(main())
