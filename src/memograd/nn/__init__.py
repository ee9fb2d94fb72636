"""Neural networks on the tensor engine: modules, layers, losses and weight initialisation.

import memograd as mg
model = mg.nn.MLP([64, 64, 64, 10], activation="relu", dropout=0.1, seed=0)
loss = mg.nn.cross_entropy(model(x), labels)
loss.backward()                     # the memoized backward of memograd.graph
"""

from memograd.nn import init
from memograd.nn.checkpoint import MemoryPlan, checkpoint_sequential, plan
from memograd.nn.layers import (
    ACTIVATIONS,
    GELU,
    MLP,
    Activation,
    Dropout,
    Identity,
    LeakyReLU,
    Linear,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    make_activation,
)
from memograd.nn.losses import (
    LOSSES,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HingeLoss,
    MSELoss,
    bce_with_logits,
    cross_entropy,
    hinge,
    mse,
)
from memograd.nn.module import Module, Parameter

__all__ = [
    "ACTIVATIONS",
    "GELU",
    "LOSSES",
    "MLP",
    "Activation",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Dropout",
    "HingeLoss",
    "Identity",
    "LeakyReLU",
    "Linear",
    "MSELoss",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "bce_with_logits",
    "cross_entropy",
    "hinge",
    "init",
    "MemoryPlan",
    "checkpoint_sequential",
    "plan",
    "make_activation",
    "mse",
]
