# tests/sync/lib.sh - helpers sourced by every end-to-end sync script: a real
# linkbookd on 127.0.0.1 (ephemeral port, its own data directory) and any
# number of devices, each a linkbook store of its own.
#
# A sync script does:
#     . "$(dirname "$0")/lib.sh"
#     team_setup 2          # a server, a supervisor "sup", workers "w1" "w2"
#     ... checks ...
#     finish
#
# It gets everything of tests/cli/lib.sh (ok, fail, check, expect_exit, run,
# expect_stdout_has, expect_stderr_has, jcheck, expect_json, $tmp, $out,
# $err, $rc ...) and, on top:
#
#   $LINKBOOKD            the server binary (from tests/run.sh, or build/linkbookd)
#   $SRV_DATA             the server's data directory ($tmp/srv)
#   $PORT, $URL           where the server listens (http://127.0.0.1:$PORT)
#   srv_team NAME         linkbookd admin team-create; sets $CODE (first
#                         supervisor's enrolment code)
#   srv_start [PORT]      start serving $SRV_DATA on 127.0.0.1:PORT (default
#                         0: any free port, then $PORT is the one bound);
#                         one check; returns 1 if it did not come up.
#                         $SRV_ARGS (default none) go to `serve` as well, e.g.
#                         "--tls-cert F --tls-key F"; $SRV_SCHEME (default
#                         http) is the scheme of $URL
#   srv_stop              SIGTERM, wait (bounded); one check that it stopped
#                         cleanly (exit 0 within 15 s)
#   srv_kill9             kill -9 the server and reap it (no check)
#   srv_alive             true while the server process runs
#   dv DEV ARGS...        run linkbook on device DEV (store $tmp/dev/DEV),
#                         under `timeout 60`, stdin from /dev/null
#   dev_store DEV         the store directory of DEV
#   dev_new DEV           linkbook init on DEV (one check)
#   dev_enrol DEV CODE    linkbook enrol $URL CODE --name DEV (one check);
#                         sets DEV_ID (the device id it printed)
#   sync_ok DEV NAME      dv DEV sync --json must exit 0 (one check); sets
#                         $pushed $pulled $rejected $requests $pending from it
#   team_setup N          srv_team, srv_start, supervisor "sup" enrolled and
#                         synced (makes the team key), N workers w1..wN
#                         invited, enrolled, sealed to by a supervisor sync,
#                         and synced; ids in $DEVID_sup, $DEVID_w1, ...
#   dump DEV DIR          a canonical dump of what DEV sees: DIR/canon.json
#                         (person list --json + show --json of each person,
#                         "recorded" dropped, lists of records sorted by id)
#   same_dump NAME A B    ok when two canonical dumps are byte-identical
#   curl_json NAME STATUS METHOD PATH [curl args]
#                         one HTTP request to the server (bounded, loopback);
#                         body in $tmp/body, status in $http, content type
#                         in $ctype; one check
#                         that the status is STATUS
#   expect_error_doc NAME [CODE]  the last body is {"error": "...", "code": CODE}
#   curl_enrol NAME CODE  enrol a bare device with curl: $TOKEN, $TOKDEV,
#                         $TOKCASELOAD (a real device token for raw requests)
#   apost NAME STATUS PATH JSON [TOKEN|-]   POST JSON with $TOKEN (or none)
#   metric_requests       total of linkbookd_requests_total outside the
#                         /healthz and /metrics routes (empty if unknown)
#   count_in FILE TEXT    how many times the fixed string TEXT occurs in FILE
#
# Backends: every script runs on the backend $LB_TEST_BACKEND names
# (tests/run.sh runs each twice): "sqlite" (default: --data $SRV_DATA) or
# "postgres" (--postgres $SRV_PG: a fresh database of the cluster that
# $LB_TEST_PG reaches, e.g. "host=127.0.0.1 port=55432 user=postgres",
# created for the script and dropped at its end).  Without $LB_TEST_PG the
# postgres run prints one "skip - ..." line and exits 0.
#
#   $BACKEND              sqlite or postgres
#   $STORE_OPT $STORE_VAL the store option of linkbookd for this backend:
#                         --data $SRV_DATA or --postgres $SRV_PG (quote both:
#                         "$LINKBOOKD" serve "$STORE_OPT" "$STORE_VAL" ...)
#   lbd ARGS...           linkbookd ARGS with this script's store appended
#   srv_backup NAME       a backup of the server's store: a copy of
#                         $SRV_DATA, or pg_dump -Fc of the database
#   srv_restore NAME      put it back (server stopped): the copy over
#                         $SRV_DATA, or the database dropped, created again
#                         and pg_restore'd into
#   srv_files DIR         what the server's store holds, as files in DIR to
#                         grep: a copy of $SRV_DATA, or a plain pg_dump
#                         (dump.sql) with every bytea value in it decoded
#                         (bytea.bin: hex in the dump would hide plaintext)
#   pg_unhex DIR          (postgres) decode DIR/dump.sql's bytea into bytea.bin
#   srv_sql SQL           run SQL on the server's database (sqlite3 or
#                         psql; tab-separated rows on stdout)
#   pg_db_new NAME        (postgres) another fresh database; its conninfo in
#                         $PG_NEW (dropped at the end as well)
#   srv_more NAME         another linkbookd serving the same store (for
#                         PostgreSQL: several processes on one database) on
#                         a free port; sets URL_NAME and PID_NAME (killed at
#                         exit); its log is $tmp/srv-NAME.log; one check
#
# Every process this file starts is killed on exit.  POSIX sh (dash).

