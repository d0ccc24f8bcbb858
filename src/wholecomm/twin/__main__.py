"""``python -m wholecomm.twin``: (re)write the synthetic twin into the book's data/."""

import argparse
from pathlib import Path

from ..paths import book_data_dir
from .generate import generate, write


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="data directory holding datapackage.json (default: the book's data/)",
    )
    args = parser.parse_args(argv)
    out = args.out or book_data_dir()
    twin = generate()
    hashes = write(twin, out)
    for name, digest in hashes.items():
        rows = len(twin.frames[name]) if name in twin.frames else "published"
        print(f"{name:22s} {rows!s:>9}  {digest[:23]}...")
    print(f"Synthetic twin written to {out} (seed {twin.params['seed']}).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
