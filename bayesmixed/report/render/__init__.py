"""Presentation: figures (:mod:`.plots`), the text and HTML of a fit (:mod:`.text`), the report's
data (:mod:`.report_data`), its document model (:mod:`.document`) and the HTML report."""
