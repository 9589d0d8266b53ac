"""boflyt package."""
