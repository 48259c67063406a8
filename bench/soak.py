#! /usr/bin/env python3
"""soak.py: iovpd for a long run under AddressSanitizer while policy churns.

  soak.py [--minutes=N] [--ports=N] [--entries=N] [--seed=N] [--smoke]
          [--builddir=DIR] [--iovpd=PROGRAM]

Starts a sandbox (bench/sandbox.py) with bench/iovpd-asan, iovpd built with
AddressSanitizer and LeakSanitizer (or --iovpd, to compare), and the sim
offload backend, binds
--ports VM ports (internal ports) to two logical switches, each with an ACL
of --entries entries, and for --minutes (default 30; --smoke: 1) churns:

  - an ACL rewritten (new entries, other fates and ports),
  - a binding moved to the other logical switch,
  - a port removed from the bridge, and put back later,
  - an offload fault injected with offload/sim-configure (fail-every,
    full-at, gone) and cleared again,
  - ovs-vswitchd restarted (every 5 minutes; --smoke: once), and
    ovsdb-server restarted (every 7 minutes; --smoke: once),

while a probe, once a second, checks one bound port's fates with
"iovp-ofctl verify-offload" (the NIC against iovpd's reference model, and
the model against OVS's ofproto/trace).  A disagreement seen while policy
is in flight is checked again once iovpd has settled: it counts as a wrong
fate only if it is still there.

Prints iovpd's RSS over time, with the rows of its hardware_vtep replica,
and its growth after the warm-up (the first fifth of the run; goal: none), the wrong fates (goal: 0) and the sanitizer
reports (goal: 0), which iovpd writes when it exits.  Exits 1 if a
sanitizer report or a wrong fate was seen: those are bugs, not figures."""

import glob
import json
import os
import random
import subprocess
import sys
import time

import ovsdb_rpc
from sandbox import Sandbox, options, wait


def vtep(box, ops):
    return ovsdb_rpc.transact(box.db_sock, ['hardware_vtep'] + ops)


def entries_for(rng, port, n):
    """A random ACL of 'n' entries for port number 'port'."""
    rows = []
    for i in range(n):
        row = {
            'sequence': (i + 1) * 10,
            'direction': rng.choice(['ingress', 'egress']),
            'action': rng.choice(['permit', 'deny']),
            'protocol': rng.choice([6, 17]),
        }
        if rng.random() < 0.7:
            row['source_ip'] = '10.%d.%d.%d' % (port, rng.randrange(4),
                                                rng.randrange(256))
        lo = rng.randrange(1, 2000)
        row['dest_port_min'] = lo
        row['dest_port_max'] = lo + rng.choice([0, 0, 3, 63])
        rows.append(row)
    return rows


def set_acl(box, rng, port, n):
    """Makes ACL 'acl<port>' hold a new random set of 'n' entries and
    deletes its old ones, as a controller would (ACL_entry is a root table:
    the database keeps entries that nothing references)."""
    ops = [{'op': 'insert', 'table': 'ACL_entry', 'row': row,
            'uuid-name': 'e%d' % i}
           for i, row in enumerate(entries_for(rng, port, n))]
    refs = ['set', [['named-uuid', 'e%d' % i] for i in range(n)]]
    name = 'acl%d' % port
    have = vtep(box, [{'op': 'select', 'table': 'ACL',
                       'where': [['acl_name', '==', name]],
                       'columns': ['acl_entries']}])[0]['rows']
    if have:
        ops.append({'op': 'update', 'table': 'ACL',
                    'where': [['acl_name', '==', name]],
                    'row': {'acl_entries': refs}})
        old = have[0]['acl_entries']
        old = old[1] if old[0] == 'set' else [old]
        ops += [{'op': 'delete', 'table': 'ACL_entry',
                 'where': [['_uuid', '==', uuid]]} for uuid in old]
    else:
        ops.append({'op': 'insert', 'table': 'ACL',
                    'row': {'acl_name': name, 'acl_entries': refs}})
    vtep(box, ops)


def bind(box, port, ls):
    """Binds port 'p<port>' untagged to logical switch 'ls', with its
    ACL."""
    acl = vtep(box, [{'op': 'select', 'table': 'ACL',
                      'where': [['acl_name', '==', 'acl%d' % port]],
                      'columns': ['_uuid']}])[0]['rows'][0]['_uuid']
    lsu = vtep(box, [{'op': 'select', 'table': 'Logical_Switch',
                      'where': [['name', '==', ls]],
                      'columns': ['_uuid']}])[0]['rows'][0]['_uuid']
    vtep(box, [{'op': 'update', 'table': 'Physical_Port',
                'where': [['name', '==', 'p%d' % port]],
                'row': {'vlan_bindings': ['map', [[0, lsu]]],
                        'acl_bindings': ['map', [[0, acl]]]}}])


