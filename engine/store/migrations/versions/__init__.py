"""The schema revisions, oldest first; each file is one Alembic revision."""
