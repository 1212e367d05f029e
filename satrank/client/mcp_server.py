"""`satrank mcp`: SatRank's tools for LLM agents over MCP (the official SDK, `[mcp]` extra).

Four tools, each described for a model deciding what to call: `check_node` (is this node
healthy?), `decide_payment` (will THIS payment work; POST /api/intent), `find_service`
(the L402 service registry) and `report_outcome` (tell SatRank how a payment went). Paid
answers are bought by the client (async_client.py) within the caps from the environment
(mcp_env.py); the server refuses to start without one. Tool errors carry SatRank's error
code for the model to read; no secret, macaroon or preimage is ever in a tool answer
or a log line.
"""

from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from satrank import __version__
from satrank.client.answers import Json
from satrank.client.async_client import AsyncSatRankClient
from satrank.client.errors import ApiError, SatRankError, SpendingCapExceeded
from satrank.client.mcp_env import McpEnv

INSTRUCTIONS = (
    "SatRank is a Lightning Network trust oracle. Before paying a Lightning node, invoice "
    "or L402 endpoint, call decide_payment (or check_node for a node in general) and follow "
    "its decision: proceed, caution or avoid. After paying, call report_outcome so the "
    "oracle learns from it. Paid answers cost a few sat, bought automatically within this "
    "server's spending caps."
)
NODE_ID = ("Lightning node id: the 66-hex compressed public key (02.. or 03..), or the "
           "64-hex sha256 of that key")


def _tool_error(exc: SatRankError) -> ToolError:
    if isinstance(exc, ApiError):
        return ToolError(f"SatRank answered {exc.status} {exc.code}: {exc.message}")
    if isinstance(exc, SpendingCapExceeded):
        return ToolError(f"SPENDING_CAP: {exc} (the operator of this tool sets the caps)")
    return ToolError(f"{type(exc).__name__}: {exc}")


async def _answered(call: Awaitable[Mapping[str, Any]]) -> Json:
    """The tool's answer, or the ToolError a model can read."""
    try:
        return dict(await call)
    except SatRankError as exc:
        raise _tool_error(exc) from None


def build_server(client: AsyncSatRankClient, *, wallet_kind: str = "none") -> MCPServer:
    """The MCP server over `client` (which it closes when the server stops)."""

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await client.aclose()

    server: MCPServer = MCPServer(
        "satrank", instructions=INSTRUCTIONS, version=__version__, lifespan=lifespan,
        log_level="WARNING",  # stderr; stdout is the stdio transport's
        description=f"SatRank trust oracle at {client.origin} (wallet: {wallet_kind})")

    @server.tool(description=(
        "Check a Lightning node's health before paying it: verdict (SAFE, RISKY, UNKNOWN or "
        "INSUFFICIENT), p_success (probability a payment to it succeeds) with its 95% "
        "interval, rank 0-100 and the reasons. Free. Set detailed=true for the full "
        "evidence (probe history by amount, channels, fee policies); that costs 1 credit."))
    async def check_node(
        node: Annotated[str, Field(description=NODE_ID)],
        detailed: Annotated[bool, Field(description="also return the full evidence "
                                        "(paid: 1 credit)")] = False,
    ) -> Json:
        async def look_up() -> Json:
            answer: Json = {"summary": await client.agent(node),
                            "verdict": await client.verdict(node)}
            if detailed:
                answer["profile"] = await client.profile(node)
            return answer

        return await _answered(look_up())

    @server.tool(description=(
        "Decide whether to make a specific Lightning payment, before paying. Give the "
        "target (a node id, a BOLT11 invoice, or an L402 endpoint URL), the amount and, if "
        "known, the paying node (caller) or, for a wallet with private channels, its "
        "channels' peers (caller_peers, e.g. its LSP). Returns p_success for this payment "
        "from this payer with its 95% interval, a decision (proceed, caution or avoid) with "
        "reasons, the expected fee and hops, and for an invoice its payee, amount and "
        "expiry. Costs 2 credits (5 with fresh=true, which probes the target right now)."))
    async def decide_payment(
        target: Annotated[str, Field(description="what you are about to pay: node id, "
                                     "BOLT11 invoice, or L402 endpoint URL")],
        amount_sat: Annotated[int | None, Field(
            description="amount in sat (optional when the invoice carries one)", ge=1)] = None,
        caller: Annotated[str | None, Field(description="your paying node: " + NODE_ID
                                            + " (optional)")] = None,
        max_fee_sat: Annotated[int | None, Field(
            description="most you will pay in routing fees (optional)", ge=0)] = None,
        fresh: Annotated[bool, Field(description="probe the target now before answering "
                                     "(5 credits instead of 2)")] = False,
        caller_peers: Annotated[list[str] | None, Field(
            description="your wallet's channel peers when its channels are private (e.g. "
            "your LSP's node id; at most 8; optional)", max_length=8)] = None,
    ) -> Json:
        return await _answered(client.intent(target, caller=caller, amount_sat=amount_sat,
                                             max_fee_sat=max_fee_sat, fresh=fresh,
                                             caller_peers=caller_peers))

    @server.tool(description=(
        "Find paid HTTP APIs (L402 services) in SatRank's registry, by text and category, "
        "with how reliably each one answers after payment, its price and latency, and the "
        "health of the node that gets paid. Free."))
    async def find_service(
        query: Annotated[str | None, Field(description="words to search for, e.g. "
                                           "'weather' or 'image generation'")] = None,
        category: Annotated[str | None, Field(description="a registry category")] = None,
        max_price_sat: Annotated[int | None, Field(description="highest price per call "
                                                   "in sat", ge=0)] = None,
        limit: Annotated[int, Field(description="how many results", ge=1, le=50)] = 10,
    ) -> Json:
        return await _answered(client.services(q=query, category=category,
                                               max_price_sat=max_price_sat, limit=limit))

    @server.tool(description=(
        "Tell SatRank how a Lightning payment went, after you made it: success, failure or "
        "timeout. With the target's invoice and the payment preimage the report is verified "
        "and weighs like a probe; without them it counts as a weaker, unverified report. "
        "Free; it improves the answers every agent gets."))
    async def report_outcome(
        target: Annotated[str, Field(description="the node you paid: " + NODE_ID)],
        outcome: Annotated[Literal["success", "failure", "timeout"],
                           Field(description="how the payment ended")],
        amount_sat: Annotated[int | None, Field(description="amount in sat", ge=1)] = None,
        invoice: Annotated[str | None, Field(description="the BOLT11 invoice you paid "
                                             "(for a verified report)")] = None,
        preimage: Annotated[str | None, Field(description="64-hex preimage you got when "
                                              "the payment succeeded")] = None,
    ) -> Json:
        return await _answered(client.report(target, outcome, amount_sat=amount_sat,
                                             invoice=invoice, preimage=preimage))

    return server


def run(env: McpEnv, *, transport: Literal["stdio", "http"], host: str = "127.0.0.1",
        port: int = 8000) -> None:
    server = build_server(env.client(), wallet_kind=env.wallet_kind)
    if transport == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host=host, port=port)
