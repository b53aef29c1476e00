"""Preference pairs from group-labelled survey data in OpinionQA form (SPEC.md §3.4).

Input: a CSV (optionally .gz) with one row per (question, group): `qkey`, `question`, `options`
(a Python list literal), `attribute`, `group`, and `D_H`, the group's answer distribution over the
first len(D_H) options (trailing options without a share, such as "Refused", are left out).

Output, per row: the group's most chosen option is the chosen answer, another option drawn at
random (seeded by seed, question and group) is the rejected one, and the group is named in the
prompt (x_g = x ⊕ g), in the official code's format:

    Opinion of people in {group} on: {question}
    Please select the best response:
    A. ...
    B. ...

Answers are written "A. option text". The result is a JSONL file for a training config
(`data.path`), with columns id, group, attribute, qkey, prompt, chosen, rejected and the two
answers' shares.
"""

from __future__ import annotations

import ast
import csv
import gzip
import json
import random
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError

PROMPT = "Opinion of people in {group} on: {question}\nPlease select the best response:\n{options}"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_FLOAT = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
REQUIRED = ("qkey", "question", "options", "attribute", "group", "D_H")


def read_rows(path: Path) -> list[dict[str, str]]:
    """The CSV's rows as dicts (gzip-compressed when the name ends in .gz)."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", newline="") as fh:  # type: ignore[operator]
            reader = csv.DictReader(fh)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise HarnessError(f"not OpinionQA form: no column(s) {', '.join(missing)}", file=path)
            return list(reader)
    except FileNotFoundError:
        raise HarnessError("file not found", file=path) from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise HarnessError(f"cannot read CSV ({' '.join(str(exc).split())[:160]})", file=path) from None


def parse_distribution(text: str) -> list[float]:
    """`D_H` as written by numpy ("[0.41 0.58]", possibly over several lines) -> floats."""
    return [float(x) for x in _FLOAT.findall(text)]


def parse_options(text: str) -> list[str] | None:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        return None
    return [str(v) for v in value]


def make_pair(row: dict[str, str], seed: int, label: str = "{group}") -> dict[str, Any] | None:
    """One preference pair from one (question, group) row; None when the row cannot make one."""
    options = parse_options(row["options"])
    shares = parse_distribution(row["D_H"])
    if options is None or len(shares) < 2 or len(shares) > len(options) or len(shares) > len(LETTERS):
        return None
    options = options[:len(shares)]
    best = max(range(len(shares)), key=lambda i: (shares[i], -i))
    rng = random.Random(f"{seed}:{row['qkey']}:{row['attribute']}:{row['group']}")
    other = rng.choice([i for i in range(len(shares)) if i != best])
    group = label.format(group=row["group"], attribute=row["attribute"])
    block = "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(options))
    return {
        "id": f"{row['qkey']}:{row['attribute']}:{row['group']}",
        "group": row["group"],
        "attribute": row["attribute"],
        "qkey": row["qkey"],
        "prompt": PROMPT.format(group=group, question=row["question"].strip(), options=block),
        "chosen": f"{LETTERS[best]}. {options[best]}",
        "rejected": f"{LETTERS[other]}. {options[other]}",
        "chosen_share": shares[best],
        "rejected_share": shares[other],
    }


def build_pairs(rows: Iterable[dict[str, str]], *, attribute: str | None = None, groups: list[str] | None = None,
                seed: int = 0, max_per_group: int | None = None, label: str = "{group}",
                source: Path | None = None) -> list[dict[str, Any]]:
    """Pairs for the rows of `attribute` and/or `groups` (every row when neither is given).

    `max_per_group` keeps the first N pairs of each group (in file order). Raises HarnessError
    naming the option when a requested attribute or group has no rows."""
    rows = list(rows)
    if attribute is not None:
        rows = [r for r in rows if r["attribute"] == attribute]
        if not rows:
            raise HarnessError(f"attribute '{attribute}' has no rows", file=source, field="--attribute")
    if groups is not None:
        found = {r["group"] for r in rows}
        for g in groups:
            if g not in found:
                raise HarnessError(f"group '{g}' has no rows (groups: {', '.join(sorted(found))[:200]})",
                                   file=source, field="--group")
        rows = [r for r in rows if r["group"] in groups]
    out: list[dict[str, Any]] = []
    per_group: dict[str, int] = {}
    for row in rows:
        if max_per_group is not None and per_group.get(row["group"], 0) >= max_per_group:
            continue
        pair = make_pair(row, seed, label)
        if pair is not None:
            out.append(pair)
            per_group[row["group"]] = per_group.get(row["group"], 0) + 1
    return out


def write_jsonl(pairs: list[dict[str, Any]], path: Path) -> None:
    from harness.results.io import atomic_write_text

    atomic_write_text(path, "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs))
