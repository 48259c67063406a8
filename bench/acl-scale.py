#! /usr/bin/env python3
"""acl-scale.py [--smoke] [--ports=N] [--entries=M] [--changes=K] [--runs=R]
                [--window=W] [--offload=BACKEND] [--builddir=DIR]

Benchmark: iovpd with N VM ports (default 100; 4 with --smoke), each with
an ACL of M entries of its own (default 1,000; 25 with --smoke), one flow
each: N x M ACL flows on the integration bridge.  It prints:

  - full sync: the time from the commit that binds every ACL until OVS
    holds every flow (iovpd's barrier reply), against "ovs-ofctl --bundle
    add-flows" of the same flows into an empty bridge of the same switch,
    and the part of it that ovsdb-server alone takes: the bound ACLs'
    entries reach iovpd only once it asks for them (it monitors only its
    own rows, and asks with monitor_cond_change), and the server's time to
    send them to a client that asks as iovpd does (but for every column)
    and reads nothing is a floor under iovpd's; so is the time that
    lib/jsonrpc.c takes to parse those bytes, 64 kB at a time as reads
    bring them, and to free what it made (test-iovp jsonrpc-parse --time);
  - with --offload: the ports that have a fast path in the NIC, and the
    entries it holds;
  - the 5-s timer's CPU: once in sync, before the incremental changes and
    before the peer's bridge above exists, the CPU time (user and system,
    /proc/PID/stat, to a clock tick) that iovpd uses in W seconds with no
    policy change (default 30; 10 with --smoke), per 5-s tick: what it
    costs to read the flows' counters (every flow's in one tick of six, so
    that 30 s holds one of each kind), report the VLAN statistics to
    hardware_vtep and, with --offload, plan the NIC again; ovs-vswitchd's
    CPU over the same window is its peer;
  - incremental: one ACL entry changed K times (default 100; 5 with
    --smoke), in R runs (--runs, default 5; 2 with --smoke): the latency
    from each commit (the transaction's reply, as for the full sync) until
    the change is installed (p50, p99) in each run, the best and the worst
    run's p99, the same from sending the transaction, and the flow_mods
    each change sent;
  - restart: iovpd restarted under that load: the time until it is in
    sync again, and the flow_mods it sent; first on the standalone
    database, which sends every row again; then on a clustered copy of it
    (a cluster of one member, made from it with "ovsdb-tool
    create-cluster", in an ovsdb-server of its own), which keeps a history
    of transactions: iovpd starts from the replica it saved as it exited
    (its snapshot), and the database sends only what changed since;
  - memory: the resident memory of iovpd and of ovs-vswitchd;
  - the longest turn of iovpd's loop (memory/show), before and after the
    restart: the longest that its control socket was kept waiting.

Each figure comes with its goal, but the timer's CPU, which has none yet:
it comes with its peer.  It never fails on a timing: the exit status says
only whether the measurements could be made.  It runs its own ovsdb-server
and ovs-vswitchd (userspace datapath) in a temporary directory, the switch
and iovpd in a network namespace of their own; the VM ports are internal
ports.  With --offload=BACKEND (e.g. "sim"), iovpd runs with that offload
backend (iovpd --offload=BACKEND); a port has a fast path when it has an
untagged binding, a MAC of its own and a network device, which every port
here has."""

import json
import os
import socket
import subprocess
import sys
import time

import ovsdb_rpc
from sandbox import (Sandbox, change_latencies, options, p99,
                     print_latencies, wait)

def transact(sock_path, ops):
    """Runs 'ops' on the hardware_vtep database at 'sock_path'."""
    return ovsdb_rpc.transact(sock_path, ['hardware_vtep'] + ops)


def entry_row(port, i):
    """Entry 'i' of port 'port''s ACL: one flow (IPv4, one port)."""
    return {
        'sequence': (i + 1) * 10,
        'direction': 'ingress' if i % 2 else 'egress',
        'action': 'permit' if i % 3 else 'deny',
        'source_ip': '10.%d.%d.%d' % (port, i >> 8 & 255, i & 255),
        'protocol': 6,
        'dest_port_min': 1000 + i,
        'dest_port_max': 1000 + i,
    }


