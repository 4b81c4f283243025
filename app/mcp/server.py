"""An :class:`~mcp.server.mcpserver.MCPServer` over the assistant's tools.

Each tool is registered from the same plain function the chat's LangChain tools wrap, so
its name, schema and description are defined once (:mod:`app.agent.tools`). Who may call
what comes from the caller's API key (put on the HTTP request by :mod:`app.mcp.asgi`),
never from the arguments: the ``role`` argument is filled from the key and hidden from the
schema, and sales-only tools are neither listed nor run for a widget key. The session
arguments the chat fills from its conversation (``sizing_id``, ``idempotency_key``) are
ordinary arguments here: an MCP client has no conversation.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import CallToolResult, ListToolsResult, TextContent
from pydantic import BaseModel, ValidationError

from app.agent.tools import ToolDeps, role_may_use, tool_functions
from app.core.errors import HelioError
from app.core.metrics import record_tool

log = logging.getLogger("helio.mcp")

ROLE_ARG = "role"
INSTRUCTIONS = (
    "Ferramentas do Hélio (YSH): dimensionamento fotovoltaico, catálogo, base de conhecimento "
    "e financiamento; orçamentos em rascunho só para chaves de representante de vendas. "
    "Todos os números vêm do motor de cálculo: cite-os como vêm."
)


def caller_role(request: Any) -> str:
    """The role the ASGI gate put on the HTTP request; no principal means the least role."""
    principal = getattr(getattr(request, "state", None), "principal", None) if request is not None else None
    return getattr(principal, "role", None) or "widget"


def _error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def adapt(fn: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    """``fn`` as an MCP tool function: the same parameters without ``role`` plus the SDK's
    :class:`Context` (from which the caller's role is read); a domain error becomes a tool
    error with the message and hint the chat's model would read."""
    signature = inspect.signature(fn, eval_str=True)
    takes_role = ROLE_ARG in signature.parameters
    params = [p for name, p in signature.parameters.items() if name != ROLE_ARG]
    params.append(inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context))

    def call(ctx: Context, **arguments: Any) -> Any:
        if takes_role:
            arguments[ROLE_ARG] = caller_role(ctx.request_context.request)
        try:
            result = fn(**arguments)
        except HelioError as exc:
            record_tool(fn.__name__, "mcp", False, exc.code)
            return _error(exc.message + (f" {exc.hint}" if exc.hint else ""))
        except ValidationError as exc:
            record_tool(fn.__name__, "mcp", False, "argumento_invalido")
            first = exc.errors()[0]
            return _error(f"Argumento inválido '{'.'.join(str(p) for p in first.get('loc', ()))}': {first.get('msg')}.")
        except Exception:
            record_tool(fn.__name__, "mcp", False, "erro_interno")
            raise
        record_tool(fn.__name__, "mcp", True)
        return result.model_dump(mode="json") if isinstance(result, BaseModel) else result

    call.__name__ = fn.__name__
    call.__doc__ = fn.__doc__
    returns = signature.return_annotation  # a domain type (SizingResult) goes out as its JSON
    returns = dict[str, Any] if isinstance(returns, type) and issubclass(returns, BaseModel) else returns
    call.__signature__ = signature.replace(parameters=params, return_annotation=returns)  # type: ignore[attr-defined]
    call.__annotations__ = {p.name: p.annotation for p in params} | {"return": returns}
    return call


async def role_gate(ctx: Any, call_next: Callable[[Any], Any]) -> Any:
    """MCP middleware: list only the tools the caller's key may use, and refuse the others."""
    role = caller_role(ctx.request)
    if ctx.method == "tools/call":
        name = (ctx.params or {}).get("name")
        if isinstance(name, str) and not role_may_use(role, name):
            log.info("MCP: ferramenta %s recusada para o papel %s", name, role)
            return _error(f"A ferramenta '{name}' não está disponível para esta chave ({role}): "
                          "use uma chave de representante de vendas.")
    result = await call_next(ctx)
    if ctx.method == "tools/list":
        if isinstance(result, ListToolsResult):
            result = result.model_copy(update={"tools": [t for t in result.tools if role_may_use(role, t.name)]})
        elif isinstance(result, dict) and isinstance(result.get("tools"), list):  # already serialised
            result = {**result, "tools": [t for t in result["tools"] if role_may_use(role, t.get("name", ""))]}
    return result


def build_mcp_server(deps: ToolDeps) -> MCPServer:
    """The MCP server with every tool of :func:`tool_functions` and its streamable HTTP
    session manager prepared (stateless JSON responses, so any worker or replica can answer
    any request). Run ``server.session_manager.run()`` in the app's lifespan."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    server = MCPServer("helio", instructions=INSTRUCTIONS, version="0.1.0", middleware=[role_gate])
    # The SDK's constructor calls logging.basicConfig (a rich handler on the root logger at
    # INFO); the service configures its own logging, so put the root logger back as it was.
    root.handlers[:] = handlers
    root.setLevel(level)
    for fn in tool_functions(deps):
        server.add_tool(adapt(fn), name=fn.__name__, description=inspect.cleandoc(fn.__doc__ or ""))
    # The HTTP app itself is not mounted (app.mcp.asgi calls the session manager); building
    # it creates the manager. API keys, not Host/Origin checks, guard the endpoint.
    server.streamable_http_app(stateless_http=True, json_response=True,
                               transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
    return server
