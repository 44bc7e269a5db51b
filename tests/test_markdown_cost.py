"""Markdown that would cost Python-Markdown more than linear time is refused before it is
converted, at its key's line; real Markdown passes and is converted once.

No test here times anything (bench/markdown.py does): the property tested is that the
cost `markdown_cost` estimates bounds what Python-Markdown's scans really read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown import inlinepatterns

from conftest import ROOT, SITES, VALID
from generator import config, markdown_cost, markdown_safe, pipeline


def site_with(tmp_path: Path, descriptions: list[str], notice: str = "") -> Path:
    data = yaml.safe_load(VALID)
    data["products"] = [{"slug": f"p{i}", "name": f"상품{i}", "amount": 1000,
                         "description": text} for i, text in enumerate(descriptions)]
    if notice:
        data["notice"] = notice
    sites = tmp_path / "sites"
    sites.mkdir(parents=True, exist_ok=True)
    # JSON is YAML: every text is one line, so the line of each key is known.
    (sites / "shop.yaml").write_text(json.dumps(data, ensure_ascii=False, indent=1),
                                     encoding="utf-8")
    return sites


def description_marks(sites: Path) -> list[list[str]]:
    """Line and column of each description's value."""
    lines = (sites / "shop.yaml").read_text(encoding="utf-8").split("\n")
    key = '"description": '
    return [[str(n), str(line.index(key) + len(key) + 1)] for n, line in enumerate(lines, 1)
            if key in line]


def test_the_red_teams_file_is_refused_at_each_description(tmp_path: Path) -> None:
    sites = site_with(tmp_path, ["[" * 9_999] * 3)
    errors = pipeline.check([sites])[0]
    assert [e.split(": ", 1)[0].rsplit(":", 2)[-2:] for e in errors] == description_marks(sites)
    assert [e.split(": ", 2)[1] for e in errors] == [f"products[{i}].description" for i in range(3)]
    assert errors[0].endswith(
        ": Markdown too slow to convert: brackets [ ] ( ) or backticks ` left open, or nested, "
        "would make it re-read more than 50,000 characters (by the paragraph at line 1 of "
        "this text); close each one, write \\[ for a bracket that opens no link, or break "
        "paragraphs with blank lines")
    with pytest.raises(pipeline.BuildFailed) as failed:
        pipeline.build(sites, tmp_path / "_site")
    assert failed.value.errors == errors
    assert not (tmp_path / "_site").exists()


SCANS = {
    "unclosed [": "[" * 400,
    "unclosed [ before text": " [" * 200 + "가" * 3000,
    "nested [": "[" * 300 + "]" * 300,
    "unclosed ( of links": "[a](" * 500,
    "unclosed link titles": '[a]("' * 400 + ")" * 400,
    "a code span hiding ]": "[`]`" * 300,
    "a code span hiding )": "[a](`)`" * 300,
    "backtick runs never closed": " ".join("`" * k for k in range(1, 140)),
    "unclosed ![": "![" * 400,
    "brackets in many paragraphs": ("[" * 30 + "가" * 500 + "\n\n") * 10,
}


@pytest.mark.parametrize("name", list(SCANS))
def test_scans_to_the_end_are_refused(name: str) -> None:
    problem = markdown_safe.markdown_problem(SCANS[name])
    assert problem is not None and problem.startswith(
        "Markdown too slow to convert: brackets [ ] ( ) or backticks ` left open, or nested, "
        f"would make it re-read more than {markdown_cost.MAX_SCAN:,} characters (by the "
        "paragraph at line "), problem


SPLITS = {
    "setext headings": "a\n=\n" * 1_500,
    "setext underlines": "-\n" * 2_000,
    "rules": "a\n***\n" * 1_500,
    "headings": "# a\n" * 600 + "가" * 5000,
    "rules under text": "가" * 4000 + "\n---" * 400,
}


@pytest.mark.parametrize("name", list(SPLITS))
def test_headings_and_rules_that_split_a_paragraph_are_refused(name: str) -> None:
    problem = markdown_safe.markdown_problem(SPLITS[name])
    assert problem is not None and problem.startswith(
        "Markdown too slow to convert: headings and rules (#, ---, ===, ***) taken off a "
        "paragraph one at a time would make it re-read more than "
        f"{markdown_cost.MAX_SPLIT:,} characters (by the paragraph at line "), problem
    assert problem.endswith("put a blank line after each heading and rule")


