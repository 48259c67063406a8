"""sandbox.py: what the benchmarks share: a private Open vSwitch
(ovsdb-server with Open_vSwitch and hardware_vtep, ovs-vswitchd with the
userspace datapath in a network namespace of its own) and iovpd, in a
temporary directory, with unixctl connections to them."""

import gc
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

OVS_SCHEMAS = '/usr/share/openvswitch'


def options(argv=None):
    """The benchmark's command line, "--NAME=VALUE" and "--NAME" (value
    "1"), as a dict.  The names are those that its usage (the main
    module's docstring) shows as "[--NAME...]"; "--help" prints the usage
    and exits, and anything else is an error."""
    usage = sys.modules['__main__'].__doc__ or ''
    known = set(re.findall(r'\[--([a-z][a-z-]*)', usage))
    opts = {}
    for a in (sys.argv[1:] if argv is None else argv):
        if a in ('-h', '--help'):
            print(usage)
            sys.exit(0)
        name, value = (a[2:].split('=', 1) if '=' in a else (a[2:], '1'))
        if not a.startswith('--') or name not in known:
            sys.exit('%s: unknown option "%s" (--help for usage)'
                     % (os.path.basename(sys.argv[0]), a))
        opts[name] = value
    return opts


def sh(*argv, **kwargs):
    return subprocess.run(argv, check=True, **kwargs)


class Unixctl:
    """A connection to a unixctl socket (iovpd's or OVS's).  With 'json',
    it asks for JSON output first."""

    def __init__(self, path, json_output=False):
        self.path = path
        self.id = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = ''
        if json_output:
            self.call('set-options', '--format', 'json')

    def call(self, method, *params):
        self.id += 1
        self.sock.sendall(json.dumps({'method': method,
                                      'params': list(params),
                                      'id': self.id}).encode())
        decoder = json.JSONDecoder()
        while True:
            try:
                reply, end = decoder.raw_decode(self.buf.lstrip())
                self.buf = self.buf.lstrip()[end:]
                break
            except ValueError:
                data = self.sock.recv(1 << 20)
                if not data:
                    raise RuntimeError('%s closed the connection'
                                       % self.path)
                self.buf += data.decode()
        if reply.get('error'):
            raise RuntimeError('%s: %s' % (method, reply['error']))
        return reply['result']

    def close(self):
        self.sock.close()


