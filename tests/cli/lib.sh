# tests/cli/lib.sh - helpers sourced by every CLI scenario script.
#
# A scenario script does:
#     . "$(dirname "$0")/lib.sh"
#     ... checks ...
#     finish
#
# What it gets:
#   $tmp                a private temporary directory, removed on exit
#   LINKBOOK_STORE      $tmp/store (exported), LINKBOOK_PASSPHRASE (exported)
#   $LINKBOOK           the binary under test (from tests/run.sh, or build/linkbook)
#   lb ARGS...          run linkbook (stdin from /dev/null, bounded by a timeout)
#   lbenv V=X... -- ARGS  the same with extra environment variables
#   ok NAME / fail NAME DETAIL...   print a TAP-like line and count it
#   check NAME CMD...   ok if CMD succeeds, fail otherwise
#   expect_exit CODE NAME -- CMD...
#                       run CMD, stdout to $out, stderr to $err, status in $rc;
#                       CODE is a number, a space-separated list of numbers,
#                       or "fail" (any status 1..127: refused, not crashed)
#   expect_stderr_has PATTERN [NAME]   extended regexp, case-insensitive, on $err
#   expect_stdout_has PATTERN [NAME]   ... on $out
#   expect_stdout_lacks STRING [NAME]  fixed string must not be in $out
#   last_id             the last line of $out if it is a 32-hex id, else ""
#   store_digest        fingerprint of the store's logical content (SQL dump),
#                       independent of WAL checkpoints
#   jcheck FILE EXPR    evaluate a Python expression over a JSON file (jcheck.py)
#   finish              print the summary; exit 1 if any check failed
#
# POSIX sh (dash) compatible.  No network.

set -u

CLI_DIR=$(cd "$(dirname "$0")" && pwd)
if [ -z "${LINKBOOK:-}" ]; then
    LINKBOOK=$(cd "$CLI_DIR/../.." && pwd)/build/linkbook
fi
export LINKBOOK

tmp=$(mktemp -d "${TMPDIR:-/tmp}/linkbook-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

# Keep everything of linkbook's inside the temp dir, whatever the caller has.
export LINKBOOK_STORE="$tmp/store"
export LINKBOOK_PASSPHRASE='correct horse battery staple'
unset LINKBOOK_NEW_PASSPHRASE
export XDG_DATA_HOME="$tmp/xdg"
export LC_ALL=C
export TZ=UTC

out="$tmp/out"
err="$tmp/err"
rc=0
: >"$out"
: >"$err"

PASSED=0
FAILED=0
SCRIPT_NAME=$(basename "$0" .sh)

ok() {
    PASSED=$((PASSED + 1))
    printf 'ok - %s: %s\n' "$SCRIPT_NAME" "$1"
}

# fail NAME DETAIL...: each detail line is printed as a TAP comment.
fail() {
    FAILED=$((FAILED + 1))
    printf 'not ok - %s: %s\n' "$SCRIPT_NAME" "$1"
    shift
    for d in "$@"; do
        printf '%s\n' "$d" | sed 's/^/#   /'
    done
}

check() {
    _name=$1
    shift
    if "$@" >/dev/null 2>&1; then ok "$_name"; else fail "$_name" "command failed: $*"; fi
}

lb() {
    timeout -k 5 120 "$LINKBOOK" "$@" </dev/null
}

# lbenv VAR=VALUE... -- ARGS...
lbenv() {
    _n=0
    for _a in "$@"; do
        [ "$_a" = "--" ] && break
        _n=$((_n + 1))
    done
    # Rebuild "$@" as: VAR=VALUE... "$LINKBOOK" ARGS...
    _i=0
    _total=$#
    while [ $_i -lt $_total ]; do
        _a=$1
        shift
        _i=$((_i + 1))
        if [ $_i -le $_n ]; then
            set -- "$@" "$_a"
        elif [ $_i -eq $((_n + 1)) ]; then
            set -- "$@" "$LINKBOOK"
        else
            set -- "$@" "$_a"
        fi
    done
    timeout -k 5 120 env "$@" </dev/null
}

# Describe the last command for failure details.
_lastcmd=""
_describe() {
    printf 'command: %s\n' "$_lastcmd"
    printf 'exit status: %s\n' "$rc"
    if [ -s "$err" ]; then
        printf 'stderr:\n'
        head -c 1500 "$err" | head -n 15 | sed 's/^/  /'
    fi
    if [ -s "$out" ]; then
        printf 'stdout:\n'
        head -c 1500 "$out" | head -n 15 | sed 's/^/  /'
    fi
}

_quote_cmd() {
    _q=""
    for _a in "$@"; do
        case $_a in
            *[!A-Za-z0-9_./=:,@+-]*|"") _q="$_q '$_a'" ;;
            *) _q="$_q $_a" ;;
        esac
    done
    printf '%s' "${_q# }"
}