def read_until(s, done, keep=None):
    """Reads from 's' until done(the last 300 bytes) is true; returns the
    time (time.monotonic()) of the first byte, of the last, and how many
    bytes came.  Appends what came to list 'keep', if any."""
    tail, size, first = b'', 0, None
    while not done(tail):
        data = s.recv(1 << 20)
        if not data:
            sys.exit('ovsdb-server closed the connection')
        if first is None:
            first = time.monotonic()
        if keep is not None:
            keep.append(data)
        size += len(data)
        tail = (tail + data[-300:])[-300:]
    return first, time.monotonic(), size


def server_floor(sock_path, entry_uuids, save):
    """The floor that ovsdb-server puts under a sync: how long it takes to
    send the ACL_entry rows 'entry_uuids' to a client that asks for them as
    iovpd does, and does nothing with them: a monitor (monitor_cond_since)
    that selects none, then a monitor_cond_change with a "_uuid ==" clause for each, whose
    reply follows the update that brings the rows.  Returns (seconds from
    the change to the first byte, to the reply's last, the bytes), and
    writes what came to file 'save'."""
    none = [['_uuid', '==', ['uuid', '00000000-0000-0000-0000-000000000000']]]
    where = [['_uuid', '==', ['uuid', u]] for u in entry_uuids]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall(json.dumps({'method': 'monitor_cond_since', 'id': 0, 'params': [
        'hardware_vtep', 'floor', {'ACL_entry': [{'where': none}]},
        '00000000-0000-0000-0000-000000000000']}).encode())
    read_until(s, lambda b: b.endswith(b'}') and b'"id":0' in b)
    change = json.dumps({'method': 'monitor_cond_change', 'id': 1,
                         'params': ['floor', 'floor', {
                             'ACL_entry': [{'where': where}]}]}).encode()
    t0 = time.monotonic()
    s.sendall(change)
    data = []
    first, last, size = read_until(
        s, lambda b: b.endswith(b'}') and b'"id":1' in b, data)
    s.close()
    with open(save, 'wb') as f:
        f.writelines(data)
    return first - t0, last - t0, size


