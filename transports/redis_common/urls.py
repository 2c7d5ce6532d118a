"""Redis URLs made safe to show: :func:`mask_url` hides every password it can find.

A URL is masked before it reaches a log line, an error message or CLI output. Masking does not
parse strictly (a URL that a parser would refuse is exactly the one users paste wrongly), so
it hides, by rule:

- the user information before the LAST ``@`` of the URL, wherever the scheme separator is
  (``redis://``, ``redis//`` without its colon, ``redis:`` alone, none): a password with an
  unencoded ``@`` (``redis://:p@ss@host``) is hidden whole; ``user:pw`` keeps ``user``; user
  information without ``:`` is hidden whole (some clients read it as the password);
- the value of every query parameter whose name mentions a secret (``password``,
  ``sentinel_password``, ``pass``, ``pwd``, ``secret``, ``token``, ``auth``).

Masking may hide more than the password; it never shows one it recognised.
"""

from __future__ import annotations

import re

__all__ = ["MASK", "mask_url"]

MASK = "***"
# Only Redis schemes count as a scheme: in ``user:pw@host`` (no scheme at all) ``user:`` must
# not be taken for one, or the password would be read as the user and shown.
_SCHEME = re.compile(r"^(?:rediss?(?:\+[A-Za-z]+)?|unix)(?::?//|:)", re.IGNORECASE)
_SECRET_PARAMETER = re.compile(
    r"(?P<name>[^?&#=;]*(?:pass|pwd|secret|token|auth)[^?&#=;]*)=(?P<value>[^&#;]*)",
    re.IGNORECASE,
)


def mask_url(url: str) -> str:
    """``url`` with its password(s) replaced by ``***`` (see the module docstring).

    ``redis://user:pw@host:6379/0`` → ``redis://user:***@host:6379/0``; never raises.
    """
    text = str(url)
    scheme = _SCHEME.match(text)
    start = scheme.end() if scheme else 0
    at = text.rfind("@", start)
    if at >= 0:
        user_info = text[start:at]
        user, colon, _ = user_info.partition(":")
        hidden = f"{user}:{MASK}" if colon else MASK
        text = f"{text[:start]}{hidden}{text[at:]}"
        start += len(hidden) + 1
    query = text.find("?", start)
    if query >= 0:
        text = text[:query] + _SECRET_PARAMETER.sub(_masked_parameter, text[query:])
    return text


def _masked_parameter(match: re.Match[str]) -> str:
    return f"{match.group('name')}={MASK}"
