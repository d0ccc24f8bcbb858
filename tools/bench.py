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
* the toolbox: `wholecomm assess` on the bundled example as a whole process (start-up,
  checks, scoring, report), and re-scoring on the self-assessment page after one answer
  (Chromium, through Playwright);
* the data layer on a survey of about 1,000,000 respondents (the twin's rows repeated
  under new ids) in a user data folder: validating it from cold in a fresh process (wall
  time and peak memory, interpreter start included), then a later process loading it from
  the validated-frames cache, as every notebook kernel does;
* raking those 1,000,000 typed respondents side by side with the raking core of the
  peer package weightipy (its ``Rake`` on already-encoded columns, one locality at a time,
  the same margins, no trimming, design weights 1), with the largest relative
  difference between the two sets of weights;
* the verdicts of the housing-employment page over 200 synthetic twins
  (``tools/verdict_stability.py``, which rewrites the stored record the page shows), with
  the joint outcome: how often every hypothesis is supported together;
* MIPEX-L uncertainty: the Sobol sensitivity analysis of 40 towns (Saltelli design of at
  least 10,000 draws, every town's rank and the mean rank shift analysed with bootstrap
  intervals), and 10,000 Monte Carlo draws for 1,000 towns with rank intervals and their
  Monte Carlo error, each in a fresh process (time and peak resident memory).

Targets (2-core machine): cold build under 180 s; warm rebuild under 15% of cold;
median page under 1 MB; validating a 1,000,000-row survey within 15 s and 1 GB; a later
load of it under 1 s; our raking no slower than the peer's raking core; `wholecomm assess`
at most 1.5 s; re-scoring in the browser at most 50 ms after any answer; the Sobol
analysis of 40 towns under 5 s; 1,000 towns x 10,000 draws under 10 s and 2 GB.
`--record` writes the figures into the README between the
`bench:start` and `bench:end` markers. Exit code 1 when a target or an invariant fails.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import re
import resource
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
TARGETS = {
    "cold_seconds": 180.0,
    "warm_share": 0.15,
    "median_page_bytes": 1_000_000,
    "cli_assess_seconds": 1.5,
    "browser_rescore_ms": 50.0,
    "validate_seconds": 15.0,
    "validate_memory_mb": 1024,
    "cached_load_seconds": 1.0,
    "sobol_40_seconds": 5.0,
    "mc_1000_seconds": 10.0,
    "mc_1000_mb": 2048,
}
CHROMIUM = "/usr/bin/chromium"


# ------------------------------------------------------------------ builds
def copy_book(target: Path) -> None:
    for item in ROOT.iterdir():
        if item.name in SKIP:
            continue
        if item.is_dir():
            shutil.copytree(
                item, target / item.name, ignore=shutil.ignore_patterns("node_modules", "__pycache__")
            )
        else:
            shutil.copy2(item, target / item.name)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_measured(
    cmd: list[str], cwd: Path, env: dict | None = None, cpu: list | None = None
) -> tuple[float, int, int]:
    """Run ``cmd``; return (wall seconds, peak resident bytes of the process tree, exit code).
    ``cpu``, when given, receives the CPU seconds (user + system) of the process tree: on a
    machine that other work shares, wall time grows but CPU time does not."""
    cpu_start = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
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
    if cpu is not None:
        cpu.append(_children_cpu() - cpu_start)
    return time.perf_counter() - start, peak, code


def build(book: Path, force: bool = False) -> dict:
    cmd = [sys.executable, str(book / "tools" / "build_book.py"), "--root", str(book)]
    if force:
        cmd.append("--force")
    wall, peak, code = run_measured(cmd, book)
    summary = json.loads((book / "_build" / "build-summary.json").read_text())
    if code != 0:
        raise SystemExit(f"Build failed in {book} (see {book / '_build' / 'build-failed.log'}).")
    return {
        "wall_seconds": round(wall, 1),
        "peak_memory_mb": round(peak / 2**20),
        "executed": summary["n_executed"],
    }


