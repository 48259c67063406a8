#! /usr/bin/env python3
"""schema-superset.py STOCK OURS

Checks that the OVSDB schema OURS is a strict superset of STOCK: the same
database name, and every table of STOCK in OURS with the same table options
(isRoot, maxRows, indexes) and every column with the same type and options
(ephemeral, mutable).  Prints each difference, or the tables OURS adds, and
exits 1 if there is any difference."""

import json
import sys

TABLE_OPTIONS = ('isRoot', 'maxRows', 'indexes')
COLUMN_OPTIONS = ('type', 'ephemeral', 'mutable')


def main():
    stock = json.load(open(sys.argv[1]))
    ours = json.load(open(sys.argv[2]))
    errors = []
    if stock['name'] != ours['name']:
        errors.append('database name %s, not %s' % (ours['name'],
                                                   stock['name']))
    for tname, table in sorted(stock['tables'].items()):
        mine = ours['tables'].get(tname)
        if mine is None:
            errors.append('table %s is missing' % tname)
            continue
        for opt in TABLE_OPTIONS:
            if table.get(opt) != mine.get(opt):
                errors.append('table %s: %s differs' % (tname, opt))
        for cname, column in sorted(table['columns'].items()):
            theirs = mine['columns'].get(cname)
            if theirs is None:
                errors.append('table %s: column %s is missing'
                              % (tname, cname))
                continue
            for opt in COLUMN_OPTIONS:
                if column.get(opt) != theirs.get(opt):
                    errors.append('table %s column %s: %s differs'
                                  % (tname, cname, opt))
        for cname in sorted(set(mine['columns']) - set(table['columns'])):
            errors.append('table %s: column %s is added to a stock table'
                          % (tname, cname))
    for e in errors:
        print(e)
    if not errors:
        print('added tables: %s' % ' '.join(
            sorted(set(ours['tables']) - set(stock['tables']))))
    return 1 if errors else 0


sys.exit(main())