# run CMD...: capture stdout/stderr/status without counting a check.
run() {
    _lastcmd=$(_quote_cmd "$@")
    "$@" >"$out" 2>"$err"
    rc=$?
    return 0
}

_code_matches() {
    _want=$1
    if [ "$_want" = "fail" ]; then
        [ "$rc" -ge 1 ] && [ "$rc" -le 127 ] && [ "$rc" -ne 124 ]
        return
    fi
    for _c in $_want; do
        [ "$rc" -eq "$_c" ] && return 0
    done
    return 1
}

# A sanitizer build (make asan) reports on stderr and exits 1 by default,
# which would pass for a refusal: any report fails the check instead.
_sanitizer_report() {
    grep -qE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer' "$err"
}

# expect_exit CODE NAME -- CMD...; returns 0 when the status matched.
expect_exit() {
    _want=$1
    _name=$2
    shift 2
    [ "${1:-}" = "--" ] && shift
    run "$@"
    if _sanitizer_report; then
        fail "$_name" "a sanitizer reported an error" "$(_describe)"
        return 1
    fi
    if _code_matches "$_want"; then
        ok "$_name"
        return 0
    fi
    if [ "$_want" = "fail" ]; then
        _exp="a refusal (exit 1..127, not a crash or timeout)"
    else
        _exp="exit $_want"
    fi
    fail "$_name" "expected $_exp" "$(_describe)"
    return 1
}

expect_stderr_has() {
    _name=${2:-"stderr matches /$1/"}
    if grep -qiE -- "$1" "$err"; then
        ok "$_name"
    else
        fail "$_name" "expected stderr to match /$1/ (case-insensitive)" "$(_describe)"
    fi
}

expect_stdout_has() {
    _name=${2:-"stdout matches /$1/"}
    if grep -qiE -- "$1" "$out"; then
        ok "$_name"
    else
        fail "$_name" "expected stdout to match /$1/ (case-insensitive)" "$(_describe)"
    fi
}

expect_stdout_lacks() {
    _name=${2:-"stdout lacks '$1'"}
    if grep -qF -- "$1" "$out"; then
        fail "$_name" "stdout must not contain '$1'" "$(_describe)"
    else
        ok "$_name"
    fi
}

# The id a creating command printed: alone on the last line of stdout.
last_id() {
    _l=$(tail -n 1 "$out" 2>/dev/null | tr -d '\r')
    case $_l in
        *[!0-9a-f]*) printf '' ;;
        *) [ ${#_l} -eq 32 ] && printf '%s' "$_l" ;;
    esac
}

# expect_id NAME: ok when the last command printed a 32-hex id on its last
# line; prints nothing, sets $id.
expect_id() {
    id=$(last_id)
    if [ -n "$id" ]; then
        ok "$1"
    else
        fail "$1" "expected a 32-hex id alone on the last line of stdout" "$(_describe)"
    fi
}

# store_digest: logical content of the store, read-only, so WAL checkpoints
# (which move pages between store.db and store.db-wal) do not change it.
store_digest() {
    _db="$LINKBOOK_STORE/store.db"
    if [ ! -e "$_db" ]; then
        echo "no-store"
        return
    fi
    sqlite3 -readonly "$_db" .dump 2>&1 | sha256sum | cut -c1-64
}

# sql STATEMENT...: run SQL on the store with the sqlite3 CLI (tests only).
sql() {
    sqlite3 -batch "$LINKBOOK_STORE/store.db" "$@"
}

# expect_unchanged NAME BEFORE: the store digest still equals BEFORE.
expect_unchanged() {
    _now=$(store_digest)
    if [ "$_now" = "$2" ]; then
        ok "$1"
    else
        fail "$1" "store content changed (digest $2 -> $_now)" "after: $_lastcmd"
    fi
}

# jcheck FILE EXPR: see jcheck.py.
jcheck() {
    python3 "$CLI_DIR/jcheck.py" "$@"
}

# expect_json NAME FILE EXPR
expect_json() {
    _name=$1
    shift
    if _jout=$(jcheck "$@" 2>&1); then
        ok "$_name"
    else
        fail "$_name" "$_jout" "$(_describe)"
    fi
}

# Short prefix of an id.
prefix() {
    printf '%s' "$1" | cut -c1-"$2"
}

need() {
    for _t in "$@"; do
        if ! command -v "$_t" >/dev/null 2>&1; then
            fail "tool $_t is installed" "install it (Debian package: $_t)"
            finish
        fi
    done
}

# Stop early when the binary is missing: every check would fail the same way.
if [ ! -x "$LINKBOOK" ]; then
    fail "binary exists" "no executable at $LINKBOOK (run make first)"
    echo "# 0 passed, 1 failed"
    exit 1
fi

finish() {
    echo "# $SCRIPT_NAME: $PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ] || exit 1
    exit 0
}
