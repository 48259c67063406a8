#!/bin/bash
# Installs what iovp needs, builds it and starts the sandbox in ./sandbox:
# host1, a hypervisor in network namespace iovp-demo-host1 with an
# ovsdb-server (the Open_vSwitch and hardware_vtep databases), an
# ovs-vswitchd with the integration bridge br-int on the userspace
# datapath, iovpd, and four VMs (network namespaces iovp-demo-vm1..4 on
# br-int), bound to logical switches with vtep-ctl as a controller would:
# two in ls1, one in ls2, one a trunk in both.  Then it prints what iovpd
# reports and the flows it installed, and a table of which VM reaches
# which; then polices vm1 (iperf3's rates before and after, the meter,
# dump-policy) and removes that again; then a load balancer spreads
# connections from vm1 over vm2 and a new VM, vm9; then a new VM, vm10,
# is a capture port that gets copies of vm1's web traffic, read with tcpdump -r,
# and iovp-ofctl capture writes the same to a pcap file; then puts an ACL on vm2 and prints which of vm2's services the
# others reach, and the policy in force with its counters; then offload.
# Then a second host, host2 (namespace iovp-demo-host2, under
# ./sandbox/host2), with two VMs, joined to host1 by a veth underlay:
# the controller puts both logical switches on the VXLAN overlay, and the
# demo prints the tunnel with its BFD state and which VM reaches which
# across the hosts.  Last, two more VMs on host1 that an OpenFlow
# controller (stock ovs-ofctl on iovpd's listener) takes over: its view of
# the switch, its flows, and a ping that they carry.  The daemons and VMs stay for you to explore; "bash
# build-aux/demo.sh stop" removes them.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sandbox=$top/sandbox

# The demo's VMs: name=MAC=IP.  vm4 is a trunk: its address is the one it
# uses in both its VLANs.  vm1..4 are on host1, vm5 and vm6 on host2; vm7
# and vm8, on host1, come last, for the OpenFlow controller; vm9, on host1,
# is a second backend of the load balancer; vm10, on host1, a capture
# port.
vms="vm1=02:00:00:00:00:01=10.0.0.1 vm2=02:00:00:00:00:02=10.0.0.2
     vm3=02:00:00:00:00:03=10.0.0.3 vm4=02:00:00:00:00:04=10.0.0.4
     vm5=02:00:00:00:00:05=10.0.0.5 vm6=02:00:00:00:00:06=10.0.0.6
     vm7=02:00:00:00:00:07=10.0.0.7 vm8=02:00:00:00:00:08=10.0.0.8
     vm9=02:00:00:00:00:09=10.0.0.9 vm10=02:00:00:00:00:10="

# Runs a command on host1 or host2: in its network namespace.
host1() { ip netns exec iovp-demo-host1 "$@"; }
host2() { ip netns exec iovp-demo-host2 "$@"; }

