#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Hold Postern's MIME parser against an independent one: every message file under the given
folders is parsed by tests/tools/mime_dump (dataplane/mime.c) and by Python's standard-library
email package, and the results are compared:

  - the message's own header fields: names in order, and every value with RFC 2047 words
    decoded (Python: str() of an unstructured header under policy.default);
  - the MIME structure: (depth, content type, container or leaf) of every entity in walk
    order, message/rfc822 encapsulation included;
  - per entity: charset, transfer encoding and attachment file name; per leaf: size and
    SHA-256 of the transfer-decoded content (Python: get_payload(decode=True)).

mime_dump runs twice per message, whole and fed 7 bytes at a time; the two outputs must be
byte-identical. Differences where Python is wrong or lenient in a documented way are listed in
known_differences.json (file, field, both values, reason); a listed difference that no longer
occurs also fails, so the list stays true. One line per message, a summary per folder; exit 0
only when every message matches.

  compare_email.py --dump PATH [--known FILE] [--label TEXT] DIR...
"""
import argparse
import email
import email.policy
import hashlib
import json
import os
import re
import subprocess
import sys
from email.headerregistry import HeaderRegistry

# Every header as an unstructured one: str() is then the unfolded value with RFC 2047 words
# decoded (RFC 2047 6.2: white space between adjacent encoded words dropped) and nothing
# re-rendered. The default map would re-format addresses and dates (str(Date) is
# format_datetime of the parsed date), which is Python's rendering, not the header's text.
UNSTRUCTURED = email.policy.default.clone(header_factory=HeaderRegistry(use_default_map=False))

CTE_NAMES = ("7bit", "8bit", "binary", "base64", "quoted-printable")
SPLIT = 7
MAX_SHOWN = 6  # differences printed per message


def dump_bytes(s):
    """mime_dump writes each byte that is not part of valid UTF-8, and each backslash, as the
    four characters \\xNN; undo that to get the exact bytes."""
    return re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                  s.encode("utf-8"))


def py_bytes(s):
    """A str from the email package as bytes: undecodable input bytes are carried as
    surrogate escapes and go back to themselves."""
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return s.encode("utf-8", "backslashreplace")


def strip_mbox_from(data):
    """Several fixtures are mbox excerpts starting with the "From " envelope line (RFC 4155).
    It is not part of an RFC 5322 message and never travels in SMTP DATA; Python takes it as
    the unixfrom, a header reader would take it as a malformed header. Both parsers are given
    the message without it."""
    if data.startswith(b"From "):
        eol = data.find(b"\n")
        return data[eol + 1:] if eol >= 0 else b""
    return data


def header_value(b):
    """Representation differences removed from a decoded header value (bytes -> str):
    - invalid UTF-8: policy.default gives every header through email.utils._sanitize, which
      decodes the raw bytes as UTF-8 with errors="replace" (RFC 6532 UTF-8 survives, other
      8-bit bytes become U+FFFD); Postern keeps the bytes, so the same decode is applied to
      them. Decoded words are UTF-8 on both sides, so only raw 8-bit bytes are affected;
    - leading and trailing white space (SP, HTAB, and the CR/LF an unfolding leaves): Python
      strips the blank after the colon and a value ending in blanks; RFC 5322 3.2.2 makes
      such FWS part of no token.
    Nothing else: runs of blanks inside the value are compared as they are."""
    return b.decode("utf-8", "replace").strip(" \t\r\n")


def short(v, n=100):
    r = repr(v)
    return r if len(r) <= n else r[:n] + "..."


def walk(part, depth=0):
    yield depth, part
    if part.is_multipart():
        for sub in part.get_payload():
            yield from walk(sub, depth + 1)


def python_view(data):
    msg = email.message_from_bytes(data, policy=email.policy.default)
    hmsg = email.message_from_bytes(data, policy=UNSTRUCTURED)
    headers = [(name, str(value)) for name, value in hmsg.items()]
    # length of each header as Postern holds it: name, colon, value unfolded (RFC 5322 2.2.3)
    raw_lengths = [len(name) + 1 + len(re.sub(r"\r?\n", "", value))
                   for name, value in hmsg.raw_items()]
    parts = []
    for depth, part in walk(msg):
        cte = part.get("content-transfer-encoding")
        cte = cte.cte if cte is not None else "7bit"
        ent = {
            "depth": depth,
            "type": part.get_content_type(),
            "container": part.is_multipart(),
            "charset": part.get_content_charset() or "",
            "cte": cte if cte in CTE_NAMES else "unknown",
            "name": part.get_filename() or "",
        }
        if not part.is_multipart():
            body = part.get_payload(decode=True) or b""
            ent["size"] = len(body)
            ent["sha256"] = hashlib.sha256(body).hexdigest()
        parts.append(ent)
    return headers, raw_lengths, parts


def run_dump(dump, data, split):
    cmd = [dump] + (["--split", str(split)] if split else []) + ["-"]
    res = subprocess.run(cmd, input=data, capture_output=True, timeout=120)
    if res.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (" ".join(cmd[:-1]), res.returncode,
                                                  res.stderr.decode(errors="replace")[:400]))
    return res.stdout


def limits():
    """Postern's documented caps, read from dataplane/mime.h: values over them are cut."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "dataplane",
                        "mime.h")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return {name: int(re.search(r"#define %s (\d+)" % name, text).group(1))
            for name in ("MIME_HEADER_MAX", "MIME_NAME_MAX")}


