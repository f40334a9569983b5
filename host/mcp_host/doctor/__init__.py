"""The client side of ``mcp-host doctor``: probing a server as Cursor would, and the verdict.

Nothing here imports the server stack: the doctor runs against any MCP server, local or not.
"""
