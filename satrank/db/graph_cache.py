"""The scoring graph (`scores.load_graph_arrays`), kept in process for the last synced graph.

Reading it costs 0.3-0.9 s on mainnet (a join of ~50k channels with their policies), and
the long-running crawler rescores after every probe round (once a minute) on a graph that
only a sync (every 10 minutes) changes. `graph.sync_graph` is the only writer of the tables
the query reads, so they hold what they held at the last sync: the arrays are reused while
the newest sync of the database is the one they were read after (any sync since, even one
of the same graph, reads them again). A sync without a source digest is never cached.
One entry.
"""

from __future__ import annotations

import asyncpg
import numpy as np

from satrank.scoring.graph import GraphArrays

_LAST_SYNC = """
SELECT current_database(), id, fingerprint, nodes, channels FROM graph_syncs
ORDER BY id DESC LIMIT 1
"""


class GraphCache:
    def __init__(self) -> None:
        self._key: tuple[object, ...] | None = None
        self._graph: GraphArrays | None = None
        self.reads = 0  # how many times the graph was read, not reused

    async def key(self, conn: asyncpg.Connection) -> tuple[object, ...] | None:
        """What the graph tables hold now, or None when that cannot be told."""
        row = await conn.fetchrow(_LAST_SYNC)
        if row is None or row["fingerprint"] is None:
            return None
        return tuple(row.values())

    def get(self, key: tuple[object, ...] | None) -> GraphArrays | None:
        return self._graph if key is not None and key == self._key else None

    def put(self, key: tuple[object, ...] | None, graph: GraphArrays) -> GraphArrays:
        """Keep `graph` (read under `key`) and return it, its arrays made read-only: a pass
        that wrote into them would change the next pass's graph."""
        self.reads += 1
        for value in vars(graph).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
        self._key, self._graph = key, graph
        return graph


GRAPHS = GraphCache()  # the process's cache, used by `scores.load_scoring_inputs`
