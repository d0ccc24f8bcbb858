"""The questionnaire as a spreadsheet: the blank workbook with drop-down lists, and reading a
filled-in workbook back with every problem named by sheet, row and column."""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

from .. import index
from .blank import example_questionnaire
from .catalogue import (
    FIELD_WORDS,
    LOCALITY_FIELDS,
    MAX_FILE_BYTES,
    MAX_TEXT_CHARS,
    MAX_YEARS,
    YEAR_RANGE,
    Catalogue,
    Cell,
    QuestionnaireError,
    _short,
    area_label,
    catalogue,
    choice_label,
    rule_text,
)
from .questionnaire import Questionnaire, _build_questionnaire, read_questionnaire, unknown_value

# ------------------------------------------------------------------- workbook
#: Sheet names of the questionnaire workbook, in order.
SHEETS = ("Instructions", "Locality", "Answers", "Lists")
#: The answer that means "not answered" in the workbook's drop-down lists.
DONT_KNOW = "Don't know"
#: Answer columns in a blank workbook (one year each; extra ones may stay empty).
BLANK_YEAR_COLUMNS = 3
#: Column of the first answer column on the Answers sheet (column E).
FIRST_ANSWER_COL = 5
#: Row of the first question on the Answers sheet.
FIRST_QUESTION_ROW = 3


def questionnaire_workbook(
    example: bool = False,
    q: Questionnaire | None = None,
    min_answered_share: float = index.MIN_ANSWERED_SHARE,
) -> bytes:
    """The questionnaire as an Excel workbook (bytes), generated from the indicator catalogue.

    Sheets: *Instructions* (how to fill it in), *Locality* (name and drop-downs for
    country, size class and locality type), *Answers* (one row per question: area,
    indicator, stage, question, then one column per assessment year with a drop-down of
    the answer texts and "Don't know"), and a hidden *Lists* sheet holding the drop-down
    lists. ``example`` fills in the bundled fictional example; ``q`` fills in a checked
    questionnaire. :func:`read_workbook` reads it back.
    """
    from openpyxl import Workbook

    if example and q is None:
        q = read_questionnaire(example_questionnaire(), min_answered_share)
    cat = catalogue()
    wb = Workbook()
    _instructions_sheet(wb, cat, rule_text(cat.area_sizes(), min_answered_share))
    list_ranges = _lists_sheet(wb, cat)
    _locality_sheet(wb, q, list_ranges)
    _answers_sheet(wb, q, cat, list_ranges)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _styles() -> dict:
    from openpyxl.styles import Alignment, Font, PatternFill

    return {
        "bold": Font(bold=True),
        "head_fill": PatternFill("solid", fgColor="DDE8F3"),
        "input_fill": PatternFill("solid", fgColor="FFF6D5"),
        "wrap": Alignment(wrap_text=True, vertical="top"),
    }


def _instructions_sheet(wb, cat: Catalogue, rule: str) -> None:
    """The first sheet: how to fill in the workbook."""
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    ins = wb.active
    ins.title = SHEETS[0]
    lines = [
        (
            "MIPEX-L-style self-evaluation questionnaire (Whole-COMM research companion pilot)",
            Font(bold=True, size=14),
        ),
        (
            "This book's own pilot questionnaire, modelled on MIPEX and MIPEX-R: not the Whole-COMM toolbox and "
            "not MIPEX-L (whose indicators are not public).",
            None,
        ),
        ("", None),
        ("How to fill it in", bold),
        (
            "1. On the sheet Locality, type the municipality's name and choose its country, size class and "
            "locality type from the lists (yellow cells).",
            None,
        ),
        (
            "2. On the sheet Answers, type the year the answers describe in the yellow cell above the answer "
            "column (row 2), then choose one answer per question from the list in its cell.",
            None,
        ),
        (
            f'3. When you do not know an answer, choose "{DONT_KNOW}" or leave the cell empty. It counts as not '
            f"answered, never as 0: an area is scored only when {rule} are answered, and the overall score only "
            "when every area is scored.",
            None,
        ),
        (
            "4. To monitor change over time, fill in the next answer column for another year (its year in row 2). "
            "Leave unused columns empty. Each year may appear only once.",
            None,
        ),
        (
            "5. Save the file (keep the .xlsx format), then run:   wholecomm assess this-file.xlsx --out "
            "report.html",
            None,
        ),
        ("", None),
        (
            "Do not rename the sheets or move the rows; the indicator codes in column B tell the toolbox which "
            "question a row answers.",
            None,
        ),
        (
            f"{len(cat.ids)} questions in {len(cat.areas)} policy areas. Answer texts and their scores (0-100) are "
            "listed on the sheet Answers, next to each question.",
            None,
        ),
    ]
    for k, (text, font) in enumerate(lines, start=1):
        c = ins.cell(row=k, column=1, value=text)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        if font is not None:
            c.font = font
    ins.column_dimensions["A"].width = 110


