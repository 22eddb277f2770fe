"""Canonical article text. Pure: no Django.

Every offset in the system indexes the canonical form, so every way in (import command,
upload page, API) goes through :func:`canonicalize` and nothing else.
"""

from __future__ import annotations

import unicodedata


class TextError(ValueError):
    """Text that cannot become canonical; the message says where and why.

    `reason` is the message without its leading source name, for callers that say where
    themselves (an import names the line or item of a batch).
    """

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


def decode_utf8(data: bytes, *, source: str = "input") -> str:
    """Decode UTF-8 strictly, naming the line and column of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        reason = (
            f"not valid UTF-8 at line {line}, column {column} "
            f"(byte 0x{data[exc.start]:02x}); save the file as UTF-8 and try again"
        )
        raise TextError(f"{source}: {reason}", reason=reason) from None


def canonicalize(text: str | bytes, *, source: str = "text") -> str:
    """The canonical form: UTF-8 text, no BOM, LF line ends, NFC.

    Refuses what the databases cannot store faithfully (NUL, lone surrogates).
    """
    if isinstance(text, bytes):
        text = decode_utf8(text, source=source)
    text = text.removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        reason = f"contains a NUL character at line {line}"
        raise TextError(f"{source}: {reason}", reason=reason)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        reason = f"contains an unpaired surrogate at line {line}"
        raise TextError(f"{source}: {reason}", reason=reason) from None
    return unicodedata.normalize("NFC", text)