def change_one_notebook(book: Path) -> str:
    """Change the code of one notebook (append a cell), as an author editing it would."""
    target = book / "notebooks" / "data-overview.md"
    target.write_text(
        target.read_text() + "\n```{code-cell} ipython3\n# benchmark: a changed notebook\n```\n"
    )
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
    indicators = pd.DataFrame(
        {
            "indicator_id": ids,
            "area": [areas[i % len(areas)] for i in range(n_indicators)],
            "stage": [stages[i % len(stages)] for i in range(n_indicators)],
            "question": "benchmark question",
        }
    )
    options = pd.DataFrame(
        [
            {"indicator_id": i, "answer_code": c, "answer_text": c, "score": s}
            for i in ids
            for c, s in (("a", 100), ("b", 50), ("c", 0))
        ]
    )
    codes = rng.choice(
        np.array(["a", "b", "c", ""]), size=n_localities * n_indicators, p=[0.3, 0.3, 0.33, 0.07]
    )
    answers = pd.DataFrame(
        {
            "locality_id": np.repeat([f"L{i:06d}" for i in range(n_localities)], n_indicators),
            "indicator_id": np.tile(ids, n_localities),
            "answer_code": codes,
        }
    )
    start = time.perf_counter()
    index.score(answers, indicators, options)
    return time.perf_counter() - start


def synthetic_index(n_localities: int, seed: int = 1, per_area: int = 6, missing: float = 0.05):
    """A MIPEX-L assessment of ``n_localities`` synthetic towns (answers with a town effect)."""
    from wholecomm import index

    rng = np.random.default_rng(seed)
    ids = [f"{a[:3].upper()}{k:02d}" for a in index.AREAS for k in range(per_area)]
    indicators = pd.DataFrame(
        {
            "indicator_id": ids,
            "area": np.repeat(index.AREAS, per_area),
            "stage": [index.STAGES[i % len(index.STAGES)] for i in range(len(ids))],
        }
    )
    options = pd.DataFrame(
        [
            {"indicator_id": i, "answer_code": c, "score": s}
            for i in ids
            for c, s in (("a", 100), ("b", 50), ("c", 0))
        ]
    )
    level = rng.normal(size=(n_localities, 1)) + 0.6 * rng.normal(size=(n_localities, len(ids)))
    codes = np.where(level > 0.5, "a", np.where(level > -0.5, "b", "c")).astype(object)
    codes[rng.random(codes.shape) < missing] = ""
    answers = pd.DataFrame(
        {
            "locality_id": np.repeat([f"L{i:05d}" for i in range(n_localities)], len(ids)),
            "indicator_id": np.tile(ids, n_localities),
            "answer_code": codes.ravel(),
        }
    )
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
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "peak_mb": round(peak_mb),
                "draws": draws,
                "towns": towns,
                "assessed": assessed,
            }
        )
    )


def bench_uncertainty(kind: str) -> dict:
    """Run one uncertainty benchmark in a fresh Python process; its time and peak memory."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--uncertainty-child", kind],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
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
        frame = big.assign(
            attitude_index=survey.attitude_index(big),
            weight=weights.to_numpy(),
            contact_any=~big["contact_none"],
        )
        frame = frame.merge(data.load("localities")[["locality_id", "country"]], on="locality_id")
        survey.weighted_mean(frame, "attitude_index", "weight")
        survey.weighted_mean(frame, "attitude_index", "weight", by="country")
        survey.weighted_proportion(frame, "contact_any", "weight")
        est_s = time.perf_counter() - start
    return len(big), rake_s, est_s


# ------------------------------------------------------------- data layer
def write_big_package(folder: Path, target_n: int = 1_000_000) -> int:
    """The twin's study files in ``folder``, with the survey's rows repeated under new ids."""
    for csv in (ROOT / "data").glob("*.csv"):
        if csv.name != "survey.csv":
            shutil.copy2(csv, folder / csv.name)
    header, *rows = (ROOT / "data" / "survey.csv").read_text(encoding="utf-8").rstrip("\n").split("\n")
    if not header.startswith("respondent_id,"):
        raise SystemExit("survey.csv no longer starts with respondent_id; update the benchmark.")
    tails = [r.split(",", 1)[1] for r in rows]
    copies = int(np.ceil(target_n / len(tails)))
    n = copies * len(tails)
    with (folder / "survey.csv").open("w", encoding="utf-8") as fh:
        fh.write(header + "\n")
        ident = 1
        for _ in range(copies):
            fh.write("".join(f"{ident + i},{t}\n" for i, t in enumerate(tails)))
            ident += len(tails)
    return n


_TIMED_LOAD = """
import json, sys, time
start = time.perf_counter()
from wholecomm import data
imported = time.perf_counter()
frames = data.load_all()
loaded = time.perf_counter()
survey = data.load("survey")
again = time.perf_counter()
json.dump({"import_s": imported - start, "load_all_s": loaded - imported, "load_survey_s": again - loaded,
           "rows": len(survey)}, open(sys.argv[1], "w"))