# Stops the daemons that an earlier run started, by their pidfiles, and
# removes its hosts and VMs.
stop_sandbox() {
    for pidfile in "$sandbox"/service-*.pid; do
        [ -e "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
        rm -f "$pidfile"
    done
    for dir in "$sandbox/host2" "$sandbox"; do
        for daemon in iovpd ovs-vswitchd ovsdb-server; do
            pidfile=$dir/$daemon.pid
            if [ -e "$pidfile" ]; then
                pid=$(cat "$pidfile")
                # "exit --cleanup" makes ovs-vswitchd remove its datapath's
                # tap devices too; SIGTERM is the fallback.
                if ovs-appctl -t "$dir/$daemon.$pid.ctl" exit \
                        $([ $daemon = ovs-vswitchd ] && echo --cleanup) \
                        >/dev/null 2>&1 || kill "$pid" 2>/dev/null; then
                    for _ in $(seq 50); do
                        kill -0 "$pid" 2>/dev/null || break
                        sleep 0.1
                    done
                fi
                rm -f "$pidfile"
            fi
        done
    done
    for vm in $vms; do
        ip netns del "iovp-demo-${vm%%=*}" 2>/dev/null || true
    done
    # A host's namespace takes its VM ports and its underlay with it.
    ip netns del iovp-demo-host1 2>/dev/null || true
    ip netns del iovp-demo-host2 2>/dev/null || true
}

# add_vm HOST NAME MAC [IP]: a VM, network namespace iovp-demo-NAME, its
# eth0 the other end of port demo-NAME on HOST's br-int.
add_vm() {
    local host=$1 name=$2 mac=$3 ip=${4:-}
    ip netns add "iovp-demo-$name"
    $host ip link add "demo-$name" type veth peer name eth0 \
        netns "iovp-demo-$name"
    ip -n "iovp-demo-$name" link set eth0 address "$mac" up
    ip -n "iovp-demo-$name" link set lo up
    if [ -n "$ip" ]; then
        ip -n "iovp-demo-$name" addr add "$ip/24" dev eth0
    fi
    # The userspace datapath does not complete checksums that veth leaves
    # to offload.
    ip netns exec "iovp-demo-$name" ethtool -K eth0 tx off >/dev/null
    $host ethtool -K "demo-$name" tx off >/dev/null
    $host ip link set "demo-$name" up
}

if [ "${1:-}" = stop ]; then
    stop_sandbox
    echo "sandbox stopped"
    exit 0
fi

bash build-aux/build.sh
stop_sandbox
rm -rf "$sandbox"
mkdir -p "$sandbox"

export OVS_RUNDIR=$sandbox OVS_LOGDIR=$sandbox OVS_DBDIR=$sandbox \
       OVS_SYSCONFDIR=$sandbox IOVP_RUNDIR=$sandbox IOVP_LOGDIR=$sandbox
export PATH=$top/agent:$top/utilities:$PATH

step() { printf '\n== %s\n' "$*"; }

# start_host HOST DIR TUNNEL-IP: HOST's ovsdb-server (Open_vSwitch and
# hardware_vtep with iovp's schema), ovs-vswitchd (userspace datapath) and
# the underlay bridge br-phy with TUNNEL-IP, in HOST's namespace, with
# their files in DIR; iovpd is started by the caller.
start_host() {
    local host=$1 dir=$2 ip=$3
    ip netns add "iovp-demo-$host"
    $host ip link set lo up
    mkdir -p "$dir"
    ovsdb-tool create "$dir/conf.db" /usr/share/openvswitch/vswitch.ovsschema
    ovsdb-tool create "$dir/vtep.db" "$top/schemas/iovp.ovsschema"
    OVS_RUNDIR=$dir OVS_LOGDIR=$dir $host ovsdb-server --detach --no-chdir \
        --pidfile --log-file -vsyslog:off -vconsole:off --remote=punix:"$dir/db.sock" \
        "$dir/conf.db" "$dir/vtep.db"
    ovs-vsctl --db="unix:$dir/db.sock" --no-wait init -- \
        set Open_vSwitch . external_ids:system-id="$host" \
        external_ids:iovp-tunnel-ip="$ip"
    OVS_RUNDIR=$dir OVS_LOGDIR=$dir $host ovs-vswitchd "unix:$dir/db.sock" \
        --detach --no-chdir --pidfile --log-file -vsyslog:off -vconsole:off
    # The underlay: OVS's userspace tunnelling sends from an address on an
    # OVS bridge.
    ovs-vsctl --db="unix:$dir/db.sock" add-br br-phy -- \
        set bridge br-phy datapath_type=netdev
    $host ip addr add "$ip/24" dev br-phy
    $host ip link set br-phy up
}

step "host1 (network namespace iovp-demo-host1): ovsdb-server with Open_vSwitch and hardware_vtep (iovp's schema), ovs-vswitchd (userspace datapath)"
start_host host1 "$sandbox" 192.0.2.1
ovs-vsctl add-br br-int -- set bridge br-int datapath_type=netdev \
    fail_mode=secure protocols=OpenFlow13,OpenFlow14,OpenFlow15

step "starting iovpd, with each VM port's fast path offloaded (XDP), and an OpenFlow listener for a controller (punix:$sandbox/nb.sock)"
host1 iovpd --detach --no-chdir --pidfile --log-file -vsyslog:off -vconsole:off \
    --datapath-type=netdev --offload=xdp:mode=generic \
    --openflow="punix:$sandbox/nb.sock"

step "ovs-vsctl show"
ovs-vsctl show
step "ovsdb-client list-dbs"
ovsdb-client list-dbs "unix:$sandbox/db.sock"
step "iovp-ofctl version"
iovp-ofctl version
step "ovs-appctl -t iovpd list-commands"
ovs-appctl -t iovpd list-commands

step "four VMs plug into host1's br-int (namespaces iovp-demo-vm1..4)"
for vm in $vms; do
    IFS== read -r name mac ip <<< "$vm"
    case $name in vm5|vm6|vm7|vm8|vm9|vm10) continue ;; esac
    add_vm host1 "$name" "$mac" "$([ "$name" != vm4 ] && echo "$ip")"
    ovs-vsctl add-port br-int "demo-$name" -- \
        set interface "demo-$name" external_ids:iface-id="$name" \
        external_ids:attached-mac="$mac"
    echo "  $name ($mac, $ip) on port demo-$name"
done

step "iovpd reports itself, as a TOR does: vtep-ctl list-ps"
for _ in $(seq 50); do
    vtep-ctl --db="unix:$sandbox/db.sock" list-ps 2>/dev/null \
        | grep -q host1 && break
    sleep 0.1
