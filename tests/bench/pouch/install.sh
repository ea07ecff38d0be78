#!/bin/sh
# tests/bench/pouch/install.sh DEST - install PouchDB's side of make bench
# (the versions pinned in package.json and package-lock.json beside this
# script) into DEST (build-bench/pouch, which git ignores), with npm ci.
# Does nothing when DEST already holds this exact lock file's install.
# Prints "skipped: WHY" and exits 1 when node or npm is missing or the
# install fails, so that the rest of the benchmark runs without it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:?usage: install.sh DEST}
command -v node >/dev/null 2>&1 || { echo "skipped: node is not installed (apt-get install nodejs npm)"; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "skipped: npm is not installed (apt-get install npm)"; exit 1; }
mkdir -p "$dest" || { echo "skipped: cannot make $dest"; exit 1; }
if [ -d "$dest/node_modules/pouchdb-server" ] && cmp -s "$here/package-lock.json" "$dest/package-lock.json"; then
    exit 0
fi
cp "$here/package.json" "$here/package-lock.json" "$dest/" || { echo "skipped: cannot copy to $dest"; exit 1; }
echo "installing PouchDB and pouchdb-server into $dest (npm ci, once)" >&2
if ! (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error >"$dest/npm.log" 2>&1); then
    rm -f "$dest/package-lock.json"
    echo "skipped: npm ci failed (see $dest/npm.log)"
    exit 1
fi
exit 0
