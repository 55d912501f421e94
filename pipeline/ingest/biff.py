"""The formatting facts of a legacy .xls (BIFF5 to BIFF8) from its cell records, without reading the cells again.

calamine reads an .xls's values but reports neither its number formats nor its error cells. xlrd knows them, but
building xlrd's sheets (every cell, every shared string) cost five times calamine's read of the same file. Here xlrd
reads only the workbook globals (sheet names and positions, formats and cell styles: a few milliseconds), and each
sheet's record stream is walked once for the few record kinds the facts need:

- NUMBER, RK, MULRK and FORMULA with a numeric result: the cell's style (XF index), to find percent-formatted
  numbers (a style xlrd types as a number, whose format shows a percentage);
- BOOLERR and FORMULA with an error result: error cells (#DIV/0!), with the error's text;
- COLINFO: hidden columns (the first 256, as xlrd keeps them).

The result is what formatting.xls_book_facts finds on xlrd's full read of the same file (tests/test_biff_facts.py
compares the two on every .xls of the test corpus). BIFF2 to BIFF4, whose records are laid out differently, are
left to that full read.
"""
from __future__ import annotations

import struct

_BOF_CODES = (0x0809, 0x0409, 0x0209, 0x0009)
_EOF = 0x000A
_NUMBER, _RK, _MULRK, _FORMULA, _BOOLERR, _COLINFO = 0x0203, 0x027E, 0x00BD, 0x0006, 0x0205, 0x007D
# Records that put a text or a blank into a cell (a later record for the same cell replaces an earlier one, as in xlrd).
_OTHER_CELLS = (0x00FD, 0x0204, 0x00D6, 0x0201)  # LABELSST, LABEL, RSTRING, BLANK
_MULBLANK = 0x00BE
_WANTED = frozenset((*_BOF_CODES, _EOF, _NUMBER, _RK, _MULRK, _FORMULA, _BOOLERR, _COLINFO, *_OTHER_CELLS, _MULBLANK))
_HEADER = struct.Struct("<HH")
_CELL = struct.Struct("<HHH")
_MAX_HIDDEN_COLUMN = 255  # xlrd's colinfo_map stops at column 256 (IV)


def sheet_facts(book, index: int, percent_numbers: set[int]) -> tuple[set, dict, set]:
    """Percent cells, error cells {(row, column): error code} and hidden columns of one sheet of an xlrd book opened
    with on_demand and formatting_info (its sheets left unread). percent_numbers: the styles (XF indexes) that xlrd
    types as plain numbers and whose format shows a percentage."""
    mem, pos = book.mem, book._sh_abs_posn[index]
    code, length = _HEADER.unpack_from(mem, pos)
    if code not in _BOF_CODES:
        raise ValueError("no BOF at the sheet's position")
    pos += 4 + length
    percent: set[tuple[int, int]] = set()
    errors: dict[tuple[int, int], int] = {}
    hidden: set[int] = set()
    types = book._xf_index_to_xl_type_map
    end = len(mem)
    unpack_header, unpack_cell = _HEADER.unpack_from, _CELL.unpack_from

    def number(cell, xf):
        if xf in percent_numbers:
            percent.add(cell)
            errors.pop(cell, None)
        else:
            types[xf]  # noqa: B018 - a style xlrd does not know fails its read: these facts fail alike
            _forget(cell, percent, errors)

    while pos + 4 <= end:
        code, length = unpack_header(mem, pos)
        start, pos = pos + 4, pos + 4 + length
        if code not in _WANTED:
            continue
        if code == _EOF:
            return percent, errors, hidden
        if code in (_NUMBER, _RK):
            row, col, xf = unpack_cell(mem, start)
            number((row, col), xf)
        elif code == _MULRK:
            row, first = _HEADER.unpack_from(mem, start)
            last, = struct.unpack_from("<H", mem, pos - 2)
            for k, col in enumerate(range(first, last + 1)):
                xf, = struct.unpack_from("<H", mem, start + 4 + 6 * k)
                number((row, col), xf)
        elif code == _FORMULA:
            row, col, xf = unpack_cell(mem, start)
            result = mem[start + 6:start + 14]
            if result[6:8] != b"\xff\xff":
                number((row, col), xf)
            elif result[0] == 2:
                percent.discard((row, col))
                errors[(row, col)] = result[2]
            else:
                _forget((row, col), percent, errors)
        elif code == _BOOLERR:
            row, col, _xf = unpack_cell(mem, start)
            if mem[start + 7]:
                percent.discard((row, col))
                errors[(row, col)] = mem[start + 6]
            else:
                _forget((row, col), percent, errors)
        elif code in _OTHER_CELLS and (percent or errors):
            row, col = unpack_header(mem, start)
            _forget((row, col), percent, errors)
        elif code == _MULBLANK and (percent or errors):
            row, first = unpack_header(mem, start)
            last, = struct.unpack_from("<H", mem, pos - 2)
            for col in range(first, last + 1):
                _forget((row, col), percent, errors)
        elif code == _COLINFO:
            first, last, _width, _xf, flags = struct.unpack_from("<HHHHH", mem, start)
            if 0 <= first <= last <= 256 and flags & 1:
                hidden.update(range(first, min(last, _MAX_HIDDEN_COLUMN) + 1))
            elif 0 <= first <= last <= 256:
                hidden.difference_update(range(first, min(last, _MAX_HIDDEN_COLUMN) + 1))
        elif code in _BOF_CODES:  # an embedded chart: skipped to its EOF, as xlrd does
            while pos + 4 <= end:
                code, length = unpack_header(mem, pos)
                pos += 4 + length
                if code == _EOF:
                    break
    raise ValueError("the sheet's records end without EOF")


def _forget(cell: tuple[int, int], percent: set, errors: dict) -> None:
    if percent or errors:
        percent.discard(cell)
        errors.pop(cell, None)
