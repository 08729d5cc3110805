"""The tsquery expressions a search is built from: synonyms in the full-text
tier, corrections (and their synonyms) in the corrected tier."""

from __future__ import annotations

from typing import Any

from gateway.storage.postgres.search_query import has_operators, matchers, synonyms_of
from gateway.storage.postgres.search_words import QueryTerms, QueryWord

GROUPS = (("laptop", "notebook"), ("tv", "television", "flat screen"), ("tv", "telly"))


def build(words: list[QueryWord], operators: bool = False) -> tuple[str, str | None, list[Any]]:
    params: list[Any] = []

    def arg(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    m = matchers("the text", QueryTerms(7, words), GROUPS, operators, arg)
    return m.exact, m.corrected, params


def test_synonyms_are_the_other_words_of_every_group_holding_the_word() -> None:
    assert synonyms_of("tv", GROUPS) == ["television", "flat screen", "telly"]
    assert synonyms_of("notebook", GROUPS) == ["laptop"]
    assert synonyms_of("screen", GROUPS) == []


def test_web_search_syntax_is_an_operator_query() -> None:
    assert has_operators('"coffee mug"') and has_operators("mug -coffee")
    assert has_operators("tv OR radio")
    assert not has_operators("coffee mug") and not has_operators("orange")


def test_a_query_without_synonyms_or_corrections_is_matched_as_written() -> None:
    exact, corrected, params = build([QueryWord("coffee", ("coffee",)), QueryWord("mug", ())])
    assert exact == "websearch_to_tsquery($1::oid::regconfig, $2)"
    assert corrected is None and params == [7, "the text"]


def test_synonyms_widen_the_exact_tier_and_corrections_the_next() -> None:
    exact, corrected, params = build([QueryWord("notebok", ("notebook",)),
                                      QueryWord("tv", ("tv",))])
    words = [p for p in params if isinstance(p, str)]
    # Exact: notebok & (tv | television | flat screen | telly).
    assert exact.count("&&") == 1 and words[:5] == [
        "notebok", "tv", "television", "flat screen", "telly"]
    # Corrected: a correction brings its own synonyms (notebook -> laptop).
    assert corrected is not None and words[5:8] == ["notebok", "notebook", "laptop"]


def test_operators_keep_the_query_as_written() -> None:
    exact, corrected, _ = build([QueryWord("notebok", ("notebook",))], operators=True)
    assert exact.startswith("websearch_to_tsquery(") and corrected is None
