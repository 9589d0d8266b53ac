"""Data shapes shared by every layer: vocabulary, errors, definitions, events, tables."""
