"""visualize package."""
