"""Command groups of the boflyt CLI, one module per group."""
