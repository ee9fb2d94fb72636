"""CSV files: a header (or none), numeric feature columns, one target column; every problem a
DataError naming the file, the line and the column."""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import NDArray

from memograd._io import StrPath, read_bounded
from memograd.data.dataset import CLASSIFICATION, REGRESSION, Dataset
from memograd.errors import DataError, MemogradError, MemogradValueError

#: the largest CSV file read (``train --csv /dev/zero`` or a runaway file is refused up front)
MAX_CSV_BYTES = 1 << 30

#: cells read as a missing value in a CSV file
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-"})


def _number(cell: str) -> float | None:
    """The cell as a finite float, or None if it is not a number."""
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _is_missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING


Dialect = type[csv.Dialect] | csv.Dialect
Rows = list[tuple[int, list[str]]]  # (line number, cells) of each non-blank row
# header line, column names, target index, feature indices, first data row
Layout = tuple[int, list[str], int, list[int], int]


def _sniff_dialect(sample: str) -> Dialect:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _read_text(path: Path, expect_sha256: str | None = None) -> tuple[str, str]:
    """The file's text and the SHA-256 of its bytes. Refuses up front what is not a regular file
    (``/dev/zero`` never ends) or is larger than ``MAX_CSV_BYTES``; with ``expect_sha256``, a
    file whose bytes differ is refused before a cell of it is parsed."""
    try:
        data = read_bounded(path, MAX_CSV_BYTES, "CSV file")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a CSV file") from None
    except OSError as exc:
        raise DataError(str(exc) if isinstance(exc, MemogradError) else f"{path}: {exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    if expect_sha256 is not None and digest != expect_sha256:
        raise DataError(
            f"{path}: the file changed since the run was trained on it (its SHA-256 differs); "
            "score the model on it with --csv and --target, or train again"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})"
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        column = nul - (text.rfind("\n", 0, nul) + 1) + 1
        raise DataError(
            f"{path}, line {line}: NUL byte at character {column}; a CSV file is text, this looks "
            "like a binary file (or a text file in UTF-16: save it as UTF-8)"
        )
    if not text or text.isspace():
        raise DataError(f"{path}: empty file, expected a header line and rows of numbers")
    return text, digest


def _read_rows(path: Path, text: str, dialect: Dialect) -> Rows:
    """(line number, cells) for every non-blank row (the csv module's parse: quotes and all)."""
    reader = csv.reader(text.splitlines(), dialect)
    rows = []
    try:
        for cells in reader:
            if not cells or all(not c.strip() for c in cells):
                continue
            rows.append((reader.line_num, [c.strip() for c in cells]))
    except csv.Error as exc:
        raise DataError(f"{path}, line {reader.line_num}: {exc}") from None
    if not rows:  # every line was blank or empty cells (e.g. a lone ","): both readers end here
        raise DataError(
            f"{path}: no cell holds anything; expected a header line and rows of numbers"
        )
    return rows


class _Lines:
    """The fast path's view of a file without quotes: its non-blank lines, split on demand.

    Only made for a plain file (one-character delimiter, no quote or escape character anywhere),
    where a line is a row and its cells are ``line.split(delimiter)``, exactly what the csv
    module would give; anything irregular sends the caller back to the csv module's parse."""

    def __init__(self, text: str, delimiter: str):
        self.delimiter = delimiter
        lines = text.splitlines()
        if "" in lines or any(map(str.isspace, lines)):
            self.numbers: Sequence[int] = [i for i, ln in enumerate(lines, 1) if ln.strip()]
            self.lines = [lines[i - 1] for i in self.numbers]
        else:  # no blank line (the usual case): line k is row k
            self.numbers, self.lines = range(1, len(lines) + 1), lines

    @classmethod
    def of(cls, text: str, dialect: Dialect) -> _Lines | None:
        delimiter = getattr(dialect, "delimiter", ",")
        quote = getattr(dialect, "quotechar", None) or '"'
        if (
            len(delimiter) != 1
            or delimiter not in ",;\t|"
            or getattr(dialect, "escapechar", None)
            or quote in text
            or '"' in text
        ):
            return None
        table = cls(text, delimiter)
        # a line of delimiters only is skipped by the csv parse, kept here: leave such files to it
        if not table.lines or any(not ln.replace(delimiter, "").strip() for ln in table.lines[:2]):
            return None
        return table

    def row(self, i: int) -> tuple[int, list[str]]:
        return self.numbers[i], [c.strip() for c in self.lines[i].split(self.delimiter)]

    def numeric(self, start: int, width: int) -> NDArray[Any] | None:
        """Every column of lines ``start:`` as finite floats (one ``numpy.loadtxt``, which
        also refuses ragged lines), or None."""
        try:
            A = np.loadtxt(
                self.lines[start:], delimiter=self.delimiter, dtype=np.float64, comments=None,
                ndmin=2,
            )  # fmt: skip
        except ValueError:
            return None
        if A.shape != (len(self.lines) - start, width) or not np.isfinite(A).all():
            return None
        return A

    def matrix(self, start: int, cols: list[int], width: int) -> NDArray[Any] | None:
        """Columns ``cols`` of lines ``start:`` as finite floats by ``numpy.loadtxt``, or None
        when a line is ragged or a cell is not a finite number (the slow path then names it)."""
        body = self.lines[start:]
        d = self.delimiter
        if any(line.count(d) != width - 1 for line in body):
            return None
        try:
            X = np.loadtxt(
                body, delimiter=d, usecols=cols, dtype=np.float64, comments=None, ndmin=2
            )
        except ValueError:
            return None
        if X.shape != (len(body), len(cols)) or not np.isfinite(X).all():
            return None
        return X

    def column(self, start: int, j: int, width: int) -> list[str]:
        """Cells of column ``j`` in lines ``start:``, stripped."""
        d = self.delimiter
        if j == width - 1:
            return [line.rpartition(d)[2].strip() for line in self.lines[start:]]
        return [line.split(d, j + 1)[j].strip() for line in self.lines[start:]]


