"""How often each verdict of the housing-employment page comes out over many synthetic twins.

Generates ``--realisations`` twins from the book's parameters, each with its own seed
(the book's seed + 1, + 2, ...), evaluates the page's hypotheses on each exactly as the
page does (Holm over the family, the wild cluster bootstrap with ``--boot`` draws), and
writes the share of realisations with each verdict, with its provenance (parameters'
sha256, seeds, library version, date), to ``src/wholecomm/results/verdict_stability.json``.
The page shows that file through :func:`wholecomm.access.verdict_stability`.

    .venv/bin/python tools/verdict_stability.py --realisations 100 --boot 999
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--realisations", type=int, default=100)
    ap.add_argument("--boot", type=int, default=999, help="wild cluster bootstrap draws per realisation")
    ap.add_argument("--out", type=Path, default=access.VERDICT_STABILITY_FILE)
    args = ap.parse_args(argv)
    base = load_parameters()
    access.WILD_BOOT = args.boot
    counts: dict[str, dict[str, int]] = {}
    start = time.time()
    seeds = [int(base["seed"]) + i for i in range(1, args.realisations + 1)]
    for i, seed in enumerate(seeds, 1):
        params = copy.deepcopy(base)
        params["seed"] = seed
        frames = generate(params).frames
        loc = typed(frames, "localities")
        results = access.evaluate(
            access.prepare(typed(frames, "interviews"), loc),
            policy.prepare(typed(frames, "local_policies"), loc),
        )
        for hid, r in results.items():
            counts.setdefault(hid, {"supported": 0, "inconclusive": 0, "not supported": 0})[r.verdict] += 1
        print(f"{i}/{len(seeds)} seed {seed} ({time.time() - start:.0f} s)", flush=True)
    record = {
        "what": "Share of synthetic twins in which each hypothesis of the housing-employment page gets each "
        "verdict (Holm over the page's family, as on the page).",
        "realisations": len(seeds),
        "seeds": [seeds[0], seeds[-1]],
        "wild_bootstrap_draws": args.boot,
        "parameters_sha256": hashlib.sha256((HERE / "parameters.yml").read_bytes()).hexdigest(),
        "library_version": __version__,
        "date": dt.date.today().isoformat(),
        "command": "python tools/verdict_stability.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "counts": counts,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