done
vtep-ctl --db="unix:$sandbox/db.sock" list-ps
vtep-ctl --db="unix:$sandbox/db.sock" get Physical_Switch host1 tunnel_ips

for _ in $(seq 50); do
    [ "$(vtep-ctl --db="unix:$sandbox/db.sock" list-ports host1 | wc -l)" \
        = 4 ] && break
    sleep 0.1
done
step "and its ports: vtep-ctl list-ports host1"
vtep-ctl --db="unix:$sandbox/db.sock" list-ports host1

step "a controller binds them: vm1 and vm2 in ls1, vm3 in ls2, vm4 a trunk (VLAN 10 in ls1, 20 in ls2)"
vtep-ctl --db="unix:$sandbox/db.sock" \
    add-ls ls1 -- set Logical_Switch ls1 tunnel_key=5000 \
    -- add-ls ls2 -- set Logical_Switch ls2 tunnel_key=5001 \
    -- bind-ls host1 vm1 0 ls1 -- bind-ls host1 vm2 0 ls1 \
    -- bind-ls host1 vm3 0 ls2 \
    -- bind-ls host1 vm4 10 ls1 -- bind-ls host1 vm4 20 ls2
for _ in $(seq 50); do
    [ "$(vtep-ctl --db="unix:$sandbox/db.sock" list-local-macs ls1 \
         | grep -c vxlan)" = 3 ] \
        && [ "$(iovp-ofctl dump-flows vm4 | grep -c table=50)" = 2 ] \
        && break
    sleep 0.1
done

step "iovp-ofctl show"
iovp-ofctl show

step "iovpd reports the VMs' MACs: vtep-ctl list-local-macs ls1, ls2"
vtep-ctl --db="unix:$sandbox/db.sock" list-local-macs ls1
vtep-ctl --db="unix:$sandbox/db.sock" list-local-macs ls2

step "the flows iovpd installed for vm4, the trunk: iovp-ofctl dump-flows vm4"
iovp-ofctl dump-flows vm4

# reaches FROM TO: whether VM FROM reaches VM TO: a ping between untagged
# VMs; from the trunk ("vm4.VLAN"), an ARP request in that VLAN, sent and
# answered through a packet socket (this kernel has no VLAN devices).
reaches() {
    local from=$1 to=$2 to_ip
    to_ip=$(tr ' \n' '\n\n' <<< "$vms" | sed -n "s/^$to=.*=//p")
    case $from in
    vm4.*)
        ip netns exec iovp-demo-vm4 python3 "$top/tests/raw-frame.py" arp \
            eth0 "${from#vm4.}" 02:00:00:00:00:04 10.0.0.4 "$to_ip" 1 \
            >/dev/null
        ;;
    *)
        ip netns exec "iovp-demo-$from" ping -q -c 1 -W 1 "$to_ip" \
            >/dev/null
        ;;
    esac
}

# reach_table "TO..." "FROM (WHAT)"...: a table of whether each VM FROM
# reaches each VM TO (see reaches).
reach_table() {
    local tos=$1 from to result
    shift
    printf '%-22s' "from \\ to"
    for to in $tos; do
        printf ' %-6s' "$to"
    done
    printf '\n'
    for from in "$@"; do
        printf '%-22s' "$from"
        for to in $tos; do
            if [ "${from%% *}" = "$to" ]; then
                result=-
            elif reaches "${from%% *}" "$to"; then
                result=yes
            else
                result=no
            fi
            printf ' %-6s' "$result"
        done
        printf '\n'
    done
}

step "which VM reaches which (ping; from the trunk, ARP in each VLAN)"
reach_table "vm1 vm2 vm3" "vm1 (ls1)" "vm2 (ls1)" "vm3 (ls2)" \
    "vm4.10 (trunk, ls1)" "vm4.20 (trunk, ls2)" "vm4.30 (unbound)"

# iperf_rate FROM TO-IP tcp|udp: the rate, in Mbit/s, that iperf3 on the VM
# with TO-IP received in 5 s from VM FROM (UDP offered at 50 Mbit/s).
iperf_rate() {
    local to
    to=$(for vm in $vms; do [ "${vm##*=}" = "$2" ] && echo "${vm%%=*}"; done)
    ip netns exec "iovp-demo-$to" iperf3 -s -1 -J > "$sandbox/iperf.json" &
    local server=$!
    for _ in $(seq 50); do
        ip netns exec "iovp-demo-$to" ss -Hltn sport = :5201 | grep -q . \
            && break
        sleep 0.1
    done
    ip netns exec "iovp-demo-$1" iperf3 -c "$2" -t 5 \
        $([ "$3" = udp ] && echo -u -b 50M -l 1400) > /dev/null
    wait $server
    python3 -c 'import json, sys
print("%.1f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]
                ["bits_per_second"] / 1e6))' "$sandbox/iperf.json"
}

