"""Parsing of ``WWW-Authenticate`` challenges (RFC 7235 section 4.1 and 2.1).

Pure functions, no I/O: the sync and async authentication policies share them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

__all__ = ["AuthChallenge", "parse_www_authenticate", "find_challenge"]

# RFC 7230 section 3.2.6: token = 1*tchar
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
# RFC 7235 section 2.1: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_TOKEN68 = r"[A-Za-z0-9\-._~+/]+=*"

_RE_TOKEN = re.compile(_TOKEN)
_RE_TOKEN68 = re.compile(_TOKEN68)
_RE_WS = re.compile(r"[ \t]*")
_RE_PARAM_START = re.compile(rf"({_TOKEN})[ \t]*=(?!=)")


@dataclass(frozen=True)
class AuthChallenge:
    """One challenge of a ``WWW-Authenticate`` header.

    :ivar str scheme: the auth scheme, lower-cased (``bearer``, ``basic``).
    :ivar dict params: auth-params, names lower-cased, values unquoted.
    :ivar token68: the token68 form of the credentials, when the challenge uses it.
    :vartype token68: str or None
    """

    scheme: str
    params: dict[str, str] = field(default_factory=dict)
    token68: Optional[str] = None

    @property
    def realm(self) -> Optional[str]:
        """The ``realm`` parameter, when present."""
        return self.params.get("realm")

    @property
    def service(self) -> Optional[str]:
        """The ``service`` parameter (registry token auth), when present."""
        return self.params.get("service")

    @property
    def scopes(self) -> list[str]:
        """The space-separated ``scope`` parameter, split into its scopes."""
        return self.params.get("scope", "").split()

    @property
    def error(self) -> Optional[str]:
        """The ``error`` parameter (e.g. ``insufficient_scope``), when present."""
        return self.params.get("error")


class _Cursor:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_ws(self) -> None:
        m = _RE_WS.match(self.text, self.pos)
        if m:
            self.pos = m.end()

    def skip_commas(self) -> None:
        while True:
            self.skip_ws()
            if self.pos < len(self.text) and self.text[self.pos] == ",":
                self.pos += 1
                continue
            return

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def quoted_string(self) -> str:
        # RFC 7230 section 3.2.6: quoted-string with quoted-pair backslash escapes.
        assert self.text[self.pos] == '"'
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if ch == '"':
                self.pos += 1
                return "".join(out)
            out.append(ch)
            self.pos += 1
        raise ValueError("unterminated quoted-string in WWW-Authenticate header")


def parse_www_authenticate(header: str) -> list[AuthChallenge]:
    """Parse a ``WWW-Authenticate`` header value into its challenges.

    Handles several challenges in one header, quoted strings containing commas and
    escaped quotes, parameters with empty values, and the token68 form.

    :param str header: the header value (several header lines may be joined with ``,``).
    :return: the challenges in the order they appear.
    :rtype: list[AuthChallenge]
    :raises ValueError: if the header is not a syntactically valid challenge list.
    """
    cur = _Cursor(header)
    challenges: list[AuthChallenge] = []
    cur.skip_commas()
    while not cur.at_end():
        m = _RE_TOKEN.match(cur.text, cur.pos)
        if not m:
            raise ValueError(f"invalid auth-scheme at offset {cur.pos} in WWW-Authenticate header")
        scheme = m.group(0).lower()
        cur.pos = m.end()
        params: dict[str, str] = {}
        token68: Optional[str] = None
        cur.skip_ws()
        # token68 form: a single token68 not followed by '=' of an auth-param.
        if not cur.at_end() and not _RE_PARAM_START.match(cur.text, cur.pos):
            t = _RE_TOKEN68.match(cur.text, cur.pos)
            if t and cur.text[cur.pos] != ",":
                token68 = t.group(0)
                cur.pos = t.end()
        if token68 is None:
            while True:
                cur.skip_commas()
                pm = _RE_PARAM_START.match(cur.text, cur.pos)
                if not pm:
                    break
                name = pm.group(1).lower()
                cur.pos = pm.end()
                cur.skip_ws()
                if not cur.at_end() and cur.text[cur.pos] == '"':
                    value = cur.quoted_string()
                else:
                    vm = _RE_TOKEN.match(cur.text, cur.pos)
                    value = vm.group(0) if vm else ""
                    cur.pos = vm.end() if vm else cur.pos
                # RFC 7235 section 2.2: each parameter name only once per challenge.
                params.setdefault(name, value)
                cur.skip_ws()
                if not cur.at_end() and cur.text[cur.pos] != ",":
                    raise ValueError(
                        f"unexpected character {cur.text[cur.pos]!r} at offset {cur.pos} "
                        "in WWW-Authenticate header"
                    )
        challenges.append(AuthChallenge(scheme=scheme, params=params, token68=token68))
        cur.skip_commas()
    return challenges


def find_challenge(header: Optional[str], scheme: str) -> Optional[AuthChallenge]:
    """Return the first challenge of ``scheme`` in a header, or None.

    A header that cannot be parsed yields None rather than an exception: a malformed
    challenge means the client cannot answer it, which the caller reports as the
    original 401.

    :param header: the ``WWW-Authenticate`` value, or None.
    :type header: str or None
    :param str scheme: the scheme to look for, case-insensitive.
    :rtype: AuthChallenge or None
    """
    if not header:
        return None
    try:
        challenges = parse_www_authenticate(header)
    except ValueError:
        return None
    wanted = scheme.lower()
    for challenge in challenges:
        if challenge.scheme == wanted:
            return challenge
    return None
