"""The plugin as mcp-host sees it: installed entry point, hooks, settings."""

from typing import Any

import pytest
from mcp_host.config import ConfigError

from mcp_host_time import TimeSettings


def test_the_installed_plugin_loads_with_its_two_tools(mcp_host_plugin: Any) -> None:
    record = mcp_host_plugin("time")

    assert record.distribution == "mcp-host-time"
    assert record.contributions.tool_names == ["current_time", "convert_time"]
    assert record.settings == TimeSettings()


def test_settings_defaults_and_descriptions() -> None:
    settings = TimeSettings()
    properties = TimeSettings.model_json_schema()["properties"]

    assert (settings.default_zone, settings.hour_format) == ("UTC", "24h")
    assert set(properties) == {"default_zone", "hour_format"}
    assert all(field.get("description") for field in properties.values())


def test_the_default_zone_is_stored_under_its_iana_name(mcp_host_plugin: Any) -> None:
    record = mcp_host_plugin("time", '[plugins.time]\ndefault_zone = "tokyo"\n')

    assert record.settings.default_zone == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'default_zone = "Mars/Olympus"',
            "plugins.time.default_zone: unknown time zone 'Mars/Olympus'; give an IANA time zone",
        ),
        ('hour_format = "13h"', "plugins.time.hour_format: input should be '24h' or '12h'"),
        ('zone = "UTC"', "plugins.time.zone: unknown key; expected one of: default_zone, hour_format"),
    ],
)
def test_bad_settings_name_their_key(mcp_host_plugin: Any, table: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        mcp_host_plugin("time", f"[plugins.time]\n{table}\n")

    assert message in str(error.value)