SYNC_DIR=$(cd "$(dirname "$0")" && pwd)
. "$SYNC_DIR/../cli/lib.sh"
# cli/lib.sh found its helpers relative to $0: point them at tests/cli.
CLI_DIR=$(cd "$SYNC_DIR/../cli" && pwd)

if [ -z "${LINKBOOKD:-}" ]; then
    LINKBOOKD=$(cd "$SYNC_DIR/../.." && pwd)/build/linkbookd
fi
export LINKBOOKD

SRV_PID=""
SRV_DATA="$tmp/srv"
SRV_ARGS=""
BACKEND=${LB_TEST_BACKEND:-sqlite}
SRV_PG=""
PG_DBS=""
SRV_SCHEME=http
PORT=0
URL=""
BG_PIDS=""

_sync_cleanup() {
    if [ -n "$SRV_PID" ]; then
        kill -9 "$SRV_PID" 2>/dev/null
    fi
    for _p in $BG_PIDS; do
        kill -9 "$_p" 2>/dev/null
    done
    for _db in $PG_DBS; do
        timeout 30 psql "$LB_TEST_PG dbname=postgres" -qAt -c \
            "DROP DATABASE IF EXISTS $_db WITH (FORCE)" >/dev/null 2>&1
    done
    rm -rf "$tmp"
}
trap '_sync_cleanup' EXIT
trap 'exit 130' INT TERM HUP

if [ ! -x "$LINKBOOKD" ]; then
    fail "server binary exists" "no executable at $LINKBOOKD (run make first)"
    echo "# 0 passed, 1 failed"
    exit 1
fi
need python3 curl

case $BACKEND in
sqlite) ;;
postgres)
    if [ -z "${LB_TEST_PG:-}" ] && [ "${CI:-}" = true ]; then
        fail "LB_TEST_PG is set in CI" "CI must run the PostgreSQL variants (.ci/run starts a cluster)"
        finish
    fi
    if [ -z "${LB_TEST_PG:-}" ]; then
        echo "skip - $(basename "$0" .sh) on PostgreSQL (LB_TEST_PG is not set)"
        exit 0
    fi
    need psql pg_dump pg_restore
    ;;
*)
    fail "LB_TEST_BACKEND is sqlite or postgres" "it is '$BACKEND'"
    finish
    ;;
esac

# pg_db_new NAME: a fresh database; $PG_NEW its conninfo.
pg_db_new() {
    _db="lbt_$(date +%s)_$$_$1"
    PG_NEW=""
    if ! timeout 30 psql "$LB_TEST_PG dbname=postgres" -qAt -c "CREATE DATABASE $_db" \
        >"$tmp/psql.out" 2>&1; then
        fail "a fresh PostgreSQL database $_db" "$(head -c 400 "$tmp/psql.out")"
        return 1
    fi
    PG_DBS="$PG_DBS $_db"
    PG_NEW="$LB_TEST_PG dbname=$_db"
}

