"""Execute a notebook headless, the way CI does (shared by the notebook tests).

The kernel is ``python3`` started with *this* interpreter: jupyter_client runs the native kernel
with ``sys.executable``, and falls back to ipykernel's built-in spec when no kernelspec is
installed, so nothing has to be registered globally. Cells run with the notebook's directory as
the working directory (as in Jupyter) and matplotlib's non-interactive backend.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat import NotebookNode

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run_notebook(path: str | Path, *, timeout: int = 180) -> NotebookNode:
    """Execute every cell of ``path`` in a fresh kernel; raises ``CellExecutionError`` on the first error."""
    nb_path = Path(path)
    nb = nbformat.read(nb_path, as_version=4)
    os.environ.setdefault("MPLBACKEND", "Agg")
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(nb_path.parent)}})
    client.execute()
    return nb


def outputs_text(nb: NotebookNode) -> str:
    """All stream and text/plain / text/markdown outputs, joined (for assertions)."""
    parts: list[str] = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            data = out.get("data", {})
            parts.extend(data.get(k, "") for k in ("text/plain", "text/markdown"))
    return "\n".join(parts)


def has_image(nb: NotebookNode) -> bool:
    return any("image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))
