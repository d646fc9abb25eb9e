"""BatchNorm and LayerNorm the way the textbook writes them, in numpy float64, served to normcheck.

    npx normcheck check 'subprocess:python3 conformance/examples/numpy_textbook.py'

Forward: x_hat = (x - mean) / sqrt(var + eps) over the statistics group (BatchNorm: every axis but the
channel axis 1; LayerNorm: the normalized axes), y = weight * x_hat + bias. Training BatchNorm updates
the running statistics with the unbiased batch variance (PyTorch's convention; momentum None is the
cumulative average 1 / (num_batches_tracked + 1)).

Backward (with M values per group, g = dy * weight):
    dx = rstd / M * (M * g - sum(g) - x_hat * sum(g * x_hat)),  dweight = sum(dy * x_hat),  dbias = sum(dy)
and in eval mode, where mean and var are constants, dx = g * rstd.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'python'))
from normcheck_adapter import capability, serve  # noqa: E402


def channel(a, ndim):
    """A per-channel vector shaped to broadcast over (N, C, ...spatial)."""
    return a.reshape((1, -1) + (1,) * (ndim - 2))


@capability('bnTrainForward')
def bn_train(x, weight, bias, running_mean, running_var, num_batches_tracked, momentum, eps):
    axes = (0,) + tuple(range(2, x.ndim))
    m = x.size / x.shape[1]
    mean = x.mean(axis=axes)
    var = x.var(axis=axes)
    rstd = 1 / np.sqrt(var + eps)
    y = (x - channel(mean, x.ndim)) * channel(rstd, x.ndim)
    if weight is not None:
        y = y * channel(weight, x.ndim) + channel(bias, x.ndim)
    if running_mean is None:  # track_running_stats=False: no buffers to update
        return {'y': y, 'mean': mean, 'rstd': rstd}
    f = 1 / (num_batches_tracked + 1) if momentum is None else momentum
    return {
        'y': y,
        'running_mean': (1 - f) * running_mean + f * mean,
        'running_var': (1 - f) * running_var + f * var * m / (m - 1),
        'mean': mean,
        'rstd': rstd,
    }


@capability('bnEvalForward')
def bn_eval(x, weight, bias, running_mean, running_var, eps):
    y = (x - channel(running_mean, x.ndim)) / np.sqrt(channel(running_var, x.ndim) + eps)
    if weight is not None:
        y = y * channel(weight, x.ndim) + channel(bias, x.ndim)
    return y


@capability('bnBackward')
def bn_backward(dy, x, weight, bias, training, running_mean, running_var, eps):
    axes = (0,) + tuple(range(2, x.ndim))
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
    else:
        mean, var = running_mean, running_var
    rstd = channel(1 / np.sqrt(var + eps), x.ndim)
    x_hat = (x - channel(mean, x.ndim)) * rstd
    g = dy * channel(weight, x.ndim) if weight is not None else dy
    if training:
        m = x.size / x.shape[1]
        dx = rstd / m * (m * g - g.sum(axis=axes, keepdims=True) - x_hat * (g * x_hat).sum(axis=axes, keepdims=True))
    else:
        dx = g * rstd
    return {
        'dx': dx,
        'dweight': (dy * x_hat).sum(axis=axes) if weight is not None else None,
        'dbias': dy.sum(axis=axes) if bias is not None else None,
    }


def ln_rows(x, normalized_shape):
    """x as (rows, D): LayerNorm normalises each row."""
    d = int(np.prod(normalized_shape))
    return x.reshape(-1, d)


@capability('lnForward')
def ln_forward(x, normalized_shape, weight, bias, eps):
    r = ln_rows(x, normalized_shape)
    mean = r.mean(axis=1, keepdims=True)
    rstd = 1 / np.sqrt(r.var(axis=1, keepdims=True) + eps)
    y = (r - mean) * rstd
    if weight is not None:
        y = y * weight + bias
    return {'y': y, 'mean': mean, 'rstd': rstd}


@capability('lnBackward')
def ln_backward(dy, x, normalized_shape, weight, bias, eps):
    r = ln_rows(x, normalized_shape)
    g0 = ln_rows(dy, normalized_shape)
    d = r.shape[1]
    rstd = 1 / np.sqrt(r.var(axis=1, keepdims=True) + eps)
    x_hat = (r - r.mean(axis=1, keepdims=True)) * rstd
    g = g0 * weight if weight is not None else g0
    dx = rstd / d * (d * g - g.sum(axis=1, keepdims=True) - x_hat * (g * x_hat).sum(axis=1, keepdims=True))
    return (dx, (g0 * x_hat).sum(axis=0) if weight is not None else None, g0.sum(axis=0) if bias is not None else None)


serve(name='numpy-textbook', precision='float64', layout='NCHW',
      description='BatchNorm and LayerNorm, textbook formulas in numpy float64 (conformance/examples/numpy_textbook.py)')
