"""Markdown's worst case: the costliest texts the config accepts, and a hostile 1 MB file.

    python bench/markdown_worst.py              # 3 runs of each command
    python bench/markdown_worst.py --runs 5

Python-Markdown re-reads text in a few constructs (generator/markdown_cost.py). This
prints, for each hostile construct found (by hand, and by a search over repeated units
of Markdown's special characters), the largest text of it that the config accepts (at
most 10,000 characters) and how long converting it takes, the best of 5. Then it writes
merchant files and times `python build.py check` and `build` on them, as whole
processes (the median of the runs):

- the red team's file: three descriptions of 9,999 `[` (33 s to check before the bound);
- a hostile 1 MB file: as many products as fit in 1,000,000 bytes, each described by
  one of the costliest accepted texts, in turn.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from generator import markdown_cost, markdown_safe  # noqa: E402
from generator.config import MAX_FILE_BYTES  # noqa: E402

LIMIT = markdown_safe.MAX_MARKDOWN_CHARS
# Units repeated up to the limit. The first are the constructs the red team and the
# code's reading found; the rest came out worst of ~35,000 units searched (1 to 12
# characters of []()`*_\<>&!#-=+. a1"':|~ and newlines, and pairs of them).
UNITS = {
    "[ never closed": "[",
    "![ never closed": "![",
    "[( never closed": "[(",
    "[a]( never closed": "[a](",
    "[a][ never closed": "[a][",
    "[ in text": "가나다라마바사 [",
    "code span hiding ]": "[`]`",
    "escaped backtick runs": "\\``http://a.kr",
    "setext headings": "a\n=\n",
    "setext underlines": "-\n",
    "rules under text": "a\n***\n",
    "headings": "# a\n",
    "quotes >>>": ">",
    "emphasis *_": "*_",
    "emphasis ***a": "***a",
    "paragraphs": "a\n\n",
    "list items": "- a\n",
    "nested list items": "- - a\n",
    "numbered items": "1. a\n",
    "items with text": "- a\n  b\n",
    "entities": "&amp;",
    "escapes": "\\*",
    "line breaks": "a  \n",
    "search: paragraphs of |:!": "\n|:! a1\n",
    "search: (>+\\)_:.[\\_=": "(>+\\)_:.[\\_=",
    "search: [|&\\*1": "[|&\\*1",
    "search: ![\\'()(a": "!['\\()(a",
    "search: _!+._": "_!+._",
    "search: headings #:": "\n#:",
    "search: >>, [ and (": ">>\n\n1([",
}


def repeated(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def largest_accepted(unit: str) -> str:
    """The longest repetition of `unit` (up to LIMIT) that the config accepts."""
    if markdown_safe.markdown_problem(repeated(unit, LIMIT)) is None:
        return repeated(unit, LIMIT)
    low, high = 0, LIMIT
    while high - low > 1:
        middle = (low + high) // 2
        if markdown_safe.markdown_problem(repeated(unit, middle)) is None:
            low = middle
        else:
            high = middle
    return repeated(unit, low)


def best_of(runs: int, work) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def merchant_file(folder: Path, name: str, descriptions: list[str]) -> Path:
    products = [{"slug": f"p{i}", "name": f"상품{i}", "amount": 1000, "description": text}
                for i, text in enumerate(descriptions)]
    data = {"store": {"id": "2999199999", "name": "케이에스페이(주)"},
            "reply_url": "https://shop.example.kr/kspay/result", "products": products}
    path = folder / "sites" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
    return path


def fill(texts: list[str], chosen: list[str] | None = None) -> list[str]:
    """`chosen`, then descriptions cycling through `texts`, as many as fit in a 1 MB
    merchant file."""
    chosen = list(chosen or [])

    def cost(text: str) -> int:
        return len(json.dumps(text, ensure_ascii=False).encode()) + 80

    size = 200 + sum(cost(text) for text in chosen)  # the store and the JSON around
    start = len(chosen)
    while True:
        text = texts[(len(chosen) - start) % len(texts)]
        if size + cost(text) > MAX_FILE_BYTES:
            return chosen
        chosen.append(text)
        size += cost(text)


PLAIN = "가나다라마바사 아자차카. " * 600


def accepted_file(measured: list[tuple[float, str, str]]) -> list[str]:
    """Descriptions that the config accepts in one file: the costliest texts for as long
    as the file's Markdown budget lasts, in turn, then plain text up to 1 MB."""
    tally = markdown_cost.Tally()
    chosen: list[str] = []
    for _, _, text in measured * 100:
        if text and markdown_safe.markdown_problem(text, tally) is None:
            chosen.append(text)
    while True:  # room for the plain texts' own markup (a paragraph each)
        candidate = fill([PLAIN], chosen)
        tally = markdown_cost.Tally()
        if all(markdown_safe.markdown_problem(text, tally) is None for text in candidate):
            return candidate
        chosen.pop()


