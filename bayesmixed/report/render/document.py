"""Rendering primitives of the report: number formatting, HTML and Markdown tables, and the
document builder that embeds figures as base64 PNG and records each figure's data."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable

import numpy as np
import pandas as pd

from bayesmixed.report.render.report_data import to_jsonable

__all__ = ["CSS", "SECTIONS", "Document", "html_table", "md_table"]

SECTIONS = {
    "diagnostics": "Diagnostics",
    "summary": "Model summary",
    "variance": "Variance components and ICC",
    "effects": "Effects",
    "checks": "Model checks",
    "sampler": "Sampler plots",
}

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;
margin:24px auto;padding:0 16px;color:#1f2328;line-height:1.45}
h1{font-size:1.6em;margin-bottom:4px}
h2{border-bottom:2px solid #d0d7de;padding-bottom:4px;margin-top:36px}
h3{margin-top:22px;font-size:1.1em}
table{border-collapse:collapse;font-size:0.85em;margin:8px 0 14px 0}
th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:right}th{background:#f6f8fa}
td:first-child,th:first-child{text-align:left}
.verdict{padding:12px 16px;border-radius:6px;font-size:1.15em;font-weight:600;color:white}
.ok{background:#1a7f37}.warning{background:#9a6700}.fail{background:#cf222e}.approximate{background:#6e40c9}
.warn{background:#fff8c5;border:1px solid #d4a72c;padding:8px 12px;border-radius:6px}
figure{margin:10px 0 22px 0}figure img{max-width:100%;border:1px solid #eaeef2}
figcaption{font-size:0.85em;color:#57606a}nav a{margin-right:14px}
code{background:#f6f8fa;padding:1px 4px}.note{color:#57606a;font-size:0.9em}
"""


def _fmt(v) -> str:
    if isinstance(v, float | np.floating):
        if not np.isfinite(v):
            return "NA"
        if float(v).is_integer() and abs(v) < 1e6:
            return str(int(v))
        return f"{v:.3g}" if abs(v) >= 1e4 or (0 < abs(v) < 1e-3) else f"{v:.3f}"
    return str(v)


def _flat(df: pd.DataFrame) -> pd.DataFrame:
    """Index as ordinary first column(s) (a named index); a plain range index dropped."""
    if df.index.name is not None or not isinstance(df.index, pd.RangeIndex):
        return df.reset_index()
    return df


def html_table(df: pd.DataFrame | None, max_rows: int = 60) -> str:
    """An HTML table of ``df`` (at most ``max_rows`` rows; a note for the rest).

    Examples
    --------
    >>> import pandas as pd
    >>> html_table(pd.DataFrame({"term": ["x"], "mean": [0.5]})).startswith("<table")
    True
    """
    if df is None or len(df) == 0:
        return "<p class='note'>(none)</p>"
    more = len(df) - max_rows
    d = _flat(df.head(max_rows)).dropna(axis=1, how="all")
    body = d.to_html(formatters=dict.fromkeys(d.columns, _fmt), na_rep="", border=0, index=False)
    return body + (f"<p class='note'>... {more} more rows in the JSON file</p>" if more > 0 else "")


def md_table(df: pd.DataFrame | None, max_rows: int = 60) -> str:
    """A Markdown table of ``df`` (at most ``max_rows`` rows; a note for the rest).

    Examples
    --------
    >>> import pandas as pd
    >>> md_table(pd.DataFrame({"term": ["x"], "mean": [0.5]})).splitlines()[:2]
    ['| term | mean |', '|---|---|']
    """
    if df is None or len(df) == 0:
        return "(none)\n"
    d = _flat(df.head(max_rows)).dropna(axis=1, how="all")
    cols = [str(c) for c in d.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in d.itertuples(index=False):
        lines.append("| " + " | ".join("" if _fmt(v) == "NA" else _fmt(v) for v in row) + " |")
    if len(df) > max_rows:
        lines.append(f"\n... {len(df) - max_rows} more rows in the JSON file")
    return "\n".join(lines) + "\n"


class Document:
    """Accumulates the HTML and Markdown bodies and the figures' data.

    Examples
    --------
    >>> doc = Document(dpi=72)
    >>> doc.text("All chains agree.")
    >>> doc.html, doc.md
    (['<p>All chains agree.</p>'], ['All chains agree.\\n'])
    """

    def __init__(self, dpi: int) -> None:
        self.html: list[str] = []
        self.md: list[str] = []
        self.figures: dict[str, dict] = {}
        self.dpi = dpi

    def section(self, key: str) -> None:
        self.html.append(f"<h2 id='{key}'>{SECTIONS[key]}</h2>")
        self.md.append(f"\n## {SECTIONS[key]}\n")

    def heading(self, text: str) -> None:
        self.html.append(f"<h3>{html.escape(text)}</h3>")
        self.md.append(f"\n### {text}\n")

    def text(self, text: str, cls: str | None = None) -> None:
        c = f" class='{cls}'" if cls else ""
        self.html.append(f"<p{c}>{html.escape(text)}</p>")
        self.md.append(text + "\n")

    def items(self, items: list[str], cls: str | None = None) -> None:
        if not items:
            return
        lis = "".join(f"<li>{html.escape(i)}</li>" for i in items)
        self.html.append(f"<div class='{cls}'><ul>{lis}</ul></div>" if cls else f"<ul>{lis}</ul>")
        self.md.append("\n".join(f"- {i}" for i in items) + "\n")

    def table(self, df: pd.DataFrame | None, max_rows: int = 60) -> None:
        self.html.append(html_table(df, max_rows))
        self.md.append(md_table(df, max_rows))

    def figure(self, name: str, title: str, make: Callable, data=None) -> None:
        import matplotlib.pyplot as plt

        try:
            fig = make()
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=self.dpi)
            plt.close(fig)
        except Exception as exc:
            self.text(f"Figure '{title}' could not be drawn: {type(exc).__name__}: {exc}", "warn")
            self.figures[name] = {"title": title, "error": str(exc), "data": to_jsonable(data)}
            return
        b64 = base64.b64encode(buf.getvalue()).decode("ascii")
        self.html.append(
            f"<figure id='fig-{name}'><img alt='{html.escape(title)}' "
            f"src='data:image/png;base64,{b64}'><figcaption>{html.escape(title)}</figcaption></figure>"
        )
        self.md.append(
            f"*Figure: {title} (embedded in the HTML report; its data in the JSON file)*\n"
        )
        self.figures[name] = {"title": title, "data": to_jsonable(data)}
