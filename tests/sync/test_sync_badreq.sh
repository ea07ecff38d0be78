#!/bin/sh
# test_sync_badreq.sh - linkbookd against bad requests, with curl: malformed
# JSON (400), malformed binary push bodies (no magic, cut frames, absurd
# lengths, trailing garbage, unknown frames: 400 bad_frame, nothing stored,
# the server keeps serving), too many envelopes (413), wrong content type
# (415, a JSON push included), bodies over 8 MiB announced or
# streamed (413), unknown routes (404), wrong methods (405), missing or
# bogus tokens (401), absurd cursors (400), bad enrolment codes (403); every
# error is a JSON document with "error" and "code".  /healthz and /metrics
# answer.  Clients that connect and send nothing, or trickle a request, do
# not stop others from being served, and an idle connection is closed.
. "$(dirname "$0")/lib.sh"

srv_team "bad requests team"
SUPCODE=$CODE
srv_start || finish
curl_enrol supervisor "$SUPCODE"
SUPCL=$TOKCASELOAD

# --- health and metrics ------------------------------------------------------------------
curl_json "GET /healthz: 200" 200 GET /healthz
expect_json "/healthz is JSON with ok true and an epoch" "$tmp/body" \
    'doc.get("ok") is True and isinstance(doc.get("epoch"), str) and len(doc["epoch"]) > 0'
curl_json "GET /metrics: 200" 200 GET /metrics
case $ctype in
    text/plain*) ok "/metrics is text/plain ($ctype)" ;;
    *) fail "/metrics is text/plain" "content type '$ctype'" ;;
esac
if grep -q '^# TYPE linkbookd_requests_total counter' "$tmp/body" &&
    grep -qE '^linkbookd_requests_total[{].*[}] [0-9]+' "$tmp/body"; then
    ok "/metrics has linkbookd_requests_total in Prometheus text format"
else
    fail "/metrics has linkbookd_requests_total in Prometheus text format" "$(head -n 20 "$tmp/body")"
fi

# --- routes, methods, tokens ------------------------------------------------------------
curl_json "unknown route: 404" 404 GET /v1/nope
expect_error_doc "unknown route: error document, code not_found" not_found
curl_json "unknown route under POST: 404" 404 POST /v2/push -H 'Content-Type: application/json' -d '{}'
expect_error_doc "unknown POST route: error document"
curl_json "GET on /v1/push: 405" 405 GET /v1/push -H "Authorization: Bearer $TOKEN"
expect_error_doc "wrong method: error document, code bad_method" bad_method
apost "pull without a token: 401" 401 /v1/pull '{"cursors": {}}' -
expect_error_doc "no token: error document, code bad_token" bad_token
apost "pull with a bogus token: 401" 401 /v1/pull '{"cursors": {}}' "0000000000000000000000000000000000000000000000000000000000000000"
expect_error_doc "bogus token: error document, code bad_token" bad_token
curl_json "push with a malformed Authorization header: 401" 401 POST /v1/push \
    -H 'Content-Type: application/vnd.linkbook.v2' -H "Authorization: Basic $TOKEN" -d 'LB2'

expect_error_doc "malformed Authorization: error document"
curl_json "GET /v1/keys without a token: 401" 401 GET /v1/keys

# --- bodies ------------------------------------------------------------------------------
apost "the supervisor's token works: pull 200" 200 /v1/pull '{"cursors": {}}'
apost "malformed JSON: 400" 400 /v1/pull '{"cursors": {'
expect_error_doc "malformed JSON: error document, code bad_json" bad_json
apost "empty body: 400" 400 /v1/pull ''
expect_error_doc "empty body: error document"
apost "JSON that is not an object: 400" 400 /v1/pull '[1, 2, 3]'
expect_error_doc "not an object: error document"
apost "cursors not an object: 400" 400 /v1/pull '{"cursors": "all"}'
expect_error_doc "cursors not an object: error document"
apost "negative cursor: 400" 400 /v1/pull "{\"cursors\": {\"$SUPCL\": -1}}"
expect_error_doc "negative cursor: error document, code bad_request" bad_request
apost "cursor as a string: 400" 400 /v1/pull "{\"cursors\": {\"$SUPCL\": \"5\"}}"
expect_error_doc "string cursor: error document"
apost "fractional cursor: 400" 400 /v1/pull "{\"cursors\": {\"$SUPCL\": 1.5}}"
apost "cursor beyond 64 bits: 400" 400 /v1/pull "{\"cursors\": {\"$SUPCL\": 123456789012345678901234567890}}"
expect_error_doc "huge cursor: error document"
apost "negative max_bytes: 400" 400 /v1/pull '{"cursors": {}, "max_bytes": -5}'
apost "invalid UTF-8 in JSON: 400" 400 /v1/pull "$(printf '{"cursors": {"\377\376": 0}}')"

