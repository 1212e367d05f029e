"""Unit: every `satrank` command line shown in DEPLOY.md parses with the real CLI parser,
and every playbook anchor the alert rules point to exists in DEPLOY.md."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from satrank.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "DEPLOY.md"
_COMMAND = re.compile(r"(?:^|[\s/])satrank ([a-z][a-z-]*(?:[^&;|\n]*))")


def _code_lines() -> list[str]:
    lines: list[str] = []
    inside = False
    for line in DEPLOY.read_text().splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside:
            lines.append(line)
    return lines


def _shown_commands() -> list[str]:
    found = []
    for line in _code_lines():
        for match in _COMMAND.finditer(line.split("#", 1)[0] if " # " in line else line):
            found.append(re.sub(r"\$\([^)]*\)", "X", match.group(1)).rstrip(" \\"))
    return found


def test_deploy_md_shows_commands() -> None:
    shown = {c.split()[0] for c in _shown_commands()}
    assert {"backup", "restore", "healthcheck", "migrate"} <= shown


@pytest.mark.parametrize("command", _shown_commands())
def test_each_shown_command_parses(command: str) -> None:
    parser, commands = build_parser()
    argv = shlex.split(command)
    assert argv[0] in commands, f"DEPLOY.md shows `satrank {argv[0]}`, which does not exist"
    parser.parse_args(argv)  # exits (fails the test) on an unknown option


def test_alert_runbooks_point_at_existing_sections() -> None:
    rules = (ROOT / "infra" / "prometheus" / "satrank-rules.yml").read_text()
    anchors = set(re.findall(r'runbook: "DEPLOY\.md#([a-z-]+)"', rules))
    headings = {
        re.sub(r"[^a-z0-9 -]", "", h.lower()).strip().replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", DEPLOY.read_text(), flags=re.M)
    }
    assert anchors and anchors <= headings, anchors - headings
