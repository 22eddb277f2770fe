"""Reading articles to import: JSON Lines, a JSON array, plain .txt files. Pure: no Django.

Every way in (the ``import_articles`` command, the import page, the API) parses here, so an
article looks the same whichever way it came: canonical text (see :mod:`annotate.text`),
trimmed one-line title, checked id, URL, date and meta. Parsing never stops at the first
problem: it collects every error with where it is (``line`` of a JSON Lines file, ``index``
of a JSON array item, ``file`` of a folder) so one round of fixes is enough, and the caller
writes nothing unless the list is empty.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any, Literal, TypedDict
from urllib.parse import urlsplit

from .inputs import InputError, json_problem, parse_datetime
from .text import TextError, canonicalize

Format = Literal["jsonl", "json", "txt"]
FORMATS: tuple[Format, ...] = ("jsonl", "json", "txt")
EXTENSIONS: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".txt": "txt",
}
FIELDS = ("external_id", "title", "text", "url", "published_at", "meta")
# The database columns' lengths (annotate.models.Article).
MAX_EXTERNAL_ID = 200
MAX_TITLE = 500
MAX_URL = 2000
MAX_META_DEPTH = 32

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Limits:
    """Caps on one import. `None` means no cap (the command reads local files of any size)."""

    max_chars: int = 200_000
    max_items: int | None = 20_000
    max_bytes: int | None = 20 * 1024 * 1024


class ArticleRecord(TypedDict):
    external_id: str
    title: str
    text: str
    url: str
    published_at: datetime | None
    meta: dict[str, Any]


@dataclass(frozen=True)
class Issue:
    """One problem, and where: a line (JSON Lines), an index (JSON array) or a file."""

    detail: str
    line: int | None = None
    index: int | None = None
    file: str | None = None

    def __str__(self) -> str:
        if self.file is not None:
            where = self.file if self.line is None else f"{self.file}, line {self.line}"
            return f"{where}: {self.detail}"
        if self.line is not None:
            return f"line {self.line}: {self.detail}"
        if self.index is not None:
            return f"index {self.index}: {self.detail}"
        return self.detail

    def as_dict(self) -> dict[str, object]:
        """The API's error shape: {"line" | "index" | "file", "detail"}."""
        where = {"file": self.file, "line": self.line, "index": self.index}
        return {**{k: v for k, v in where.items() if v is not None}, "detail": self.detail}


@dataclass
class ParseResult:
    records: list[ArticleRecord] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    format: Format | None = None
    too_large: bool = False  # the upload is over `max_bytes`: HTTP 413 rather than 400

    @property
    def ok(self) -> bool:
        return not self.errors


class _Invalid(Exception):
    """A field that cannot be imported; the message completes "<where>: ..."."""


# --- format detection -------------------------------------------------------------------


def detect_format(name: str, data: bytes | str) -> Format:
    """By file extension first (.jsonl/.ndjson, .json, .txt), otherwise by content: a JSON
    array is ``json``; an object per line is ``jsonl``; a single (possibly pretty-printed)
    object is ``json``; anything else is plain text."""
    by_name = EXTENSIONS.get(PurePath(name).suffix.lower()) if name else None
    if by_name == "txt":
        return "txt"
    head = data[:4096]
    if isinstance(head, bytes):
        head = head.decode("utf-8", "replace")
    head = head.lstrip("\ufeff \t\r\n")
    if head.startswith("["):
        return "json"
    if head.startswith("{"):
        first_line = _first_nonblank_line(data)
        try:
            json.loads(first_line)
        except ValueError:
            # The first line alone is not a whole object: one pretty-printed object, unless
            # the extension says JSON Lines (then the line is simply broken).
            return by_name if by_name == "jsonl" else "json"
        except RecursionError:
            return by_name or "jsonl"  # whichever parser runs reports "nested too deeply"
        return "jsonl"
    return by_name or "txt"


def _first_nonblank_line(data: bytes | str) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    for line in text.lstrip("\ufeff").split("\n"):
        if line.strip():
            return line
    return ""


# --- entry points -----------------------------------------------------------------------


