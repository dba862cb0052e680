"""Notebook execution plots inline whatever the caller's backend; both renderings embed figures."""

from __future__ import annotations

import os
import re

import nbformat
import pytest

from features.reports import execute, render


def _notebook(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = cells
    nbformat.write(nb, path)
    return path


def _code(source, *tags):
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


@pytest.fixture
def executed(tmp_path, monkeypatch):
    """A small notebook with two figures, a debug cell and a headline, executed with Agg set."""
    monkeypatch.setenv("MPLBACKEND", "Agg")  # as a headless caller might have it
    source = _notebook(
        tmp_path / "demo.ipynb",
        [
            nbformat.v4.new_markdown_cell("# Demo report"),
            _code("size = 3", "parameters"),
            _code(f"print('outputs -> {tmp_path}/out')\nprint(repr(object()))", "report-skip"),
            _code(
                "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([1, 2, size])\n"
                "plt.show()"
            ),
            _code(
                "import sys\nimport matplotlib.pyplot as plt\n"
                "fig2, ax2 = plt.subplots()\nax2.bar([1, 2], [3, 4])\nplt.close(fig2)\n"
                "print('a warning', file=sys.stderr)\ndisplay(fig2)"
            ),
            _code(
                "from IPython.display import Markdown\nMarkdown('### Findings\\n\\nbig')",
                "headline",
            ),
        ],
    )
    target = tmp_path / "demo.out.ipynb"
    execute.execute_notebook(source, target, {"size": 5}, kernel_log=tmp_path / "kernel.log")
    return target


def _image_outputs(notebook) -> int:
    return sum(
        "image/png" in out.get("data", {})
        for cell in notebook.cells
        for out in cell.get("outputs", [])
    )


def test_kernel_plots_inline_even_when_the_caller_sets_agg(executed):
    notebook = nbformat.read(executed, as_version=4)
    assert _image_outputs(notebook) == 2
    for cell in notebook.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if str(data.get("text/plain", "")).startswith("<Figure size"):
                assert "image/png" in data  # the repr is only the fallback of a real image


def test_both_renderings_embed_every_figure(executed, tmp_path):
    full, business = render.render_notebook(executed, tmp_path / "html")
    for page in (full.read_text(), business.read_text()):
        assert len(re.findall(r'<img[^>]*src="data:image/png;base64,', page)) == 2
        assert "&lt;Figure size" not in page and "<Figure size" not in page


def test_business_rendering_reads_as_a_report(executed, tmp_path):
    _, business = render.render_notebook(executed, tmp_path / "html")
    page = business.read_text()
    assert "hl-ipython3" not in page  # no code cells
    assert str(tmp_path) not in page  # no machine path
    assert "object at 0x" not in page and "a warning" not in page
    first_image = re.search(r'<img[^>]*src="data:image/png', page).start()
    assert page.index("Demo report") < page.index("Findings") < first_image
    assert "How this was run" in page and "<code>size</code>" in page


def test_full_rendering_keeps_code_and_warnings(executed, tmp_path):
    full, _ = render.render_notebook(executed, tmp_path / "html")
    page = full.read_text()
    assert "hl-ipython3" in page and "a warning" in page and "outputs -&gt;" in page


def test_how_it_was_run_leaves_out_machine_parameters(executed):
    notebook = nbformat.read(executed, as_version=4)
    notebook.metadata["papermill"]["parameters"]["output_dir"] = "/srv/lab/reports/x"
    text = render.how_it_was_run(notebook)
    assert "`size`" in text and "/srv/lab" not in text and "output_dir" not in text


def test_kernel_messages_go_to_the_log_not_the_console(executed, tmp_path, capfd):
    # the kernel of the fixture ran over IPC: its TCP warning never appears
    log = tmp_path / "kernel.log"
    assert "without encryption" not in (log.read_text() if log.exists() else "")
    assert "without encryption" not in capfd.readouterr().err


def test_ipc_sockets_are_unique_per_kernel_and_outside_the_working_directory():
    # jupyter_client's default ("kernel-ipc" in the cwd) lets two runs race for one socket
    first = execute.QuietKernelManager(kernel_name="python3", config=execute.kernel_config())
    second = execute.IpcKernelManager(kernel_name="python3", transport="ipc")
    assert first.transport == "ipc"
    assert os.path.isabs(first.ip) and os.path.isabs(second.ip) and first.ip != second.ip
    tcp = execute.QuietKernelManager(kernel_name="python3")
    assert tcp.transport == "tcp" and tcp.ip == "127.0.0.1"


def test_how_it_was_run_shows_text_parameters_as_written(executed, tmp_path):
    notebook = nbformat.read(executed, as_version=4)
    notebook.metadata["papermill"]["parameters"]["cutoff"] = "2025-07-01"
    notebook.metadata["papermill"]["parameters"]["target"] = "a<b"
    text = render.how_it_was_run(notebook)
    assert "`'2025-07-01'`" in text and "`'a<b'`" in text  # no HTML escaping in code spans
