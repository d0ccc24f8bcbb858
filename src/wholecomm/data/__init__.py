"""The data layer: one entry point, :func:`~wholecomm.data.loading.load`, that returns validated, typed DataFrames.

Every resource is described in ``datapackage.json`` (a Frictionless data package):
fields, types, units, constraints, primary and foreign keys, provenance and sha256.
On first use the whole package is validated, and the frames the analyses get are the
frames that were validated: the validator and the reader are one parse path.

1. **Descriptor.** The book's ``data/datapackage.json`` is the contract. A user's data
   folder may hold its own ``datapackage.json``; it may say how the files are written
   (``encoding``, ``dialect`` delimiter and quote character, ``missingValues``,
   ``trueValues``/``falseValues``, ``decimalChar``) and carry descriptive metadata,
   but every field, type, constraint, primary key and foreign key must be the book's.
   All differences are listed in one :class:`~wholecomm.data.problems.DataError`. Every resource ``path`` must
   be a relative path that resolves inside the data folder (no absolute path, no
   ``..``, no symbolic link leaving the folder, no list of files).
2. **File structure**, checked on the bytes: the declared encoding; no control
   characters (NUL, ...; a tab only as the delimiter); quotes only around whole fields
   and closed; the same number of fields on every line as in the header; no blank lines
   between rows (blank lines at the very end are not rows and are ignored); a header
   naming each of the book's columns once (in any order); at least one row; the sha256
   checksum when the package records one.
3. **Values**, one rule for every field: a value is used exactly as written. Leading or
   trailing whitespace is an error, never trimmed; a cell equal to one of the
   resource's missing-value markers (default: empty) is missing. Integers are ASCII
   digits with an optional sign and must fit in 64 bits; numbers are decimal literals
   (finite); booleans are one of the field's true/false values; then ``required``,
   ``enum``, ``minimum``/``maximum``, ``pattern``, ``minLength``/``maxLength``,
   ``unique``.
4. **Keys**: primary keys unique and complete; foreign keys resolved (grouped per column,
   with a count and the first values and lines); checked only when the referenced file is
   itself valid, so one broken file is reported once.
5. **Cross-field rules** that a column schema cannot express (listed in ``ROW_RULES``).

Any failure raises :class:`~wholecomm.data.problems.DataError` naming the file, the columns, the physical line
numbers of the file (the header being line 1, a quoted line break counting as a line),
the broken rule and what to do; cell values are quoted as short escaped excerpts.
Nothing is dropped, coerced, trimmed or filled.

Validated frames are cached (a pickle per state, keyed by the sha256 of every file, the
effective descriptor and the code of this package) in ``_build/data-cache`` of the book, or in
``$WHOLECOMM_DATA_CACHE`` (``off`` disables it): the build validates once and every
notebook kernel and the ``wholecomm`` command reuse the result. Writes are atomic, so
concurrent kernels never read a partial file.

To run the book on other files (for example the real data), set ``WHOLECOMM_DATA`` to a
directory holding CSV files with the same names and columns. Without its own
``datapackage.json`` the book's schema applies (UTF-8, comma-separated, empty cells
missing) and checksums are not checked. Published reference resources missing from that
directory are taken from the book's own package. Resources of a user's package that are
not part of the book's are not read.
"""

from .cache import CACHE_ENV, CACHE_VERSION, cache_dir
from .contract import FALSE_VALUES, MISSING_VALUES, TRUE_VALUES
from .descriptor import descriptor, resource_descriptor, resource_names
from .disclosure import MIN_CELL_DEFAULT, assert_disclosure_safe, disclosed_count, suppress_small_cells
from .loading import _MEMO, field_labels, load, load_all, load_resources, main
from .problems import DataError, Problem, excerpt
from .provenance import data_words, is_synthetic, provenance, provenance_notice
from .rules import CONTACT_SETTINGS, ROW_RULES, SIZE_BOUNDS, locality_type, row_rule
from .structure import codec_name, sha256
from .values import _typed

__all__ = [
    "CACHE_ENV",
    "CACHE_VERSION",
    "CONTACT_SETTINGS",
    "FALSE_VALUES",
    "MIN_CELL_DEFAULT",
    "MISSING_VALUES",
    "ROW_RULES",
    "SIZE_BOUNDS",
    "TRUE_VALUES",
    "DataError",
    "Problem",
    "_MEMO",
    "_typed",
    "assert_disclosure_safe",
    "cache_dir",
    "codec_name",
    "data_words",
    "descriptor",
    "disclosed_count",
    "excerpt",
    "field_labels",
    "is_synthetic",
    "load",
    "load_all",
    "load_resources",
    "locality_type",
    "main",
    "provenance",
    "provenance_notice",
    "resource_descriptor",
    "resource_names",
    "row_rule",
    "sha256",
    "suppress_small_cells",
]
