#! /usr/bin/env python3
"""lb-db.py: iovp's load balancers in the hardware_vtep database, as a
controller writes them (vtep-ctl knows only hardware_vtep's own tables).

    lb-db.py DB create NAME LS VIP PORT tcp|udp [hash|source_ip]
    lb-db.py DB add-backend NAME PORT IP [BACKEND-PORT [WEIGHT]]
    lb-db.py DB del-backend NAME IP
    lb-db.py DB set-backend NAME IP COLUMN=VALUE
    lb-db.py DB delete NAME
    lb-db.py DB status NAME    "STATE" then "IP STATE CONNECTIONS" lines

DB is an ovsdb-client remote, e.g. unix:db.sock.  PORT is a Physical_Port's
name, LS a Logical_Switch's."""

import sys

from vtepdb import select, transact


def lb_where(name):
    return [['name', '==', name]]


def backend(db, name, ip):
    """The UUID of the backend of load balancer 'name' with IP 'ip'."""
    lb = select(db, 'Iovp_Load_Balancer', lb_where(name), ['backends'])[0]
    for uuid in uuids_of(lb['backends']):
        rows = select(db, 'Iovp_LB_Backend',
                      [['_uuid', '==', ['uuid', uuid]]], ['ip'])
        if rows and rows[0]['ip'] == ip:
            return uuid
    sys.exit('lb-db.py: load balancer %s has no backend %s' % (name, ip))


def uuids_of(datum):
    """The UUIDs of a set of UUIDs in OVSDB's JSON."""
    if datum[0] == 'set':
        return [u[1] for u in datum[1]]
    return [datum[1]]


def main():
    db, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == 'create':
        ls = select(db, 'Logical_Switch', [['name', '==', args[1]]],
                    ['_uuid'])[0]['_uuid']
        row = {'name': args[0], 'logical_switch': ls, 'vip': args[2],
               'port': int(args[3]), 'protocol': args[4]}
        if len(args) > 5:
            row['selection'] = args[5]
        transact(db, {'op': 'insert', 'table': 'Iovp_Load_Balancer',
                      'row': row})
    elif cmd == 'add-backend':
        pp = select(db, 'Physical_Port', [['name', '==', args[1]]],
                    ['_uuid'])[0]['_uuid']
        row = {'physical_port': pp, 'ip': args[2]}
        if len(args) > 3:
            row['port'] = int(args[3])
        if len(args) > 4:
            row['weight'] = int(args[4])
        transact(db,
                 {'op': 'insert', 'table': 'Iovp_LB_Backend', 'row': row,
                  'uuid-name': 'b'},
                 {'op': 'mutate', 'table': 'Iovp_Load_Balancer',
                  'where': lb_where(args[0]),
                  'mutations': [['backends', 'insert',
                                 ['set', [['named-uuid', 'b']]]]]})
    elif cmd == 'del-backend':
        uuid = backend(db, args[0], args[1])
        transact(db, {'op': 'mutate', 'table': 'Iovp_Load_Balancer',
                      'where': lb_where(args[0]),
                      'mutations': [['backends', 'delete',
                                     ['set', [['uuid', uuid]]]]]})
    elif cmd == 'set-backend':
        uuid = backend(db, args[0], args[1])
        column, value = args[2].split('=', 1)
        transact(db, {'op': 'update', 'table': 'Iovp_LB_Backend',
                      'where': [['_uuid', '==', ['uuid', uuid]]],
                      'row': {column: value}})
    elif cmd == 'delete':
        transact(db, {'op': 'delete', 'table': 'Iovp_Load_Balancer',
                      'where': lb_where(args[0])})
    elif cmd == 'status':
        lb = select(db, 'Iovp_Load_Balancer', lb_where(args[0]),
                    ['status', 'backends'])[0]
        print(dict(lb['status'][1]).get('state', '-'))
        lines = []
        for uuid in uuids_of(lb['backends']):
            b = select(db, 'Iovp_LB_Backend', [['_uuid', '==', ['uuid', uuid]]],
                       ['ip', 'status', 'statistics'])[0]
            lines.append('%s %s %s' % (
                b['ip'], dict(b['status'][1]).get('state', '-'),
                dict(b['statistics'][1]).get('connections', '-')))
        for line in sorted(lines):
            print(line)
    else:
        sys.exit('lb-db.py: unknown command %s' % cmd)


if __name__ == '__main__':
    main()