def _has_header(rows: list[tuple[int, list[str]]], target: str | int | None) -> bool:
    first = rows[0][1]
    if isinstance(target, str) and target in first and _number(target) is None:
        return True
    numeric = [_number(c) is not None for c in first]
    if not any(numeric):
        return True
    if len(rows) > 1:
        second = rows[1][1]
        for j, cell in enumerate(first):
            if (
                j < len(second)
                and _number(cell) is None
                and not _is_missing(cell)
                and _number(second[j]) is not None
            ):
                return True
    return False


def _target_index(path: Path, names: list[str], target: str | int | None, header: bool) -> int:
    if target is None:
        return len(names) - 1
    if isinstance(target, str) and target in names:
        return names.index(target)
    index = None
    if isinstance(target, int):
        index = target
    elif isinstance(target, str) and target.lstrip("-").isdigit():
        index = int(target)
    if index is not None and -len(names) <= index < len(names):
        return index % len(names)
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    how = "a column name" if header else "a column number (0-based; the file has no header)"
    raise DataError(f"{path}: no target column {target!r}; give {how}; columns are: {shown}")


def load_csv(
    path: StrPath,
    target: str | int | None = None,
    *,
    task: str | None = None,
    max_classes: int = 20,
    expect_sha256: str | None = None,
) -> Dataset:
    """A dataset from a CSV file: numeric feature columns and one target column.

    The first line is a header when it names ``target`` or holds text above numbers; otherwise
    columns are named by their 0-based number. ``target`` is a column name or number (default:
    the last column). ``task``: ``"classification"`` maps the target's distinct values (text or
    numbers) to classes, ``"regression"`` needs numbers; by default a target is a class label when
    it holds text, or integers with at most ``max_classes`` distinct values.
    Every problem raises DataError naming the file, line and column. ``expect_sha256``: refuse
    the file, before parsing it, unless its bytes have this SHA-256 (``Dataset.sha256``).

    A plain file (no quotes) is read by ``numpy.loadtxt``; anything it refuses is read again
    cell by cell, which finds and names the first bad cell."""
    path = Path(path)
    if task not in (None, CLASSIFICATION, REGRESSION):
        raise MemogradValueError(
            f"load_csv: task must be 'classification', 'regression' or None, got {task!r}"
        )
    text, digest = _read_text(path, expect_sha256)
    dialect = _sniff_dialect(text[:4096])
    fast = _Lines.of(text, dialect)
    if fast is not None:
        head = [fast.row(i) for i in range(min(2, len(fast.lines)))]
        layout = _layout(path, head, len(fast.lines) > 1, target)
        if layout is not None:
            header_line, names, t, features, start = layout
            A = fast.numeric(start, len(names))
            if A is not None:  # a numeric target: its cells are read as text only once per value
                return _numeric_dataset(
                    path, A, lambda i: fast.row(start + i)[1][t], names, t, features, task,
                    max_classes, digest,
                )  # fmt: skip
            X = fast.matrix(start, features, len(names))
            if X is not None:
                labels = fast.column(start, t, len(names))
                numbers = fast.numbers[start:]
                return _dataset(
                    path, X, labels, numbers, names, t, features, task, max_classes, digest
                )
    rows = _read_rows(path, text, dialect)
    header_line, names, t, features, start = _layout(path, rows[:2], len(rows) > 1, target, True)
    rows = rows[start:]
    X = _feature_matrix(path, rows, features, names, len(names), header_line)
    labels = [cells[t] for _, cells in rows]
    numbers = [line for line, _ in rows]
    return _dataset(path, X, labels, numbers, names, t, features, task, max_classes, digest)


