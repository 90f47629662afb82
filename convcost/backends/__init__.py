"""Executors for a Stack: numpy and torch. Imported lazily; only this package imports them."""
