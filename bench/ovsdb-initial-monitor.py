#! /usr/bin/env python3
"""ovsdb-initial-monitor.py [--smoke] [--rows=N] [--runs=K] [--builddir=DIR]

Benchmark: how fast iovp's OVSDB client receives and applies the initial
monitor of a large hardware_vtep table, and how much memory its replica
takes per row, against stock "ovsdb-client dump" of the same table from the
same ovsdb-server in the same run (which ends once it has printed every
row).

It serves a new hardware_vtep database with a standalone ovsdb-server on a
Unix socket in a temporary directory, fills it with N ACL_entry rows
(default 100,000; 1,000 with --smoke), then runs each client K times (default 3;
1 with --smoke) in turn and prints the median time of each, the ratio
(iovp / ovsdb-client: below 1.0 means iovp is faster), the peak memory of
each process, and iovp's replica memory per row.  It never fails on a
timing: the exit status says only whether the measurements could be made.
"""

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from ovsdb_rpc import transact
from sandbox import options

SCHEMA = '/usr/share/openvswitch/vtep.ovsschema'


def acl_entry(i):
    """A varied but valid ACL_entry row."""
    row = {
        'sequence': i,
        'direction': 'ingress' if i % 2 else 'egress',
        'action': 'permit' if i % 3 else 'deny',
        'ethertype': '0x800',
        'source_ip': '10.%d.%d.%d' % (i >> 16 & 255, i >> 8 & 255, i & 255),
        'source_mask': '255.255.255.255',
        'dest_ip': '192.168.%d.0' % (i & 255),
        'dest_mask': '255.255.255.0',
        'protocol': 6 if i % 2 else 17,
        'dest_port_min': 1000 + i % 5000,
        'dest_port_max': 2000 + i % 5000,
    }
    if i % 4 == 0:
        row['source_mac'] = '02:00:00:%02x:%02x:%02x' % (
            i >> 16 & 255, i >> 8 & 255, i & 255)
    return row


def fill_db(sock_path, rows):
    batch = 5000
    for start in range(0, rows, batch):
        transact(sock_path, ['hardware_vtep'] + [
            {'op': 'insert', 'table': 'ACL_entry', 'row': acl_entry(i)}
            for i in range(start, min(rows, start + batch))])


def run_timed(argv, **kwargs):
    """Runs 'argv', returning (seconds, its peak RSS in KiB, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.monotonic()
    p = subprocess.run(argv, check=True, **kwargs)
    elapsed = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest of any child so far; runs go
    # from the smallest to the largest, so this is this run's peak or more.
    return elapsed, max(after, before), p.stdout


def main():
    args = options()
    smoke = 'smoke' in args
    rows = int(args.get('rows', 1000 if smoke else 100000))
    runs = int(args.get('runs', 1 if smoke else 3))
    builddir = args.get('builddir',
                        os.path.join(os.path.dirname(__file__), '..'))
    load = os.path.join(builddir, 'bench', 'ovsdb-load')

    tmp = tempfile.mkdtemp(prefix='iovp-bench-')
    server = None
    try:
        db = os.path.join(tmp, 'vtep.db')
        sock = os.path.join(tmp, 'db.sock')
        subprocess.run(['ovsdb-tool', 'create', db, SCHEMA], check=True)
        server = subprocess.Popen(
            ['ovsdb-server', '--remote=punix:' + sock, '--no-chdir',
             '--unixctl=' + os.path.join(tmp, 'ovsdb-server.ctl'),
             '-vconsole:off', '-vsyslog:off', db])
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)

        t0 = time.monotonic()
        fill_db(sock, rows)
        print('database: %d ACL_entry rows, %.1f MB on disk, made in %.1f s'
              % (rows, os.path.getsize(db) / 1e6, time.monotonic() - t0))

        iovp_times, peer_times = [], []
        iovp_rss, peer_rss, per_row = [], [], []
        for _ in range(runs):
            # iovp: its own clock, from connecting to a complete replica.
            _, rss, out = run_timed([load, 'unix:' + sock, 'hardware_vtep',
                                     'ACL_entry'],
                                    stdout=subprocess.PIPE, text=True)
            fields = dict(f.split('=') for f in out.split())
            if int(fields['rows']) != rows:
                sys.exit('ovsdb-load saw %s rows, expected %d'
                         % (fields['rows'], rows))
            iovp_times.append(float(fields['ms']) / 1000)
            iovp_rss.append(int(fields['rss_after_kb']))
            per_row.append((int(fields['rss_after_kb'])
                            - int(fields['rss_before_kb'])) * 1024 / rows)

            # The peer: ovsdb-client dump of the same table, whole process.
            elapsed, rss, _ = run_timed(
                ['ovsdb-client', 'dump', 'unix:' + sock, 'hardware_vtep',
                 'ACL_entry'], stdout=subprocess.DEVNULL)
            peer_times.append(elapsed)
            peer_rss.append(rss)

        it, pt = statistics.median(iovp_times), statistics.median(peer_times)
        print('iovp initial monitor:  %8.3f s  (runs: %s)'
              % (it, ', '.join('%.3f' % t for t in iovp_times)))
        print('ovsdb-client dump:     %8.3f s  (runs: %s)'
              % (pt, ', '.join('%.3f' % t for t in peer_times)))
        print('time ratio iovp/ovsdb-client: %.2f (goal: at most 1.0)'
              % (it / pt))
        print('iovp RSS after load: %.1f MB; replica: %.0f bytes per row'
              % (max(iovp_rss) / 1024, statistics.median(per_row)))
        print('ovsdb-client dump peak RSS: %.1f MB' % (max(peer_rss) / 1024))
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


main()
