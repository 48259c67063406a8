#! /usr/bin/python3
"""openflow-nb.py [--smoke] [--flows=N] [--rounds=K] [--builddir=DIR]

Benchmark: iovpd's OpenFlow northbound against Open vSwitch's own
OpenFlow, from a controller that encodes its messages with os-ken
(Debian's python3-os-ken; this script runs with Debian's /usr/bin/python3,
where os-ken is) and speaks OpenFlow 1.4 over a Unix socket.  It prints:

  - a bundle: N flow_mods (default 100,000; 1,000 with --smoke) in one
    atomic bundle, the time from its open request to its commit's reply
    (what "ovs-ofctl --bundle add-flows" waits for), to iovpd's listener
    and straight to an empty bridge of the same OVS (goal: iovpd at most
    1.3 times OVS), and of it the time from the last message sent;
  - one flow_mod at a time: K flow_mods (default 1,000; 50 with --smoke),
    each followed by a barrier, the time from the flow_mod to the
    barrier's reply, p50 and p99, each way (goal: iovpd's p99 within 2
    times OVS's);
  - packet-in round trip: K packet-outs whose action outputs to the
    controller, one each 2 ms (below iovpd's limit of 1,000 packet-ins a
    second), the time from each packet-out to its packet-in, p50 and p99,
    each way.

It never fails on a timing: the exit status says only whether the
measurements could be made.  It runs its own ovsdb-server and ovs-vswitchd
(userspace datapath) and iovpd with --openflow in a temporary directory
(bench/sandbox.py)."""

import os
import socket
import statistics
import struct
import sys
import time

from os_ken.ofproto import ofproto_v1_4 as ofp
from os_ken.ofproto import ofproto_v1_4_parser as parser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sandbox import Sandbox, options, wait  # noqa: E402


class Datapath:
    """What os-ken's message classes need to encode."""
    ofproto = ofp
    ofproto_parser = parser


DP = Datapath()


