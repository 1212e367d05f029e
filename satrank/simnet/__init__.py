"""simnet: an LND-compatible network simulator (gRPC + TLS + macaroons) over a channel graph."""
