"""The ``wholecomm`` command: the toolbox for local governments on the command line.

Commands
--------
``wholecomm questionnaire [--out FILE] [--format yaml|xlsx] [--example] [--force]``
    Write the blank MIPEX-L questionnaire (generated from the indicator catalogue) to
    FILE, or to the screen without ``--out``: a YAML text file, or a workbook (``xlsx``)
    with instructions on its first sheet and a drop-down list of the answer texts on
    every question. ``--example`` writes the filled-in fictional example (Exampleton).
``wholecomm assess QUESTIONNAIRE [--out REPORT.html] [--force] [--min-answered-share X] [--peers GROUPS] [--top N] [--data DIR] [--quiet] [--debug]``
    Check a filled-in questionnaire (YAML or workbook), score it, benchmark it against its
    peers and write a self-contained HTML report (default: the questionnaire's name with
    ``-report.html``).

Safety: the report is never written over the questionnaire (also not through a link),
and an existing file is replaced only with ``--force``. Text from the questionnaire or
the data reaches the terminal without control characters; oversized inputs are refused.

Problems in a questionnaire are printed together, one per line, as
``file:line: message``; warnings (missing answers, areas not scored, small peer groups)
as ``file:line: warning: message``.

Exit codes
----------
* 0: success (warnings allowed);
* 2: invalid input: a bad questionnaire, a bad data directory, or wrong usage;
* 3: internal error: an unexpected failure of the toolbox (a short message says where to
  report it; ``--debug`` shows the full traceback).

``python -m wholecomm.cli`` runs the same command.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import sys
import tempfile
import traceback
import warnings
from pathlib import Path

EXIT_OK = 0
EXIT_INVALID = 2
EXIT_INTERNAL = 3

EXIT_CODES = """exit codes:
  0  success (warnings allowed)
  2  invalid input: a bad questionnaire, a bad data directory, or wrong usage
  3  internal error (unexpected); run again with --debug for the full traceback"""

GROUP_ALIASES = {
    "size_class": "size_class",
    "size": "size_class",
    "country": "country",
    "locality_type": "locality_type",
    "type": "locality_type",
}


class UsageError(Exception):
    """Wrong use of the command (exit code 2)."""


# C0 and C1 control characters (escape sequences, bells, carriage returns ...), except
# newline and tab: text from a questionnaire or a data folder must not drive the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """``text`` with control characters (and bidirectional overrides) removed, for the terminal."""
    return _CONTROL.sub("", str(text))


def _err(text: str) -> None:
    print(clean_text(text), file=sys.stderr)


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
            f"must be a comma-separated list of size_class, country, locality_type (or size, type); got {text!r}"
        )
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


def _file_options(p: argparse.ArgumentParser, target: str, *, out_help: str, data_help: str) -> None:
    """The options both commands take: where to write (``--out``), whether to overwrite it
    (``--force``) and which data directory to read (``--data``)."""
    p.add_argument("--out", metavar=target, type=Path, help=out_help)
    p.add_argument("--force", action="store_true", help=f"overwrite {target} if it exists")
    p.add_argument("--data", metavar="DIR", type=Path, help=data_help)


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
    # every command takes the common options and lists the exit codes
    command = functools.partial(
        sub.add_parser,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXIT_CODES,
    )

    qp = command(
        "questionnaire",
        help="write the blank questionnaire (YAML)",
        description="Write the blank MIPEX-L questionnaire, generated from the indicator catalogue. Each "
        "indicator comes with its question and its answer options with their scores.",
    )
    _file_options(
        qp,
        "FILE",
        out_help="write to FILE (e.g. my-town.yml) instead of the screen",
        data_help="read the indicator catalogue from the data directory DIR (sets WHOLECOMM_DATA)",
    )
    qp.add_argument(
        "--example",
        action="store_true",
        help="write the filled-in fictional example (Exampleton, two years) instead of a blank one",
    )
    qp.add_argument(
        "--format",
        choices=("yaml", "xlsx"),
        help="yaml (a text file) or xlsx (a spreadsheet with a drop-down list of the answers on "
        "each question); default: xlsx when FILE ends in .xlsx, otherwise yaml",
    )

    ap = command(
        "assess",
        help="check a filled-in questionnaire and write the HTML report",
        description="Check a filled-in questionnaire, score it with the MIPEX-L rule, compare it with peer "
        "localities and write one self-contained HTML report. All problems of the questionnaire are "
        "listed together as file:line: message.",
    )
    ap.add_argument(
        "questionnaire",
        metavar="QUESTIONNAIRE",
        type=Path,
        help="the filled-in questionnaire: a YAML file or a workbook (.xlsx) from `wholecomm questionnaire`",
    )
    _file_options(
        ap,
        "REPORT",
        out_help="where to write the report (default: QUESTIONNAIRE's name with -report.html); never "
        "the questionnaire itself",
        data_help="benchmark against the data in directory DIR instead of the book's synthetic twin "
        "(sets WHOLECOMM_DATA; same files and columns as the book's data package)",
    )
    ap.add_argument(
        "--min-answered-share",
        metavar="X",
        type=_share,
        default=index.MIN_ANSWERED_SHARE,
        help="smallest share of an area's indicators that must be answered for the area to be "
        f"scored, in (0, 1] (default {index.MIN_ANSWERED_SHARE:.4g}, two thirds, as in the index "
        "chapter); unanswered indicators never count as 0",
    )
    ap.add_argument(
        "--peers",
        metavar="GROUPS",
        type=_groups,
        default=["size_class", "country", "locality_type"],
        help="peer groups to benchmark against, comma-separated: size_class, country, locality_type "
        "(or size, type); default all three",
    )
    ap.add_argument(
        "--top",
        metavar="N",
        type=_positive,
        default=10,
        help="number of priorities shown in the report (default 10)",
    )
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
        _err(text)


def _same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` are the same file: same resolved path (symbolic links
    followed) or same device and inode (hard links)."""
    try:
        if a.resolve() == b.resolve():
            return True
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _check_output(path: Path, force: bool, inputs: tuple[Path, ...] = ()) -> None:
    """Refuse to write over an input file (also through links) or, without ``force``, over
    any existing file."""
    for source in inputs:
        if _same_file(path, source):
            raise UsageError(
                f"--out {path} is the questionnaire itself; the report needs another file name "
                "(nothing was written)"
            )
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a folder")
    if (path.exists() or path.is_symlink()) and not force:
        raise UsageError(f"{path} exists; choose another name or add --force to overwrite it")
    if not path.parent.exists():
        raise UsageError(f"cannot write {path}: the folder {path.parent} does not exist")


