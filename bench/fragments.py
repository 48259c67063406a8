#! /usr/bin/env python3
"""fragments.py [--smoke] [--seconds=S] [--builddir=DIR] [--peer=IOVPD]

Benchmark: what reassembling fragments before the ACLs costs.  Two VMs
(network namespaces, veth pairs on the integration bridge, userspace
datapath) in one logical switch, vm2 with an ACL that permits all, and
iperf3 from vm1 to vm2 for S seconds each (default 10; 1 with --smoke):

  - TCP (whole frames, which meet one more flow match per table);
  - UDP datagrams of 1,400 bytes (not fragmented);
  - UDP datagrams of 4,000 bytes (3 fragments each, reassembled twice).

With --peer=IOVPD (an iovpd built without fragment reassembly, e.g. from
an older commit), it runs the same against it, in the same run, and prints
the ratios.  Never fails on a figure: the exit status says only whether
the measurements could be made."""

import json
import subprocess
import sys
import time

from sandbox import Sandbox, add_vm, options, vm_ns, wait

VMS = (('vm1', '10.0.0.1', '02:00:00:00:00:01'),
       ('vm2', '10.0.0.2', '02:00:00:00:00:02'))


def setup(box):
    box.start()
    for name, ip, mac in VMS:
        add_vm(box, name, ip, mac)
    wait(lambda: box.run('vtep-ctl', 'list-ports', 'bench', check=False,
                         capture_output=True, text=True).stdout.count('vm')
         == 2, 10, 'the Physical_Port rows')
    box.run('vtep-ctl', 'add-ls', 'ls1', '--', 'bind-ls', 'bench', 'vm1',
            '0', 'ls1', '--', 'bind-ls', 'bench', 'vm2', '0', 'ls1')
    box.run('vtep-ctl', '--', '--id=@e', 'create', 'ACL_entry', 'sequence=10',
            'direction=egress', 'action=permit', '--', '--id=@a', 'create',
            'ACL', 'acl_name=all', 'acl_entries=@e', '--', 'set',
            'Physical_Port', 'vm2', 'acl_bindings:0=@a',
            stdout=subprocess.DEVNULL)
    ping = ['ip', 'netns', 'exec', vm_ns(box, 'vm1'), 'ping', '-c', '1',
            '-W', '1', '10.0.0.2']
    wait(lambda: subprocess.run(ping, stdout=subprocess.DEVNULL).returncode
         == 0, 20, 'vm1 to reach vm2')


def iperf(box, seconds, udp_len=None):
    """Returns the receiver's throughput in Mbit/s."""
    server = subprocess.Popen(['ip', 'netns', 'exec', vm_ns(box, 'vm2'),
                               'iperf3', '-s', '-1', '-J'],
                              stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    argv = ['ip', 'netns', 'exec', vm_ns(box, 'vm1'), 'iperf3', '-c',
            '10.0.0.2', '-t', str(seconds), '-J']
    if udp_len:
        argv += ['-u', '-b', '0', '-l', str(udp_len)]
    client = subprocess.run(argv, capture_output=True, text=True)
    server.communicate(timeout=seconds + 20)
    if client.returncode:
        raise RuntimeError('iperf3: %s' % client.stdout[-300:])
    end = json.loads(client.stdout)['end']
    if not udp_len:
        return end['sum_received']['bits_per_second'] / 1e6
    # UDP: what was sent, less what the server counted lost.
    total = end['sum']
    return (total['bits_per_second'] * (1 - total['lost_percent'] / 100)
            / 1e6)


def measure(builddir, iovpd, seconds):
    box = Sandbox(builddir, iovpd=iovpd)
    try:
        setup(box)
        return {'tcp': iperf(box, seconds),
                'udp1400': iperf(box, seconds, 1400),
                'udp4000': iperf(box, seconds, 4000)}
    finally:
        for name, _, _ in VMS:
            subprocess.run(['ip', 'netns', 'del', vm_ns(box, name)],
                           stderr=subprocess.DEVNULL)
        box.stop()


def main():
    opts = options()
    seconds = int(opts.get('seconds', 1 if opts.get('smoke') else 10))
    builddir = opts['builddir']
    ours = measure(builddir, None, seconds)
    peer = (measure(builddir, opts['peer'], seconds) if opts.get('peer')
            else None)

    labels = {'tcp': 'TCP (whole frames)',
              'udp1400': 'UDP, 1,400-byte datagrams (whole)',
              'udp4000': 'UDP, 4,000-byte datagrams (3 fragments)'}
    print('iperf3 vm1 -> vm2 through OVS, %d s each, Mbit/s received:'
          % seconds)
    for key, label in labels.items():
        line = '  %-42s iovpd %8.1f' % (label, ours[key])
        if peer:
            line += ('   peer %8.1f   ratio %.2f'
                     % (peer[key], ours[key] / peer[key] if peer[key]
                        else 0))
        print(line)
    return 0


if __name__ == '__main__':
    sys.exit(main())
