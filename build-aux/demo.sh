#!/bin/bash
# Installs what iovp needs, builds it and starts the sandbox in ./sandbox:
# an ovsdb-server with the Open_vSwitch and hardware_vtep databases, an
# ovs-vswitchd with the integration bridge br-int on the userspace
# datapath, iovpd, and three VMs (network namespaces iovp-demo-vm1..3 on
# br-int), bound to logical switches with vtep-ctl as a controller would;
# then prints what iovpd reports.  The daemons and VMs stay for you to
# explore; "bash build-aux/demo.sh stop" removes them.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sandbox=$top/sandbox

# The demo's VMs: name, MAC.
vms="vm1=02:00:00:00:00:01 vm2=02:00:00:00:00:02 vm3=02:00:00:00:00:03"

# Stops the daemons that an earlier run started, by their pidfiles, and
# removes its VMs.
stop_sandbox() {
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

step "starting iovpd"
ovs-vsctl set Open_vSwitch . external_ids:system-id=host1 \
    external_ids:iovp-tunnel-ip=192.0.2.1
iovpd --detach --no-chdir --pidfile --log-file -vsyslog:off \
    --datapath-type=netdev

step "ovs-vsctl show"
ovs-vsctl show
step "ovsdb-client list-dbs"
ovsdb-client list-dbs "unix:$sandbox/db.sock"
step "iovp-ofctl version"
iovp-ofctl version
step "ovs-appctl -t iovpd list-commands"
ovs-appctl -t iovpd list-commands

step "three VMs plug into br-int (namespaces iovp-demo-vm1..3)"
for vm in $vms; do
    name=${vm%%=*} mac=${vm#*=}
    ip netns add "iovp-demo-$name"
    ip link add "demo-$name" type veth peer name eth0 \
        netns "iovp-demo-$name"
    ip -n "iovp-demo-$name" link set eth0 address "$mac" up
    ip link set "demo-$name" up
    ovs-vsctl add-port br-int "demo-$name" -- \
        set interface "demo-$name" external_ids:iface-id="$name" \
        external_ids:attached-mac="$mac"
    echo "  $name ($mac) on port demo-$name"
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
        = 3 ] && break
    sleep 0.1
done
step "and its ports: vtep-ctl list-ports host1"
vtep-ctl --db="unix:$sandbox/db.sock" list-ports host1

step "a controller binds them: vm1 and vm2 in ls1, vm3 a trunk (VLAN 10 in ls1, 20 in ls2)"
vtep-ctl --db="unix:$sandbox/db.sock" \
    add-ls ls1 -- set Logical_Switch ls1 tunnel_key=5000 \
    -- add-ls ls2 -- set Logical_Switch ls2 tunnel_key=5001 \
    -- bind-ls host1 vm1 0 ls1 -- bind-ls host1 vm2 0 ls1 \
    -- bind-ls host1 vm3 10 ls1 -- bind-ls host1 vm3 20 ls2
for _ in $(seq 50); do
    [ "$(vtep-ctl --db="unix:$sandbox/db.sock" list-local-macs ls1 \
         | grep -c vxlan)" = 3 ] && break
    sleep 0.1
done

step "iovp-ofctl show"
iovp-ofctl show

step "iovpd reports the VMs' MACs: vtep-ctl list-local-macs ls1, ls2"
vtep-ctl --db="unix:$sandbox/db.sock" list-local-macs ls1
vtep-ctl --db="unix:$sandbox/db.sock" list-local-macs ls2
for _ in $(seq 50); do
    iovp-ofctl ovsdb/status | grep -q 'Logical_Switch.*1' && break
    sleep 0.1
done
step "iovp-ofctl ovsdb/status (iovpd's replicas of both databases)"
iovp-ofctl ovsdb/status

cat <<EOT

The sandbox is running in $sandbox.  To explore it:
    export OVS_RUNDIR=$sandbox IOVP_RUNDIR=$sandbox PATH=$top/agent:$top/utilities:\$PATH
    iovp-ofctl show
    iovp-ofctl --format=json ovsdb/status
    iovp-ofctl ofp/status
    iovp-ofctl ovsdb/dump hardware_vtep
    ovs-appctl -t iovpd vlog/list
    ovs-vsctl show
Logs: $sandbox/*.log.  Stop it with: bash build-aux/demo.sh stop
EOT
