"""paperradar: a self-hostable research-paper discovery engine.

The package follows the flow of data: ``sources`` parse what arrives,
``store`` keeps one record per paper, ``index`` finds them, ``rank`` orders
them, and the surfaces (``cli``, later web and email) show them.
"""

__version__ = "0.1.0"
