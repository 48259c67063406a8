#! /usr/bin/env python3
"""overlay.py [--smoke] [--vteps=N] [--macs=M] [--switches=S] [--moves=K]
              [--rounds=R] [--builddir=DIR]

Benchmark: the overlay of iovpd as a controller writes it.  S logical
switches (default 10; 2 with --smoke), each on the overlay with a VNI and
one local VM port, then, in one transaction, N remote VTEPs (default 100;
4 with --smoke: their Physical_Locator rows), M remote MACs (default
10,000; 100 with --smoke: Ucast_Macs_Remote rows, spread over the switches
and the VTEPs) and for each switch an unknown-dst Mcast_Macs_Remote with
every VTEP.  It prints:

  - full sync: the time from that commit (the controller's transaction
    answered; the time it took, the client's encoding and the server's
    commit, is printed apart) until OVS holds every flow (iovpd's barrier
    reply), which includes iovpd making a VXLAN port for each VTEP (its
    flows wait only for the port's row, whose OpenFlow port iovpd asks
    for, not for OVS to make it), against "ovs-ofctl
    --bundle add-flows" of the same flows into an empty bridge of the same
    switch, R times (default 5; 1 with --smoke: the rows deleted and the
    overlay gone between rounds), each round's figures and the median
    ratio (goal: at most 1.2);
  - one remote MAC moved to another VTEP K times (default 100; 5 with
    --smoke): the latency from each commit until the change is installed
    (p50, p99; goal: p99 under 10 ms) and the flow_mods each sent;
  - memory: iovpd's resident memory and heap before and after the overlay,
    per remote MAC.

It never fails on a timing: the exit status says only whether the
measurements could be made.  It runs its own ovsdb-server and ovs-vswitchd
(userspace datapath) in a temporary directory, the switch and iovpd in a
network namespace of their own (no underlay: the tunnels carry no
traffic here); the VM ports are internal ports."""

import os
import statistics
import subprocess
import time

import ovsdb_rpc
from sandbox import (Sandbox, change_latencies, options, print_latencies,
                     wait)


def transact(sock_path, ops):
    """Runs 'ops' on the hardware_vtep database at 'sock_path'."""
    return ovsdb_rpc.transact(sock_path, ['hardware_vtep'] + ops)


