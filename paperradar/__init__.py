"""paperradar: a self-hostable research-paper discovery engine.

The package follows the flow of data: ``sources`` parse what arrives,
``store`` keeps one record per paper, ``index`` finds them, ``rank`` orders
them, and the surfaces (``cli``, ``web``) show them. ``app.Radar`` owns the
store and the indexes and is handed to every surface; docs/ARCHITECTURE.md
is the map.
"""

__version__ = "0.1.0"