# qos_db OP...: a transaction on host1's iovp tables, as a controller makes
# it (vtep-ctl knows only hardware_vtep's own tables).
qos_db() {
    ovsdb-client transact "unix:$sandbox/db.sock" \
        "[\"hardware_vtep\", $(IFS=,; echo "$*")]" > /dev/null
}

step "QoS: what vm1 sends to vm2, by iperf3 for 5 s, before any QoS"
printf 'TCP %s Mbit/s, UDP (50 offered) %s Mbit/s\n' \
    "$(iperf_rate vm1 10.0.0.2 tcp)" "$(iperf_rate vm1 10.0.0.2 udp)"

step "a controller polices vm1 at 10 Mbit/s and marks its IP traffic DSCP 46 (an Iovp_QoS row, bound in vm1's Iovp_Port qos_bindings)"
qos_db '{"op": "insert", "table": "Iovp_QoS", "uuid-name": "q",
         "row": {"name": "gold-10M", "police_rate": 10000, "dscp": 46}}' \
       '{"op": "insert", "table": "Iovp_Port",
         "row": {"physical_port": ["uuid", "'"$(vtep-ctl get Physical_Port vm1 _uuid)"'"],
                 "qos_bindings": ["map", [[0, ["named-uuid", "q"]]]]}}'
for _ in $(seq 50); do
    ovs-ofctl -O OpenFlow15 dump-meters br-int | grep -q rate=10000 && break
    sleep 0.1
done
printf 'TCP %s Mbit/s, UDP (50 offered) %s Mbit/s\n' \
    "$(iperf_rate vm1 10.0.0.2 tcp)" "$(iperf_rate vm1 10.0.0.2 udp)"

step "the meter and the QoS flows iovpd installed (ovs-ofctl dump-meters br-int; table 20)"
ovs-ofctl -O OpenFlow15 dump-meters br-int
ovs-ofctl -O OpenFlow15 --no-stats dump-flows br-int table=20

step "iovp-ofctl dump-policy vm1: the QoS with what passed and what the meter dropped"
iovp-ofctl dump-policy vm1

step "the controller removes vm1's QoS binding (the rest of the demo runs without it)"
qos_db '{"op": "update", "table": "Iovp_Port",
         "where": [["physical_port", "==", ["uuid", "'"$(vtep-ctl get Physical_Port vm1 _uuid)"'"]]],
         "row": {"qos_bindings": ["map", []]}}'
for _ in $(seq 50); do
    ovs-ofctl -O OpenFlow15 dump-meters br-int | grep -q rate= || break
    sleep 0.1
done

step "load balancing: vm9 plugs into ls1; a controller puts VIP 10.0.0.100:80 in ls1 over vm2 and vm9 (an Iovp_Load_Balancer row with two Iovp_LB_Backend rows), each serving its name on port 8080"
add_vm host1 vm9 02:00:00:00:00:09 10.0.0.9
ovs-vsctl add-port br-int demo-vm9 -- set interface demo-vm9 \
    external_ids:iface-id=vm9 external_ids:attached-mac=02:00:00:00:00:09
for _ in $(seq 50); do
    vtep-ctl list-ports host1 | grep -q '^vm9$' && break
    sleep 0.1
done
vtep-ctl bind-ls host1 vm9 0 ls1
cat > "$sandbox/name-server.py" <<'EOT'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080))
s.listen(64)
while True:
    c = s.accept()[0]
    c.sendall(sys.argv[1].encode() + b"\n")
    c.close()
EOT
for vm in vm2 vm9; do
    ip netns exec "iovp-demo-$vm" python3 "$sandbox/name-server.py" "$vm" \
        </dev/null >/dev/null 2>&1 &
    echo $! > "$sandbox/service-lb-$vm.pid"
done
qos_db '{"op": "insert", "table": "Iovp_LB_Backend", "uuid-name": "b2",
         "row": {"physical_port": ["uuid", "'"$(vtep-ctl get Physical_Port vm2 _uuid)"'"],
                 "ip": "10.0.0.2", "port": 8080}}' \
       '{"op": "insert", "table": "Iovp_LB_Backend", "uuid-name": "b9",
         "row": {"physical_port": ["uuid", "'"$(vtep-ctl get Physical_Port vm9 _uuid)"'"],
                 "ip": "10.0.0.9", "port": 8080}}' \
       '{"op": "insert", "table": "Iovp_Load_Balancer",
         "row": {"name": "web", "vip": "10.0.0.100", "port": 80,
                 "protocol": "tcp",
                 "logical_switch": ["uuid", "'"$(vtep-ctl --bare --columns=_uuid find Logical_Switch name=ls1)"'"],
                 "backends": ["set", [["named-uuid", "b2"], ["named-uuid", "b9"]]]}}'
