"""Lightning: the `LightningBackend` contract, the LND gRPC client and lnd's generated stubs."""
