#! /usr/bin/env python3
"""fleet.py [--smoke] [--hosts=N[,N...]] [--ports=P] [--entries=E]
            [--changes=K] [--builddir=DIR]

Benchmark: a fleet of N hosts on one clustered policy database (a
three-member ovsdb-server cluster of hardware_vtep), each host a real
iovpd with a Physical_Switch of its own in the cluster (P ports, default
20, bound to a logical switch of its own and to an ACL of E entries of its
own, default 100) and a bridge of its own (--bridge=br-hN) on one shared
ovs-vswitchd.  For each N (default 10,30,100; 3,10 with --smoke) it prints:

  - what each iovpd received to get in sync: bytes and rows, against the
    rows of its own switch (goal: only its own rows, independent of N);
  - one host's ACL entry changed K times (default 20; 3 with --smoke): the
    latency from each commit until that host's iovpd installed it, and the
    bytes and rows that every other iovpd received meanwhile (goal: none;
    latency p99 under 100 ms at N = 300);
  - the cluster leader's CPU time over the sync and its resident memory,
    per host;
  - one host's iovpd restarted: the time until it is in sync again, and
    whether it resumed from the replica it saved as it exited (its
    snapshot) with monitor_cond_since, and the bytes it received (goal:
    resumed, no complete copy);
  - the leader killed under that load: the time until every iovpd is back
    in step on another member, and how (goal: every one resumed with
    monitor_cond_since, no complete copy, within 5 s).

Only the changed host's ports are on its bridge (internal ports), so that
its flows are installed; the other hosts' ports are rows only: the fleet's
load on the database and on each iovpd's monitor is all there, without
N x P network devices on one machine.  It never fails on a timing: the
exit status says only whether the measurements could be made."""

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

