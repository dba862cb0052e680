"""The one-command pipeline; ``python -m features.pipeline`` runs it.

Modules, in import order: ``params`` (parameter sets and the data settings they imply),
``context`` (the state of one run), ``envcheck`` (environment check), ``steps`` (environment
and data steps), ``notebooks`` (execute and render steps), ``records`` (run.json, run pages,
index, retention, MLflow record) and ``runner`` (step order, failure handling, command line).

Top of the import order: may import every other subpackage; nothing imports it. This file
imports nothing, so ``features.pipeline.envcheck`` loads without the runner's dependencies.
"""