for _ in $(seq 50); do
    [ "$(ovs-ofctl -O OpenFlow15 dump-flows br-int table=27 | grep -c nat)" = 2 ] \
        && break
    sleep 0.1
done

step "vm1 opens 200 TCP connections to 10.0.0.100:80: which backend answered each"
ip netns exec iovp-demo-vm1 python3 - <<'EOT'
import collections, socket
counts = collections.Counter()
for _ in range(200):
    s = socket.create_connection(("10.0.0.100", 80), timeout=2)
    counts[s.makefile().readline().strip()] += 1
    s.close()
for name, n in sorted(counts.items()):
    print("%s: %d connections" % (name, n))
EOT

step "iovp-ofctl show: the load balancer, its backends' states and the connections each took (as of the last read of the counters)"
sleep 5
iovp-ofctl show | sed -n '/load balancer/,$p' | grep -v '^ tunnel\|^ logical switch\|^   remote\|^   multicast'

step "capture: vm10 plugs into host1 as a capture port (Iovp_Port profile=capture); a controller copies vm1's web traffic to it, 96 bytes a frame (an Iovp_Capture row)"
add_vm host1 vm10 02:00:00:00:00:10
ovs-vsctl add-port br-int demo-vm10 -- set interface demo-vm10 \
    external_ids:iface-id=vm10 external_ids:attached-mac=02:00:00:00:00:10
for _ in $(seq 50); do
    vtep-ctl list-ports host1 | grep -q '^vm10$' && break
    sleep 0.1
done
qos_db '{"op": "insert", "table": "Iovp_Port",
         "row": {"physical_port": ["uuid", "'"$(vtep-ctl get Physical_Port vm10 _uuid)"'"],
                 "profile": "capture"}}' \
       '{"op": "insert", "table": "Iovp_Capture",
         "row": {"name": "vm1-web", "match": "tcp,tp_dst=80", "snaplen": 96,
                 "direction": "ingress",
                 "source_port": ["uuid", "'"$(vtep-ctl get Physical_Port vm1 _uuid)"'"],
                 "destination": ["uuid", "'"$(vtep-ctl get Physical_Port vm10 _uuid)"'"]}}'
for _ in $(seq 50); do
    ovs-ofctl -O OpenFlow15 dump-flows br-int table=0 | grep -q max_len=96 \
        && break
    sleep 0.1
done
ip netns exec iovp-demo-vm10 tcpdump -i eth0 -Q in -nn -U \
    -w "$sandbox/vm1-web.pcap" 'not ip6' >/dev/null 2>"$sandbox/tcpdump.err" &
tcpdump_pid=$!
for _ in $(seq 50); do
    grep -q listening "$sandbox/tcpdump.err" && break
    sleep 0.1
done
ip netns exec iovp-demo-vm1 python3 - <<'EOT'
import socket
for _ in range(2):
    s = socket.create_connection(("10.0.0.100", 80), timeout=2)
    s.makefile().readline()
    s.close()
EOT
sleep 1
kill $tcpdump_pid
wait $tcpdump_pid 2>/dev/null || true

step "tcpdump -r vm1-web.pcap: what the capture port got (vm1's frames to port 80, through the VIP, cut to 96 bytes)"
tcpdump -r "$sandbox/vm1-web.pcap" -nn -e 2>/dev/null
qos_db '{"op": "delete", "table": "Iovp_Capture",
         "where": [["name", "==", "vm1-web"]]}'

step "iovp-ofctl capture vm1 tcp,tp_dst=80 -s 96 -w vm1-cmd.pcap: the same from a terminal, through a capture port that iovpd makes for the command's life"
# (In host1's namespace, where ovs-vswitchd makes the capture port; not
# through host1(), so that $! is iovp-ofctl's pid, not a subshell's.)
ip netns exec iovp-demo-host1 iovp-ofctl capture vm1 'tcp,tp_dst=80' -s 96 \
    -w "$sandbox/vm1-cmd.pcap" 2>"$sandbox/capture.err" &
capture_pid=$!
for _ in $(seq 100); do
    grep -q capturing "$sandbox/capture.err" && break
    sleep 0.1
done
ip netns exec iovp-demo-vm1 python3 - <<'EOT'
import socket
s = socket.create_connection(("10.0.0.100", 80), timeout=2)
s.makefile().readline()
s.close()
EOT
sleep 1
kill -INT $capture_pid
wait $capture_pid 2>/dev/null || true
cat "$sandbox/capture.err"
tcpdump -r "$sandbox/vm1-cmd.pcap" -nn 2>/dev/null