import ovsdb_rpc
from sandbox import (Sandbox, Unixctl, change_latencies, options,
                     print_latencies, wait)


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(('127.0.0.1', 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def cpu_seconds(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def rss_mb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return 0


class Cluster:
    """A three-member cluster of hardware_vtep (iovp's schema) in 'tmp'."""

    def __init__(self, box):
        self.box = box
        self.tmp = box.tmp
        self.remotes = []

    def path(self, i, ext):
        return os.path.join(self.tmp, 's%d.%s' % (i, ext))

    def start(self):
        box = self.box
        path = self.path
        schema = os.path.join(box.builddir, 'schemas', 'iovp.ovsschema')
        raft = free_ports(3)
        box.run('ovsdb-tool', 'create-cluster', path(1, 'db'), schema,
                'tcp:127.0.0.1:%d' % raft[0])
        for i in (2, 3):
            box.run('ovsdb-tool', 'join-cluster', path(i, 'db'),
                    'hardware_vtep', 'tcp:127.0.0.1:%d' % raft[i - 1],
                    'tcp:127.0.0.1:%d' % raft[0])
        # In the namespace, where iovpd reaches them on its loopback.
        for i in (1, 2, 3):
            box.ns_run('ovsdb-server', '-vconsole:off', '-vsyslog:off',
                    '--detach', '--no-chdir', '--pidfile=' + path(i, 'pid'),
                    '--log-file=' + path(i, 'log'),
                    '--unixctl=' + path(i, 'ctl'),
                    '--remote=punix:' + path(i, 'sock'),
                    '--remote=ptcp:0:127.0.0.1', path(i, 'db'))
        for i in (1, 2, 3):
            def port():
                with open(path(i, 'log')) as f:
                    for line in f:
                        if '|0:127.0.0.1: listening on port ' in line:
                            return int(line.split()[-1])
            self.remotes.append('tcp:127.0.0.1:%d' % wait(port, 30,
                                                          'member %d' % i))
        wait(self.leader, 30, 'a leader')

    def status(self, i):
        return self.box.run('ovs-appctl', '-t', self.path(i, 'ctl'),
                            'cluster/status', 'hardware_vtep',
                            check=False, capture_output=True,
                            text=True).stdout

    def leader(self):
        for i in (1, 2, 3):
            if os.path.exists(self.path(i, 'ctl')) and \
                    'Role: leader' in self.status(i):
                return i
        return None

    def pid(self, i):
        with open(self.path(i, 'pid')) as f:
            return int(f.read())

    def transact(self, ops):
        return ovsdb_rpc.transact(self.path(self.leader(), 'sock'),
                                  ['hardware_vtep'] + ops)

    def stop(self):
        for i in (1, 2, 3):
            try:
                os.kill(self.pid(i), signal.SIGTERM)
            except (OSError, ValueError):
                pass


class Host:
    """iovpd of host 'i', with its bridge br-hI and its own run
    directory."""

    def __init__(self, box, cluster, i):
        self.i = i
        self.dir = os.path.join(box.tmp, 'h%d' % i)
        os.mkdir(self.dir)
        self.start(box, cluster)

    def start(self, box, cluster):
        i = self.i
        box.ns_run(os.path.join(box.builddir, 'agent', 'iovpd'),
                   '--detach', '--no-chdir',
                   '--pidfile=' + os.path.join(self.dir, 'iovpd.pid'),
                   '--log-file=' + os.path.join(self.dir, 'iovpd.log'),
                   '-vconsole:off', '-vsyslog:off', '--rundir=' + self.dir,
                   '--datapath-type=netdev', '--ovs-db=unix:' + box.db_sock,
                   '--vtep-db=' + ','.join(cluster.remotes),
                   '--switch-name=host-%d' % i, '--bridge=br-h%d' % i,
                   '--tunnel-ip=192.0.%d.%d' % (2 + i // 250, 1 + i % 250))
        self.ctl = None

    def pid(self):
        with open(os.path.join(self.dir, 'iovpd.pid')) as f:
            return int(f.read())

    def connect(self):
        path = os.path.join(self.dir, 'iovpd.%d.ctl' % self.pid())
        wait(lambda: os.path.exists(path), 30, 'iovpd %d' % self.i)
        self.ctl = Unixctl(path, json_output=True)

    def vtep(self):
        return self.ctl.call('ovsdb/status')['hardware_vtep']

    def stop(self):
        """Asks the iovpd to exit.  Returns its pid, or None."""
        try:
            pid = self.pid()
        except (OSError, ValueError):
            return None
        try:
            self.ctl.call('exit')
        except (OSError, RuntimeError, ValueError, AttributeError):
            # Its control socket is not answering: by its pid.
            try:
                os.kill(pid, signal.SIGTERM)
            except (OSError, ValueError):
                pass
        return pid


def entry_row(host, i, port=0):
    return {'sequence': (i + 1) * 10, 'direction': 'ingress',
            'action': 'permit' if i % 3 else 'deny',
            'source_ip': '10.%d.%d.%d' % (host >> 8 & 255, host & 255, i & 255),
            'protocol': 6, 'dest_port_min': 1000 + i + port,
            'dest_port_max': 1000 + i + port}


def host_ops(i, n_ports, n_entries):
    """The operations that make host 'i''s rows: its Physical_Switch in
    Global, its ports bound to its logical switch and to its ACL."""
    ops = [{'op': 'insert', 'table': 'Logical_Switch',
            'row': {'name': 'ls%d' % i, 'tunnel_key': i + 1},
            'uuid-name': 'ls'}]
    for e in range(n_entries):
        ops.append({'op': 'insert', 'table': 'ACL_entry',
                    'row': entry_row(i, e), 'uuid-name': 'e%d' % e})
    ops.append({'op': 'insert', 'table': 'ACL',
                'row': {'acl_name': 'acl%d' % i, 'acl_entries': [
                    'set', [['named-uuid', 'e%d' % e]
                            for e in range(n_entries)]]},
                'uuid-name': 'acl'})
    for p in range(n_ports):
        ops.append({'op': 'insert', 'table': 'Physical_Port',
                    'row': {'name': 'h%dp%d' % (i, p),
                            'vlan_bindings': ['map', [[0, ['named-uuid',
                                                           'ls']]]],
                            'acl_bindings': ['map', [[0, ['named-uuid',
                                                          'acl']]]]},
                    'uuid-name': 'p%d' % p})
    ops.append({'op': 'insert', 'table': 'Physical_Switch',
                'row': {'name': 'host-%d' % i,
                        'tunnel_ips': '192.0.%d.%d' % (2 + i // 250,
                                                       1 + i % 250),
                        'ports': ['set', [['named-uuid', 'p%d' % p]
                                          for p in range(n_ports)]]},
                'uuid-name': 'ps'})
    ops.append({'op': 'mutate', 'table': 'Global', 'where': [],
                'mutations': [['switches', 'insert',
                               ['set', [['named-uuid', 'ps']]]]]})
    return ops


def spread(values):
    values = sorted(values)
    return '%s / %s / %s' % (values[0], values[len(values) // 2],
                             values[-1])


def run(builddir, n_hosts, n_ports, n_entries, n_changes):
    box = Sandbox(builddir)
    cluster = None
    hosts = []
    try:
        box.run('ovsdb-tool', 'create', os.path.join(box.tmp, 'conf.db'),
                '/usr/share/openvswitch/vswitch.ovsschema')
        box.run('ovsdb-server', '-vconsole:off', '-vsyslog:off', '--detach',
                '--no-chdir', '--pidfile', '--log-file',
                '--remote=punix:' + box.db_sock,
                os.path.join(box.tmp, 'conf.db'))
        box.run('ovs-vsctl', '--no-wait', 'init')
        subprocess.run(['ip', 'netns', 'add', box.ns], check=True)
        box.ns_run('ip', 'link', 'set', 'lo', 'up')
        box.start_vswitchd()
        cluster = Cluster(box)
        cluster.start()
        cluster.transact([{'op': 'insert', 'table': 'Global', 'row': {}}])
        for i in range(n_hosts):
            cluster.transact(host_ops(i, n_ports, n_entries))
        own_rows = 1 + n_ports + 1 + 1 + n_entries  # PS, ports, LS, ACL, entries

        leader = cluster.leader()
        leader_pid = cluster.pid(leader)
        leader_cpu0 = cpu_seconds(leader_pid)
        t0 = time.monotonic()
        for i in range(n_hosts):
            hosts.append(Host(box, cluster, i))
        for h in hosts:
            h.connect()
        # Host 0's ports on its bridge, so that its flows go in.
        wait(lambda: box.run('ovs-vsctl', 'br-exists', 'br-h0',
                             check=False).returncode == 0, 60, 'br-h0')
        cmd = ['ovs-vsctl']
        for p in range(n_ports):
            name = 'h0p%d' % p
            cmd += ['--', 'add-port', 'br-h0', name, '--', 'set',
                    'interface', name, 'type=internal',
                    'external_ids:iface-id=' + name,
                    'external_ids:attached-mac=02:00:00:00:%02x:%02x'
                    % (p >> 8, p & 255)]
        box.run(*cmd, stdout=subprocess.DEVNULL)

        def in_sync():
            for h in hosts:
                st = h.vtep()
                if not st['settled'] or \
                        st['rows']['ACL_entry'] < n_entries:
                    return False
            if hosts[0].ctl.call('ofp/status')['flows']['state'] != 'ready':
                return False
            # Host 0's switch holds every flow it wants, among them the
            # flow of its ACL's last entry.
            dump = hosts[0].ctl.call('flows/dump')
            last = 'tp_dst=%d' % entry_row(0, n_entries - 1)['dest_port_min']
            return (all(f['status'] == 'installed' for f in dump)
                    and any(last in f['match'] for f in dump))
        wait(in_sync, 60 + 2 * n_hosts, 'every host in sync')
        sync_time = time.monotonic() - t0
        leader_cpu = cpu_seconds(leader_pid) - leader_cpu0
        leader_rss = rss_mb(leader_pid)

        status = [h.vtep() for h in hosts]
        rows = [sum(st['rows'].values()) for st in status]
        db_rows = sum(len(r['rows']) for r in cluster.transact([
            {'op': 'select', 'table': t, 'where': [], 'columns': ['_uuid']}
            for t in sorted(status[0]['rows'])]))
        received = [st['bytes_received'] for st in status]
        print('N = %d hosts, %d ports and %d ACL entries each '
              '(%d rows of its own in the tables it monitors but Global):'
              % (n_hosts, n_ports, n_entries, own_rows))
        print('  in sync in %.1f s' % sync_time)
        print('  rows held per iovpd (min / median / max): %s of the %d '
              'in the database (goal: its own rows only, independent of N)'
              % (spread(rows), db_rows))
        print('  bytes received per iovpd to get in sync: %s'
              % spread(received))

        # One host's ACL changed, once what the hosts write of their own
        # (their MACs, their locators) is in.
        time.sleep(2)
        entry = cluster.transact([{'op': 'select', 'table': 'ACL_entry',
                                   'where': [['source_ip', '==',
                                              entry_row(0, 0)['source_ip']]],
                                   'columns': ['_uuid']}])[0]['rows'][0]
        before = [h.vtep() for h in hosts]

        def change(k):
            cluster.transact([{'op': 'update', 'table': 'ACL_entry',
                               'where': [['_uuid', '==', entry['_uuid']]],
                               'row': {'dest_port_min': 20000 + k,
                                       'dest_port_max': 20000 + k}}])
        latencies, mods = change_latencies(hosts[0].ctl, change, n_changes,
                                           'the change installed')
        time.sleep(0.5)         # What the others might still receive.
        after = [h.vtep() for h in hosts]
        got = [a['bytes_received'] - b['bytes_received']
               for a, b in zip(after, before)]
        changed = [a['rows_changed'] - b['rows_changed']
                   for a, b in zip(after, before)]
        print('  one host\'s ACL entry changed %d times:' % n_changes)
        print_latencies(latencies, 100)
        print('  the changed host received %d bytes, %d row changes; the '
              'other %d received at most %d bytes, %d row changes '
              '(goal: 0)' % (got[0], changed[0], n_hosts - 1,
                             max(got[1:] or [0]), max(changed[1:] or [0])))
        print('  cluster leader: %.0f ms CPU over the sync (%.2f ms a host), '
              '%.1f MB resident (%.2f MB a host)'
              % (leader_cpu * 1000, leader_cpu * 1000 / n_hosts, leader_rss,
                 leader_rss / n_hosts))

        # Host 0's iovpd restarted: it starts from the replica it saved
        # as it exited, and the cluster sends only what changed since.
        before = hosts[0].vtep()
        wait(lambda: hosts[0].vtep()['settled'], 30, 'host 0 settled')
        pid = hosts[0].stop()
        wait(lambda: not os.path.exists('/proc/%d' % pid) or open(
            '/proc/%d/stat' % pid).read().split()[2] == 'Z', 30,
             'host 0\'s iovpd to exit')
        t0 = time.monotonic()
        hosts[0].start(box, cluster)
        hosts[0].connect()

        def restarted():
            f = hosts[0].ctl.call('ofp/status')['flows']
            return (f['state'] == 'ready' and f['puts'] >= 1
                    and hosts[0].vtep()['settled'] and f)
        f = wait(restarted, 60, 'host 0 restarted')
        restart_time = time.monotonic() - t0
        st = hosts[0].vtep()
        print('  host 0\'s iovpd restarted: in sync after %.2f s, %d '
              'flow_mods; %d resumed from its snapshot, %d complete copies, '
              '%d bytes received (it received %d to get in sync at first; '
              'goal: resumed, no copy)'
              % (restart_time, f['flow_mods'], st['resumed'],
                 st['full_copies'], st['bytes_received'],
                 before['bytes_received']))

        # The leader killed: the iovpds on it move to another member (an
        # iovpd reads from any member; those on the others stay).
        before = [h.vtep() for h in hosts]
        killed = cluster.remotes[cluster.leader() - 1]
        moved = [i for i, b in enumerate(before) if b['remote'] == killed]
        os.kill(cluster.pid(cluster.leader()), signal.SIGKILL)
        t0 = time.monotonic()

        def back():
            for i in moved:
                st = hosts[i].vtep()
                if st['connections'] <= before[i]['connections'] or \
                        not st['settled']:
                    return False
            return True
        wait(back, 120, 'the leader\'s iovpds back on another member')
        back_time = time.monotonic() - t0
        after = [h.vtep() for h in hosts]
        resumed = sum(after[i]['resumed'] > before[i]['resumed']
                      for i in moved)
        copies = sum(a['full_copies'] - b['full_copies']
                     for a, b in zip(after, before))
        print('  leader killed: the %d iovpds on it back in step on another '
              'member after %.2f s, %d of them resumed, %d complete copies '
              'in all (goal: all resumed, no copy, within 5 s)'
              % (len(moved), back_time, resumed, copies))
        return True
    finally:
        for h in hosts:
            h.stop()
        if cluster:
            cluster.stop()
        box.stop()


def main():
    # A SIGTERM (a timeout's) stops the daemons too, on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit('terminated'))
    args = options()
    smoke = 'smoke' in args
    counts = [int(n) for n in args.get('hosts',
                                       '3,10' if smoke else '10,30,100')
              .split(',')]
    n_ports = int(args.get('ports', 2 if smoke else 20))
    n_entries = int(args.get('entries', 5 if smoke else 100))
    n_changes = int(args.get('changes', 3 if smoke else 20))
    builddir = os.path.abspath(args.get(
        'builddir', os.path.join(os.path.dirname(__file__), '..')))
    for n in counts:
        run(builddir, n, n_ports, n_entries, n_changes)
        sys.stdout.flush()


if __name__ == '__main__':
    main()
