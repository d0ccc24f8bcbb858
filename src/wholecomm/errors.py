"""The one base class of the errors raised on bad input.

Every function that checks what a user hands it (the data package, a table passed to an
analysis, a questionnaire) raises a subclass of :class:`InputError`, so a caller can catch
bad input in one place and tell it apart from a fault in the code. The message always names
the file or table, the column or field, the rows and the rule that was broken.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: the message names the file or table, the column, the rows and the rule."""
