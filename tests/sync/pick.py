#!/usr/bin/env python3
"""pick.py FILE R [KIND] - choose one id from a linkbook JSON document.

Without KIND, FILE is `person list --json`: prints the id of people[R % n]
(people sorted by id).  With KIND, FILE is `show --json`: prints the id of
the R % n-th timeline entry of that kind (sorted by id).  Prints nothing
when there is none to choose from.
"""
import json
import sys


def main():
    try:
        doc = json.load(open(sys.argv[1], encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    r = int(sys.argv[2])
    if len(sys.argv) > 3:
        items = [e["id"] for e in doc.get("timeline", [])
                 if isinstance(e, dict) and e.get("kind") == sys.argv[3] and "id" in e]
    else:
        items = [p["id"] for p in doc.get("people", []) if isinstance(p, dict) and "id" in p]
    items.sort()
    if items:
        print(items[r % len(items)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
