"""Read the chosen option label out of free text (`answer: generate`).

In order of trust:
1. a JSON object with a `final` key, the key and the letter in any case ({"final": "b"},
   PARROT's format, code fences allowed);
2. explicit choices: "the answer is C", "Answer: (b)", "option D", "I'd pick A", "B is correct",
   "it's C", "..., so B." at the end. Labels rejected in the same reply ("not A", "A over B",
   "rather than C", "instead of D", "rule out A", "B is wrong") never count; two different
   explicit choices are ambiguous;
3. a label at the very start, followed by punctuation or the end ("C", "(C)", "c. Jupiter", "C)");
4. a label standing as its own word anywhere, when it is the only label that does.
Anything else is unreadable (None), scored as invalid.

Case: a label is read in any case where that is unambiguous (the labels differ in more than case),
but a lower-case letter in running prose counts only inside an explicit phrase, at the start or
in parentheses, since "b" or "c" there is rarely meant as an option.
The article "A" and the pronoun "I" are labels only by context: followed by punctuation, the end
of the reply, or a word such as "is", "and", "or", "over", "because" ("A is right", "A and C",
"I." ); followed by any other word ("A good choice", "I think", "I'd") they are English words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

_JSON_OBJECT = re.compile(r"\{.*?\}", re.DOTALL)
WORD_LETTERS = {"a", "i"}  # labels that are also English words: the article and the pronoun
# Words after which a lone "A" or "I" is a label, not the article or the pronoun.
LABEL_NEXT = {"is", "was", "and", "or", "nor", "over", "because", "since", "as", "seems", "looks", "would", "could",
              "should", "might", "must", "can", "will", "fits", "matches", "wins", "too", "instead", "rather", "then",
              "vs", "versus", "but", "not", "isn't", "only", "alone", "here", "again", "also", "definitely",
              "clearly", "seem", "look", "appears", "sounds", "makes", "answers"}
_NOT_ALNUM = r"(?![A-Za-z0-9'])"
_SELECT = (
    r"\b(?:answer|option|choice)(?:\s+[a-z]+){{0,3}}?\s*(?:is|:|-|=)\s*(?:option\s+)?{L}",
    r"\b(?:option|choice)\s+{L}",
    r"\b(?:pick|choose|select|go with|going with|say|opt for|answer with)\s+(?:option\s+)?{L}",
    r"{L}\s+(?:is|seems|looks)\s+(?:the\s+)?(?:most\s+|more\s+)?(?:correct|right|best|likely|answer|true)\b",
    r"\b(?:it's|it is|it must be|must be|would be|should be)\s+(?:definitely\s+|probably\s+|clearly\s+)?{L}",
    r"\b(?:so|therefore|thus|hence)[,:]?\s+{L}\s*[.!]?\s*$",  # a conclusion that ends the reply
)
_REJECT = (
    r"\bnot\s+(?:option\s+)?{L}",
    r"\b(?:over|rather than|instead of|rule out|ruling out|eliminate)\s+(?:option\s+)?{L}",
    r"{L}\s+(?:is|seems|looks)\s+(?:wrong|incorrect|false|not)\b",
)


def _label_pattern(labels: list[str]) -> str:
    return "|".join(re.escape(lab) for lab in sorted(labels, key=len, reverse=True))


def _canonical(labels: list[str]) -> Callable[[str], str | None]:
    """The label a matched text names: exactly, or in another case when the labels differ in more than case."""
    folded = {lab.casefold(): lab for lab in labels}
    unambiguous = len(folded) == len(labels)

    def canon(text: str) -> str | None:
        if text in labels:
            return text
        return folded.get(text.casefold()) if unambiguous else None

    return canon


def _is_word(text: str, start: int, end: int) -> bool:
    """Whether the letter text[start:end] ("A", "a", "I", "i") is the English word, not a label."""
    if text[start:end].casefold() not in WORD_LETTERS:
        return False
    if start > 0 and text[start - 1] in "([*\"'" or text[end:end + 1] in (")", "]", "*"):
        return False  # "(A)", "**A**"
    rest = text[end:]
    if rest[:1] in ("'", "\u2019"):
        return True  # "I'd", "I'm"
    after = re.match(r"\s*([A-Za-z']+)", rest)
    if not rest.strip() or not after or not rest[:1].isspace():
        return rest[:1] == "," and text[start:end] == "I"  # "A." and "A," are labels; "I, for one" is not
    return after.group(1).lower() not in LABEL_NEXT


def _mentions(text: str, patterns: tuple[str, ...], lab: str, canon: Callable[[str], str | None]) -> set[str]:
    """Labels named by group `x` of any of `patterns` (case-insensitive), read as labels in context."""
    found = set()
    target = rf"[\(\[]?\**\s*(?P<x>{lab})\s*\**[\)\]]?{_NOT_ALNUM}"
    for pattern in patterns:
        for m in re.finditer(pattern.format(L=target), text, re.IGNORECASE):
            label = canon(m.group("x"))
            if label is not None and not _is_word(text, m.start("x"), m.end("x")):
                found.add(label)
    return found


def parse_json_final(text: str, labels: list[str]) -> str | None:
    canon = _canonical(labels)
    for match in _JSON_OBJECT.finditer(text):
        try:
            obj = json.loads(match.group(0))
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        value = next((v for k, v in obj.items() if isinstance(k, str) and k.casefold() == "final"), None)
        if isinstance(value, str):
            lead = re.match(rf"^[\s\(\[\.]*({_label_pattern(labels)})(?:[\s\)\]\.:,]|$)", value, re.IGNORECASE)
            return canon(lead.group(1)) if lead else None
    return None


def parse_choice(text: str | None, labels: list[str]) -> str | None:
    if not text or not text.strip():
        return None
    text = text.strip()
    if "{" in text:
        found = parse_json_final(text, labels)
        if found is not None:
            return found
    lab, canon = _label_pattern(labels), _canonical(labels)
    rejected = _mentions(text, _REJECT, lab, canon)
    chosen = _mentions(text, _SELECT, lab, canon) - rejected
    if chosen:
        return chosen.pop() if len(chosen) == 1 else None  # two different explicit choices: ambiguous
    leading = re.match(rf"^[\(\[\*\"']*\s*({lab})\s*(?:[\)\]\.:,\*\"'\-]|$|\n)", text, re.IGNORECASE)
    if leading and canon(leading.group(1)) not in rejected:
        return canon(leading.group(1))
    standalone = set()
    for m in re.finditer(rf"(?<![A-Za-z0-9'])(\(?)({lab})\)?{_NOT_ALNUM}", text, re.IGNORECASE):
        word, label = m.group(2), canon(m.group(2))
        if label is None or _is_word(text, m.start(2), m.end(2)):
            continue
        if word == label or word.isupper() or m.group(1):  # a lower-case letter in prose is no label
            standalone.add(label)
    standalone -= rejected
    return standalone.pop() if len(standalone) == 1 else None
