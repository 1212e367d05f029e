// @getalby/lightning-tools 9.0.1 fetchWithL402 against our server: it pays through the
// wallet we give it, then we reuse the credentials it returns without paying again.
// usage: node alby_client.mjs URL PAY_URL  -> prints one JSON line
import { fetchWithL402 } from "@getalby/lightning-tools/402/l402";

const [url, payUrl] = process.argv.slice(2);
let payments = 0;
const wallet = {
  payInvoice: async ({ invoice }) => {
    payments += 1;
    const paid = await fetch(payUrl, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ invoice }),
    });
    return { preimage: (await paid.json()).preimage };
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
  body: await second.json(),
}));
