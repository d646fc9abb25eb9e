"""PyTorch as a benchmark peer, driven by scripts/bench/pytorch.ts over stdin/stdout (one JSON object per line).

The bench starts this once (`/usr/bin/python3 scripts/bench/pytorch_peer.py`) with one thread everywhere
(OMP/MKL/OpenBLAS and torch.set_num_threads(1)), glibc's allocator told to keep freed memory
(MALLOC_TRIM_THRESHOLD_, MALLOC_MMAP_THRESHOLD_: without them every 25 MB output is a fresh mmap whose page
faults cost more than the kernel), and OpenBLAS on LD_LIBRARY_PATH when scripts/bench/fetch_openblas.sh has
fetched it (Debian's torch otherwise links the reference BLAS, 100x slower at GEMM).

Requests, each answered by one line:
  {"op": "hello"}                               -> {"ok": true, "torch": ..., "blas": ..., "threads": 1}
  {"op": "setup", "case": NAME, "dir": DIR, "shape": [...], "layout": "NCHW"|"NHWC"}
        reads the case's inputs from DIR/<name>.f32 (raw little-endian float32; targets .i32), builds the timed
        closure                                  -> {"ok": true}
  {"op": "validate", "case": NAME}              runs once, writes the outputs to DIR/out_<name>.f32 -> {"ok": true}
  {"op": "run", "case": NAME}                   runs once, timed with perf_counter and process_time
                                                 -> {"ms": wall ms, "cpu_ms": CPU ms}
  {"op": "teardown", "case": NAME}              -> {"ok": true}
Errors come back as {"error": "..."}. The case names and tensors are those of scripts/bench/cases/*.ts.
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.set_grad_enabled(True)


def blas_in_use():
    with open('/proc/self/maps') as maps:
        libs = {line.split()[-1] for line in maps if 'blas' in line}
    for lib in sorted(libs):
        if 'openblas' in lib:
            return 'OpenBLAS (' + os.path.basename(lib) + ')'
    return 'reference BLAS (' + ', '.join(os.path.basename(l) for l in sorted(libs)) + ')' if libs else 'unknown BLAS'


def load(d, name, dtype=np.float32):
    ext = '.i32' if dtype == np.int32 else '.f32'
    return torch.from_numpy(np.fromfile(os.path.join(d, name + ext), dtype=dtype).copy())


def save(d, name, t):
    t.detach().contiguous().numpy().astype(np.float32).tofile(os.path.join(d, 'out_' + name + '.f32'))


def nchw(flat, shape, layout):
    """An (N, C, *spatial) tensor from data stored in `layout`; channels-last data gives a channels_last tensor."""
    if layout == 'NHWC':
        n, c, *sp = shape
        t = flat.reshape(n, *sp, c)
        return t.permute(0, len(shape) - 1, *range(1, len(shape) - 1))
    return flat.reshape(shape)


def stored(t, layout):
    """t's values in the order of `layout` (the inverse of nchw)."""
    if layout == 'NHWC':
        return t.permute(0, *range(2, t.dim()), 1).contiguous()
    return t.contiguous()


class SeedNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 256)
        self.bn1 = torch.nn.BatchNorm1d(256)
        self.fc2 = torch.nn.Linear(256, 128)
        self.bn2 = torch.nn.BatchNorm1d(128)
        self.fc3 = torch.nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.fc1(x)))
        x = F.relu(self.bn2(self.fc2(x)))
        return self.fc3(x)


def rms_norm(x, w, eps):
    """RMSNorm as a module computed it before F.rms_norm (torch 2.4): x·rsqrt(mean(x²) + eps)·w over the last dim."""
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def family(name, d, shape, req):
    """GroupNorm, InstanceNorm, RMSNorm (scripts/bench/cases/families.ts): forward alone, or forward and backward."""
    kind, backward = name.split('_')[0], name.endswith('_bwd')
    eps = req['eps']
    x, w, b = load(d, 'x').reshape(shape), load(d, 'weight'), load(d, 'bias')
    if kind == 'gn':
        def f(x, w, b):
            return F.group_norm(x, req['numGroups'], w, b, eps)
    elif kind == 'in':
        def f(x, w, b):
            return F.instance_norm(x, weight=w, bias=b, use_input_stats=True, eps=eps)
    else:
        def f(x, w, b):
            return rms_norm(x, w, eps)
    out = {}
    if not backward:
        def run():
            with torch.no_grad():
                out['y'] = f(x, w, b)
        return run, lambda: {'y': out['y']}
    dy = load(d, 'dy').reshape(shape)
    xg, wg = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    bg = b.clone().requires_grad_(kind != 'rms')

    def run():
        for t in (xg, wg, bg):
            t.grad = None
        y = f(xg, wg, bg)
        y.backward(dy)
        out['y'] = y
    grads = lambda: {'dx': xg.grad, 'dweight': wg.grad, **({'dbias': bg.grad} if kind != 'rms' else {})}
    return run, lambda: {'y': out['y'], **grads()}


