"""One error tree for everything that talks to Postgres.

    DatabaseError
     ├── DatabaseUnavailable     connection refused or lost, pool closing, server shutting down
     │    └── DatabaseTimeout    a connect, acquire or command deadline passed
     └── DatabaseRejected        Postgres answered with an error (constraint, bad SQL, ...)

Driver exceptions are mapped to these in one place, `database_errors()`, which callers put
around their database work (`async with database_errors(), pool.acquire() as conn:`) and
then catch `DatabaseError` alone: no asyncpg import and no tuple of OS errors outside db/.
"""

from __future__ import annotations

from types import TracebackType

import asyncpg


class DatabaseError(Exception):
    pass


class DatabaseUnavailable(DatabaseError):
    pass


class DatabaseTimeout(DatabaseUnavailable):
    pass


class DatabaseRejected(DatabaseError):
    pass


# What the driver raises when the database cannot do its part; db/ modules that must
# survive a hiccup themselves (health, the leader lock) catch exactly this.
# asyncpg raises InternalClientError ("cannot switch to state ...; another operation is in
# progress") when a connection whose server went away mid-statement is used again: seen
# as 500s in bench/soak.py while Postgres restarted, so it counts as unavailable.
DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError, asyncpg.InterfaceError, asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError, asyncpg.AdminShutdownError,
)


def translate(exc: BaseException) -> DatabaseError | None:
    """The tree's error for a driver exception, None for anything else."""
    if isinstance(exc, DatabaseError):
        return exc
    if isinstance(exc, (TimeoutError, asyncpg.QueryCanceledError)):
        return DatabaseTimeout(str(exc) or type(exc).__name__)
    if isinstance(exc, _UNAVAILABLE):
        return DatabaseUnavailable(str(exc) or type(exc).__name__)
    if isinstance(exc, asyncpg.PostgresError):
        return DatabaseRejected(str(exc))
    return None


class database_errors:  # noqa: N801 - used like contextlib's lower-case managers
    """Re-raise driver exceptions inside the block as `DatabaseError`s (cause kept).

    Works with `with` and `async with`, so it can share one `async with` statement with
    `pool.acquire()` and cover the acquire as well as the queries.
    """

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        mapped = translate(exc) if exc is not None else None
        if mapped is not None and mapped is not exc:
            raise mapped from exc

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.__exit__(kind, exc, tb)
