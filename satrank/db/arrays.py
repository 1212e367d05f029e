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


_FLOAT8_OID = 701


def float8_arrays_copy(*matrices: np.ndarray) -> bytes:
    """A binary COPY stream of rows (int4 row number, float8[], ...): row i holds row i of
    every (rows, width) matrix as a one-dimensional array (NaN stays NaN; no NULLs).

    asyncpg encodes a float8[] from Python floats one element at a time (~0.3 s for the
    3 x 16 grid values of 12.8k nodes); this layout is fixed-width, so numpy writes it.
    """
    n = matrices[0].shape[0] if matrices else 0
    fields: list[tuple[object, ...]] = [("nfields", ">i2"), ("len_row", ">i4"), ("row", ">i4")]
    for k, m in enumerate(matrices):
        if m.ndim != 2 or m.shape[0] != n:
            raise ValueError("every matrix needs one row per record")
        fields += [(f"len{k}", ">i4"), (f"ndim{k}", ">i4"), (f"flags{k}", ">i4"),
                   (f"oid{k}", ">i4"), (f"dim{k}", ">i4"), (f"lbound{k}", ">i4"),
                   (f"values{k}", [("len", ">i4"), ("v", ">f8")], (m.shape[1],))]
    recs = np.zeros(n, dtype=np.dtype(fields))
    recs["nfields"] = 1 + len(matrices)
    recs["len_row"] = 4
    recs["row"] = np.arange(n, dtype=np.int64)
    for k, m in enumerate(matrices):
        recs[f"len{k}"] = 20 + 12 * m.shape[1]
        recs[f"ndim{k}"] = 1
        recs[f"oid{k}"] = _FLOAT8_OID
        recs[f"dim{k}"] = m.shape[1]
        recs[f"lbound{k}"] = 1
        recs[f"values{k}"]["len"] = 8
        recs[f"values{k}"]["v"] = m
    return _HEADER + b"\x00" * 8 + recs.tobytes() + _TRAILER
