"""The tsquery expressions of a search: the query's words, each OR'd with
its synonyms (the catalog policy's search.synonyms) for the full-text tier,
and also with its nearest vocabulary words (search_words.py) for the
corrected tier, which ranks below it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.storage.postgres.search_words import QueryTerms

Arg = Callable[[Any], str]


@dataclass(frozen=True)
class Matchers:
    # SQL tsquery expressions; `corrected` None when no word has a correction.
    exact: str
    corrected: str | None


def has_operators(text: str) -> bool:
    """Whether the query uses web-search syntax ("phrase", -word, or):
    synonyms and corrections cannot honour it, so such a query is matched
    as written only."""
    return '"' in text or any(word.startswith("-") or word.lower() == "or"
                              for word in text.split())


def synonyms_of(word: str, groups: Sequence[Sequence[str]]) -> list[str]:
    """The other entries of every group that holds `word`, in order."""
    found: list[str] = []
    for group in groups:
        if word in group:
            found += [w for w in group if w != word and w not in found]
    return found


def matchers(text: str, terms: QueryTerms, synonyms: Sequence[Sequence[str]],
             operators: bool, arg: Arg) -> Matchers:
    """With `operators` (web-search syntax) the query is matched as written."""
    language = f"{arg(terms.language)}::oid"

    def tsquery(alternatives: list[str]) -> str:
        return "(" + " || ".join(
            f"plainto_tsquery({language}::regconfig, {arg(a)})" for a in alternatives) + ")"

    def written() -> str:
        return f"websearch_to_tsquery({language}::regconfig, {arg(text)})"

    if operators or not terms.words:
        return Matchers(written(), None)
    same = [[w.word, *synonyms_of(w.word, synonyms)] for w in terms.words]
    # Without synonyms the query as written: the same tsquery, so the same
    # plans as a search had before synonyms existed.
    exact = (written() if all(len(s) == 1 for s in same)
             else "(" + " && ".join(tsquery(s) for s in same) + ")")
    # A correction stands for its synonyms too ("notebok" -> notebook -> laptop).
    near = [list(dict.fromkeys(a for n in w.near for a in [n, *synonyms_of(n, synonyms)]
                               if a not in s))
            for w, s in zip(terms.words, same, strict=True)]
    if not any(near):
        return Matchers(exact, None)
    return Matchers(exact, "(" + " && ".join(
        tsquery(s + n) for s, n in zip(same, near, strict=True)) + ")")