def cut_prefix(pv):
    """Postern's value of a header it cut (mime.h: a header over MIME_HEADER_MAX bytes, name
    included, is cut), minus what the cut may have spoiled: an encoded word left open or its
    "=" alone (kept raw by mime_words_decode), a UTF-8 sequence left incomplete (U+FFFD after
    header_value) and the blanks before them (dropped by Python between two words). What
    remains must begin Python's value."""
    if pv.rfind("=?") > pv.rfind("?="):
        pv = pv[:pv.rfind("=?")]
    elif pv.endswith("="):
        pv = pv[:-1]
    return pv.rstrip("\ufffd").rstrip(" \t")


def compare_headers(dumped, headers, raw_lengths, lim):
    diffs = []
    ph = [(dump_bytes(n).decode("utf-8", "replace"), dump_bytes(v)) for n, v in dumped["headers"]]
    if [n for n, _ in ph] != [n for n, _ in headers]:
        diffs.append(("header names", [n for n, _ in ph], [n for n, _ in headers]))
    seen = {}
    for (pn, pv), (yn, yv), raw_len in zip(ph, headers, raw_lengths):
        if pn != yn:
            break
        key = pn.lower()
        seen[key] = seen.get(key, 0) + 1
        field = "header %s" % pn if seen[key] == 1 else "header %s #%d" % (pn, seen[key])
        pv, yv = header_value(pv), yv.strip(" \t\r\n")
        if raw_len >= lim["MIME_HEADER_MAX"]:
            if not yv.startswith(cut_prefix(pv)) or (yv and not cut_prefix(pv)):
                diffs.append((field + " (cut)", pv, yv))
        elif pv != yv:
            diffs.append((field, pv, yv))
    return diffs


def compare_parts(dumped, parts, lim):
    """Walk both entity lists side by side. Where one parser holds a container and the other a
    leaf of the same depth and type, that is one difference ("part N container") and the
    container's descendants are stepped over, so the entities after it are still compared."""
    diffs = []
    pp, yy = dumped["parts"], parts
    i = j = 0
    while i < len(pp) and j < len(yy):
        p, e = pp[i], yy[j]
        if (p["depth"], p["type"]) != (e["depth"], e["type"]):
            break
        field = "part %d " % i
        for key in ("charset", "cte"):
            if p[key] != e[key]:
                diffs.append((field + key, p[key], e[key]))
        pn, yn = dump_bytes(p["name"]), py_bytes(e["name"])
        # mime.h keeps at most MIME_NAME_MAX bytes of a name
        if pn != yn and not (len(yn) > lim["MIME_NAME_MAX"] and len(pn) == lim["MIME_NAME_MAX"]
                             and yn.startswith(pn)):
            diffs.append((field + "name", pn.decode("utf-8", "replace"), e["name"]))
        p_cont = p["multipart"] or p["message"]
        i += 1
        j += 1
        if p_cont != e["container"]:
            diffs.append((field + "container", "container" if p_cont else "leaf",
                          "container" if e["container"] else "leaf"))
            while p_cont and i < len(pp) and pp[i]["depth"] > p["depth"]:
                i += 1
            while e["container"] and j < len(yy) and yy[j]["depth"] > e["depth"]:
                j += 1
        elif not p_cont and (p["size"], p["sha256"]) != (e["size"], e["sha256"]):
            diffs.append((field + "content", "%d bytes %s" % (p["size"], p["sha256"][:16]),
                          "%d bytes %s" % (e["size"], e["sha256"][:16])))
    if i < len(pp) or j < len(yy):
        diffs.append(("structure from part %d" % i,
                      [(p["depth"], p["type"]) for p in pp[i:]][:8],
                      [(e["depth"], e["type"]) for e in yy[j:]][:8]))
    return diffs