def _write(path: Path, content: str | bytes, force: bool = False, inputs: tuple[Path, ...] = ()) -> None:
    """Write ``content`` to ``path`` in one step (a temporary file in the same folder,
    then renamed), after :func:`_check_output`. A link at ``path`` is replaced, never
    followed."""
    _check_output(path, force, inputs)
    payload = content.encode("utf-8") if isinstance(content, str) else content
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        if not force and (path.exists() or path.is_symlink()):  # appeared meanwhile
            raise UsageError(f"{path} exists; choose another name or add --force to overwrite it")
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def _use_data(directory: Path | None) -> None:
    if directory is None:
        return
    if not directory.is_dir():
        raise UsageError(
            f"--data {directory}: not a directory (it must hold the CSV files of the data package)"
        )
    os.environ["WHOLECOMM_DATA"] = str(directory.resolve())


def _data_problem(exc: Exception, directory: Path | None) -> str:
    """One line saying why the data folder cannot be used (the first problem, and how many)."""
    from . import data

    where = f"--data {directory}" if directory is not None else "the data"
    if isinstance(exc, data.DataError) and exc.problems:
        first = exc.problems[0]
        more = len(exc.problems) - 1
        rule = f"{Path(first.file).name}: {first.rule}"
        if first.columns:
            rule += f" (column {', '.join(first.columns)})"
        return (
            f"{where} cannot be used: {rule}"
            + (f"; and {more} more problem{'s' if more != 1 else ''}" if more else "")
            + " (nothing was written)"
        )
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, FileNotFoundError) and exc.filename:
        detail = f"missing file {Path(exc.filename).name}"
    elif isinstance(exc, UnicodeDecodeError):
        detail = "a file is not UTF-8 text"
    return f"{where} cannot be used: {detail} (nothing was written)"


def _format_of(args) -> str:
    if args.format:
        return args.format
    return "xlsx" if args.out is not None and args.out.suffix.lower() == ".xlsx" else "yaml"


