"""Build-speed benchmark: full, no-op and one-change builds of N synthetic merchants.

    python bench/run.py                 # N = 1,000 and 10,000, 3 runs each
    python bench/run.py --sizes 1000 --runs 5

Each figure is the median over runs of the README's own command, `python build.py
build --sites ... --out ...`, as a whole process (interpreter start included), except
"serve": one changed merchant rebuilt and published by a process that has built before,
as a running `kspay-pages serve` does. Peak RSS
is the largest single process: the build, its renderer helper or one of its workers
(the kernel's figure for the build and the children it waited for). Merchants come from
bench/synth.py (seeded): complete stores, each with two products and both app variants,
10 pages per merchant (synth.PAGES_PER_MERCHANT), plus 8 shared pages.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from synth import PAGES_PER_MERCHANT, write_sites  # noqa: E402

_PAGES = re.compile(r": (?:(\d+) page\(s\) rendered|nothing changed)")


def run_build(sites: Path, out: Path) -> tuple[float, int, int]:
    """Seconds, pages rendered and peak RSS (KiB) of one build command."""
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "build",
                                    "--sites", str(sites), "--out", str(out)],
                                   cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
    found = _PAGES.search(text)
    if process.returncode != 0 or found is None:
        raise SystemExit(f"build failed ({process.returncode}):\n{text}")
    return seconds, int(found.group(1) or 0), usage.ru_maxrss


# A running `serve`: the process has built once and imported everything; the figure is
# the rebuild after one merchant file changed, until its pages are published.
SERVE = """
import sys, time
from pathlib import Path
from generator import pipeline
sites, out, target, runs = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
pipeline.build(sites, out)
original = target.read_text(encoding="utf-8")
times = []
for run in range(runs):
    target.write_text(original.replace("산지에서", f"산지에서 serve {run}"), encoding="utf-8")
    started = time.perf_counter()
    report = pipeline.build(sites, out)
    times.append(time.perf_counter() - started)
    assert report.pages == int(sys.argv[5]), report
target.write_text(original, encoding="utf-8")
pipeline.build(sites, out)
print(" ".join(map(str, times)))
"""


def serve_rebuilds(sites: Path, out: Path, target: Path, runs: int) -> list[float]:
    done = subprocess.run([sys.executable, "-c", SERVE, str(sites), str(out), str(target),
                           str(runs), str(PAGES_PER_MERCHANT)], cwd=ROOT, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"serve rebuild failed:\n{done.stderr}")
    return [float(t) for t in done.stdout.split()]


def settle() -> None:
    """Let the disk write back what the full builds wrote (gigabytes at 10,000
    merchants) before the incremental builds are timed: writeback on this disk stalls
    any process that creates or renames a file, and a merchant's one-change rebuild does
    not come seconds after 350,000 files were written."""
    os.sync()
    time.sleep(5)


def clear_outputs(folder: Path) -> None:
    """Remove the runs' output once everything is measured: deleting 70,000 files is slow
    on this disk (ext4 with discard), and the discards go on in the background after the
    deletion returns, slowing whatever runs next."""
    for old in folder.glob("*"):
        if old.name != "sites":
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()


def measure(count: int, runs: int, work: Path) -> dict[str, float]:
    sites = work / f"n{count}" / "sites"
    if not sites.is_dir() or len(list(sites.iterdir())) != count:
        shutil.rmtree(sites, ignore_errors=True)
        write_sites(sites, count)
    full, noop, change, peaks, pages = [], [], [], [], 0
    for run in range(runs):  # a clean full build, each into a new folder
        out = work / f"n{count}" / f"_site{run}"
        seconds, pages, peak = run_build(sites, out)
        full.append(seconds)
        peaks.append(peak)
    settle()
    for _ in range(runs):
        seconds, rendered, _ = run_build(sites, out)
        assert rendered == 0, rendered
        noop.append(seconds)
    target = sites / "m00042.yaml"
    original = target.read_text(encoding="utf-8")
    for run in range(runs):
        target.write_text(original.replace("산지에서", f"산지에서 {run}"), encoding="utf-8")
        seconds, rendered, _ = run_build(sites, out)
        assert rendered == PAGES_PER_MERCHANT, rendered  # the directory is unchanged
        change.append(seconds)
    target.write_text(original, encoding="utf-8")
    serve = serve_rebuilds(sites, out, target, runs)
    full_s = statistics.median(full)
    return {"merchants": count, "pages": pages, "full_s": full_s, "pages_per_s": pages / full_s,
            "noop_s": statistics.median(noop), "one_change_s": statistics.median(change),
            "serve_s": statistics.median(serve), "peak_rss_mb": max(peaks) / 1024}


def calibration() -> float:
    """Seconds for a fixed pure-Python loop in a fresh interpreter: this machine's speed
    varies by 2x or more over a day, so every table is printed with it."""
    loop = "import time; t = time.perf_counter(); s = 0\nfor i in range(10_000_000): s += i\n" \
           "print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", loop], capture_output=True, text=True,
                                 check=True).stdout) for _ in range(3)]
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=HERE / "out")
    args = parser.parse_args()
    before = calibration()
    print(f"{'merchants':>9} {'pages':>7} {'full s':>7} {'pages/s':>8} {'no-op s':>8} "
          f"{'1-change s':>10} {'serve s':>8} {'peak MB':>8}")
    for count in args.sizes:  # outputs of an earlier, interrupted run must not be timed
        if any(p.name != "sites" for p in (args.work / f"n{count}").glob("*")):
            clear_outputs(args.work / f"n{count}")
            time.sleep(30)
    for count in args.sizes:
        r = measure(count, args.runs, args.work)
        print(f"{r['merchants']:>9,} {r['pages']:>7,} {r['full_s']:>7.2f} {r['pages_per_s']:>8,.0f} "
              f"{r['noop_s']:>8.3f} {r['one_change_s']:>10.3f} {r['serve_s']:>8.3f} "
              f"{r['peak_rss_mb']:>8.1f}", flush=True)
    for count in args.sizes:
        clear_outputs(args.work / f"n{count}")
    print(f"calibration: a 10,000,000-step Python loop took {before:.2f} s before the runs "
          f"and {calibration():.2f} s after (median of 3 each)")


if __name__ == "__main__":
    main()
