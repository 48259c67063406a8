#!/bin/bash
# Installs what iovp needs, builds it and starts the sandbox in ./sandbox:
# an ovsdb-server with the Open_vSwitch and hardware_vtep databases, an
# ovs-vswitchd with the integration bridge br-int on the userspace
# datapath, iovpd, and four VMs (network namespaces iovp-demo-vm1..4 on
# br-int), bound to logical switches with vtep-ctl as a controller would:
# two in ls1, one in ls2, one a trunk in both.  Then it prints what iovpd
# reports and the flows it installed, and a table of which VM reaches
# which; then puts an ACL on vm2 and prints which of vm2's services the
# others reach, and the policy in force with its counters.  The daemons and VMs stay for you to explore; "bash
# build-aux/demo.sh stop" removes them.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sandbox=$top/sandbox

# The demo's VMs: name=MAC=IP.  vm4 is a trunk: its address is the one it
# uses in both its VLANs.
vms="vm1=02:00:00:00:00:01=10.0.0.1 vm2=02:00:00:00:00:02=10.0.0.2
     vm3=02:00:00:00:00:03=10.0.0.3 vm4=02:00:00:00:00:04=10.0.0.4"

# Stops the daemons that an earlier run started, by their pidfiles, and
# removes its VMs.
stop_sandbox() {
    for pidfile in "$sandbox"/service-*.pid; do
        [ -e "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
        rm -f "$pidfile"
    done
    for vm in $vms; do
        name=${vm%%=*}
        ip netns del "iovp-demo-$name" 2>/dev/null || true
        ip link del "demo-$name" 2>/dev/null || true
    done
    for daemon in iovpd ovs-vswitchd ovsdb-server; do
        pidfile=$sandbox/$daemon.pid
        if [ -e "$pidfile" ]; then
            pid=$(cat "$pidfile")
            # "exit --cleanup" makes ovs-vswitchd remove its datapath's
            # tap devices too; SIGTERM is the fallback.
            if ovs-appctl -t "$sandbox/$daemon.$pid.ctl" exit \
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

step "starting ovsdb-server with Open_vSwitch and hardware_vtep (iovp's schema)"
ovsdb-tool create "$sandbox/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-tool create "$sandbox/vtep.db" "$top/schemas/iovp.ovsschema"
ovsdb-server --detach --no-chdir --pidfile --log-file -vsyslog:off \
    --remote=punix:"$sandbox/db.sock" "$sandbox/conf.db" "$sandbox/vtep.db"
ovs-vsctl --no-wait init

step "starting ovs-vswitchd (userspace datapath) with bridge br-int"
ovs-vswitchd --detach --no-chdir --pidfile --log-file -vsyslog:off
ovs-vsctl add-br br-int -- set bridge br-int datapath_type=netdev \
    fail_mode=secure protocols=OpenFlow13,OpenFlow14,OpenFlow15

step "starting iovpd, with each VM port's fast path offloaded (XDP)"
ovs-vsctl set Open_vSwitch . external_ids:system-id=host1 \
    external_ids:iovp-tunnel-ip=192.0.2.1
iovpd --detach --no-chdir --pidfile --log-file -vsyslog:off \
    --datapath-type=netdev --offload=xdp:mode=generic

step "ovs-vsctl show"
ovs-vsctl show
step "ovsdb-client list-dbs"
ovsdb-client list-dbs "unix:$sandbox/db.sock"
step "iovp-ofctl version"
iovp-ofctl version
step "ovs-appctl -t iovpd list-commands"
ovs-appctl -t iovpd list-commands

step "four VMs plug into br-int (namespaces iovp-demo-vm1..4)"
for vm in $vms; do
    IFS== read -r name mac ip <<< "$vm"
    ip netns add "iovp-demo-$name"
    ip link add "demo-$name" type veth peer name eth0 \
        netns "iovp-demo-$name"
    ip -n "iovp-demo-$name" link set eth0 address "$mac" up
    ip -n "iovp-demo-$name" link set lo up
    if [ "$name" != vm4 ]; then
        ip -n "iovp-demo-$name" addr add "$ip/24" dev eth0
    fi
    # The userspace datapath does not complete checksums that veth leaves
    # to offload.
    ip netns exec "iovp-demo-$name" ethtool -K eth0 tx off >/dev/null
    ethtool -K "demo-$name" tx off >/dev/null
    ip link set "demo-$name" up
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

step "which VM reaches which (ping; from the trunk, ARP in each VLAN)"
printf '%-22s %-6s %-6s %-6s\n' "from \\ to" vm1 vm2 vm3
for from in "vm1 (ls1)" "vm2 (ls1)" "vm3 (ls2)" "vm4.10 (trunk, ls1)" \
            "vm4.20 (trunk, ls2)" "vm4.30 (unbound)"; do
    printf '%-22s' "$from"
    for to in vm1 vm2 vm3; do
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

cat <<EOT

The sandbox is running in $sandbox.  To explore it:
    export OVS_RUNDIR=$sandbox IOVP_RUNDIR=$sandbox PATH=$top/agent:$top/utilities:\$PATH
    iovp-ofctl show
    iovp-ofctl dump-flows [PORT]
    iovp-ofctl dump-policy [PORT]
    iovp-ofctl dump-offload [PORT]
    iovp-ofctl verify-offload PORT
    iovp-ofctl trace PORT FLOW
    iovp-ofctl --format=json ovsdb/status
    iovp-ofctl ofp/status
    iovp-ofctl ovsdb/dump hardware_vtep
    ovs-appctl -t iovpd vlog/list
    ovs-vsctl show
Logs: $sandbox/*.log.  Stop it with: bash build-aux/demo.sh stop
EOT
