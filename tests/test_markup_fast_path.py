"""The plain-text fast path of generator.markup gives exactly what Python-Markdown gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from generator import markdown_safe, markup

PIECES = st.sampled_from([
    "제주 당근", "10kg", "배송은", "2~3일", "**굵게**", "*", "_", "[링크](https://a.kr)", "<b>",
    "&", "#", "- ", "1. ", "  ", " ", "\n", "\n\n", "\n\n\n", "\t", ">", "=", "+", "`", "!",
    "(괄호)", "\"따옴표\"", "'", ":", ".", "http://a.kr", "a@b.kr", "\u3000", "😀", "~", "|",
])


@settings(max_examples=600, deadline=None)
@given(st.lists(PIECES, max_size=12).map("".join))
def test_fast_path_equals_markdown(text: str) -> None:
    fast = markup._plain_paragraphs(text)
    if fast is not None:
        assert fast == markdown_safe.convert(text)


def test_plain_text_takes_the_fast_path() -> None:
    assert markup._plain_paragraphs("제주 당근 10kg.\n산지에서 보냅니다.\n\n둘째 문단") == (
        "<p>제주 당근 10kg.\n산지에서 보냅니다.</p>\n<p>둘째 문단</p>")
    assert markup._plain_paragraphs("배송은 **2~3일**") is None
    assert markup._plain_paragraphs("") == ""


def test_plain_text_never_imports_python_markdown() -> None:
    """A build whose merchants write plain text does not pay for Markdown's import."""
    import subprocess
    import sys

    script = ("import sys; from generator import markup; "
              "html = markup.render_markdown('제주 당근 10kg.\\n\\n둘째 문단'); "
              "before = 'markdown' in sys.modules; markup.render_markdown('**굵게**'); "
              "print(html, before, 'markdown' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    assert result.stdout == "<p>제주 당근 10kg.</p>\n<p>둘째 문단</p> False True\n"
