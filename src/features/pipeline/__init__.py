"""The one-command pipeline: parameter sets, data steps, notebook execution, run records and
the environment check. ``python -m features.pipeline`` runs it.

Top of the import order: may import every other subpackage; nothing imports it.
"""
