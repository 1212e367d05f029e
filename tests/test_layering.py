"""Unit: the dependency rules of DESIGN §2 and STYLE §5/§7, read from the syntax tree.

Every rule is a function of a package root (`satrank/` here, a planted tree in the self-test)
that returns its violations as `path: rule: detail` strings. Imports are read whole: absolute
and relative, `import x` and `from x import y` (as `x` and `x.y`), at any depth (inside
functions too), with relative ones resolved against the file's package. ruff enforces the
ban on relative imports as well (TID252, pyproject.toml); this file keeps the rule next to
the others and proves it on a planted tree.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

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
    # BOLT 11 and its bit/bech32 helpers: one codec, lightning/bolt11.py, for every reader.
    "bolt11": ("satrank.lightning",),
    "bech32": ("satrank.lightning",),
    "bitstring": ("satrank.lightning",),
    "coincurve": ("satrank.lightning", "satrank.simnet", "satrank.nostr"),
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
# Generated gRPC stubs (`lightning_pb2`, `router_pb2_grpc`, ...) and who may import them.
STUB_USERS = ("satrank.lightning", "satrank.simnet")
_STUB = re.compile(r"_pb2(_grpc)?$")

# scoring/ is pure: no clock, randomness, files, network, processes or database. Modules a
# scoring file may not import (any submodule included) ...
IMPURE_MODULES = ("time", "datetime", "random", "secrets", "uuid", "os", "sys", "io",
                  "pathlib", "shutil", "tempfile", "glob", "subprocess", "socket", "ssl",
                  "select", "selectors", "asyncio", "threading", "multiprocessing",
                  "concurrent", "signal", "sqlite3", "asyncpg", "pgserver", "grpc", "urllib",
                  "http", "httpx", "requests", "websockets", "logging", "numpy.random")
# ... and names it may not call or reach through an attribute (`np.random.default_rng`,
# `datetime.now()` on a class imported elsewhere, the builtin `open`).
IMPURE_CALLS = frozenset({"open", "input", "print", "breakpoint", "exec", "eval"})
IMPURE_ATTRIBUTES = frozenset({"random", "now", "utcnow", "today", "time", "monotonic",
                               "perf_counter", "urandom", "getenv", "environ"})

# SQL in string literals (f-string parts included) outside db/: statement shapes, not lone
# words, so English prose ("select a node from the list", "delete from the cache") does not
# trip them. The house writes SQL keywords in capitals (db/), so the shapes that read as prose
# in lower case are matched in capitals only; the ones prose never uses, in any case.
# Docstrings are prose by definition and are skipped.
_SQL_CAPITALS = re.compile(
    r"\bSELECT\b[^;]{1,400}?\bFROM\b|\bUPDATE\s+[\w.\"]+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\bRETURNING\s+[\w*]|\bWITH\s+\w+\s+AS\s*\(|\bTRUNCATE\s+(TABLE\s+)?\w+")
_SQL_ANY_CASE = re.compile(
    r"\bINSERT\s+INTO\b|\bON\s+CONFLICT\b|\b(CREATE|ALTER|DROP)\s+(TABLE|INDEX|UNIQUE\s+INDEX"
    r"|VIEW|SCHEMA|EXTENSION|FUNCTION|TYPE|SEQUENCE)\b",
    re.IGNORECASE)
# Pool and connection use outside db/: these methods called on a receiver whose own name says
# pool or connection (`pool.acquire()`, `self._pool.fetch(...)`, `conn.execute(...)`). A rate
# limiter's `acquire` or a thread pool's `submit` does not match.
DB_METHODS = frozenset({"fetch", "fetchrow", "fetchval", "execute", "executemany", "acquire",
                        "release", "transaction", "cursor", "prepare", "copy_records_to_table",
                        "copy_from_query", "copy_to_table", "copy_from_table", "add_listener"})
_DB_RECEIVER = re.compile(r"(^|_)(pool|conn|connection|con|db_pool|database|tx)$", re.IGNORECASE)

# Known violations in files other workstreams of issue 12 are rewriting (file relative to
# the root, rule). The integrator removes each entry once that branch is merged; the test
# also fails on an entry that no longer matches anything, so none outlives its fix.
ALLOWED: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Source:
    root: Path
    path: Path
    tree: ast.Module

    @property
    def rel(self) -> str:
        return self.path.relative_to(self.root).as_posix()

    @property
    def module(self) -> str:
        rel = self.path.relative_to(self.root.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        return ".".join(parts)

    @property
    def package(self) -> str:
        return self.module if self.path.name == "__init__.py" else self.module.rpartition(".")[0]

    def within(self, *packages: str) -> bool:
        return any(_within(self.module, p) for p in packages)


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def sources(root: Path) -> Iterator[Source]:
    for path in sorted(root.rglob("*.py")):
        if _STUB.search(path.stem):
            continue  # generated: their sibling imports are protoc's, not ours
        yield Source(root, path, _parse(path))


@functools.cache
def _parse(path: Path) -> ast.Module:  # six rules read each file: parse it once
    return ast.parse(path.read_text(), filename=str(path))


def imports(src: Source) -> Iterator[tuple[ast.stmt, str]]:
    """Every module name a file imports, absolute, at any depth: `from a import b` gives `a`
    and `a.b` (b may be a module), a relative import is resolved against the file's package."""
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = src.package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield node, base
            for alias in node.names:
                if alias.name != "*":
                    yield node, f"{base}.{alias.name}"


