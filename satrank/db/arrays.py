"""Read a query's float8 columns straight into a numpy matrix via binary COPY.

Fetching ~50k rows x 16 columns as asyncpg Records and converting them costs ~0.5 s of
Python object churn; the binary COPY stream of non-null float8 columns is a fixed-width
record layout that numpy reads in one `frombuffer`.
"""

from __future__ import annotations

import asyncio

import asyncpg
import numpy as np

# PGCOPY signature (11 bytes) + int32 flags + int32 header-extension length
_HEADER = b"PGCOPY\n\xff\r\n\x00"
_HEADER_LEN = 19
_TRAILER = b"\xff\xff"


def _record_dtype(ncols: int) -> np.dtype[np.void]:
    fields: list[tuple[str, str]] = [("nfields", ">i2")]
    for i in range(ncols):
        fields += [(f"len{i}", ">i4"), (f"v{i}", ">f8")]
    return np.dtype(fields)


def parse_float8_copy(data: bytes, ncols: int) -> np.ndarray:
    """(rows, ncols) float64 from a binary COPY stream of `ncols` NON-NULL float8 columns.

    Raises ValueError if the stream is not exactly that layout (a NULL, another type or
    a different column count), rather than returning shifted numbers.
    """
    if not data.startswith(_HEADER) or not data.endswith(_TRAILER):
        raise ValueError("not a binary COPY stream")
    ext = int.from_bytes(data[15:19], "big")
    body = memoryview(data)[_HEADER_LEN + ext:len(data) - len(_TRAILER)]
    dtype = _record_dtype(ncols)
    if len(body) % dtype.itemsize:
        raise ValueError("binary COPY rows are not all non-null float8 columns")
    recs = np.frombuffer(body, dtype=dtype)
    lens = np.stack([recs[f"len{i}"] for i in range(ncols)]) if ncols else np.zeros((0, 0))
    if len(recs) and ((recs["nfields"] != ncols).any() or (lens != 8).any()):
        raise ValueError("binary COPY rows are not all non-null float8 columns")
    out = np.empty((len(recs), ncols), dtype=np.float64)
    for i in range(ncols):
        out[:, i] = recs[f"v{i}"]
    return out


async def fetch_float8_matrix(conn: asyncpg.Connection, query: str, ncols: int) -> np.ndarray:
    """Run `query` (every column a non-null float8) and return its rows as a matrix. The
    parse runs in a thread: on the mainnet graph (11 MB) it held an api worker's event
    loop for 66-75 ms in one piece while the intent snapshot was read."""
    chunks: list[bytes] = []

    async def collect(chunk: bytes) -> None:
        chunks.append(chunk)

    await conn.copy_from_query(query, output=collect, format="binary")
    return await asyncio.to_thread(parse_float8_copy, b"".join(chunks), ncols)
