#!/usr/bin/env bash
# install_test.sh BUILD_DIR SOURCE_DIR: installs the build into a temporary
# prefix and uses it as an outside project would: checks the installed files
# (headers both ways, libmtcp.so with its SONAME, one self-contained
# libmtcp.a, mtcp.pc, the CMake package, tools, apps, manuals), builds the
# examples with plain `cc $(pkg-config --cflags --libs mtcp)` and with
# find_package(mtcp) (including a static link), and runs the echo server and
# clients end to end over an shm link (rounds on the same link name; the
# server stops after N connections or on SIGINT).
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$(mktemp -d /tmp/mtcp_install_XXXXXX)
server_pid=
cleanup() {
    [[ -n $server_pid ]] && kill -9 "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; fail "cmake --install failed"; }

# Installed files.
libdir=$(dirname "$(find "$prefix" -name mtcp.pc -path '*/pkgconfig/*' | head -1)")/..
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
cc -Wall -Werror echo_server.c -o echo_server $(pkg-config --cflags --libs mtcp)   # flat <mtcp_api.h>
cc -Wall -Werror echo_client.c -o echo_client $(pkg-config --cflags --libs mtcp)   # <mtcp/mtcp_api.h>
# Static: the one archive and what pkg-config --static lists, nothing else.
cc -Wall -Werror echo_client.c -o echo_client_static $(pkg-config --cflags mtcp) "$libdir/libmtcp.a" \
    $(pkg-config --libs-only-l --static mtcp | sed 's/-lmtcp//')
ldd ./echo_client_static >"$work/ldd.txt"
if grep -q libmtcp "$work/ldd.txt"; then fail "the static client loads libmtcp.so"; fi
# find_package(mtcp).
cmake -S . -B cm -DCMAKE_PREFIX_PATH="$prefix" >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "find_package(mtcp) project did not configure"; }
cmake --build cm >"$work/cmake-build.log" 2>&1 || { cat "$work/cmake-build.log"; fail "find_package(mtcp) project did not build"; }

# Run. An shm link joins exactly two processes, so each round is one server
# and one client; the next round's processes join the same link name again.
export LD_LIBRARY_PATH=$libdir
run_round() {  # SERVER CLIENT CONNECTIONS BYTES STOP(n|int)
    local server=$1 client=$2 conns=$3 bytes=$4 stop=$5 args=()
    [[ $stop == n ]] && args=(-n "$conns")
    timeout 60 "$server" -f server.conf "${args[@]}" >"$work/server.out" 2>&1 &
    server_pid=$!
    timeout 60 "$client" -f client.conf -s 10.0.0.1 -c "$conns" -b "$bytes" || fail "$client against $server"
    # Ctrl-C: SIGINT ends the server's mtcp_epoll_wait and it exits cleanly.
    [[ $stop == int ]] && kill -INT "$server_pid"
    wait "$server_pid" || { cat "$work/server.out"; fail "$server did not exit cleanly ($stop)"; }
    server_pid=
    grep -q "$conns connections served" "$work/server.out" || { cat "$work/server.out"; fail "$server count"; }
}
run_round ./echo_server ./echo_client 3 100000 n              # cc, shared
run_round ./echo_server ./echo_client_static 2 5000 int        # cc, static client
run_round ./cm/echo_server ./cm/echo_client_static 1 5000 int  # find_package, static client
run_round ./cm/echo_server ./cm/echo_client 2 20000 n          # find_package, shared
echo "install_test: ok ($prefix: headers, libmtcp.so ($soname), libmtcp.a, mtcp.pc, CMake package; examples ran over shm)"
