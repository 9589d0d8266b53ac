"""``python -m boflyt`` runs the command line."""

from boflyt.cli import app

app()
