#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generate a large opt-out list for `posternctl suppress import`, as CSV or JSON Lines.

Deterministic: the same --seed, --rows, --now and ratios give byte-identical output. Rows mix
plain addresses (varied local parts, some "+tag"s and upper case, many domains), whole-domain
entries ("@domain"), entries scoped to one sender domain ("sender:DOMAIN") or one mailing
list ("list:LIST-ID"), a few later consents, and a few addresses repeated with another date
(real lists hold duplicates; the importer merges them per key). Opt-out dates fall within the
two years before --now, in the three formats the importer reads. Only reserved names
(*.example, example.com/net/org) are used: no real mailbox appears.

Columns (names the importer recognizes): email, optout_date, consent_date, scope.

  tools/gen_optouts.py --rows 10000000 --seed 1 --out build/bench/optouts-10M.csv
  tools/gen_optouts.py --rows 1000 --format jsonl --now 2026-01-01 > list.jsonl
  tools/gen_optouts.py --rows 1000000 --first 10000000 --seed 2 --out more.csv

--first numbers the rows from N: a second file of new addresses for a set loaded from the
first (the row number is part of every local part; duplicates stay within a file).
"""
import argparse
import datetime
import json
import random
import sys

TWO_YEARS = 2 * 365 * 86400
CHUNK = 50000  # rows per write

FIRST = ["ann", "bob", "carla", "dev", "eli", "fatima", "gus", "hana", "ivan", "jo", "kai",
         "lea", "mo", "nia", "omar", "pia", "quinn", "raj", "sue", "tom", "uma", "vik", "wen",
         "xia", "yusuf", "zoe"]
LAST = ["smith", "jones", "garcia", "khan", "li", "muller", "rossi", "silva", "tanaka",
        "nguyen", "okafor", "dubois", "novak", "berg", "costa", "ivanova"]
BIG_DOMAINS = ["example.com", "example.net", "example.org", "mail.example",
               "corp.example", "post.example"]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1000, help="rows to write (default 1000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--first", type=int, default=0,
                   help="number of the first row (default 0): rows --first.. are new "
                        "addresses for a set loaded with rows 0..--first-1")
    p.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    p.add_argument("--out", default="-", help="output file (default: stdout)")
    p.add_argument("--now", default=None,
                   help="YYYY-MM-DD: dates fall in the two years before it (default: today, "
                        "UTC; pass it for output that does not change from day to day)")
    p.add_argument("--domains", type=int, default=50000,
                   help="distinct domains of the addresses (default 50000)")
    p.add_argument("--domain-ratio", type=float, default=0.005,
                   help="share of whole-domain entries (default 0.005)")
    p.add_argument("--sender-ratio", type=float, default=0.03,
                   help="share scoped to one sender domain (default 0.03)")
    p.add_argument("--list-ratio", type=float, default=0.02,
                   help="share scoped to one mailing list (default 0.02)")
    p.add_argument("--consent-ratio", type=float, default=0.01,
                   help="share with a later consent (default 0.01)")
    p.add_argument("--dup-ratio", type=float, default=0.01,
                   help="share repeating an earlier address with another date (default 0.01)")
    a = p.parse_args(argv)
    if a.rows < 0 or a.first < 0 or a.domains < 1:
        p.error("--rows and --first must be >= 0 and --domains >= 1")
    for name in ("domain_ratio", "sender_ratio", "list_ratio", "consent_ratio", "dup_ratio"):
        v = getattr(a, name)
        if not 0.0 <= v <= 1.0:
            p.error("--%s must be within 0..1" % name.replace("_", "-"))
    if a.domain_ratio + a.sender_ratio + a.list_ratio > 1.0:
        p.error("--domain-ratio + --sender-ratio + --list-ratio must not exceed 1")
    if a.now is None:
        today = datetime.datetime.now(datetime.timezone.utc).date()
        a.now_ts = int(datetime.datetime(today.year, today.month, today.day,
                                         tzinfo=datetime.timezone.utc).timestamp())
    else:
        try:
            d = datetime.datetime.strptime(a.now, "%Y-%m-%d")
        except ValueError:
            p.error("--now: expected YYYY-MM-DD")
        a.now_ts = int(d.replace(tzinfo=datetime.timezone.utc).timestamp())
    return a


_day_cache = {}


def fmt_time(ts, style):
    """ts in one of the importer's formats: 0 date, 1 ISO 8601 UTC, 2 "date time"."""
    day, sec = divmod(ts, 86400)
    d = _day_cache.get(day)
    if d is None:
        d = datetime.datetime.fromtimestamp(day * 86400, datetime.timezone.utc)
        d = _day_cache[day] = d.strftime("%Y-%m-%d")
    if style == 0:
        return d
    h, rem = divmod(sec, 3600)
    m, s = divmod(rem, 60)
    if style == 1:
        return "%sT%02d:%02d:%02dZ" % (d, h, m, s)
    return "%s %02d:%02d:%02d" % (d, h, m, s)


