"""Integration: `satrank mcp` over stdio, driven by the MCP SDK's own client.

The server runs as its own process (as an MCP host starts it) against the live api on
simnet, paying with simnet's customer node (LND wallet, pay macaroon) within caps from its
environment. Listed tools have schemas and descriptions; each tool is called; the paid one
pays once and reuses its token; nothing secret reaches stderr; no cap, no start.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters

from tests.cli import satrank_env
from tests.l402_simnet import SimnetApp
from tests.ports import free_port
from tests.registry_seed import add_endpoint

WEATHER = "https://weather.example/v1/now"
TOOLS = {"check_node", "decide_payment", "find_service", "report_outcome"}


def _server(app: SimnetApp, tmp_path: Path, **extra: str) -> StdioServerParameters:
    customer = app.simnet.customer_dir
    env = {"SATRANK_URL": app.base, "SATRANK_MAX_SAT_PER_REQUEST": "50",
           "SATRANK_MAX_SAT_PER_DAY": "500",
           "SATRANK_SPEND_LEDGER": str(tmp_path / "spent.jsonl"),
           "SATRANK_LND_HOST": app.simnet.customer_host,
           "SATRANK_LND_TLS_CERT": str(customer / "tls.cert"),
           "SATRANK_LND_MACAROON": str(customer / "pay.macaroon"), **extra}
    # stderr to a file the test reads afterwards (what an MCP host would show in its logs)
    command = (f"exec {shlex.quote(sys.executable)} -m satrank mcp "
               f"2>>{shlex.quote(str(tmp_path / 'stderr.log'))}")
    return StdioServerParameters(command="/bin/sh", args=["-c", command],
                                 env={**satrank_env(tmp_path / "data"), **env},
                                 cwd=str(Path(__file__).resolve().parents[1]))


def _answer(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    structured: dict[str, Any] = result.structured_content
    return structured.get("result", structured)


async def test_the_tools_over_stdio_with_a_paid_call(simnet_app: SimnetApp,
                                                      tmp_path: Path) -> None:
    pubkey = simnet_app.pubkey
    await add_endpoint(simnet_app.dsn, WEATHER, pubkey, category="weather", name="weather now")
    await add_endpoint(simnet_app.dsn, "https://img.example/gen", pubkey, category="media")
    async with Client(_server(simnet_app, tmp_path), read_timeout_seconds=60) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == TOOLS
        for tool in tools.values():
            assert len(tool.description or "") > 80  # written for a model to choose by
            properties = tool.input_schema["properties"]
            assert all(p.get("description") for p in properties.values()), tool.name
        assert tools["decide_payment"].input_schema["required"] == ["target"]
        peers = tools["decide_payment"].input_schema["properties"]["caller_peers"]
        assert peers["anyOf"][0]["maxItems"] == 8
        assert set(tools["report_outcome"].input_schema["properties"]["outcome"]["enum"]) == {
            "success", "failure", "timeout"}

        free = _answer(await client.call_tool("check_node", {"node": pubkey}))
        assert free["summary"]["agent"]["publicKey"] == pubkey and "profile" not in free
        assert not (tmp_path / "spent.jsonl").exists()  # nothing paid for free answers

        paid = _answer(await client.call_tool("check_node", {"node": pubkey,
                                                             "detailed": True}))
        again = _answer(await client.call_tool("check_node", {"node": pubkey,
                                                              "detailed": True}))
        assert paid["profile"]["agent"]["publicKey"] == pubkey == \
            again["profile"]["agent"]["publicKey"]
        spent = [json.loads(line) for line in
                 (tmp_path / "spent.jsonl").read_text().splitlines()]
        assert len(spent) == 1 and 21 <= spent[0]["sat"] <= 31  # paid once, token reused

        bad = await client.call_tool("check_node", {"node": "nope"})
        assert bad.is_error and "400 INVALID_ID" in bad.content[0].text

        report = _answer(await client.call_tool("report_outcome", {
            "target": pubkey, "outcome": "success", "amount_sat": 1000}))
        assert report["target"] == pubkey and report["verified"] is False

        intent = _answer(await client.call_tool("decide_payment", {"target": pubkey,
                                                                   "amount_sat": 1000}))
        assert intent["decision"] in ("proceed", "caution", "avoid") and intent["reasons"]
        assert intent["target"]["publicKey"] == pubkey and intent["amountSat"] == 1000
        found = _answer(await client.call_tool("find_service", {"query": "weather"}))
        assert [s["url"] for s in found["data"]] == [WEATHER]
        assert found["data"][0]["payeePubkey"] == pubkey

    log = (tmp_path / "stderr.log").read_text()
    macaroon = (simnet_app.simnet.customer_dir / "pay.macaroon").read_bytes().hex()
    assert macaroon not in log
    assert re.findall(r"[0-9a-fA-F]{64}", log.replace(pubkey, "")) == []  # no preimage


def test_refuses_to_start_without_a_cap(tmp_path: Path) -> None:
    env = {k: v for k, v in satrank_env(tmp_path).items() if not k.startswith("SATRANK_MAX")}
    env = {**env, "SATRANK_URL": "http://127.0.0.1:9", "SATRANK_NWC_URI":
           "nostr+walletconnect://" + "ab" * 32 + "?relay=ws://127.0.0.1:9&secret=" + "cd" * 32}
    done = subprocess.run([sys.executable, "-m", "satrank", "mcp"], env=env, input="",
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert "refusing to start without a spending cap" in done.stderr
    assert "cd" * 32 not in done.stderr


async def test_the_tools_over_streamable_http(simnet_app: SimnetApp, tmp_path: Path) -> None:
    port = free_port()
    env = {**_server(simnet_app, tmp_path).env, "SATRANK_MAX_SAT_PER_REQUEST": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "satrank", "mcp", "--transport", "http",
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_listening(port, proc)
        async with Client(f"http://127.0.0.1:{port}/mcp", read_timeout_seconds=60) as client:
            assert {t.name for t in (await client.list_tools()).tools} == TOOLS
            free = _answer(await client.call_tool("check_node", {"node": simnet_app.pubkey}))
            assert free["verdict"]["verdict"] == "SAFE"
            capped = await client.call_tool("check_node", {"node": simnet_app.pubkey,
                                                           "detailed": True})
            assert capped.is_error and "SPENDING_CAP" in capped.content[0].text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert not (tmp_path / "spent.jsonl").exists()


def _wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "satrank mcp exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError("satrank mcp did not listen")
