"""PyTorch's CPU normalisation layers, served to normcheck: the built-in adapters `torch` (float32) and
`torch-float64`, run as `python3 normcheck_torch.py --precision float32|float64`.

Forward passes are torch.nn.functional's (batch_norm, layer_norm, group_norm, instance_norm), called as
the nn modules call them; gradients are autograd's (y.backward(dy)). The saved statistics the suite also
checks (BatchNorm's and LayerNorm's mean and rstd, GroupNorm's per (sample, group)) come from the ATen
kernels those functions dispatch to (torch.native_batch_norm, native_layer_norm, native_group_norm), on
copies of the inputs. One thread (torch.set_num_threads(1)): a run is reproducible and the timing is
comparable with the other adapters'; multithreaded reductions are a separate question.

BatchNorm semantics are nn.BatchNorm1d/2d/3d's in training mode with track_running_stats=True: the running
statistics move by `momentum`, or with momentum=None by the cumulative average 1/num_batches_tracked after
its increment (nn.BatchNorm's exponential_average_factor), the running variance with the unbiased batch
variance; eval mode normalises with the running statistics.

RMSNorm: torch 1.13 has no rms_norm (F.rms_norm and nn.RMSNorm arrived in PyTorch 2.4), so on an older torch
it is computed with torch ops in the order of ATen's rms_norm composite (aten/src/ATen/native/layer_norm.cpp):
rstd = rsqrt(mean(x², normalised dims) + eps), y = (x · rstd) · weight, eps None meaning the machine epsilon
of the arithmetic's type (2^-23 for float32, 2^-52 for float64); gradients by autograd through those ops.
Where F.rms_norm exists it is called instead. The handshake's description says which.
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from normcheck_adapter import Adapter  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
parser.add_argument('--precision', choices=('float32', 'float64'), default='float32')
parser.add_argument('--name', default=None)
options = parser.parse_args()

torch.set_num_threads(1)
DTYPE = torch.float32 if options.precision == 'float32' else torch.float64
name = options.name or ('torch' if options.precision == 'float32' else 'torch-float64')
adapter = Adapter(name=name, precision=options.precision, layout='NCHW', profile='pytorch',
                  description='PyTorch %s CPU, %s: torch.nn.functional batch_norm, layer_norm, group_norm, instance_norm, %s, '
                              'gradients by autograd' % (torch.__version__, options.precision,
                                                         'rms_norm' if hasattr(F, 'rms_norm') else 'RMSNorm from torch ops (no F.rms_norm before PyTorch 2.4)'))


def tensor(a):
    """A torch tensor sharing the (writable, owned) numpy array's memory, or None."""
    return None if a is None else torch.from_numpy(a)


def leaf(a):
    """A tensor autograd differentiates with respect to, or None."""
    return None if a is None else torch.from_numpy(a).clone().requires_grad_(True)


def grad(t):
    return None if t is None else t.grad.numpy()


def out(t):
    return t.detach().numpy()


def backward(y, dy, x, weight, bias):
    y.backward(tensor(dy))
    return {'dx': grad(x), 'dweight': grad(weight), 'dbias': grad(bias)}


@adapter.capability('bnTrainForward')
def bn_train(x, weight, bias, running_mean, running_var, num_batches_tracked, momentum, eps):
    # nn.BatchNorm: momentum=None is the cumulative average, 1/num_batches_tracked after its increment
    factor = 1.0 / float(num_batches_tracked + 1) if momentum is None else momentum
    # no running buffers: track_running_stats=False (F.batch_norm takes None for both)
    tracking = running_mean is not None and running_var is not None
    rm = tensor(running_mean.copy()) if tracking else None
    rv = tensor(running_var.copy()) if tracking else None
    with torch.no_grad():
        y = F.batch_norm(tensor(x), rm, rv, tensor(weight), tensor(bias), True, factor, eps)
        _, mean, rstd = torch.native_batch_norm(tensor(x), None, None, None, None, True, factor, eps)
    result = {'y': out(y), 'mean': out(mean), 'rstd': out(rstd)}
    if tracking:
        # nn.BatchNorm increments num_batches_tracked once per training step
        result.update({'running_mean': out(rm), 'running_var': out(rv), 'num_batches_tracked': num_batches_tracked + 1})
    return result


@adapter.capability('bnEvalForward')
def bn_eval(x, weight, bias, running_mean, running_var, eps):
    with torch.no_grad():
        return out(F.batch_norm(tensor(x), tensor(running_mean), tensor(running_var), tensor(weight), tensor(bias), False, 0.0, eps))