@overload
def _layout(
    path: Path, head: Rows, more: bool, target: str | int | None, strict: Literal[True]
) -> Layout: ...
@overload
def _layout(
    path: Path, head: Rows, more: bool, target: str | int | None, strict: bool = False
) -> Layout | None: ...
def _layout(
    path: Path, head: Rows, more: bool, target: str | int | None, strict: bool = False
) -> Layout | None:
    """(header line, column names, target index, feature indices, first data row) from the first
    two rows; None (fast path: let the csv parse decide) or DataError (``strict``) when the file
    has no data rows or a single column."""
    header = _has_header(head, target)
    if header:
        header_line, names = head[0]
        if not more:
            if not strict:
                return None
            raise DataError(f"{path}: the header (line {header_line}) has no data rows below it")
        names = [n or f"column_{j + 1}" for j, n in enumerate(names)]
    else:
        header_line, names = head[0][0], [str(j) for j in range(len(head[0][1]))]
    width = len(names)
    if width < 2:
        if not strict:
            return None
        raise DataError(
            f"{path}, line {header_line}: found {width} column; need at least one feature column "
            "and a target column (is the delimiter a comma, semicolon, tab or bar?)"
        )
    t = _target_index(path, names, target, header)
    features = [j for j in range(width) if j != t]
    return header_line, names, t, features, int(header)


def _two_classes(path: Path, t: int, names: list[str], classes: tuple[str, ...]) -> None:
    """A classification target needs 2 classes or more; DataError naming the column if not."""
    if len(classes) < 2:
        raise DataError(
            f"{path}, column {t + 1} ({names[t]!r}): the target has a single class "
            f"{classes[0]!r}; classification needs at least 2 classes"
        )


def _numeric_dataset(
    path: Path,
    A: NDArray[np.float64],
    cell: Callable[[int], str],
    names: list[str],
    t: int,
    features: list[int],
    task: str | None,
    max_classes: int,
    digest: str,
) -> Dataset:
    """What :func:`_dataset` makes of an all-numeric table ``A`` (target column ``t``) without a
    string per row: ``cell(i)`` reads the target's text of row ``i``, wanted only at the first row
    of each class (a class is named as the file first writes it)."""
    target = A[:, t]
    X = np.ascontiguousarray(A[:, features])
    values, first, y = np.unique(target, return_index=True, return_inverse=True)
    if task is None:
        integral = bool(np.all(values == np.floor(values)))
        task = CLASSIFICATION if integral and len(values) <= max_classes else REGRESSION
    feature_names = tuple(names[j] for j in features)
    common = {"source": str(path), "sha256": digest}
    if task == REGRESSION:
        y = target.copy()
        return Dataset(path.stem, X, y, REGRESSION, feature_names, names[t], (), **common)
    classes = tuple(cell(int(i)) for i in first)
    _two_classes(path, t, names, classes)
    y = y.astype(np.int64).reshape(-1)
    return Dataset(path.stem, X, y, CLASSIFICATION, feature_names, names[t], classes, **common)


def _dataset(
    path: Path,
    X: NDArray[np.float64],
    labels: list[str],
    lines: Sequence[int],
    names: list[str],
    t: int,
    features: list[int],
    task: str | None,
    max_classes: int,
    digest: str,
) -> Dataset:
    """The Dataset from the feature matrix and the target column's cells (``lines``: the line
    number of each row, for the messages)."""
    distinct = dict.fromkeys(labels)  # each label once, in the order the file first writes it
    if any(_is_missing(c) for c in distinct):
        line = next(n for n, c in zip(lines, labels) if _is_missing(c))
        raise DataError(f"{path}, line {line}, column {t + 1} ({names[t]!r}): missing target value")
    number = {c: _number(c) for c in distinct}
    numeric = {c: v for c, v in number.items() if v is not None}
    all_numeric = len(numeric) == len(number)
    if task is None:
        integral = all_numeric and all(float(v).is_integer() for v in numeric.values())
        task = (
            CLASSIFICATION
            if not all_numeric or (integral and len(set(numeric.values())) <= max_classes)
            else REGRESSION
        )
    feature_names = tuple(names[j] for j in features)
    common = {"source": str(path), "sha256": digest}
    n = len(labels)
    if task == REGRESSION:
        if not all_numeric:
            i = next(i for i, c in enumerate(labels) if number[c] is None)
            raise DataError(
                f"{path}, line {lines[i]}, column {t + 1} ({names[t]!r}): non-numeric target "
                f"{labels[i]!r} in a regression; use task='classification' for class labels"
            )
        y = np.fromiter(map(numeric.__getitem__, labels), dtype=np.float64, count=n)
        return Dataset(path.stem, X, y, REGRESSION, feature_names, names[t], (), **common)
    if all_numeric:
        text: dict[float, str] = {}
        for cell, v in numeric.items():
            text.setdefault(v, cell)  # a class is named as the file first writes it
        values = sorted(text)
        classes = tuple(text[v] for v in values)
        index = {v: k for k, v in enumerate(values)}
        of_label = {c: index[v] for c, v in numeric.items()}
    else:
        classes = tuple(sorted(distinct))
        of_label = {c: k for k, c in enumerate(classes)}
    y = np.fromiter(map(of_label.__getitem__, labels), dtype=np.int64, count=n)
    _two_classes(path, t, names, classes)
    return Dataset(path.stem, X, y, CLASSIFICATION, feature_names, names[t], classes, **common)


