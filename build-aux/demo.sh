#!/bin/bash
# Installs what iovp needs, builds it and starts the sandbox in ./sandbox:
# an ovsdb-server with the Open_vSwitch and hardware_vtep databases, an
# ovs-vswitchd with the integration bridge br-int on the userspace
# datapath, and iovpd; then prints their state.  The daemons keep running
# for you to explore; "bash build-aux/demo.sh stop" stops them.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sandbox=$top/sandbox

# Stops the daemons that an earlier run started, by their pidfiles.
stop_sandbox() {
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

step "iovpd reports itself, as a TOR does: vtep-ctl list-ps"
for _ in $(seq 50); do
    vtep-ctl --db="unix:$sandbox/db.sock" list-ps 2>/dev/null \
        | grep -q host1 && break
    sleep 0.1
done
vtep-ctl --db="unix:$sandbox/db.sock" list-ps
vtep-ctl --db="unix:$sandbox/db.sock" get Physical_Switch host1 tunnel_ips

step "a controller's policy arrives: vtep-ctl add-ls ls1"
vtep-ctl --db="unix:$sandbox/db.sock" add-ls ls1 \
    -- set Logical_Switch ls1 tunnel_key=5000
for _ in $(seq 50); do
    iovp-ofctl ovsdb/status | grep -q 'Logical_Switch.*1' && break
    sleep 0.1
done
step "iovp-ofctl ovsdb/status (iovpd's replicas of both databases)"
iovp-ofctl ovsdb/status

cat <<EOT

The sandbox is running in $sandbox.  To explore it:
    export OVS_RUNDIR=$sandbox IOVP_RUNDIR=$sandbox PATH=$top/agent:$top/utilities:\$PATH
    iovp-ofctl --format=json ovsdb/status
    iovp-ofctl ovsdb/dump hardware_vtep
    ovs-appctl -t iovpd vlog/list
    ovs-vsctl show
Logs: $sandbox/*.log.  Stop it with: bash build-aux/demo.sh stop
EOT
