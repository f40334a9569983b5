"""``mcp-host init``: a starter config holding every installed plugin's settings and defaults."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ValidationError

from mcp_host.commands.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from mcp_host.config import ServerSection
from mcp_host.plugins import PluginManager, PluginRecord, PluginStatus
from mcp_host.programs import own_program

NAME = "init"
HELP = "write a starter config.toml with every installed plugin's settings"

HEADER = """\
# mcp-host configuration, written by `mcp-host init`. Every key is optional.
# Check it: {mcp_host} check --config {path}
# Serve it: {mcp_host} --config {path}
# Any string can come from the environment or a file: "${{env:NAME}}", "${{file:PATH}}".
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", nargs="?", type=Path, default=Path("config.toml"), help="default: config.toml"
    )
    parser.add_argument("--force", action="store_true", help="overwrite the file if it exists")


def run(args: argparse.Namespace) -> int:
    path: Path = args.path
    if path.exists() and not args.force:
        print(f"mcp-host: {path} exists; nothing was written (--force overwrites it)", file=sys.stderr)
        return EXIT_USAGE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _cannot_write(path, exc)
    plugins = PluginManager()
    plugins.discover()
    server = ServerSection()
    sections = [
        HEADER.format(path=shlex.quote(str(path)), mcp_host=own_program("mcp-host")),
        tomli_w.dumps(
            {"server": server.model_dump(include={"host", "port", "name", "instructions"}, exclude_none=True)}
        ),
    ]
    sections.extend(_plugin_section(plugins, record) for record in plugins.records.values())
    try:
        path.write_text("\n".join(sections), encoding="utf-8")
    except OSError as exc:
        return _cannot_write(path, exc)
    described = ", ".join(plugins.records) or "no plugins"
    print(f"{path}: written, with {described}")
    return EXIT_OK


def _cannot_write(path: Path, exc: OSError) -> int:
    where = f" ({exc.filename})" if exc.filename and exc.filename != str(path) else ""
    print(f"mcp-host: cannot write {path}: {exc.strerror}{where}", file=sys.stderr)
    return EXIT_FAILURE


def _plugin_section(plugins: PluginManager, record: PluginRecord) -> str:
    heading = f"# {record.name}: {record.origin}"
    if record.status is not PluginStatus.LOADED:
        return f"{heading}; it does not load ({record.error}), so it is left disabled\n" + tomli_w.dumps(
            {"plugins": {record.name: {"enabled": False}}}
        )
    model = plugins.call(record, "plugin_settings")
    values: dict[str, Any] = {"enabled": True}
    notes: list[str] = []
    if isinstance(model, type) and issubclass(model, BaseModel):
        defaults, required = _defaults(model)
        values.update(defaults)
        notes.extend(f"# {name}: {description}" for name, description in _descriptions(model).items())
        if required:
            notes.append(f"# required, no default: {', '.join(required)}")
    return "\n".join([heading, *notes]) + "\n" + tomli_w.dumps({"plugins": {record.name: values}})


def _defaults(model: type[BaseModel]) -> tuple[dict[str, Any], list[str]]:
    required = [name for name, field in model.model_fields.items() if field.is_required()]
    try:
        dumped = model.model_construct().model_dump(mode="json", exclude=set(required))
    except (ValidationError, TypeError):
        return {}, required
    # TOML has no null: a setting without a value is simply left out.
    return {key: value for key, value in dumped.items() if value is not None}, required


def _descriptions(model: type[BaseModel]) -> dict[str, str]:
    return {name: field.description for name, field in model.model_fields.items() if field.description}