# The services vm2 offers: TCP 22 and 80 (connections accepted), UDP 53
# (datagrams echoed).
cat > "$sandbox/service.py" <<'EOT'
import socket, sys
proto, port = sys.argv[1], int(sys.argv[2])
kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, kind)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port))
if proto == "tcp":
    s.listen(16)
while True:
    if proto == "tcp":
        s.accept()[0].close()
    else:
        data, peer = s.recvfrom(100)
        s.sendto(data, peer)
EOT
for service in tcp:22 tcp:80 udp:53; do
    ip netns exec iovp-demo-vm2 python3 "$sandbox/service.py" \
        "${service%%:*}" "${service#*:}" </dev/null >/dev/null 2>&1 &
    echo $! > "$sandbox/service-${service/:/-}.pid"
done

# service_reaches FROM PROTO:PORT: whether VM FROM reaches vm2's service.
service_reaches() {
    ip netns exec "iovp-demo-$1" python3 - "${2%%:*}" "${2#*:}" <<'EOT'
import socket, sys
proto, port = sys.argv[1], int(sys.argv[2])
try:
    if proto == "tcp":
        socket.create_connection(("10.0.0.2", port), timeout=1).close()
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(1)
        s.sendto(b"x", ("10.0.0.2", port))
        s.recv(100)
except OSError:
    sys.exit(1)
EOT
}

step "a controller puts an ACL on vm2 (vtep-ctl's generic commands): of TCP, web only; no DNS"
vtep-ctl --db="unix:$sandbox/db.sock" \
    -- --id=@e1 create ACL_entry sequence=10 direction=egress action=permit \
       protocol=6 dest_port_min=80 dest_port_max=80 \
    -- --id=@e2 create ACL_entry sequence=20 direction=egress action=deny \
       protocol=6 \
    -- --id=@e3 create ACL_entry sequence=30 direction=egress action=deny \
       protocol=17 dest_port_min=53 dest_port_max=53 \
    -- --id=@a create ACL acl_name=vm2-in acl_entries=@e1,@e2,@e3 \
    -- set Physical_Port vm2 acl_bindings:0=@a >/dev/null
for _ in $(seq 50); do
    [ "$(iovp-ofctl dump-flows | grep -c 'table=40, .*priority=5992')" -ge 1 ] \
        && break
    sleep 0.1
done
sleep 0.3

step "which services of vm2 each VM reaches"
printf '%-22s %-6s %-8s %-8s %-8s\n' "from \\ to vm2" ping tcp/22 tcp/80 udp/53
for from in "vm1 (ls1)" "vm3 (ls2)"; do
    printf '%-22s' "$from"
    from=${from%% *}
    if ip netns exec iovp-demo-$from ping -q -c 1 -W 1 10.0.0.2 >/dev/null
    then printf ' %-6s' yes; else printf ' %-6s' no; fi
    for service in tcp:22 tcp:80 udp:53; do
        if service_reaches $from $service; then
            printf ' %-8s' yes
        else
            printf ' %-8s' no
        fi
    done
    printf '\n'
done

step "the policy in force on vm2, with counters: iovp-ofctl dump-policy vm2"
iovp-ofctl dump-policy vm2

step "offload: vm1's fast path in the NIC (an XDP program on vm1's port): iovp-ofctl dump-offload vm1"
iovp-ofctl dump-offload vm1 | cut -c1-160

step "vm1 sends 3000 datagrams to vm2: 1000 to UDP 53 (denied), 2000 to UDP 5000"
ip netns exec iovp-demo-vm1 python3 - <<'EOT'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3000):
    s.sendto(b"x" * 64, ("10.0.0.2", 53 if i % 3 == 0 else 5000))
    if i % 100 == 99:
        time.sleep(0.01)
EOT
sleep 6     # iovpd reads the NIC's counters every 5 s
iovp-ofctl dump-offload | head -1
printf 'share of what the VMs sent that the NIC decided (Iovp_Offload hit_rate): '
ovsdb-client dump "unix:$sandbox/db.sock" hardware_vtep Iovp_Offload \
    hit_rate | tail -1
printf 'the drop entry for UDP 53 toward vm2, in the NIC: '
iovp-ofctl dump-offload vm1 | grep 'tp_dst=53 actions=drop' \
    | sed 's/.*n_packets=/n_packets=/'

step "the NIC's table checked against iovpd's reference model, and the model against OVS: iovp-ofctl verify-offload vm1 2000"
iovp-ofctl verify-offload vm1 2000