# --- binary push bodies ----------------------------------------------------------------
WIRE="$SYNC_DIR/lbwire.py"
# bpost NAME STATUS FILE: POST FILE to /v1/push as a binary body.
bpost() {
    curl_json "$1" "$2" POST /v1/push -H 'Content-Type: application/vnd.linkbook.v2' \
        -H "Authorization: Bearer $TOKEN" --data-binary @"$3"
}
# bpush LABEL PERSON OUT: push envelope $EID for PERSON (answered 200), its
# answer decoded into OUT.
bpush() {
    python3 "$WIRE" push "$tmp/b.bin" --cursors '{}' \
        "{\"id\": \"$EID\", \"person\": \"$2\", \"key\": 1, \"body\": \"$(head -c 40 /dev/zero | base64)\"}"
    bpost "$1" 200 "$tmp/b.bin"
    python3 "$WIRE" decode "$tmp/body" >"$3" 2>&1
}
# stored: how many envelopes the server holds (from /metrics).
stored() {
    curl -sS --max-time 10 "$URL/metrics" 2>/dev/null |
        awk '/^linkbookd_envelopes_stored / {print $NF}'
}
# A well-formed envelope frame payload: id, person (LB_NOBODY), key 1, no
# flags, a 40-byte body.
EID=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
NOBODY=00000000000000000000000000000000
BODY40=$(printf '%080d' 0)
GOOD="${EID}${NOBODY}0000000100${BODY40}"
stored_before=$(stored)
apost "a JSON push body: 415" 415 /v1/push '{"envelopes": []}'
expect_error_doc "a JSON push body: error document, code bad_content_type" bad_content_type
printf 'LB1\n' >"$tmp/b.bin"
bpost "binary push without the magic: 400" 400 "$tmp/b.bin"
expect_error_doc "no magic: error document, code bad_frame" bad_frame
printf 'LB2\nE\000\000' >"$tmp/b.bin"
bpost "binary push ending inside a frame header: 400" 400 "$tmp/b.bin"
expect_error_doc "cut frame header: error document, code bad_frame" bad_frame
python3 "$WIRE" frame "$tmp/b.bin" E "$GOOD" && head -c -7 "$tmp/b.bin" >"$tmp/b2.bin"
bpost "binary push with a truncated envelope frame: 400" 400 "$tmp/b2.bin"
expect_error_doc "truncated frame: error document, code bad_frame" bad_frame
printf 'LB2\nE\377\377\377\377abc' >"$tmp/b.bin"
bpost "binary push with an absurd frame length (4 GiB): 400" 400 "$tmp/b.bin"
expect_error_doc "absurd length: error document, code bad_frame" bad_frame
python3 "$WIRE" frame "$tmp/b.bin" E "$GOOD" && printf 'x' >>"$tmp/b.bin"
bpost "binary push with trailing garbage after a good frame: 400" 400 "$tmp/b.bin"
expect_error_doc "trailing garbage: error document, code bad_frame" bad_frame
python3 "$WIRE" frame "$tmp/b.bin" Z "00"
bpost "binary push with an unknown frame type: 400" 400 "$tmp/b.bin"
python3 "$WIRE" frame "$tmp/b.bin" E "${EID}${NOBODY}00000001"
bpost "binary push with an envelope shorter than its fixed fields: 400" 400 "$tmp/b.bin"
python3 "$WIRE" frame "$tmp/b.bin" E "${EID}${NOBODY}0000000100$(printf '%078d' 0)"
bpost "binary push with a body too short to be sealed: 400" 400 "$tmp/b.bin"
python3 "$WIRE" frame "$tmp/b.bin" E "${EID}${NOBODY}0000000000${BODY40}"
bpost "binary push with team key id 0: 400" 400 "$tmp/b.bin"
python3 "$WIRE" frame "$tmp/b.bin" E "${EID}${NOBODY}0000000180${BODY40}"
bpost "binary push with an unknown flag: 400" 400 "$tmp/b.bin"
python3 "$WIRE" frame "$tmp/b.bin" E "${EID}${NOBODY}0000000101ff${BODY40}"
bpost "binary push with an assign caseload longer than the frame: 400" 400 "$tmp/b.bin"
python3 "$WIRE" frame "$tmp/b.bin" E "${EID}${NOBODY}00000001010221${BODY40}"
bpost "binary push with an assign caseload of forbidden characters: 400" 400 "$tmp/b.bin"
python3 "$WIRE" frame "$tmp/b.bin" J "$(printf 'not json' | od -An -tx1 | tr -d ' \n')" E "$GOOD"
bpost "binary push whose control frame is not JSON: 400" 400 "$tmp/b.bin"
python3 "$WIRE" frame "$tmp/b.bin" E "$GOOD" J "7b7d"
bpost "binary push with a control frame after an envelope: 400" 400 "$tmp/b.bin"
python3 "$WIRE" frame "$tmp/b.bin" A "$EID"
bpost "binary push with an ack frame: 400" 400 "$tmp/b.bin"
python3 -c '
import struct, sys
p = bytes.fromhex(sys.argv[2])
open(sys.argv[1], "wb").write(b"LB2\n" + (b"E" + struct.pack(">I", len(p)) + p) * 2001)
' "$tmp/b.bin" "$GOOD"
bpost "binary push of 2001 envelopes: 413" 413 "$tmp/b.bin"
expect_error_doc "too many envelopes: error document, code too_large" too_large
stored_after=$(stored)
check "no malformed push stored anything (envelopes stored: $stored_before, then $stored_after)" \
    [ -n "$stored_before" -a "$stored_before" = "$stored_after" ]
