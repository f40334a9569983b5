"""OAuth 2.1 access tokens from the team's identity provider (``[auth.oauth]``).

``OAuthTokenVerifier`` is the SDK's ``TokenVerifier`` for them. A JWT is checked here, in this
process, against the issuer's signing keys: signature, ``exp``/``nbf``/``iat`` (with the
configured leeway), ``iss`` and ``aud`` (this host's resource URL, RFC 8707). An opaque token
is asked about at the issuer's introspection endpoint (RFC 7662), when that is configured.
Nothing is shared between processes: each one fetches the keys itself, so a cluster needs no
state for this.

The keys come from the issuer's discovery document (its ``jwks_uri``) through PyJWT's
``PyJWKClient``: cached, fetched again every ``keys_refresh_s``, and at once (at most every
``unknown_key_cooldown_s``) for a token signed by a key it does not know, which is how a
rotated key is picked up. While the provider cannot be reached, the keys fetched last keep
working; a key they do not hold fails closed.

Every refused token is one log line (event ``token_refused``) saying why; never the token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import anyio
import anyio.to_thread
import httpx2
import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError, PyJWTError
from mcp.server.auth.provider import AccessToken

from mcp_host.access_rules import AccessRules
from mcp_host.config import OAuthSection

logger = logging.getLogger(__name__)

HTTP_TIMEOUT_S = 5.0
"""How long a request to the provider (discovery, keys, introspection) may take."""


DISCOVERY_RETRY_S = 5.0
"""How long a failed discovery is not tried again."""


class TokenRefused(Exception):
    """Why a token is not accepted: one sentence for the log, without the token."""


class OAuthTokenVerifier:
    """Verifies access tokens issued by ``[auth.oauth] issuer`` for ``audience``."""

    def __init__(self, settings: OAuthSection, rules: AccessRules) -> None:
        self._settings = settings
        self._rules = rules
        self._audiences = list(dict.fromkeys([settings.audience, settings.audience.rstrip("/")]))
        self._provider = _Provider(settings.issuer)
        self._keys: SigningKeys | None = None

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            claims = await self._claims(token)
        except TokenRefused as refusal:
            logger.warning(
                "OAuth token refused: %s", refusal, extra={"event": "token_refused", "reason": str(refusal)}
            )
            return None
        return self._rules.grant(self._access_token(token, claims), claims)

    async def _claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            return await self._introspect(token)
        except jwt.InvalidTokenError as invalid:
            raise TokenRefused(f"its header is malformed ({invalid})") from None
        algorithm = header.get("alg")
        if algorithm not in self._settings.algorithms:
            raise TokenRefused(
                f"it is signed with {str(algorithm)[:20]!r}, not one of [auth.oauth] algorithms"
            )
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise TokenRefused("its header names no signing key ('kid')")
        key = await (await self._signing_keys()).key(kid)
        try:
            return jwt.decode(
                token,
                key,
                algorithms=self._settings.algorithms,
                audience=self._audiences,
                issuer=self._settings.issuer,
                leeway=self._settings.clock_skew_s,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefused("it has expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenRefused("it is not valid yet ('nbf' or 'iat' in the future)") from None
        except jwt.InvalidAudienceError:
            raise TokenRefused(f"its audience is not this host's ({self._settings.audience})") from None
        except jwt.InvalidIssuerError:
            raise TokenRefused(f"its issuer is not {self._settings.issuer}") from None
        except jwt.InvalidSignatureError:
            raise TokenRefused("its signature does not verify") from None
        except jwt.MissingRequiredClaimError as missing:
            raise TokenRefused(f"it has no {missing.claim!r} claim") from None
        except jwt.InvalidTokenError as invalid:
            raise TokenRefused(f"it is not a valid JWT ({type(invalid).__name__})") from None

    async def _signing_keys(self) -> SigningKeys:
        if self._keys is None:
            uri = self._settings.jwks_uri or str((await self._provider.metadata()).get("jwks_uri") or "")
            if not uri:
                raise TokenRefused("the issuer's discovery document names no jwks_uri")
            self._keys = SigningKeys(uri, self._settings)
        return self._keys

    async def _introspect(self, token: str) -> dict[str, Any]:
        settings = self._settings
        if settings.introspection_client_id is None or settings.introspection_client_secret is None:
            raise TokenRefused("it is not a JWT, and [auth.oauth] has no introspection client")
        endpoint = (await self._provider.metadata()).get("introspection_endpoint")
        if not isinstance(endpoint, str):
            raise TokenRefused("it is not a JWT, and the issuer publishes no introspection_endpoint")
        auth = httpx2.BasicAuth(
            settings.introspection_client_id, settings.introspection_client_secret.get_secret_value()
        )
        try:
            async with httpx2.AsyncClient(timeout=HTTP_TIMEOUT_S) as http:
                response = await http.post(endpoint, data={"token": token}, auth=auth)
            response.raise_for_status()
            answer = response.json()
        except (httpx2.HTTPError, ValueError) as exc:
            raise TokenRefused(f"introspection at {endpoint} failed: {type(exc).__name__}") from None
        if not isinstance(answer, dict) or answer.get("active") is not True:
            raise TokenRefused("the issuer's introspection says it is not active")
        return self._checked_introspection(answer)

    def _checked_introspection(self, answer: dict[str, Any]) -> dict[str, Any]:
        """The checks a JWT gets, on an introspection answer (which the issuer vouches for)."""
        issuer = answer.get("iss", self._settings.issuer)
        if issuer != self._settings.issuer:
            raise TokenRefused(f"its issuer is not {self._settings.issuer}")
        audience = answer.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if not any(value in self._audiences for value in audiences):
            raise TokenRefused(f"its audience is not this host's ({self._settings.audience})")
        expires = answer.get("exp")
        if isinstance(expires, int | float) and expires + self._settings.clock_skew_s < time.time():
            raise TokenRefused("it has expired")
        return {"iss": issuer, **answer}

    def _access_token(self, token: str, claims: Mapping[str, Any]) -> AccessToken:
        subject = claims.get("sub")
        client_id = claims.get("client_id") or claims.get("azp") or subject or "unknown client"
        # RFC 9068 and 7662 say "scope", a space-separated string; Entra ID says "scp" (a
        # string), Okta "scp" (a list).
        scopes = claims.get("scope", claims.get("scp"))
        if isinstance(scopes, str):
            scope_list = scopes.split()
        else:
            scope_list = [str(value) for value in scopes] if isinstance(scopes, list) else []
        expires = claims.get("exp")
        shown = {name: claims[name] for name in self._settings.claims if name in claims}
        return AccessToken(
            token=token,
            client_id=str(client_id),
            scopes=scope_list,
            # The leeway is ours to give: the SDK's backend refuses a token past this time.
            expires_at=int(expires + self._settings.clock_skew_s)
            if isinstance(expires, int | float)
            else None,
            resource=self._settings.audience,
            subject=str(subject) if subject is not None else None,
            claims={"iss": claims.get("iss"), **shown},
        )


class _Provider:
    """The issuer's discovery document (OpenID Connect Discovery, else RFC 8414), fetched once.

    After a failed attempt, tokens are refused for the same reason without asking again for
    ``DISCOVERY_RETRY_S``: a provider that does not answer must not hold every request."""

    def __init__(self, issuer: str) -> None:
        self._issuer = issuer
        self._metadata: dict[str, Any] | None = None
        self._failure: tuple[float, str] | None = None
        self._lock = anyio.Lock()

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is not None:
            return self._metadata
        async with self._lock:
            if self._metadata is None:
                if self._failure is not None and time.monotonic() - self._failure[0] < DISCOVERY_RETRY_S:
                    raise TokenRefused(self._failure[1])
                try:
                    self._metadata = await self._discover()
                except TokenRefused as refusal:
                    self._failure = (time.monotonic(), str(refusal))
                    raise
            return self._metadata

    async def _discover(self) -> dict[str, Any]:
        base = self._issuer.rstrip("/")
        scheme, _, rest = base.partition("://")
        origin, slash, path = rest.partition("/")
        urls = [
            f"{base}/.well-known/openid-configuration",
            f"{scheme}://{origin}/.well-known/oauth-authorization-server{slash}{path}",
        ]
        async with httpx2.AsyncClient(timeout=HTTP_TIMEOUT_S) as http:
            for url in urls:
                try:
                    response = await http.get(url)
                except httpx2.HTTPError as exc:
                    raise TokenRefused(
                        f"the issuer cannot be reached for discovery ({type(exc).__name__})"
                    ) from None
                if response.status_code != 200:
                    continue
                try:
                    document = response.json()
                except ValueError:
                    continue
                if isinstance(document, dict):
                    if document.get("issuer") != self._issuer:
                        raise TokenRefused(f"the discovery document at {url} is for another issuer")
                    return document
        raise TokenRefused(f"the issuer {self._issuer} publishes no discovery document")


class _RememberingJWKClient(PyJWKClient):
    """A ``PyJWKClient`` that remembers the key set it fetched last, past its cache's lifespan."""

    last_fetched: PyJWKSet | None = None

    def get_jwk_set(self, refresh: bool = False) -> PyJWKSet:
        jwk_set = super().get_jwk_set(refresh)
        self.last_fetched = jwk_set
        return jwk_set


