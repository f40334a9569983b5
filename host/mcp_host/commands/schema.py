"""``mcp-host schema``: a JSON Schema of the whole config, installed plugins' settings included,
for editors (Taplo / Even Better TOML: ``#:schema ./mcp-host.schema.json`` atop config.toml)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.config import ExtraValues

from mcp_host.commands.common import EXIT_OK
from mcp_host.config import HostConfig, PluginEntry
from mcp_host.plugins import PluginManager

NAME = "schema"
HELP = "print a JSON Schema of the config, with the installed plugins' settings"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def config_schema(plugins: PluginManager) -> dict[str, Any]:
    tables: dict[str, Any] = {}
    for record in plugins.loaded():
        model = plugins.call(record, "plugin_settings")
        tables[record.name] = (_plugin_table(record.name, model), Field(None, description=record.origin))
    plugins_model = create_model(
        "Plugins",
        __config__=ConfigDict(extra="allow"),
        **tables,
    )
    whole: type[BaseModel] = create_model(
        "McpHostConfig",
        __base__=HostConfig,
        plugins=(plugins_model, Field(default_factory=plugins_model, description="Per-plugin settings.")),
    )
    document: dict[str, Any] = whole.model_json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "mcp-host configuration"
    return document


def _plugin_table(name: str, model: object) -> type[BaseModel]:
    """The host's keys of ``[plugins.<name>]`` and the plugin's own settings, in one table."""
    fields: dict[str, Any] = {
        key: (field.annotation, field) for key, field in PluginEntry.model_fields.items()
    }
    extra: ExtraValues = "allow"
    if isinstance(model, type) and issubclass(model, BaseModel):
        fields.update((key, (field.annotation, field)) for key, field in model.model_fields.items())
        extra = model.model_config.get("extra") or "ignore"
    title = "".join(part.capitalize() for part in name.replace("-", "_").split("_"))
    table: type[BaseModel] = create_model(f"{title}Plugin", __config__=ConfigDict(extra=extra), **fields)
    return table


def run(args: argparse.Namespace) -> int:
    plugins = PluginManager()
    plugins.discover()
    print(json.dumps(config_schema(plugins), indent=2))
    return EXIT_OK