@adapter.capability('bnBackward')
def bn_backward(dy, x, weight, bias, training, running_mean, running_var, eps):
    xs, w, b = leaf(x), leaf(weight), leaf(bias)
    if training:
        y = F.batch_norm(xs, None, None, w, b, True, 0.0, eps)
    else:
        y = F.batch_norm(xs, tensor(running_mean), tensor(running_var), w, b, False, 0.0, eps)
    return backward(y, dy, xs, w, b)


@adapter.capability('lnForward')
def ln_forward(x, normalized_shape, weight, bias, eps):
    w, b = tensor(weight), tensor(bias)
    shape = list(normalized_shape)
    with torch.no_grad():
        y = F.layer_norm(tensor(x), shape, None if w is None else w.reshape(shape), None if b is None else b.reshape(shape), eps)
        _, mean, rstd = torch.native_layer_norm(tensor(x), shape, None, None, eps)
    return {'y': out(y), 'mean': out(mean), 'rstd': out(rstd)}


@adapter.capability('lnBackward')
def ln_backward(dy, x, normalized_shape, weight, bias, eps):
    shape = list(normalized_shape)
    xs, w, b = leaf(x), leaf(weight), leaf(bias)
    y = F.layer_norm(xs, shape, None if w is None else w.reshape(shape), None if b is None else b.reshape(shape), eps)
    g = backward(y, dy, xs, w, b)
    return g


@adapter.capability('gnForward')
def gn_forward(x, num_groups, weight, bias, eps):
    n, c = x.shape[0], x.shape[1]
    spatial = x.size // (n * c)
    with torch.no_grad():
        y = F.group_norm(tensor(x), num_groups, tensor(weight), tensor(bias), eps)
        _, mean, rstd = torch.native_group_norm(tensor(x), None, None, n, c, spatial, num_groups, eps)
    return {'y': out(y), 'mean': out(mean), 'rstd': out(rstd)}


@adapter.capability('gnBackward')
def gn_backward(dy, x, num_groups, weight, bias, eps):
    xs, w, b = leaf(x), leaf(weight), leaf(bias)
    return backward(F.group_norm(xs, num_groups, w, b, eps), dy, xs, w, b)


@adapter.capability('inForward')
def in_forward(x, weight, bias, running_mean, running_var, use_input_stats, momentum, eps):
    rm = None if running_mean is None else tensor(running_mean.copy())
    rv = None if running_var is None else tensor(running_var.copy())
    with torch.no_grad():
        y = F.instance_norm(tensor(x), rm, rv, tensor(weight), tensor(bias), use_input_stats, momentum, eps)
    result = {'y': out(y)}
    if rm is not None and use_input_stats:
        result['running_mean'] = out(rm)
        result['running_var'] = out(rv)
    return result


@adapter.capability('inBackward')
def in_backward(dy, x, weight, bias, use_input_stats, running_mean, running_var, eps):
    xs, w, b = leaf(x), leaf(weight), leaf(bias)
    # copies: with use_input_stats, instance_norm writes the running buffers it is given
    rm = None if running_mean is None else tensor(running_mean.copy())
    rv = None if running_var is None else tensor(running_var.copy())
    y = F.instance_norm(xs, rm, rv, w, b, use_input_stats, 0.0, eps)
    return backward(y, dy, xs, w, b)


def rms_norm(x, normalized_shape, weight, eps):
    """y and rstd (keepdim) of RMSNorm over the last len(normalized_shape) dimensions."""
    shape = list(normalized_shape)
    e = torch.finfo(x.dtype).eps if eps is None else eps
    dims = tuple(range(x.dim() - len(shape), x.dim()))
    rstd = torch.rsqrt(x.pow(2).mean(dims, keepdim=True) + e)
    if hasattr(F, 'rms_norm'):
        return F.rms_norm(x, shape, None if weight is None else weight.reshape(shape), eps), rstd
    y = x * rstd
    return (y if weight is None else y * weight.reshape(shape)), rstd


@adapter.capability('rmsForward')
def rms_forward(x, normalized_shape, weight, eps):
    with torch.no_grad():
        y, rstd = rms_norm(tensor(x), normalized_shape, tensor(weight), eps)
    return {'y': out(y), 'rstd': out(rstd).reshape(-1)}


@adapter.capability('rmsBackward')
def rms_backward(dy, x, normalized_shape, weight, eps):
    xs, w = leaf(x), leaf(weight)
    y, _ = rms_norm(xs, normalized_shape, w, eps)
    y.backward(tensor(dy))
    return {'dx': grad(xs), 'dweight': grad(w)}


adapter.serve()
