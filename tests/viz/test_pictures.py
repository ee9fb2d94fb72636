"""Issue 13.5: ``.to_svg()``, ``.to_html()`` and ``.save(path)`` on Value, models and explanations,
drawn by viz through the registry in ``memograd.pictures`` (the engines never import viz)."""

import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

import memograd as mg
from memograd import pictures
from memograd.errors import MemogradTypeError, MemogradValueError
from memograd.scalar.nn import MLP, notes_network
from memograd.viz.values import explanation_svg, model_svg, value_svg


def same(a: str, b: str) -> bool:
    """Equal drawings: each drawing numbers its element ids (mg1-arrow, mg4-arrow) afresh."""
    return re.sub(r"mg\d+-", "mg-", a) == re.sub(r"mg\d+-", "mg-", b)


def objects():
    ex = notes_network()
    ex.loss.backward()
    return {
        "value": (ex.loss, value_svg(ex.loss)),
        "scalar MLP": (ex.model, model_svg(ex.model)),
        "explanation": (
            mg.explain(ex.loss, "w11^1"),
            explanation_svg(mg.explain(ex.loss, "w11^1")),
        ),
    }


@pytest.mark.parametrize("kind", ["value", "scalar MLP", "explanation"])
def test_to_svg_is_the_viz_drawing_and_save_picks_the_format_from_the_suffix(kind, tmp_path):
    obj, expected = objects()[kind]
    svg = obj.to_svg()
    assert same(svg, expected) and ET.fromstring(svg).tag.endswith("svg")
    written = obj.save(tmp_path / "pic.svg")
    assert written == tmp_path / "pic.svg" and same(written.read_text().strip(), svg)
    page = obj.save(tmp_path / "pic.HTML").read_text()
    assert page.lstrip().lower().startswith("<!doctype html>") and "<svg" in page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pic.HTML", "pic.svg"]  # no temp


def test_nn_models_draw_their_layers():
    model = mg.nn.MLP([2, 16, 16, 1], seed=0)
    root = ET.fromstring(model.to_svg())
    text = " ".join("".join(t.itertext()) for t in root.iter() if t.tag.endswith("text"))
    assert "Linear" in text and "(2+1)" not in text  # a chain of layers, not the notes' picture
    assert f"{model.num_parameters():,}" in text


def test_value_options_reach_the_drawing():
    ex = notes_network()
    assert same(ex.loss.to_svg(view="neuron"), value_svg(ex.loss, view="neuron"))
    with pytest.raises(MemogradValueError, match="too many to draw"):
        ex.loss.to_svg(max_nodes=5)


@pytest.mark.parametrize("name", ["pic.png", "pic", "pic.svg.gz"])
def test_other_suffixes_are_refused_with_the_fix_and_nothing_is_written(name, tmp_path):
    with pytest.raises(MemogradValueError, match=r"\.svg .*\.html"):
        MLP(2, [2, 1], seed=0).save(tmp_path / name)
    assert not list(tmp_path.iterdir())


def test_a_class_without_a_drawing_is_a_clear_error():
    class Thing(pictures.Drawable):
        pass

    with pytest.raises(MemogradTypeError, match="no svg drawing for Thing"):
        Thing().to_svg()
    pictures.register(Thing, "svg", lambda obj: "<svg/>")
    assert Thing().to_svg() == "<svg/>"


def test_the_engine_finds_viz_without_importing_it():
    """A script that never imports viz still gets the pictures: the registry loads the drawings
    by name on first use; before that, viz is not loaded at all."""
    code = (
        "import sys\n"
        "from memograd.scalar.value import Value\n"
        "assert not any(m.startswith('memograd.viz') for m in sys.modules)\n"
        "x = Value(2.0, name='x'); y = (x * x).tanh()\n"
        "print(y.to_svg()[:4])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "<svg"