def _lists_sheet(wb, cat: Catalogue) -> dict[str, str]:
    """The hidden sheet of drop-down lists; returns the cell range of each list."""
    from openpyxl.utils import get_column_letter, quote_sheetname

    lst = wb.create_sheet(SHEETS[3])
    lst.sheet_state = "hidden"
    lists = [
        (name, [choice_label(name, v) for v in cat.allowed[name]])
        for name in ("country", "size_class", "locality_type")
    ]
    lists += [
        (ind, [*cat.options.loc[cat.options["indicator_id"] == ind, "answer_text"].astype(str), DONT_KNOW])
        for ind in cat.ids
    ]
    list_ranges = {}
    for col, (key, items) in enumerate(lists, start=1):
        letter = get_column_letter(col)
        lst.cell(row=1, column=col, value=key)
        for r, item in enumerate(items, start=2):
            lst.cell(row=r, column=col, value=item)
        list_ranges[key] = f"{quote_sheetname(SHEETS[3])}!${letter}$2:${letter}${len(items) + 1}"
    return list_ranges


def _list_validation(formula: str, title: str, error: str):
    from openpyxl.worksheet.datavalidation import DataValidation

    return DataValidation(
        type="list",
        formula1=f"={formula}",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=title,
        error=error,
    )


def _locality_sheet(wb, q: Questionnaire | None, list_ranges: dict[str, str]) -> None:
    """The sheet of the locality's name and attributes (drop-downs)."""
    st = _styles()
    bold, head_fill, input_fill, wrap = st["bold"], st["head_fill"], st["input_fill"], st["wrap"]
    loc = wb.create_sheet(SHEETS[1], 1)
    loc.append(["Field", "Value", "How to fill it in"])
    helps = {
        "name": "Free text, as the report should show it",
        "country": "Choose from the list",
        "size_class": "Choose from the list (inhabitants)",
        "locality_type": "thriving = economy improved or stable over five years and unemployment below 10%, "
        "otherwise struggling; experienced = foreign-born share at least 5% in 2014, "
        "otherwise new",
    }
    for k, name in enumerate(LOCALITY_FIELDS, start=2):
        value = None
        if q is not None:
            value = q.name if name == "name" else choice_label(name, getattr(q, name))
        loc.cell(row=k, column=1, value=name).font = bold
        cell = loc.cell(row=k, column=2, value=value)
        cell.fill = input_fill
        loc.cell(row=k, column=3, value=helps[name]).alignment = wrap
        if name in list_ranges:
            dv = _list_validation(list_ranges[name], "Not in the list", "Choose a value from the list.")
            loc.add_data_validation(dv)
            dv.add(cell)
    for c in loc[1]:
        c.font, c.fill = bold, head_fill
    loc.column_dimensions["A"].width = 16
    loc.column_dimensions["B"].width = 44
    loc.column_dimensions["C"].width = 70


