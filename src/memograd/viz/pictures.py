"""The drawings behind ``to_svg()``, ``to_html()`` and ``save(path)`` of memograd's objects,
registered in :mod:`memograd.pictures` (the engines look them up there; they never import viz):

* ``Value``: the graph under it, each node ``name | data | grad`` (``view="op"`` or
  ``"neuron"``, ``max_nodes=400``);
* a scalar ``MLP``: the network as the notes draw it (weights as coloured lines when large);
* a ``memograd.nn`` model (``MLP``, ``Sequential``, any ``Module``): its layers as a chain;
* an explanation (``mg.explain``): its chain-rule paths, one colour each, with a legend.

HTML is a self-contained page (inline SVG, no scripts, no network) around the same picture.
"""

from __future__ import annotations

from typing import Any

from memograd import pictures
from memograd.errors import MemogradValueError
from memograd.nn.module import Module
from memograd.paths import Explanation
from memograd.scalar.nn import MLP
from memograd.scalar.value import Value
from memograd.viz import values
from memograd.viz.notation import unicode_name


def _page(title: str, body: str, generator: str) -> str:
    from memograd.viz.report import build_report, wide_figure

    page = wide_figure(body) if body.startswith("<svg") else body
    return build_report([("picture", title, page)], title=f"memograd: {title}", generator=generator)


def value_svg(v: Value, view: str = "op", max_nodes: int = 400) -> str:
    return values.value_svg(v, view=view, max_nodes=max_nodes)


def value_html(v: Value, view: str = "op", max_nodes: int = 400) -> str:
    name = unicode_name(v.display)
    return _page(f"the graph under {name}", value_svg(v, view, max_nodes), "Value.to_html()")


def mlp_svg(model: MLP) -> str:
    return values.model_svg(model)


def mlp_html(model: MLP) -> str:
    sizes = "-".join(map(str, model.sizes))
    return _page(f"the {sizes} network", mlp_svg(model), "MLP.to_html()")


def module_svg(module: Module, max_layers: int = 60) -> str:
    svg = values.module_svg(module, max_layers=max_layers)
    if svg is None:
        count = len([m for m in module.modules() if not m.children()])
        raise MemogradValueError(
            f"{type(module).__name__} has {count} layers, too many to draw (limit "
            f"{max_layers}); pass max_layers={count} to draw them all"
        )
    return svg


def module_html(module: Module, max_layers: int = 60) -> str:
    name = type(module).__name__
    return _page(f"{name}: its layers", module_svg(module, max_layers), f"{name}.to_html()")


def explanation_svg(e: Explanation, max_paths: int = 12) -> str:
    return values.explanation_svg(e, max_paths=max_paths)


def explanation_html(e: Explanation) -> str:
    title = f"the chain-rule paths of ∂L/∂{unicode_name(e.wrt)}"
    return _page(title, values.explanation_html(e), "Explanation.to_html()")


DRAWINGS: dict[type, tuple[Any, Any]] = {
    Value: (value_svg, value_html),
    MLP: (mlp_svg, mlp_html),
    Module: (module_svg, module_html),
    Explanation: (explanation_svg, explanation_html),
}
for _cls, (_svg, _html) in DRAWINGS.items():
    pictures.register(_cls, "svg", _svg)
    pictures.register(_cls, "html", _html)
