"""A NIP-47 (Nostr Wallet Connect) wallet service for tests, fronting a real lnd wallet.

It listens on a real relay (tests/nostr_relay.py) for `pay_invoice` requests (kind 23194)
addressed to its key, pays them through the wallet it was given (simnet's customer node),
and answers with kind 23195, encrypted as the request was (NIP-44 v2 when the request
carries `["encryption", "nip44_v2"]`, NIP-04 otherwise). Its info event (kind 13194)
advertises both. Events are signed with satrank.nostr; encryption is rust-nostr's
(nostr-sdk), the same library the client side uses, so this is no mirror of our code.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any
from urllib.parse import quote

import nostr_sdk
import websockets

from satrank.client.errors import WalletError
from satrank.client.wallets import LndWallet
from satrank.nostr.events import UnsignedEvent, sign_event
from satrank.nostr.keys import NostrKey

REQUEST, RESPONSE, INFO = 23194, 23195, 13194
READY_TIMEOUT_S = 30.0


class NwcService:
    def __init__(self, relay_url: str, wallet: LndWallet) -> None:
        self.relay_url = relay_url
        self.wallet = wallet
        self.key = NostrKey.generate()
        self.client_secret = NostrKey.generate().secret  # the app's key, in the URI
        self.requests: list[dict[str, Any]] = []  # decrypted requests, in arrival order
        self._keys = nostr_sdk.Keys.parse(self.key.secret.hex())
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="nwc-service")

    @property
    def uri(self) -> str:
        return (f"nostr+walletconnect://{self.key.pubkey_hex}?relay={quote(self.relay_url)}"
                f"&secret={self.client_secret.hex()}")

    def __enter__(self) -> NwcService:
        self._thread.start()
        if not self._ready.wait(READY_TIMEOUT_S):
            raise RuntimeError("the NWC service did not subscribe in time")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=20)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._loop.run_until_complete(self.wallet.close())
            self._loop.close()

    def _signed(self, kind: int, tags: list[list[str]], content: str) -> dict[str, Any]:
        return sign_event(UnsignedEvent(kind, int(time.time()), tags, content), self.key)

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with websockets.connect(self.relay_url) as ws:
            info = self._signed(INFO, [["encryption", "nip44_v2 nip04"]], "pay_invoice")
            await ws.send(json.dumps(["EVENT", info]))
            await ws.send(json.dumps(["REQ", "nwc", {"kinds": [REQUEST],
                                                     "#p": [self.key.pubkey_hex]}]))
            stop = asyncio.create_task(self._stop.wait())
            while not self._stop.is_set():
                receive = asyncio.create_task(ws.recv())
                done, _ = await asyncio.wait({receive, stop},
                                            return_when=asyncio.FIRST_COMPLETED)
                if receive not in done:
                    receive.cancel()
                    break
                message = json.loads(receive.result())
                if message[0] == "EOSE":
                    self._ready.set()
                elif message[0] == "EVENT" and message[2]["kind"] == REQUEST:
                    await ws.send(json.dumps(["EVENT", await self._answer(message[2])]))

    async def _answer(self, event: dict[str, Any]) -> dict[str, Any]:
        sender = nostr_sdk.PublicKey.parse(event["pubkey"])
        nip44 = any(t[:2] == ["encryption", "nip44_v2"] for t in event["tags"])
        decrypt = self._keys.nip44_decrypt if nip44 else self._keys.nip04_decrypt
        encrypt = self._keys.nip44_encrypt if nip44 else self._keys.nip04_encrypt
        request = json.loads(decrypt(sender, event["content"]))
        self.requests.append(request)
        result: dict[str, Any] = {"result_type": request.get("method")}
        if request.get("method") != "pay_invoice":
            result["error"] = {"code": "NOT_IMPLEMENTED", "message": "pay_invoice only"}
        else:
            try:
                paid = await self.wallet.pay(request["params"]["invoice"])
                result["result"] = {"preimage": paid.preimage.hex(),
                                    "fees_paid": paid.fee_sat * 1000}
            except WalletError as exc:
                result["error"] = {"code": "PAYMENT_FAILED", "message": str(exc)}
        tags = [["p", event["pubkey"]], ["e", event["id"]]]
        if nip44:
            tags.append(["encryption", "nip44_v2"])
        return self._signed(RESPONSE, tags, encrypt(sender, json.dumps(result)))
