"""L402 wire format, minting and verification: no HTTP framework, no Lightning client.

Leaves first: `identifier`, `caveats`, `headers` import nothing from satrank; `mint` and
`verify` build on them; `gate` decides a request's fate from a credential and a ledger.
"""