def setup(req):
    """The case's closure: run() does the timed work, outputs() the tensors validate writes, and for a case whose
    run changes its own inputs (the network's SGD step) reset(), which validate calls first so that the outputs
    it writes are those of one step from the initial state, as the bench's reference computes them."""
    d, name, shape, layout = req['dir'], req['case'], req.get('shape'), req.get('layout', 'NCHW')
    eps = 1e-5
    if name.startswith('bn') or name.startswith('ln'):
        x = nchw(load(d, 'x'), shape, layout)
    if name.startswith('bn'):
        w, b = load(d, 'weight'), load(d, 'bias')
        if name == 'bn_eval_fwd_nchw':
            rm, rv = load(d, 'running_mean'), load(d, 'running_var')
            out = {}

            def run():
                with torch.no_grad():
                    out['y'] = F.batch_norm(x, rm, rv, w, b, training=False, eps=eps)
            return run, lambda: {'y': stored(out['y'], layout)}
        rm, rv = torch.zeros(shape[1]), torch.ones(shape[1])
        if name == 'bn_train_fwd_nchw':
            out = {}

            def run():
                with torch.no_grad():
                    out['y'] = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=eps)
            return run, lambda: {'y': stored(out['y'], layout)}
        # training forward + backward
        dy = nchw(load(d, 'dy'), shape, layout)
        # clone keeps the memory format: channels-last data stays a channels_last tensor
        xg, wg, bg = x.clone().requires_grad_(True), w.clone().requires_grad_(True), b.clone().requires_grad_(True)
        out = {}

        def run():
            for t in (xg, wg, bg):
                t.grad = None
            y = F.batch_norm(xg, rm, rv, wg, bg, training=True, momentum=0.1, eps=eps)
            y.backward(dy)
            out['y'] = y
        return run, lambda: {'y': stored(out['y'], layout), 'dx': stored(xg.grad, layout), 'dweight': wg.grad, 'dbias': bg.grad}
    if name.startswith('ln'):
        w, b = load(d, 'weight'), load(d, 'bias')
        D = shape[-1]
        if name == 'ln_fwd':
            out = {}

            def run():
                with torch.no_grad():
                    out['y'] = F.layer_norm(x, (D,), w, b, eps)
            return run, lambda: {'y': out['y']}
        dy = load(d, 'dy').reshape(shape)
        xg, wg, bg = x.clone().requires_grad_(True), w.clone().requires_grad_(True), b.clone().requires_grad_(True)
        out = {}

        def run():
            for t in (xg, wg, bg):
                t.grad = None
            y = F.layer_norm(xg, (D,), wg, bg, eps)
            y.backward(dy)
            out['y'] = y
        return run, lambda: {'y': out['y'], 'dx': xg.grad, 'dweight': wg.grad, 'dbias': bg.grad}
    if name.startswith('gemm'):
        N, I, O = shape
        x, w, dy = load(d, 'x').reshape(N, I), load(d, 'w').reshape(O, I), load(d, 'dy').reshape(N, O)
        form = req['form']
        a, bt, out = {'xWt': (x, w.t(), torch.empty(N, O)), 'dyTx': (dy.t(), x, torch.empty(O, I)), 'dyW': (dy, w, torch.empty(N, I))}[form]

        def run():
            torch.mm(a, bt, out=out)
        return run, lambda: {'output': out}
    if name.split('_')[0] in ('gn', 'in', 'rms'):
        return family(name, d, shape, req)
    if name == 'network':
        net = SeedNet()
        state = {k: load(d, k) for k in net.state_dict().keys() if not k.endswith('num_batches_tracked')}
        state = {k: v.reshape(net.state_dict()[k].shape) for k, v in state.items()}
        x = load(d, 'x').reshape(-1, 784)
        targets = load(d, 'targets', np.int32).long()
        net.train()
        opt = {}

        def reset():
            """The initial parameters and running buffers, and a fresh optimiser (no momentum buffers)."""
            with torch.no_grad():
                net.load_state_dict(state, strict=False)
                net.bn1.num_batches_tracked.zero_()
                net.bn2.num_batches_tracked.zero_()
            opt['sgd'] = torch.optim.SGD(net.parameters(), lr=req['lr'], momentum=req['momentum'], weight_decay=req['weightDecay'])
        reset()
        out = {}

        def run():
            opt['sgd'].zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(x), targets)
            loss.backward()
            opt['sgd'].step()
            out['loss'] = loss
        return run, lambda: {'loss': out['loss'].reshape(1), **{k: v for k, v in net.state_dict().items() if not k.endswith('num_batches_tracked')}}, reset
    raise ValueError('unknown case ' + name)


def main():
    cases = {}
    for line in sys.stdin:
        req = json.loads(line)
        try:
            op = req['op']
            if op == 'hello':
                reply = {'ok': True, 'torch': torch.__version__, 'blas': blas_in_use(), 'threads': torch.get_num_threads()}
            elif op == 'setup':
                run, outputs, *reset = setup(req)
                run()  # first call: allocations, autograd graph construction
                cases[req['case']] = (run, outputs, req['dir'], reset[0] if reset else None)
                reply = {'ok': True}
            elif op == 'validate':
                run, outputs, d, reset = cases[req['case']]
                if reset is not None:
                    reset()
                run()
                for k, t in outputs().items():
                    save(d, k, t)
                reply = {'ok': True}
            elif op == 'run':
                run = cases[req['case']][0]
                t0, c0 = time.perf_counter(), time.process_time()
                run()
                reply = {'ms': (time.perf_counter() - t0) * 1e3, 'cpu_ms': (time.process_time() - c0) * 1e3}
            elif op == 'teardown':
                cases.pop(req['case'], None)
                reply = {'ok': True}
            else:
                reply = {'error': 'unknown op ' + str(op)}
        except Exception as e:  # reported to the bench, which marks the peer as an error
            reply = {'error': type(e).__name__ + ': ' + str(e)}
        sys.stdout.write(json.dumps(reply) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
