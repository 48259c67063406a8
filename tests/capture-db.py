#! /usr/bin/env python3
"""capture-db.py: iovp's captures and port profiles in the hardware_vtep
database, as a controller writes them (vtep-ctl knows only hardware_vtep's
own tables).

    capture-db.py DB profile PORT plain|offload|capture|none
    capture-db.py DB create NAME [COLUMN=VALUE]...
    capture-db.py DB delete NAME
    capture-db.py DB get NAME status|statistics KEY

In "create", source_port=PORT and destination=PORT name Physical_Port
rows, logical_switch=LS a Logical_Switch row, snaplen=N an integer, and
the other columns (direction, match) strings.  DB is an ovsdb-client
remote, e.g. unix:db.sock."""

import sys

from vtepdb import transact


def uuid_of(db, table, name):
    rows = transact(db, {'op': 'select', 'table': table,
                         'where': [['name', '==', name]],
                         'columns': ['_uuid']})[0]['rows']
    if len(rows) != 1:
        sys.exit('capture-db.py: %d %s rows named %s'
                 % (len(rows), table, name))
    return rows[0]['_uuid']


def main():
    db, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == 'profile':
        pp = uuid_of(db, 'Physical_Port', args[0])
        profile = ['set', []] if args[1] == 'none' else args[1]
        rows = transact(db, {'op': 'select', 'table': 'Iovp_Port',
                             'where': [['physical_port', '==', pp]],
                             'columns': ['_uuid']})[0]['rows']
        if rows:
            transact(db, {'op': 'update', 'table': 'Iovp_Port',
                          'where': [['_uuid', '==', rows[0]['_uuid']]],
                          'row': {'profile': profile}})
        else:
            transact(db, {'op': 'insert', 'table': 'Iovp_Port',
                          'row': {'physical_port': pp,
                                  'profile': profile}})
    elif cmd == 'create':
        row = {'name': args[0]}
        for arg in args[1:]:
            column, value = arg.split('=', 1)
            if column in ('source_port', 'destination'):
                row[column] = uuid_of(db, 'Physical_Port', value)
            elif column == 'logical_switch':
                row[column] = uuid_of(db, 'Logical_Switch', value)
            elif column == 'snaplen':
                row[column] = int(value)
            else:
                row[column] = value
        transact(db, {'op': 'insert', 'table': 'Iovp_Capture', 'row': row})
    elif cmd == 'delete':
        transact(db, {'op': 'delete', 'table': 'Iovp_Capture',
                      'where': [['name', '==', args[0]]]})
    elif cmd == 'get':
        rows = transact(db, {'op': 'select', 'table': 'Iovp_Capture',
                             'where': [['name', '==', args[0]]],
                             'columns': [args[1]]})[0]['rows']
        value = dict(rows[0][args[1]][1]).get(args[2]) if rows else None
        if value is not None:
            print(value)
    else:
        sys.exit('capture-db.py: unknown command %s' % cmd)


if __name__ == '__main__':
    main()
