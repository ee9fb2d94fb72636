"""Exceptions. Every library error subclasses MemogradError and the matching builtin, so that
``except ValueError`` keeps working for users who do not know memograd's own classes."""


class MemogradError(Exception):
    """Base class of every error memograd raises on purpose."""


class MemogradValueError(MemogradError, ValueError):
    """A value is out of its domain (negative n, log of a negative number, a bad file)."""


class MemogradTypeError(MemogradError, TypeError):
    """An argument has the wrong type (unhashable memoize argument, non-integer n)."""


class ShapeError(MemogradValueError):
    """Shapes do not fit an op: the message names the op and both shapes."""


class GraphError(MemogradError, RuntimeError):
    """The computation graph cannot be differentiated as asked (freed graph, in-place edit, ...)."""


class NonFiniteError(MemogradValueError):
    """A non-finite number (nan/inf) met where a finite one is needed."""


class DataError(MemogradValueError):
    """A dataset or file cannot be read: the message names the file, line and column."""


class CheckpointError(MemogradValueError):
    """A checkpoint is missing, truncated, corrupted or does not match the model."""


class MissingExtraError(MemogradError, ImportError):
    """An optional package is needed for what was asked; the message names the extra to install
    (``pip install 'memograd[plot]'``). The CLI reports it as a runtime error (exit 1)."""
