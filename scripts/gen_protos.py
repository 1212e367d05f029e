"""Regenerate the Python stubs for protos/*.proto into satrank/lightning/.

    python scripts/gen_protos.py            # what `make protos` runs
    python scripts/gen_protos.py OUT_DIR    # write elsewhere (the drift test does this)

grpcio-tools names a proto import `import lightning_pb2`, a top-level module that does not
exist once the stubs live inside the `satrank.lightning` package. We keep lnd's file layout
(`import "lightning.proto"`, so the protos stay lnd's) and rewrite those import lines to
`from satrank.lightning import lightning_pb2` after generation. The output depends only on
the protos and the grpcio-tools version, which is pinned in pyproject.toml.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[1]
PROTO_DIR = ROOT / "protos"
DEFAULT_OUT = ROOT / "satrank" / "lightning"
PACKAGE = "satrank.lightning"
PROTOS = ("lightning.proto", "router.proto", "invoices.proto")
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")

# `import lightning_pb2 as lightning__pb2` (py, grpc) and `import lightning_pb2 as _x` (pyi)
_SIBLING_IMPORT = re.compile(r"^import (\w+_pb2)( as \w+)$", re.MULTILINE)


def generated_files(out_dir: Path) -> list[Path]:
    return sorted(p for p in out_dir.iterdir() if p.name.endswith(GENERATED_SUFFIXES))


def generate(out_dir: Path) -> list[Path]:
    """Run protoc for every proto, fix sibling imports, return the files written."""
    include = str(Path(protoc.__file__).parent / "_proto")  # well-known types
    args = [
        "grpc_tools.protoc",
        f"--proto_path={PROTO_DIR}",
        f"--proto_path={include}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *PROTOS,
    ]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed: " + " ".join(args))
    files = generated_files(out_dir)
    for path in files:
        text = path.read_text()
        fixed = _SIBLING_IMPORT.sub(rf"from {PACKAGE} import \1\2", text)
        if fixed != text:
            path.write_text(fixed)
    return files


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    for path in generate(out_dir):
        print(path.relative_to(out_dir.parent) if out_dir == DEFAULT_OUT else path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
