// lsat-js 2.0.6 against our server: parse the challenge (lsat-js decodes the BOLT11,
// checksum and signature), check the identifier, pay through simnet's customer node, send
// the token (lsat-js always writes the LSAT scheme), then reuse it.
// usage: node lsat_js_client.mjs URL PAY_COMMAND_JSON  -> prints one JSON line
import { Identifier, Lsat } from "lsat-js";
import bolt11 from "bolt11";
import { commandWallet } from "./pay.mjs";

const [url, payCommand] = process.argv.slice(2);
const challenge = await fetch(url);
const header = challenge.headers.get("www-authenticate");
const lsat = Lsat.fromHeader(header);
const decoded = bolt11.decode(lsat.invoice);
lsat.setPreimage(await commandWallet(payCommand)(lsat.invoice));
const token = lsat.toToken();
const first = await fetch(url, { headers: { Authorization: token } });
const second = await fetch(url, { headers: { Authorization: token } });
console.log(JSON.stringify({
  challengeStatus: challenge.status,
  payee: decoded.payeeNodeKey,
  paymentHash: lsat.paymentHash,
  identifierPaymentHash: Identifier.fromString(lsat.id).paymentHash.toString("hex"),
  scheme: token.split(" ")[0],
  caveats: lsat.getCaveats().map((c) => c.encode()),
  first: first.status,
  second: second.status,
  creditsLeft: [first, second].map((r) => r.headers.get("x-l402-credits-left")),
  body: await second.json(),
}));