def parse_floor(box, path):
    """The floor that reading JSON puts under a sync: the seconds that
    lib/jsonrpc.c takes to parse the messages in file 'path', fed 64 kB at
    a time, and to free them, before iovpd looks at them (test-iovp
    jsonrpc-parse --time)."""
    out = subprocess.run([os.path.join(box.builddir, 'tests', 'test-iovp'),
                          'jsonrpc-parse', '--time', '--chunk=65536',
                          '--max=%d' % (1 << 30), path], check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    words = out.split()
    return float(words[-6]), float(words[-2])


def flows_status(box):
    return box.ctl('iovpd').call('ofp/status')


def cpu_seconds(pid):
    """The CPU time, user and system, that process 'pid' has used, all of
    its threads, in seconds (utime and stime of /proc/PID/stat)."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def timer_cpu(box, iovpd, seconds):
    """Measures what iovpd and ovs-vswitchd do with no policy change for
    'seconds': returns their CPU time over it, in seconds, and the flow
    changes iovpd sent meanwhile (bundles, flow_mods), which should be
    none.  Asks iovpd only outside the window."""
    before = iovpd.call('ofp/status')['flows']
    pids = (box.pid('iovpd'), box.pid('ovs-vswitchd'))
    cpu0 = [cpu_seconds(pid) for pid in pids]
    time.sleep(seconds)
    cpu1 = [cpu_seconds(pid) for pid in pids]
    after = iovpd.call('ofp/status')['flows']
    return (cpu1[0] - cpu0[0], cpu1[1] - cpu0[1],
            after['bundles'] - before['bundles'],
            after['flow_mods'] - before['flow_mods'])


def start_cluster(box, sock):
    """Starts, on unix socket 'sock', an ovsdb-server of a clustered copy
    of 'box''s hardware_vtep database, a cluster of one member."""
    box.run('ovsdb-tool', 'create-cluster', os.path.join(box.tmp, 'cluster.db'),
            os.path.join(box.tmp, 'vtep.db'),
            'unix:' + os.path.join(box.tmp, 'raft.sock'),
            stderr=subprocess.DEVNULL)
    box.run('ovsdb-server', '-vconsole:off', '-vsyslog:off', '--detach',
            '--no-chdir', '--pidfile=' + os.path.join(box.tmp, 'cluster.pid'),
            '--log-file=' + os.path.join(box.tmp, 'cluster.log'),
            '--unixctl=' + os.path.join(box.tmp, 'cluster.ctl'),
            '--remote=punix:' + sock, os.path.join(box.tmp, 'cluster.db'))


def main():
    args = options()
    smoke = 'smoke' in args
    n_ports = int(args.get('ports', 4 if smoke else 100))
    n_entries = int(args.get('entries', 25 if smoke else 1000))
    n_changes = int(args.get('changes', 5 if smoke else 100))
    n_runs = int(args.get('runs', 2 if smoke else 5))
    window = float(args.get('window', 10 if smoke else 30))
    offload = args.get('offload')
    builddir = os.path.abspath(args.get(
        'builddir', os.path.join(os.path.dirname(__file__), '..')))
    total = n_ports * n_entries

    box = Sandbox(builddir, ['--offload=' + offload] if offload else [])
    try:
        box.start()
        iovpd = box.ctl('iovpd', json_output=True)

        # The ports, bound untagged to one logical switch, no ACL yet.
        cmd = ['ovs-vsctl']
        for p in range(n_ports):
            cmd += ['--', 'add-port', 'br-int', 'p%d' % p, '--', 'set',
                    'interface', 'p%d' % p, 'type=internal',
                    'external_ids:iface-id=p%d' % p,
                    'external_ids:attached-mac=02:00:00:00:%02x:%02x'
                    % (p >> 8, p & 255)]
        box.run(*cmd, stdout=subprocess.DEVNULL)

        def ports_reported():
            rows = transact(box.db_sock, [{
                'op': 'select', 'table': 'Physical_Port', 'where': [],
                'columns': ['name']}])[0]['rows']
            return len(rows) == n_ports
        wait(ports_reported, 60, 'the Physical_Port rows')
        transact(box.db_sock, [
            {'op': 'insert', 'table': 'Logical_Switch',
             'row': {'name': 'ls1'}, 'uuid-name': 'ls'}] + [
            {'op': 'mutate', 'table': 'Physical_Port',
             'where': [['name', '==', 'p%d' % p]],
             'mutations': [['vlan_bindings', 'insert',
                            ['map', [[0, ['named-uuid', 'ls']]]]]]}
            for p in range(n_ports)])

        def synced(min_installed):
            st = iovpd.call('ofp/status')
            f = st['flows']
            return (f['state'] == 'ready' and f['installed'] >= min_installed
                    and st)
        base = wait(lambda: synced(6 + 3 * n_ports), 60,
                    'the switching flows')['flows']['installed']

        # The ACLs: made first, bound in one commit.
        t0 = time.monotonic()
        for p in range(n_ports):
            ops = []
            for i in range(n_entries):
                ops.append({'op': 'insert', 'table': 'ACL_entry',
                            'row': entry_row(p, i),
                            'uuid-name': 'e%d' % i})
            ops.append({'op': 'insert', 'table': 'ACL',
                        'row': {'acl_name': 'acl%d' % p,
                                'acl_entries': ['set', [
                                    ['named-uuid', 'e%d' % i]
                                    for i in range(n_entries)]]}})
            transact(box.db_sock, ops)
        print('policy: %d ports x %d ACL entries, written in %.1f s'
              % (n_ports, n_entries, time.monotonic() - t0))

        acls = dict((r['acl_name'], r['_uuid'][1]) for r in transact(
            box.db_sock, [{'op': 'select', 'table': 'ACL', 'where': [],
                           'columns': ['_uuid', 'acl_name']}])[0]['rows'])
        bind = [{'op': 'mutate', 'table': 'Physical_Port',
                 'where': [['name', '==', 'p%d' % p]],
                 'mutations': [['acl_bindings', 'insert',
                                ['map', [[0, ['uuid', acls['acl%d' % p]]]]]]]}
                for p in range(n_ports)]
        t0 = time.monotonic()
        transact(box.db_sock, bind)
        st = wait(lambda: synced(base + total), 600, 'every ACL flow')
        sync_time = time.monotonic() - t0
        installed = st['flows']['installed']
        sync_monitor = iovpd.call('ovsdb/status')['hardware_vtep']

        # The 5-s timer, in sync and with nothing to change.
        time.sleep(1)           # The sync's last replies and logs.
        timer = timer_cpu(box, iovpd, window)
        show = iovpd.call('offload/show') if offload else None

        # The peer: the same flows, from a file, into an empty bridge.
        box.ns_run('ovs-vsctl', 'add-br', 'br-peer', '--', 'set', 'bridge',
                   'br-peer', 'datapath_type=netdev', 'fail_mode=secure',
                   'protocols=OpenFlow13,OpenFlow14,OpenFlow15')
        dump = box.ns_run('ovs-ofctl', '-O', 'OpenFlow15', '--no-stats',
                          'dump-flows', 'br-int', stdout=subprocess.PIPE,
                          text=True).stdout
        flows_file = os.path.join(box.tmp, 'flows.txt')
        with open(flows_file, 'w') as f:
            f.write(dump)
        t0 = time.monotonic()
        box.ns_run('ovs-ofctl', '-O', 'OpenFlow15', '--bundle', 'add-flows',
                   'br-peer', flows_file)
        peer_time = time.monotonic() - t0
        peer_n = len(box.ns_run('ovs-ofctl', '-O', 'OpenFlow15',
                                '--no-stats', 'dump-flows', 'br-peer',
                                stdout=subprocess.PIPE,
                                text=True).stdout.splitlines())

        print('full sync, %d flows (%d of them ACL flows):' % (installed,
                                                                total))
        print('  iovpd, commit to barrier:     %8.3f s' % sync_time)
        print('  ovs-ofctl --bundle add-flows: %8.3f s (%d flows)'
              % (peer_time, peer_n))
        print('  ratio iovpd/ovs-ofctl: %.2f (goal: at most 1.1)'
              % (sync_time / peer_time))
        print('  of which iovpd\'s %s for the entries, from sending it until '
              'they were\n  in its replica: %.3f s'
              % (sync_monitor['last_monitor'],
                 (sync_monitor['last_monitor_ms'] or 0) / 1e3))
        entries = [u[1] for r in transact(box.db_sock, [{
            'op': 'select', 'table': 'ACL', 'where': [],
            'columns': ['acl_entries']}])[0]['rows']
            for u in r['acl_entries'][1]]
        update = os.path.join(box.tmp, 'floor-update.json')
        first, last, size = server_floor(box.db_sock, entries, update)
        print('  of which ovsdb-server alone, sending the %d entries to a '
              'client that\n  asks for them as iovpd does and reads '
              'nothing: %.3f s (%.1f MB; first byte\n  after %.3f s), '
              'ratio to ovs-ofctl %.2f'
              % (len(entries), last, size / 1e6, first, last / peer_time))
        parse, free = parse_floor(box, update)
        print('  and the parser alone, parsing those %.1f MB as '
              'lib/jsonrpc.c does for iovpd:\n  %.3f s, freeing them %.3f s; '
              'with the server, ratio to ovs-ofctl %.2f'
              % (size / 1e6, parse, free,
                 (last + parse + free) / peer_time))
        os.unlink(update)
        if show:
            ports = show['ports'].values()
            print('offload (%s): %d of %d ports with a fast path, %d of '
                  'them with entries; %d entries in the NIC (room for %d); '
                  '%d ports left to OVS by a failed backend'
                  % (show['summary']['backend'], len(show['ports']),
                     n_ports, sum(1 for p in ports if p['entries']),
                     show['summary']['entries'],
                     show['summary']['capacity'],
                     sum(1 for p in ports if p['failed'])))
            print('  goals with offload, against a run without --offload: '
                  'full sync at most 1.2x its time, iovpd\'s memory at most '
                  '1.5x, the timer\'s CPU under 50 ms per tick, a change '
                  'installed in under 100 ms (p99)')
        ticks = window / 5
        iovpd_cpu, vswitchd_cpu, bundles, flow_mods = timer
        print('the 5-s timer\'s CPU, %.0f s with no policy change (%.0f '
              'ticks%s):' % (window, ticks,
                             ', NIC planned again' if offload else ''))
        print('  iovpd:        %8.1f ms CPU per tick (%.1f%% of a core)'
              % (iovpd_cpu / ticks * 1000, iovpd_cpu / window * 100))
        print('  ovs-vswitchd: %8.1f ms CPU per tick (%.1f%% of a core)'
              % (vswitchd_cpu / ticks * 1000, vswitchd_cpu / window * 100))
        if iovpd_cpu >= 0.9 * window:
            print('  (iovpd was busy for the whole window: a tick\'s work '
                  'takes it longer than 5 s)')
        print('  ratio iovpd/ovs-vswitchd: %s; flow changes sent meanwhile: '
              '%d bundles, %d flow_mods'
              % ('%.2f' % (iovpd_cpu / vswitchd_cpu) if vswitchd_cpu
                 else 'n/a (ovs-vswitchd used none)', bundles, flow_mods))

        # Incremental: one entry of acl0 changed, again and again.
        entry = transact(box.db_sock, [{
            'op': 'select', 'table': 'ACL_entry',
            'where': [['sequence', '==', 10],
                      ['source_ip', '==', '10.0.0.0']],
            'columns': ['_uuid']}])[0]['rows'][0]['_uuid']
        print('incremental, one entry changed %d times, in %d runs:'
              % (n_changes, n_runs))
        all_mods, p99s = set(), []
        for run in range(n_runs):
            latencies, mods = change_latencies(
                iovpd, lambda k: transact(box.db_sock, [{
                    'op': 'update', 'table': 'ACL_entry',
                    'where': [['_uuid', '==', entry]],
                    'row': {'dest_port_min': 30000 + run * n_changes + k,
                            'dest_port_max': 30000 + run * n_changes + k}}]),
                n_changes, 'the change')
            p99s.append((p99([c for c, _ in latencies]),
                         p99([c for _, c in latencies])))
            print('  run %d:' % (run + 1), end='')
            print_latencies(latencies, 10)
            all_mods.update(mods)
        print('  p99 from the commit over the runs: best %.1f ms, worst %.1f '
              'ms (goal: under 10 ms in every run); from sending the '
              'transaction: best %.1f ms, worst %.1f ms'
              % (min(c for c, _ in p99s) * 1000,
                 max(c for c, _ in p99s) * 1000,
                 min(c for _, c in p99s) * 1000,
                 max(c for _, c in p99s) * 1000))
        print('  flow_mods per change: %s (goal: only the entry\'s, 2)'
              % ', '.join(sorted(set(str(m) for m in all_mods))))

        # Restart on the standalone database, then on a clustered copy of
        # it, from the snapshot.
        iovpd_rss = box.rss_mb('iovpd')
        mem = iovpd.call('memory/show')
        print('restart under that load:')
        snapshot = os.path.join(box.tmp, 'iovpd.br-int.snapshot')
        cluster_sock = os.path.join(box.tmp, 'cluster.sock')
        lags = []
        for what in ('standalone', 'cluster', 'snapshot'):
            # iovpd saves a snapshot only with every row that its
            # conditions select in.
            wait(lambda: iovpd.call('ovsdb/status')['hardware_vtep']
                 ['settled'], 60, 'iovpd\'s hardware_vtep rows')
            iovpd.close()
            box.stop_iovpd()
            if what == 'cluster':
                start_cluster(box, cluster_sock)
                box.iovpd_args.append('--vtep-db=unix:' + cluster_sock)
            size = os.path.getsize(snapshot) if what == 'snapshot' else 0
            t0 = time.monotonic()
            box.start_iovpd()
            iovpd = box.ctl('iovpd', json_output=True)

            def restarted():
                # In sync: it has read the switch's flows and compared them
                # with all of the policy's, and any bundle that took is
                # done.
                f = iovpd.call('ofp/status')['flows']
                return f['state'] == 'ready' and f['puts'] >= 1 and f
            f = wait(restarted, 120, 'the restarted iovpd')
            restart_time = time.monotonic() - t0
            vtep = iovpd.call('ovsdb/status')['hardware_vtep']
            if what == 'cluster':
                # Not a figure: this start only makes the snapshot.
                continue
            print('  %s: in sync after %.3f s (goal: under 2 s), flow_mods '
                  'sent: %d (goal: 0); hardware_vtep: %d resumed, %d '
                  'complete copies, %.1f MB received'
                  % ('standalone database' if what == 'standalone'
                     else 'clustered, from its snapshot (%.1f MB)'
                     % (size / 1e6),
                     restart_time, f['flow_mods'], vtep['resumed'],
                     vtep['full_copies'], vtep['bytes_received'] / 1e6))
            print('    of which its %s, from sending it until the replica '
                  'held the answer: %.3f s'
                  % (vtep['last_monitor'],
                     (vtep['last_monitor_ms'] or 0) / 1e3))
            lags.append(iovpd.call('memory/show'))
            rss = box.rss_mb('iovpd')
            if what == 'standalone':
                restarted_rss = rss
        print('memory: iovpd %.1f MB before the restart, %.1f MB after it, '
              '%.1f MB after the start from the snapshot (goal: at most '
              '100 MB); ovs-vswitchd %.1f MB'
              % (iovpd_rss, restarted_rss, rss, box.rss_mb('ovs-vswitchd')))
        print('  heap in use: %.1f MB before the restart, %.1f MB after it, '
              '%.1f MB after the start from the snapshot'
              % (mem['heap_in_use_kb'] / 1024,
                 lags[0]['heap_in_use_kb'] / 1024,
                 lags[1]['heap_in_use_kb'] / 1024))
        print('  iovpd before the restart: heap in use %.1f MB; %d desired '
              'flows, %d installed, %d hardware_vtep rows'
              % (mem['heap_in_use_kb'] / 1024, mem['desired_flows'],
                 mem['installed_flows'], mem['vtep_rows']))
        parts = [('desired flows', 'desired_flows_kb'),
                 ('installed flows', 'installed_flows_kb'),
                 ('hardware_vtep model', 'vtep_model_kb'),
                 ('hardware_vtep replica', 'vtep_replica_kb'),
                 ('shared strings', 'model_strings_kb'),
                 ('desired groups', 'desired_groups_kb'),
                 ('ACL translation', 'acl_translation_kb'),
                 ('Open_vSwitch', ('ovs_model_kb', 'ovs_replica_kb')),
                 ('the rest', 'other_kb')]
        print('  of the heap: ' + ', '.join(
            '%s %.1f MB' % (name, sum(mem[k] for k in
                                      (key if isinstance(key, tuple)
                                       else (key,))) / 1024)
            for name, key in parts))
        print('  resident but not in the heap in use (free pieces that the '
              'allocator keeps, code): %.1f MB'
              % ((mem['rss_kb'] - mem['heap_in_use_kb']) / 1024))
        print('the longest turn of iovpd\'s loop (goal: at most 100 ms): '
              '%.1f ms over the full sync and the changes, %d turns of %d '
              'over 100 ms; over the restart %.1f ms, %d of %d; over the '
              'start from the snapshot %.1f ms, %d of %d'
              % (mem['loop_longest_ms'], mem['loop_turns_over_100ms'],
                 mem['loop_turns'], lags[0]['loop_longest_ms'],
                 lags[0]['loop_turns_over_100ms'], lags[0]['loop_turns'],
                 lags[1]['loop_longest_ms'],
                 lags[1]['loop_turns_over_100ms'], lags[1]['loop_turns']))
    finally:
        pidfile = os.path.join(box.tmp, 'cluster.pid')
        if os.path.exists(pidfile):
            box.run('ovs-appctl', '-t', os.path.join(box.tmp, 'cluster.ctl'),
                    'exit', check=False)
        box.stop()


main()
