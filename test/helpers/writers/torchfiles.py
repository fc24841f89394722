"""PyTorch checkpoints written by torch.save itself (Debian's python3-torch), and their check after a round trip.

Usage:
  python3 torchfiles.py write DIR   writes DIR/v1 and DIR/v2, each holding
      state_dict.pt  a small module's state_dict (Linear, BatchNorm1d with its buffers, Linear)
      module.pt      the whole module (torch.save(model): the class Net below is pickled by reference)
      optim.pt       an Adam optimizer's state_dict after two steps (v1) and three (v2)
    v2 is v1 after one more training step. Prints, as JSON, each file's tensors by their
    state-dict path: {file: {name: [dtype, shape]}}.
  python3 torchfiles.py check WANT GOT   torch.loads every file of WANT and of GOT and exits non-zero
    unless each GOT file holds the same structure and tensors equal (dtype, shape, values) to WANT's.
"""
import json
import os
import sys

import torch


class Net(torch.nn.Module):
    """The module saved whole: torch.load finds this class as __main__.Net."""

    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(32, 64)
        self.bn = torch.nn.BatchNorm1d(64)
        self.fc2 = torch.nn.Linear(64, 8)

    def forward(self, x):
        return self.fc2(torch.relu(self.bn(self.fc1(x))))


def step(model, opt, gen):
    x = torch.randn(16, 32, generator=gen)
    y = torch.randn(16, 8, generator=gen)
    opt.zero_grad()
    torch.nn.functional.mse_loss(model(x), y).backward()
    opt.step()


def tensors(obj, prefix=''):
    """(dotted path, tensor) for every tensor in nested dicts and lists, as a state dict names them."""
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from tensors(v, f'{prefix}.{k}' if prefix else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from tensors(v, f'{prefix}.{i}' if prefix else str(i))


def write(out):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    listing = {}
    for version, steps in [('v1', 2), ('v2', 1)]:
        for _ in range(steps):
            step(model, opt, gen)
        os.makedirs(f'{out}/{version}', exist_ok=True)
        torch.save(model.state_dict(), f'{out}/{version}/state_dict.pt')
        torch.save(model, f'{out}/{version}/module.pt')
        torch.save(opt.state_dict(), f'{out}/{version}/optim.pt')
    for name, obj in [('state_dict.pt', model.state_dict()), ('module.pt', model.state_dict()),
                      ('optim.pt', opt.state_dict())]:
        listing[name] = {k: [str(t.dtype).removeprefix('torch.'), list(t.shape)] for k, t in tensors(obj)}
    print(json.dumps(listing))


def same(a, b, where):
    """Raises unless a and b hold the same structure with equal tensors."""
    if isinstance(a, torch.nn.Module):
        if type(a) is not type(b):
            raise SystemExit(f'{where}: {type(b).__name__} where {type(a).__name__} was saved')
        return same(a.state_dict(), b.state_dict(), where)
    if isinstance(a, torch.Tensor):
        if not isinstance(b, torch.Tensor) or a.dtype != b.dtype or a.shape != b.shape or not torch.equal(a, b):
            raise SystemExit(f'{where}: tensor differs')
        return
    if isinstance(a, dict):
        if not isinstance(b, dict) or list(a) != list(b):
            raise SystemExit(f'{where}: keys {list(b)} where {list(a)} were saved')
        for k in a:
            same(a[k], b[k], f'{where}.{k}')
        return
    if isinstance(a, (list, tuple)):
        if type(a) is not type(b) or len(a) != len(b):
            raise SystemExit(f'{where}: a different sequence')
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f'{where}.{i}')
        return
    if a != b:
        raise SystemExit(f'{where}: {b!r} where {a!r} was saved')


def check(want, got):
    names = sorted(os.listdir(want))
    for name in names:
        a = torch.load(f'{want}/{name}')
        b = torch.load(f'{got}/{name}')
        same(a, b, name)
        if isinstance(b, torch.nn.Module):
            x = torch.randn(4, 32, generator=torch.Generator().manual_seed(2))
            a.eval(), b.eval()
            if not torch.equal(a(x), b(x)):
                raise SystemExit(f'{name}: the loaded module computes something else')
    print(json.dumps({'checked': names}))


if sys.argv[1] == 'write':
    write(sys.argv[2])
else:
    check(sys.argv[2], sys.argv[3])
