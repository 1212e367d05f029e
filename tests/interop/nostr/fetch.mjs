// Independent reader for the SatRank tests: fetch events from a relay with nostr-tools,
// verify each one (id recomputed + BIP-340 signature) and print them as one JSON line.
// Usage: node fetch.mjs <relay-url> <filter-json>
import WebSocket from "ws";
import { Relay, useWebSocketImplementation } from "nostr-tools/relay";
import { getEventHash, verifyEvent } from "nostr-tools/pure";

useWebSocketImplementation(WebSocket); // Node 20 has no global WebSocket client

const [url, filterJson] = process.argv.slice(2);
if (!url || !filterJson) {
  console.error("usage: node fetch.mjs <relay-url> <filter-json>");
  process.exit(2);
}
const filter = JSON.parse(filterJson);
const timer = setTimeout(() => {
  console.error("timed out waiting for EOSE");
  process.exit(3);
}, 20000);

const relay = await Relay.connect(url);
const events = [];
const sub = relay.subscribe([filter], {
  onevent(ev) {
    events.push({
      id: ev.id,
      pubkey: ev.pubkey,
      created_at: ev.created_at,
      kind: ev.kind,
      content: ev.content,
      tags: ev.tags,
      hashMatches: getEventHash(ev) === ev.id,
      verified: verifyEvent(ev),
    });
  },
  oneose() {
    sub.close();
    relay.close();
    clearTimeout(timer);
    process.stdout.write(JSON.stringify(events) + "\n");
    process.exit(0);
  },
});
