"""Raw data: the synthetic NEV world and its generator, contracts, validation, event logs,
ready tables, on-demand datasets and the ground truth (evaluation only).

May import the foundation modules (config, defaults, schema, params, io); nothing above.
"""
