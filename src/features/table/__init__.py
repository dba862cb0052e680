"""The modelling table: feature registry, point-in-time features, labels and the processed
snapshots that notebooks read.

May import the foundation modules and ``features.data``; never models, tracking or reports.
"""