def parse(
    data: bytes | str,
    *,
    name: str = "",
    format: Format | Literal["auto"] = "auto",
    limits: Limits = Limits(),  # noqa: B008 - frozen, so sharing the default is safe
    progress: Progress | None = None,
) -> ParseResult:
    """Parse one upload or file into article records, or every error found in it.

    `name` is the file name, used to guess the format and, for .txt, as the external id.
    `progress`, if given, is called with the number of items parsed since its last call.
    """
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if limits.max_bytes is not None and size > limits.max_bytes:
        return ParseResult(
            errors=[
                Issue(
                    f"the upload is {human_bytes(size)}; the limit is "
                    f"{human_bytes(limits.max_bytes)} (MAX_UPLOAD_BYTES). "
                    "Split it into smaller files."
                )
            ],
            too_large=True,
        )
    fmt: Format = detect_format(name, data) if format == "auto" else format
    if fmt not in FORMATS:
        return ParseResult(errors=[Issue(f"unknown format {format!r}; use jsonl, json or txt")])
    if fmt == "txt":
        result = parse_txt(data, name=name or "article.txt", limits=limits)
    elif fmt == "jsonl":
        result = parse_jsonl(data, limits=limits, progress=progress)
    else:
        result = parse_json(data, limits=limits, progress=progress)
    result.format = fmt
    return result


def parse_jsonl(
    data: bytes | str,
    *,
    limits: Limits = Limits(),  # noqa: B008
    progress: Progress | None = None,
) -> ParseResult:
    """JSON Lines: one article object per line; blank lines are ignored. Errors name the
    line (counted from 1, blank lines included, as an editor shows them)."""
    result = ParseResult(format="jsonl")
    seen: dict[str, Issue] = {}
    items = 0
    for number, obj in read_jsonl(data):
        if isinstance(obj, Issue):
            result.errors.append(obj)
            continue
        items += 1
        if limits.max_items is not None and items > limits.max_items:
            result.errors.append(_too_many(limits.max_items, line=number))
            break
        _take(result, obj, seen, Issue("", line=number), limits, noun="each line")
        if progress is not None:
            progress(1)
    if not result.records and not result.errors:
        result.errors.append(Issue("no articles found: the file is empty"))
    return result


def read_jsonl(data: bytes | str) -> Iterator[tuple[int, object]]:
    """Each non-blank line of a JSON Lines upload as ``(line number, decoded value)``, or
    ``(line number, Issue)`` when the line is not valid UTF-8 or not valid JSON (NaN and
    Infinity included). Lines count from 1, blank ones included, as an editor shows them;
    a leading byte order mark is ignored. Shared by every JSON Lines upload (articles,
    predictions)."""
    if isinstance(data, bytes):
        # Not valid UTF-8: decoded line by line below, so that each bad line is named.
        with contextlib.suppress(UnicodeDecodeError):
            data = data.decode("utf-8")
    raw_lines: Iterable[bytes | str]
    if isinstance(data, bytes):
        raw_lines = data.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    else:
        raw_lines = data.removeprefix("\ufeff").split("\n")
    for number, raw in enumerate(raw_lines, start=1):
        if isinstance(raw, bytes):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                column = len(raw[: exc.start].decode("utf-8", "replace")) + 1
                yield (
                    number,
                    Issue(
                        f"not valid UTF-8 at column {column} (byte 0x{raw[exc.start]:02x}); "
                        "save the file as UTF-8 and try again",
                        line=number,
                    ),
                )
                continue
        else:
            line = raw
        if not line.strip():
            continue
        try:
            yield number, _loads(line)
        except _Invalid as exc:
            yield number, Issue(str(exc), line=number)


def parse_json(
    data: bytes | str,
    *,
    limits: Limits = Limits(),  # noqa: B008
    progress: Progress | None = None,
) -> ParseResult:
    """A JSON array of article objects (or a single object). Errors name the item's index,
    counted from 0 as in the array; a syntax error names its line and column."""
    result = ParseResult(format="json")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            start = data.rfind(b"\n", 0, exc.start) + 1
            column = len(data[start : exc.start].decode("utf-8", "replace")) + 1
            result.errors.append(
                Issue(
                    f"not valid UTF-8 at column {column} (byte 0x{data[exc.start]:02x}); "
                    "save the file as UTF-8 and try again",
                    line=line,
                )
            )
            return result
    else:
        text = data
    text = text.removeprefix("\ufeff")
    if not text.strip():
        result.errors.append(Issue("no articles found: the file is empty"))
        return result
    try:
        parsed = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        result.errors.append(
            Issue(f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno)
        )
        return result
    except RecursionError:
        result.errors.append(Issue("not valid JSON: nested too deeply"))
        return result
    except ValueError as exc:
        result.errors.append(Issue(f"not valid JSON: {exc}"))
        return result
    if isinstance(parsed, dict):
        parsed = [parsed]
    if not isinstance(parsed, list):
        result.errors.append(
            Issue(f"expected a JSON array of article objects, got {_json_type(parsed)}")
        )
        return result
    if not parsed:
        result.errors.append(Issue("no articles found: the array is empty"))
        return result
    if limits.max_items is not None and len(parsed) > limits.max_items:
        result.errors.append(_too_many(limits.max_items, count=len(parsed)))
        return result
    seen: dict[str, Issue] = {}
    for index, obj in enumerate(parsed):
        _take(result, obj, seen, Issue("", index=index), limits, noun="each item")
        if progress is not None:
            progress(1)
    return result


