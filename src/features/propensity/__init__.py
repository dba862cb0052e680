"""Propensity models (conversion, churn): study parameters, data, LightGBM training and
calibration, baselines, evaluation, SHAP explanations, plots, outputs and MLflow records.

May import the foundation, ``features.data``, ``features.table`` and ``features.tracking``.
"""
