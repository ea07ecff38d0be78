#!/usr/bin/env python3
"""jcheck.py FILE EXPR - check a JSON document printed by linkbook.

Exit 0 when EXPR (a Python expression) is true, 1 when false (printing why),
or, when EXPR gives a list, 0 when it is empty and 1 (printing it) if not,
2 when FILE is not one valid JSON document.  Names available to EXPR:

  doc            the parsed document
  entry(id)      the first object anywhere in doc whose "id" equals id
                 (or starts with it), or {} if none
  entries(kind)  every object in doc whose "kind" equals kind
  leaves(x)      every scalar anywhere inside x (values, not keys)
  texts(x)       every string anywhere inside x
  has_text(x, s) some string inside x contains s
  has_num(x, v)  some number (or numeric string) inside x equals v (to 0.005)
  find_key(x, k) the first value of key k anywhere inside x, or None
  people         doc["people"] if present, else []
  person(id)     the object in people with that id (or {})
  tasks          doc["tasks"] if present, else []
"""
import json
import sys


def walk(x):
    yield x
    if isinstance(x, dict):
        for v in x.values():
            yield from walk(v)
    elif isinstance(x, list):
        for v in x:
            yield from walk(v)


def leaves(x):
    return [v for v in walk(x) if not isinstance(v, (dict, list))]


def texts(x):
    return [v for v in leaves(x) if isinstance(v, str)]


def has_text(x, s):
    return any(s in t for t in texts(x))


def _num(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def nums(x):
    return [n for n in (_num(v) for v in leaves(x)) if n is not None]


def has_num(x, v):
    return any(abs(n - float(v)) < 0.005 for n in nums(x))


def find_key(x, k):
    for node in walk(x):
        if isinstance(node, dict) and k in node:
            return node[k]
    return None


def main():
    if len(sys.argv) != 3:
        print("usage: jcheck.py FILE EXPR", file=sys.stderr)
        return 2
    path, expr = sys.argv[1], sys.argv[2]
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print("not valid JSON (%s): %s" % (path, e))
        return 2

    def entry(id_):
        for node in walk(doc):
            if isinstance(node, dict) and isinstance(node.get("id"), str) \
                    and id_ and node["id"].startswith(id_):
                return node
        return {}

    def entries(kind):
        return [n for n in walk(doc) if isinstance(n, dict) and n.get("kind") == kind]

    people = doc.get("people", []) if isinstance(doc, dict) else []
    tasks = doc.get("tasks", []) if isinstance(doc, dict) else []

    def person(id_):
        for p in people:
            if isinstance(p, dict) and p.get("id") == id_:
                return p
        return {}

    env = dict(doc=doc, entry=entry, entries=entries, leaves=leaves,
               texts=texts, has_text=has_text, has_num=has_num, nums=nums,
               find_key=find_key, people=people, person=person, tasks=tasks,
               len=len, any=any, all=all, sorted=sorted, set=set, abs=abs,
               isinstance=isinstance, dict=dict, list=list, str=str,
               int=int, float=float)
    env["__builtins__"] = {}
    try:
        result = eval(expr, env)
    except Exception as e:  # a missing key is a failed check, not a crash
        print("check raised %s: %s\n  expr: %s" % (type(e).__name__, e, expr))
        return 1
    if isinstance(result, list):
        if not result:
            return 0
        print("offending: %r\n  expr: %s" % (result[:10], expr))
        return 1
    if result:
        return 0
    print("false: %s" % expr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
