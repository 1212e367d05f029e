"""SatRank: a Lightning trust oracle sold per request over L402."""

__version__ = "0.1.0"
