"""The printed summary, notebook HTML and the HTML report of a :class:`~bayesmixed.result.Fit`
(:mod:`bayesmixed.report.render`)."""

from __future__ import annotations

from typing import Any

from bayesmixed.design.matrices import Design
from bayesmixed.report.render.text import format_fit, html_fit

__all__ = ["RenderMixin"]


class RenderMixin:
    """Rendering methods of ``Fit``: ``str(fit)``, notebook HTML, :meth:`report`.

    Examples
    --------
    >>> isinstance(fit, RenderMixin)
    True
    """

    idata: Any
    _idata: Any
    meta: dict[str, Any]
    design: Design
    config: dict[str, Any]
    # _summary, diagnostics (TablesMixin) and hypothesis (CompareMixin) come with Fit

    def report(self, path, seed=0, hypotheses=None, rope=None):
        """Write a self-contained HTML report plus Markdown and JSON next to it (with a table
        of ``hypotheses``, as in :meth:`hypothesis`, when asked).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> path = fit.report(pathlib.Path(tempfile.mkdtemp()) / "report.html")
        >>> pathlib.Path(path).is_file()
        True
        """
        from bayesmixed.report.render import html_report

        table = self.hypothesis(*hypotheses, rope=rope) if hypotheses else None
        return html_report.write_report(self.idata, self.meta, self.design, path,
                                        config=self.config, seed=seed, hypotheses=table)

    def __str__(self) -> str:
        return format_fit(self._idata, self.meta, self.design, self.config,
                          summary=self._summary(False, 0.95), diagnostics=self.diagnostics())

    def _repr_html_(self) -> str:
        return html_fit(self._idata, self.meta, self.design,
                        summary=self._summary(False, 0.95), diagnostics=self.diagnostics())
