"""Everything that talks SQL: the pool, the migration runner, the embedded server, queries."""