"""


def bench_data_layer(tmp: Path) -> dict:
    """Validate a 1M-row survey from cold, then load it from the cache in a new process."""
    import os

    folder = tmp / "bigdata"
    folder.mkdir()
    n = write_big_package(folder)
    env = dict(os.environ, WHOLECOMM_DATA=str(folder), WHOLECOMM_DATA_CACHE=str(tmp / "data-cache"))
    out: dict[str, object] = {"rows": n, "csv_mb": round((folder / "survey.csv").stat().st_size / 1e6)}
    for phase in ("cold", "cached"):
        report = tmp / f"{phase}.json"
        cpu: list[float] = []
        wall, peak, code = run_measured(
            [sys.executable, "-c", _TIMED_LOAD, str(report)], ROOT, env=env, cpu=cpu
        )
        if code != 0:
            raise SystemExit(
                f"Loading the 1M-row package failed ({phase}); run `WHOLECOMM_DATA={folder} "
                f"python -m wholecomm.data` to see why."
            )
        inner = json.loads(report.read_text())
        out[phase] = {
            "wall_seconds": round(wall, 2),
            "cpu_seconds": round(cpu[0], 2),
            "peak_memory_mb": round(peak / 2**20),
            **{k: round(v, 2) for k, v in inner.items() if k.endswith("_s")},
        }
    return out


def bench_raking_peer(tmp: Path) -> dict:
    """Our raking and weightipy's raking core on the same 1M typed respondents and margins
    (the 1M-row package of :func:`bench_data_layer` as the data in use, for this one step)."""
    import os

    saved = {k: os.environ.get(k) for k in ("WHOLECOMM_DATA", "WHOLECOMM_DATA_CACHE")}
    os.environ.update(WHOLECOMM_DATA=str(tmp / "bigdata"), WHOLECOMM_DATA_CACHE=str(tmp / "data-cache"))
    try:
        return _raking_side_by_side()
    finally:  # later benchmarks use the book's own data again
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _raking_side_by_side() -> dict:
    import contextlib
    import io
    import warnings

    from wholecomm import data, survey

    try:
        from weightipy.internal.rim import Rake
    except ImportError:
        return {"peer": None}
    sv = data.load("survey").assign(design_weight=1.0)
    margins = data.load("population_margins")
    variables = list(survey.RAKING_VARIABLES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        ours = survey.rake(sv, margins, trim=None)
        ours_s = time.perf_counter() - start
    # The peer's input: already-encoded columns (category codes), one frame per locality, and
    # each locality's margins as percentages, prepared outside the timing.
    codes = pd.DataFrame({v: sv[v].cat.codes.to_numpy() for v in variables})
    loc = sv["locality_id"].astype(str).to_numpy()
    groups, targets = [], []
    for lid, rows in pd.Series(np.arange(len(sv))).groupby(loc, sort=False):
        m = margins[margins["locality_id"].astype(str) == lid]
        total = m["population"].sum()
        tgt = []
        for v in variables:
            share = m.groupby(m[v].cat.codes, observed=True)["population"].sum() / total * 100
            tgt.append({v: {int(k): float(x) for k, x in share.items()}})
        groups.append((rows.to_numpy(), codes.iloc[rows.to_numpy()].reset_index(drop=True)))
        targets.append(tgt)
    peer = np.empty(len(sv))
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        for (rows, frame), tgt in zip(groups, targets, strict=False):
            rake = Rake(frame, tgt, max_iterations=1000, convcrit=0.01)
            rake.start()
            peer[rows] = frame["weight"].to_numpy()
    peer_s = time.perf_counter() - start
    # Same solution up to scale: compare each locality's weights normalised to their mean.
    w = ours.to_numpy()
    ours_n = w / pd.Series(w).groupby(loc).transform("mean").to_numpy()
    peer_n = peer / pd.Series(peer).groupby(loc).transform("mean").to_numpy()
    import weightipy

    return {
        "peer": f"weightipy {weightipy.__version__}",
        "respondents": len(sv),
        "ours_seconds": round(ours_s, 2),
        "peer_seconds": round(peer_s, 2),
        "max_relative_difference": float(np.max(np.abs(ours_n - peer_n) / peer_n)),
    }


# ---------------------------------------------------------------- report
def bench_cli_assess(runs: int = 5) -> tuple[float, float]:
    """Median wall time and median CPU time of `wholecomm assess` on the bundled example, as
    a whole process (the first run, which warms the file cache, is not counted)."""
    import os

    from wholecomm import toolbox

    env = {k: v for k, v in os.environ.items() if k != "WHOLECOMM_DATA"}
    with tempfile.TemporaryDirectory(prefix="wholecomm-bench-cli-") as tmp:
        q = Path(tmp) / "example.yml"
        shutil.copy(toolbox.example_questionnaire(), q)
        times, cpus = [], []
        for _ in range(runs + 1):
            c0 = _children_cpu()
            t0 = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "wholecomm.cli",
                    "assess",
                    str(q),
                    "--out",
                    str(Path(tmp) / "r.html"),
                    "--force",
                    "--quiet",
                ],
                check=True,
                env=env,
            )
            times.append(time.perf_counter() - t0)
            cpus.append(_children_cpu() - c0)
    return statistics.median(times[1:]), statistics.median(cpus[1:])


def bench_browser_rescore(n_clicks: int = 40) -> tuple[float, float] | None:
    """Median and largest time (ms) the self-assessment page takes to re-score and redraw
    after one answer (the change handler runs synchronously within the click). None when
    Chromium is not installed."""
    if not Path(CHROMIUM).exists():
        return None
    from playwright.sync_api import sync_playwright

    from wholecomm import selfassess

    with tempfile.TemporaryDirectory(prefix="wholecomm-bench-page-") as tmp:
        page_file = Path(tmp) / "self-assessment.html"
        page_file.write_text(selfassess.standalone_html(), encoding="utf-8")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.goto(page_file.as_uri())
            page.select_option("#wc-sa-size_class", index=1)
            page.select_option("#wc-sa-country", index=1)
            page.select_option("#wc-sa-locality_type", index=1)
            ids = page.evaluate("wholecommSelfAssessment.data.indicators.map(q => q.id)")
            radios = []
            for k in range(n_clicks):
                ind = ids[k % len(ids)]
                codes = page.evaluate(
                    f"[...document.querySelectorAll('input[name=\"q-{ind}\"]')].map(e => e.id)"
                )
                radios.append(codes[k % len(codes)])
            times = [
                page.evaluate(
                    "(id) => { const t0 = performance.now(); document.getElementById(id).click(); "
                    "return performance.now() - t0; }",
                    r,
                )
                for r in radios
            ]
            browser.close()
    return statistics.median(times), max(times)


def record_in_readme(lines: list[str]) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    block = "<!-- bench:start -->\n" + "\n".join(lines) + "\n<!-- bench:end -->"
    new, n = re.subn(r"<!-- bench:start -->.*?<!-- bench:end -->", block, text, flags=re.S)
    if n != 1:
        raise SystemExit("README.md has no bench:start/bench:end markers.")
    readme.write_text(new)


#: How the failures of the benchmarks each partial run repeats begin (see ``failures`` in main).
REMEASURED = {
    "data": ("validating", "a cached load", "our raking", "wholecomm assess", "re-scoring"),
    "library": (
        "validating",
        "a cached load",
        "our raking",
        "wholecomm assess",
        "re-scoring",
        "Sobol",
        "1,000 towns",
    ),
}


def _row_key(row: str) -> str:
    """A table row's measurement, without its figures (sizes and counts change between runs)."""
    return re.sub(r"[\d,.]+", "#", row.split("|")[1]).strip()