def _answers_sheet(wb, q: Questionnaire | None, cat: Catalogue, list_ranges: dict[str, str]) -> None:
    """The sheet of questions, one row each, with one answer column per year."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    st = _styles()
    bold, head_fill, input_fill, wrap = st["bold"], st["head_fill"], st["input_fill"], st["wrap"]
    ans = wb.create_sheet(SHEETS[2], 2)
    years = list(q.years) if q is not None else [None] * BLANK_YEAR_COLUMNS
    heads = ["Policy area", "Indicator", "Stage", "Question"]
    ans.append(heads + [f"Answer ({k})" for k in range(1, len(years) + 1)] + ["Answer options (score)"])
    ans.append(["", "", "", "Year the answers describe →"] + [y for y in years] + [""])
    for c in ans[1]:
        c.font, c.fill = bold, head_fill
        c.alignment = wrap
    ans.cell(row=2, column=4).font = bold
    given = {}
    if q is not None:
        given = {
            (int(r.year), r.indicator_id): r.answer_code
            for r in q.answers.itertuples(index=False)
            if isinstance(r.answer_code, str)
        }
    text_of = {(r.indicator_id, r.answer_code): r.answer_text for r in cat.options.itertuples(index=False)}
    for k in range(len(years)):
        cell = ans.cell(row=2, column=FIRST_ANSWER_COL + k)
        cell.fill = input_fill
        cell.font = bold
    year_dv = DataValidation(
        type="whole",
        operator="between",
        formula1=str(YEAR_RANGE[0]),
        formula2=str(YEAR_RANGE[1]),
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Not a year",
        error=f"Type a year from {YEAR_RANGE[0]} to {YEAR_RANGE[1]}.",
    )
    ans.add_data_validation(year_dv)
    year_dv.add(
        f"{get_column_letter(FIRST_ANSWER_COL)}2:{get_column_letter(FIRST_ANSWER_COL + len(years) - 1)}2"
    )
    last_col = FIRST_ANSWER_COL + len(years) - 1
    for r, row in enumerate(cat.indicators.itertuples(index=False), start=FIRST_QUESTION_ROW):
        opts = cat.options[cat.options["indicator_id"] == row.indicator_id]
        ans.cell(row=r, column=1, value=area_label(row.area))
        ans.cell(row=r, column=2, value=row.indicator_id)
        ans.cell(row=r, column=3, value=index.STAGE_LABELS.get(row.stage, row.stage))
        ans.cell(row=r, column=4, value=row.question).alignment = wrap
        for k, year in enumerate(years):
            code = given.get((year, row.indicator_id)) if year is not None else None
            cell = ans.cell(
                row=r, column=FIRST_ANSWER_COL + k, value=text_of[(row.indicator_id, code)] if code else None
            )
            cell.fill = input_fill
            cell.alignment = wrap
        ans.cell(
            row=r,
            column=last_col + 1,
            value="\n".join(
                f"{t} ({int(sc)})" for t, sc in zip(opts["answer_text"], opts["score"], strict=False)
            ),
        ).alignment = wrap
        dv = _list_validation(
            list_ranges[row.indicator_id],
            "Not an answer option",
            f"Choose one of the answers in the list, or {DONT_KNOW}.",
        )
        ans.add_data_validation(dv)
        dv.add(f"{get_column_letter(FIRST_ANSWER_COL)}{r}:{get_column_letter(last_col)}{r}")
    widths = {"A": 22, "B": 10, "C": 12, "D": 60}
    for letter, w in widths.items():
        ans.column_dimensions[letter].width = w
    for k in range(len(years)):
        ans.column_dimensions[get_column_letter(FIRST_ANSWER_COL + k)].width = 40
    ans.column_dimensions[get_column_letter(last_col + 1)].width = 60
    ans.freeze_panes = "E3"


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _open_workbook(path: Path, source: str):
    """The workbook opened read-only, or a QuestionnaireError naming why it cannot be read."""
    import zipfile

    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
        if unpacked > 20 * MAX_FILE_BYTES:
            raise QuestionnaireError(
                [
                    (
                        None,
                        f"the workbook unpacks to {unpacked:,} bytes; at most "
                        f"{20 * MAX_FILE_BYTES:,}: is this the right file?",
                    )
                ],
                source,
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_workbook(path, read_only=True, data_only=True)
    except QuestionnaireError:
        raise
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's to fix
        raise QuestionnaireError(
            [
                (
                    None,
                    f"cannot be read as an Excel workbook (.xlsx): "
                    f"{_short(str(exc) or type(exc).__name__, 120)}",
                )
            ],
            source,
        ) from None


def _is_dont_know(text: str) -> bool:
    return text.casefold() in (DONT_KNOW.casefold(), "dont know", "don’t know")


class _WorkbookReader:
    """Reads the sheets of one open questionnaire workbook, collecting every problem with
    its sheet, row and column."""

    def __init__(self, wb, cat: Catalogue):
        self.wb = wb
        self.cat = cat
        self.sheet_no = {name: k for k, name in enumerate(wb.sheetnames)}
        self.problems: list = []

    def where(self, sheet: str, row: int, col: int) -> Cell:
        from openpyxl.utils import get_column_letter

        return Cell(sheet, row, get_column_letter(col), self.sheet_no[sheet])

    def text_at(self, sheet: str, row: int, col: int, value, what: str) -> str | None:
        """The cell's text; None when empty or too long (a problem)."""
        text = _cell_text(value)
        if text is not None and len(text) > MAX_TEXT_CHARS:
            self.problems.append(
                (
                    self.where(sheet, row, col),
                    f"{what} is too long ({len(text):,} characters; at most {MAX_TEXT_CHARS})",
                )
            )
            return None
        return text

    # -- locality
    def locality(self) -> dict:
        sheet = SHEETS[1]
        rows = list(self.wb[sheet].iter_rows(min_row=1, max_row=50, max_col=3, values_only=True))
        loc = dict.fromkeys(LOCALITY_FIELDS)
        found = {}
        for r, row in enumerate(rows, start=1):
            key = _cell_text(row[0]) if row else None
            if key in LOCALITY_FIELDS:
                found[key] = (r, row[1] if len(row) > 1 else None)
        for name in LOCALITY_FIELDS:
            if name not in found:
                self.problems.append(
                    (Cell(sheet, 1, "A", self.sheet_no[sheet]), f"the row '{name}' is missing")
                )
                continue
            r, value = found[name]
            loc[name] = self.locality_value(name, r, value)
        return loc

    def locality_value(self, name: str, r: int, value) -> str | None:
        cat, sheet = self.cat, SHEETS[1]
        text = self.text_at(sheet, r, 2, value, f"locality {name}")
        if text is None:
            if _cell_text(value) is None:
                extra = f": choose one of {', '.join(cat.allowed[name])}" if name in cat.allowed else ""
                self.problems.append((self.where(sheet, r, 2), f"locality {name} is empty{extra}"))
            return None
        if name not in cat.allowed:
            return text
        choices = {choice_label(name, v): v for v in cat.allowed[name]}
        code = text if text in cat.allowed[name] else choices.get(text)
        if code is None:
            self.problems.append(
                (
                    self.where(sheet, r, 2),
                    unknown_value(
                        FIELD_WORDS[name],
                        text,
                        cat.allowed[name],
                        f": choose one of {', '.join(cat.allowed[name])}",
                    ),
                )
            )
        return code

    # -- answers
    def answer_columns(self, header) -> list[int]:
        cols = [
            c
            for c in range(FIRST_ANSWER_COL, len(header) + 1)
            if str(_cell_text(header[c - 1]) or "").startswith("Answer (")
        ]
        if len(cols) > MAX_YEARS:
            self.problems.append(
                (self.where(SHEETS[2], 1, cols[MAX_YEARS]), f"at most {MAX_YEARS} answer columns")
            )
            cols = cols[:MAX_YEARS]
        return cols

    def indicator_rows(self, grid: list, answer_cols: list[int]) -> dict[str, int]:
        """Row of each indicator code on the Answers sheet."""
        sheet, known = SHEETS[2], set(self.cat.ids)
        by_ind: dict[str, int] = {}
        for r in range(FIRST_QUESTION_ROW, len(grid) + 1):
            row = grid[r - 1]
            ind = _cell_text(row[1]) if len(row) > 1 else None
            problem = None
            if ind is None:
                if any(_cell_text(row[c - 1]) for c in answer_cols if c - 1 < len(row)):
                    problem = "an answer is given on a row without an indicator code"
            elif ind not in known:
                problem = unknown_value("indicator", ind, self.cat.ids, ": not in the MIPEX-L catalogue")
            elif ind in by_ind:
                problem = f"{ind} appears twice (first on row {by_ind[ind]})"
            else:
                by_ind[ind] = r
            if problem:
                self.problems.append((self.where(sheet, r, 2), problem))
        return by_ind

    def year(self, c: int, year_text: str | None, year_value) -> int | None:
        sheet = SHEETS[2]
        if year_text is None:
            if _cell_text(year_value) is None:
                self.problems.append(
                    (
                        self.where(sheet, 2, c),
                        "this answer column has answers but no year: type the year the answers describe",
                    )
                )
            return None
        if not re.fullmatch(r"[0-9]{4}", year_text) or not (YEAR_RANGE[0] <= int(year_text) <= YEAR_RANGE[1]):
            self.problems.append(
                (
                    self.where(sheet, 2, c),
                    f"year '{_short(year_text)}' must be a four-digit year from {YEAR_RANGE[0]} to {YEAR_RANGE[1]}",
                )
            )
            return None
        return int(year_text)

    def answer(self, ind: str, r: int, c: int, value, options: dict) -> tuple | None:
        """(code or None, cell) of one answer cell; None when the cell is a problem."""
        sheet = SHEETS[2]
        cell = self.where(sheet, r, c)
        text = self.text_at(sheet, r, c, value, f"the answer for {ind}")
        if text is None:
            return (None, cell) if _cell_text(value) is None else None
        if _is_dont_know(text):
            return (None, cell)
        code = options[ind].get(text.casefold())
        if code is None and text in self.cat.codes(ind):
            code = text  # the letter of the option, as in the YAML questionnaire
        if code is None:
            self.problems.append(
                (
                    cell,
                    f"'{_short(text)}' is not an answer option for {ind}: choose one from the list, or {DONT_KNOW}",
                )
            )
            return None
        return (code, cell)

    def entries(self) -> list:
        """One (year, cell, answers, cell) entry per used answer column."""
        sheet = SHEETS[2]
        grid = list(self.wb[sheet].iter_rows(min_row=1, max_row=len(self.cat.ids) + 200, values_only=True))
        header = grid[0] if grid else ()
        year_row = grid[1] if len(grid) > 1 else ()
        answer_cols = self.answer_columns(header)
        by_ind = self.indicator_rows(grid, answer_cols)
        options: dict[str, dict] = {}
        for o in self.cat.options.itertuples(index=False):
            options.setdefault(str(o.indicator_id), {})[str(o.answer_text).strip().casefold()] = o.answer_code
        entries = []
        for c in answer_cols:
            col_values = {
                ind: (grid[r - 1][c - 1] if c - 1 < len(grid[r - 1]) else None) for ind, r in by_ind.items()
            }
            year_value = year_row[c - 1] if c - 1 < len(year_row) else None
            any_answer = any(
                (text := _cell_text(v)) is not None and text.casefold() != DONT_KNOW.casefold()
                for v in col_values.values()
            )
            year_text = self.text_at(sheet, 2, c, year_value, "the year")
            if year_text is None and not any_answer:
                continue  # an unused answer column
            year = self.year(c, year_text, year_value)
            given = {}
            for ind, r in by_ind.items():
                got = self.answer(ind, r, c, col_values[ind], options)
                if got is not None:
                    given[ind] = got
            entries.append((year, self.where(sheet, 2, c), given, self.where(sheet, 2, c)))
        if not entries and not self.problems:
            self.problems.append(
                (
                    self.where(sheet, 2, FIRST_ANSWER_COL),
                    "no answers: type the year in row 2 and answer the questions below it",
                )
            )
        return entries


def read_workbook(
    path, min_answered_share: float = index.MIN_ANSWERED_SHARE, cat: Catalogue | None = None
) -> Questionnaire:
    """Read and check a questionnaire workbook (:func:`questionnaire_workbook`); problems
    name the sheet, row and column of the cell. ``cat`` = the catalogue in use, when the
    caller already has it."""
    path = Path(path)
    source = str(path)
    wb = _open_workbook(path, source)
    try:
        missing = [name for name in SHEETS[1:3] if name not in wb.sheetnames]
        if missing:
            raise QuestionnaireError(
                [
                    (
                        None,
                        f"the sheet{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                        "is missing: start from `wholecomm questionnaire --format xlsx` and do "
                        "not rename its sheets",
                    )
                ],
                source,
            )
        reader = _WorkbookReader(wb, catalogue() if cat is None else cat)
        loc = reader.locality()
        entries = reader.entries()
    finally:
        wb.close()
    return _build_questionnaire(loc, entries, reader.cat, reader.problems, [], source, min_answered_share)
