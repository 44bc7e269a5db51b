"""How much work Python-Markdown would do on a text, bounded before it is converted.

Python-Markdown is linear on ordinary text but re-reads a paragraph in a few constructs,
which makes it quadratic on hostile ones (10,000 `[` took 22 s):

- links: for every `[` its processors scan to the matching `]`, and for every `](` to
  the matching `)` (or past a link title to its closing quote), to the end of the
  paragraph when there is none; an unmatched run of backticks scans for its closing run;
- block splits: a heading, a rule (`---`, `***`) or a setext underline (`===`) is taken
  off its paragraph and the rest is read again from the start;
- nesting: every level of a nested list or quote re-reads what it holds.

It also counts the pieces of markup, each an element that costs its own time.

`problem` adds up an upper bound of those re-reads over the text, paragraph by
paragraph (the text between blank lines: no inline scan crosses one), and refuses a
text over a budget with what to change. The bounds are generous: brackets inside a code
span count as if they were not in one, a scan that a backtick or a link's target could
hide its end from runs to the end of its paragraph, and each escape, code span or link
counts as the placeholder Markdown reads in its place. tests/test_markdown_cost.py holds
the bound against the real scans; `bench/markdown.py` times the worst inputs that pass.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from markdown.blockprocessors import HashHeaderProcessor, HRProcessor

# Characters the link and code-span scans of a text may re-read (the scans cost about
# 0.5 microseconds a character: 25 ms at most).
MAX_SCAN = 50_000
# Characters of a text re-read after headings and rules taken off its paragraphs
# (regular expressions and copies, up to 50 nanoseconds a character: 25 ms at most).
MAX_SPLIT = 500_000
# Lists and quotes inside each other, counting 4 columns of indentation as one level.
MAX_NESTING = 8
# Pieces of markup (paragraphs, list items, quotes, headings, emphasis, links, code,
# entities, escapes, line breaks): each becomes an element or a placeholder that costs
# Python-Markdown 10 to 25 microseconds, more as there are more; real texts have tens
# (the guide's FAQ: 150 in 4,000 characters).
MAX_MARKUP = 1_000
# What all the texts of one merchant file may add up to, about a second of each kind of
# work: a 1 MB file holds thousands of short texts, each as costly as the limits above
# let it be. A real shop of 500 products with a few links and 30 pieces of markup in
# each description uses a fifth of the markup and a twentieth of the scans.
FILE_SCAN = 40 * MAX_SCAN
FILE_SPLIT = 40 * MAX_SPLIT
FILE_MARKUP = 50 * MAX_MARKUP
# Each escaped character, code span and link found becomes a placeholder of up to 16
# characters (\x02klzzwxh:0000\x03) that the scans after read in its place: at most
# this many more than it was written with (2, an escape).
GROWTH = 14
TAB = 4

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
# An escaped character is neither a bracket nor a quote (Markdown stashes it first).
_TOKENS = re.compile(r"\\.|[\[\]()'\"`]", re.DOTALL)
_TICKS = re.compile("`+")
_UNDERLINE = re.compile(r"^[ ]{0,3}(=+|-+)[ ]*$", re.MULTILINE)
# A quote's > needs no space after it (>>> is three quotes), a list marker one.
_MARKERS = re.compile(r"([ ]*(>|([-*+]|[0-9]{1,9}[.)])([ ]+|$)))+")
_MARKER = re.compile(r">|[-*+]|[0-9]{1,9}[.)]")
_HEADING = re.compile(r"^[ ]*#", re.MULTILINE)
_INLINE_MARKUP = re.compile(r"\*+|_+|`+|[\[<&\\]|  \n")


@dataclass
class Tally:
    """What the texts of one file have cost so far (against FILE_SCAN, FILE_SPLIT and
    FILE_MARKUP)."""

    scanned: int = 0
    split: int = 0
    markup: int = 0


def problem(text: str, tally: Tally | None = None) -> str | None:
    """Why converting `text` would cost too much, or None; with `tally`, the texts of its
    file read before count too (and `text` is added to it when it passes)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(TAB)
    depth, markers = _nesting(text)
    if depth:
        return depth
    paragraphs = _paragraphs(text)
    scanned = split = 0
    for line, paragraph in paragraphs:
        scanned += _scan_work(paragraph, MAX_SCAN - scanned)
        if scanned > MAX_SCAN:
            return ("Markdown too slow to convert: brackets [ ] ( ) or backticks ` left open, "
                    f"or nested, would make it re-read more than {MAX_SCAN:,} characters (by "
                    f"the paragraph at line {line} of this text); close each one, write \\[ "
                    "for a bracket that opens no link, or break paragraphs with blank lines")
        split += _split_work(paragraph, MAX_SPLIT - split)
        if split > MAX_SPLIT:
            return ("Markdown too slow to convert: headings and rules (#, ---, ===, ***) "
                    f"taken off a paragraph one at a time would make it re-read more than "
                    f"{MAX_SPLIT:,} characters (by the paragraph at line {line} of this text); "
                    "put a blank line after each heading and rule")
    markup = (len(paragraphs) + markers + len(_HEADING.findall(text))
              + len(_INLINE_MARKUP.findall(text)))
    if markup > MAX_MARKUP:
        return (f"Markdown too slow to convert: {markup:,} pieces of markup (paragraphs, "
                f"list items, headings, *, _, `, [, <, &, \\ and line breaks), the limit is "
                f"{MAX_MARKUP:,}")
    if tally is None:
        return None
    for name, used, limit, what in (
            ("scanned", scanned, FILE_SCAN, "characters re-read for brackets and backticks"),
            ("split", split, FILE_SPLIT, "characters re-read after headings and rules"),
            ("markup", markup, FILE_MARKUP, "pieces of markup")):
        total = getattr(tally, name) + used
        if total > limit:
            return (f"Markdown too slow to convert: with the texts before it in this file, "
                    f"{total:,} {what}, the limit for a file is {limit:,}; use less markup "
                    "or fewer long texts")
    tally.scanned += scanned
    tally.split += split
    tally.markup += markup
    return None


