#!/usr/bin/env python3
"""lbwire.py - linkbook's binary sync bodies (sync/lb_proto.h, protocol 2)
for the tests: build a push body, and read a push or pull answer as JSON.

  lbwire.py push OUT [--cursors JSON] [ENVELOPE...]
      write a push body to OUT: the magic, a control frame {"cursors": ...}
      when --cursors is given, then one envelope frame per ENVELOPE, given
      as JSON {"id", "person", "key", "body": base64, "assign": {"caseload",
      "active"} (optional)}
  lbwire.py decode FILE
      print a binary body as JSON: {"control": {...}, "envelopes": [{"id",
      "person", "key", "body": base64, "assign", "from"}], "acks": [{"id",
      "seq": {caseload: n}}], "rejected": [{"id", "error"}]}; exit 1 with a
      message when the body is malformed
  lbwire.py pushdoc OUT JSON
      the same from one push document {"envelopes": [ENVELOPE...],
      "cursors": {...} (optional)}
  lbwire.py flatten FILE
      when FILE is a binary body, rewrite it as one JSON document: the
      control frame's members with "envelopes", "acks" and "rejected"
      beside them (a JSON file is left as it is)
  lbwire.py frame OUT TYPE HEX_PAYLOAD ...
      write the magic and raw frames (TYPE one character) to OUT, for
      malformed-body tests
"""
import base64
import json
import struct
import sys

MAGIC = b"LB2\n"


def frame(ftype, payload):
    return ftype.encode() + struct.pack(">I", len(payload)) + payload


def envelope(e):
    flags = 0
    rest = b""
    a = e.get("assign")
    if a:
        flags |= 1 | (2 if a.get("active") else 0)
        cl = a["caseload"].encode()
        rest += bytes([len(cl)]) + cl
    if e.get("from"):
        flags |= 4
        rest += bytes.fromhex(e["from"])
    head = bytes.fromhex(e["id"]) + bytes.fromhex(e["person"]) + struct.pack(">I", e["key"])
    return frame("E", head + bytes([flags]) + rest + base64.b64decode(e["body"]))


def decode(data):
    if data[:4] != MAGIC:
        raise ValueError("no magic")
    out = {"control": None, "envelopes": [], "acks": [], "rejected": []}
    off = 4
    while off < len(data):
        if len(data) - off < 5:
            raise ValueError("cut frame header at %d" % off)
        ftype = chr(data[off])
        n = struct.unpack(">I", data[off + 1:off + 5])[0]
        p = data[off + 5:off + 5 + n]
        if len(p) != n:
            raise ValueError("frame of %d bytes cut at %d" % (n, off))
        off += 5 + n
        if ftype == "J":
            out["control"] = json.loads(p.decode())
        elif ftype == "E":
            e = {"id": p[0:16].hex(), "person": p[16:32].hex(),
                 "key": struct.unpack(">I", p[32:36])[0]}
            flags, i = p[36], 37
            if flags & 1:
                cl = p[i + 1:i + 1 + p[i]].decode()
                e["assign"] = {"caseload": cl, "active": bool(flags & 2)}
                i += 1 + p[i]
            if flags & 4:
                e["from"] = p[i:i + 16].hex()
                i += 16
            e["body"] = base64.b64encode(p[i:]).decode()
            out["envelopes"].append(e)
        elif ftype == "A":
            a = {"id": p[0:16].hex(), "seq": {}}
            i = 17
            for _ in range(p[16]):
                cl = p[i + 1:i + 1 + p[i]].decode()
                i += 1 + p[i]
                a["seq"][cl] = struct.unpack(">Q", p[i:i + 8])[0]
                i += 8
            out["acks"].append(a)
        elif ftype == "R":
            out["rejected"].append({"id": p[0:16].hex(), "error": p[16:].decode()})
        else:
            raise ValueError("frame type %r" % ftype)
    return out


def push_doc(doc):
    body = MAGIC
    if "cursors" in doc:
        body += frame("J", json.dumps({"cursors": doc["cursors"]}).encode())
    for e in doc.get("envelopes", []):
        body += envelope(e)
    return body


def flatten(data):
    d = decode(data)
    doc = dict(d["control"] or {})
    doc.update(envelopes=d["envelopes"], acks=d["acks"], rejected=d["rejected"])
    return doc


def main(argv):
    if len(argv) == 3 and argv[0] == "pushdoc":
        open(argv[1], "wb").write(push_doc(json.loads(argv[2])))
        return 0
    if len(argv) == 2 and argv[0] == "flatten":
        data = open(argv[1], "rb").read()
        if data[:4] == MAGIC:
            open(argv[1], "w").write(json.dumps(flatten(data)))
        return 0
    if len(argv) >= 2 and argv[0] == "push":
        body = MAGIC
        args = argv[2:]
        if args[:1] == ["--cursors"]:
            body += frame("J", json.dumps({"cursors": json.loads(args[1])}).encode())
            args = args[2:]
        for a in args:
            body += envelope(json.loads(a))
        open(argv[1], "wb").write(body)
        return 0
    if len(argv) == 2 and argv[0] == "decode":
        try:
            print(json.dumps(decode(open(argv[1], "rb").read())))
        except (ValueError, IndexError, struct.error, UnicodeDecodeError) as e:
            print("lbwire: not a linkbook binary body: %s" % e, file=sys.stderr)
            return 1
        return 0
    if len(argv) >= 2 and argv[0] == "frame":
        body = MAGIC
        args = argv[2:]
        while len(args) >= 2:
            body += frame(args[0], bytes.fromhex(args[1]))
            args = args[2:]
        open(argv[1], "wb").write(body)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
