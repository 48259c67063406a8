#!/bin/bash
# Installs what iovp needs, builds it and runs the whole test suite, which
# ends with a line "N passed, N failed" (", N skipped" after it when any
# were skipped).  Extra arguments go to the suite, e.g. -k harness or -j2.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash build-aux/build.sh
make check TESTSUITEFLAGS="${*:-}"
