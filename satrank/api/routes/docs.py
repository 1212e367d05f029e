"""GET /api/docs: a self-contained page that renders /api/openapi.json (no CDN, offline).

The script is served from /api/docs.js (same origin) so the page works under a strict
Content-Security-Policy without 'unsafe-inline' scripts.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; "
        "style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")

_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SatRank API</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#222}
h1{margin-bottom:.2rem} .op{border:1px solid #ddd;border-radius:6px;margin:.8rem 0}
.op>summary{cursor:pointer;padding:.5rem .8rem;font-family:monospace;font-size:14px}
.m{display:inline-block;min-width:4.5rem;font-weight:bold}
.get{color:#0a6}.post{color:#06c}.paid{color:#b60;font-size:12px;margin-left:.5rem}
.body{padding:0 .8rem .8rem} pre{background:#f6f6f6;padding:.6rem;overflow:auto;
font-size:12px} table{border-collapse:collapse} td,th{border:1px solid #ddd;
padding:.2rem .5rem;text-align:left;font-size:13px}
</style></head>
<body><h1>SatRank API</h1><p id="desc">Loading <a href="/api/openapi.json">
/api/openapi.json</a>...</p><div id="ops"></div>
<script src="/api/docs.js"></script></body></html>
"""

_JS = r"""
"use strict";
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
}
function resolve(doc, node) {
  if (node && node.$ref) {
    return node.$ref.slice(2).split("/").reduce((o, k) => o[k], doc);
  }
  return node;
}
function schemaText(doc, schema) {
  return JSON.stringify(schema, (k, v) => (v && v.$ref ? resolve(doc, v) : v), 2);
}
function render(doc) {
  document.title = doc.info.title + " API " + doc.info.version;
  document.getElementById("desc").textContent =
    doc.info.description + " (version " + doc.info.version + ", OpenAPI " + doc.openapi + ")";
  const ops = document.getElementById("ops");
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const head = el("summary", {}, el("span", {class: "m " + method}, method.toUpperCase()),
                      path + "  ", el("span", {}, op.summary || ""));
      if (op.security) head.append(el("span", {class: "paid"}, "paid / authenticated"));
      const body = el("div", {class: "body"});
      if (op.parameters) {
        const t = el("table", {}, el("tr", {}, el("th", {}, "parameter"), el("th", {}, "in"),
                                     el("th", {}, "schema")));
        for (const p of op.parameters) {
          t.append(el("tr", {}, el("td", {}, p.name + (p.required ? " *" : "")),
                      el("td", {}, p.in), el("td", {}, JSON.stringify(p.schema))));
        }
        body.append(el("h4", {}, "Parameters"), t);
      }
      if (op.requestBody) {
        const sch = op.requestBody.content["application/json"].schema;
        body.append(el("h4", {}, "Request body (application/json)"),
                    el("pre", {}, schemaText(doc, sch)));
      }
      body.append(el("h4", {}, "Responses"));
      for (const [code, r0] of Object.entries(op.responses)) {
        const r = resolve(doc, r0);
        const d = el("details", {}, el("summary", {}, code + " " + r.description));
        const c = r.content && Object.values(r.content)[0];
        if (c && c.schema) d.append(el("pre", {}, schemaText(doc, c.schema)));
        body.append(d);
      }
      ops.append(el("details", {class: "op"}, head, body));
    }
  }
}
fetch("/api/openapi.json").then(r => r.json()).then(render).catch(e => {
  document.getElementById("desc").textContent = "Could not load the API description: " + e;
});
"""


async def docs_page(request: Request) -> Response:
    return Response(_HTML, media_type="text/html; charset=utf-8",
                    headers={"Content-Security-Policy": _CSP,
                             "Cache-Control": "public, max-age=300"})


async def docs_script(request: Request) -> Response:
    return Response(_JS, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})


routes = [
    Route("/api/docs", docs_page, methods=["GET"]),
    Route("/api/docs.js", docs_script, methods=["GET"]),
]