apost "the server keeps serving after malformed bodies: pull 200" 200 /v1/pull '{"cursors": {}}'
case $ctype in
    application/vnd.linkbook.v2*) ok "a pull answers a binary body ($ctype)" ;;
    *) fail "a pull answers a binary body" "content type '$ctype'" ;;
esac
# A well-formed push from a bare device: acknowledged with its sequence numbers.
bpush "a well-formed binary push: 200" "$NOBODY" "$tmp/ans.json"
expect_json "its answer: a control frame with the epoch, one ack of that id" "$tmp/ans.json" \
    'isinstance(doc["control"].get("epoch"), str) and [a["id"] for a in doc["acks"]] == ["'"$EID"'"] and doc["rejected"] == [] and len(doc["acks"][0]["seq"]) == 1 and all(v >= 1 for v in doc["acks"][0]["seq"].values())'
bpush "the same push again: 200" "$NOBODY" "$tmp/ans2.json"
SEQ1=$(python3 -c 'import json, sys; print(repr(json.load(open(sys.argv[1]))["acks"]))' "$tmp/ans.json" 2>&1)
expect_json "re-pushing answers the original sequence numbers" "$tmp/ans2.json" \
    'doc["acks"] == '"$SEQ1"
check "the re-push stored nothing new (envelopes stored: $stored_after, then $(stored))" \
    [ "$(stored)" = "$((stored_after + 1))" ]
# The same id with other routing facts (another person) is a different change: refused.
bpush "a push of that id for another person: 200" "$(printf '%032d' 7)" "$tmp/ans3.json"
expect_json "its answer: no ack, the id refused as used by a different envelope" "$tmp/ans3.json" \
    'doc["acks"] == [] and len(doc["rejected"]) == 1 and "'"$EID"'" in str(doc["rejected"]) and "different" in str(doc["rejected"])'
check "the refused push stored nothing (envelopes stored: $(stored))" \
    [ "$(stored)" = "$((stored_after + 1))" ]

curl_json "wrong content type: 415" 415 POST /v1/pull -H 'Content-Type: text/plain' \
    -H "Authorization: Bearer $TOKEN" -d '{"cursors": {}}'
expect_error_doc "wrong content type: error document, code bad_content_type" bad_content_type
curl_json "form content type: 415" 415 POST /v1/push -H 'Content-Type: application/x-www-form-urlencoded' \
    -H "Authorization: Bearer $TOKEN" -d 'envelopes=1'

head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' 'a' >"$tmp/big.json"
curl_json "9 MiB body announced by Content-Length: 413" 413 POST /v1/push \
    -H 'Content-Type: application/vnd.linkbook.v2' -H "Authorization: Bearer $TOKEN" --data-binary @"$tmp/big.json"
expect_error_doc "too large: error document, code too_large" too_large
curl_json "9 MiB body streamed in chunks (no Content-Length): 413" 413 POST /v1/push \
    -H 'Content-Type: application/vnd.linkbook.v2' -H 'Transfer-Encoding: chunked' \
    -H "Authorization: Bearer $TOKEN" --data-binary @"$tmp/big.json"
expect_error_doc "streamed too large: error document, code too_large" too_large
curl_json "9 MiB body without a token: 401 (not read)" 401 POST /v1/push \
    -H 'Content-Type: application/json' --data-binary @"$tmp/big.json"