def _questionnaire(args) -> int:
    from . import toolbox

    _use_data(args.data)
    fmt = _format_of(args)
    if fmt == "xlsx" and args.out is None:
        raise UsageError("--format xlsx writes a workbook: give the file with --out, e.g. --out my-town.xlsx")
    if args.out is not None:
        _check_output(args.out, args.force)
    try:
        toolbox.catalogue()
    except Exception as exc:  # noqa: BLE001 - the data folder could not be used
        _reraise_data(exc, args.data)
    content: str | bytes
    if fmt == "xlsx":
        content = toolbox.questionnaire_workbook(example=args.example)
    else:
        content = (
            toolbox.example_questionnaire().read_text(encoding="utf-8")
            if args.example
            else toolbox.blank_questionnaire()
        )
    if args.out is None and isinstance(content, str):  # a workbook always goes to --out (checked above)
        sys.stdout.write(clean_text(content))
        return EXIT_OK
    _write(args.out, content, force=args.force)
    what = "the fictional example" if args.example else "a blank questionnaire"
    how = "fill it in (choose each answer from its list)" if fmt == "xlsx" else "fill it in"
    _say(
        f"wrote {what} to {args.out}; {how}, then run: wholecomm assess {args.out} --out report.html",
        args.quiet,
    )
    return EXIT_OK


def _reraise_data(exc: Exception, directory: Path | None):
    """Turn a failure to use the data folder into a one-line usage error (exit 2)."""
    from . import toolbox

    if isinstance(exc, (toolbox.QuestionnaireError, UsageError)):
        raise exc
    raise UsageError(_data_problem(exc, directory)) from exc


def _assess(args) -> int:
    from . import toolbox

    _use_data(args.data)
    out = args.out or args.questionnaire.with_name(args.questionnaire.stem + "-report.html")
    # Checked before any work: never the questionnaire itself, never an existing file without --force.
    _check_output(out, args.force, inputs=(args.questionnaire,))
    toolbox.check_questionnaire_file(args.questionnaire)
    try:
        cat = toolbox.catalogue()
    except Exception as exc:  # noqa: BLE001
        _reraise_data(exc, args.data)
    q = toolbox.read_questionnaire(args.questionnaire, min_answered_share=args.min_answered_share, cat=cat)
    try:
        peers = toolbox.peer_data(cat, args.min_answered_share)
    except Exception as exc:  # noqa: BLE001
        _reraise_data(exc, args.data)
    a = toolbox.assess(q, min_answered_share=args.min_answered_share, groups=args.peers, peers=peers)
    if not args.quiet:
        for line in a.warning_lines():
            _err(line)
    report = toolbox.render_report(a, top=args.top)
    _write(out, report, force=args.force, inputs=(args.questionnaire,))
    s = a.summary()
    overall = s["overall_latest"]
    shown = f"{overall:.1f}" if overall == overall else toolbox.NOT_SCORED
    _say(
        f"wrote {out}: {q.name}, overall score {s['latest_year']}: {shown}"
        f"{' (peers from the synthetic twin)' if a.synthetic else ''}",
        args.quiet,
    )
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
        with warnings.catch_warnings():
            # Library warnings (with internal paths) are not for the user; --debug shows them.
            if not args.debug:
                warnings.simplefilter("ignore")
            if args.command == "questionnaire":
                return _questionnaire(args)
            return _assess(args)
    except Exception as exc:  # noqa: BLE001 - every failure is turned into an exit code
        from . import toolbox

        if isinstance(exc, toolbox.QuestionnaireError):
            for line in exc.lines():
                _err(line)
            n = len(exc.problems)
            _err(f"wholecomm: {n} problem{'s' if n != 1 else ''} in the questionnaire; nothing was written.")
            return EXIT_INVALID
        if isinstance(exc, UsageError):
            _err(f"wholecomm: {exc}")
            if args.debug and exc.__cause__ is not None:
                traceback.print_exception(exc.__cause__)
            return EXIT_INVALID
        if args.debug:
            traceback.print_exc()
        _err(
            f"wholecomm: internal error ({type(exc).__name__}: {str(exc)[:300]}).\n"
            f"This is a fault in the toolbox, not in your questionnaire. Please report it at {_issues_url()} "
            "with the command you ran and, if you can share it, the questionnaire"
            f"{'' if args.debug else '; run again with --debug to include the full traceback'}."
        )
        return EXIT_INTERNAL
    finally:
        if saved is None:
            os.environ.pop("WHOLECOMM_DATA", None)
        else:
            os.environ["WHOLECOMM_DATA"] = saved


if __name__ == "__main__":
    sys.exit(main())
