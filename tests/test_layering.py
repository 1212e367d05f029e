"""Unit: the dependency rules of DESIGN §2 and STYLE §5, checked on every import."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "satrank"

# import prefix -> the satrank packages allowed to import it
ONLY_IN: dict[str, tuple[str, ...]] = {
    "asyncpg": ("satrank.db",),
    "pgserver": ("satrank.db",),
    "grpc": ("satrank.lightning", "satrank.simnet"),
    "google.protobuf": ("satrank.lightning", "satrank.simnet"),
    # simnet serves its truth side channel for benches (not lnd's API) over plain HTTP
    "starlette": ("satrank.api", "satrank.simnet"),
    "uvicorn": ("satrank.cli", "satrank.api", "satrank.simnet"),
    "pynostr": ("satrank.nostr",),
    "websockets": ("satrank.nostr",),
    "pymacaroons": ("satrank.l402", "satrank.simnet"),  # simnet mints lnd's own macaroons
    "satrank.api": ("satrank.api", "satrank.cli"),
    "satrank.crawler": ("satrank.crawler", "satrank.cli"),
    "satrank.simnet": ("satrank.simnet", "satrank.cli"),
    "satrank.demo": ("satrank.demo", "satrank.cli"),  # runs the others as processes
}
# package -> satrank packages it must never import
NEVER: dict[str, tuple[str, ...]] = {
    "satrank.scoring": ("satrank.db", "satrank.lightning", "satrank.api", "satrank.crawler",
                        "satrank.nostr", "satrank.l402", "satrank.simnet"),
    "satrank.l402": ("satrank.lightning", "satrank.api", "satrank.crawler"),
    "satrank.nostr": ("satrank.lightning", "satrank.api", "satrank.crawler", "satrank.scoring"),
}
_GENERATED = ("_pb2.py", "_pb2_grpc.py")


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_imports_follow_the_layering() -> None:
    violations: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name.endswith(_GENERATED):
            continue
        module = _module_name(path)
        for imported in _imports(path):
            for prefix, allowed in ONLY_IN.items():
                if _within(imported, prefix) and not any(_within(module, a) for a in allowed):
                    violations.append(f"{module} imports {imported}")
            for package, forbidden in NEVER.items():
                if _within(module, package) and any(_within(imported, f) for f in forbidden):
                    violations.append(f"{module} imports {imported}")
    assert violations == []


def test_the_rules_catch_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import asyncpg\nfrom starlette.requests import Request\n")
    assert _imports(bad) == {"asyncpg", "starlette.requests"}