def _paragraphs(text: str) -> list[tuple[int, str]]:
    """The text between blank lines, each with the line it starts on."""
    found = []
    start, line = 0, 1
    for blank in _PARAGRAPH_BREAK.finditer(text):
        found.append((line, text[start:blank.start()]))
        line += text.count("\n", start, blank.end())
        start = blank.end()
    return found + [(line, text[start:])]


def _nesting(text: str) -> tuple[str, int]:
    """Why a line nests too deeply (or ""), and the list and quote markers of all lines."""
    markers = 0
    for number, line in enumerate(text.split("\n"), 1):
        indent = len(line) - len(line.lstrip(" "))
        found = _MARKERS.match(line)
        count = len(_MARKER.findall(found.group(0))) if found else 0
        markers += count
        depth = indent // TAB + count
        if depth > MAX_NESTING + 1:  # a list item's text may be indented one level more
            return (f"Markdown nested too deeply: line {number} of this text is {depth} "
                    f"levels of lists, quotes or indentation (4 spaces each), the limit is "
                    f"{MAX_NESTING + 1}"), markers
    return "", markers


def _scan_work(paragraph: str, budget: int) -> int:
    """An upper bound of what the link and code-span scans read in one paragraph (more
    than `budget` once it is passed)."""
    length = len(paragraph)
    brackets: list[tuple[str, int]] = []
    growing: list[int] = []  # where a placeholder may replace what is written
    quotes: list[int] = []
    for token in _TOKENS.finditer(paragraph):
        char, at = token.group(), token.start()
        if char[0] == "\\" or char in "[`":
            growing.append(at)
        if char in "'\"":
            quotes.append(at)
        elif char in "[]()":
            brackets.append((char, at))
    # Backtick runs as the code-span scan counts them: escaped or not.
    runs = [(run.start(), len(run.group())) for run in _TICKS.finditer(paragraph)]
    ticks = [start for start, _ in runs]

    def span(start: int, end: int) -> int:
        """What a scan from `start` to `end` reads, placeholders counted at full length;
        to the end when a backtick between could start a code span that hides `end`."""
        if bisect.bisect_right(ticks, start) < bisect.bisect_left(ticks, end):
            end = length
        return end - start + GROWTH * (bisect.bisect_left(growing, end)
                                       - bisect.bisect_right(growing, start))

    # Each link's target ends at its ')', past a title at the same quote and ')', or at
    # the end of the paragraph.
    parens: list[int] = []  # '(' not closed yet
    closing: dict[int, int] = {}  # '(' -> its ')'
    for char, at in brackets:
        if char == "(":
            parens.append(at)
        elif char == ")" and parens:
            closing[parens.pop()] = at
    work = _backtick_work(paragraph, runs)
    # A link found takes its target with it: a ']' inside is hidden from the scans of
    # the processors after it (images), which then read on to the end.
    hidden = bytearray(length + 1)
    for char, at in brackets:
        if char != "]" or not paragraph.startswith("(", at + 1):
            continue
        start = at + 1
        end = closing.get(start, length)
        first_quote = bisect.bisect_right(quotes, start)
        if first_quote < len(quotes) and quotes[first_quote] < end:
            # In a title the scan stops only at the same quote followed by ')'.
            quote = quotes[first_quote]
            found = re.compile(re.escape(paragraph[quote]) + " *\\)").search(paragraph, quote + 1)
            end = found.end() if found else length
        work += span(start, end)
        if work > budget:
            return work
        hidden[start:end] = b"\x01" * (end - start)
    opens: list[int] = []  # '[' not closed yet
    for char, at in brackets:
        if char == "[":
            opens.append(at)
        elif char == "]" and opens:
            work += span(opens.pop(), length if hidden[at] else at)
            if work > budget:
                return work
    return work + sum(span(start, length) for start in opens)  # to the end


def _backtick_work(paragraph: str, runs: list[tuple[int, int]]) -> int:
    """A run of backticks scans for the next run of the same length, or to the end; one
    after a backslash may open with one backtick fewer."""
    length = len(paragraph)
    work = 0
    next_of_length: dict[int, int] = {}
    for start, size in reversed(runs):
        sizes = (size, size - 1) if paragraph[start - 1:start] == "\\" else (size,)
        work += max(next_of_length.get(k, length) for k in sizes) - start
        next_of_length[size] = start
    return work


def _split_work(paragraph: str, budget: int) -> int:
    """What is read again after each heading, rule or underline taken off the paragraph
    (more than `budget` once it is passed)."""
    length = len(paragraph)
    work = 0
    for pattern in (HashHeaderProcessor.RE, HRProcessor.SEARCH_RE, _UNDERLINE):
        for match in pattern.finditer(paragraph):
            work += length - match.start()
            if work > budget:
                return work
    return work
