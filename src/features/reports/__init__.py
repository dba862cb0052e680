"""Reports: executing notebooks, rendering them to HTML, formatting what a reader sees.

Owns the kernel side (``present``: tables and headlines shown inside notebooks), notebook
execution (``execute``: papermill with an inline-plotting, quiet kernel), HTML renderings
(``render``: full and business versions, self-contained) and the run pages (``runs``).
May import config and the standard stack; never the modelling subpackages.
"""
