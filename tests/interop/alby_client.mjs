// @getalby/lightning-tools 9.0.1 fetchWithL402 against our server: it pays through the
// wallet we give it (simnet's customer node), then we reuse the credentials it returns
// without paying again.
// usage: node alby_client.mjs URL PAY_COMMAND_JSON  -> prints one JSON line
import { fetchWithL402 } from "@getalby/lightning-tools/402/l402";
import { commandWallet } from "./pay.mjs";

const [url, payCommand] = process.argv.slice(2);
const pay = commandWallet(payCommand);
let payments = 0;
const wallet = {
  payInvoice: async ({ invoice }) => {
    payments += 1;
    return { preimage: await pay(invoice) };
  },
};
const first = await fetchWithL402(url, {}, { wallet });
const credentials = first.payment?.credentials;
const second = await fetchWithL402(url, {}, { wallet, credentials });
console.log(JSON.stringify({
  first: first.status,
  second: second.status,
  payments,
  paid: first.payment?.paid ?? null,
  creditsLeft: [first, second].map((r) => r.headers.get("x-l402-credits-left")),
  body: await second.json(),
}));
