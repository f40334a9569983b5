"""The benchmark: mcp-host against the SDK's own servers, one server at a time, on loopback.

``python -m bench`` runs it (see BENCHMARKS.md).
"""
