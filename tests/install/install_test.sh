#!/usr/bin/env bash
# install_test.sh BUILD_DIR SOURCE_DIR: installs the build into a temporary
# prefix and uses it as an outside project would: checks the installed files
# (headers both ways, libmtcp.so with its SONAME, one self-contained
# libmtcp.a, mtcp.pc, the CMake package, tools, apps, man pages, manuals),
# builds the examples with plain `cc $(pkg-config --cflags --libs mtcp)` and
# with find_package(mtcp) (including a static link), and runs the echo server and
# clients end to end over an shm link (client processes one after the other
# against one server; a server stopped by SIGINT).
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$(mktemp -d /tmp/mtcp_install_XXXXXX)
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then kill -9 "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; fail "cmake --install failed"; }

# Installed files.
libdir=$(dirname "$(find "$prefix" -name mtcp.pc -path '*/pkgconfig/*' -print -quit)")/..
libdir=$(cd "$libdir" && pwd)
for f in include/mtcp/mtcp_api.h include/mtcp/mtcp_epoll.h include/mtcp/mudp_api.h \
         include/mtcp/mtcp_stats.h share/doc/mtcp-vnf/docs/api.md share/doc/mtcp-vnf/examples/echo_server.c; do
    [[ -f $prefix/$f ]] || fail "missing $f"
done
[[ -f $libdir/libmtcp.a ]] || fail "missing libmtcp.a"
[[ -f $libdir/cmake/mtcp/mtcpConfig.cmake ]] || fail "missing the CMake package"
so=$(readlink -f "$libdir/libmtcp.so")
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[[ $soname == libmtcp.so.* ]] || fail "libmtcp.so has no versioned SONAME ($soname)"
[[ -e $libdir/$soname ]] || fail "no $soname link"
for prog in mvnf-pktgen mvnf-httpd mvnf-wget mvnf-tcpperf mvnf-udpperf; do
    if [[ -x $build/tools/pktgen/$prog || -n $(find "$build/apps" "$build/tools" -maxdepth 3 -name "$prog" -type f 2>/dev/null) ]]; then
        [[ -x $prefix/bin/$prog ]] || fail "missing bin/$prog"
    fi
done
[[ -x $prefix/bin/mvnf-top ]] || fail "missing bin/mvnf-top"
# Man pages (compressed when gzip was found at configure time) and aliases.
for f in man7/mtcp-vnf.7 man5/mtcp.conf.5 man3/libmtcp.3 man1/mvnf-httpd.1 man1/mvnf-top.1; do
    [[ -f $prefix/share/man/$f.gz || -f $prefix/share/man/$f ]] || fail "missing share/man/$f"
done
for f in man3/mtcp_epoll_wait.3 man1/mvnf-wget-kernel.1; do
    [[ -L $prefix/share/man/$f.gz && -f $prefix/share/man/$f.gz ]] ||
        [[ -L $prefix/share/man/$f && -f $prefix/share/man/$f ]] || fail "missing alias share/man/$f"
done
if command -v man >/dev/null; then
    [[ $(MANPATH=$prefix/share/man man -w 5 mtcp.conf) == "$prefix"/share/man/man5/* ]] ||
        fail "man does not find mtcp.conf(5) under $prefix"
fi
# One archive with every layer: the C API and the TCP engine's code both in it.
nm -C "$libdir/libmtcp.a" >"$work/nm.txt" 2>/dev/null || true
grep -q ' T mtcp_init$' "$work/nm.txt" || fail "libmtcp.a lacks mtcp_init"
grep -q ' T mvnf::tcp::layer::input' "$work/nm.txt" || fail "libmtcp.a lacks the TCP layer"

# Build the examples the plain way.
export PKG_CONFIG_PATH=$libdir/pkgconfig
cp -r "$src/examples" "$work/ex"
cd "$work/ex"
link=inst_$$
sed -i "s/shm:echo0/shm:$link/" server.conf client.conf
read -r -a pc_flags <<<"$(pkg-config --cflags --libs mtcp)"
read -r -a pc_cflags <<<"$(pkg-config --cflags mtcp)"
read -r -a pc_static <<<"$(pkg-config --libs-only-l --static mtcp | sed 's/-lmtcp//')"
cc -Wall -Werror echo_server.c -o echo_server "${pc_flags[@]}"   # flat <mtcp_api.h>
cc -Wall -Werror echo_client.c -o echo_client "${pc_flags[@]}"   # <mtcp/mtcp_api.h>
# Static: the one archive and what pkg-config --static lists, nothing else.
cc -Wall -Werror echo_client.c -o echo_client_static "${pc_cflags[@]}" "$libdir/libmtcp.a" "${pc_static[@]}"
ldd ./echo_client_static >"$work/ldd.txt"
if grep -q libmtcp "$work/ldd.txt"; then fail "the static client loads libmtcp.so"; fi
# find_package(mtcp).
cmake -S . -B cm -DCMAKE_PREFIX_PATH="$prefix" >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "find_package(mtcp) project did not configure"; }
cmake --build cm >"$work/cmake-build.log" 2>&1 || { cat "$work/cmake-build.log"; fail "find_package(mtcp) project did not build"; }

# Run: one server, the client builds one after the other on the same link
# (each new client process takes the place of the one that left), then a
# server stopped by SIGINT (Ctrl-C ends its mtcp_epoll_wait; it exits cleanly).
export LD_LIBRARY_PATH=$libdir
start_server() {  # BINARY [ARGS...]
    timeout 90 "$@" -f server.conf >"$work/server.out" 2>&1 &
    server_pid=$!
}
stop_server() {  # EXPECTED_CONNECTIONS [int]
    [[ ${2:-} == int ]] && kill -INT "$server_pid"
    wait "$server_pid" || { cat "$work/server.out"; fail "echo_server did not exit cleanly"; }
    server_pid=
    grep -q "$1 connections served" "$work/server.out" || { cat "$work/server.out"; fail "server count"; }
}
client() {  # BINARY CONNECTIONS BYTES
    timeout 60 "$1" -f client.conf -s 10.0.0.1 -c "$2" -b "$3" || fail "$1"
}
start_server ./echo_server -n 6
client ./echo_client 3 100000            # cc, shared
client ./echo_client_static 1 5000       # cc, static
client ./cm/echo_client_static 1 5000    # find_package, static
client ./cm/echo_client 1 20000          # find_package, shared
stop_server 6
start_server ./cm/echo_server
client ./echo_client 2 1000
stop_server 2 int
echo "install_test: ok ($prefix: headers, libmtcp.so ($soname), libmtcp.a, mtcp.pc, CMake package; examples ran over shm)"
