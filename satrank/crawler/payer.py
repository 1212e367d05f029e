"""The reference payer's own channels: ListChannels on every vantage node, with the graph
sync, for scoring (scoring/payer.py). Their private channels are not in the gossip graph,
and only they know their local balances."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from satrank.lightning.backend import LocalChannel
from satrank.lightning.errors import LightningError
from satrank.scoring.payer import OwnChannel

# one slow vantage must not hold up the sync: its channels are left out of this pass
LIST_CHANNELS_TIMEOUT_S = 30.0
_log = logging.getLogger(__name__)


@runtime_checkable
class ChannelLister(Protocol):
    async def list_channels(self, *, active_only: bool = False
                            ) -> tuple[LocalChannel, ...]: ...


def own_channel(vantage: str, c: LocalChannel) -> OwnChannel:
    return OwnChannel(vantage, c.remote_pubkey, c.capacity_sat,
                      max(0, c.local_balance_sat - c.local_reserve_sat), c.active)


async def vantage_channels(nodes: Sequence[tuple[str, object]], *,
                           timeout_s: float = LIST_CHANNELS_TIMEOUT_S
                           ) -> tuple[OwnChannel, ...]:
    """The channels of every (vantage pubkey, LND client) in `nodes`; a client that
    cannot list channels, fails or takes longer than `timeout_s` is left out (logged)."""

    async def one(pubkey: str, client: object) -> tuple[OwnChannel, ...]:
        if not isinstance(client, ChannelLister):
            return ()
        try:
            listed = await asyncio.wait_for(client.list_channels(), timeout_s)
        except (LightningError, OSError, TimeoutError) as exc:
            _log.warning("ListChannels of the vantage %s failed, scoring without its "
                         "channels: %s", pubkey[:16], exc)
            return ()
        return tuple(own_channel(pubkey, c) for c in listed)

    lists = await asyncio.gather(*(one(pubkey, client) for pubkey, client in nodes))
    return tuple(c for listed in lists for c in listed)