def domain_of(k):
    if k < len(BIG_DOMAINS):
        return BIG_DOMAINS[k]
    return "d%d.example" % k


def rows(a):
    """Yield (email, optout, consent, scope) tuples."""
    rnd = random.Random(a.seed)
    now = a.now_ts
    cut_dom = a.domain_ratio
    cut_sender = cut_dom + a.sender_ratio
    cut_list = cut_sender + a.list_ratio
    recent = []  # a window of earlier addresses, for duplicates
    for i in range(a.first, a.first + a.rows):
        r = rnd.random()
        bits = rnd.getrandbits(64)
        # Half of the addresses go to a few big providers, the rest spread over the others
        # with a skew towards low numbers (some domains are much bigger than others).
        if bits & 1:
            dom = BIG_DOMAINS[(bits >> 1) % len(BIG_DOMAINS)]
        else:
            k = ((bits >> 1) % a.domains) * ((bits >> 20) % a.domains) // a.domains
            dom = domain_of(k)
        optout = now - 1 - (bits >> 24) % TWO_YEARS
        style = (bits >> 58) % 3
        scope = ""
        if r < cut_dom:
            email = "@d%d.example" % (i % (10 * a.domains) + a.domains)
        else:
            if recent and rnd.random() < a.dup_ratio:
                email = recent[(bits >> 8) % len(recent)]
            else:
                shape = (bits >> 40) & 7
                if shape < 4:
                    local = "%s.%s%d" % (FIRST[i % 26], LAST[(bits >> 43) % 16], i)
                elif shape < 6:
                    local = "user%d" % i
                elif shape == 6:
                    local = "%s%d+%s" % (FIRST[i % 26], i, LAST[(bits >> 43) % 16])
                else:
                    local = "%s_%d" % (FIRST[i % 26].capitalize(), i)
                email = local + "@" + dom
                if len(recent) < 4096:
                    recent.append(email)
                else:
                    recent[i & 4095] = email
            if r < cut_sender:
                scope = "sender:brand%d.example" % ((bits >> 47) % 200)
            elif r < cut_list:
                scope = "list:news%d.lists.example" % ((bits >> 47) % 100)
        consent = ""
        if rnd.random() < a.consent_ratio:
            consent = fmt_time(optout + 1 + (bits >> 30) % max(1, now - optout - 1), 0)
        yield email, fmt_time(optout, style), consent, scope


def main(argv):
    a = parse_args(argv)
    out = sys.stdout if a.out == "-" else open(a.out, "w", encoding="ascii", newline="")
    try:
        buf = []
        if a.format == "csv":
            out.write("email,optout_date,consent_date,scope\n")
        for email, optout, consent, scope in rows(a):
            if a.format == "csv":
                buf.append("%s,%s,%s,%s\n" % (email, optout, consent, scope))
            else:
                o = {"email": email, "optout_date": optout}
                if consent:
                    o["consent_date"] = consent
                if scope:
                    o["scope"] = scope
                buf.append(json.dumps(o, separators=(",", ":")) + "\n")
            if len(buf) >= CHUNK:
                out.write("".join(buf))
                buf.clear()
        out.write("".join(buf))
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