def load_known(path):
    if not path or not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        known = json.load(f)
    for k in known:
        for key in ("file", "field", "postern", "python", "reason"):
            if key not in k:
                raise SystemExit("%s: an entry lacks %r: %s" % (path, key, k))
    return known


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dump", required=True, help="the mime_dump executable")
    ap.add_argument("--known", help="known_differences.json")
    ap.add_argument("--label", default="", help="a name for this set in the summary")
    ap.add_argument("dirs", nargs="+", help="folders of .eml files (sub-folders are walked)")
    args = ap.parse_args()
    known = load_known(args.known)
    lim = limits()
    used = set()
    per_folder = {}
    n_fail = n_known = 0

    files = []
    for root in args.dirs:
        for dirpath, _, names in os.walk(root):
            for name in names:
                if name.endswith(".eml"):
                    # named "folder/file" (the layout of tests/data/emails and of the
                    # shared set) whichever folder was given, for known_differences.json
                    path = os.path.join(dirpath, name)
                    files.append((os.path.join(os.path.basename(dirpath), name), path))
    files.sort()
    for rel, path in files:
        folder = os.path.dirname(rel)
        counts = per_folder.setdefault(folder, [0, 0])
        with open(path, "rb") as f:
            data = strip_mbox_from(f.read())
        try:
            whole = run_dump(args.dump, data, 0)
            split = run_dump(args.dump, data, SPLIT)
            dumped = json.loads(whole)
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
            print("FAIL %s: mime_dump: %s" % (rel, e))
            counts[1] += 1
            n_fail += 1
            continue
        try:
            headers, raw_lengths, parts = python_view(data)
        except Exception as e:  # noqa: BLE001 - a reference that fails compares nothing
            print("FAIL %s: Python's email package raised %r" % (rel, e))
            counts[1] += 1
            n_fail += 1
            continue
        diffs = []
        if whole != split:
            diffs.append(("split %d" % SPLIT, "output differs from the whole-file run", ""))
        diffs += compare_headers(dumped, headers, raw_lengths, lim)
        diffs += compare_parts(dumped, parts, lim)
        real, excused = [], 0
        for field, pv, yv in diffs:
            # values as JSON would hold them (tuples become lists), to compare with the file
            pj, yj = json.loads(json.dumps(pv)), json.loads(json.dumps(yv))
            match = [i for i, k in enumerate(known)
                     if k["file"] == rel and k["field"] == field and k["postern"] == pj
                     and k["python"] == yj]
            if match:
                used.update(match)
                excused += 1
            else:
                real.append((field, pv, yv))
        if real:
            counts[1] += 1
            n_fail += 1
            print("FAIL %s: %d difference(s)" % (rel, len(real)))
            for field, pv, yv in real[:MAX_SHOWN]:
                print("    %s: postern=%s python=%s" % (field, short(pv), short(yv)))
            if len(real) > MAX_SHOWN:
                print("    ... and %d more" % (len(real) - MAX_SHOWN))
        else:
            counts[0] += 1
            n_known += excused > 0
            print("ok   %s (%d headers, %d entities%s)" % (
                rel, len(headers), len(parts),
                ", %d known difference(s)" % excused if excused else ""))

    run = {rel for rel, _ in files}
    n_stale = 0
    for i, k in enumerate(known):
        if k["file"] in run and i not in used:
            print("FAIL known_differences.json: no longer seen: %s %s" % (k["file"], k["field"]))
            n_stale += 1
    label = (args.label + ": ") if args.label else ""
    for folder, (ok, bad) in sorted(per_folder.items()):
        print("%s%s: %d ok, %d failed" % (label, folder, ok, bad))
    print("%s%d messages: %d ok (%d with known differences), %d failed%s" % (
        label, len(files), len(files) - n_fail, n_known, n_fail,
        "; %d stale known difference(s)" % n_stale if n_stale else ""))
    if not files:
        print("%sno messages found" % label)
        return 1
    return 0 if n_fail == 0 and n_stale == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
