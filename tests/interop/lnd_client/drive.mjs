// Drives simnet with alexbosworth's `lightning` (the library under ln-service), as a wallet
// or a node manager would: every call goes over its own gRPC stubs built from lnd's protos.
// Input: SIMNET_JSON env, {oracle: {socket, dir}, customer: {socket, dir}}. Output: one JSON.
import {readFileSync} from 'node:fs';
import {
  authenticatedLndGrpc, createInvoice, decodePaymentRequest, getNetworkGraph, getNode,
  getRouteToDestination, getWalletInfo, pay, payViaRoutes,
} from 'lightning';

const cfg = JSON.parse(process.env.SIMNET_JSON);
const connect = ({socket, dir}) => authenticatedLndGrpc({
  cert: readFileSync(`${dir}/tls.cert`).toString('base64'),
  macaroon: readFileSync(`${dir}/admin.macaroon`).toString('base64'),
  socket,
}).lnd;
const oracle = connect(cfg.oracle);
const customer = connect(cfg.customer);

const info = await getWalletInfo({lnd: oracle});
const graph = await getNetworkGraph({lnd: oracle});
const someone = graph.nodes[0].public_key;
const node = await getNode({lnd: oracle, public_key: someone});
const invoice = await createInvoice({lnd: oracle, tokens: 1234, description: 'interop'});
const decoded = await decodePaymentRequest({lnd: customer, request: invoice.request});
const paid = await pay({lnd: customer, request: invoice.request, max_fee: 50});
const second = await createInvoice({lnd: oracle, tokens: 777});
const {route} = await getRouteToDestination({
  lnd: customer, destination: info.public_key, tokens: 777, max_fee: 50});
const viaRoute = await payViaRoutes({lnd: customer, id: second.id, routes: [route]});
process.stdout.write(JSON.stringify({
  info: {public_key: info.public_key, alias: info.alias, version: info.version,
    active_channels_count: info.active_channels_count},
  graph: {nodes: graph.nodes.length, channels: graph.channels.length,
    policies: graph.channels[0].policies.length, color: graph.nodes[0].color},
  node: {alias: node.alias, channel_count: node.channel_count, capacity: node.capacity,
    features: node.features.length},
  invoice: {id: invoice.id, tokens: invoice.tokens},
  decoded: {destination: decoded.destination, tokens: decoded.tokens, id: decoded.id},
  paid: {secret: paid.secret, tokens: paid.tokens, fee: paid.fee},
  route: {hops: route.hops.length, tokens: route.tokens},
  via_route: {secret: viaRoute.secret, id: second.id},
}) + '\n');
process.exit(0);
