"""Text from storage made safe to print: any stored string reaches the terminal escaped.

Dead letters and stats hold what a worker read, which may be anything: lone surrogates
(which no terminal encoding can write), control characters (which move the cursor or clear
the screen), invalid UTF-8 decoded with replacement. :func:`printable` escapes every
character that is not printable as ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN`` (a lone
surrogate becomes ``\\udc80``), keeps the rest, and never raises. ``keep_newlines`` keeps
``\\n`` for multi-line output (indented JSON).
"""

from __future__ import annotations

__all__ = ["printable"]


def printable(text: object, *, keep_newlines: bool = False) -> str:
    """``str(text)`` with every non-printable character escaped (see the module doc)."""
    value = text if isinstance(text, str) else str(text)
    if value.isprintable() and value.isascii():
        return value
    return "".join(_escaped(char, keep_newlines) for char in value)


def _escaped(char: str, keep_newlines: bool) -> str:
    if char.isprintable() and not 0xD800 <= ord(char) <= 0xDFFF:
        return char
    if char == "\n" and keep_newlines:
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
