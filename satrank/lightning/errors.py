"""One error tree for everything that talks to a Lightning node.

    LightningError
     ├── LightningUnavailable      node unreachable, UNAVAILABLE, connection refused
     │    └── LightningTimeout     DEADLINE_EXCEEDED: the call's deadline passed
     ├── LightningPermissionDenied the macaroon does not allow this call
     ├── LightningNotFound         no such invoice / node / channel
     └── LightningRejected         the node answered with an error (bad argument, ...)

grpc status codes are mapped to these in one place in `lightning/lnd.py`; callers outside
`lightning/` never see grpc exceptions.
"""

from __future__ import annotations


class LightningError(Exception):
    pass


class LightningUnavailable(LightningError):
    pass


class LightningTimeout(LightningUnavailable):
    pass


class LightningPermissionDenied(LightningError):
    pass


class LightningNotFound(LightningError):
    pass


class LightningRejected(LightningError):
    pass
