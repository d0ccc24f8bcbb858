"""Benchmark of the book and its library: `make bench`.

Measures, on a copy of the book in a temporary directory (the working tree is untouched):

* cold build (empty cache): wall time, peak memory (resident set of the whole process
  tree), notebooks executed;
* warm rebuild (nothing changed): the same; no notebook may execute;
* rebuild after changing the code of one notebook: exactly one may execute;
* a second cold build, whose recorded results must be identical to the first's;
* page weight: each HTML page with the images it shows, and the whole site;
* library speed: scoring 100,000 localities x 60 indicators with the MIPEX-L engine, and
  raking plus headline survey estimates for about 1,000,000 respondents;
* MIPEX-L uncertainty: the Sobol sensitivity analysis of 40 towns (Saltelli design of at
  least 10,000 draws, every town's rank and the mean rank shift analysed with bootstrap
  intervals), and 10,000 Monte Carlo draws for 1,000 towns with rank intervals and their
  Monte Carlo error, each in a fresh process (time and peak resident memory).

Targets (2-core machine): cold build under 180 s; warm rebuild under 15% of cold;
median page under 1 MB; the Sobol analysis of 40 towns under 5 s; 1,000 towns x 10,000
draws under 10 s and 2 GB. `--record` writes the figures into the README between the
`bench:start` and `bench:end` markers. Exit code 1 when a target or an invariant fails.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[1]
SKIP = {".venv", "_build", ".git", ".pytest_cache", "node_modules"}
TARGETS = {"cold_seconds": 180.0, "warm_share": 0.15, "median_page_bytes": 1_000_000,
           "sobol_40_seconds": 5.0, "mc_1000_seconds": 10.0, "mc_1000_mb": 2048}


# ------------------------------------------------------------------ builds
def copy_book(target: Path) -> None:
    for item in ROOT.iterdir():
        if item.name in SKIP:
            continue
        if item.is_dir():
            shutil.copytree(item, target / item.name, ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
        else:
            shutil.copy2(item, target / item.name)


def run_measured(cmd: list[str], cwd: Path) -> tuple[float, int, int]:
    """Run ``cmd``; return (wall seconds, peak resident bytes of the process tree, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    parent = psutil.Process(proc.pid)
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            try:
                procs = [parent, *parent.children(recursive=True)]
                rss = 0
                for p in procs:
                    try:
                        rss += p.memory_info().rss
                    except psutil.Error:
                        pass
                peak = max(peak, rss)
            except psutil.Error:
                pass
            time.sleep(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    code = proc.wait()
    done.set()
    thread.join()
    return time.perf_counter() - start, peak, code


def build(book: Path, force: bool = False) -> dict:
    cmd = [sys.executable, str(book / "tools" / "build_book.py"), "--root", str(book)]
    if force:
        cmd.append("--force")
    wall, peak, code = run_measured(cmd, book)
    summary = json.loads((book / "_build" / "build-summary.json").read_text())
    if code != 0:
        raise SystemExit(f"Build failed in {book} (see {book / '_build' / 'build-failed.log'}).")
    return {"wall_seconds": round(wall, 1), "peak_memory_mb": round(peak / 2**20), "executed": summary["n_executed"]}


def change_one_notebook(book: Path) -> str:
    """Change the code of one notebook (append a cell), as an author editing it would."""
    target = book / "notebooks" / "data-overview.md"
    target.write_text(target.read_text() + "\n```{code-cell} ipython3\n# benchmark: a changed notebook\n```\n")
    return target.name


# ------------------------------------------------------------- page weight
class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            src = dict(attrs).get("src")
            if src and not src.startswith(("http:", "https:", "data:")):
                self.srcs.append(src)


def page_weights(html: Path) -> tuple[dict[str, int], int]:
    weights = {}
    for page in sorted(html.rglob("*.html")):
        rel = page.relative_to(html)
        if rel.parts[0] in ("_static", "_sources", "reports"):
            continue
        parser = _Images()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        size = page.stat().st_size
        for src in set(parser.srcs):
            img = (page.parent / src.split("?")[0]).resolve()
            if img.is_file():
                size += img.stat().st_size
        weights[rel.as_posix()] = size
    site = sum(p.stat().st_size for p in html.rglob("*") if p.is_file())
    return weights, site


# --------------------------------------------------------- library speed
def bench_index(n_localities: int = 100_000, n_indicators: int = 60, seed: int = 1) -> float:
    from wholecomm import index

    rng = np.random.default_rng(seed)
    areas = list(index.AREAS)
    stages = list(index.STAGES)
    ids = [f"X{i:03d}" for i in range(n_indicators)]
    indicators = pd.DataFrame({"indicator_id": ids, "area": [areas[i % len(areas)] for i in range(n_indicators)],
                               "stage": [stages[i % len(stages)] for i in range(n_indicators)],
                               "question": "benchmark question"})
    options = pd.DataFrame([{"indicator_id": i, "answer_code": c, "answer_text": c, "score": s}
                            for i in ids for c, s in (("a", 100), ("b", 50), ("c", 0))])
    codes = rng.choice(np.array(["a", "b", "c", ""]), size=n_localities * n_indicators, p=[0.3, 0.3, 0.33, 0.07])
    answers = pd.DataFrame({"locality_id": np.repeat([f"L{i:06d}" for i in range(n_localities)], n_indicators),
                            "indicator_id": np.tile(ids, n_localities), "answer_code": codes})
    start = time.perf_counter()
    index.score(answers, indicators, options)
    return time.perf_counter() - start


def synthetic_index(n_localities: int, seed: int = 1, per_area: int = 6, missing: float = 0.05):
    """A MIPEX-L assessment of ``n_localities`` synthetic towns (answers with a town effect)."""
    from wholecomm import index

    rng = np.random.default_rng(seed)
    ids = [f"{a[:3].upper()}{k:02d}" for a in index.AREAS for k in range(per_area)]
    indicators = pd.DataFrame({"indicator_id": ids, "area": np.repeat(index.AREAS, per_area),
                               "stage": [index.STAGES[i % len(index.STAGES)] for i in range(len(ids))]})
    options = pd.DataFrame([{"indicator_id": i, "answer_code": c, "score": s}
                            for i in ids for c, s in (("a", 100), ("b", 50), ("c", 0))])
    level = rng.normal(size=(n_localities, 1)) + 0.6 * rng.normal(size=(n_localities, len(ids)))
    codes = np.where(level > 0.5, "a", np.where(level > -0.5, "b", "c")).astype(object)
    codes[rng.random(codes.shape) < missing] = ""
    answers = pd.DataFrame({"locality_id": np.repeat([f"L{i:05d}" for i in range(n_localities)], len(ids)),
                            "indicator_id": np.tile(ids, n_localities), "answer_code": codes.ravel()})
    return index.score(answers, indicators, options)


def _peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss, it is not inherited
    from the parent process across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _uncertainty_child(kind: str) -> None:
    from wholecomm import index

    if kind == "sobol":
        res = synthetic_index(40, seed=2)
        start = time.perf_counter()
        sa = index.sensitivity(res)
        seconds = time.perf_counter() - start
        draws, towns = len(sa.mc.ranks), sa.mc.ranks.shape[1]
    else:
        res = synthetic_index(1000, seed=3)
        start = time.perf_counter()
        mc = index.monte_carlo(res, n_draws=10_000)
        index.rank_intervals(mc)
        index.monte_carlo_error(mc)
        seconds = time.perf_counter() - start
        draws, towns = len(mc.ranks), mc.ranks.shape[1]
    assessed = len(res.localities)
    peak_mb = _peak_rss_mb()
    print(json.dumps({"seconds": round(seconds, 2), "peak_mb": round(peak_mb), "draws": draws, "towns": towns,
                      "assessed": assessed}))


def bench_uncertainty(kind: str) -> dict:
    """Run one uncertainty benchmark in a fresh Python process; its time and peak memory."""
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--uncertainty-child", kind],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_survey(target_n: int = 1_000_000) -> tuple[int, float, float]:
    import warnings

    from wholecomm import data, survey

    sv = data.load("survey")
    margins = data.load("population_margins")
    copies = int(np.ceil(target_n / len(sv)))
    big = pd.concat([sv] * copies, ignore_index=True)
    big["respondent_id"] = np.arange(1, len(big) + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        weights = survey.rake(big, margins)
        rake_s = time.perf_counter() - start
        start = time.perf_counter()
        frame = big.assign(attitude_index=survey.attitude_index(big), weight=weights.to_numpy(),
                           contact_any=~big["contact_none"])
        frame = frame.merge(data.load("localities")[["locality_id", "country"]], on="locality_id")
        survey.weighted_mean(frame, "attitude_index", "weight")
        survey.weighted_mean(frame, "attitude_index", "weight", by="country")
        survey.weighted_proportion(frame, "contact_any", "weight")
        est_s = time.perf_counter() - start
    return len(big), rake_s, est_s


# ---------------------------------------------------------------- report
def record_in_readme(lines: list[str]) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    block = "<!-- bench:start -->\n" + "\n".join(lines) + "\n<!-- bench:end -->"
    new, n = re.subn(r"<!-- bench:start -->.*?<!-- bench:end -->", block, text, flags=re.S)
    if n != 1:
        raise SystemExit("README.md has no bench:start/bench:end markers.")
    readme.write_text(new)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="write the figures into README.md")
    parser.add_argument("--skip-builds", action="store_true", help="only the library benchmarks")
    parser.add_argument("--uncertainty-child", choices=["sobol", "large"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.uncertainty_child:
        _uncertainty_child(args.uncertainty_child)
        return 0
    failures, rows = [], []
    result: dict = {"machine": f"{platform.machine()}, {psutil.cpu_count()} cores, "
                               f"{round(psutil.virtual_memory().total / 2**30)} GiB", "date": time.strftime("%Y-%m-%d")}

    if not args.skip_builds:
        with tempfile.TemporaryDirectory(prefix="wholecomm-bench-") as tmp:
            book = Path(tmp) / "book"
            book.mkdir()
            copy_book(book)
            print("cold build ...", flush=True)
            cold = build(book, force=True)
            first_results = Path(tmp) / "results-1"
            shutil.copytree(book / "_build" / "results", first_results)
            print("warm rebuild ...", flush=True)
            warm = build(book)
            print("rebuild after changing one notebook ...", flush=True)
            changed = change_one_notebook(book)
            one = build(book)
            weights, site = page_weights(book / "_build" / "html")
            print("second cold build ...", flush=True)
            shutil.rmtree(book / "_build")
            shutil.copy2(ROOT / "notebooks" / changed, book / "notebooks" / changed)
            second = build(book, force=True)
            cmp = filecmp.dircmp(first_results, book / "_build" / "results")
            identical = not (cmp.diff_files or cmp.left_only or cmp.right_only)
        median_page = statistics.median(weights.values())
        heaviest = max(weights, key=weights.get)
        result.update(cold=cold, warm=warm, one_changed=one, second_cold=second, results_identical=identical,
                      median_page_bytes=median_page, heaviest_page=heaviest, heaviest_page_bytes=weights[heaviest],
                      site_bytes=site, pages=len(weights))
        warm_share = warm["wall_seconds"] / cold["wall_seconds"]
        rows += [
            f"| cold build (empty cache) | {cold['wall_seconds']} s | {cold['peak_memory_mb']} MB | "
            f"{cold['executed']} notebooks executed |",
            f"| warm rebuild (nothing changed) | {warm['wall_seconds']} s ({warm_share:.0%} of cold) | "
            f"{warm['peak_memory_mb']} MB | {warm['executed']} executed |",
            f"| rebuild after changing one notebook | {one['wall_seconds']} s | {one['peak_memory_mb']} MB | "
            f"{one['executed']} executed |",
            f"| second cold build | {second['wall_seconds']} s | {second['peak_memory_mb']} MB | results files "
            f"{'identical' if identical else 'DIFFERENT'} |",
            f"| page weight (HTML + its images) | median {median_page / 1e3:.0f} kB over {len(weights)} pages; "
            f"heaviest {heaviest} {weights[heaviest] / 1e3:.0f} kB | | whole site {site / 1e6:.1f} MB |",
        ]
        if cold["wall_seconds"] > TARGETS["cold_seconds"]:
            failures.append(f"cold build {cold['wall_seconds']} s > {TARGETS['cold_seconds']} s")
        if warm_share > TARGETS["warm_share"]:
            failures.append(f"warm rebuild {warm_share:.0%} of cold > {TARGETS['warm_share']:.0%}")
        if warm["executed"] != 0:
            failures.append(f"warm rebuild executed {warm['executed']} notebooks (must be 0)")
        if one["executed"] != 1:
            failures.append(f"rebuild after one change executed {one['executed']} notebooks (must be 1)")
        if not identical:
            failures.append("two clean builds recorded different results")
        if median_page > TARGETS["median_page_bytes"]:
            failures.append(f"median page {median_page / 1e6:.2f} MB > 1 MB")

    print("library benchmarks ...", flush=True)
    t_index = bench_index()
    n_sv, t_rake, t_est = bench_survey()
    sobol = bench_uncertainty("sobol")
    large = bench_uncertainty("large")
    result.update(sobol_40=sobol, mc_1000=large)
    if sobol["seconds"] > TARGETS["sobol_40_seconds"]:
        failures.append(f"Sobol analysis of 40 towns {sobol['seconds']} s > {TARGETS['sobol_40_seconds']} s")
    if large["seconds"] > TARGETS["mc_1000_seconds"]:
        failures.append(f"1,000 towns x 10,000 draws {large['seconds']} s > {TARGETS['mc_1000_seconds']} s")
    if large["peak_mb"] > TARGETS["mc_1000_mb"]:
        failures.append(f"1,000 towns x 10,000 draws {large['peak_mb']} MB > {TARGETS['mc_1000_mb']} MB")
    result.update(index_100k_x_60_seconds=round(t_index, 2), survey_respondents=n_sv,
                  survey_rake_seconds=round(t_rake, 2), survey_estimates_seconds=round(t_est, 2))
    rows += [
        f"| MIPEX-L scoring, 100,000 localities x 60 indicators | {t_index:.2f} s | | |",
        f"| survey raking, {n_sv:,} respondents | {t_rake:.2f} s | | |",
        f"| survey headline estimates (mean overall and by country, a proportion), {n_sv:,} respondents | "
        f"{t_est:.2f} s | | |",
        f"| MIPEX-L Sobol sensitivity, {sobol['assessed']} towns ({sobol['towns']} ranked) x {sobol['draws']:,} draws (Saltelli design, "
        f"bootstrap intervals) | {sobol['seconds']:.2f} s | {sobol['peak_mb']} MB | target 5 s |",
        f"| MIPEX-L Monte Carlo, {large['assessed']:,} towns ({large['towns']:,} ranked) x {large['draws']:,} draws (rank intervals and their "
        f"Monte Carlo error) | {large['seconds']:.2f} s | {large['peak_mb']} MB | target 10 s, 2 GB |",
    ]
    lines = [f"Measured on {result['machine']} ({result['date']}) with `make bench`:", "",
             "| measurement | time | peak memory | notes |", "| --- | --- | --- | --- |", *rows]
    print("\n".join(lines))
    out = ROOT / "_build" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    if failures:
        print("\nTARGETS MISSED:\n" + "\n".join(f"  - {f}" for f in failures))
    if args.record:
        record_in_readme(lines + ([""] + [f"Missed: {f}" for f in failures] if failures else []))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
