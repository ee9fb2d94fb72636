"""``memograd export``: a run as PyTorch files or an ONNX graph, checked against memograd."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memograd.cli import UI

import argparse

HELP = "export a trained model to PyTorch or ONNX (and check it against memograd)"
DESCRIPTION = """\
Write a run's model for PyTorch (NAME.pt, a state_dict, plus NAME.py, a plain module that
rebuilds the architecture) or ONNX (opset 17, checked by onnx.checker). The run's
standardisation is the first layer, so the exported model takes raw features. After writing,
the file is loaded back and compared with memograd on the run's test split (--check FILE does
only that; for PyTorch it runs NAME.py, so check files you trust).
Needs the interop extra: pip install 'memograd[interop]'."""
EXAMPLE = [
    "memograd export --model runs/digits --format torch --out digits.pt",
    "memograd export --model runs/digits --format onnx --out digits.onnx",
    "memograd export --model runs/digits --check digits.onnx",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="DIR", help="run folder (or checkpoint)")
    parser.add_argument(
        "--format", choices=("torch", "onnx"), help="default: from --out's suffix (.pt, .onnx)"
    )
    parser.add_argument("--out", metavar="FILE", help="file to write (NAME.pt or NAME.onnx)")
    parser.add_argument(
        "--check", metavar="FILE", help="only compare an exported FILE with the run (exit 1 if not)"
    )
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    parser.add_argument(
        "--no-check", action="store_true", help="do not load the written file back to compare"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _format(args: argparse.Namespace) -> str:
    from memograd.cli import UsageError
    from memograd.export.check import FORMATS

    if args.format:
        return str(args.format)
    from pathlib import Path

    fmt = FORMATS.get(Path(args.out).suffix.lower())
    if fmt is None or Path(args.out).suffix == ".py":
        raise UsageError(f"cannot tell the format from {args.out!r}: add --format torch or onnx")
    return fmt


def run(args: argparse.Namespace, ui: UI) -> int:
    from memograd.cli import UsageError
    from memograd.errors import MemogradError
    from memograd.export.check import check_export

    if args.check:
        if args.out:
            raise UsageError("give --check FILE or --out FILE, not both")
        result = check_export(args.check, args.model)
        if args.json:
            ui.json({"check": result.to_dict()})
        else:
            ui.print(result.line())
        return 0 if result.agree else 1
    if not args.out:
        raise UsageError("give --out FILE (NAME.pt or NAME.onnx), or --check FILE")
    fmt = _format(args)
    if fmt == "torch":
        from memograd.export.pytorch import save_torch

        files = {k: str(v) for k, v in save_torch(args.model, args.out).items()}
    else:
        from memograd.export.onnx_model import to_onnx

        files = {"onnx": str(to_onnx(args.model, args.out, opset=args.opset))}
    check, note = None, None
    if not args.no_check:
        try:
            check = check_export(args.out, args.model, fmt=fmt)
        except MemogradError as exc:  # the data moved, onnxruntime missing, ...
            note = f"not checked: {' '.join(str(exc).split())}"
    if args.json:
        ui.json(
            {
                "format": fmt,
                "files": files,
                "check": check.to_dict() if check else None,
                **({"note": note} if note else {}),
            }
        )
    else:
        for what, path in files.items():
            ui.print(f"wrote [bold]{path}[/] ({_DESCRIBE[what]})")
        if check is not None:
            ui.print(check.line())
        elif note:
            ui.print(note)
        ui.print(_NEXT[fmt].format(**files))
    return 1 if check is not None and not check.agree else 0


_DESCRIBE = {
    "weights": "state_dict for torch.load(weights_only=True)",
    "module": "the architecture: build() and load()",
    "onnx": "ONNX, checked by onnx.checker",
}
_NEXT = {
    "torch": "next: python examples/continue_on_torch_ddp.py --weights {weights} --run RUN",
    "onnx": "next: onnxruntime.InferenceSession('{onnx}').run(None, {{'input': rows}})",
}