@pytest.mark.parametrize(("text", "line", "depth"), [
    (">" * 5_000, 1, 5_000), ("> " * 3_000, 1, 3_000), ("- " * 3_000 + "a", 1, 3_000),
    ("1. " * 12, 1, 12), ("".join("    " * i + "- a\n" for i in range(12)), 10, 10),
    ("가\n" + "\t" * 10 + "a", 2, 10), ("> - > - > - > - > - a", 1, 10),
])
def test_nesting_is_bounded_before_conversion(text: str, line: int, depth: int) -> None:
    assert markdown_safe.markdown_problem(text) == (
        f"Markdown nested too deeply: line {line} of this text is {depth} levels of lists, "
        f"quotes or indentation (4 spaces each), the limit is {markdown_cost.MAX_NESTING + 1}")


@pytest.mark.parametrize("text", ["*a* " * 1_100, "a\n\n" * 1_100, "- a\n" * 1_100,
                                  "&amp;" * 1_100, "\\*" * 1_100, "a  \n" * 1_100,
                                  "`a` " * 1_100, "<x@y.kr> " * 1_100])
def test_more_markup_than_a_page_needs_is_refused(text: str) -> None:
    problem = markdown_safe.markdown_problem(text)
    assert problem is not None and problem.startswith("Markdown too slow to convert: ")
    assert f"the limit is {markdown_cost.MAX_MARKUP:,}" in problem


def test_the_texts_of_one_file_share_a_budget(tmp_path: Path) -> None:
    costly = "a\n=\n" * 400  # each text under its own limit
    assert markdown_safe.markdown_problem(costly) is None
    count = markdown_cost.FILE_SPLIT // markdown_cost._split_work(costly, 10**9) + 1
    sites = site_with(tmp_path, [costly] * count)
    errors = pipeline.check([sites])[0]
    [error] = errors
    assert error.split(": ", 2)[1] == f"products[{count - 1}].description"
    assert error.endswith(
        f"Markdown too slow to convert: with the texts before it in this file, "
        f"{markdown_cost._split_work(costly, 10**9) * count:,} characters re-read after "
        f"headings and rules, the limit for a file is {markdown_cost.FILE_SPLIT:,}; use less "
        "markup or fewer long texts")
    sites = site_with(tmp_path / "fewer", [costly] * (count - 1))
    assert pipeline.check([sites])[0] == []


def test_a_large_real_shop_is_within_the_files_budget(tmp_path: Path) -> None:
    description = ("## 상품 안내\n\n" + "**제주** 한라봉을 *당일* 수확해 보냅니다. " * 4
                   + "\n\n- 무게: 5kg\n- 원산지: 제주\n- 보관: 냉장\n\n"
                   + "자세한 내용은 [농원 홈페이지](https://jeju.example.kr/about \"소개\") 와 "
                   "[배송 안내](https://jeju.example.kr/ship) 를 보세요. `코드-1`\n")
    sites = site_with(tmp_path, [description] * 500, notice=description)
    assert pipeline.check([sites])[0] == []


