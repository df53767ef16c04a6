#!/usr/bin/env bash
# man_test.sh BUILD_DIR SOURCE_DIR: checks the man pages (man/*.N, as
# configured into BUILD_DIR/man/src):
# - each renders without a single groff warning (groff -man -Tutf8 -ww -z,
#   man macros' style checks on);
# - each installed program has a page, and the options its --help lists are
#   exactly the options under the page's OPTIONS (the -kernel builds print
#   the same usage);
# - every function the public headers declare is in libmtcp(3)'s SYNOPSIS,
#   and has an alias link to it in BUILD_DIR/man/man3;
# - every page of this project that a page refers to, as name(N), exists.
# mtcp.conf(5)'s keys and defaults are checked against the parser by
# config_test (ConfigDoc.ManPage*). Exits 77 (skip) without groff.
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
pages=$build/man/src
fail=0
bad() { echo "man_test: $*" >&2; fail=1; }

if ! command -v groff >/dev/null; then
    echo "man_test: SKIP: groff is not installed (apt-get install groff-base)"
    exit 77
fi
[[ -d $pages ]] || { echo "man_test: no $pages (configure the build first)" >&2; exit 1; }
shopt -s nullglob
all=("$pages"/*.[1-8])
(( ${#all[@]} >= 10 )) || { echo "man_test: only ${#all[@]} pages in $pages" >&2; exit 1; }

# 1. groff warnings. -rCHECKSTYLE=3: an.tmac's own checks (sections, macro
# use); -ww: every troff warning. Anything on stderr fails.
for p in "${all[@]}"; do
    if ! out=$(LC_ALL=C.UTF-8 timeout 30 groff -man -rCHECKSTYLE=3 -Tutf8 -ww -z "$p" 2>&1) || [[ -n $out ]]; then
        bad "$(basename "$p"): groff reports:"$'\n'"$out"
    fi
    grep -q '@[A-Z_]*@' "$p" && bad "$(basename "$p"): unsubstituted @VARIABLE@"
done

# 2. Programs and their options.
# Options of a --help text: on each line that starts with blanks and a dash,
# the words starting with '-' before the description (two blanks).
help_options() {
    sed -n 's/^[[:space:]]\{1,\}\(-.*\)$/\1/p' | sed 's/  .*//' |
        grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*' | tr -d ' ,' | sort -u
}
# Options of a page: the .TP/.TQ headers of its OPTIONS section, with roff's
# \- and font escapes removed.
page_options() {
    awk '/^\.SH /{ inopt = ($2 == "OPTIONS") } inopt && head { print } { head = ($0 == ".TP" || $0 == ".TQ") }' "$1" |
        sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/"//g' -e 's/^\.[A-Z]* //' |
        grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*' | tr -d ' ,' | sort -u
}
programs=0
for prog in mvnf-httpd mvnf-wget mvnf-tcpperf mvnf-udpperf mvnf-pktgen mvnf-impair mvnf-top; do
    page=$pages/$prog.1
    [[ -f $page ]] || { bad "no man page for $prog"; continue; }
    if [[ $prog == mvnf-top ]]; then
        command -v python3 >/dev/null || { echo "man_test: python3 missing: $prog's options not checked"; continue; }
        help=$(timeout 20 python3 "$src/tools/mvnf-top/mvnf-top" --help) || { bad "$prog --help failed"; continue; }
    else
        bin=$(find "$build/apps" "$build/tools" -name "$prog" -type f -perm -u+x -print -quit 2>/dev/null)
        [[ -n $bin ]] || { bad "$prog is not built in $build"; continue; }
        help=$(timeout 20 "$bin" --help) || { bad "$prog --help failed"; continue; }
    fi
    from_help=$(help_options <<<"$help")
    from_page=$(page_options "$page")
    [[ $(wc -l <<<"$from_help") -ge 3 ]] || bad "$prog: found no options in --help"
    missing=$(comm -23 <(echo "$from_help") <(echo "$from_page"))
    extra=$(comm -13 <(echo "$from_help") <(echo "$from_page"))
    [[ -z $missing ]] || bad "$prog.1 lacks options of --help: $(echo "$missing" | tr '\n' ' ')"
    [[ -z $extra ]] || bad "$prog.1 lists options --help does not: $(echo "$extra" | tr '\n' ' ')"
    programs=$((programs + 1))
done
# Every program the install rules install has a page (names from install.cmake).
while read -r prog; do
    base=${prog%-kernel}
    [[ -f $pages/$base.1 ]] || bad "installed program $prog has no page ($base.1)"
    if [[ $prog != "$base" && ! -L $build/man/man1/$prog.1.gz && ! -L $build/man/man1/$prog.1 ]]; then
        bad "no alias $prog(1) -> $base(1) in $build/man/man1"
    fi
done < <(grep -oE 'mvnf-[a-z]+(-kernel)?' "$src/cmake/install.cmake" | sort -u)

# 3. The C API: the function names of the headers (a line that starts with
# the return type and has the name before '(').
api=$(grep -hoE '^[A-Za-z_][A-Za-z0-9_ *]*[ *][A-Za-z_][A-Za-z0-9_]*\(' "$src"/include/mtcp/*.h |
      grep -oE '[A-Za-z_][A-Za-z0-9_]*\($' | tr -d '(' | sort -u)
(( $(wc -l <<<"$api") >= 30 )) || bad "found only $(wc -l <<<"$api") functions in the headers"
synopsis=$(awk '/^\.SH /{ on = ($2 == "SYNOPSIS") } on' "$pages/libmtcp.3")
for fn in $api; do
    grep -qE "^\.BI? \"[^\"]*[ *]$fn\(" <<<"$synopsis" || bad "libmtcp.3 SYNOPSIS lacks $fn"
    [[ -L $build/man/man3/$fn.3.gz || -L $build/man/man3/$fn.3 ]] || bad "no alias $fn(3) -> libmtcp(3)"
done
diff <(echo "$api") <(sort -u "$build/man/api_functions.txt") >/dev/null ||
    bad "cmake/man.cmake's function list differs from the headers':"$'\n'"$(diff <(echo "$api") <(sort -u "$build/man/api_functions.txt"))"

# 4. References between this project's pages.
for p in "${all[@]}"; do
    for ref in $(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$p" | grep -oE '\b(mvnf-[a-z]+|mtcp[-_.][a-z_.]+|libmtcp)(-kernel)? ?\(?[1-8]\)' |
                 tr -d ' ' | sort -u); do
        name=${ref%%(*}; sec=${ref//[^1-8]/}
        [[ -e $build/man/man$sec/$name.$sec.gz || -e $build/man/man$sec/$name.$sec ]] ||
            bad "$(basename "$p") refers to $name($sec), which is not installed"
    done
done

if (( fail )); then exit 1; fi
echo "man_test: ok (${#all[@]} pages without warnings, $programs programs' options, $(wc -l <<<"$api") API functions, references)"
