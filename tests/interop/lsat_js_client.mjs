// lsat-js 2.0.6 against our server: parse the challenge, check the identifier, pay,
// send the token (lsat-js always writes the LSAT scheme), then reuse it.
// usage: node lsat_js_client.mjs URL PAY_URL  -> prints one JSON line
import { Lsat } from "lsat-js";

const [url, payUrl] = process.argv.slice(2);
const challenge = await fetch(url);
const header = challenge.headers.get("www-authenticate");
const lsat = Lsat.fromHeader(header);
const paid = await fetch(payUrl, {
  method: "POST", headers: { "content-type": "application/json" },
  body: JSON.stringify({ invoice: lsat.invoice }),
});
const { preimage } = await paid.json();
lsat.setPreimage(preimage);
const token = lsat.toToken();
const first = await fetch(url, { headers: { Authorization: token } });
const second = await fetch(url, { headers: { Authorization: token } });
console.log(JSON.stringify({
  challengeStatus: challenge.status,
  paymentHash: lsat.paymentHash,
  scheme: token.split(" ")[0],
  caveats: lsat.getCaveats().map((c) => c.encode()),
  first: first.status,
  second: second.status,
  body: await second.json(),
}));