if [ "$BACKEND" = postgres ]; then
    pg_db_new srv || finish
    SRV_PG=$PG_NEW
    SRV_PG_DB=${SRV_PG##*dbname=}
    echo "# backend: PostgreSQL, database $SRV_PG_DB"
fi

STORE_OPT=--data
STORE_VAL=$SRV_DATA
if [ "$BACKEND" = postgres ]; then
    STORE_OPT=--postgres
    STORE_VAL=$SRV_PG
fi

lbd() {
    timeout -k 5 60 "$LINKBOOKD" "$@" "$STORE_OPT" "$STORE_VAL"
}

srv_backup() {
    if [ "$BACKEND" = postgres ]; then
        timeout 60 pg_dump -Fc -f "$tmp/backup-$1.pgdump" "$SRV_PG"
    else
        rm -rf "$tmp/backup-$1" && cp -r "$SRV_DATA" "$tmp/backup-$1"
    fi
}

srv_restore() {
    if [ "$BACKEND" = postgres ]; then
        timeout 60 psql "$LB_TEST_PG dbname=postgres" -qAt \
            -c "DROP DATABASE IF EXISTS $SRV_PG_DB WITH (FORCE)" \
            -c "CREATE DATABASE $SRV_PG_DB" >/dev/null &&
            timeout 60 pg_restore -d "$SRV_PG" "$tmp/backup-$1.pgdump"
    else
        rm -rf "$SRV_DATA" && cp -r "$tmp/backup-$1" "$SRV_DATA"
    fi
}

pg_unhex() {
    python3 - "$1/dump.sql" "$1/bytea.bin" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
with open(sys.argv[2], "wb") as out:
    for h in re.findall(r"\\x([0-9a-fA-F]+)", text):
        if len(h) % 2 == 0:
            out.write(bytes.fromhex(h) + b"\n")
EOF
}

srv_files() {
    rm -rf "$1"
    mkdir -p "$1"
    if [ "$BACKEND" = postgres ]; then
        timeout 60 pg_dump "$SRV_PG" >"$1/dump.sql" && pg_unhex "$1"
    else
        cp -r "$SRV_DATA"/. "$1"/
    fi
}

srv_sql() {
    if [ "$BACKEND" = postgres ]; then
        timeout 30 psql "$SRV_PG" -qAt -F "$(printf '\t')" -v ON_ERROR_STOP=1 -c "$1"
    else
        sqlite3 -batch -separator "$(printf '\t')" "$SRV_DATA/linkbookd.db" "$1"
    fi
}

# Every linkbook call of these scripts is bounded by 60 s.
lb() {
    timeout -k 5 60 "$LINKBOOK" "$@" </dev/null
}

dev_store() {
    printf '%s' "$tmp/dev/$1"
}

dv() {
    _d=$1
    shift
    LINKBOOK_STORE="$tmp/dev/$_d" timeout -k 5 60 "$LINKBOOK" "$@" </dev/null
}

srv_log() {
    printf '%s' "$tmp/srv.log"
}

srv_alive() {
    [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null
}

srv_team() {
    mkdir -p "$SRV_DATA"
    CODE=""
    if expect_exit 0 "linkbookd admin team-create $1" -- \
        lbd admin team-create "$1"; then
        CODE=$(tail -n 1 "$out" | tr -d '\r')
        if [ -n "$CODE" ]; then
            ok "team-create prints an enrolment code last"
        else
            fail "team-create prints an enrolment code last" "$(_describe)"
        fi
    fi
}

# srv_start [PORT]: the server's stdout goes to $tmp/srv.out (read for the
# port), its stderr (request log) is appended to $tmp/srv.log.
srv_start() {
    _want=${1:-0}
    mkdir -p "$SRV_DATA"
    : >"$tmp/srv.out"
    # shellcheck disable=SC2086 # SRV_ARGS: words, paths without spaces
    "$LINKBOOKD" serve "$STORE_OPT" "$STORE_VAL" --listen "127.0.0.1:$_want" $SRV_ARGS \
        >"$tmp/srv.out" 2>>"$tmp/srv.log" </dev/null &
    SRV_PID=$!
    _i=0
    _line=""
    while [ $_i -lt 150 ]; do
        _line=$(grep -m1 -E '^listening on 127\.0\.0\.1:[0-9]+' "$tmp/srv.out" 2>/dev/null)
        [ -n "$_line" ] && break
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
        _i=$((_i + 1))
    done
    if [ -z "$_line" ]; then
        fail "linkbookd serve on 127.0.0.1:$_want says it listens within 15 s" \
            "stdout: $(head -c 500 "$tmp/srv.out")" "log: $(tail -n 5 "$tmp/srv.log")" \
            "process alive: $(srv_alive && echo yes || echo no)"
        srv_kill9
        return 1
    fi
    PORT=${_line##*:}
    PORT=$(printf '%s' "$PORT" | tr -cd '0-9')
    if [ "$_want" != 0 ] && [ "$PORT" != "$_want" ]; then
        fail "linkbookd listens on the port asked for" "asked $_want, got $PORT"
        return 1
    fi
    URL="$SRV_SCHEME://127.0.0.1:$PORT"
    ok "linkbookd serve listens on 127.0.0.1:$PORT"
    return 0
}

srv_more() {
    _o="$tmp/srv-$1.out"
    : >"$_o"
    "$LINKBOOKD" serve "$STORE_OPT" "$STORE_VAL" --listen 127.0.0.1:0 \
        >"$_o" 2>>"$tmp/srv-$1.log" </dev/null &
    _pid=$!
    BG_PIDS="$BG_PIDS $_pid"
    eval "PID_$1=\$_pid"
    _i=0
    _line=""
    while [ $_i -lt 150 ] && [ -z "$_line" ] && kill -0 "$_pid" 2>/dev/null; do
        sleep 0.1
        _line=$(grep -m1 -E '^listening on 127\.0\.0\.1:[0-9]+' "$_o" 2>/dev/null)
        _i=$((_i + 1))
    done
    if [ -z "$_line" ]; then
        fail "linkbookd $1 listens within 15 s" "log: $(tail -n 5 "$tmp/srv-$1.log")"
        return 1
    fi
    eval "URL_$1=http://127.0.0.1:\${_line##*:}"
    ok "linkbookd $1 serves the same store on port ${_line##*:}"
}

# _srv_wait SECONDS: wait for the server to exit; status in $srv_rc
# ("" if it is still running after SECONDS).
_srv_wait() {
    _n=$(($1 * 10))
    _i=0
    while [ $_i -lt $_n ] && kill -0 "$SRV_PID" 2>/dev/null; do
        sleep 0.1
        _i=$((_i + 1))
    done
    if kill -0 "$SRV_PID" 2>/dev/null; then
        srv_rc=""
        return 1
    fi
    wait "$SRV_PID" 2>/dev/null
    srv_rc=$?
    return 0
}

srv_stop() {
    [ -n "$SRV_PID" ] || return 0
    kill -TERM "$SRV_PID" 2>/dev/null
    if _srv_wait 15; then
        if [ "$srv_rc" -eq 0 ]; then
            ok "linkbookd stops cleanly on SIGTERM (exit 0)"
        else
            fail "linkbookd stops cleanly on SIGTERM (exit 0)" "exit status $srv_rc" \
                "log: $(tail -n 5 "$tmp/srv.log")"
        fi
    else
        fail "linkbookd stops cleanly on SIGTERM (exit 0)" "still running 15 s after SIGTERM"
        kill -9 "$SRV_PID" 2>/dev/null
        wait "$SRV_PID" 2>/dev/null
    fi
    SRV_PID=""
}

srv_kill9() {
    [ -n "$SRV_PID" ] || return 0
    kill -9 "$SRV_PID" 2>/dev/null
    wait "$SRV_PID" 2>/dev/null
    SRV_PID=""
}

dev_new() {
    mkdir -p "$tmp/dev"
    expect_exit 0 "$1: linkbook init" -- dv "$1" init
}

# dev_enrol DEV CODE
dev_enrol() {
    DEV_ID=""
    if [ -z "$2" ]; then
        fail "$1: enrol" "no enrolment code to enrol with"
        return 1
    fi
    expect_exit 0 "$1: linkbook enrol URL CODE" -- dv "$1" enrol "$URL" "$2" --name "$1" || return 1
    DEV_ID=$(tail -n 1 "$out" | tr -d '\r')
    eval "DEVID_$1=\$DEV_ID"
    return 0
}

# jget FILE KEY: a top-level number or string of a JSON object ("" if none).
jget() {
    python3 - "$1" "$2" <<'EOF' 2>/dev/null
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    v = d.get(sys.argv[2], "")
    print("" if v is None or isinstance(v, (dict, list)) else v)
except Exception:
    print("")
EOF
}

# sync_ok DEV NAME: one sync that must succeed; its counts in variables.
sync_ok() {
    pushed=""; pulled=""; rejected=""; requests=""; pending=""
    expect_exit 0 "$2" -- dv "$1" sync --json || return 1
    cp "$out" "$tmp/sync.json"
    pushed=$(jget "$tmp/sync.json" pushed)
    pulled=$(jget "$tmp/sync.json" pulled)
    rejected=$(jget "$tmp/sync.json" rejected)
    requests=$(jget "$tmp/sync.json" requests)
    pending=$(jget "$tmp/sync.json" pending)
    return 0
}

# invite ROLE NAME: a supervisor's invitation; sets $CODE.
invite() {
    CODE=""
    expect_exit 0 "sup: team invite --role $1 --name $2" -- \
        dv sup team invite --role "$1" --name "$2" || return 1
    CODE=$(tail -n 1 "$out" | tr -d '\r')
    return 0
}

team_setup() {
    _n=$1
    srv_team "linkbook test team"
    srv_start || { finish; }
    dev_new sup
    dev_enrol sup "$CODE"
    sync_ok sup "sup: first sync after enrolling"
    _k=1
    while [ $_k -le "$_n" ]; do
        invite link-worker "w$_k"
        dev_new "w$_k"
        dev_enrol "w$_k" "$CODE"
        _k=$((_k + 1))
    done
    [ "$_n" -gt 0 ] && sync_ok sup "sup: sync seals the team key to the new devices"
    _k=1
    while [ $_k -le "$_n" ]; do
        sync_ok "w$_k" "w$_k: first sync with the team key"
        _k=$((_k + 1))
    done
}

# dump DEV DIR: canonical view of what DEV holds.
dump() {
    _dir=$2
    rm -rf "$_dir"
    mkdir -p "$_dir"
    if ! dv "$1" person list --json >"$_dir/list.json" 2>"$_dir/err"; then
        echo "person list failed on $1: $(cat "$_dir/err")" >"$_dir/canon.json"
        return 1
    fi
    for _p in $(python3 -c '
import json, sys
for p in json.load(open(sys.argv[1])).get("people", []):
    print(p["id"])' "$_dir/list.json"); do
        dv "$1" show "$_p" --json >"$_dir/show-$_p.json" 2>>"$_dir/err" ||
            echo "show $_p failed" >>"$_dir/err"
    done
    python3 "$SYNC_DIR/canon.py" "$_dir" >"$_dir/canon.json"
}

# same_dump NAME A B: two canonical dump files are identical.
same_dump() {
    if cmp -s "$2" "$3"; then
        ok "$1"
    else
        fail "$1" "canonical dumps differ ($2 vs $3):" "$(diff "$2" "$3" | head -n 30)"
    fi
}

# curl_json NAME STATUS METHOD PATH [curl args...]
http=""
ctype=""
curl_json() {
    _name=$1
    _want=$2
    _meth=$3
    _path=$4
    shift 4
    _lastcmd="curl -X $_meth $URL$_path $*"
    _w=$(curl -sS -o "$tmp/body" -w '%{http_code} %{content_type}' --max-time 20 \
        -X "$_meth" "$@" "$URL$_path" 2>"$err")
    rc=$?
    http=${_w%% *}
    ctype=${_w#* }
    if [ "$http" = "$_want" ]; then
        ok "$_name"
        return 0
    fi
    fail "$_name" "expected HTTP $_want, got '$http' (curl exit $rc)" "command: $_lastcmd" \
        "body: $(head -c 400 "$tmp/body" 2>/dev/null)" "curl: $(head -c 300 "$err")"
    return 1
}

# The body of the last curl_json is an lb_proto error document.
expect_error_doc() {
    _want_code=${2:-}
    if python3 - "$tmp/body" "$_want_code" "$ctype" <<'EOF' >"$tmp/jerr" 2>&1
import json, sys
assert sys.argv[3].startswith("application/json"), "content type %r" % sys.argv[3]
d = json.load(open(sys.argv[1]))
assert isinstance(d, dict), "not an object"
assert isinstance(d.get("error"), str) and d["error"], "no error message"
assert isinstance(d.get("code"), str) and d["code"], "no code"
if sys.argv[2]:
    assert d["code"] == sys.argv[2], "code %r, expected %r" % (d["code"], sys.argv[2])
EOF
    then
        ok "$1"
    else
        fail "$1" "$(cat "$tmp/jerr" | tail -n 1)" "body: $(head -c 400 "$tmp/body")"
    fi
}

metric_requests() {
    curl -sS --max-time 10 "$URL/metrics" 2>/dev/null | awk '
        /^linkbookd_requests_total[{]/ {
            if ($0 ~ /route="[^"]*(metrics|healthz)/) next
            n += $NF; seen = 1
        }
        END { if (seen) printf "%d\n", n }'
}

count_in() {
    python3 -c 'import sys; print(open(sys.argv[1], encoding="utf-8", errors="replace").read().count(sys.argv[2]))' "$1" "$2"
}

# curl_enrol NAME CODE: enrol a bare "device" with curl (no linkbook store),
# so a test holds a real device token.  Sets TOKEN, TOKDEV (its device id)
# and TOKCASELOAD; one check.
curl_enrol() {
    TOKEN=""; TOKDEV=""; TOKCASELOAD=""
    _key=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
    printf '{"code": "%s", "device_key": "%s", "device_name": "%s"}' "$2" "$_key" "$1" >"$tmp/enrol.json"
    curl_json "curl: enrol $1 with a code" 200 POST /v1/enrol \
        -H 'Content-Type: application/json' --data-binary @"$tmp/enrol.json" || return 1
    TOKEN=$(jget "$tmp/body" token)
    TOKDEV=$(jget "$tmp/body" device)
    TOKCASELOAD=$(jget "$tmp/body" caseload)
    [ -n "$TOKEN" ] || { fail "curl: enrolment answers a token" "body: $(head -c 300 "$tmp/body")"; return 1; }
}

# apost NAME STATUS PATH JSON [TOKEN]: POST JSON with a bearer token
# ($TOKEN unless given; "-" for none).
apost() {
    _tok=${5:-$TOKEN}
    printf '%s' "$4" >"$tmp/req.json"
    if [ "$_tok" = "-" ]; then
        curl_json "$1" "$2" POST "$3" -H 'Content-Type: application/json' --data-binary @"$tmp/req.json"
    else
        curl_json "$1" "$2" POST "$3" -H 'Content-Type: application/json' \
            -H "Authorization: Bearer $_tok" --data-binary @"$tmp/req.json"
    fi
}

# wpost NAME STATUS PATH JSON [TOKEN]: apost for the sync routes in the
# binary protocol: a push document {"envelopes", "cursors"} goes as a binary
# body, and a binary answer is flattened into one JSON document in
# $tmp/body (lbwire.py flatten) for expect_json.
wpost() {
    _tok=${5:-$TOKEN}
    if [ "$3" = /v1/push ]; then
        python3 "$SYNC_DIR/lbwire.py" pushdoc "$tmp/req.bin" "$4"
        curl_json "$1" "$2" POST "$3" -H 'Content-Type: application/vnd.linkbook.v2' \
            -H "Authorization: Bearer $_tok" --data-binary @"$tmp/req.bin"
    else
        apost "$1" "$2" "$3" "$4" "$_tok"
    fi
    python3 "$SYNC_DIR/lbwire.py" flatten "$tmp/body"
}
