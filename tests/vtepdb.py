"""vtepdb.py: what the tests' helpers for iovp's tables (qos-db.py,
lb-db.py, capture-db.py) share: transactions on the hardware_vtep
database through ovsdb-client."""

import json
import os
import subprocess
import sys


def transact(db, *ops):
    """Runs 'ops' on the hardware_vtep database at remote 'db' and returns
    their results; exits with the failed operation's error if one fails."""
    out = subprocess.run(['ovsdb-client', 'transact', db,
                          json.dumps(['hardware_vtep'] + list(ops))],
                         check=True, capture_output=True, text=True).stdout
    results = json.loads(out)
    for r in results:
        if r and 'error' in r:
            sys.exit('%s: %s' % (os.path.basename(sys.argv[0]),
                                 json.dumps(r)))
    return results


def select(db, table, where, columns):
    """Returns the 'columns' of the rows of 'table' that 'where' selects."""
    return transact(db, {'op': 'select', 'table': table, 'where': where,
                         'columns': columns})[0]['rows']
