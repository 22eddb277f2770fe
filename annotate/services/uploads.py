"""The refusal of an upload as a whole (articles, datasets, predictions): every problem
listed with where it is, nothing written."""

from __future__ import annotations

from collections.abc import Sequence

from ..article_parsing import Issue
from .annotations import AnnotationError


class InvalidUpload(AnnotationError):
    """An upload refused as a whole: `issues` lists every problem and where it is (line,
    index, file); the message names the first and says that nothing was written."""

    status = 400
    nothing_written = "Nothing was written"

    def __init__(self, issues: Sequence[Issue]):
        self.issues = list(issues)
        first = str(self.issues[0]) if self.issues else "invalid input"
        more = len(self.issues) - 1
        detail = f"{self.nothing_written}: {first}"
        if more:
            detail += f" (and {more} more error{'s' if more > 1 else ''})"
        super().__init__(detail, errors=[issue.as_dict() for issue in self.issues])