def _listing(names: Sequence[object], most: int = 8, show: Callable[[Any], str] = str) -> str:
    """``a, b, c, ... (64 in all)`` for an error message: the first ``most`` names."""
    shown = ", ".join(map(show, list(names)[:most]))
    return shown if len(names) <= most else f"{shown}, ... ({len(names)} in all)"


def load_features_csv(
    path: StrPath, feature_names: tuple[str, ...] | list[str]
) -> tuple[NDArray[Any], list[str]]:
    """Feature matrix for prediction from a CSV file, columns matched to ``feature_names``.

    With a header, columns are found by name (other columns, such as the target, are ignored and
    returned in the second value); without one, the file must have exactly the features, in order.
    """
    path = Path(path)
    text, _ = _read_text(path)
    dialect = _sniff_dialect(text[:4096])
    fast = _Lines.of(text, dialect)
    rows = [fast.row(0)] if fast is not None else _read_rows(path, text, dialect)
    first = rows[0][1]
    wanted = set(feature_names)
    header = wanted <= set(first) or not any(_number(c) is not None for c in first)
    if header:
        header_line, names = rows[0]
        position: dict[str, int] = {}
        for j, n in enumerate(names):
            position.setdefault(n, j)  # the first column of a name, as list.index found it
        missing = [f for f in feature_names if f not in position]
        if missing:
            raise DataError(
                f"{path}, line {header_line}: missing feature column(s) "
                f"{_listing(missing, 5, repr)}; the model needs: {_listing(feature_names)}"
            )
        cols = [position[f] for f in feature_names]
        extra = [n for n in names if n not in wanted]
        if (len(fast.lines) if fast is not None else len(rows)) < 2:
            raise DataError(f"{path}: the header (line {header_line}) has no data rows below it")
    else:
        header_line, names = rows[0][0], []
        if len(first) != len(feature_names):
            raise DataError(
                f"{path}, line {header_line}: {len(first)} columns and no header; the model needs "
                f"{len(feature_names)} features ({_listing(feature_names)}); add a header line"
            )
        cols, extra = list(range(len(feature_names))), []
    width = len(names) if header else len(feature_names)
    if fast is not None:
        X = fast.matrix(int(header), cols, width)
        if X is not None:
            return X, extra
        rows = _read_rows(path, text, dialect)
    return _feature_matrix(path, rows[int(header) :], cols, names, width, header_line), extra


def _feature_matrix(
    path: Path, rows: Rows, cols: list[int], names: list[str], width: int, header_line: int
) -> NDArray[np.float64]:
    """Columns ``cols`` of the CSV ``rows`` (line, cells) as floats; a ragged row or a missing or
    non-numeric cell raises DataError naming the file, line and column (and its header name)."""
    X = np.empty((len(rows), len(cols)), dtype=np.float64)
    for i, (line, cells) in enumerate(rows):
        if len(cells) != width:
            raise DataError(
                f"{path}, line {line}, column {min(len(cells), width) + 1}: ragged row with "
                f"{len(cells)} fields, expected {width} (as in line {header_line})"
            )
        for k, j in enumerate(cols):
            value = _number(cells[j])
            if value is None:
                cell = cells[j]
                what = "missing value" if _is_missing(cell) else f"non-numeric value {cell!r}"
                label = f" ({names[j]!r})" if names else ""
                raise DataError(
                    f"{path}, line {line}, column {j + 1}{label}: {what}; every feature must be "
                    "a finite number (fill or drop the row, or encode the column)"
                )
            X[i, k] = value
    return X
