"""The write-only floor: how long it takes only to write the files a full build writes.

    python bench/floor.py --sites 10000

Builds N synthetic merchants (bench/synth.py) once, reads every output file into memory,
then times, as whole processes like bench/run.py, a script that writes the same bytes to
the same paths (each folder made once, each file opened, written and closed) into a fresh
folder. A full build can never be faster than this; bench/run.py's full build over this
figure is how much the build adds to the writing itself.
"""

from __future__ import annotations

import argparse
import os
import pickle
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

from synth import write_sites  # noqa: E402

WRITER = """
import os, pickle, sys
files = pickle.load(open(sys.argv[1], "rb"))
out = sys.argv[2]
made = set()
for relpath, data in files:
    target = os.path.join(out, relpath)
    folder = os.path.dirname(target)
    if folder not in made:
        os.makedirs(folder, exist_ok=True)
        made.add(folder)
    with open(target, "wb") as f:
        f.write(data)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kspay-floor-", dir=ROOT / "bench") as tmp:
        work = Path(tmp)
        write_sites(work / "sites", args.sites)
        subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--sites",
                        str(work / "sites"), "--out", str(work / "_site")], check=True,
                       stdout=subprocess.DEVNULL)
        files = [(str(p.relative_to(work / "_site")), p.read_bytes())
                 for p in sorted((work / "_site").rglob("*")) if p.is_file()]
        with open(work / "files.pickle", "wb") as f:
            pickle.dump(files, f)
        times = []
        for run in range(args.runs):
            out = work / f"out{run}"
            os.sync()
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", WRITER, str(work / "files.pickle"), str(out)],
                           check=True)
            times.append(time.perf_counter() - started)
            shutil.rmtree(out)
        median = statistics.median(times)
        print(f"{args.sites:,} merchants: {len(files):,} files, "
              f"{sum(len(d) for _, d in files) / 1e6:.1f} MB; writing them only took "
              f"{median:.2f} s (median of {args.runs}: {', '.join(f'{t:.2f}' for t in times)}),"
              f" {len(files) / median:,.0f} files/s")


if __name__ == "__main__":
    main()
