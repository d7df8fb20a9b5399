"""The ACR token flow as pure logic: which requests to make for a challenge, and the cache.

No I/O happens here. :func:`token_flow` is a generator in the style of ``httpx``'s
``auth_flow``: it yields the steps it needs (an AAD token from the credential, an HTTP
form post or get) and receives their results; the sync and async policies only drive it.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, Optional, Union
from urllib.parse import urlencode, urlsplit

from azure.core.exceptions import ClientAuthenticationError

from ._challenge import AuthChallenge, find_challenge
from ._scopes import normalize_scope, scope_covers, scope_for_request

__all__ = [
    "AadTokenStep",
    "ChallengeResponder",
    "HttpStep",
    "TokenCache",
    "FlowStep",
    "credential_kind",
    "jwt_expiry",
    "origin_of",
    "token_flow",
    "check_transport_security",
]

#: Refresh tokens are renewed this many seconds before their expiry.
REFRESH_TOKEN_MARGIN = 300.0
#: Access tokens are renewed this many seconds before their expiry.
ACCESS_TOKEN_MARGIN = 60.0
#: Lifetime assumed for a token whose expiry cannot be read (ACR issues 3 hours for
#: refresh tokens and 75 minutes for access tokens; be conservative).
DEFAULT_TOKEN_LIFETIME = 600.0


def origin_of(url: str) -> tuple[str, str, int]:
    """Return the (scheme, host, port) origin of a URL, with the default port filled in.

    :param str url: an absolute URL.
    :rtype: tuple[str, str, int]
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