def command(args: list[str], runs: int) -> tuple[float, int]:
    """Median seconds of a `build.py` command over runs, and its exit status."""
    times = []
    status = 0
    for _ in range(runs):
        started = time.perf_counter()
        status = subprocess.run([sys.executable, str(ROOT / "build.py"), *args], cwd=ROOT,
                                capture_output=True).returncode
        times.append(time.perf_counter() - started)
    return statistics.median(times), status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    print(f"machine: a 10,000,000-step Python loop took {time.perf_counter() - started:.2f} s")

    print(f"\n{'construct':34} {'accepted':>9} {'convert':>9}")
    measured = []
    for name, unit in UNITS.items():
        text = largest_accepted(unit)
        seconds = best_of(5, lambda: markdown_safe.convert(text)) if text else 0.0
        measured.append((seconds, name, text))
        print(f"{name:34} {len(text):>9,} {seconds * 1000:>7.1f} ms")
    # A file is costliest packed with what costs most per character (short texts).
    measured.sort(key=lambda m: m[0] / max(len(m[2]), 1), reverse=True)
    worst = measured[0]
    print(f"costliest per character: {worst[1]!r}, {len(worst[2]):,} characters, "
          f"{worst[0] * 1000:.1f} ms")

    with tempfile.TemporaryDirectory(prefix="kspay-bench-md-") as tmp:
        folder = Path(tmp)
        red = merchant_file(folder / "red", "red-team", ["[" * 9_999] * 3)
        seconds, status = command(["check", str(red)], args.runs)
        print(f"\nred team's file ({red.stat().st_size:,} bytes, 3 x 9,999 '['): check "
              f"{seconds:.2f} s, exit {status}")
        files = [(name, [text]) for _, name, text in measured[:5] if text]
        files.append(("the 8 costliest in turn", [text for _, _, text in measured[:8] if text]))
        slowest = 0.0
        for index, (name, texts) in enumerate(files):
            descriptions = fill(texts)
            hostile = merchant_file(folder / f"hostile{index}", "hostile", descriptions)
            seconds, status = command(["check", str(hostile)], args.runs)
            slowest = max(slowest, seconds)
            print(f"1 MB file of {name!r} ({hostile.stat().st_size:,} bytes, "
                  f"{len(descriptions)} descriptions): check {seconds:.2f} s, exit {status}")
        print(f"slowest check of a hostile 1 MB file: {slowest:.2f} s")
        accepted = accepted_file(measured)
        costly = merchant_file(folder / "accepted", "accepted", accepted)
        seconds, status = command(["check", str(costly)], args.runs)
        print(f"1 MB file that the config accepts, its Markdown budget used up by the "
              f"costliest texts, plain text after ({costly.stat().st_size:,} bytes, "
              f"{len(accepted)} descriptions): check {seconds:.2f} s, exit {status}")
        seconds, status = command(["build", "--sites", str(costly.parent), "--out",
                                   str(folder / "_site"), "--force"], args.runs)
        print(f"  build --force: {seconds:.2f} s, exit {status}")
        plain = merchant_file(folder / "plain", "plain", fill([PLAIN]))
        seconds, status = command(["check", str(plain)], args.runs)
        print(f"1 MB file of plain Korean text ({plain.stat().st_size:,} bytes): check "
              f"{seconds:.2f} s, exit {status}")


if __name__ == "__main__":
    main()