class Controller:
    """A controller's OpenFlow 1.4 connection to the switch at 'path'."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.settimeout(30)
        self.buf = b''
        self.xid = 0x100
        self.send(parser.OFPHello(DP))
        self.expect(ofp.OFPT_HELLO)

    def encode(self, msg):
        self.xid += 1
        msg.set_xid(self.xid)
        msg.serialize()
        return bytes(msg.buf)

    def send(self, msg):
        self.sock.sendall(self.encode(msg))
        return self.xid

    def recv(self):
        """Returns the next message: (type, xid, bytes)."""
        while True:
            if len(self.buf) >= 8:
                length = struct.unpack('!H', self.buf[2:4])[0]
                if len(self.buf) >= length:
                    msg, self.buf = self.buf[:length], self.buf[length:]
                    return msg[1], struct.unpack('!I', msg[4:8])[0], msg
            try:
                data = self.sock.recv(1 << 20)
            except socket.timeout:
                sys.exit('the switch said nothing for 30 s')
            if not data:
                sys.exit('the switch closed the connection')
            self.buf += data

    def expect(self, msg_type, xid=None):
        """Waits for a message of 'msg_type' (and 'xid'), answering echo
        requests; an error fails the benchmark."""
        while True:
            t, x, msg = self.recv()
            if t == ofp.OFPT_ERROR:
                sys.exit('the switch sent an error: %s' % msg.hex())
            if t == ofp.OFPT_ECHO_REQUEST:
                self.sock.sendall(msg[:1] + bytes([ofp.OFPT_ECHO_REPLY])
                                  + msg[2:])
                continue
            if t == msg_type and (xid is None or x == xid):
                return msg

    def barrier(self):
        self.expect(ofp.OFPT_BARRIER_REPLY,
                    self.send(parser.OFPBarrierRequest(DP)))

    def close(self):
        self.sock.close()


def flow_mod(i, cookie=0):
    """Flow 'i': a MAC of its own from port 1 to port 2."""
    mac = '02:00:%02x:%02x:%02x:%02x' % (i >> 24 & 255, i >> 16 & 255,
                                         i >> 8 & 255, i & 255)
    return parser.OFPFlowMod(
        DP, cookie=cookie, table_id=0, priority=10,
        match=parser.OFPMatch(in_port=1, eth_dst=mac),
        instructions=[parser.OFPInstructionActions(
            ofp.OFPIT_APPLY_ACTIONS, [parser.OFPActionOutput(2)])])


def bundle(path, n):
    """Sends 'n' flow_mods in one bundle to the switch at 'path'.  Returns
    the seconds from the bundle's open request to its commit's reply (what
    "ovs-ofctl --bundle add-flows" waits for), and from the commit request
    to its reply."""
    c = Controller(path)
    flags = ofp.OFPBF_ATOMIC | ofp.OFPBF_ORDERED
    adds = []
    for i in range(n):
        fm = flow_mod(i)
        c.xid += 1
        fm.set_xid(c.xid)
        fm.serialize()
        add = parser.OFPBundleAddMsg(DP, 1, flags, fm, [])
        add.set_xid(c.xid)
        add.serialize()
        adds.append(bytes(add.buf))
    commit = parser.OFPBundleCtrlMsg(DP, 1, ofp.OFPBCT_COMMIT_REQUEST,
                                     flags, [])
    data = b''.join(adds)

    t0 = time.monotonic()
    opened = c.send(parser.OFPBundleCtrlMsg(DP, 1, ofp.OFPBCT_OPEN_REQUEST,
                                            flags, []))
    for i in range(0, len(data), 1 << 20):
        c.sock.sendall(data[i:i + (1 << 20)])
    t1 = time.monotonic()
    commit_xid = c.send(commit)
    c.expect(ofp.OFPT_BUNDLE_CONTROL, commit_xid)
    t2 = time.monotonic()
    c.close()
    return t2 - t0, t2 - t1


def one_at_a_time(path, k, base):
    """Sends 'k' flow_mods, each followed by a barrier; returns the
    latencies in seconds."""
    c = Controller(path)
    latencies = []
    for i in range(k):
        t0 = time.monotonic()
        c.send(flow_mod(base + i, cookie=1))
        c.barrier()
        latencies.append(time.monotonic() - t0)
    c.close()
    return latencies


def packet_in_rtt(path, k):
    """Sends 'k' packet-outs whose action outputs to the controller, one
    each 2 ms (below iovpd's default limit of 1,000 packet-ins a second);
    returns the latencies, in seconds, to each packet-in."""
    c = Controller(path)
    c.send(parser.OFPSetConfig(DP, 0, 0xffff))
    frame = bytes.fromhex('ffffffffffff0200000000990806000108000604000102'
                          '00000000990a0000090000000000000a000004')
    latencies = []
    for _ in range(k):
        t0 = time.monotonic()
        c.send(parser.OFPPacketOut(
            DP, buffer_id=ofp.OFP_NO_BUFFER, in_port=ofp.OFPP_CONTROLLER,
            actions=[parser.OFPActionOutput(ofp.OFPP_CONTROLLER,
                                            ofp.OFPCML_NO_BUFFER)],
            data=frame))
        c.expect(ofp.OFPT_PACKET_IN)
        latencies.append(time.monotonic() - t0)
        time.sleep(max(0, 0.002 - latencies[-1]))
    c.close()
    return latencies


def percentiles(latencies):
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1,
                      int(round(0.99 * len(ordered))) - 1)]
    return statistics.median(ordered) * 1000, p99 * 1000


def main():
    opts = options()
    smoke = 'smoke' in opts
    n = int(opts.get('flows', 1000 if smoke else 100000))
    k = int(opts.get('rounds', 50 if smoke else 1000))
    builddir = opts.get('builddir', os.getcwd())

    box = Sandbox(builddir)
    nb = os.path.join(box.tmp, 'nb.sock')
    box.iovpd_args = ['--openflow=punix:' + nb]
    try:
        box.start()
        wait(lambda: os.path.exists(nb), 30, 'the northbound listener')
        iovpd = box.ctl('iovpd', json_output=True)
        wait(lambda: iovpd.call('controller/show')['bridge_connected'], 30,
             'the northbound\'s connection to the bridge')
        box.ns_run('ovs-vsctl', 'add-br', 'br-peer', '--', 'set', 'bridge',
                   'br-peer', 'datapath_type=netdev', 'fail_mode=secure',
                   'protocols=OpenFlow14')
        peer = os.path.join(box.tmp, 'br-peer.mgmt')
        wait(lambda: os.path.exists(peer), 30, 'br-peer')

        print('OpenFlow northbound: %d flow_mods in one bundle, %d one at a '
              'time' % (n, k))
        nb_total, nb_commit = bundle(nb, n)
        peer_total, peer_commit = bundle(peer, n)
        print('  bundle, open to committed: iovpd %.3f s, OVS %.3f s, '
              'ratio %.2f (goal: at most 1.3)'
              % (nb_total, peer_total, nb_total / peer_total))
        print('  (of which the last message sent to committed: iovpd '
              '%.3f s, OVS %.3f s)' % (nb_commit, peer_commit))
        flows = box.ns_run('ovs-ofctl', '-O', 'OpenFlow15', 'dump-aggregate',
                           'br-int', 'table=100', capture_output=True,
                           text=True).stdout
        print('  flows in the controller\'s table 0 (bridge table 100): %s'
              % flows.split('flow_count=')[-1].strip())

        nb_p50, nb_p99 = percentiles(one_at_a_time(nb, k, n))
        peer_p50, peer_p99 = percentiles(one_at_a_time(peer, k, n))
        print('  flow_mod and barrier: iovpd p50 %.2f ms, p99 %.2f ms; '
              'OVS p50 %.2f ms, p99 %.2f ms; p99 ratio %.2f (goal: at '
              'most 2)' % (nb_p50, nb_p99, peer_p50, peer_p99,
                           nb_p99 / peer_p99))

        nb_p50, nb_p99 = percentiles(packet_in_rtt(nb, k))
        peer_p50, peer_p99 = percentiles(packet_in_rtt(peer, k))
        print('  packet-out to packet-in: iovpd p50 %.2f ms, p99 %.2f ms; '
              'OVS p50 %.2f ms, p99 %.2f ms'
              % (nb_p50, nb_p99, peer_p50, peer_p99))
        print('  iovpd %.1f MB resident' % box.rss_mb('iovpd'))
    finally:
        box.stop()


main()
