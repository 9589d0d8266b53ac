"""case wing."""
