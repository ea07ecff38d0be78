#!/bin/sh
# test_sync_tls.sh - linkbookd over https (--tls-cert/--tls-key) and the
# client's side of it: a throwaway CA and a server certificate for
# 127.0.0.1/localhost made with openssl in the temp dir; a device enrols and
# syncs over https with --ca-file (or LINKBOOK_CA_FILE) and a pinned public
# key; without the CA, with another CA, to a certificate for another name or
# with a wrong pin it is refused and nothing changes on the device (and the
# enrolment code stays valid, so nothing changed on the server either).
# Plain http to a host that is not loopback is refused before any traffic.
# linkbookd refuses half or broken TLS settings with a clear message.
. "$(dirname "$0")/lib.sh"
need openssl

# Nothing from the caller's environment may decide what is trusted.
unset LINKBOOK_CA_FILE LINKBOOK_PINNED_KEY SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE

pki="$tmp/pki"
mkdir -p "$pki"

# ossl NAME ARGS...: one openssl step, one check.
ossl() {
    _n=$1
    shift
    if openssl "$@" >"$pki/ossl.out" 2>&1 </dev/null; then
        ok "openssl: $_n"
    else
        fail "openssl: $_n" "openssl $*" "$(tail -n 5 "$pki/ossl.out")"
    fi
}

# ca NAME: a self-signed CA in $pki/NAME.crt, NAME.key.
ca() {
    ossl "a throwaway CA '$1'" req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$pki/$1.key" -out "$pki/$1.crt" -days 2 -subj "/CN=linkbook test CA $1" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}

# leaf NAME CA SAN: a server certificate NAME.crt/NAME.key signed by CA.
leaf() {
    ossl "key and request for '$1'" req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$pki/$1.key" -out "$pki/$1.csr" -subj "/CN=$1"
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3" \
        >"$pki/$1.ext"
    ossl "certificate '$1' for $3" x509 -req -in "$pki/$1.csr" -CA "$pki/$2.crt" \
        -CAkey "$pki/$2.key" -CAcreateserial -out "$pki/$1.crt" -days 2 -extfile "$pki/$1.ext"
    chmod 600 "$pki/$1.key"
}

ca ca
ca rogue
leaf srv ca "IP:127.0.0.1,DNS:localhost"
leaf elsewhere ca "DNS:elsewhere.invalid"
ossl "an unrelated key" genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out "$pki/other.key"
ossl "the server key encrypted with a passphrase" pkey -in "$pki/srv.key" -aes256 \
    -passout pass:x -out "$pki/enc.key"
CA="$pki/ca.crt"

# dev_digest DEV: a fingerprint of device DEV's store, as store_digest but
# without the device key pair, which enrol makes once before it first asks
# the server and keeps for the next attempt.
dev_digest() {
    sqlite3 -readonly "$(dev_store "$1")/store.db" .dump 2>&1 |
        grep -v "^INSERT INTO sync_meta VALUES('device_[ps]k'" | sha256sum | cut -c1-64
}

# not_enrolled DEV: sync on DEV still says it is not enrolled.
not_enrolled() {
    expect_exit 2 "$1: still not enrolled (sync refuses)" -- dv "$1" sync
    expect_stderr_has "not enrolled" "$1: sync says the store is not enrolled"
}

# dev_unchanged DEV NAME BEFORE: DEV's store digest still equals BEFORE.
dev_unchanged() {
    _now=$(dev_digest "$1")
    if [ "$_now" = "$3" ]; then
        ok "$2"
    else
        fail "$2" "store content changed (digest $3 -> $_now)" "after: $_lastcmd"
    fi
}

# sha256//BASE64 of a DER public key read from stdin.
pin_of() {
    printf 'sha256//%s' "$(openssl dgst -sha256 -binary | base64 | tr -d '\n')"
}
PIN=$(openssl x509 -in "$pki/srv.crt" -pubkey -noout | openssl pkey -pubin -outform der | pin_of)
WRONG_PIN=$(openssl pkey -in "$pki/other.key" -pubout -outform der | pin_of)
case $PIN in
    sha256//?*=) ok "the server's public key pin is computed ($PIN)" ;;
    *) fail "the server's public key pin is computed" "got '$PIN'" ;;
esac

