"""`satrank demo`: embedded Postgres, simnet, crawler and api on one machine, one command."""
