"""The runtime: an async streaming executor over a compiled recipe's graph."""
