"""Continue training a memograd model in PyTorch, on several processes (DistributedDataParallel).

    memograd train --dataset digits --out runs/digits
    memograd export --model runs/digits --format torch --out digits.pt    # digits.pt + digits.py
    python examples/continue_on_torch_ddp.py --weights digits.pt --run runs/digits \\
        --nprocs 2 --steps 200 --out digits-ddp.pt

The network is rebuilt from the exported files alone (digits.py's build(), the weights read with
torch.load(weights_only=True)); memograd only reads the run's training split (raw features: the
network's first layer standardises them) and says which loss the run used.

Each step takes one global batch of --batch-size rows (epoch e visits the training split in the
order np.random.default_rng([seed, e]).permutation(n), cut into full batches; the same on every
process). Process r of W computes the loss on its slice r*B/W .. (r+1)*B/W of the batch; DDP
averages the gradients, so W processes take the step one process takes on the whole batch.
--nprocs 1 is that one process, plain PyTorch without DDP. The processes meet on 127.0.0.1 (the
gloo backend, CPU); nothing listens on another address. The optimizer starts fresh (the run's
optimizer, learning rate and weight decay unless given; no schedule).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

HOST = "127.0.0.1"


def global_batches(n: int, batch_size: int, steps: int, seed: int = 0) -> list[np.ndarray]:
    """Row indices of each global batch: epoch e is permutation default_rng([seed, e]) of the
    n rows cut into full batches (a last partial batch is skipped: every slice is the same size)."""
    if not 1 <= batch_size <= n:
        raise SystemExit(f"--batch-size must be between 1 and the {n} training rows")
    batches: list[np.ndarray] = []
    epoch = 0
    while len(batches) < steps:
        order = np.random.default_rng([seed, epoch]).permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            batches.append(order[start : start + batch_size])
            if len(batches) == steps:
                break
        epoch += 1
    return batches


def load_exported(weights: Path) -> torch.nn.Module:
    """The network of ``memograd export --format torch``: NAME.py's build() + NAME.pt."""
    spec = importlib.util.spec_from_file_location(
        "exported_architecture", weights.with_suffix(".py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = module.build()
    net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return net


def loss_function(name: str):
    """PyTorch's form of the run's memograd loss (mean over the rows, as memograd's)."""
    if name == "cross_entropy":
        return F.cross_entropy
    if name == "mse":
        return lambda out, y: F.mse_loss(out, y.view_as(out))
    if name == "bce_with_logits":
        return lambda out, y: F.binary_cross_entropy_with_logits(out, y.view_as(out).to(out.dtype))
    raise SystemExit(f"this example does not translate the loss {name!r}")


def make_optimizer(name: str, params, lr: float, weight_decay: float, momentum: float):
    """The memograd optimizer's PyTorch twin (memograd follows PyTorch's conventions)."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise SystemExit(f"this example does not translate the optimizer {name!r}")


def train(rank: int, world: int, args, data: dict, port: int) -> None:
    """One process: rebuild the network, take the global batches' slices, step, save (rank 0)."""
    torch.set_num_threads(1)
    if world > 1:
        dist.init_process_group(
            "gloo", init_method=f"tcp://{HOST}:{port}", rank=rank, world_size=world
        )
    try:
        net = load_exported(Path(args.weights)).train()
        model = DistributedDataParallel(net) if world > 1 else net
        opt = make_optimizer(
            args.optimizer, net.parameters(), args.lr, args.weight_decay, args.momentum
        )
        loss_fn = loss_function(data["loss"])
        X, y = torch.from_numpy(data["X"]), torch.from_numpy(data["y"])
        per = args.batch_size // world
        for step, rows in enumerate(global_batches(len(y), args.batch_size, args.steps, args.seed)):
            mine = torch.from_numpy(rows[rank * per : (rank + 1) * per])
            loss = loss_fn(model(X[mine]), y[mine])
            opt.zero_grad()
            loss.backward()  # DDP: gradients averaged over the processes here
            opt.step()
            if rank == 0 and args.log_every and (step + 1) % args.log_every == 0:
                print(f"step {step + 1}/{args.steps}: loss on process 0's slice {loss.item():.4f}")
        if rank == 0 and args.out:
            out = Path(args.out)
            fd, tmp = tempfile.mkstemp(dir=out.parent or ".", suffix=".tmp")
            os.close(fd)
            torch.save(net.state_dict(), tmp)
            os.replace(tmp, out)  # atomic: a half-written file never has the final name
            print(f"wrote {out} (load it with the exported module: build() + load_state_dict)")
    finally:
        if world > 1:
            dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _loopback_interface() -> str:
    names = [name for _, name in socket.if_nameindex()]
    return next((n for n in ("lo", "lo0") if n in names), names[0] if names else "lo")


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--weights", required=True, help="NAME.pt written by memograd export (NAME.py beside it)"
    )
    p.add_argument("--run", required=True, help="the memograd run folder (its training split)")
    p.add_argument("--nprocs", type=int, default=2, help="processes (1: plain PyTorch, no DDP)")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=32, help="global batch (all processes)")
    p.add_argument("--optimizer", choices=("sgd", "adam", "adamw"), help="default: the run's")
    p.add_argument("--lr", type=float, help="default: the run's")
    p.add_argument("--weight-decay", type=float, help="default: the run's")
    p.add_argument("--momentum", type=float, default=0.0, help="for sgd")
    p.add_argument("--seed", type=int, default=0, help="seeds the batch order")
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--out", help="write the trained state_dict here (process 0)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from memograd.export import run_data
    from memograd.train import TrainConfig, load_run

    _, ck = load_run(args.run)
    cfg = TrainConfig.from_dict(ck.metadata["config"])
    args.optimizer = args.optimizer or cfg.optimizer.lower()
    args.lr = cfg.lr if args.lr is None else args.lr
    args.weight_decay = (
        cfg.resolved_weight_decay() if args.weight_decay is None else args.weight_decay
    )
    if args.nprocs < 1 or args.batch_size % args.nprocs:
        raise SystemExit(
            f"--batch-size {args.batch_size} must split evenly over {args.nprocs} processes"
        )
    train_rows = run_data(args.run, "train")
    data = {"X": train_rows.X, "y": train_rows.y, "loss": train_rows.loss}
    if args.nprocs == 1:
        train(0, 1, args, data, 0)
        return 0
    os.environ.setdefault("GLOO_SOCKET_IFNAME", _loopback_interface())  # stay on 127.0.0.1
    torch.multiprocessing.spawn(
        train, args=(args.nprocs, args, data, _free_port()), nprocs=args.nprocs
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
