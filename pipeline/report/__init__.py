"""Stage 4: the report (``parts``: its text as a model; ``render``: the parts as HTML; ``word``: report.docx;
``templates/``: report.html's page frame)."""
