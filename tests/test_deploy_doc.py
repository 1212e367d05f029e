"""Unit: every `satrank` command line shown in DEPLOY.md parses with the real CLI parser,
every playbook anchor the alert rules point to exists in DEPLOY.md, and every environment
variable the configuration reads is documented there and in infra/env.example."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from satrank.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "DEPLOY.md"
_COMMAND = re.compile(r"(?:^|[\s/])satrank ([a-z][a-z-]*(?:[^&;|<>\n]*))")  # up to a redirect


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


def _variables_read_by_config() -> set[str]:
    source = (ROOT / "satrank" / "config.py").read_text()
    return set(re.findall(r'r\.[a-z]+\(\s*"([A-Z][A-Z0-9_]+)"', source))


def test_every_setting_is_documented_with_its_default() -> None:
    names = _variables_read_by_config()
    assert {"L402_MACAROON_SECRET", "CRAWL_PROBES_PER_ROUND", "NOSTR_RELAYS"} <= names
    deploy = DEPLOY.read_text()
    table_rows = set(re.findall(r"^\| `([A-Z0-9_]+)`", deploy, flags=re.M))
    table_rows |= set(re.findall(r"^\| `[A-Z0-9_]+` / `([A-Z0-9_]+)`", deploy, flags=re.M))
    assert names - table_rows == set(), "missing from DEPLOY.md's tables"
    example = (ROOT / "infra" / "env.example").read_text()
    in_example = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, flags=re.M))
    assert names - in_example == set(), "missing from infra/env.example"


def test_section_3_nostr_info_shows_the_key_keygen_made(tmp_path: Path) -> None:
    """Following section 3 literally: env.example + keygen, loaded with `set -a`, then
    nostr-info prints the npub keygen announced (not a development key)."""
    env_file = tmp_path / "satrank.env"
    env_file.write_text((ROOT / "infra" / "env.example").read_text())
    satrank = Path(sys.executable).with_name("satrank")
    keygen = subprocess.run([str(satrank), "keygen"], capture_output=True, text=True,
                            check=True, timeout=60).stdout
    with env_file.open("a") as f:
        f.write(keygen + "DATABASE_URL=postgresql://satrank:pw@127.0.0.1:5432/satrank\n")
    announced = re.search(r"npub1[a-z0-9]+", keygen)
    assert announced
    shown = subprocess.run(
        ["bash", "-c", f"set -a && . {shlex.quote(str(env_file))} && set +a && "
                       f"{shlex.quote(str(satrank))} nostr-info"],
        capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin", "SATRANK_DATA_DIR": str(tmp_path / "data")},
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == f"npub:   {announced.group(0)}"