def _jwt_claims(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _number(value: Any) -> Optional[float]:
    """A finite number, or None (an ``exp`` of 1e999 or NaN is no expiry at all)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            return None
        return number if math.isfinite(number) else None
    return None


def jwt_expiry(token: str) -> Optional[float]:
    """Read the ``exp`` claim of a JWT without verifying it (the client only schedules
    its refresh by it; the registry verifies the signature).

    The payload is base64url without padding (RFC 7515 section 2), so padding is restored
    before decoding.

    :param str token: a compact JWS.
    :return: the expiry as a POSIX timestamp, or None when it cannot be read.
    :rtype: float or None
    """
    return _number(_jwt_claims(token).get("exp"))


def renewal_time(token: str, now: float, margin: float) -> float:
    """When a cached token should be replaced: ``margin`` seconds before its ``exp``, or a
    fifth of its lifetime (``exp - iat``) before it when that is shorter, so a short-lived
    token is still used for most of its life; ``now + DEFAULT_TOKEN_LIFETIME`` when the
    token has no readable expiry (ACR tokens always have one).

    :rtype: float
    """
    claims = _jwt_claims(token)
    exp = _number(claims.get("exp"))
    if exp is None:
        return now + DEFAULT_TOKEN_LIFETIME
    iat = _number(claims.get("iat"))
    if iat is not None and exp > iat:
        margin = min(margin, (exp - iat) / 5)
    return exp - margin


@dataclass
class _Entry:
    token: str
    renew_at: float


@dataclass
class TokenCache:
    """ACR refresh tokens per service and access tokens per (service, scope).

    Pure bookkeeping; the caller supplies the clock so the decisions are testable.
    """

    refresh_tokens: dict[str, _Entry] = field(default_factory=dict)
    access_tokens: dict[tuple[str, str], _Entry] = field(default_factory=dict)

    def get_refresh_token(self, service: str, now: Optional[float] = None) -> Optional[str]:
        """A cached refresh token for ``service`` still valid for the margin, or None."""
        now = time.time() if now is None else now
        entry = self.refresh_tokens.get(service)
        if entry and entry.renew_at > now:
            return entry.token
        return None

    def put_refresh_token(self, service: str, token: str, now: Optional[float] = None) -> None:
        """Remember a refresh token for ``service``."""
        now = time.time() if now is None else now
        self.refresh_tokens[service] = _Entry(token, renewal_time(token, now, REFRESH_TOKEN_MARGIN))

    def get_access_token(
        self, service: str, scope: str, now: Optional[float] = None
    ) -> Optional[str]:
        """A cached access token for this scope, still valid for the margin: one asked for
        exactly this scope, else one asked for a wider scope (``pull,push`` serves a pull)."""
        now = time.time() if now is None else now
        wanted = normalize_scope(scope)
        entry = self.access_tokens.get((service, wanted))
        if entry and entry.renew_at > now:
            return entry.token
        if not wanted:  # the bare /v2/ check: only its own token
            return None
        # a snapshot: other threads add tokens while this one looks (the lookup is lock-free)
        for (svc, granted), other in list(self.access_tokens.items()):
            if svc == service and other.renew_at > now and scope_covers(granted, wanted):
                return other.token
        return None

    def put_access_token(
        self, service: str, scope: str, token: str, now: Optional[float] = None
    ) -> None:
        """Remember an access token for (service, scope)."""
        now = time.time() if now is None else now
        self.access_tokens[(service, normalize_scope(scope))] = _Entry(
            token, renewal_time(token, now, ACCESS_TOKEN_MARGIN)
        )

    def forget(self, service: str) -> None:
        """Drop every token of ``service`` (after the registry rejected one)."""
        self.refresh_tokens.pop(service, None)
        for key in [k for k in list(self.access_tokens) if k[0] == service]:
            del self.access_tokens[key]


@dataclass(frozen=True)
class AadTokenStep:
    """Ask the credential for an AAD token for ``scope`` (``<audience>/.default``)."""

    scope: str


@dataclass(frozen=True)
class HttpStep:
    """Send a token request; the driver answers with ``(status_code, parsed JSON or None)``.

    :ivar str method: ``POST`` (form body in ``form``) or ``GET`` (query in the URL).
    :ivar dict headers: extra request headers (``Authorization: Basic`` for a login).
    """

    method: str
    url: str
    form: Optional[dict[str, str]] = None
    headers: dict[str, str] = field(default_factory=dict)


FlowStep = Union[AadTokenStep, HttpStep]
FlowResult = Any


def credential_kind(credential: object) -> str:
    """Classify a credential: ``"aad"`` (``get_token``), ``"basic"`` (a named key
    credential: username and password) or ``"anonymous"`` (None).

    :raises TypeError: for anything else.
    """
    if credential is None:
        return "anonymous"
    if hasattr(credential, "named_key"):
        return "basic"
    if hasattr(credential, "get_token"):
        return "aad"
    raise TypeError(
        "credential must be a TokenCredential, an AzureNamedKeyCredential(username, password) "
        f"or None for anonymous access, not {type(credential).__name__}"
    )


def check_transport_security(url: str, *, allow_insecure_http: bool) -> None:
    """Refuse to send a credential over plain http unless the caller opted in.

    :raises ClientAuthenticationError: when ``url`` is http and ``allow_insecure_http`` is False.
    """
    if urlsplit(url).scheme.lower() != "https" and not allow_insecure_http:
        raise ClientAuthenticationError(
            f"refusing to send credentials over plain http to {origin_of(url)[1]}; "
            "pass allow_insecure_http=True to the client to allow it (loopback test registries)"
        )


def _token_from(result: FlowResult, key: str, what: str) -> str:
    status, body = result
    if status == 200 and isinstance(body, dict):
        # Distribution's token servers answer ``token``; ACR answers ``access_token``.
        for name in (key, "token") if key == "access_token" else (key,):
            if isinstance(body.get(name), str) and body[name]:
                token: str = body[name]
                if not (token.isascii() and token.isprintable()) or " " in token:
                    # it would go out in a header: refuse CR/LF (header injection), other
                    # control characters, whitespace and non-ASCII before any request
                    raise ClientAuthenticationError(
                        f"{what} returned a {name} that is not a valid token: it has "
                        "whitespace, control or non-ASCII characters"
                    )
                return token
    raise ClientAuthenticationError(f"{what} failed with HTTP status {status}")


def token_flow(
    challenge: AuthChallenge,
    *,
    endpoint: str,
    kind: str,
    cache: TokenCache,
    audience: str,
    username: Optional[str] = None,
    password: Optional[str] = None,
    allow_insecure_http: bool = False,
    rejected: Optional[str] = None,
) -> Generator[FlowStep, FlowResult, str]:
    """Obtain an ACR access token answering a ``Bearer`` challenge.

    - ``aad``: AAD token for ``audience`` -> ``POST /oauth2/exchange`` -> ACR refresh token
      (cached per service) -> ``POST /oauth2/token`` for the challenged scope.
    - ``basic``: ``GET <realm>?service=&scope=`` with Basic credentials.
    - ``anonymous``: ``POST <realm>`` with ``grant_type=password`` and no credential.

    Credentials (AAD tokens, refresh tokens, passwords) go only to the registry's own
    origin; an anonymous token request may follow a realm on another https host.

    A valid cached token for the scope is returned without any step, unless it is
    ``rejected`` (the token the registry just refused): concurrent callers that waited for
    one refresh reuse its result instead of fetching again.

    :return: the access token (also stored in ``cache``).
    :rtype: str
    :raises ClientAuthenticationError: when the realm is not acceptable or a step fails.
    """
    realm = challenge.realm
    if not realm:
        raise ClientAuthenticationError("the registry's Bearer challenge has no realm")
    service = challenge.service or ""
    scope = " ".join(challenge.scopes)
    realm_scheme = urlsplit(realm).scheme.lower()
    if realm_scheme not in ("https", "http"):
        raise ClientAuthenticationError(f"the challenge's realm {realm!r} is not an http(s) URL")

    if kind != "anonymous":
        if origin_of(realm) != origin_of(endpoint):
            raise ClientAuthenticationError(
                "refusing to send credentials to a token realm on another origin "
                f"({origin_of(realm)[1]}) than the registry ({origin_of(endpoint)[1]})"
            )
        check_transport_security(realm, allow_insecure_http=allow_insecure_http)
    elif realm_scheme != "https" and origin_of(realm) != origin_of(endpoint):
        raise ClientAuthenticationError("refusing a plain-http token realm on another origin")

    cached = cache.get_access_token(service, scope)
    if cached is not None and cached != rejected:
        return cached

    params: dict[str, str] = {"service": service}
    if scope:
        params["scope"] = scope

    if kind == "aad":
        refresh_token = cache.get_refresh_token(service)
        if refresh_token is None:
            aad_token = yield AadTokenStep(scope=audience.rstrip("/") + "/.default")
            exchange_url = "{}://{}/oauth2/exchange".format(*urlsplit(realm)[:2])
            result = yield HttpStep(
                "POST",
                exchange_url,
                form={"grant_type": "access_token", "service": service, "access_token": aad_token},
            )
            refresh_token = _token_from(result, "refresh_token", "the AAD token exchange")
            cache.put_refresh_token(service, refresh_token)
        result = yield HttpStep(
            "POST",
            realm,
            form={"grant_type": "refresh_token", "refresh_token": refresh_token, **params},
        )
    elif kind == "basic":
        assert username is not None and password is not None
        basic = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        sep = "&" if urlsplit(realm).query else "?"
        result = yield HttpStep(
            "GET", realm + sep + urlencode(params), headers={"Authorization": f"Basic {basic}"}
        )
    else:
        result = yield HttpStep("POST", realm, form={"grant_type": "password", **params})

    what = "the anonymous token request" if kind == "anonymous" else "the ACR token request"
    access_token = _token_from(result, "access_token", what)
    cache.put_access_token(service, scope, access_token)
    return access_token


class ChallengeResponder:
    """What the sync and async challenge policies share: the credential, the cache and
    every decision about a request's ``Authorization``. Holds no I/O; the policies drive
    the token flows it returns.

    :param credential: a (sync or async) TokenCredential, an AzureNamedKeyCredential, or None.
    :param str endpoint: the registry's endpoint.
    :param str audience: the AAD audience (``<audience>/.default`` is requested).
    :param bool allow_insecure_http: allow credentials over plain http.
    """

    def __init__(
        self,
        credential: Optional[object],
        endpoint: str,
        audience: str,
        allow_insecure_http: bool = False,
    ) -> None:
        self.kind = credential_kind(credential)
        self.credential = credential
        self.endpoint = endpoint
        self.audience = audience
        self.allow_insecure_http = allow_insecure_http
        self.cache = TokenCache()
        self.username: Optional[str] = None
        self.password: Optional[str] = None
        if self.kind == "basic":
            self.username, self.password = credential.named_key  # type: ignore[union-attr]
        # Learned from the registry's first Bearer challenge: its token realm and service.
        self.realm: Optional[str] = None
        self.service: Optional[str] = None
        # The registry challenged Basic (distribution with htpasswd): answer up front.
        self.basic_registry = False

    def _flow(
        self, challenge: AuthChallenge, rejected: Optional[str] = None
    ) -> Generator[FlowStep, FlowResult, str]:
        return token_flow(
            challenge,
            endpoint=self.endpoint,
            kind=self.kind,
            cache=self.cache,
            audience=self.audience,
            username=self.username,
            password=self.password,
            allow_insecure_http=self.allow_insecure_http,
            rejected=rejected,
        )

    def _basic(self, request_url: str) -> str:
        check_transport_security(request_url, allow_insecure_http=self.allow_insecure_http)
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def on_registry_origin(self, request_url: str) -> bool:
        """Whether a request goes to the registry's own origin (credentials may go there)."""
        return origin_of(request_url) == origin_of(self.endpoint)

    def prepare(
        self, method: str, request_url: str
    ) -> Union[Generator[FlowStep, FlowResult, str], str, None]:
        """Decide the ``Authorization`` of a first attempt, before any challenge.

        :return: a ready header value; a token flow to drive (the scope is known and the
            realm was learned, so no 401 round trip is needed); or None (send as is).
        """
        if not self.on_registry_origin(request_url):
            return None
        if self.basic_registry:
            return self._basic(request_url)
        scope = scope_for_request(method, request_url)
        if scope is None or self.realm is None or self.service is None:
            return None
        cached = self.cache.get_access_token(self.service, scope)
        if cached is not None:
            return "Bearer " + cached
        params = {"realm": self.realm, "service": self.service}
        if scope:
            params["scope"] = scope
        return self._flow(AuthChallenge("bearer", params))

    def respond(
        self,
        www_authenticate: Optional[str],
        request_url: str,
        rejected: Optional[str] = None,
    ) -> Union[Generator[FlowStep, FlowResult, str], str, None]:
        """Decide how to answer a 401.

        :param rejected: the bearer token the registry just refused, if one was sent.
        :return: a token flow to drive for a Bearer challenge; a ready ``Authorization``
            value for a Basic challenge met with a username and password; None when the
            challenge cannot be answered (the 401 stands).
        """
        if not self.on_registry_origin(request_url):
            return None
        bearer = find_challenge(www_authenticate, "bearer")
        if bearer is not None:
            if bearer.realm and bearer.service is not None:
                self.realm, self.service = bearer.realm, bearer.service
            return self._flow(bearer, rejected=rejected)
        if self.kind == "basic" and find_challenge(www_authenticate, "basic") is not None:
            self.basic_registry = True
            return self._basic(request_url)
        return None

    def refusal(self, www_authenticate: Optional[str]) -> Optional[ClientAuthenticationError]:
        """The error to raise when the retried request is refused again, or None to let
        the 401 surface as the operation's own error."""
        bearer = find_challenge(www_authenticate, "bearer")
        if self.kind != "anonymous" or bearer is None:
            return None
        actions = {a for s in bearer.scopes for a in s.rsplit(":", 1)[-1].split(",")}
        if actions - {"pull", "metadata_read", "*"}:
            return ClientAuthenticationError(
                "anonymous access is read-only: the registry refused "
                f"{' '.join(bearer.scopes)!r} without a credential; pass a TokenCredential "
                "or an AzureNamedKeyCredential to write or delete"
            )
        return None