def record_rows_in_readme(
    header: str, rows: list[str], missed: list[str], remeasured: tuple[str, ...]
) -> None:
    """A partial run: replace the rows it measured in the README's table (keeping the rows of
    the last full run), and say which rows were measured when and how."""
    readme = ROOT / "README.md"
    text = readme.read_text()
    match = re.search(r"<!-- bench:start -->\n(.*?)\n<!-- bench:end -->", text, flags=re.S)
    if not match:
        raise SystemExit("README.md has no bench:start/bench:end markers.")
    old = match.group(1).splitlines()
    table = [line for line in old if line.startswith("| ") and not line.startswith("| ---")]
    head_line = next((line for line in old if line.startswith("Measured on ")), header)
    new_by_key = {_row_key(r): r for r in rows}
    merged = [table[0]] + [new_by_key.pop(_row_key(r), r) for r in table[1:]] + list(new_by_key.values())
    measured = "; ".join(r.split("|")[1].strip() for r in rows)
    names = {r.split("|")[1].strip() for r in rows}
    notes = [
        line
        for line in old
        if line
        and not line.startswith(("|", "Measured on ", "Missed:"))
        # an earlier partial run's line goes when this run measured all of its rows again
        and not (
            line.startswith("Partly re-measured on ")
            and set(line.split(": ", 1)[1].rstrip(".").split("; ")) <= names
        )
    ]
    # misses of the full run that this run did not measure again still stand
    kept = [
        line
        for line in old
        if line.startswith("Missed:") and not line[len("Missed: ") :].startswith(remeasured)
    ]
    missed = ([""] if kept or missed else []) + kept + [m for m in missed if m]
    block = [
        head_line,
        "",
        merged[0],
        "| --- | --- | --- | --- |",
        *merged[1:],
        "",
        f"Partly re-measured on {header[len('Measured on ') :].rstrip(':')}: {measured}.",
        *notes,
        *missed,
    ]
    block = [line for k, line in enumerate(block) if line or (k and block[k - 1])]  # no double blank lines
    readme.write_text(text[: match.start(1)] + "\n".join(block) + text[match.end(1) :])


