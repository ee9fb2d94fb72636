"""Read-only while saved: a leaf's array saved for backward cannot be written through ``.data``.

A write into ``w.data`` between the forward pass and backward would change what the VJPs read
without the version counter seeing it: a silently wrong gradient. So ``_apply`` clears the
writeable flag of the leaves' arrays it saves (parameters, inputs) and the last node that saved
an array sets it back when backward frees the node or the graph is dropped. Code that must
update saved arrays in place AND bumps the version counter (Tensor ``+=`` under no_grad,
optimizers, ``load_state_dict``) writes inside :func:`writable`; a backward through the stale
graph then raises GraphError. Intermediates rely on the version counter alone (locking every
saved array cost ~10% on small nets).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from typing_extensions import Self

    from memograd.tensor.node import Node

__all__ = ["writable"]

# id(array) -> [array, number of live nodes that locked it]
_LOCKS: dict[int, list[Any]] = {}


def _lock(a: NDArray[Any]) -> bool:
    entry = _LOCKS.get(id(a))
    if entry is not None:
        entry[1] += 1
        return True
    if not a.flags.writeable:
        return False  # read-only already (a broadcast view, a user's frozen array): not ours
    a.setflags(write=False)
    _LOCKS[id(a)] = [a, 1]
    return True


def _unlock(node: Node) -> None:
    for a in node.locked:
        entry = _LOCKS.get(id(a))
        if entry is not None:
            entry[1] -= 1
            if entry[1] == 0:
                del _LOCKS[id(a)]
                try:
                    a.setflags(write=True)
                except ValueError:  # a view whose base is still locked by another node
                    _LOCKS[id(a)] = [a, 0]  # unlocked with its base (see writable)
    node.locked = ()


def writable(*arrays: NDArray[Any]) -> _Writable:
    """Context for code that updates arrays saved for backward in place AND bumps the tensors'
    version counters (optimizers, ``load_state_dict``): inside it those arrays accept writes; a
    backward through the stale graph still raises GraphError (the counter changed)."""
    return _Writable(*arrays)


class _Writable:
    """Context for the Tensor's own in-place edits (optimizers, ``+=`` under no_grad): a locked
    array is written (the version counter records it, and backward refuses the stale graph)."""

    __slots__ = ("arrays", "opened")

    arrays: tuple[NDArray[Any], ...]
    opened: list[NDArray[Any]]

    def __init__(self, *arrays: NDArray[Any]) -> None:
        self.arrays, self.opened = arrays, []

    def __enter__(self) -> Self:
        if not _LOCKS:
            return self
        for array in self.arrays:
            chain: list[NDArray[Any]] = []
            a: object = array
            while type(a) is np.ndarray:  # a view of a locked base needs the base open too
                chain.append(a)
                a = a.base
            if not any(id(b) in _LOCKS for b in chain):
                continue  # not locked by memograd (a user's read-only array stays so)
            for b in reversed(chain):  # the base first: a view opens only after its base
                if not b.flags.writeable:
                    b.flags.writeable = True
                    self.opened.append(b)
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        for b in reversed(self.opened):  # views first, then their bases
            entry = _LOCKS.get(id(b))
            if entry is None or entry[1] > 0:
                b.flags.writeable = False  # locked, or a view made read-only by its base
            else:
                del _LOCKS[id(b)]
        self.opened = []
        return False