def add_port(box, port):
    box.run('ovs-vsctl', '--', 'add-port', 'br-int', 'p%d' % port, '--',
            'set', 'interface', 'p%d' % port, 'type=internal',
            'external_ids:iface-id=p%d' % port,
            'external_ids:attached-mac=02:00:00:00:%02x:%02x'
            % (port >> 8, port & 255), stdout=subprocess.DEVNULL)


def vtep_rows(box):
    """The rows in iovpd's replica of hardware_vtep, or '?'."""
    r = ofctl(box, '-f', 'json', 'memory/show')
    try:
        return json.loads(r.stdout)['vtep_rows']
    except (ValueError, KeyError):
        return '?'


def ofctl(box, *args):
    return box.run(os.path.join(box.builddir, 'utilities', 'iovp-ofctl'),
                   '-t', box.ctl_path('iovpd'), '--timeout=30', *args,
                   check=False, capture_output=True, text=True)


def settled(box):
    """True once iovpd has sent what the policy asks and the switch took
    it."""
    r = ofctl(box, '-f', 'json', 'ofp/status')
    if r.returncode:
        return False
    return json.loads(r.stdout)['flows']['state'] == 'ready'


skips = {}


def probe(box, port, seed):
    """Checks 'port''s fates.  Returns the number of disagreements, or None
    if the check could not run (no fast path now, a daemon restarting)."""
    r = ofctl(box, '-f', 'json', 'verify-offload', 'p%d' % port, '200',
              str(seed))
    try:
        v = json.loads(r.stdout)
    except ValueError:
        why = (r.stderr.strip().splitlines() or ['?'])[0]
        skips[why] = skips.get(why, 0) + 1
        return None
    return int(v.get('disagreements', 0)) + int(
        v.get('ovs', {}).get('disagreements', 0))


def restart(box, daemon):
    """Restarts 'daemon' (ovs-vswitchd keeps its datapath's ports)."""
    try:
        box.ctl(daemon).call('exit')
    except (OSError, RuntimeError, ValueError):
        pass
    pidfile = os.path.join(box.tmp, daemon + '.pid')
    wait(lambda: not os.path.exists(pidfile), 20, daemon + ' to exit')
    if daemon == 'ovsdb-server':
        box.start_ovsdb()
    else:
        box.start_vswitchd()


