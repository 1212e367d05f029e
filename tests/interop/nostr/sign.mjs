// Reference id/signature for the SatRank unit tests: nostr-tools computes the NIP-01 id of
// an event template read from stdin and signs it with the given hex secret.
// Usage: echo '{"kind":1,"created_at":1,"tags":[],"content":""}' | node sign.mjs <hex-secret>
import { finalizeEvent, getEventHash, getPublicKey } from "nostr-tools/pure";

const secretHex = process.argv[2];
let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;
const template = JSON.parse(input);
const secret = Uint8Array.from(Buffer.from(secretHex, "hex"));
const ev = finalizeEvent(template, secret);
process.stdout.write(
  JSON.stringify({ ...ev, pubkeyCheck: getPublicKey(secret), idCheck: getEventHash(ev) }) + "\n",
);
