"""Profile tables: reading them, the join contract, aliases and joins."""
