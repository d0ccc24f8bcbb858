"""The ``wholecomm`` command: the toolbox for local governments on the command line.

Commands
--------
``wholecomm questionnaire [--out FILE] [--example] [--force]``
    Write the blank MIPEX-L questionnaire (YAML, generated from the indicator catalogue)
    to FILE, or to the screen without ``--out``. ``--example`` writes the filled-in
    fictional example (Exampleton) instead.
``wholecomm assess QUESTIONNAIRE [--out REPORT.html] [--min-answered-share X]
[--peers GROUPS] [--top N] [--data DIR] [--quiet] [--debug]``
    Check a filled-in questionnaire, score it, benchmark it against its peers and write a
    self-contained HTML report (default: the questionnaire's name with ``-report.html``).

Problems in a questionnaire are printed together, one per line, as
``file:line: message``; warnings (missing answers, areas not scored, small peer groups)
as ``file:line: warning: message``.

Exit codes
----------
0  success (warnings allowed)
2  invalid input: a bad questionnaire, a bad data directory, or wrong usage
3  internal error: an unexpected failure of the toolbox (a short message says where to
   report it; ``--debug`` shows the full traceback)

``python -m wholecomm.cli`` runs the same command.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

EXIT_OK = 0
EXIT_INVALID = 2
EXIT_INTERNAL = 3

EXIT_CODES = """exit codes:
  0  success (warnings allowed)
  2  invalid input: a bad questionnaire, a bad data directory, or wrong usage
  3  internal error (unexpected); run again with --debug for the full traceback"""

GROUP_ALIASES = {"size_class": "size_class", "size": "size_class", "country": "country",
                 "locality_type": "locality_type", "type": "locality_type"}


class UsageError(Exception):
    """Wrong use of the command (exit code 2)."""


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, got {text!r}") from None
    if not (0 < value <= 1):
        raise argparse.ArgumentTypeError(f"must be greater than 0 and at most 1, got {text!r}")
    return value


def _groups(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [n for n in names if n not in GROUP_ALIASES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"must be a comma-separated list of size_class, country, locality_type (or size, type); got {text!r}")
    groups = list(dict.fromkeys(GROUP_ALIASES[n] for n in names))
    return groups


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from . import index

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", action="store_true", help="print errors only (no warnings, no summary)")
    common.add_argument("--debug", action="store_true", help="show the full traceback of an internal error")

    parser = argparse.ArgumentParser(
        prog="wholecomm",
        description="Toolbox for local governments (Whole-COMM research companion): fill in the MIPEX-L "
                    "self-evaluation questionnaire, then get scores, tailored benchmarks against peer "
                    "localities, priorities and monitoring over time in one HTML report.",
        epilog="Start with `wholecomm questionnaire --out my-town.yml`, fill it in, then run "
               "`wholecomm assess my-town.yml --out report.html`.\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    qp = sub.add_parser(
        "questionnaire", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="write the blank questionnaire (YAML)",
        description="Write the blank MIPEX-L questionnaire, generated from the indicator catalogue. Each "
                    "indicator comes with its question and its answer options with their scores.",
        epilog=EXIT_CODES)
    qp.add_argument("--out", metavar="FILE", type=Path,
                    help="write to FILE (e.g. my-town.yml) instead of the screen")
    qp.add_argument("--example", action="store_true",
                    help="write the filled-in fictional example (Exampleton, two years) instead of a blank one")
    qp.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    qp.add_argument("--data", metavar="DIR", type=Path,
                    help="read the indicator catalogue from the data directory DIR (sets WHOLECOMM_DATA)")

    ap = sub.add_parser(
        "assess", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="check a filled-in questionnaire and write the HTML report",
        description="Check a filled-in questionnaire, score it with the MIPEX-L rule, compare it with peer "
                    "localities and write one self-contained HTML report. All problems of the questionnaire are "
                    "listed together as file:line: message.",
        epilog=EXIT_CODES)
    ap.add_argument("questionnaire", metavar="QUESTIONNAIRE", type=Path, help="the filled-in questionnaire (YAML)")
    ap.add_argument("--out", metavar="REPORT", type=Path,
                    help="where to write the report (default: QUESTIONNAIRE's name with -report.html)")
    ap.add_argument("--min-answered-share", metavar="X", type=_share, default=index.MIN_ANSWERED_SHARE,
                    help="smallest share of an area's indicators that must be answered for the area to be "
                         f"scored, in (0, 1] (default {index.MIN_ANSWERED_SHARE:.4g}, two thirds, as in the index "
                         "chapter); unanswered indicators never count as 0")
    ap.add_argument("--peers", metavar="GROUPS", type=_groups, default=["size_class", "country", "locality_type"],
                    help="peer groups to benchmark against, comma-separated: size_class, country, locality_type "
                         "(or size, type); default all three")
    ap.add_argument("--top", metavar="N", type=_positive, default=10,
                    help="number of priorities shown in the report (default 10)")
    ap.add_argument("--data", metavar="DIR", type=Path,
                    help="benchmark against the data in directory DIR instead of the book's synthetic twin "
                         "(sets WHOLECOMM_DATA; same files and columns as the book's data package)")
    return parser


def _issues_url() -> str:
    """The project's issue tracker, from the book's configuration (the one place it is kept)."""
    try:
        import yaml

        from . import paths

        config = yaml.safe_load((paths.project_root() / "_config.yml").read_text(encoding="utf-8"))
        url = str(config["repository"]["url"]).rstrip("/")
        return f"{url}/issues"
    except Exception:  # noqa: BLE001 - only used to phrase an error message
        return "the project's issue tracker"


def _say(text: str, quiet: bool) -> None:
    if not quiet:
        print(text, file=sys.stderr)


def _write(path: Path, text: str, force: bool = True) -> None:
    if path.exists() and not force:
        raise UsageError(f"{path} exists; choose another name or add --force to overwrite it")
    if not path.parent.exists():
        raise UsageError(f"cannot write {path}: the folder {path.parent} does not exist")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _use_data(directory: Path | None) -> None:
    if directory is None:
        return
    if not directory.is_dir():
        raise UsageError(f"--data {directory}: not a directory (it must hold the CSV files of the data package)")
    os.environ["WHOLECOMM_DATA"] = str(directory.resolve())


def _questionnaire(args) -> int:
    from . import toolbox

    _use_data(args.data)
    text = toolbox.example_questionnaire().read_text(encoding="utf-8") if args.example \
        else toolbox.blank_questionnaire()
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK
    _write(args.out, text, force=args.force)
    what = "the fictional example" if args.example else "a blank questionnaire"
    _say(f"wrote {what} to {args.out}; fill it in, then run: wholecomm assess {args.out} --out report.html",
         args.quiet)
    return EXIT_OK


def _assess(args) -> int:
    from . import toolbox

    _use_data(args.data)
    q = toolbox.read_questionnaire(args.questionnaire, min_answered_share=args.min_answered_share)
    a = toolbox.assess(q, min_answered_share=args.min_answered_share, groups=args.peers)
    if not args.quiet:
        for line in a.warning_lines():
            print(line, file=sys.stderr)
    report = toolbox.render_report(a, top=args.top)
    out = args.out or args.questionnaire.with_name(args.questionnaire.stem + "-report.html")
    _write(out, report)
    s = a.summary()
    overall = s["overall_latest"]
    shown = f"{overall:.1f}" if overall == overall else toolbox.NOT_SCORED
    _say(f"wrote {out}: {q.name}, overall score {s['latest_year']}: {shown}"
         f"{' (peers from the synthetic twin)' if a.synthetic else ''}", args.quiet)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit code (0 success, 2 invalid input, 3 internal error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_INVALID
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_INVALID
    saved = os.environ.get("WHOLECOMM_DATA")
    try:
        if args.command == "questionnaire":
            return _questionnaire(args)
        return _assess(args)
    except Exception as exc:  # noqa: BLE001 - every failure is turned into an exit code
        from . import data, toolbox

        if isinstance(exc, toolbox.QuestionnaireError):
            for line in exc.lines():
                print(line, file=sys.stderr)
            n = len(exc.problems)
            print(f"wholecomm: {n} problem{'s' if n != 1 else ''} in the questionnaire; nothing was written.",
                  file=sys.stderr)
            return EXIT_INVALID
        if isinstance(exc, UsageError):
            print(f"wholecomm: {exc}", file=sys.stderr)
            return EXIT_INVALID
        if isinstance(exc, (data.DataError, FileNotFoundError)):
            print(f"wholecomm: the data could not be used:\n{exc}", file=sys.stderr)
            return EXIT_INVALID
        if args.debug:
            traceback.print_exc()
        print(f"wholecomm: internal error ({type(exc).__name__}: {exc}).\n"
              f"This is a fault in the toolbox, not in your questionnaire. Please report it at {_issues_url()} "
              "with the command you ran and, if you can share it, the questionnaire"
              f"{'' if args.debug else '; run again with --debug to include the full traceback'}.",
              file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        if saved is None:
            os.environ.pop("WHOLECOMM_DATA", None)
        else:
            os.environ["WHOLECOMM_DATA"] = saved


if __name__ == "__main__":
    sys.exit(main())
