#!/bin/bash
# Installs iovp's dependencies (build-aux/install-deps.sh) and builds iovp
# in this tree: autogen.sh and configure when needed, then make.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

pkgconfig=$(bash build-aux/install-deps.sh | tail -1)
export PKG_CONFIG_PATH=$pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}

if [ ! -e configure ] || [ configure.ac -nt configure ]; then
    ./autogen.sh
fi
if [ ! -e Makefile ] || [ configure -nt Makefile ] \
        || ! grep -q "$pkgconfig" config.log 2>/dev/null; then
    ./configure
fi
make -j"$(nproc)"
