"""The config file: its model, how it is read, and how its mistakes are reported.

Every mistake becomes a ``ConfigError`` that names the file, the key path (for example
``plugins.weather.units``) and what was expected, so the CLI can print it and exit 2 with
no traceback. Plugin settings are validated later, against models the plugins declare; the
same error formatting serves both.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from mcp_host.stack import HttpChoice, LoopChoice

HOST_PLUGIN_KEYS = frozenset({"enabled", "prefix", "disabled_tools", "call_timeout_s", "tool_timeouts"})
"""Keys of ``[plugins.<name>]`` that belong to the host; the rest are the plugin's settings."""

SERVER_PATH_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerProfile(_Strict):
    """What one MCP server offers its clients: identity and a selection of tools."""

    name: str = Field("mcp-host", min_length=1, description="Server name reported to clients.")
    title: str | None = Field(None, description="Human-readable server title.")
    instructions: str | None = Field(None, description="Instructions sent to clients on initialize.")
    plugins: list[str] | None = Field(
        None, description="Plugins whose tools this server offers; all enabled plugins when omitted."
    )
    tools: list[str] | None = Field(
        None, description="Only these tools (final names); every tool of the chosen plugins when omitted."
    )
    list_ttl_s: float = Field(
        60.0,
        ge=0,
        description="How long 2026-07-28 clients may reuse this server's lists (tools, prompts, "
        "resources, templates) and server/discover before asking again; 0 means ask every time.",
    )
    cache_scope: Literal["private", "public"] = Field(
        "private",
        description="'public' lets shared caches serve those lists to every credential; 'private' keeps "
        "them per credential.",
    )


class ServerSection(ServerProfile):
    """``[server]``: where the host listens, and the default server served at ``/sse``."""

    host: str = Field("127.0.0.1", min_length=1, description="Address to listen on.")
    port: int = Field(8000, ge=0, le=65535, description="Port to listen on; 0 picks a free one.")
    root_path: str = Field("", description="Path prefix when served behind a proxy, e.g. '/mcp-host'.")
    keepalive_s: float = Field(15.0, gt=0, description="Seconds between keep-alive comments on SSE streams.")
    shutdown_grace_s: float = Field(5.0, ge=0, description="Seconds open streams get to finish on shutdown.")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Log level.")
    log_format: Literal["text", "json"] = Field("text", description="'json' for one JSON object per line.")
    http: HttpChoice = Field(
        "auto", description="HTTP parser: 'auto' is httptools when it is installed (it is fast), else h11."
    )
    loop: LoopChoice = Field(
        "auto", description="Event loop: 'auto' is uvloop when it is installed (it is fast), else asyncio."
    )

    @field_validator("root_path")
    @classmethod
    def _normalise_root_path(cls, value: str) -> str:
        if value and not value.startswith("/"):
            raise ValueError("must start with '/'")
        return value.rstrip("/")

    def profile(self) -> ServerProfile:
        return ServerProfile.model_validate(self.model_dump(include=set(ServerProfile.model_fields)))


