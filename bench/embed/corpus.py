"""Writes the benchmark's texts, one per line, from an offline corpus.

The texts are the Debian package descriptions installed on this machine
(/var/lib/dpkg/status): each package's one-line synopsis (a few words, like
a search query) and the first paragraph of its long description (one to a
few sentences, like a document chunk). Packages are taken in name order, so
a machine with the same packages gives the same set.

    python3 corpus.py OUT.txt [--count 1000]

`--count 0` writes every distinct text there is.
"""

import argparse
import re

STATUS = "/var/lib/dpkg/status"


def package_texts(status_text):
    """(package, [synopsis, first paragraph]) for every package, by name."""
    out = []
    for stanza in status_text.split("\n\n"):
        name = re.search(r"^Package: (\S+)", stanza, re.M)
        desc = re.search(r"^Description: (.*)\n((?: .*\n?)*)", stanza, re.M)
        if not name or not desc:
            continue
        synopsis = desc.group(1).strip()
        body = []
        for line in desc.group(2).splitlines():
            line = line.strip()
            if line == ".":  # paragraph break in a Debian description
                break
            body.append(line)
        texts = [synopsis] + ([" ".join(body)] if body else [])
        out.append((name.group(1), texts))
    out.sort()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=1000)
    args = ap.parse_args()
    with open(STATUS, encoding="utf-8") as f:
        packages = package_texts(f.read())
    texts, seen = [], set()
    for _, pair in packages:
        for t in pair:
            # Exact duplicates would only measure a cache; the file is one
            # text per line, so no newlines inside a text.
            t = " ".join(t.split())
            if t and t not in seen:
                seen.add(t)
                texts.append(t)
    if args.count == 0:
        args.count = len(texts)
    if len(texts) < args.count:
        raise SystemExit(f"only {len(texts)} distinct texts in {STATUS}, need {args.count}")
    with open(args.out, "w", encoding="utf-8") as f:
        for t in texts[: args.count]:
            f.write(t + "\n")


if __name__ == "__main__":
    main()