step "a second host, host2 (namespace iovp-demo-host2, files in $sandbox/host2), joined to host1 by an underlay link: 192.0.2.1 to 192.0.2.2"
start_host host2 "$sandbox/host2" 192.0.2.2
host1 ip link add ul1 type veth peer name ul2 netns iovp-demo-host2
host1 ethtool -K ul1 tx off >/dev/null
host2 ethtool -K ul2 tx off >/dev/null
host1 ip link set ul1 up
host2 ip link set ul2 up
ovs-vsctl add-port br-phy ul1
vsctl2() { ovs-vsctl --db="unix:$sandbox/host2/db.sock" "$@"; }
vtep1() { vtep-ctl --db="unix:$sandbox/db.sock" "$@"; }
vtep2() { vtep-ctl --db="unix:$sandbox/host2/db.sock" "$@"; }
vsctl2 add-port br-phy ul2
OVS_RUNDIR=$sandbox/host2 IOVP_RUNDIR=$sandbox/host2 \
IOVP_LOGDIR=$sandbox/host2 host2 iovpd --detach --no-chdir --pidfile \
    --log-file -vsyslog:off -vconsole:off --datapath-type=netdev
for _ in $(seq 50); do
    vsctl2 br-exists br-int 2>/dev/null && break
    sleep 0.1
done

step "two VMs plug into host2's br-int: vm5, bound to ls1, and vm6, to ls2"
for vm in $vms; do
    IFS== read -r name mac ip <<< "$vm"
    case $name in vm5|vm6) ;; *) continue ;; esac
    add_vm host2 "$name" "$mac" "$ip"
    vsctl2 add-port br-int "demo-$name" -- \
        set interface "demo-$name" external_ids:iface-id="$name" \
        external_ids:attached-mac="$mac"
    echo "  $name ($mac, $ip) on port demo-$name"
done
for _ in $(seq 50); do
    [ "$(vtep2 list-ports host2 2>/dev/null | wc -l)" = 2 ] && break
    sleep 0.1
done
vtep2 add-ls ls1 -- set Logical_Switch ls1 tunnel_key=5000 \
    -- add-ls ls2 -- set Logical_Switch ls2 tunnel_key=5001 \
    -- bind-ls host2 vm5 0 ls1 -- bind-ls host2 vm6 0 ls2
for _ in $(seq 50); do
    [ "$(vtep2 list-local-macs ls2 | grep -c vxlan_over_ipv4/192.0.2.2)" \
        = 2 ] && break
    sleep 0.1
done

# copy_macs FROM TO IP LS: the controller's work: FROM's local MACs of LS
# become TO's remote MACs of LS behind FROM's tunnel address IP, and IP
# gets TO's broadcast, unknown unicast and multicast of LS.
copy_macs() {
    local from=$1 to=$2 ip=$3 ls=$4 mac
    for mac in $($from list-local-macs "$ls" \
                 | sed -n 's/^  \([0-9a-f:]*\) -> .*/\1/p'); do
        $to add-ucast-remote "$ls" "$mac" "$ip"
    done
    $to add-mcast-remote "$ls" unknown-dst "$ip"
}

step "the controller puts ls1 (VNI 5000) and ls2 (VNI 5001) on the overlay: each host's local MACs become the other's remote MACs, and each host floods to the other"
for ls in ls1 ls2; do
    copy_macs vtep1 vtep2 192.0.2.1 "$ls"
    copy_macs vtep2 vtep1 192.0.2.2 "$ls"
done
vtep1 list-remote-macs ls1
for _ in $(seq 50); do
    [ -n "$(vtep1 --bare --columns=_uuid list Tunnel)" ] \
        && [ -n "$(vtep2 --bare --columns=_uuid list Tunnel)" ] && break
    sleep 0.1
done

step "and turns BFD on for the tunnel, on both sides (Tunnel bfd_params)"
vtep1 set Tunnel "$(vtep1 --bare --columns=_uuid list Tunnel)" \
    bfd_params:enable=true bfd_params:min_rx=100 bfd_params:min_tx=100
vtep2 set Tunnel "$(vtep2 --bare --columns=_uuid list Tunnel)" \
    bfd_params:enable=true bfd_params:min_rx=100 bfd_params:min_tx=100
for _ in $(seq 100); do
    [ "$(vtep1 --bare --columns=bfd_status list Tunnel \
         | grep -o 'forwarding=true')" ] && break
    sleep 0.1
done
# The first frames to host2 wait for ARP on the underlay.
for _ in $(seq 20); do
    reaches vm1 vm5 && break
done

step "host1's view: iovp-ofctl show (the tunnel to host2, its BFD state, the overlay)"
iovp-ofctl show
printf 'host1'"'"'s Tunnel row, as the controller reads it: '
vtep1 --bare --columns=bfd_status list Tunnel

