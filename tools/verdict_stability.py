"""How often each verdict of the housing-employment page comes out over many synthetic twins.

Generates ``--realisations`` twins from the book's parameters, each with its own seed
(the book's seed + 1, + 2, ...), evaluates the page's hypotheses on each exactly as the
page does (Holm over the family, the wild cluster bootstrap with ``--boot`` draws), and
writes the number of realisations with each verdict, the joint outcome (how many
realisations give each combination of verdicts, so how often all come out together),
with its provenance (parameters' sha256, seeds, library version, date), to
``src/wholecomm/results/verdict_stability.json``. ``make bench`` runs it
(``tools/bench.py``); the page shows the file through
:func:`wholecomm.access.verdict_stability` and :func:`wholecomm.access.joint_verdicts`.

    .venv/bin/python tools/verdict_stability.py --realisations 200 --boot 399 --jobs 2
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import hashlib
import io
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from wholecomm import __version__, access, data, policy  # noqa: E402
from wholecomm.twin import generate, load_parameters  # noqa: E402
from wholecomm.twin.generate import HERE, to_csv_bytes  # noqa: E402


def typed(frames: dict, name: str) -> pd.DataFrame:
    raw = pd.read_csv(io.BytesIO(to_csv_bytes(frames[name])), dtype=str, keep_default_na=False, na_values=[])
    return data._typed(raw, data.resource_descriptor(name))


def verdicts_of(base: dict, seed: int, n_boot: int) -> dict[str, str]:
    """The page's verdicts (hypothesis id -> verdict) on the twin generated with ``seed``."""
    params = copy.deepcopy(base)
    params["seed"] = seed
    # The verdicts use no survey answers; each part of the twin has its own random stream,
    # so a token survey leaves the interviews and policies exactly as with the full one.
    params["survey"]["respondents_per_locality"] = [3, 4]
    frames = generate(params).frames
    loc = typed(frames, "localities")
    results = access.evaluate(
        access.prepare(typed(frames, "interviews"), loc),
        policy.prepare(typed(frames, "local_policies"), loc),
        n_boot=n_boot,
    )
    return {hid: r.verdict for hid, r in results.items()}


def tally(verdicts: dict[str, str], counts: dict[str, dict[str, int]], joint: dict[str, int]) -> None:
    """Add one realisation's verdicts to the per-hypothesis counts and the joint outcomes."""
    for hid, v in verdicts.items():
        counts.setdefault(hid, {"supported": 0, "inconclusive": 0, "not supported": 0})[v] += 1
    key = access.JOINT_SEPARATOR.join(verdicts.values())
    joint[key] = joint.get(key, 0) + 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--realisations", type=int, default=200)
    ap.add_argument(
        "--boot", type=int, default=399, help="wild cluster bootstrap draws per realisation (p down to 1/400)"
    )
    ap.add_argument("--out", type=Path, default=access.VERDICT_STABILITY_FILE)
    ap.add_argument("--jobs", type=int, default=1, help="processes evaluating twins side by side")
    args = ap.parse_args(argv)
    base = load_parameters()
    counts: dict[str, dict[str, int]] = {}
    joint: dict[str, int] = {}
    start = time.time()
    seeds = [int(base["seed"]) + i for i in range(1, args.realisations + 1)]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = pool.map(verdicts_of, [base] * len(seeds), seeds, [args.boot] * len(seeds))
        for i, (seed, verdicts) in enumerate(zip(seeds, outcomes, strict=True), 1):
            tally(verdicts, counts, joint)
            print(f"{i}/{len(seeds)} seed {seed} ({time.time() - start:.0f} s)", flush=True)
    record = {
        "what": "Number of synthetic twins in which each hypothesis of the housing-employment page gets each "
        "verdict (Holm over the page's family, as on the page), and of each joint outcome (the verdicts of "
        "all hypotheses together, in the order of 'hypotheses').",
        "realisations": len(seeds),
        "seeds": [seeds[0], seeds[-1]],
        "wild_bootstrap_draws": args.boot,
        "parameters_sha256": hashlib.sha256((HERE / "parameters.yml").read_bytes()).hexdigest(),
        "library_version": __version__,
        "date": dt.date.today().isoformat(),
        "command": "python tools/verdict_stability.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "seconds": round(time.time() - start, 1),
        "counts": counts,
        "hypotheses": list(counts),
        "joint": dict(sorted(joint.items(), key=lambda kv: -kv[1])),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