class Sandbox:
    """'iovpd' is the program to run as iovpd (default: the build's)."""

    def __init__(self, builddir, iovpd_args=(), iovpd=None):
        self.iovpd_args = list(iovpd_args)
        self.iovpd = iovpd or os.path.join(builddir, 'agent', 'iovpd')
        self.tmp = tempfile.mkdtemp(prefix='iovp-bench-')
        self.ns = 'iovp-bench-%d' % os.getpid()
        self.builddir = builddir
        self.env = dict(os.environ, OVS_RUNDIR=self.tmp, OVS_LOGDIR=self.tmp,
                        OVS_DBDIR=self.tmp, IOVP_RUNDIR=self.tmp,
                        IOVP_LOGDIR=self.tmp)
        self.db_sock = os.path.join(self.tmp, 'db.sock')

    def run(self, *argv, check=True, **kwargs):
        return subprocess.run(argv, check=check, env=self.env, **kwargs)

    def ns_run(self, *argv, **kwargs):
        return self.run('ip', 'netns', 'exec', self.ns, *argv, **kwargs)

    def pid(self, daemon):
        with open(os.path.join(self.tmp, daemon + '.pid')) as f:
            return int(f.read())

    def ctl_path(self, daemon):
        return os.path.join(self.tmp, '%s.%d.ctl' % (daemon,
                                                     self.pid(daemon)))

    def ctl(self, daemon, json_output=False):
        return Unixctl(self.ctl_path(daemon), json_output)

    def rss_mb(self, daemon):
        with open('/proc/%d/status' % self.pid(daemon)) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) / 1024
        return 0

    def start(self):
        self.run('ovsdb-tool', 'create', os.path.join(self.tmp, 'conf.db'),
                 os.path.join(OVS_SCHEMAS, 'vswitch.ovsschema'))
        self.run('ovsdb-tool', 'create', os.path.join(self.tmp, 'vtep.db'),
                 os.path.join(self.builddir, 'schemas', 'iovp.ovsschema'))
        self.start_ovsdb()
        self.run('ovs-vsctl', '--no-wait', 'init', '--', 'set',
                 'Open_vSwitch', '.', 'external_ids:system-id=bench')
        sh('ip', 'netns', 'add', self.ns)
        self.ns_run('ip', 'link', 'set', 'lo', 'up')
        self.start_vswitchd()
        self.start_iovpd()
        # iovpd makes the integration bridge.
        wait(lambda: self.run('ovs-vsctl', 'br-exists', 'br-int',
                              check=False).returncode == 0, 30, 'br-int')

    def start_ovsdb(self):
        self.run('ovsdb-server', '-vconsole:off', '-vsyslog:off',
                 '--detach', '--no-chdir', '--pidfile', '--log-file',
                 '--remote=punix:' + self.db_sock,
                 os.path.join(self.tmp, 'conf.db'),
                 os.path.join(self.tmp, 'vtep.db'))

    def start_vswitchd(self):
        self.ns_run('ovs-vswitchd', '-vconsole:off', '-vsyslog:off',
                    '--detach', '--no-chdir', '--pidfile', '--log-file')

    def start_iovpd(self):
        self.ns_run(self.iovpd,
                    '--detach', '--no-chdir', '--pidfile', '--log-file',
                    '-vconsole:off', '-vsyslog:off', '--datapath-type=netdev',
                    *self.iovpd_args)

    def stop_iovpd(self):
        pid = self.pid('iovpd')
        self.ctl('iovpd').call('exit')
        for _ in range(1000):
            if not os.path.exists('/proc/%d' % pid) or open(
                    '/proc/%d/stat' % pid).read().split()[2] == 'Z':
                return
            time.sleep(0.01)
        raise RuntimeError('iovpd did not exit within 10 s of "exit"')

    def stop(self):
        for daemon in ('iovpd', 'ovs-vswitchd', 'ovsdb-server'):
            try:
                args = ['--cleanup'] if daemon == 'ovs-vswitchd' else []
                self.ctl(daemon).call('exit', *args)
            except (OSError, RuntimeError, ValueError):
                pass
        time.sleep(0.3)
        subprocess.run(['ip', 'netns', 'del', self.ns], stderr=subprocess.DEVNULL)
        if os.environ.get('IOVP_BENCH_KEEP'):
            print('sandbox kept in %s' % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def vm_ns(box, name):
    """The network namespace of VM 'name' of sandbox 'box'."""
    return '%s-%s' % (box.ns, name)


def add_vm(box, name, ip, mac):
    """Adds VM 'name' (a network namespace, its eth0 with 'ip' (a /24)
    and 'mac') to 'box''s br-int, with the port's iface-id and MAC."""
    ns = vm_ns(box, name)
    sh('ip', 'netns', 'add', ns)
    box.ns_run('ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name',
               'eth0', 'netns', ns)
    for argv in (('ip', 'link', 'set', 'eth0', 'address', mac),
                 ('ip', 'addr', 'add', ip + '/24', 'dev', 'eth0'),
                 ('ip', 'link', 'set', 'lo', 'up'),
                 ('ip', 'link', 'set', 'eth0', 'up'),
                 ('ethtool', '-K', 'eth0', 'tx', 'off')):
        sh('ip', 'netns', 'exec', ns, *argv, stdout=subprocess.DEVNULL)
    box.ns_run('ip', 'link', 'set', name, 'up')
    box.ns_run('ethtool', '-K', name, 'tx', 'off', stdout=subprocess.DEVNULL)
    box.run('ovs-vsctl', 'add-port', 'br-int', name, '--', 'set',
            'interface', name, 'external_ids:iface-id=' + name,
            'external_ids:attached-mac=' + mac)


def transact(box, *ops):
    """Runs the hardware_vtep transaction 'ops' on 'box''s database;
    raises RuntimeError if an operation fails."""
    out = box.run('ovsdb-client', 'transact', 'unix:' + box.db_sock,
                  json.dumps(['hardware_vtep'] + list(ops)),
                  capture_output=True, text=True).stdout
    for result in json.loads(out):
        if result and 'error' in result:
            raise RuntimeError('transaction failed: %s' % result)


def wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.001)
    sys.exit('timed out waiting for %s' % what)


def change_latencies(iovpd, change, n, what):
    """Calls change(k) for each k in range(n), each time waiting until
    'iovpd' (its Unixctl, JSON) has put a new bundle to the switch and has
    nothing in flight.  change(k) commits the change: it returns once the
    database has replied to its transaction.  Returns, for each change, a
    pair of latencies in seconds, from its commit (change(k) returned) and
    from the call (the commit's own time included) to the change installed;
    and the flow_mods each change sent."""
    latencies, mods = [], []
    # A collection of the benchmark's own objects would count as the
    # agent's latency.
    gc.disable()
    try:
        for k in range(n):
            before = iovpd.call('ofp/status')['flows']
            t0 = time.monotonic()
            change(k)
            t1 = time.monotonic()
            after = wait(lambda: (lambda f: f['state'] == 'ready'
                                  and f['bundles'] > before['bundles']
                                  and f)(iovpd.call('ofp/status')['flows']),
                         60, what)
            t2 = time.monotonic()
            latencies.append((t2 - t1, t2 - t0))
            mods.append(after['flow_mods'] - before['flow_mods'])
    finally:
        gc.enable()
    return latencies, mods


def p99(values):
    """Returns the 99th percentile of 'values' (the lowest of the highest
    1%, as a sorted list's index 0.99 * n - 1)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * len(ordered))) - 1)]


def print_latencies(latencies, goal_ms):
    """Prints the p50 and p99 of 'latencies' (pairs, as change_latencies()
    returns them) from the commit, against a p99 goal of 'goal_ms'
    milliseconds, and from the call."""
    committed = [c for c, _ in latencies]
    called = [c for _, c in latencies]
    print('  latency to installed, from the commit: p50 %.1f ms, p99 %.1f ms '
          '(goal: p99 under %d ms); from sending the transaction: p50 %.1f '
          'ms, p99 %.1f ms'
          % (statistics.median(committed) * 1000, p99(committed) * 1000,
             goal_ms, statistics.median(called) * 1000, p99(called) * 1000))