def parse_txt(
    data: bytes | str,
    *,
    name: str,
    limits: Limits = Limits(),  # noqa: B008
) -> ParseResult:
    """One plain-text article: the external id is the file name without its extension, the
    title the first non-blank line, the text the whole content."""
    result = ParseResult(format="txt")
    where = Issue("", file=name)
    try:
        text = canonicalize(data, source=name)
    except TextError as exc:
        result.errors.append(_at(where, exc.reason))
        return result
    stem = PurePath(name).stem
    title = next((line.strip() for line in text.split("\n") if line.strip()), stem)
    obj = {"external_id": stem, "title": _shorten(title, MAX_TITLE), "text": text}
    _take(result, obj, {}, where, limits, noun="the file")
    return result


def parse_folder(
    folder: str | Path,
    *,
    limits: Limits = Limits(max_items=None, max_bytes=None),  # noqa: B008
    progress: Progress | None = None,
) -> ParseResult:
    """Every ``*.txt`` file directly in `folder` (sorted by name; hidden files and other
    extensions ignored), one article each, as :func:`parse_txt` reads it."""
    folder = Path(folder)
    result = ParseResult(format="txt")
    paths = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() == ".txt" and not p.name.startswith(".")
    )
    if not paths:
        result.errors.append(Issue(f"no .txt files in {folder}"))
        return result
    if limits.max_items is not None and len(paths) > limits.max_items:
        result.errors.append(_too_many(limits.max_items, count=len(paths)))
        return result
    seen: dict[str, str] = {}
    for path in paths:
        one = parse_txt(path.read_bytes(), name=path.name, limits=limits)
        result.errors.extend(one.errors)
        for record in one.records:
            first = seen.setdefault(record["external_id"], path.name)
            if first != path.name:
                result.errors.append(
                    Issue(
                        f"external_id {record['external_id']!r} is also the id of {first}",
                        file=path.name,
                    )
                )
            else:
                result.records.append(record)
        if progress is not None:
            progress(1)
    return result


def parse_record(obj: object, *, limits: Limits = Limits()) -> ArticleRecord:  # noqa: B008
    """Check and canonicalise one article object; raises ValueError with every problem of
    the object joined by "; " (the caller says where it is)."""
    problems: list[str] = []
    if not isinstance(obj, dict):
        raise ValueError(f"an article must be a JSON object, got {_json_type(obj)}")
    unknown = [key for key in obj if key not in _FIELD_SET]
    if unknown:
        problems.append(
            f"unknown field{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(k) for k in unknown)} "
            f"(the fields are {', '.join(FIELDS)}; put anything else under meta)"
        )
    record: dict[str, Any] = {}
    for key, check in _CHECKS:
        try:
            record[key] = check(obj.get(key), limits)
        except _Invalid as exc:
            problems.append(str(exc))
    if problems:
        raise ValueError("; ".join(problems))
    return record  # type: ignore[return-value]


def generated_id(text: str) -> str:
    """An external id for an article that came without one: derived from its canonical text,
    so pasting the same article twice finds it already there instead of duplicating it."""
    return "text-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# --- one item ---------------------------------------------------------------------------


def _take(
    result: ParseResult,
    obj: object,
    seen: dict[str, Issue],
    where: Issue,
    limits: Limits,
    *,
    noun: str,
) -> None:
    if not isinstance(obj, dict):
        result.errors.append(_at(where, f"{noun} must be a JSON object, got {_json_type(obj)}"))
        return
    try:
        record = parse_record(obj, limits=limits)
    except ValueError as exc:
        result.errors.append(_at(where, str(exc)))
        return
    first = seen.setdefault(record["external_id"], where)
    if first is not where:
        result.errors.append(
            _at(
                where,
                f"external_id {record['external_id']!r} appears twice "
                f"(first at {_where_short(first)})",
            )
        )
        return
    result.records.append(record)