# --- linkbookd refuses half or broken TLS settings -------------------------------
mkdir -p "$SRV_DATA"
# bad_serve NAME CODE PATTERN ARGS...: serve must exit CODE at once, saying PATTERN.
bad_serve() {
    _bn=$1
    _bc=$2
    _bp=$3
    shift 3
    expect_exit "$_bc" "linkbookd refuses $_bn (exit $_bc)" -- \
        timeout -k 5 20 "$LINKBOOKD" serve --data "$SRV_DATA" --listen 127.0.0.1:0 "$@"
    expect_stderr_has "$_bp" "linkbookd says why for $_bn"
    if grep -q '^listening on' "$out"; then
        fail "linkbookd never says it listens for $_bn" "$(_describe)"
    else
        ok "linkbookd never says it listens for $_bn"
    fi
}
bad_serve "--tls-cert without --tls-key" 2 "tls-cert and --tls-key go together" \
    --tls-cert "$pki/srv.crt"
bad_serve "--tls-key without --tls-cert" 2 "go together" --tls-key "$pki/srv.key"
bad_serve "a certificate file that is not there" 1 "tls-cert .*cannot read it" \
    --tls-cert "$pki/missing.crt" --tls-key "$pki/srv.key"
bad_serve "a key file that is not there" 1 "tls-key .*cannot read it" \
    --tls-cert "$pki/srv.crt" --tls-key "$pki/missing.key"
bad_serve "a certificate that is not PEM" 2 "not a PEM certificate" \
    --tls-cert "$pki/srv.ext" --tls-key "$pki/srv.key"
bad_serve "a key given as the certificate" 2 "not a PEM certificate" \
    --tls-cert "$pki/srv.key" --tls-key "$pki/srv.key"
bad_serve "a certificate given as the key" 2 "not a PEM private key" \
    --tls-cert "$pki/srv.crt" --tls-key "$pki/srv.crt"
bad_serve "a key encrypted with a passphrase" 2 "encrypted" \
    --tls-cert "$pki/srv.crt" --tls-key "$pki/enc.key"
bad_serve "a key that is not the certificate's" 1 "do not match|certificate/key" \
    --tls-cert "$pki/srv.crt" --tls-key "$pki/other.key"

# --- a certificate for another name -------------------------------------------------
srv_team "tls team"
SUP_CODE=$CODE
dev_new sup
fresh=$(dev_digest sup)
SRV_SCHEME=https
SRV_ARGS="--tls-cert $pki/elsewhere.crt --tls-key $pki/elsewhere.key"
if srv_start; then
    expect_exit fail "sup: enrol refused: the certificate names another host" -- \
        dv sup enrol "$URL" "$SUP_CODE" --name sup --ca-file "$CA"
    expect_stderr_has "not trusted: .*(subject name|host ?name)" "sup: the refusal says the certificate names another host"
    dev_unchanged sup "sup: nothing changed on the device (1)" "$fresh"
    not_enrolled sup
    srv_stop
fi

# --- the real server certificate ------------------------------------------------------
SRV_ARGS="--tls-cert $pki/srv.crt --tls-key $pki/srv.key"
srv_start || finish
if grep -q "serving https on 127.0.0.1:$PORT" "$tmp/srv.log"; then
    ok "linkbookd says on stderr that it serves https"
else
    fail "linkbookd says on stderr that it serves https" "log: $(tail -n 5 "$tmp/srv.log")"
fi

curl_json "curl --cacert: /healthz over https" 200 GET /healthz --cacert "$CA"
expect_json "/healthz over https answers ok" "$tmp/body" 'doc.get("ok") is True'
curl -sS --max-time 10 -o /dev/null "$URL/healthz" 2>"$err"
rc=$?
if [ "$rc" = 60 ]; then
    ok "curl without the CA: the certificate is not trusted (exit 60)"
else
    fail "curl without the CA: the certificate is not trusted (exit 60)" "curl exit $rc: $(cat "$err")"
fi
_w=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz" 2>/dev/null)
if [ "$_w" = 200 ]; then
    fail "plain http to the https port gets no answer" "HTTP $_w"
else
    ok "plain http to the https port gets no answer (HTTP '$_w')"
fi

# --- enrolment: refused without trust, then done with it -------------------------------
expect_exit fail "sup: enrol without the CA is refused" -- dv sup enrol "$URL" "$SUP_CODE" --name sup
expect_stderr_has "not trusted: .*certificate" "sup: the refusal names the certificate (no CA)"
dev_unchanged sup "sup: nothing changed on the device (2)" "$fresh"

expect_exit fail "sup: enrol with another CA file is refused" -- \
    dv sup enrol "$URL" "$SUP_CODE" --name sup --ca-file "$pki/rogue.crt"
expect_stderr_has "not trusted: .*certificate" "sup: the refusal names the certificate (another CA)"
dev_unchanged sup "sup: nothing changed on the device (3)" "$fresh"

expect_exit fail "sup: enrol with the CA and a wrong --pin is refused" -- \
    dv sup enrol "$URL" "$SUP_CODE" --name sup --ca-file "$CA" --pin "$WRONG_PIN"