def real_texts() -> list[str]:
    texts = [(ROOT / "generator" / "reference" / "faq.md").read_text(encoding="utf-8")]
    for path in sorted(SITES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts += [data.get("notice", "")] + [p.get("description", "") for p in data["products"]]
    links = " ".join(f"[{i}번 상품](https://shop.example.kr/p/{i} \"상품 {i}\")" for i in range(100))
    texts += [
        links,  # one paragraph of 100 titled links
        "\n".join(f"- 품목 {i}: **{i}kg** `코드-{i}` [보기](https://a.kr/{i})" for i in range(150)),
        "\n\n".join(f"## 제목 {i}\n\n본문 {i}. " + "가나다라 " * 40 for i in range(30)),
        "가격은 [특가] 9,900원 (부가세 포함) [단독] 한정 수량입니다. " * 120,
        "> 인용\n> > 인용 속 인용\n\n1. 하나\n    - 둘\n        - 셋\n",
        "제목\n===\n\n부제\n---\n\n" + "본문입니다. " * 500,
        "코드: `a [b] c` 와 `` `d` `` 그리고 \\[괄호\\] " * 50,
    ]
    return [t for t in texts if t]


def test_real_markdown_passes() -> None:
    texts = real_texts()
    assert len(texts) == 14
    for text in texts:
        assert markdown_safe.markdown_problem(text) is None, text[:80]
        assert markdown_safe.convert(text) is not None


def test_each_merchant_text_is_converted_once(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["**첫째** 설명", "[링크](https://a.kr) 둘째", "- 셋째\n- 목록"]
    sites = site_with(tmp_path, texts, notice="공지 *하나*")
    converted: list[str] = []
    real = markdown_safe.convert

    def counting(text: str) -> str | None:
        converted.append(text)
        return real(text)

    monkeypatch.setattr(markdown_safe, "convert", counting)
    assert pipeline.check([sites])[0] == []
    assert sorted(converted) == sorted(texts + ["공지 *하나*"])
    converted.clear()
    pipeline.build(sites, tmp_path / "_site", jobs=1)
    merchant = [t for t in converted if t in texts + ["공지 *하나*"]]
    assert sorted(merchant) == sorted(texts + ["공지 *하나*"])


# --- the estimate bounds the real scans ---------------------------------------------------------

class _Scans:
    """What Python-Markdown's link and code-span scans really read, in characters."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.read = 0
        link = inlinepatterns.LinkInlineProcessor
        code = inlinepatterns.BacktickInlineProcessor
        get_text, get_link, find_spans = link.getText, link.getLink, code.find_code_spans

        def text(processor: object, data: str, index: int):  # type: ignore[no-untyped-def]
            found = get_text(processor, data, index)
            self.read += found[1] - index
            return found

        def target(processor: object, data: str, index: int):  # type: ignore[no-untyped-def]
            found = get_link(processor, data, index)
            self.read += found[2] - index  # where the scan stopped (the end when unclosed)
            return found

        def spans(processor: object, start: int, data: str):  # type: ignore[no-untyped-def]
            found = find_spans(processor, start, data)
            self.read += (found[1] if found[1] is not None else len(data)) - start
            return found

        monkeypatch.setattr(link, "getText", text)
        monkeypatch.setattr(link, "getLink", target)
        monkeypatch.setattr(code, "find_code_spans", spans)


PIECES = ["[", "]", "(", ")", "![", "](", "`", "``", "\\", '"', "'", "a", "가", " ", "\n",
          "\n\n", "*", "_", "<", ">", "http://a.kr", "[a](b)", "[a][b]", "[b]: /u\n"]
_tried = {"accepted": 0, "refused": 0}


@settings(max_examples=400, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=400),
       repeat=st.integers(1, 60))
def test_the_scans_never_read_more_than_the_estimate(monkeypatch: pytest.MonkeyPatch,
                                                     pieces: list[str], repeat: int) -> None:
    text = ("".join(pieces) * repeat)[:markdown_safe.MAX_MARKDOWN_CHARS]
    if markdown_safe.markdown_problem(text) is not None:
        _tried["refused"] += 1
        return
    _tried["accepted"] += 1
    estimate = sum(markdown_cost._scan_work(p, 10**9)
                   for _, p in markdown_cost._paragraphs(text.replace("\r", "\n")))
    scans = _Scans(monkeypatch)
    markdown_safe.convert(text)
    # Three link processors try each '[' (reference, link, short reference); the text
    # of a link is tried again by the ones after the one that matched it.
    assert scans.read <= 6 * estimate + 6 * len(text), (scans.read, estimate, text[:200])


def test_the_property_was_tried_on_accepted_texts() -> None:
    assert _tried["accepted"] >= 50, _tried


class _Summary:
    def pytest_terminal_summary(self, terminalreporter: object) -> None:
        terminalreporter.write_line(  # type: ignore[attr-defined]
            f"markdown cost: {sum(_tried.values())} texts tried, the scans within the "
            f"estimate on every accepted one (accepted {_tried['accepted']}, refused "
            f"{_tried['refused']})")


@pytest.fixture(scope="module", autouse=True)
def _report(request: pytest.FixtureRequest) -> None:
    if not request.config.pluginmanager.has_plugin("kspay-markdown-summary"):
        request.config.pluginmanager.register(_Summary(), "kspay-markdown-summary")