def _external_id(value: object, limits: Limits) -> str:
    if value is None:
        raise _Invalid("missing external_id")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Invalid(f"external_id must be a string, got {_json_type(value)}")
    text = _one_line(str(value), "external_id")
    if not text:
        raise _Invalid("missing external_id (it is empty)")
    if len(text) > MAX_EXTERNAL_ID:
        raise _Invalid(f"external_id is longer than {MAX_EXTERNAL_ID} characters")
    # In ASCII the control characters (category Cc) are exactly the unprintable ones.
    if not text.isprintable() if text.isascii() else _has_control(text):
        raise _Invalid("external_id contains a control character")
    return text


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in text)


def _title(value: object, limits: Limits) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Invalid(f"title must be a string, got {_json_type(value)}")
    title = " ".join(_one_line(value, "title").split())
    if len(title) > MAX_TITLE:
        raise _Invalid(f"title is longer than {MAX_TITLE} characters ({len(title)})")
    return title


def _text(value: object, limits: Limits) -> str:
    if value is None:
        raise _Invalid("missing text")
    if not isinstance(value, str):
        raise _Invalid(f"text must be a string, got {_json_type(value)}")
    text = _canonical(value, "text")
    if not text.strip():
        raise _Invalid("text is empty")
    if len(text) > limits.max_chars:
        raise _Invalid(
            f"text is longer than {limits.max_chars} characters ({len(text)}; the limit is "
            "MAX_ARTICLE_CHARS)"
        )
    return text


def _url(value: object, limits: Limits) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise _Invalid(f"url must be a string, got {_json_type(value)}")
    url = value.strip()
    if len(url) > MAX_URL:
        raise _Invalid(f"url is longer than {MAX_URL} characters")
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.netloc
        or any(c.isspace() or unicodedata.category(c) in ("Cc", "Cs") for c in url)
    ):
        raise _Invalid(f"url is not an http(s) address: {_shorten(url, 80)!r}")
    return url


def _published_at(value: object, limits: Limits) -> datetime | None:
    try:
        return parse_datetime(value, name="published_at")
    except InputError as exc:
        raise _Invalid(str(exc).removesuffix(".")) from None


def _meta(value: object, limits: Limits) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Invalid(f"meta must be a JSON object, got {_json_type(value)}")
    # Meta goes into a JSON column: nothing either database refuses or mangles.
    problem = json_problem(value, max_depth=MAX_META_DEPTH)
    if problem:
        raise _Invalid(f"meta {problem}")
    return value


def _one_line(value: str, name: str) -> str:
    return _canonical(value, name).strip()


def _canonical(value: str, name: str) -> str:
    # ASCII without CR or NUL is already canonical (no BOM, no surrogate, NFC as it is):
    # the usual case, checked in a fraction of canonicalize's time.
    if value.isascii() and "\r" not in value and "\x00" not in value:
        return value
    try:
        return canonicalize(value)
    except TextError as exc:
        raise _Invalid(f"{name} {exc.reason}") from None


_CHECKS: tuple[tuple[str, Callable[[Any, Limits], object]], ...] = (
    ("external_id", _external_id),
    ("title", _title),
    ("text", _text),
    ("url", _url),
    ("published_at", _published_at),
    ("meta", _meta),
)
_FIELD_SET = frozenset(FIELDS)


# --- helpers ----------------------------------------------------------------------------


def _loads(line: str) -> object:
    try:
        if line.startswith("\ufeff"):
            return json.loads(line)  # its "Unexpected UTF-8 BOM" error
        return _DECODER.decode(line)
    except json.JSONDecodeError as exc:
        raise _Invalid(f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise _Invalid("not valid JSON: nested too deeply") from None
    except ValueError as exc:
        raise _Invalid(f"not valid JSON: {exc}") from None


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not allowed")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _at(where: Issue, detail: str) -> Issue:
    return Issue(detail, line=where.line, index=where.index, file=where.file)


def _where_short(where: Issue) -> str:
    return str(_at(where, "")).removesuffix(": ")


def _too_many(limit: int, *, line: int | None = None, count: int | None = None) -> Issue:
    found = f"{count} articles" if count is not None else f"more than {limit} articles"
    return Issue(
        f"{found} in one upload; the limit is {limit} (MAX_IMPORT_ITEMS). Split the file.",
        line=line,
    )


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def human_bytes(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def chunks(items: list[ArticleRecord], size: int) -> Iterator[list[ArticleRecord]]:
    """`items` in slices of `size` (all at once when `size` is 0)."""
    if size <= 0:
        yield items
        return
    for start in range(0, len(items), size):
        yield items[start : start + size]