class LimitsSection(_Strict):
    """``[limits]``: what one client, or all of them, may ask of the host."""

    max_sessions: int = Field(10_000, ge=1, description="Open client sessions at most; more get HTTP 503.")
    max_sessions_per_client: int = Field(
        100,
        ge=1,
        description="Open sessions one client may hold, both transports together: per bearer token, "
        "or per client address without tokens; more get HTTP 429.",
    )
    abandoned_session_timeout_s: float = Field(
        60.0,
        gt=0,
        description="A Streamable HTTP session whose initialize no other request follows within this "
        "long is closed (every client sends notifications/initialized right away).",
    )
    session_idle_timeout_s: float = Field(
        1800.0, gt=0, description="Streamable HTTP sessions with no request for this long are closed."
    )
    max_body_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, description="Largest request body accepted; larger ones get HTTP 413."
    )
    call_timeout_s: float = Field(
        60.0, gt=0, description="A tool call running longer is stopped and reported as timed out."
    )
    max_concurrent_calls: int = Field(
        16, ge=1, description="Tool calls one session may have running at once; more are refused."
    )
    resumable_events: int = Field(
        64,
        ge=0,
        description="Events each Streamable HTTP session keeps so that a client whose response "
        "stream broke can reconnect and get what it missed (Last-Event-ID); 0 turns that off.",
    )
    max_connections: int = Field(
        12_000,
        ge=1,
        description="Open HTTP connections (SSE streams included) at most; a request beyond them gets "
        "HTTP 503. Keep it under the process's file descriptor limit (ulimit -n).",
    )
    header_timeout_s: float = Field(
        10.0,
        gt=0,
        description="A connection that has not sent a request's headers this long after it opened, or "
        "after its last response, is closed (slow or idle clients).",
    )
    idle_connection_timeout_s: int = Field(
        5, ge=1, description="A kept-alive connection idle this long after a response is closed."
    )
    max_pending_output_bytes: int = Field(
        32 * 1024 * 1024,
        ge=64 * 1024,
        description="Output waiting for one client that does not read it (its SSE stream, or the "
        "responses to its POSTs) at most; past it the session is ended, with a log line naming it.",
    )
    loop_stall_threshold_s: float = Field(
        1.0,
        gt=0,
        description="The event loop blocked this long (an async tool or hook that blocks) is logged, "
        "naming the tool, plugin and session, and counted in /metrics.",
    )
    max_tool_threads: int = Field(
        32,
        ge=1,
        description="Worker threads for plugins' plain 'def' tools, across the host, counting threads "
        "still running calls abandoned at their time limit; a call beyond them is a tool error.",
    )


class SecuritySection(_Strict):
    """``[security]``: which ``Host`` and ``Origin`` headers the MCP endpoints accept."""

    dns_rebinding_protection: bool = Field(
        True, description="Refuse requests whose Host (421) or Origin (403) is not allowed."
    )
    allowed_hosts: list[str] | None = Field(
        None,
        description="Host header values accepted, 'name' or 'name:port' or 'name:*'; "
        "derived from the listening address when omitted.",
    )
    allowed_origins: list[str] | None = Field(
        None, description="Origin header values accepted (a missing Origin is always accepted)."
    )
    request_state_keys: list[SecretStr] | None = Field(
        None,
        description="Keys that seal the requestState of multi-round 2026-07-28 calls, at least 32 "
        "characters each: the first seals, every one opens (list a new key first to rotate). Write "
        "them as '${env:NAME}'. Every process of a cluster needs the same keys; a lone host makes "
        "one of its own when omitted.",
    )

    @field_validator("request_state_keys")
    @classmethod
    def _keys_long_enough(cls, value: list[SecretStr] | None) -> list[SecretStr] | None:
        if value is not None:
            if not value:
                raise ValueError("must list at least one key, or be left out")
            if any(len(key.get_secret_value()) < 32 for key in value):
                raise ValueError("every key must be at least 32 characters")
        return value


class TokenEntry(_Strict):
    """One bearer token of ``[auth]``."""

    name: str = Field(min_length=1, description="Who holds the token; it appears in the log.")
    token: SecretStr = Field(
        description="The token, at least 16 characters; write it as '${env:NAME}' or '${file:PATH}'."
    )
    servers: list[str] | None = Field(
        None, description="Servers the token may use ('default' for [server]); every server when omitted."
    )

    @field_validator("token")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value