expect_stderr_has "not trusted: .*pinned public key" "sup: the refusal names the pinned key (enrol)"
dev_unchanged sup "sup: nothing changed on the device (4)" "$fresh"
not_enrolled sup

expect_exit 0 "sup: enrol over https with --ca-file and the right --pin (the code was not used up)" -- \
    dv sup enrol "$URL" "$SUP_CODE" --name sup --ca-file "$CA" --pin "$PIN"
expect_exit 0 "sup: sync over https with --ca-file and --pin" -- dv sup sync --ca-file "$CA" --pin "$PIN"

# --- sync: refused without trust, nothing changed ----------------------------------------
expect_exit 0 "sup: person add" -- dv sup person add --given Philippa --family Quenby
P=$(last_id)
before=$(dev_digest sup)
expect_exit fail "sup: sync without the CA is refused" -- dv sup sync
expect_stderr_has "not trusted: .*certificate" "sup: the refusal names the certificate (sync, no CA)"
dev_unchanged sup "sup: nothing changed on the device (5)" "$before"
expect_exit fail "sup: sync with a wrong --pin is refused" -- \
    dv sup sync --ca-file "$CA" --pin "$WRONG_PIN"
expect_stderr_has "not trusted: .*pinned public key" "sup: the refusal names the pinned key (sync)"
dev_unchanged sup "sup: nothing changed on the device (6)" "$before"

# From here every device trusts the CA through the environment.
LINKBOOK_CA_FILE=$CA
export LINKBOOK_CA_FILE
sync_ok sup "sup: sync with LINKBOOK_CA_FILE"
if [ -n "$pushed" ] && [ "$pushed" -ge 1 ]; then
    ok "sup: the sync over https pushed the person ($pushed)"
else
    fail "sup: the sync over https pushed the person" "pushed '$pushed'" "$(_describe)"
fi

# --- a worker enrols through https://localhost; its records reach the supervisor ---------
invite link-worker w1
dev_new w1
URL_IP=$URL
URL="https://localhost:$PORT"
dev_enrol w1 "$CODE"
URL=$URL_IP
sync_ok sup "sup: sync seals the team key to w1 over https"
expect_exit 0 "w1: person add" -- dv w1 person add --given Ottoline --family Marchbank
expect_exit 0 "w1: sync with LINKBOOK_CA_FILE and LINKBOOK_PINNED_KEY" -- \
    env LINKBOOK_PINNED_KEY="$PIN" LINKBOOK_STORE="$(dev_store w1)" \
    timeout -k 5 60 "$LINKBOOK" sync
expect_stdout_has '^pushed [1-9]' "w1: the sync over https pushed the person"
sync_ok sup "sup: sync pulls w1's records over https"
expect_exit 0 "sup: person list" -- dv sup person list
expect_stdout_has "Marchbank" "sup: the person recorded on w1's device arrived over https"
expect_exit 0 "w1: person add (kept for later)" -- dv w1 person add --given Tobias --family Fenwright
before=$(dev_digest w1)
expect_exit fail "w1: sync with a wrong LINKBOOK_PINNED_KEY is refused" -- \
    env LINKBOOK_PINNED_KEY="$WRONG_PIN" LINKBOOK_STORE="$(dev_store w1)" \
    timeout -k 5 60 "$LINKBOOK" sync
expect_stderr_has "not trusted: .*pinned public key" "w1: the refusal names the pinned key"
dev_unchanged w1 "w1: nothing changed on the device" "$before"

# --- plain http to a host that is not loopback: refused before any traffic ----------------
# 10.255.255.1:1 is never reached: the refusal must come from the URL check,
# at once, not from a connection attempt timing out.
dev_new w2
fresh=$(dev_digest w2)
t0=$(date +%s)
expect_exit 2 "w2: enrol to plain http://10.255.255.1:1 is refused (usage, exit 2)" -- \
    dv w2 enrol "http://10.255.255.1:1" "$CODE" --name w2
t1=$(date +%s)
expect_stderr_has "plain http.*unencrypted" "w2: the refusal says plain http is unencrypted"
expect_stderr_has "--insecure" "w2: the refusal names --insecure"
if [ $((t1 - t0)) -le 2 ]; then
    ok "w2: refused at once ($((t1 - t0)) s), not after a connection attempt"
else
    fail "w2: refused at once, not after a connection attempt" "took $((t1 - t0)) s"
fi
dev_unchanged w2 "w2: nothing changed on the device" "$fresh"
expect_exit 2 "w2: plain http://db.example.invalid is refused the same way" -- \
    dv w2 enrol "http://db.example.invalid:8717" "$CODE" --name w2
expect_stderr_has "plain http" "w2: the refusal says plain http"

srv_stop
finish
