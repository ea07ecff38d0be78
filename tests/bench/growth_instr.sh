#!/bin/sh
# tests/bench/growth_instr.sh BUILD_DIR - instructions per sync as the
# stores grow (make bench-instr): bench_growth's syncs counted by callgrind,
# which machine noise does not move.
#
# Runs BUILD_DIR/bench/bench_growth_instr (bench_growth built with
# -DBENCH_CALLGRIND) under callgrind with instrumentation off except during
# each measured sync, and linkbookd under callgrind with a dump per request;
# the GET /healthz the benchmark sends before and after each measured sync
# tells which requests were that sync's.  Prints, per sync and store size,
# the median over the repetitions of the client's and the server's
# instructions (millions) and the SQLite pages the client's store read and
# wrote, then the largest size over the smallest.
#
# Environment: GROWTH_SIZES (default 1000,10000,100000), GROWTH_REPS
# (default 3), GROWTH_WARMUP (default 3), BENCH_TMP (default /tmp).  Takes
# several minutes (the growth itself runs under valgrind, uncounted).
set -u
BUILD_DIR=${1:?usage: growth_instr.sh BUILD_DIR}
BIN=$BUILD_DIR/bench/bench_growth_instr
SRV=$(cd "$BUILD_DIR" && pwd)/linkbookd
command -v valgrind >/dev/null 2>&1 || { echo "growth_instr.sh: needs valgrind" >&2; exit 1; }
command -v callgrind_annotate >/dev/null 2>&1 || { echo "growth_instr.sh: needs callgrind_annotate" >&2; exit 1; }
[ -x "$BIN" ] && [ -x "$SRV" ] || { echo "growth_instr.sh: build $BIN and $SRV first" >&2; exit 1; }
T=$(mktemp -d "${BENCH_TMP:-/tmp}/linkbook-growth-instr.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM

# linkbookd serve under callgrind, one dump per request; other commands as they are.
cat > "$T/linkbookd" <<EOF
#!/bin/sh
if [ "\$1" = serve ]; then
    exec valgrind --tool=callgrind --callgrind-out-file="$T/server.out" \
        --dump-after=on_complete "$SRV" "\$@" 2>>"$T/server.vg"
fi
exec "$SRV" "\$@"
EOF
chmod +x "$T/linkbookd"

echo "growth_instr.sh: counting (several minutes) ..." >&2
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$T/client.out" \
    "$BIN" --linkbookd "$T/linkbookd" --sizes "${GROWTH_SIZES:-1000,10000,100000}" \
    --reps "${GROWTH_REPS:-3}" --warmup "${GROWTH_WARMUP:-3}" --tmp "$T" \
    >"$T/bench.out" 2>"$T/bench.err" ||
    { tail -20 "$T/bench.err" >&2; echo "growth_instr.sh: bench_growth_instr failed" >&2; exit 1; }

python3 - "$T" <<'EOF'
import glob, os, re, statistics, sys
t = sys.argv[1]

def dumps(prefix):
    files = glob.glob(os.path.join(t, prefix + ".*"))
    return sorted(files, key=lambda f: int(f.rsplit(".", 1)[1]))

def total(path):
    text = open(path, errors="replace").read()
    m = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
    return int(m.group(1)) if m else 0, text

# The client: one dump per measured sync, named "<sync> <size>".
client = []
for f in dumps("client.out"):
    n, text = total(f)
    m = re.search(r"^desc: Trigger: Client Request: (.*)$", text, re.M)
    if m:
        client.append((m.group(1), n))
# The server: the requests between a pair of /healthz marks, in order.
server, inside, acc = [], False, 0
for f in dumps("server.out"):
    n, text = total(f)
    if re.search(r"^c?fn=\(\d+\) lb_srvapi_healthz$", text, re.M):
        if inside:
            server.append(acc)
        inside, acc = not inside, 0
    elif inside:
        acc += n
pages = {}
for line in open(os.path.join(t, "bench.err")):
    m = re.match(r"pages: (.*): read (\d+), written (\d+)", line)
    if m:
        pages.setdefault(m.group(1), []).append((int(m.group(2)), int(m.group(3))))
if len(server) != len(client):
    sys.exit("growth_instr.sh: %d client syncs but %d marked server spans"
             % (len(client), len(server)))
rows = {}
for (name, n), s in zip(client, server):
    rows.setdefault(name, []).append((n, s))
order = []
for name, _ in client:
    sync, size = name.rsplit(" ", 1)
    if (sync, int(size)) not in order:
        order.append((sync, int(size)))
med = lambda v: statistics.median(v)
print("instructions per sync (millions, median of %d), SQLite pages of the client's store"
      % min(len(v) for v in rows.values()))
print("%-24s %9s %9s %9s %9s %8s %8s" % ("sync", "records", "client", "server", "total",
                                          "pg read", "pg wrote"))
figs = {}
for sync, size in order:
    v = rows["%s %d" % (sync, size)]
    c, s = med([x[0] for x in v]) / 1e6, med([x[1] for x in v]) / 1e6
    p = pages.get("%s %d" % (sync, size), [(0, 0)])
    figs.setdefault(sync, []).append((size, c, s))
    print("%-24s %9d %9.2f %9.2f %9.2f %8g %8g" % (sync, size, c, s, c + s,
          med([x[0] for x in p]), med([x[1] for x in p])))
print("\nlargest over smallest store, total instructions:")
for sync, v in figs.items():
    (lo, clo, slo), (hi, chi, shi) = v[0], v[-1]
    print("  %-24s %d / %d records: %.3f (client %.3f, server %.3f)"
          % (sync, hi, lo, (chi + shi) / (clo + slo), chi / clo, shi / slo if slo else 0))
EOF
