"""The web app (``paperradar serve``): pages, JSON twins, Atom feeds. See :mod:`.app`."""

from .app import create_app

__all__ = ["create_app"]