def _docstrings(tree: ast.Module) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _where(src: Source, node: ast.AST, rule: str, detail: str) -> str:
    return f"{src.rel}:{getattr(node, 'lineno', 0)}: {rule}: {detail}"


def rule_relative_imports(root: Path) -> Iterator[str]:
    for src in sources(root):
        for node in ast.walk(src.tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                yield _where(src, node, "relative-import", "." * node.level + (node.module or ""))


def rule_layering(root: Path) -> Iterator[str]:
    for src in sources(root):
        for node, name in imports(src):
            for prefix, allowed in ONLY_IN.items():
                if _within(name, prefix) and not src.within(*allowed):
                    yield _where(src, node, "layering", f"imports {name} (only in {allowed})")
            for package, forbidden in NEVER.items():
                if src.within(package) and any(_within(name, f) for f in forbidden):
                    yield _where(src, node, "layering", f"imports {name} (never from {package})")


def rule_stubs(root: Path) -> Iterator[str]:
    for src in sources(root):
        if src.within(*STUB_USERS):
            continue
        for node, name in imports(src):
            if any(_STUB.search(part) for part in name.split(".")):
                yield _where(src, node, "generated-stub", f"imports {name}")


def rule_pure_scoring(root: Path) -> Iterator[str]:
    for src in sources(root):
        if not src.within("satrank.scoring"):
            continue
        for node, name in imports(src):
            if any(_within(name, m) for m in IMPURE_MODULES):
                yield _where(src, node, "impure-scoring", f"imports {name}")
        for node in ast.walk(src.tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in IMPURE_CALLS):
                yield _where(src, node, "impure-scoring", f"calls {node.func.id}()")
            elif isinstance(node, ast.Attribute) and node.attr in IMPURE_ATTRIBUTES:
                yield _where(src, node, "impure-scoring", f"uses .{node.attr}")


def rule_sql_in_db(root: Path) -> Iterator[str]:
    for src in sources(root):
        if src.within("satrank.db"):
            continue
        docstrings = _docstrings(src.tree)
        for node in ast.walk(src.tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in docstrings
                    and (found := _SQL_CAPITALS.search(node.value)
                                  or _SQL_ANY_CASE.search(node.value))):
                yield _where(src, node, "sql-outside-db", repr(found.group(0)[:40]))


def _receiver_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def rule_pool_in_db(root: Path) -> Iterator[str]:
    for src in sources(root):
        if src.within("satrank.db"):
            continue
        for node in ast.walk(src.tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in DB_METHODS
                    and _DB_RECEIVER.search(_receiver_name(node.func.value))):
                yield _where(src, node, "pool-outside-db", ast.unparse(node.func) + "()")


RULES: dict[str, Callable[[Path], Iterator[str]]] = {
    "relative-import": rule_relative_imports,
    "layering": rule_layering,
    "generated-stub": rule_stubs,
    "impure-scoring": rule_pure_scoring,
    "sql-outside-db": rule_sql_in_db,
    "pool-outside-db": rule_pool_in_db,
}


def _allowed(violation: str) -> bool:
    path, _, rest = violation.partition(":")
    rule = rest.split(": ")[1]
    return (path, rule) in ALLOWED


@pytest.mark.parametrize("rule", list(RULES))
def test_the_package_follows_the_rule(rule: str) -> None:
    assert [v for v in RULES[rule](PACKAGE) if not _allowed(v)] == []


def test_every_allowlist_entry_still_matches_a_violation() -> None:
    found = {(v.partition(":")[0], v.split(": ")[1])
             for check in RULES.values() for v in check(PACKAGE)}
    assert sorted(ALLOWED - found) == []


# --- self-test: each kind of violation planted in a temporary `satrank/` tree --------------

CLEAN = '''"""A db query module: SELECT x FROM t in a docstring is prose."""
from satrank.db.pool import Pool


async def load(pool: Pool) -> int:
    """Docstrings may say INSERT INTO or DELETE FROM: they are prose."""
    return int(await pool.fetchval("SELECT count(*) FROM nodes"))
'''
# rule -> (file under satrank/, source) pairs, each of which must trip that rule
PLANTED: dict[str, tuple[tuple[str, str], ...]] = {
    "relative-import": (("api/a.py", "from . import b"),
                        ("api/routes/a.py", "def f():\n    from ..db import q")),
    "layering": (("api/a.py", "import asyncpg"),
                 ("scoring/a.py", "def f():\n    import satrank.db.pool"),
                 ("scoring/a.py", "from ..db import probes"),
                 ("api/a.py", "from pynostr.key import PrivateKey")),
    "generated-stub": (("api/a.py", "from satrank.lightning import lightning_pb2 as ln"),
                       ("crawler/a.py", "import satrank.lightning.router_pb2_grpc"),
                       ("crawler/a.py", "from ..lightning.lightning_pb2 import X")),
    # scoring/ reaching a clock, randomness, files, the network or a database
    "impure-scoring": tuple(("scoring/a.py", snippet) for snippet in (
        "import time", "from datetime import datetime", "import random",
        "def f(clock):\n    return clock.now()", "def f():\n    import os",
        "import numpy as np\nx = np.random.default_rng()", "from pathlib import Path",
        "import socket", "import asyncio", "import asyncpg", "import grpc",
        "from urllib.request import urlopen", "import httpx",
        "def f(p):\n    return open(p).read()")),
    "sql-outside-db": (("api/a.py", 'Q = "SELECT alias FROM nodes WHERE pubkey = $1"'),
                       ("api/a.py", 'Q = "insert into nodes (pubkey)\\nvalues ($1)"'),
                       ("crawler/a.py", 't = "x"\nQ = f"INSERT INTO {t} VALUES (1)"'),
                       ("nostr/a.py", 'Q = "UPDATE outbox SET sent = true"'),
                       ("simnet/a.py", 'Q = "DELETE FROM t"'),
                       ("cli.py", 'Q = "CREATE TABLE t (x int)"')),
    "pool-outside-db": (("api/a.py", "async def f(pool):\n    await pool.fetch('x')"),
                        ("crawler/a.py", "class A:\n    async def f(self):\n"
                                         "        await self._pool.execute('x')"),
                        ("nostr/a.py", "async def f(conn):\n    await conn.fetchrow('x')"),
                        ("api/a.py", "async def f(r):\n    await r.app.state.pool.fetchval('x')"),
                        ("crawler/a.py", "async def f(pool):\n"
                                         "    async with pool.acquire() as c:\n        pass")),
}
CASES = [pytest.param(rule, rel, text, id=f"{rule}: {text.splitlines()[-1].strip()}")
         for rule, plants in PLANTED.items() for rel, text in plants]
# Code every rule must let through outside db/ and scoring/: prose, a limiter's acquire, a
# stub import where stubs belong, absolute imports.
INNOCENT = {
    "api/ok.py": ('"""Select a node from the graph; update the cache."""\n'
                  "from satrank.db import nodes\n"
                  "MSG = 'select the node you want from the list, delete from the cache'\n"
                  "def f(limiter, lock):\n    limiter.acquire('k', 1.0)\n"
                  "    return lock.acquire()\n"),
    "lightning/ok.py": "from satrank.lightning import lightning_pb2 as ln\n",
    "simnet/ok.py": "from satrank.lightning import router_pb2_grpc\n",
    "scoring/ok.py": "import numpy as np\nfrom scipy.special import expit\n",
    "db/ok.py": CLEAN,
}


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "satrank"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in [path.parent, *path.parent.parents]:
            if parent == tmp_path:
                break
            (parent / "__init__.py").touch()
        path.write_text(text)
    return root


@pytest.mark.parametrize(("rule", "rel", "text"), CASES)
def test_a_planted_violation_is_caught(tmp_path: Path, rule: str, rel: str, text: str) -> None:
    root = _plant(tmp_path, {**INNOCENT, rel: text + "\n"})
    found = [v for check in RULES.values() for v in check(root)]
    assert found and all(v.startswith(f"{rel}:") for v in found), found
    assert rule in {v.split(": ")[1] for v in found}


def test_clean_files_pass_every_rule(tmp_path: Path) -> None:
    root = _plant(tmp_path, INNOCENT)
    assert [v for check in RULES.values() for v in check(root)] == []


def test_imports_are_read_whole(tmp_path: Path) -> None:
    root = _plant(tmp_path, {"api/routes/a.py": (
        "import os.path, json as j\n"
        "from satrank.db import nodes as n, probes\n"
        "def f():\n    from ..middleware import guard\n    from . import sibling\n")})
    (src,) = [s for s in sources(root) if s.rel == "api/routes/a.py"]
    assert {name for _, name in imports(src)} == {
        "os.path", "json", "satrank.db", "satrank.db.nodes", "satrank.db.probes",
        "satrank.api.middleware", "satrank.api.middleware.guard",
        "satrank.api.routes", "satrank.api.routes.sibling"}