step "which VM reaches which across the hosts (ping over VXLAN; from the trunk, ARP in each VLAN)"
reach_table "vm1 vm3 vm5 vm6" "vm1 (host1, ls1)" "vm3 (host1, ls2)" \
    "vm4.10 (host1, ls1)" "vm4.20 (host1, ls2)" "vm5 (host2, ls1)" \
    "vm6 (host2, ls2)"

step "a frame from vm1 to vm5 on host2, traced: into the tunnel with ls1's VNI, and OVS agrees: iovp-ofctl trace vm1 ..."
iovp-ofctl trace vm1 \
    'tcp,dl_dst=02:00:00:00:00:05,nw_src=10.0.0.1,nw_dst=10.0.0.5,tp_dst=80' \
    | sed 's/,eth(.*,ipv4(src=\([0-9.]*\),dst=\([0-9.]*\),.*,vxlan(\([^)]*\))/,...,ipv4(src=\1,dst=\2,...),...,vxlan(\3)/'

step "the OpenFlow northbound: two more VMs plug into host1, vm7 and vm8, and the controller takes them over (Iovp_Port mode=openflow)"
for vm in vm7=02:00:00:00:00:07=10.0.0.7 vm8=02:00:00:00:00:08=10.0.0.8; do
    IFS== read -r name mac ip <<< "$vm"
    add_vm host1 "$name" "$mac" "$ip"
    ovs-vsctl add-port br-int "demo-$name" -- \
        set interface "demo-$name" external_ids:iface-id="$name" \
        external_ids:attached-mac="$mac"
    for _ in $(seq 50); do
        vtep1 list-ports host1 | grep -q "^$name\$" && break
        sleep 0.1
    done
    ovsdb-client transact "unix:$sandbox/db.sock" '["hardware_vtep",
        {"op": "insert", "table": "Iovp_Port",
         "row": {"physical_port": ["uuid", "'"$(vtep1 get Physical_Port "$name" _uuid)"'"],
                 "mode": "openflow"}}]' >/dev/null
done
nb=unix:$sandbox/nb.sock
for _ in $(seq 50); do
    ovs-ofctl -O OpenFlow13 dump-ports-desc "$nb" 2>/dev/null \
        | grep -q vm8 && break
    sleep 0.1
done

step "the controller (stock ovs-ofctl on iovpd's listener) sees an OpenFlow switch whose ports are vm7 and vm8: ovs-ofctl -O OpenFlow13 show $nb"
ovs-ofctl -O OpenFlow13 show "$nb"

step "it adds its flows, one from each VM to the other, and vm7 reaches vm8 by them"
ovs-ofctl -O OpenFlow13 add-flow "$nb" 'cookie=0x7,priority=10,in_port=vm7,actions=output:vm8'
ovs-ofctl -O OpenFlow13 add-flow "$nb" 'cookie=0x8,priority=10,in_port=vm8,actions=output:vm7'
ip netns exec iovp-demo-vm7 ping -q -c 3 -i 0.2 -W 1 10.0.0.8 | grep transmitted

step "the controller's flows, with their counters, as it sees them: ovs-ofctl -O OpenFlow13 dump-flows $nb"
ovs-ofctl -O OpenFlow13 dump-flows "$nb"

step "and as the bridge holds them, in its tables 100 and up, each output through the egress ACL of the port it reaches: ovs-ofctl dump-flows br-int table=100"
ovs-ofctl -O OpenFlow15 --no-stats dump-flows br-int table=100

step "iovp-ofctl controller/show"
iovp-ofctl controller/show

cat <<EOT

The sandbox is running in $sandbox.  To explore it:
    export OVS_RUNDIR=$sandbox IOVP_RUNDIR=$sandbox PATH=$top/agent:$top/utilities:\$PATH
    iovp-ofctl show
    iovp-ofctl dump-flows [PORT]
    iovp-ofctl dump-policy [PORT]
    iovp-ofctl dump-offload [PORT]
    iovp-ofctl verify-offload PORT
    iovp-ofctl trace PORT FLOW
    iovp-ofctl dump-flows vxc0000202       (the tunnel to host2)
    iovp-ofctl --format=json ovsdb/status
    iovp-ofctl ofp/status
    iovp-ofctl controller/show
    ovs-ofctl -O OpenFlow13 dump-flows unix:$sandbox/nb.sock   (as the controller)
    iovp-ofctl ovsdb/dump hardware_vtep
    ovs-appctl -t iovpd vlog/list
    ovs-vsctl show
host2's: the same with OVS_RUNDIR=IOVP_RUNDIR=$sandbox/host2.
Logs: $sandbox/*.log, $sandbox/host2/*.log.  Stop it with:
    bash build-aux/demo.sh stop
EOT
