"""The assistant's tools as an MCP server (streamable HTTP at ``/mcp``).

``app.mcp.server`` adapts the one tool definition (:func:`app.agent.tools.tool_functions`)
to the MCP SDK; ``app.mcp.asgi`` authenticates the caller by API key before the SDK sees
the request.
"""