def measure_builds(result: dict, rows: list[str], failures: list[str]) -> None:
    """Cold, warm, one-changed and second cold builds on a copy of the book, and page weights."""
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
    heaviest = max(weights, key=lambda page: weights[page])
    result.update(
        cold=cold,
        warm=warm,
        one_changed=one,
        second_cold=second,
        results_identical=identical,
        median_page_bytes=median_page,
        heaviest_page=heaviest,
        heaviest_page_bytes=weights[heaviest],
        site_bytes=site,
        pages=len(weights),
    )
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
    checks = [
        (
            cold["wall_seconds"] > TARGETS["cold_seconds"],
            f"cold build {cold['wall_seconds']} s > {TARGETS['cold_seconds']} s",
        ),
        (
            warm_share > TARGETS["warm_share"],
            f"warm rebuild {warm_share:.0%} of cold > {TARGETS['warm_share']:.0%}",
        ),
        (warm["executed"] != 0, f"warm rebuild executed {warm['executed']} notebooks (must be 0)"),
        (one["executed"] != 1, f"rebuild after one change executed {one['executed']} notebooks (must be 1)"),
        (not identical, "two clean builds recorded different results"),
        (median_page > TARGETS["median_page_bytes"], f"median page {median_page / 1e6:.2f} MB > 1 MB"),
    ]
    failures += [message for failed, message in checks if failed]


def measure_library(result: dict, rows: list[str], failures: list[str]) -> None:
    """MIPEX-L scoring, survey raking and estimates, and the MIPEX-L uncertainty analyses."""
    print("library benchmarks ...", flush=True)
    t_index = bench_index()
    n_sv, t_rake, t_est = bench_survey()
    sobol = bench_uncertainty("sobol")
    large = bench_uncertainty("large")
    result.update(sobol_40=sobol, mc_1000=large)
    s40, mc, mb = TARGETS["sobol_40_seconds"], TARGETS["mc_1000_seconds"], TARGETS["mc_1000_mb"]
    checks = [
        (sobol["seconds"] > s40, f"Sobol analysis of 40 towns {sobol['seconds']} s > {s40} s"),
        (large["seconds"] > mc, f"1,000 towns x 10,000 draws {large['seconds']} s > {mc} s"),
        (large["peak_mb"] > mb, f"1,000 towns x 10,000 draws {large['peak_mb']} MB > {mb} MB"),
    ]
    failures += [message for failed, message in checks if failed]
    result.update(
        index_100k_x_60_seconds=round(t_index, 2),
        survey_respondents=n_sv,
        survey_rake_seconds=round(t_rake, 2),
        survey_estimates_seconds=round(t_est, 2),
    )
    rows += [
        f"| MIPEX-L scoring, 100,000 localities x 60 indicators | {t_index:.2f} s | | |",
        f"| survey raking, {n_sv:,} respondents | {t_rake:.2f} s | | |",
        f"| survey headline estimates (mean overall and by country, a proportion), {n_sv:,} respondents | "
        f"{t_est:.2f} s | | |",
        f"| MIPEX-L Sobol sensitivity, {sobol['assessed']} towns ({sobol['towns']} ranked) x {sobol['draws']:,} "
        f"draws (Saltelli design, bootstrap intervals) | {sobol['seconds']:.2f} s | {sobol['peak_mb']} MB | "
        "target 5 s |",
        f"| MIPEX-L Monte Carlo, {large['assessed']:,} towns ({large['towns']:,} ranked) x {large['draws']:,} draws "
        f"(rank intervals and their Monte Carlo error) | {large['seconds']:.2f} s | {large['peak_mb']} MB | "
        "target 10 s, 2 GB |",
    ]


