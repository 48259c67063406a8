#! /usr/bin/env python3
"""steer-db.py: iovp's steering rules in the hardware_vtep database, as a
controller writes them (vtep-ctl knows only hardware_vtep's own tables).

    steer-db.py DB create NAME port=PORT match=MATCH cpu=N [priority=N]
    steer-db.py DB set NAME COLUMN=VALUE...
    steer-db.py DB delete NAME
    steer-db.py DB get NAME status|statistics KEY

PORT names a Physical_Port row.  DB is an ovsdb-client remote, e.g.
unix:db.sock."""

import sys

from vtepdb import select, transact


def columns(db, args):
    row = {}
    for arg in args:
        column, value = arg.split('=', 1)
        if column == 'port':
            rows = select(db, 'Physical_Port', [['name', '==', value]],
                          ['_uuid'])
            if len(rows) != 1:
                sys.exit('steer-db.py: no Physical_Port %s' % value)
            row[column] = rows[0]['_uuid']
        elif column in ('cpu', 'priority'):
            row[column] = int(value)
        else:
            row[column] = value
    return row


def main():
    db, cmd, name, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    where = [['name', '==', name]]
    if cmd == 'create':
        row = columns(db, args)
        row['name'] = name
        transact(db, {'op': 'insert', 'table': 'Iovp_Steering', 'row': row})
    elif cmd == 'set':
        transact(db, {'op': 'update', 'table': 'Iovp_Steering',
                      'where': where, 'row': columns(db, args)})
    elif cmd == 'delete':
        transact(db, {'op': 'delete', 'table': 'Iovp_Steering',
                      'where': where})
    elif cmd == 'get':
        rows = select(db, 'Iovp_Steering', where, [args[0]])
        value = dict(rows[0][args[0]][1]).get(args[1]) if rows else None
        if value is not None:
            print(value)
    else:
        sys.exit('steer-db.py: unknown command %s' % cmd)


if __name__ == '__main__':
    main()