class SigningKeys:
    """The issuer's signing keys, by ``kid``."""

    def __init__(self, uri: str, settings: OAuthSection) -> None:
        self._client = _RememberingJWKClient(
            uri,
            cache_jwk_set=settings.keys_refresh_s > 0,
            lifespan=max(settings.keys_refresh_s, 1e-3),
            timeout=HTTP_TIMEOUT_S,
            cooldown_duration=settings.unknown_key_cooldown_s,
        )

    async def key(self, kid: str) -> PyJWK:
        if (cached := self._cached(kid)) is not None:
            return cached  # the common case: no fetch, so no thread
        try:
            # PyJWKClient fetches with urllib, which blocks: off the event loop.
            return await anyio.to_thread.run_sync(self._client.get_signing_key, kid)
        except PyJWKClientConnectionError:
            known = self._client.last_fetched
            if known is not None and self._client.jwk_set_cache is not None:
                # Trusted for another keys_refresh_s, so that the requests behind this one do
                # not each wait for a provider that does not answer; a key it lacks still
                # makes the client try the provider again.
                self._client.jwk_set_cache.put(known)
            key = None if known is None else _signing_key(known, kid)
            if key is None:
                raise TokenRefused(
                    f"its signing key {kid[:40]!r} is unknown and the issuer's keys cannot be fetched"
                ) from None
            return key
        except PyJWKClientError:
            raise TokenRefused(f"its signing key {kid[:40]!r} is not one of the issuer's") from None
        except (PyJWTError, ValueError) as unusable:
            # The provider's answer itself is wrong (no usable key, not a key set).
            raise TokenRefused(f"the issuer's keys at {self._client.uri} are unusable: {unusable}") from None

    def _cached(self, kid: str) -> PyJWK | None:
        """The key from the client's fresh cache, read without I/O; ``None`` when it must ask."""
        cache = self._client.jwk_set_cache
        jwk_set = cache.get() if cache is not None else None
        return None if jwk_set is None else _signing_key(jwk_set, kid)


def _signing_key(jwk_set: PyJWKSet, kid: str) -> PyJWK | None:
    """The key ``kid`` of a set, if it is one for signatures (as ``PyJWKClient`` chooses them)."""
    return next(
        (key for key in jwk_set.keys if key.key_id == kid and key.public_key_use in ("sig", None)),
        None,
    )
