"""What of a new config a reload applies to the running host, and what takes a restart.

A reload applies ``[plugins.*]`` (plugins enabled, disabled, installed), ``[servers.*]``,
``[[auth.tokens]]``, the ``[server]`` keys a ``[servers.NAME]`` table has too, and the limits
on sessions. Everything else is how the running process was built (its sockets, uvicorn,
the tool guards, the cluster): ``applied_config`` keeps it as it was and names it, for the
log line that says it takes a restart.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from mcp_host.access import AccessControl
from mcp_host.config import HostConfig, ServerProfile
from mcp_host.host import Host
from mcp_host.plugins import PluginRecord, PluginStatus

LIVE_SECTIONS = frozenset({"plugins", "servers", "auth"})
LIVE_SERVER_KEYS = frozenset(ServerProfile.model_fields)
"""The ``[server]`` keys a reload applies: those describing the default server, as a
``[servers.NAME]`` table does."""
LIVE_LIMITS = frozenset(
    {"max_sessions", "max_sessions_per_client", "max_concurrent_calls", "max_pending_output_bytes"}
)
"""The ``[limits]`` a reload applies: to admission at once, to the sessions opened after it."""


def applied_config(
    old: HostConfig, new: HostConfig, kept_plugins: dict[str, PluginRecord]
) -> tuple[HostConfig, list[str]]:
    """What of ``new`` a reload applies, and the keys it leaves for a restart."""
    needs_restart = [
        f"[{section}]"
        for section in HostConfig.model_fields
        if section not in LIVE_SECTIONS | {"server", "limits"}
        and getattr(old, section) != getattr(new, section)
    ]
    server = _merged("server", old.server, new.server, LIVE_SERVER_KEYS, needs_restart)
    limits = _merged("limits", old.limits, new.limits, LIVE_LIMITS, needs_restart)
    plugin_tables = dict(new.plugins)
    for name, record in kept_plugins.items():
        if record.status is not PluginStatus.LOADED or not new.plugin_entry(name).enabled:
            continue
        if old.plugin_entry(name) != new.plugin_entry(name):
            needs_restart.append(f"[plugins.{name}]")
            if name in old.plugins:
                plugin_tables[name] = old.plugins[name]
            else:
                plugin_tables.pop(name, None)
    auth = new.auth
    if AccessControl.needed(old.auth) != AccessControl.needed(new.auth):
        # Whether tokens are required at all is how the app was built (its auth middleware).
        needs_restart.append("[auth] (requiring tokens, or no longer)")
        auth = old.auth
    elif old.auth.oauth != new.auth.oauth:
        # The resource server's metadata, gates and key caches are built once.
        needs_restart.append("[auth.oauth]")
        auth = new.auth.model_copy(update={"oauth": old.auth.oauth})
    applied = old.model_copy(
        update={
            "server": server,
            "limits": limits,
            "servers": new.servers,
            "plugins": plugin_tables,
            "auth": auth,
        }
    )
    return applied, needs_restart


Section = TypeVar("Section", bound=BaseModel)


def _merged(name: str, old: Section, new: Section, live: frozenset[str], needs_restart: list[str]) -> Section:
    """``new`` with the keys a reload cannot apply kept as in ``old`` (and named in ``needs_restart``)."""
    restart_only = {key for key in type(new).model_fields if key not in live}
    changed = sorted(key for key in restart_only if getattr(old, key) != getattr(new, key))
    needs_restart.extend(f"[{name}] {key}" for key in changed)
    return new.model_copy(update={key: getattr(old, key) for key in restart_only})


def apply_limits(host: Host) -> None:
    limits = host.config.limits
    host.sessions.max_sessions = limits.max_sessions
    host.sessions.max_per_client = limits.max_sessions_per_client
    host.factory.max_concurrent_calls = limits.max_concurrent_calls
    host.factory.max_pending_output_bytes = limits.max_pending_output_bytes
