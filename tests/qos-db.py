#! /usr/bin/env python3
"""qos-db.py: iovp's QoS tables in the hardware_vtep database, as a
controller writes them (vtep-ctl knows only hardware_vtep's own tables).

    qos-db.py DB create NAME [COLUMN=INTEGER]...   prints the row's UUID
    qos-db.py DB set NAME [COLUMN=INTEGER|COLUMN=]...   (empty: clears it)
    qos-db.py DB delete NAME
    qos-db.py DB bind PORT VLAN NAME    the QoS of VLAN (0: whole port)
    qos-db.py DB unbind PORT VLAN
    qos-db.py DB stat NAME KEY          prints a statistic, or nothing

DB is an ovsdb-client remote, e.g. unix:db.sock.  PORT is a Physical_Port's
name; its Iovp_Port row is created when it has none."""

import sys

from vtepdb import transact


def columns(args):
    row = {}
    for arg in args:
        name, value = arg.split('=', 1)
        row[name] = int(value) if value else ['set', []]
    return row


def qos_uuid(db, name):
    rows = transact(db, {'op': 'select', 'table': 'Iovp_QoS',
                         'where': [['name', '==', name]],
                         'columns': ['_uuid']})[0]['rows']
    if len(rows) != 1:
        sys.exit('qos-db.py: %d QoS rows named %s' % (len(rows), name))
    return rows[0]['_uuid']


def iovp_port(db, port):
    """The Iovp_Port row of Physical_Port 'port', created if none."""
    pp = transact(db, {'op': 'select', 'table': 'Physical_Port',
                       'where': [['name', '==', port]],
                       'columns': ['_uuid']})[0]['rows'][0]['_uuid']
    rows = transact(db, {'op': 'select', 'table': 'Iovp_Port',
                         'where': [['physical_port', '==', pp]],
                         'columns': ['_uuid']})[0]['rows']
    if rows:
        return rows[0]['_uuid']
    return ['uuid', transact(db, {'op': 'insert', 'table': 'Iovp_Port',
                                  'row': {'physical_port': pp}})[0]['uuid'][1]]


def main():
    db, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == 'create':
        row = columns(args[1:])
        row['name'] = args[0]
        print(transact(db, {'op': 'insert', 'table': 'Iovp_QoS',
                            'row': row})[0]['uuid'][1])
    elif cmd == 'set':
        transact(db, {'op': 'update', 'table': 'Iovp_QoS',
                      'where': [['name', '==', args[0]]],
                      'row': columns(args[1:])})
    elif cmd == 'delete':
        transact(db, {'op': 'delete', 'table': 'Iovp_QoS',
                      'where': [['name', '==', args[0]]]})
    elif cmd in ('bind', 'unbind'):
        port, vlan = args[0], int(args[1])
        ip = iovp_port(db, port)
        ops = [{'op': 'mutate', 'table': 'Iovp_Port',
                'where': [['_uuid', '==', ip]],
                'mutations': [['qos_bindings', 'delete', ['set', [vlan]]]]}]
        if cmd == 'bind':
            ops.append({'op': 'mutate', 'table': 'Iovp_Port',
                        'where': [['_uuid', '==', ip]],
                        'mutations': [['qos_bindings', 'insert',
                                       ['map', [[vlan,
                                                 qos_uuid(db, args[2])]]]]]})
        transact(db, *ops)
    elif cmd == 'stat':
        rows = transact(db, {'op': 'select', 'table': 'Iovp_QoS',
                             'where': [['name', '==', args[0]]],
                             'columns': ['statistics']})[0]['rows']
        stats = dict(rows[0]['statistics'][1]) if rows else {}
        if args[1] in stats:
            print(stats[args[1]])
    else:
        sys.exit('qos-db.py: unknown command %s' % cmd)


if __name__ == '__main__':
    main()
