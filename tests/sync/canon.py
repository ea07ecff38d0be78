#!/usr/bin/env python3
"""canon.py DIR [ONLY_DIR] - canonical dump of what one device sees.

DIR holds list.json (`linkbook person list --json`) and show-ID.json
(`linkbook show ID --json`) for every person in it.  Prints one JSON document:
{"people": {id: {"list": entry, "person": ..., "timeline": [...]}}} with keys
sorted, the volatile key "recorded" dropped everywhere, and every list of
objects that carry an "id" sorted by id (so ties in date order do not count).
With ONLY_DIR, only the people listed in ONLY_DIR/list.json are kept (and a
person of ONLY_DIR missing from DIR appears as null).  A show file that is
missing or not JSON appears as the string "unreadable".
"""
import json
import os
import sys

VOLATILE = {"recorded"}


def canon(x):
    if isinstance(x, dict):
        return {k: canon(v) for k, v in x.items() if k not in VOLATILE}
    if isinstance(x, list):
        items = [canon(v) for v in x]
        if items and all(isinstance(v, dict) and "id" in v for v in items):
            items.sort(key=lambda v: str(v["id"]))
        return items
    return x


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def people_of(d):
    doc = load(os.path.join(d, "list.json"))
    if not isinstance(doc, dict):
        return None
    return {p["id"]: p for p in doc.get("people", []) if isinstance(p, dict) and "id" in p}


def main():
    d = sys.argv[1]
    listed = people_of(d)
    if listed is None:
        print(json.dumps({"error": "person list is not JSON"}))
        return 0
    ids = sorted(listed)
    if len(sys.argv) > 2:
        only = people_of(sys.argv[2]) or {}
        ids = sorted(only)
    out = {}
    for pid in ids:
        if pid not in listed:
            out[pid] = None
            continue
        show = load(os.path.join(d, "show-%s.json" % pid))
        if not isinstance(show, dict):
            out[pid] = "unreadable"
            continue
        entry = {"list": listed[pid]}
        entry.update(show)
        out[pid] = canon(entry)
    print(json.dumps({"people": out}, indent=1, sort_keys=True, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