def main():
    args = options()
    smoke = 'smoke' in args
    minutes = float(args.get('minutes', 1 if smoke else 30))
    n_ports = int(args.get('ports', 4 if smoke else 20))
    n_entries = int(args.get('entries', 20 if smoke else 100))
    seed = int(args.get('seed', 1))
    builddir = os.path.abspath(args.get(
        'builddir', os.path.join(os.path.dirname(__file__), '..')))
    rng = random.Random(seed)

    box = Sandbox(builddir, iovpd_args=['--offload=sim'],
                  iovpd=args.get('iovpd', os.path.join(builddir, 'bench',
                                                       'iovpd-asan')))
    asan_log = os.path.join(box.tmp, 'asan')
    # A small quarantine of freed memory, so that RSS says what iovpd
    # holds rather than what AddressSanitizer keeps back.
    box.env['ASAN_OPTIONS'] = ('log_path=%s:detect_leaks=1:'
                               'abort_on_error=0:quarantine_size_mb=16'
                               % asan_log)
    rss = []
    wrong = transient = probes = skipped = ops = 0
    try:
        box.start()
        for p in range(n_ports):
            add_port(box, p)
        wait(lambda: len(vtep(box, [{
            'op': 'select', 'table': 'Physical_Port', 'where': [],
            'columns': ['name']}])[0]['rows']) == n_ports, 60,
            'the Physical_Port rows')
        vtep(box, [{'op': 'insert', 'table': 'Logical_Switch',
                    'row': {'name': ls}} for ls in ('ls1', 'ls2')])
        for p in range(n_ports):
            set_acl(box, rng, p, n_entries)
            bind(box, p, 'ls1' if p % 2 else 'ls2')
        wait(lambda: settled(box), 60, 'the first flows')

        start = time.monotonic()
        end = start + minutes * 60
        restarts = ([('ovs-vswitchd', 0.4 * minutes * 60),
                     ('ovsdb-server', 0.6 * minutes * 60)] if smoke else
                    [('ovs-vswitchd', t) for t in range(300, int(minutes * 60),
                                                        300)]
                    + [('ovsdb-server', t)
                       for t in range(420, int(minutes * 60), 420)])
        restarts.sort(key=lambda r: r[1])
        removed = []
        fault = None
        next_probe = next_rss = start
        while time.monotonic() < end:
            now = time.monotonic()
            if restarts and now - start >= restarts[0][1]:
                daemon = restarts.pop(0)[0]
                print('%4.0f s: restarting %s' % (now - start, daemon))
                restart(box, daemon)
                continue
            if now >= next_rss:
                rss.append((now - start, box.rss_mb('iovpd'),
                            vtep_rows(box)))
                next_rss += 10
            if now >= next_probe:
                next_probe += 1
                port = rng.choice([p for p in range(n_ports)
                                   if p not in removed])
                s = rng.randrange(1 << 30)
                n = probe(box, port, s)
                if n is None:
                    skipped += 1
                elif n:
                    # Seen while policy moves: check again once settled.
                    wait(lambda: settled(box), 30, 'iovpd to settle')
                    time.sleep(0.5)
                    again = probe(box, port, s)
                    if again:
                        wrong += again
                        print('%4.0f s: p%d: %d wrong fates (seed %d)'
                              % (now - start, port, again, s))
                    else:
                        transient += 1
                    probes += 1
                else:
                    probes += 1

            op = rng.choice(['acl', 'acl', 'bind', 'port', 'fault'])
            p = rng.choice([q for q in range(n_ports) if q not in removed])
            try:
                if op == 'acl':
                    set_acl(box, rng, p, n_entries)
                elif op == 'bind':
                    bind(box, p, rng.choice(['ls1', 'ls2']))
                elif op == 'port':
                    if removed and rng.random() < 0.6:
                        q = removed.pop(0)
                        add_port(box, q)
                    elif len(removed) < n_ports // 2:
                        box.run('ovs-vsctl', 'del-port', 'br-int', 'p%d' % p)
                        removed.append(p)
                elif op == 'fault':
                    fault = None if fault else rng.choice(
                        ['fail-every=3', 'full-at=16', 'gone=1'])
                    ofctl(box, 'offload/sim-configure',
                          fault or 'fail-every=0,full-at=0,gone=0')
                ops += 1
            except (subprocess.CalledProcessError, RuntimeError, OSError,
                    KeyError, IndexError) as e:
                print('%4.0f s: %s failed: %s' % (now - start, op, e))
            time.sleep(0.3)

        ofctl(box, 'offload/sim-configure', 'fail-every=0,full-at=0,gone=0')
        rss.append((time.monotonic() - start, box.rss_mb('iovpd'),
                    vtep_rows(box)))
        box.stop_iovpd()
        time.sleep(1)
    finally:
        reports = []
        for f in glob.glob(asan_log + '*'):
            with open(f) as stream:
                text = stream.read()
            if 'Sanitizer' in text:
                reports.append(text)
        box.stop()

    print('soak: %.1f minutes, %d ports x %d ACL entries, %d changes'
          % (minutes, n_ports, n_entries, ops))
    print('iovpd RSS (MB) over time: ' + ', '.join(
        '%.0fs %.1f' % r[:2] for r in rss))
    print('rows in its hardware_vtep replica: ' + ', '.join(
        '%.0fs %s' % (r[0], r[2]) for r in rss))
    warm = [(t, m) for t, m, rows in rss if t >= minutes * 60 / 5]
    if len(warm) > 1:
        # The trend (least squares) says more than two noisy samples do.
        n = len(warm)
        mt = sum(t for t, m in warm) / n
        mm = sum(m for t, m in warm) / n
        slope = (sum((t - mt) * (m - mm) for t, m in warm)
                 / (sum((t - mt) ** 2 for t, m in warm) or 1))
        print('RSS after warm-up: %.1f to %.1f MB, trend %+.1f MB per 10 '
              'minutes (goal: no growth)'
              % (min(m for t, m in warm), max(m for t, m in warm),
                 slope * 600))
    print('probes: %d checked, %d skipped (no fast path or a daemon '
          'restarting), %d disagreements gone once settled'
          % (probes, skipped, transient))
    for why, n in sorted(skips.items(), key=lambda x: -x[1]):
        print('  skipped %d: %s' % (n, why))
    print('wrong fates: %d (goal: 0)' % wrong)
    print('sanitizer reports: %d (goal: 0)' % len(reports))
    for r in reports:
        print(r[:4000])
    return 1 if wrong or reports else 0


if __name__ == '__main__':
    sys.exit(main())
