"""definition wing."""
