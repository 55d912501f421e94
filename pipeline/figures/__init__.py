"""Stage 3: the report's charts (``charts``: theme, CJK fonts, one function per figure, PNG and SVG)."""
