"""L402 wire format, minting and verification: no HTTP framework, no Lightning client,
no database, no configuration (callers pass secrets and limits as values).

Leaves first: `identifier`, `caveats`, `headers` import nothing from satrank; `mint` and
`verify` build on them; `gate` decides a request's fate from a credential and a ledger,
and declares the ledger it needs (`gate.CreditLedger`); the api implements it
(api/ledger.py).
"""
