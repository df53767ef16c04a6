#!/usr/bin/env bash
# deb_test.sh BUILD_DIR SOURCE_DIR: the Debian package as a user gets it.
# Builds mtcp-vnf_*.deb with CPack from the existing build (nothing is
# rebuilt), checks its control fields (Depends from dpkg-shlibdeps covers
# every library the binaries load), installs it with
# `apt-get install ./mtcp-vnf_*.deb` into the real /usr, and then, with no
# help from the build tree: pkg-config finds mtcp; the examples installed
# in /usr/share/doc build with plain cc (mTCP's flat <mtcp_api.h> and
# <mtcp/mtcp_api.h>, shared and static) and with find_package(mtcp), and run
# end to end over an shm link; every installed program answers --help; man
# finds every page and alias. Finally `apt-get purge` and a check that
# nothing of the package is left (dpkg -L, every file and directory it
# brought, ld.so's cache, pkg-config, man).
#
# Safety: the package is never left installed. A trap purges it on any
# failure or signal, every step has a time bound well inside ctest's
# timeout, and a marker file (/var/tmp) lets the next run purge a package
# that a killed run left behind. Skips (exit 77) rather than touch a system
# that already has mtcp-vnf: an installed package, files the .deb would
# overwrite, or another libmtcp/mtcp.pc/headers under /usr/local that would
# hide the package's. Skips too when not root or without dpkg/apt-get.
# MVNF_SKIP_DEB_TEST=1 skips it.
set -euo pipefail
skip() { echo "install_deb: SKIP: $*"; exit 77; }
[[ $# -eq 2 ]] || { echo "usage: deb_test.sh BUILD_DIR SOURCE_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
[[ ${MVNF_SKIP_DEB_TEST:-0} != 1 ]] || skip "MVNF_SKIP_DEB_TEST=1"
[[ $(id -u) -eq 0 ]] || skip "needs root: it installs the package into /usr and removes it"
for tool in dpkg dpkg-deb dpkg-query apt-get cpack pkg-config cc cmake readelf ldconfig; do
    command -v "$tool" >/dev/null || skip "$tool is not installed"
done
[[ -f $build/CPackConfig.cmake ]] || { echo "install_deb: no CPackConfig.cmake in $build" >&2; exit 1; }

pkg=mtcp-vnf
marker=/var/tmp/mtcp-vnf-install_deb.marker  # exists while this test has the package installed
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q -o DPkg::Lock::Timeout=120 -o APT::Get::Assume-Yes=true)
# What an outside user has: no paths into the build tree.
unset PKG_CONFIG_PATH LD_LIBRARY_PATH CPATH C_INCLUDE_PATH LIBRARY_PATH CMAKE_PREFIX_PATH
export LC_ALL=C.UTF-8

# Time: every step gets at most what is left before the deadline, keeping a
# reserve for the purge, so the trap always runs before ctest's timeout.
budget=${MVNF_DEB_TEST_SECONDS:-480}
deadline=$((SECONDS + budget))
reserve=90
bounded() {  # SECS CMD...: CMD under timeout, at most until the deadline
    local want=$1 left
    shift
    left=$((deadline - reserve - SECONDS))
    (( left > 0 )) || { echo "install_deb: out of time (budget ${budget}s) before: $*" >&2; return 124; }
    (( want < left )) || want=$left
    timeout --kill-after=10 "$want" "$@"
}

installed() {  # true when dpkg has the package in any state but not-installed
    local st
    st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null) || return 1
    [[ -n $st && $st != un* && $st != pn* ]]
}

purge_package() {  # quietly, for the trap and the stale-run recovery
    timeout 180 apt-get purge "${apt_opts[@]}" "$pkg" >/dev/null 2>&1 ||
        timeout 120 dpkg --purge "$pkg" >/dev/null 2>&1 || true
}

