"""The L402 service registry: egress policy, stage checks of third-party endpoints."""
