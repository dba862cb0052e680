"""Live scoring: campaign lists of today's customers from the registered champions, the
append-only score history, and the expected-vs-realised comparison.

``python -m features.score`` scores one task. May import the foundation, ``features.data``,
``features.table``, ``features.propensity``, ``features.tracking`` and ``features.reports``.
"""
