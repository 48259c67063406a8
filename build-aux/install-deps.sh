#!/bin/bash
# Installs everything iovp needs on Debian 12 and builds libopenvswitch.
#
# Usage: build-aux/install-deps.sh
#
# 1. Installs iovp's build and test dependencies from Debian's archive
#    (dpkg-dev, debhelper, lintian and systemd for the test that builds
#    the Debian package and checks it and its unit: tests/package.at).
# 2. Builds libopenvswitch, a static library with its public headers, from
#    Debian's openvswitch-source package into a cached prefix,
#        ${IOVP_CACHE:-/var/cache/iovp}/libopenvswitch-VERSION
#    and reuses that prefix when it is already complete for the installed
#    version of openvswitch-source.
# 3. Renames every json_* symbol of that archive to ovs_json_*: jansson
#    defines json_object, json_string, json_array, json_integer, json_real
#    and json_equal too, and a program that links both unrenamed calls the
#    wrong one and crashes.
#
# The last line of output is the PKG_CONFIG_PATH to give configure, and it
# is also written to build-aux/ovs-pkgconfig-path for the build scripts.

set -euo pipefail

# What the packages are for, where it is not plain: libssl-dev, iovpd's
# TLS (OpenSSL); openvswitch-common, ovs-pki (Debian ships it there, and
# openvswitch-pki is only a dependency package on it) and openssl, for the
# certificates of the TLS tests; tcpdump, to see the overlay's VXLAN
# frames on the wire (tests/overlay.at); bpftool, to see the XDP fast
# path's maps (tests/steer.at).

here=$(cd "$(dirname "$0")" && pwd)

packages="
    autoconf automake libtool pkg-config make gcc
    libuv1-dev libjansson-dev libssl-dev libbpf-dev libcap-ng-dev clang llvm
    libclang-rt-14-dev
    valgrind
    openvswitch-switch openvswitch-vtep openvswitch-source
    openvswitch-common openssl
    ovn-central ovn-host ovn-controller-vtep
    iproute2 iputils-ping ethtool procps python3 python3-scapy iperf3 tcpdump
    bpftool
    python3-os-ken
    groff-base man-db
    dpkg-dev debhelper lintian systemd
"

missing=
for p in $packages; do
    if ! dpkg-query -W -f '${Status}' "$p" 2>/dev/null \
            | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    echo "install-deps: installing:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Debian's openvswitch-switch would start its own daemons through
    # policy-rc.d-less invoke-rc.d; iovp's tests start private ones, so
    # keep the packaged services from starting here.
    policy=/usr/sbin/policy-rc.d
    had_policy=false
    [ -e $policy ] && had_policy=true
    if ! $had_policy; then
        printf '#!/bin/sh\nexit 101\n' > $policy
        chmod 755 $policy
    fi
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >&2
    $had_policy || rm -f $policy
fi

version=$(dpkg-query -W -f '${Version}' openvswitch-source)
cache=${IOVP_CACHE:-/var/cache/iovp}
prefix=$cache/libopenvswitch-$version
stamp=$prefix/.complete

if [ ! -e "$stamp" ]; then
    echo "install-deps: building libopenvswitch $version into $prefix" >&2
    rm -rf "$prefix"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    tar -xzf /usr/src/openvswitch/openvswitch.tar.gz -C "$work"
    src=$work/openvswitch
    jobs=$(nproc)
    (
        cd "$src"
        # SSL, libcap-ng and AF_XDP are left out so that the library's
        # link line does not depend on what else happens to be installed.
        ./configure --enable-static --disable-shared --prefix="$prefix" \
            --disable-ssl --disable-libcapng --disable-afxdp \
            CFLAGS='-O2 -g -fPIC' >configure.log 2>&1 \
            || { tail -30 configure.log >&2; exit 1; }
        printf 'built-sources: $(BUILT_SOURCES)\n' > built-sources.mk
        make -j"$jobs" -f Makefile -f built-sources.mk built-sources \
            >build.log 2>&1 || { tail -30 build.log >&2; exit 1; }
        make -j"$jobs" lib/libopenvswitch.la >>build.log 2>&1 \
            || { tail -30 build.log >&2; exit 1; }
        make install-libLTLIBRARIES install-pkgconfigDATA \
            install-openvswitchincludeHEADERS \
            install-openflowincludeHEADERS \
            lib_LTLIBRARIES=lib/libopenvswitch.la \
            pkgconfig_DATA=lib/libopenvswitch.pc >>build.log 2>&1 \
            || { tail -30 build.log >&2; exit 1; }
    )

    # Rename OVS's json_* symbols, definitions and references alike.
    archive=$prefix/lib/libopenvswitch.a
    nm --defined-only "$archive" 2>/dev/null \
        | awk '$2 ~ /^[A-Z]$/ && $3 ~ /^json_/ { print $3, "ovs_" $3 }' \
        | sort -u > "$prefix/json-renames.txt"
    objcopy --redefine-syms="$prefix/json-renames.txt" "$archive"
    ranlib "$archive"
    if nm --defined-only "$archive" 2>/dev/null \
            | awk '$2 ~ /^[A-Z]$/ && $3 ~ /^json_/' | grep -q .; then
        echo "install-deps: json_* symbols remain in $archive" >&2
        exit 1
    fi
    # The libtool archive would point a libtool link at paths that no
    # longer match what was renamed; iovp links through pkg-config only.
    rm -f "$prefix/lib/libopenvswitch.la"
    touch "$stamp"
else
    echo "install-deps: reusing libopenvswitch $version in $prefix" >&2
fi

echo "$prefix/lib/pkgconfig" > "$here/ovs-pkgconfig-path"
echo "$prefix/lib/pkgconfig"
