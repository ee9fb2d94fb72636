"""The scalar engine: ``Value`` (one number per node, micrograd-style) and ``scalar.nn``
(Neuron, Layer, MLP with the notes' names). Backward is the shared ``memograd.graph.backward``."""

from memograd.scalar.value import RULES, Rule, Value, wsum

__all__ = ["Value", "RULES", "Rule", "wsum"]