class MetricsSection(_Strict):
    """``[metrics]``: who may read ``/metrics``."""

    token: SecretStr | None = Field(
        None,
        description="When set, GET /metrics needs 'Authorization: Bearer <token>' (at least 16 "
        "characters; write it as '${env:NAME}' or '${file:PATH}'); open when omitted.",
    )

    @field_validator("token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value


SIGNATURE_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
"""The public-key signatures ``[auth.oauth] algorithms`` may name."""


class AccessGrant(_Strict):
    """One rule of ``[[auth.oauth.grants]]``: which tokens may use which servers and tools."""

    servers: list[str] = Field(min_length=1, description="Servers this rule opens ('default' for [server]).")
    tools: list[str] | None = Field(
        None, description="Only these tools of those servers (final names); every tool when omitted."
    )
    scope: str | None = Field(
        None, min_length=1, description="A token with this scope matches (and a client may step up to it)."
    )
    claim: str | None = Field(
        None,
        min_length=1,
        description="A token whose claim of this name (e.g. 'groups') holds 'value' matches.",
    )
    value: str | None = Field(None, description="The value 'claim' must be or contain.")

    @model_validator(mode="after")
    def _one_condition(self) -> AccessGrant:
        if (self.scope is None) == (self.claim is None):
            raise ValueError("give either 'scope', or 'claim' with 'value'")
        if (self.claim is None) != (self.value is None):
            raise ValueError("'claim' and 'value' go together")
        return self


class OAuthSection(_Strict):
    """``[auth.oauth]``: access tokens from an OAuth 2.1 / OpenID provider (mcp_host.oauth)."""

    issuer: str = Field(
        description="The authorization server's issuer URL, exactly as its tokens' 'iss' and its "
        "discovery document name it."
    )
    audience: str = Field(
        description="This host's resource URL as clients reach it, e.g. 'https://mcp.example.com/': "
        "tokens must name it in 'aud' (RFC 8707), and the resource metadata publishes it."
    )
    jwks_uri: str | None = Field(
        None, description="Where the signing keys are; the issuer's discovery document says when omitted."
    )
    algorithms: list[str] = Field(
        default_factory=lambda: ["RS256", "ES256", "PS256", "EdDSA"],
        min_length=1,
        description="Signature algorithms accepted.",
    )
    clock_skew_s: float = Field(30.0, ge=0, le=300, description="Leeway for 'exp', 'nbf' and 'iat'.")
    keys_refresh_s: float = Field(
        300.0,
        ge=0,
        description="How often the signing keys are fetched again; a token signed by an unknown key "
        "fetches them at once. While the provider is unreachable, the keys fetched last keep working.",
    )
    unknown_key_cooldown_s: float = Field(
        10.0,
        ge=0,
        description="Shortest time between two fetches of the keys caused by tokens signed with a key "
        "the host does not know (so that made-up key ids cannot flood the provider).",
    )
    introspection_client_id: str | None = Field(
        None,
        description="With the secret: opaque (non-JWT) tokens are checked at the issuer's "
        "introspection endpoint (RFC 7662) as this client; refused when omitted.",
    )
    introspection_client_secret: SecretStr | None = Field(
        None, description="That client's secret; write it as '${env:NAME}' or '${file:PATH}'."
    )
    claims: list[str] = Field(
        default_factory=lambda: ["email", "name", "preferred_username", "groups"],
        description="Token claims plugins may read through current_session().caller.",
    )
    grants: list[AccessGrant] = Field(
        default_factory=list,
        description="Who may use what; when empty, the scope 'mcp:<server>' opens each server.",
    )

    @field_validator("algorithms")
    @classmethod
    def _asymmetric(cls, value: list[str]) -> list[str]:
        # A shared secret (HS*) or no signature ("none") would let anyone who reads the
        # provider's published keys, or nobody at all, sign tokens.
        unknown = [name for name in value if name not in SIGNATURE_ALGORITHMS]
        if unknown:
            raise ValueError(f"unknown or unsafe {unknown}; use some of {', '.join(SIGNATURE_ALGORITHMS)}")
        return value

    @field_validator("issuer", "audience", "jwks_uri")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/?#\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _introspection_pair(self) -> OAuthSection:
        if (self.introspection_client_id is None) != (self.introspection_client_secret is None):
            raise ValueError("'introspection_client_id' and 'introspection_client_secret' go together")
        return self


class AuthSection(_Strict):
    """``[auth]``: when tokens are listed, every MCP request needs one of them."""

    tokens: list[TokenEntry] = Field(default_factory=list, description="The accepted bearer tokens.")
    oauth: OAuthSection | None = Field(
        None, description="Also accept access tokens from an OAuth / OpenID provider."
    )


class ClusterSection(_Strict):
    """``[cluster]``: several host processes share their sessions through Redis.

    Without this table the host is one process and never imports a Redis client.
    """

    redis_url: SecretStr = Field(
        description="Redis to share session routing through, e.g. 'redis://127.0.0.1:6379/0'; "
        "may be written as '${env:NAME}' when it holds a password."
    )
    key_prefix: str = Field(
        "mcp-host", min_length=1, description="Prefix of every Redis key and channel of this cluster."
    )
    advertise_host: str = Field(
        "127.0.0.1",
        min_length=1,
        description="Address each process listens on for requests forwarded by the others, and "
        "gives them to reach it: a loopback address when all processes share one machine.",
    )
    internal_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="Port of that internal listener; 0 picks a free one. With --workers N, "
        "worker i uses internal_port + i.",
    )
    session_ttl_s: float = Field(
        30.0,
        ge=1,
        description="How long a session's routing entry outlives its process if that process dies; "
        "live sessions refresh it every third of this.",
    )

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value


