"""mcp-host-time: the current time in any time zone, and conversions between zones, offline.

mcp-host loads ``mcp_host_time.plugin`` through the ``time`` entry point in the ``mcp_host`` group.
"""

from mcp_host_time.errors import TimeError
from mcp_host_time.models import TimeConversion, ZonedTime
from mcp_host_time.settings import TimeSettings

__all__ = ["TimeConversion", "TimeError", "TimeSettings", "ZonedTime"]
