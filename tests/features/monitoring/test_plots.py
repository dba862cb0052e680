from matplotlib.figure import Figure

from features.monitoring.metrics import bucket_calibration
from features.monitoring.plots import plot_calibration_gaps, plot_psi


def test_figures_are_matplotlib_figures(scored_lists):
    import pandas as pd

    fig = plot_calibration_gaps(bucket_calibration(scored_lists), 0.05, "2025-01-15")
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    psi = pd.DataFrame(
        {"as_of": ["2025-01-01", "2025-02-01"] * 2, "feature": ["score"] * 2 + ["x"] * 2,
         "psi": [0.01, 0.3, 0.02, 0.05]}
    )  # fmt: skip
    assert isinstance(plot_psi(psi, 0.2), Figure)