def measure_data_layer(result: dict, rows: list[str], failures: list[str]) -> dict:
    """Validating a 1,000,000-row survey, a cached load, and raking beside the peer package
    (returned, for :func:`report_raking_peer`)."""
    print("data layer benchmarks ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="wholecomm-bench-data-") as tmp:
        layer = bench_data_layer(Path(tmp))
        peer = bench_raking_peer(Path(tmp))
    result.update(data_layer=layer, raking_peer=peer)
    cold_v, cached = layer["cold"], layer["cached"]
    rows += [
        f"| validating a {layer['rows']:,}-row survey ({layer['csv_mb']} MB) in a user folder, cold, new process | "
        f"{cold_v['wall_seconds']} s | {cold_v['peak_memory_mb']} MB | CPU time {cold_v['cpu_seconds']} s; validation and "
        f"typing {cold_v['load_all_s']} s (import {cold_v['import_s']} s) |",
        f"| later load of the same package from the validated-frames cache, new process | "
        f"{cached['load_all_s']} s | {cached['peak_memory_mb']} MB | every resource; `load('survey')` again "
        f"{cached['load_survey_s']} s |",
    ]
    vs, vm, cl = TARGETS["validate_seconds"], TARGETS["validate_memory_mb"], TARGETS["cached_load_seconds"]
    checks = [
        (cold_v["wall_seconds"] > vs, f"validating 1M rows took {cold_v['wall_seconds']} s > {vs} s"),
        (
            cold_v["peak_memory_mb"] > vm,
            f"validating 1M rows peaked at {cold_v['peak_memory_mb']} MB > {vm} MB",
        ),
        (cached["load_all_s"] > cl, f"a cached load took {cached['load_all_s']} s > {cl} s"),
    ]
    failures += [message for failed, message in checks if failed]
    return peer


def measure_toolbox(result: dict, rows: list[str], failures: list[str]) -> None:
    """`wholecomm assess` as a whole process, and re-scoring on the self-assessment page."""
    print("toolbox benchmarks ...", flush=True)
    t_cli, cpu_cli = bench_cli_assess()
    rescore = bench_browser_rescore()
    result.update(cli_assess_seconds=round(t_cli, 2), cli_assess_cpu_seconds=round(cpu_cli, 2))
    rows.append(
        f"| `wholecomm assess` on the example (whole process: start-up, checks, scoring, report) | "
        f"{t_cli:.2f} s | | CPU time {cpu_cli:.2f} s; target at most {TARGETS['cli_assess_seconds']} s |"
    )
    if t_cli > TARGETS["cli_assess_seconds"]:
        failures.append(f"wholecomm assess {t_cli:.2f} s > {TARGETS['cli_assess_seconds']} s")
    if rescore is None:
        rows.append("| self-assessment page: re-scoring after one answer | not measured (no Chromium) | | |")
        return
    med, worst = rescore
    result.update(browser_rescore_median_ms=round(med, 1), browser_rescore_max_ms=round(worst, 1))
    rows.append(
        f"| self-assessment page: re-scoring and redrawing after one answer (40 answers) | median "
        f"{med:.1f} ms, largest {worst:.1f} ms | | target at most {TARGETS['browser_rescore_ms']:.0f} ms |"
    )
    if worst > TARGETS["browser_rescore_ms"]:
        failures.append(
            f"re-scoring in the browser took up to {worst:.1f} ms > {TARGETS['browser_rescore_ms']} ms"
        )


def report_raking_peer(peer: dict, rows: list[str], failures: list[str]) -> None:
    """The row comparing our raking with the peer's (measured by :func:`measure_data_layer`)."""
    if not peer.get("peer"):
        rows.append("| raking peer | not measured | | weightipy is not installed |")
        return
    rows.append(
        f"| raking {peer['respondents']:,} typed respondents (no trimming, design weights 1): ours vs "
        f"{peer['peer']} raking core | {peer['ours_seconds']} s vs {peer['peer_seconds']} s | | "
        f"weights agree to {peer['max_relative_difference']:.1e} (largest relative difference) |"
    )
    if peer["ours_seconds"] > peer["peer_seconds"]:
        failures.append(
            f"our raking ({peer['ours_seconds']} s) is slower than {peer['peer']} ({peer['peer_seconds']} s)"
        )


def measure_verdict_stability(result: dict, rows: list[str], realisations: int) -> None:
    """The verdicts of the housing-employment page over ``realisations`` synthetic twins
    (tools/verdict_stability.py, in a new process; it rewrites the stored record the page
    shows), with the joint outcome: how often every hypothesis is supported together."""
    print(f"verdict stability over {realisations} twins ...", flush=True)
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "verdict_stability.py"),
            "--realisations",
            str(realisations),
            "--jobs",
            "2",
        ],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    sys.path.insert(0, str(ROOT / "src"))
    from wholecomm import access

    joint = access.joint_verdicts()
    least = access.verdict_stability().set_index("hypothesis")["supported_pct"]
    result.update(
        verdict_stability_seconds=round(seconds, 1),
        verdicts_all_supported_pct=round(joint.attrs["all_supported_pct"], 1),
    )
    rows.append(
        f"| verdict stability of the housing-employment page, {realisations} twins (joint outcome) | "
        f"{seconds:.0f} s | | all hypotheses supported together in {joint.attrs['all_supported_pct']:.0f}% of "
        f"twins; least stable {least.idxmin()} ({least.min():.0f}%) |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="write the figures into README.md")
    parser.add_argument("--skip-builds", action="store_true", help="only the library benchmarks")
    parser.add_argument("--data-only", action="store_true", help="only the data layer benchmarks (no builds)")
    parser.add_argument(
        "--verdict-realisations", type=int, default=200, help="twins for the verdict stability (0: skip it)"
    )
    parser.add_argument("--uncertainty-child", choices=["sobol", "large"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.uncertainty_child:
        _uncertainty_child(args.uncertainty_child)
        return 0
    failures: list[str] = []
    rows: list[str] = []
    result: dict = {
        "machine": f"{platform.machine()}, {psutil.cpu_count()} cores, "
        f"{round(psutil.virtual_memory().total / 2**30)} GiB",
        "date": time.strftime("%Y-%m-%d"),
        "load_average_start": round(os.getloadavg()[0], 1),
    }
    if not (args.skip_builds or args.data_only):
        measure_builds(result, rows, failures)
    if not args.data_only:
        measure_library(result, rows, failures)
    peer = measure_data_layer(result, rows, failures)
    measure_toolbox(result, rows, failures)
    report_raking_peer(peer, rows, failures)
    if not args.data_only and args.verdict_realisations > 0:
        measure_verdict_stability(result, rows, args.verdict_realisations)
    return report(result, rows, failures, args)


def report(result: dict, rows: list[str], failures: list[str], args: argparse.Namespace) -> int:
    """Print the table, write _build/bench.json, and with ``--record`` the README's table;
    1 when a target or an invariant failed."""
    result["load_average_end"] = round(os.getloadavg()[0], 1)
    partial = args.skip_builds or args.data_only
    how = (
        "`make bench`"
        if not partial
        else f"`tools/bench.py {'--data-only' if args.data_only else '--skip-builds'}`"
    )
    lines = [
        f"Measured on {result['machine']} ({result['date']}) with {how}, load average "
        f"(1 minute) {result['load_average_start']} at the start and {result['load_average_end']} at the end:",
        "",
        "| measurement | time | peak memory | notes |",
        "| --- | --- | --- | --- |",
        *rows,
    ]
    print("\n".join(lines))
    out = ROOT / "_build" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    if failures:
        print("\nTARGETS MISSED:\n" + "\n".join(f"  - {f}" for f in failures))
    if args.record:
        missed = [""] + [f"Missed: {f}" for f in failures] if failures else []
        if partial:
            record_rows_in_readme(lines[0], rows, missed, REMEASURED["data" if args.data_only else "library"])
        else:
            record_in_readme(lines + missed)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
