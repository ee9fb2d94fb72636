import math

from memograd.lesson import network
from memograd.viz.report import build_report
from memograd.viz.wellformed import check_report


def sigma(z):
    return 1 / (1 + math.exp(-z))


def test_fifteen_parameters_three_per_neuron():
    data = network.compute({"quick": True})
    assert data["net"] == [2, 2, 2, 1]
    assert data["parameters_total"] == data["parameters_by_formula"] == 15
    assert [n["parameters"] for n in data["neurons"]] == [3] * 5
    assert {n["parameters_formula"] for n in data["neurons"]} == {"(2+1) = 3"}
    names = [p for n in data["neurons"] for p in (*n["weights"], *n["bias"])]
    assert len(set(names)) == 15 and "w11^1" in names and "b1^3" in names


def test_forward_numbers_recomputed_by_hand():
    """Redo the forward pass from the JSON (weights, inputs) with plain floats."""
    data = network.compute({})
    w = data["weights"]
    x1, x2 = data["inputs"]["x1"], data["inputs"]["x2"]
    o11 = sigma(w["w11^1"] * x1 + w["w21^1"] * x2 + w["b1^1"])
    o12 = sigma(w["w12^1"] * x1 + w["w22^1"] * x2 + w["b2^1"])
    o21 = sigma(w["w11^2"] * o11 + w["w21^2"] * o12 + w["b1^2"])
    o22 = sigma(w["w12^2"] * o11 + w["w22^2"] * o12 + w["b2^2"])
    yhat = sigma(w["w11^3"] * o21 + w["w21^3"] * o22 + w["b1^3"])
    outs = {n["name"]: n["o"] for n in data["neurons"]}
    for name, want in (("o11", o11), ("o12", o12), ("o21", o21), ("o22", o22), ("yhat", yhat)):
        assert math.isclose(outs[name], want, rel_tol=1e-12), name
    assert math.isclose(data["L"], (yhat - data["target"]) ** 2, rel_tol=1e-12)


def test_render_and_html(capsys):
    from memograd.cli import UI

    data = network.compute({})
    network.render(data, UI(no_color=True))
    out = capsys.readouterr().out
    assert "(2+1) = 3" in out and "15" in out and "w₁₁¹" in out
    frag = network.html(data)
    info = check_report(build_report([(network.KEY, network.TITLE, frag)]))
    assert len(info["svgs"]) == 1
    from memograd.viz.notation import fmt

    for n in data["neurons"]:
        assert fmt(n["o"]) in info["text"]
    assert fmt(data["L"]) in info["text"]


def test_forward_table_names_each_weighted_sum_and_fits_80_columns():
    """Section 3 speaks of σ'(z₂₁) and σ'(z₃₁): the forward pass introduces those names."""
    import io

    from memograd.cli import UI
    from memograd.lesson import network

    data = network.compute({})
    buf = io.StringIO()
    ui = UI(no_color=True, stdout=buf)
    ui.console.width = 80
    network.render(data, ui)
    lines = buf.getvalue().splitlines()
    for z in ("z₁₁", "z₁₂", "z₂₁", "z₂₂", "z₃₁"):
        row = next(line for line in lines if f"{z} = " in line)
        assert row.rstrip("│ ").endswith(
            network.fmt(
                next(n["o"] for n in data["neurons"] if network.unicode_name(n["z_label"]) == z)
            )
        )
    assert max(len(line) for line in lines) <= 80