class TelemetrySection(_Strict):
    """``[telemetry]``: traces of every request, exported over OTLP/HTTP to a collector.

    Needs ``mcp-host[otel]``. Each key left out falls back to the standard ``OTEL_*``
    environment variable; without this table, traces are exported only when the environment
    names an OTLP endpoint. Without either, the host never imports the OpenTelemetry SDK.
    """

    enabled: bool = Field(
        True, description="Export traces; false turns them off even when OTEL_* variables are set."
    )
    endpoint: str | None = Field(
        None,
        description="The collector's OTLP/HTTP address, e.g. 'http://127.0.0.1:4318'; spans go to "
        "its /v1/traces. OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT, else "
        "http://localhost:4318 when omitted.",
    )
    headers: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="HTTP headers sent with every export, e.g. a collector's credentials (write "
        "them as '${env:NAME}'); OTEL_EXPORTER_OTLP_HEADERS when omitted.",
    )
    service_name: str | None = Field(
        None,
        min_length=1,
        description="The service.name of the host's spans; OTEL_SERVICE_NAME, else 'mcp-host' when omitted.",
    )
    sample_ratio: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Share of new traces recorded (a trace the client started follows the client's "
        "choice); OTEL_TRACES_SAMPLER, else every trace, when omitted.",
    )

    @field_validator("endpoint")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/?#\s]+", value):
            raise ValueError("must be an http:// or https:// URL, e.g. 'http://127.0.0.1:4318'")
        return value


class PluginEntry(BaseModel):
    """``[plugins.<name>]``: the host's keys; every other key is the plugin's own setting."""

    model_config = ConfigDict(extra="allow", frozen=True)

    enabled: bool = Field(True, description="Load this plugin.")
    prefix: str = Field("", description="Prepended to the names of this plugin's tools.")
    disabled_tools: list[str] = Field(
        default_factory=list, description="Tools of this plugin not to serve (names before the prefix)."
    )
    call_timeout_s: float | None = Field(
        None,
        gt=0,
        description="Time limit of this plugin's tool calls; [limits] call_timeout_s when omitted.",
    )
    tool_timeouts: dict[str, float] = Field(
        default_factory=dict, description="Time limits of single tools (names before the prefix), in seconds."
    )

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class HostConfig(_Strict):
    server: ServerSection = Field(default_factory=ServerSection)
    limits: LimitsSection = Field(default_factory=LimitsSection)
    security: SecuritySection = Field(default_factory=SecuritySection)
    auth: AuthSection = Field(default_factory=AuthSection)
    metrics: MetricsSection = Field(default_factory=MetricsSection)
    cluster: ClusterSection | None = Field(
        None, description="Share sessions between several host processes through Redis."
    )
    telemetry: TelemetrySection | None = Field(
        None, description="Export traces to an OpenTelemetry collector (needs mcp-host[otel])."
    )
    servers: dict[str, ServerProfile] = Field(default_factory=dict, description="Named servers.")
    plugins: dict[str, PluginEntry] = Field(default_factory=dict, description="Per-plugin settings.")

    @field_validator("servers")
    @classmethod
    def _check_server_names(cls, value: dict[str, ServerProfile]) -> dict[str, ServerProfile]:
        for name in value:
            if not SERVER_PATH_NAME.match(name):
                raise ValueError(
                    f"server name {name!r} must be letters, digits, '-' or '_' (it becomes a URL path)"
                )
        return value

    _written: dict[str, Any] = PrivateAttr(default_factory=dict)
    """The tables as written in the file, before ``${env:}``/``${file:}`` were expanded."""

    def plugin_entry(self, name: str) -> PluginEntry:
        return self.plugins.get(name) or PluginEntry()

    def written(self, *key_path: str) -> Any:
        """The value at ``key_path`` as the file wrote it (references unexpanded), or ``NOT_WRITTEN``."""
        return _lookup(self._written, key_path)


