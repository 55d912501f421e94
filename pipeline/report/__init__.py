"""Stage 4: the report (``render``: text, tables and the HTML/PDF export; ``word``: report.docx; ``templates/``)."""
