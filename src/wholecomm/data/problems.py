"""Problems found in the data and the one error that reports them all (:class:`~wholecomm.data.problems.DataError`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..errors import InputError

#: Longest excerpt of a cell quoted in a message.
EXCERPT_CHARS = 40


def excerpt(value, limit: int = EXCERPT_CHARS) -> str:
    """A cell as it may appear in a message: escaped (``repr``) and at most ``limit`` characters."""
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


# --------------------------------------------------------------------------- errors
@dataclass
class Problem:
    """One broken rule in one file."""

    file: Path
    rule: str
    columns: tuple[str, ...] = ()
    rows: tuple[int, ...] = ()
    detail: str = ""
    n_rows: int | None = None  # the number of lines when ``rows`` lists only the first ones

    def describe(self, max_rows: int = 10) -> str:
        where = []
        if self.columns:
            label = "column" if len(self.columns) == 1 else "columns"
            where.append(f"{label} {', '.join(excerpt(c) for c in self.columns)}")
        if self.rows:
            total = self.n_rows if self.n_rows is not None else len(self.rows)
            shown = ", ".join(str(r) for r in self.rows[:max_rows])
            more = f" and {total - min(max_rows, len(self.rows))} more" if total > max_rows else ""
            noun = "line" if total == 1 else "lines"
            where.append(f"{noun} {shown}{more} ({total} in all)")
        loc = "; ".join(where) if where else "whole file"
        text = f"{self.file}: {loc}: broken rule: {self.rule}"
        if self.detail:
            text += f". {self.detail}"
        return text


def _advice(problems: list[Problem]) -> str:
    try:
        book = paths.book_data_dir().resolve()
        user = paths.uses_user_data()
    except Exception:  # noqa: BLE001 - advice must never hide the problems
        return "Fix the file(s) named above and run again."
    if not user and all(Path(p.file).resolve().is_relative_to(book) for p in problems):
        return (
            "These are the book's own files (the synthetic twin): restore them (`git checkout data/`) "
            "or regenerate them with `make data`."
        )
    return (
        f"Fix the file(s) named above in your data folder ({paths.DATA_ENV}={paths.data_dir()}) and run "
        f"again, or unset {paths.DATA_ENV} to use the book's synthetic twin."
    )


class DataError(InputError):
    """Bad input data. ``problems`` lists each broken rule with file, columns and rows."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {p.describe()}" for p in problems)
        super().__init__(
            f"The data failed validation ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}); nothing was dropped or corrected:\n{lines}\n"
            f"What to do: {_advice(problems)}"
        )

    @property
    def files(self) -> list[str]:
        return sorted({str(p.file) for p in self.problems})