# --- enrolment ----------------------------------------------------------------------------
KEY=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
apost "enrol with an unknown code: 403" 403 /v1/enrol "{\"code\": \"NOT-A-CODE\", \"device_key\": \"$KEY\", \"device_name\": \"x\"}" -
expect_error_doc "unknown code: error document, code forbidden" forbidden
apost "enrol with a used code: 403" 403 /v1/enrol "{\"code\": \"$SUPCODE\", \"device_key\": \"$KEY\", \"device_name\": \"x\"}" -
apost "enrol without device_key: 400" 400 /v1/enrol '{"code": "X"}' -
apost "enrol with a short device_key: 400" 400 /v1/enrol '{"code": "X", "device_key": "AAAA", "device_name": "x"}' -

# --- clients that send nothing, or trickle ------------------------------------------------
# 40 connections that send nothing and 5 that send a header byte a second,
# held by a helper; meanwhile /healthz must answer quickly, several times.
python3 - "$PORT" >"$tmp/idle.out" 2>&1 <<'EOF' &
import socket, sys, time
port = int(sys.argv[1])
idle, slow = [], []
for _ in range(40):
    idle.append(socket.create_connection(("127.0.0.1", port)))
for _ in range(5):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /v1/push HTTP/1.1\r\nHost: x\r\n")
    slow.append(s)
print("open", flush=True)
end = time.time() + 25
while time.time() < end:
    for s in slow:
        try:
            s.sendall(b"X")
        except OSError:
            pass
    time.sleep(1)
EOF
HOLDER=$!
BG_PIDS="$BG_PIDS $HOLDER"
i=0
while [ $i -lt 50 ] && ! grep -q open "$tmp/idle.out"; do sleep 0.1; i=$((i + 1)); done
if grep -q open "$tmp/idle.out"; then ok "45 silent or trickling connections are open"; else fail "45 silent or trickling connections are open" "$(cat "$tmp/idle.out")"; fi
slowest=0
bad=""
for k in 1 2 3 4 5; do
    t=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 "$URL/healthz" 2>&1)
    code=${t%% *}
    secs=${t#* }
    [ "$code" = 200 ] || bad="$bad [try $k: $t]"
    slowest=$(python3 -c 'import sys; print(max(float(sys.argv[1]), float(sys.argv[2])))' "$slowest" "${secs:-99}" 2>/dev/null || echo 99)
    sleep 0.5
done
if [ -z "$bad" ] && python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 2 else 1)' "$slowest"; then
    ok "/healthz answers 200 within 2 s while they hang on (slowest ${slowest}s)"
else
    fail "/healthz answers 200 within 2 s while they hang on" "slowest ${slowest}s $bad"
fi
apost "a real request is served while they hang on: pull 200" 200 /v1/pull '{"cursors": {}}'

# An idle connection is closed by the server (default idle timeout 10 s).
# (with a valid token and content type, so that the server waits for the body)
python3 - "$PORT" "$TOKEN" >"$tmp/close.out" 2>&1 <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /v1/pull HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Authorization: Bearer " + sys.argv[2].encode() + b"\r\nContent-Length: 100\r\n\r\n{\"cur")
s.settimeout(40)
t0 = time.time()
data = b""
try:
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
except socket.timeout:
    print("still open after 40 s"); sys.exit(1)
except OSError as e:
    pass
took = time.time() - t0
print("closed after %.1f s; answer %r" % (took, data[:120]))
if took < 1:
    print("closed at once: the server did not wait for the body"); sys.exit(1)
EOF
if [ $? -eq 0 ]; then
    ok "a request that never finishes is cut off by the server ($(cat "$tmp/close.out"))"
else
    fail "a request that never finishes is cut off by the server" "$(cat "$tmp/close.out")"
fi
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null

if srv_alive; then ok "the server is still running after all that"; else fail "the server is still running after all that" "log: $(tail -n 5 "$tmp/srv.log")"; fi
curl_json "GET /healthz at the end: 200" 200 GET /healthz
curl_json "GET /metrics at the end: 200" 200 GET /metrics
for s in 400 401 404 413 415; do
    if grep -qE "^linkbookd_requests_total[{].*status=\"$s\".*[}] [1-9]" "$tmp/body"; then
        ok "/metrics counted the $s answers"
    else
        fail "/metrics counted the $s answers" "$(grep requests_total "$tmp/body" | head -n 20)"
    fi
done
if grep -q "$TOKEN" "$tmp/srv.log"; then
    fail "the request log never shows a token" "found the supervisor's token in the log"
else
    ok "the request log never shows a token"
fi
srv_stop
finish
