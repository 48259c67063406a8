#! /usr/bin/env python3
"""ovsdb-compare.py REPLICA SERVER

Compares two copies of a database's rows and prints the differences, one a
line, or nothing when they are equal.  REPLICA is what "ovs-appctl ovsdb/dump
DB" prints: {TABLE: {UUID: {COLUMN: VALUE}}}.  SERVER is the reply of
"ovsdb-client transact" to one "select" of every row of each of those
tables, in the same order as the tables sorted by name.  Values are compared
as OVSDB means them: a set of one element equals that element, and the
order of a set's elements or a map's pairs does not matter.  Columns that
the replica does not hold are ignored, as are _uuid and _version."""

import json
import sys


def canon(value):
    if isinstance(value, list) and len(value) == 2 and value[0] == 'set':
        atoms = sorted((canon(a) for a in value[1]), key=json.dumps)
        return atoms[0] if len(atoms) == 1 else ['set', atoms]
    if isinstance(value, list) and len(value) == 2 and value[0] == 'map':
        return ['map', sorted(([canon(k), canon(v)] for k, v in value[1]),
                              key=json.dumps)]
    if isinstance(value, float) and value == int(value):
        return int(value)
    return value


def main():
    replica = json.load(open(sys.argv[1]))
    server = json.load(open(sys.argv[2]))
    tables = sorted(replica)
    if len(server) != len(tables):
        print("server reply has %d results for %d tables"
              % (len(server), len(tables)))
        return 1
    diffs = []
    for table, result in zip(tables, server):
        rows = {r['_uuid'][1]: r for r in result['rows']}
        mine = replica[table]
        for uuid in sorted(set(rows) | set(mine)):
            if uuid not in mine:
                diffs.append("%s %s: only on the server" % (table, uuid))
            elif uuid not in rows:
                diffs.append("%s %s: only in the replica" % (table, uuid))
            else:
                for column, value in sorted(mine[uuid].items()):
                    if canon(value) != canon(rows[uuid].get(column)):
                        diffs.append("%s %s %s: replica %s, server %s"
                                     % (table, uuid, column,
                                        json.dumps(value),
                                        json.dumps(rows[uuid].get(column))))
    for d in diffs:
        print(d)
    return 1 if diffs else 0


sys.exit(main())