def vtep_ip(v):
    return '172.31.%d.%d' % (1 + v // 250, 1 + v % 250)


def remote_mac(i):
    return '0a:00:00:%02x:%02x:%02x' % (i >> 16 & 255, i >> 8 & 255, i & 255)


def main():
    args = options()
    smoke = 'smoke' in args
    n_vteps = int(args.get('vteps', 4 if smoke else 100))
    n_macs = int(args.get('macs', 100 if smoke else 10000))
    n_switches = int(args.get('switches', 2 if smoke else 10))
    n_moves = int(args.get('moves', 5 if smoke else 100))
    n_rounds = int(args.get('rounds', 1 if smoke else 5))
    builddir = os.path.abspath(args.get(
        'builddir', os.path.join(os.path.dirname(__file__), '..')))

    box = Sandbox(builddir, ['--tunnel-ip=172.31.0.1'])
    try:
        box.start()
        iovpd = box.ctl('iovpd', json_output=True)

        # One VM port in each logical switch, each switch on the overlay.
        cmd = ['ovs-vsctl']
        for s in range(n_switches):
            cmd += ['--', 'add-port', 'br-int', 'p%d' % s, '--', 'set',
                    'interface', 'p%d' % s, 'type=internal',
                    'external_ids:iface-id=p%d' % s,
                    'external_ids:attached-mac=02:00:00:00:00:%02x' % s]
        box.run(*cmd, stdout=subprocess.DEVNULL)

        def ports_reported():
            rows = transact(box.db_sock, [{
                'op': 'select', 'table': 'Physical_Port', 'where': [],
                'columns': ['name']}])[0]['rows']
            return len(rows) == n_switches
        wait(ports_reported, 60, 'the Physical_Port rows')
        ops = []
        for s in range(n_switches):
            ops += [{'op': 'insert', 'table': 'Logical_Switch',
                     'row': {'name': 'ls%d' % s, 'tunnel_key': 5000 + s},
                     'uuid-name': 'ls%d' % s},
                    {'op': 'mutate', 'table': 'Physical_Port',
                     'where': [['name', '==', 'p%d' % s]],
                     'mutations': [['vlan_bindings', 'insert',
                                    ['map', [[0, ['named-uuid',
                                                  'ls%d' % s]]]]]]}]
        transact(box.db_sock, ops)

        def synced(min_installed):
            st = iovpd.call('ofp/status')
            f = st['flows']
            return (f['state'] == 'ready' and f['installed'] >= min_installed
                    and st)
        base = wait(lambda: synced(6 + 4 * n_switches), 60,
                    'the switching flows')['flows']['installed']
        time.sleep(0.5)
        base = synced(0)['flows']['installed']
        rss0 = box.rss_mb('iovpd')
        heap0 = iovpd.call('memory/show')['heap_in_use_kb']

        # The overlay, in one transaction.
        switches = dict((r['name'], r['_uuid'][1]) for r in transact(
            box.db_sock, [{'op': 'select', 'table': 'Logical_Switch',
                           'where': [], 'columns': ['_uuid', 'name']}])
            [0]['rows'])
        ops = [{'op': 'insert', 'table': 'Physical_Locator',
                'row': {'encapsulation_type': 'vxlan_over_ipv4',
                        'dst_ip': vtep_ip(v)},
                'uuid-name': 'loc%d' % v} for v in range(n_vteps)]
        ops.append({'op': 'insert', 'table': 'Physical_Locator_Set',
                    'row': {'locators': ['set', [['named-uuid', 'loc%d' % v]
                                                 for v in range(n_vteps)]]},
                    'uuid-name': 'all'})
        for s in range(n_switches):
            ops.append({'op': 'insert', 'table': 'Mcast_Macs_Remote',
                        'row': {'MAC': 'unknown-dst',
                                'logical_switch': ['uuid',
                                                   switches['ls%d' % s]],
                                'locator_set': ['named-uuid', 'all']}})
        for i in range(n_macs):
            ops.append({'op': 'insert', 'table': 'Ucast_Macs_Remote',
                        'row': {'MAC': remote_mac(i),
                                'logical_switch': [
                                    'uuid', switches['ls%d' % (i % n_switches)]],
                                'locator': ['named-uuid',
                                            'loc%d' % (i % n_vteps)]}})
        # In sync: OVS holds a flow for each remote MAC toward its tunnel
        # and one dropping it from a tunnel (and more), and nothing is in
        # flight.  (Only ofp/status is polled: memory/show's heap figure
        # walks iovpd's whole heap, and polling it took a sixth of iovpd's
        # time during the sync.)
        def overlay_synced():
            return synced(base + 2 * n_macs)

        # Back to no overlay: the rows deleted, iovpd's flows and tunnels
        # gone, and the remote locators with them (garbage collected once
        # iovpd's Tunnel rows no longer name them), so that the same
        # transaction can run again.
        def overlay_gone():
            f = iovpd.call('ofp/status')['flows']
            locs = transact(box.db_sock, [{
                'op': 'select', 'table': 'Physical_Locator', 'where': [],
                'columns': ['dst_ip']}])[0]['rows']
            return (f['state'] == 'ready' and f['installed'] == base
                    and all(r['dst_ip'] == '172.31.0.1' for r in locs))

        # Each round: iovpd's sync from the commit, then the peer's, the
        # same flows from a file into an empty bridge.
        flows_file = os.path.join(box.tmp, 'flows.txt')
        rounds = []
        for r in range(n_rounds):
            if r:
                transact(box.db_sock, [
                    {'op': 'delete', 'table': 'Ucast_Macs_Remote',
                     'where': []},
                    {'op': 'delete', 'table': 'Mcast_Macs_Remote',
                     'where': []}])
                wait(overlay_gone, 120, 'the overlay to go')
            t_send = time.monotonic()
            transact(box.db_sock, ops)
            t0 = time.monotonic()
            st = wait(overlay_synced, 600, 'every overlay flow')
            sync_time = time.monotonic() - t0
            commit_time = t0 - t_send

            box.ns_run('ovs-vsctl', '--if-exists', 'del-br', 'br-peer')
            box.ns_run('ovs-vsctl', 'add-br', 'br-peer', '--', 'set',
                       'bridge', 'br-peer', 'datapath_type=netdev',
                       'fail_mode=secure',
                       'protocols=OpenFlow13,OpenFlow14,OpenFlow15')
            dump = box.ns_run('ovs-ofctl', '-O', 'OpenFlow15', '--no-stats',
                              'dump-flows', 'br-int', stdout=subprocess.PIPE,
                              text=True).stdout
            with open(flows_file, 'w') as f:
                f.write(dump)
            t0 = time.monotonic()
            box.ns_run('ovs-ofctl', '-O', 'OpenFlow15', '--bundle',
                       'add-flows', 'br-peer', flows_file)
            peer_time = time.monotonic() - t0
            rounds.append((commit_time, sync_time, peer_time))
        installed = st['flows']['installed']
        tunnels = len([p for p in box.run(
            'ovs-vsctl', 'list-ports', 'br-int', stdout=subprocess.PIPE,
            text=True).stdout.split() if p.startswith('vx')])

        print('overlay: %d logical switches, %d remote VTEPs, %d remote '
              'MACs' % (n_switches, n_vteps, n_macs))
        print('full sync, %d flows, %d tunnel ports, %d rounds:'
              % (installed, tunnels, n_rounds))
        for commit_time, sync_time, peer_time in rounds:
            print("  the controller's transaction %.3f s (its encoding and "
                  "ovsdb-server's commit, not iovpd's); iovpd, commit to "
                  "barrier %.3f s; ovs-ofctl --bundle add-flows %.3f s "
                  "(%d flows): ratio %.2f"
                  % (commit_time, sync_time, peer_time,
                     len(dump.splitlines()) - 1, sync_time / peer_time))
        ratios = [sync / peer for _, sync, peer in rounds]
        print('  ratio iovpd/ovs-ofctl, median of the rounds: %.2f (goal: '
              'at most 1.2)' % statistics.median(ratios))

        # One remote MAC moved from VTEP to VTEP.
        row = transact(box.db_sock, [{
            'op': 'select', 'table': 'Ucast_Macs_Remote',
            'where': [['MAC', '==', remote_mac(0)]],
            'columns': ['_uuid', 'locator']}])[0]['rows'][0]
        mac, current = row['_uuid'], row['locator']
        locators = [r['_uuid'] for r in transact(box.db_sock, [{
            'op': 'select', 'table': 'Physical_Locator', 'where': [],
            'columns': ['_uuid', 'dst_ip']}])[0]['rows']
            if r['dst_ip'] != '172.31.0.1' and r['_uuid'] != current]
        latencies, mods = change_latencies(
            iovpd, lambda k: transact(box.db_sock, [{
                'op': 'update', 'table': 'Ucast_Macs_Remote',
                'where': [['_uuid', '==', mac]],
                'row': {'locator': locators[k % len(locators)]
                        if k % 2 == 0 else current}}]),
            n_moves, 'the move')
        print('one remote MAC moved %d times:' % n_moves)
        print_latencies(latencies, 10)
        print('  flow_mods per move: %s (the MAC\'s flow toward its tunnel: 1)'
              % ', '.join(sorted(set(str(m) for m in mods))))

        rss1 = box.rss_mb('iovpd')
        heap1 = iovpd.call('memory/show')['heap_in_use_kb']
        print('memory: iovpd %.1f MB resident before the overlay, %.1f MB '
              'after; heap %.1f MB, %.1f MB; per remote MAC: %.0f bytes '
              'resident, %.0f bytes of heap'
              % (rss0, rss1, heap0 / 1024, heap1 / 1024,
                 (rss1 - rss0) * 1024 * 1024 / n_macs,
                 (heap1 - heap0) * 1024 / n_macs))
    finally:
        box.stop()


main()
