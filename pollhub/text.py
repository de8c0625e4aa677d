"""Text that comes from clients: what pollhub accepts, and how it shows it in logs and terminals.

JSON can carry strings that are not text: a lone UTF-16 surrogate (``"\\ud800"``)
decodes to a Python ``str`` that cannot be encoded as UTF-8, and control
characters can forge log lines or drive a terminal. :func:`is_text` says
whether a string is valid text for a field; :func:`escape` makes any string
safe to print on one line.
"""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 control characters, DEL and lone surrogates.
_NOT_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Whitespace controls a multi-line field may hold.
_NOT_TEXT_MULTILINE = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# What escape() rewrites: controls, surrogates, and format characters such as
# bidirectional overrides and zero-width characters (category Cf), the
# line and paragraph separators.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")

# Format characters (Unicode category Cf, as of Unicode 15.1): soft hyphen,
# zero-width space and joiners, bidirectional controls, word joiner, BOM,
# interlinear annotations, tags, ... They draw nothing, or change how text
# around them is drawn. tests/test_polls.py checks this covers every Cf
# character of the running Python's unicodedata.
_FORMAT = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
# Letters and symbols that draw as blank space though their category says
# otherwise (the Hangul fillers, the blank Braille pattern).
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")

ESCAPE_LIMIT = 200  # characters of a client's string shown in one log line


def is_text(value: str, multiline: bool = False) -> bool:
    """True when ``value`` holds no lone surrogate and no control character.

    With ``multiline``, tab, newline and carriage return are allowed.
    """
    return (_NOT_TEXT_MULTILINE if multiline else _NOT_TEXT).search(value) is None


def _escaped(match: "re.Match[str]") -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(value: object, limit: int = ESCAPE_LIMIT) -> str:
    """``value`` as one safe line for a log or a terminal.

    Control, format and surrogate characters become ``\\xNN`` or ``\\uNNNN``
    escapes, so a client cannot start a new log line, move a terminal's
    cursor or reorder what is shown; longer than ``limit`` characters, the
    rest is replaced by an ellipsis.
    """
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[:limit] + "\u2026"
    return _UNSAFE.sub(_escaped, text)


def strip_format(value: str) -> str:
    """``value`` without its format characters (category Cf, such as U+200B ZERO WIDTH SPACE)."""
    return _FORMAT.sub("", value)


def has_visible(value: str) -> bool:
    """True when ``value`` has at least one character that shows on its own.

    That is a letter, digit, punctuation mark or symbol (Unicode categories L,
    N, P, S) but for the few that draw as blank space; whitespace, controls,
    format characters and combining marks alone show nothing.
    """
    return any(unicodedata.category(ch)[0] in "LNPS" and ch not in _BLANK for ch in value)
