#!/bin/sh
# pg_nginx.sh - the example packaging/nginx-linkbookd.conf, run for real
# with Debian's nginx on loopback in front of two linkbookd processes on one
# PostgreSQL database: real devices (the linkbook command) enrol and sync
# through it, both processes serve them, and when one is killed (kill -9)
# the devices carry on through nginx without noticing.
. "$(dirname "$0")/lib.sh"
[ "$BACKEND" = postgres ] || { echo "skip - pg_nginx needs LB_TEST_BACKEND=postgres"; exit 0; }
NGINX=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null || true)
if [ -z "$NGINX" ]; then
    [ "${CI:-}" = true ] && { fail "nginx is installed in CI" ".ci/run installs nginx-light"; finish; }
    echo "skip - pg_nginx (nginx is not installed: apt-get install nginx-light)"
    exit 0
fi

srv_team "behind nginx"
SUPCODE=$CODE
srv_start || finish
URL_a=$URL
PORT_a=$PORT
srv_more b || finish
PORT_b=${URL_b##*:}
FRONT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The example, with the test's ports and paths; nginx in the foreground.
mkdir -p "$tmp/nginx/logs"
sed -e "s/127.0.0.1:8717/127.0.0.1:$PORT_a/" -e "s/127.0.0.1:8718/127.0.0.1:$PORT_b/" \
    -e "s/listen 127.0.0.1:8780;/listen 127.0.0.1:$FRONT;/" \
    -e "s|/var/log/nginx/linkbookd.access.log|$tmp/nginx/logs/access.log|" \
    "$SYNC_DIR/../../packaging/nginx-linkbookd.conf" >"$tmp/nginx/linkbookd.conf"
cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes 1;
error_log $tmp/nginx/logs/error.log warn;
pid $tmp/nginx/nginx.pid;
events { worker_connections 256; }
http {
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    include $tmp/nginx/linkbookd.conf;
}
CONF
expect_exit 0 "nginx -t accepts the example configuration" -- \
    "$NGINX" -t -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf"
"$NGINX" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' \
    >"$tmp/nginx/out" 2>&1 </dev/null &
NGINX_PID=$!
# nginx's master stops its worker on SIGQUIT (SIGKILL would orphan it).
trap 'kill -QUIT "$NGINX_PID" 2>/dev/null; sleep 0.3; _sync_cleanup' EXIT
URL="http://127.0.0.1:$FRONT"
_i=0
until curl -s -o /dev/null --max-time 2 "$URL/healthz" || [ $_i -ge 100 ]; do
    sleep 0.1
    _i=$((_i + 1))
done
curl_json "healthz through nginx" 200 GET /healthz

# Real devices, all through nginx.
dev_new sup
dev_enrol sup "$SUPCODE"
sync_ok sup "sup: first sync through nginx"
invite link-worker w1
dev_new w1
dev_enrol w1 "$CODE"
sync_ok sup "sup: seals the team key through nginx"
sync_ok w1 "w1: first sync through nginx"
expect_exit 0 "w1: person add" -- dv w1 person add --given Perpetua --family Lindqvist
expect_id "w1: person id"
P=$id
_k=1
while [ $_k -le 6 ]; do
    expect_exit 0 "w1: note $_k" -- dv w1 note add "$P" "nginx note $_k"
    sync_ok w1 "w1: sync note $_k"
    _k=$((_k + 1))
done
sync_ok sup "sup: sync"
check "both processes served requests through nginx" \
    [ "$(grep -c ' /v1/' "$tmp/srv.log")" -gt 0 ] && [ "$(grep -c ' /v1/' "$tmp/srv-b.log")" -gt 0 ]

# One process killed: nginx sends the devices to the other.
kill -9 "$PID_b"
wait "$PID_b" 2>/dev/null
expect_exit 0 "w1: note after b was killed" -- dv w1 note add "$P" "nginx note after the kill"
sync_ok w1 "w1: sync after b was killed"
sync_ok sup "sup: sync after b was killed"
sync_ok sup "sup: sync again"
expect_exit 0 "sup: show the person" -- dv sup show "$P" --json
cp "$out" "$tmp/p.json"
expect_json "sup: every note arrived exactly once" "$tmp/p.json" \
    'all(len([e for e in entries("note") if e.get("text") == t]) == 1 for t in ["nginx note 1", "nginx note 2", "nginx note 3", "nginx note 4", "nginx note 5", "nginx note 6", "nginx note after the kill"])'
check "nginx logged the requests" [ -s "$tmp/nginx/logs/access.log" ]
check "nginx's log holds no record content" sh -c "! grep -q 'nginx note' '$tmp/nginx/logs/access.log'"
srv_stop
finish
