import io
import json
import xml.dom.minidom

from memograd.cli import UI
from memograd.lesson import sections, training


def test_training_section_is_registered_and_trains_for_real(monkeypatch):
    import memograd.tensor.compile

    def refuse(*args, **kwargs):
        raise AssertionError("the lesson says every step runs graph.backward: no compiled replay")

    monkeypatch.setattr(memograd.tensor.compile, "compile_step", refuse)
    assert training in sections()
    data = training.compute({"quick": True})
    json.dumps(data)  # JSON-ready for memograd demo --json
    assert data["epochs"] == len(data["train_loss"]) == len(data["val_loss"])
    assert data["train_loss"][-1] < data["train_loss"][0]
    assert 0.8 <= data["test_accuracy"] <= 1.0
    b = data["backward"]
    # a 2-16-16-2 MLP: 6 parameters + 3 affine nodes (x W + b, one node per layer), 2 relus and
    # the loss; edges: 2 + 3 + 3 into the affines (the first reads only W and b: x is data),
    # one into each relu and into the loss
    assert b["nodes"] == 12 and b["edges"] == 11
    assert len(data["grid"]["classes"]) == data["grid"]["n"] ** 2
    out = io.StringIO()
    training.render(data, UI(no_color=True, stdout=out))
    assert f"{data['test_accuracy']:.3f}" in out.getvalue()
    fragment = training.html(data)
    xml.dom.minidom.parseString(f"<div>{fragment}</div>")  # well-formed, inline SVG included
    assert fragment.count("<svg") == 2