@dataclass(frozen=True)
class Problem:
    key_path: str
    message: str

    def __str__(self) -> str:
        return f"{self.key_path}: {self.message}" if self.key_path else self.message


class ConfigError(Exception):
    """The config cannot be used; ``str()`` is the whole message for the user."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(self._render())

    def _render(self) -> str:
        if len(self.problems) == 1:
            return f"{self.source}: {self.problems[0]}"
        lines = [f"{self.source}: {len(self.problems)} problems"]
        lines.extend(f"  {problem}" for problem in self.problems)
        return "\n".join(lines)


NOT_WRITTEN: Any = object()
"""What ``HostConfig.written`` gives for a key the file does not have."""


def problems_from_validation(
    error: ValidationError,
    model: type[BaseModel],
    prefix: Sequence[str | int] = (),
    written: Any = NOT_WRITTEN,
) -> list[Problem]:
    """Turn pydantic's errors about ``model`` into one ``Problem`` per key, in the config's words.

    ``written`` is the table as the file wrote it: a rejected value is shown as written, so a
    value that came from ``${env:NAME}`` or ``${file:PATH}`` shows as that reference, never as
    the secret it expanded to; and a ``SecretStr`` setting written in plain text is masked.
    """
    problems = []
    for item in error.errors(include_url=False):
        location = [*prefix, *item["loc"]]
        key_path = ".".join(str(part) for part in location)
        if item["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, item["loc"][:-1])
            message = f"unknown key; expected one of: {', '.join(allowed)}" if allowed else "unknown key"
        elif item["type"] == "missing":
            message = "required key is missing"
        elif item["type"] == "value_error":
            # Our validators' own sentences, without pydantic's "Value error, " in front.
            message = str(item.get("ctx", {}).get("error", item["msg"]))
        else:
            message = f"{item['msg'][0].lower()}{item['msg'][1:]}"
            shown = _shown_value(model, item["loc"], item["input"], written)
            if item["type"] != "assertion_error" and shown is not None:
                message += f" (got {shown})"
        problems.append(Problem(key_path, message))
    return problems


MASK = "'**********'"


def _shown_value(
    model: type[BaseModel], location: Sequence[str | int], given: Any, written: Any
) -> str | None:
    """How a rejected value is quoted back: as written, a secret masked; ``None``: not at all."""
    if written is not NOT_WRITTEN:
        given = _lookup(written, location)
        if given is NOT_WRITTEN:
            return None  # pydantic's own path (a union's branch, say): the value could be anything
    if _is_secret_field(model, location):
        return repr(given) if isinstance(given, str) and _SECRET.search(given) else MASK
    return repr(given)


def _lookup(table: Any, key_path: Sequence[str | int]) -> Any:
    value = table
    for part in key_path:
        if isinstance(value, Mapping):
            if part not in value:
                return NOT_WRITTEN
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return NOT_WRITTEN
    return value


def _is_secret_field(model: type[BaseModel], location: Sequence[str | int]) -> bool:
    """Whether the value at ``location`` of ``model`` is (or is within) a ``SecretStr`` field."""
    current: Any = model
    for part in location:
        if _mentions_secret(current):
            return True
        tables = [option for option in (current, *get_args(current)) if _is_model(option)]
        if tables and part in tables[0].model_fields:  # a table, or an optional one
            current = tables[0].model_fields[str(part)].annotation
        elif get_origin(current) in (dict, list):
            current = get_args(current)[-1]
    return _mentions_secret(current)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _mentions_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return any(_mentions_secret(argument) for argument in get_args(annotation))


Model = TypeVar("Model", bound=BaseModel)


def validate_as_written(model: type[Model], values: Mapping[str, Any]) -> Model:
    """Validate a table of the config against ``model``, taking each value as the type it was
    written in: ``port = "8000"`` is not a number and ``enabled = "no"`` is not false.

    Pydantic's strict mode, on the values as JSON: a TOML integer is a valid float, and a
    string still makes a ``Path``, a URL or a date, which TOML has no other way to write. A
    model that sets ``strict=False`` in its ``model_config`` opts out (``plugin_settings``).
    """
    if model.model_config.get("strict") is False:
        return model.model_validate(values)
    return model.model_validate_json(json.dumps(values, default=_json_value), strict=True)


def _json_value(value: object) -> str:
    if isinstance(value, datetime.date | datetime.time):  # TOML's own date and time values
        return value.isoformat()
    raise TypeError(f"not a config value: {value!r}")


def _allowed_keys(model: type[BaseModel], location: Sequence[str | int]) -> list[str]:
    """The keys the table at ``location`` accepts, following fields and ``dict[str, Model]``."""
    current: Any = model
    for part in location:
        if isinstance(current, type) and issubclass(current, BaseModel) and part in current.model_fields:
            annotation = current.model_fields[str(part)].annotation
            # An optional table (``[cluster]``, ``[telemetry]``): the table's own keys.
            current = next((option for option in get_args(annotation) if _is_model(option)), annotation)
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(current.model_fields)
    return []


_SECRET = re.compile(r"\$\{(env|file):([^}]*)\}|\$\$\{")


def expand_secrets(value: Any, key_path: tuple[str | int, ...] = ()) -> Any:
    """Replace ``${env:NAME}`` and ``${file:PATH}`` in string values, anywhere in the config.

    ``$${`` stands for a literal ``${``. A missing variable or unreadable file is an error
    naming the key, never an empty string that would fail later and far away.
    """
    if isinstance(value, str):
        return _expand_string(value, key_path)
    if isinstance(value, Mapping):
        return {key: expand_secrets(item, (*key_path, key)) for key, item in value.items()}
    if isinstance(value, list):
        return [expand_secrets(item, (*key_path, index)) for index, item in enumerate(value)]
    return value


class _SecretError(Exception):
    def __init__(self, key_path: tuple[str | int, ...], message: str) -> None:
        self.problem = Problem(".".join(str(part) for part in key_path), message)


def _expand_string(text: str, key_path: tuple[str | int, ...]) -> str:
    def substitute(match: re.Match[str]) -> str:
        kind, reference = match.group(1), match.group(2)
        if kind is None:
            return "${"
        reference = reference.strip()
        if kind == "env":
            if reference not in os.environ:
                raise _SecretError(key_path, f"environment variable {reference!r} is not set")
            return os.environ[reference]
        try:
            return Path(reference).expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise _SecretError(key_path, f"cannot read secret file {reference!r}: {exc.strerror}") from None

    return _SECRET.sub(substitute, text)


def parse_config(text: str, source: str = "<config>") -> HostConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [Problem("", f"invalid TOML: {exc}")]) from None
    try:
        expanded = expand_secrets(raw)
    except _SecretError as exc:
        raise ConfigError(source, [exc.problem]) from None
    try:
        config = validate_as_written(HostConfig, expanded)
    except ValidationError as exc:
        raise ConfigError(source, problems_from_validation(exc, HostConfig, written=raw)) from None
    if problems := _grant_problems(config):
        raise ConfigError(source, problems)
    config._written = raw
    return config


def _grant_problems(config: HostConfig) -> list[Problem]:
    """``[[auth.oauth.grants]]`` naming a server the config does not have, or giving only some
    tools of a server whose lists shared caches may keep (each user's list is their own)."""
    if config.auth.oauth is None:
        return []
    profiles = {"default": config.server.profile(), **config.servers}
    problems = []
    for index, grant in enumerate(config.auth.oauth.grants):
        for name in grant.servers:
            if name not in profiles:
                message = f"no server is named {name!r} (servers: {', '.join(profiles)})"
                problems.append(Problem(f"auth.oauth.grants.{index}.servers", message))
            elif grant.tools is not None and profiles[name].cache_scope == "public":
                key = "server" if name == "default" else f"servers.{name}"
                message = "must be 'private': [[auth.oauth.grants]] give some users only some of its tools"
                problems.append(Problem(f"{key}.cache_scope", message))
    return list(dict.fromkeys(problems))


def load_config(path: Path | None) -> HostConfig:
    """Read the config file; ``None`` means no file: every default."""
    if path is None:
        return HostConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), [Problem("", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(str(path), [Problem("", f"cannot read it: {reason}")]) from None
    return parse_config(text, str(path))