work=
server_pid=
added_deps=()
cleanup() {
    local rc=$?
    if [[ -n $server_pid ]]; then  # timeout(1) passes TERM on to the server
        kill -TERM "$server_pid" 2>/dev/null && sleep 1
        kill -9 "$server_pid" 2>/dev/null || true
    fi
    if [[ -f $marker ]]; then
        if installed; then
            echo "install_deb: removing the package after a failure"
            purge_package
        fi
        if (( ${#added_deps[@]} )); then
            timeout 180 apt-get purge "${apt_opts[@]}" "${added_deps[@]}" >/dev/null 2>&1 || true
        fi
        installed && echo "install_deb: WARNING: $pkg is still installed; remove it with: dpkg --purge $pkg" >&2
        installed || rm -f "$marker"
    fi
    rm -f /dev/shm/mvnf.deb_$$ 2>/dev/null || true
    [[ -n $work ]] && rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

fail() { echo "install_deb: FAIL: $*" >&2; exit 1; }
step() { echo "== [${SECONDS}s] $*"; }

# A run killed before its purge (ctest's timeout sends SIGKILL) left the
# marker: finish its work.
if [[ -f $marker ]]; then
    if installed; then
        echo "install_deb: an earlier run left $pkg installed ($(cat "$marker")); purging it"
        purge_package
        installed && fail "cannot purge $pkg left by an earlier run"
    fi
    stale=$(sed -n 's:.* work \(/tmp/mtcp_deb_[A-Za-z0-9]*\)$:\1:p' "$marker")
    [[ -n $stale && -d $stale ]] && rm -rf "$stale"
    rm -f "$marker"
fi
# Never touch an mtcp-vnf this test did not install, nor test a different one.
if installed; then
    skip "$pkg is already installed ($(dpkg-query -W -f='${Version}' "$pkg")); this test installs and purges its own, remove it first"
fi
if pkg-config --exists mtcp 2>/dev/null; then
    skip "pkg-config already finds an mtcp ($(pkg-config --variable=pcfiledir mtcp)/mtcp.pc, e.g. from cmake --install): it would hide the package's"
fi
for f in /usr/local/include/mtcp_api.h /usr/local/include/mtcp /usr/local/lib/libmtcp.so /usr/local/lib/libmtcp.a; do
    [[ -e $f ]] && skip "$f exists (an earlier cmake --install?): it would hide the package's files"
done
# (Outputs are taken whole before grep: with pipefail, a grep -q that stops
# reading early would fail its writer with SIGPIPE.)
ld_cache=$(ldconfig -p)
if grep -q 'libmtcp\.so' <<<"$ld_cache"; then
    skip "ld.so already knows a libmtcp ($(grep -m1 'libmtcp\.so' <<<"$ld_cache"))"
fi

work=$(mktemp -d /tmp/mtcp_deb_XXXXXX)

# --- the package ------------------------------------------------------------
step "cpack -G DEB (from $build; nothing is rebuilt when the build is current)"
(cd "$build" && bounded 300 cpack -G DEB -B "$work/pkg" --config "$build/CPackConfig.cmake") \
    >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack failed"; }
shopt -s nullglob
debs=("$work"/pkg/"$pkg"_*.deb)
shopt -u nullglob
(( ${#debs[@]} == 1 )) || { cat "$work/cpack.log"; fail "expected one ${pkg}_*.deb, found ${#debs[@]}"; }
deb=${debs[0]}
echo "package: $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"

step "control fields (dpkg-deb -I)"
dpkg-deb -I "$deb" >"$work/info.txt" || fail "dpkg-deb -I cannot read $deb"
sed -n '/^ [A-Z][A-Za-z-]*: /,$p' "$work/info.txt"
field() { dpkg-deb -f "$deb" "$1"; }
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
[[ $(field Package) == "$pkg" ]] || fail "Package: $(field Package)"
[[ -n $version && $(field Version) == "$version" ]] || fail "Version: '$(field Version)', project version '$version'"
[[ $(field Architecture) == "$(dpkg --print-architecture)" ]] || fail "Architecture: $(field Architecture)"
maint_re='^[^<]+ <[^@>]+@[^>]+>$'
[[ $(field Maintainer) =~ $maint_re ]] || fail "Maintainer is not 'Name <address>': $(field Maintainer)"
[[ -n $(field Section) ]] || fail "no Section"
[[ -n $(field Priority) ]] || fail "no Priority"
desc=$(field Description)
synopsis=$(head -1 <<<"$desc")
[[ -n $synopsis && ${#synopsis} -le 80 ]] || fail "Description's first line must be 1..80 characters: '$synopsis'"
(( $(wc -l <<<"$desc") >= 2 )) || fail "Description has no long description"
depends=$(field Depends)
[[ -n $depends ]] || fail "no Depends (CPACK_DEBIAN_PACKAGE_SHLIBDEPS)"
# The package names in Depends (versions and alternatives' bars dropped).
dep_names=$(tr ',|' '\n' <<<"$depends" | sed -E 's/\(.*\)//; s/^ +//; s/ +$//; s/:.*//')
has_dep() { grep -qxF "$1" <<<"$dep_names"; }
has_dep python3 || fail "Depends lacks python3 (mvnf-top): $depends"
# Every library an installed binary loads belongs to a package in Depends.
dpkg-deb -x "$deb" "$work/root"
dpkg-deb -c "$deb" >"$work/contents.txt"
# Its paths (/usr/...), without the link targets; directories apart.
files=$(awk '!/^d/ { sub(/ -> .*/, ""); print substr($NF, 2) }' "$work/contents.txt")
dirs=$(awk '/^d/ { p = substr($NF, 2); sub(/\/$/, "", p); if (p != "") print p }' "$work/contents.txt")
needed=()
while IFS= read -r -d '' f; do
    readelf -h "$f" >/dev/null 2>&1 || continue
    while read -r so; do needed+=("$so"); done < <(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done < <(find "$work/root" -type f -print0)
mapfile -t needed < <(printf '%s\n' "${needed[@]}" | sort -u)
(( ${#needed[@]} >= 3 )) || fail "found only ${#needed[@]} libraries needed by the package's binaries"
for so in "${needed[@]}"; do
    [[ $so == libmtcp.so.* ]] && { [[ -e $work/root/usr/lib/$so ]] || fail "$so is needed but not in the package"; continue; }
    path=$(awk -v s="$so" '$1 == s && !found { print $NF; found = 1 }' <<<"$ld_cache")
    [[ -n $path ]] || fail "ld.so does not know $so, which the package needs"
    owner=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null) ||
        fail "no package owns $path ($so)"
    owner=${owner%%:*}
    has_dep "$owner" || fail "$so comes from $owner, which Depends lacks: $depends"
    echo "  $so -> $owner (in Depends)"
done
if [[ " ${needed[*]} " == *" libxdp.so."* ]]; then
    echo "  AF_XDP is built: libxdp and libbpf are dependencies"
fi
dpkg-deb -e "$deb" "$work/control"
[[ -s $work/control/shlibs ]] || fail "no shlibs control file"
# ld.so's cache learns libmtcp on install and forgets it on removal: an
# ldconfig trigger, or CPack's postinst/postrm calling ldconfig.
if ! grep -qs '^activate-noawait ldconfig$' "$work/control/triggers"; then
    for script in postinst postrm; do
        grep -qs '^[[:space:]]*ldconfig' "$work/control/$script" ||
            fail "neither an ldconfig trigger nor ldconfig in $script"
    done
fi
# The package's contents: library, headers, pkg-config, CMake, programs, man pages.
for f in ./usr/lib/libmtcp.a ./usr/lib/pkgconfig/mtcp.pc ./usr/lib/cmake/mtcp/mtcpConfig.cmake \
         ./usr/include/mtcp/mtcp_api.h ./usr/bin/mvnf-httpd ./usr/bin/mvnf-top \
         ./usr/share/man/man7/mtcp-vnf.7.gz ./usr/share/man/man5/mtcp.conf.5.gz \
         ./usr/share/man/man3/libmtcp.3.gz ./usr/share/man/man3/mtcp_init.3.gz \
         ./usr/share/man/man1/mvnf-httpd.1.gz ./usr/share/doc/mtcp-vnf/examples/echo_server.c; do
    grep -qxF "${f#.}" <<<"$files" || fail "the package lacks $f"
done
if command -v lintian >/dev/null; then
    step "lintian (errors are listed; they do not fail the test)"
    bounded 180 lintian --no-tag-display-limit "$deb" 2>&1 | sed 's/^/  /' || true
else
    echo "(lintian is not installed: not run)"
fi

# Nothing the package brings may exist yet: dpkg would overwrite a file no
# package owns, and the purge would then delete it.
while read -r f; do
    [[ -e $f || -L $f ]] && skip "$f already exists: installing the package would overwrite it"
done <<<"$files"
# The directories the package creates: the purge must remove them again.
new_dirs=()
while read -r d; do [[ -d $d ]] || new_dirs+=("$d"); done <<<"$dirs"

# --- install ------------------------------------------------------------------
step "apt-get install ./$(basename "$deb")"
dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }' | sort >"$work/before.txt"
echo "$version $(date -u +%FT%TZ) pid $$ work $work" >"$marker"
(cd "$work/pkg" && bounded 300 apt-get install "${apt_opts[@]}" --no-install-recommends "./$(basename "$deb")") \
    >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get install ./$(basename "$deb") failed"; }
dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }' | sort >"$work/after.txt"
mapfile -t added < <(comm -13 "$work/before.txt" "$work/after.txt")
for p in "${added[@]}"; do [[ $p == "$pkg" ]] || added_deps+=("$p"); done
(( ${#added_deps[@]} == 0 )) || echo "apt-get also installed: ${added_deps[*]}"
[[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg") == ii* ]] || fail "$pkg is not installed after apt-get"
sover=$(find "$work/root/usr/lib" -maxdepth 1 -name 'libmtcp.so.*' -type f -printf '%f\n' -quit)
soname=$(readelf -d "/usr/lib/$sover" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
grep -qx "/usr/lib/$sover" <<<"$(dpkg -L "$pkg")" || fail "dpkg -L does not list /usr/lib/$sover"
grep -q "$soname " <<<"$(ldconfig -p)" || fail "$soname is not in ld.so's cache after install"

step "pkg-config and the compilers, as an outside user"
[[ $(pkg-config --modversion mtcp) == "$version" ]] || fail "pkg-config --modversion mtcp: $(pkg-config --modversion mtcp)"
pc_dir=$(cd "$(pkg-config --variable=pcfiledir mtcp)" && pwd)
[[ $pc_dir == /usr/lib/pkgconfig ]] || fail "pkg-config reads mtcp.pc from $pc_dir, not the package's"
read -r -a pc_flags <<<"$(pkg-config --cflags --libs mtcp)"
read -r -a pc_cflags <<<"$(pkg-config --cflags mtcp)"
read -r -a pc_static <<<"$(pkg-config --static --libs-only-l mtcp | sed 's/-lmtcp//')"
printf 'pkg-config --cflags --libs mtcp: %s\n' "${pc_flags[*]}"
[[ " ${pc_flags[*]} " == *" -lmtcp "* ]] || fail "pkg-config --libs lacks -lmtcp"
diff -r "$src/examples" /usr/share/doc/mtcp-vnf/examples >"$work/diff.txt" ||
    { cat "$work/diff.txt"; fail "the installed examples differ from $src/examples"; }
cp -r /usr/share/doc/mtcp-vnf/examples "$work/ex"
cd "$work/ex"
link=deb_$$
sed -i "s/shm:echo0/shm:$link/" server.conf client.conf
cc_() { bounded 120 cc -Wall -Werror "$@" 2>"$work/cc.log" || { cat "$work/cc.log"; fail "cc $*"; }; }
cc_ echo_server.c -o echo_server "${pc_flags[@]}"        # flat <mtcp_api.h>
cc_ echo_client.c -o echo_client "${pc_flags[@]}"        # <mtcp/mtcp_api.h>
cc_ echo_client.c -o echo_client_bare -lmtcp             # no flags: /usr/include/mtcp/...
cc_ -I/usr/include/mtcp echo_server.c -o echo_server_bare -lmtcp  # mTCP's own compile line
cc_ echo_client.c -o echo_client_static "${pc_cflags[@]}" /usr/lib/libmtcp.a "${pc_static[@]}"
deps=$(ldd ./echo_client)
grep -q "$soname => /.*lib/$soname" <<<"$deps" || { echo "$deps"; fail "echo_client does not load /usr/lib/$soname"; }
if grep -q libmtcp <<<"$(ldd ./echo_client_static)"; then fail "the static client loads libmtcp.so"; fi
step "find_package(mtcp) from /usr"
bounded 120 cmake -S . -B cm >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "find_package(mtcp) project did not configure"; }
grep -q '^mtcp_DIR:PATH=/usr/lib/cmake/mtcp$' cm/CMakeCache.txt ||
    fail "find_package found $(grep '^mtcp_DIR' cm/CMakeCache.txt), not /usr/lib/cmake/mtcp"
bounded 180 cmake --build cm >"$work/cmake-build.log" 2>&1 || { cat "$work/cmake-build.log"; fail "find_package(mtcp) project did not build"; }

step "the examples end to end over shm:$link"
start_server() {  # BINARY [ARGS...] (timeout itself: it passes SIGINT on)
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
    bounded 60 "$1" -f client.conf -s 10.0.0.1 -c "$2" -b "$3" >"$work/client.out" 2>&1 ||
        { cat "$work/client.out" "$work/server.out"; fail "$1"; }
}
start_server ./echo_server -n 5
client ./echo_client 2 100000
client ./echo_client_bare 1 5000
client ./echo_client_static 1 5000
client ./cm/echo_client 1 20000
stop_server 5
start_server ./echo_server_bare
client ./echo_client 1 1000
stop_server 1 int

step "the installed programs"
cd "$work"
progs=$(grep -oE ' \./usr/bin/[^ ]+$' "$work/contents.txt" | sed 's: \./usr/bin/::')
[[ -n $progs ]] || fail "the package has no programs"
for prog in $progs; do
    [[ $(command -v "$prog") == /usr/bin/$prog ]] || fail "$prog is not /usr/bin/$prog on PATH"
    out=$(bounded 20 "$prog" --help 2>&1) || fail "$prog --help failed: $out"
    grep -qi '^usage:' <<<"$out" || fail "$prog --help prints no usage"
    echo "  $prog --help: $(head -1 <<<"$out")"
done

if ! command -v man >/dev/null; then
    echo "(man is not installed: man pages checked in the package only)"
elif grep -qsE '^path-exclude=?/usr/share/man' /etc/dpkg/dpkg.cfg.d/*; then
    echo "(dpkg excludes /usr/share/man on this system: man not checked)"
else
    step "man finds every page and alias"
    pages=$(grep -oE ' \./usr/share/man/man[1-8]/[^ ]+\.[1-8]\.gz( -> .*)?$' "$work/contents.txt" |
            sed -E 's: \./usr/share/man/man[1-8]/::; s/ -> .*//; s/\.gz$//')
    n=0
    for page in $pages; do
        name=${page%.*}; sec=${page##*.}
        where=$(bounded 20 man -w "$sec" "$name" 2>/dev/null) || fail "man -w $sec $name finds nothing"
        # An alias is a symbolic link: man -w names the page it points to.
        [[ $(readlink -f "$where") == "$(readlink -f "/usr/share/man/man$sec/$page.gz")" ]] ||
            fail "man -w $sec $name: $where"
        n=$((n + 1))
    done
    (( n >= 50 )) || fail "only $n man pages and aliases in the package"
    render() {  # SECTION NAME TEXT: man renders the page and it contains TEXT
        out=$(MANWIDTH=80 bounded 20 man -P cat "$1" "$2" 2>"$work/man.err") ||
            { cat "$work/man.err"; fail "man $1 $2"; }
        grep -q "$3" <<<"$out" || fail "man $1 $2 does not show '$3'"
    }
    render 7 mtcp-vnf "user-space TCP/UDP/IPv4 stack"
    render 5 mtcp.conf "destroy_drain_ms"
    render 3 mtcp_epoll_wait "mtcp_epoll_wait"
    render 1 mvnf-httpd-kernel "max-preload"
    echo "  $n pages and aliases found by man -w"
fi

# --- purge ----------------------------------------------------------------------
step "apt-get purge $pkg"
bounded 300 apt-get purge "${apt_opts[@]}" "$pkg" >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "apt-get purge failed"; }
if (( ${#added_deps[@]} )); then
    bounded 300 apt-get purge "${apt_opts[@]}" "${added_deps[@]}" >>"$work/purge.log" 2>&1 ||
        { cat "$work/purge.log"; fail "could not purge the dependencies apt-get installed: ${added_deps[*]}"; }
fi
installed && fail "$pkg is still installed after apt-get purge"
if out=$(dpkg -L "$pkg" 2>/dev/null) && [[ -n $out ]]; then fail "dpkg -L $pkg still lists: $out"; fi
left=0
while read -r f; do
    [[ -z $f ]] && continue
    if [[ -e $f || -L $f ]]; then echo "left behind: $f" >&2; left=$((left + 1)); fi
done <<<"$files"
for d in "${new_dirs[@]}"; do
    [[ -d $d ]] && { echo "left behind: $d/" >&2; left=$((left + 1)); }
done
(( left == 0 )) || fail "$left files or directories of the package remain after the purge"
if grep -q 'libmtcp\.so' <<<"$(ldconfig -p)"; then fail "ld.so's cache still has libmtcp"; fi
if pkg-config --exists mtcp; then fail "pkg-config still finds mtcp"; fi
if command -v man >/dev/null && man -w 5 mtcp.conf >/dev/null 2>&1; then fail "man still finds mtcp.conf(5)"; fi
for p in "${added_deps[@]}"; do
    [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) != ii* ]] || fail "$p, installed for the package, remains"
done
rm -f "$marker"
echo "install_deb: ok ($(basename "$deb"): $(wc -l <<<"$files") files, Depends: $depends; installed, used, purged in ${SECONDS}s)"
