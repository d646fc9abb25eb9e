"""normcheck_adapter: serve a numpy (or PyTorch, JAX, ...) normalisation layer to normcheck.

One file, standard library + numpy. Copy it next to your adapter or put its folder on PYTHONPATH
(it ships in the npm package: node_modules/normcheck/python/). Write plain functions that take and
return numpy arrays, mark each with the capability it implements, and call serve():

    import numpy as np
    from normcheck_adapter import capability, serve

    @capability('lnForward')
    def layer_norm(x, normalized_shape, weight, bias, eps):
        axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        y = (x - mean) / np.sqrt(var + eps)
        if weight is not None:
            y = y * weight + bias
        return {'y': y}

    serve(name='my-layernorm', precision='float64', layout='NCHW')

and run  npx normcheck check 'subprocess:python3 my_layernorm.py'.

Arguments. Each function receives the capability's arguments (conformance/adapter.ts) by keyword,
snake_case (running_mean, num_batches_tracked, normalized_shape, ...), and only those its signature
names (or all, with **kwargs). `x` and `dy` arrive shaped (shape is in the adapter's layout); the
other arrays are 1-D (weight, bias, running statistics: one value per channel, or normalized_shape for
LayerNorm/RMSNorm parameters, flattened). Arrays are float64 for a float64 adapter and float32 for a
float32 or float16 one (float16 values arrive exactly representable, as float32, like the JavaScript
contract). They are your own copies: writing into one is allowed by Python but breaks the contract, and
normcheck's hygiene check reports it.

Results. A dict of arrays by name (y, running_mean/runningMean, running_var, mean, rstd, dx, dweight,
dbias), or for a forward a single array (y), for a backward a tuple (dx, dweight, dbias). Return them in
the adapter's precision: a float32 adapter that returns float64 fails with a clear message, on purpose.
Shapes are flattened in C order.

Errors. Any exception becomes that call's error in the report, with its type, message and traceback; so
does an exception, or an os._exit, in a thread a call started, after the call returned (blamed on that call).
What you print goes to normcheck's stderr as a log, never into the protocol (fds 3 and 4, see
docs/protocol.md), so print freely.
"""

import inspect
import json
import os
import struct
import sys
import threading
import time
import traceback

import numpy as np

PROTOCOL_VERSION = 1
REQUESTS_FD, ANSWERS_FD = 3, 4

# How long a ping waits, at most, for the threads calls left running.
_SETTLE_S = 0.25

# Which result names a positional return means, by kind of capability.
_FORWARD_ORDER = ('y', 'runningMean', 'runningVar', 'mean', 'rstd')
_BACKWARD_ORDER = ('dx', 'dweight', 'dbias')
_SHAPED_INPUTS = ('x', 'dy')


_SNAKE = {}


def _snake(name):
    # argument names repeat on every call: computed once each
    known = _SNAKE.get(name)
    if known is not None:
        return known
    out = []
    for ch in name:
        if ch.isupper():
            out.append('_')
            out.append(ch.lower())
        else:
            out.append(ch)
    _SNAKE[name] = ''.join(out)
    return _SNAKE[name]


def _camel(name):
    head, *rest = name.split('_')
    return head + ''.join(part[:1].upper() + part[1:] for part in rest)


class Adapter:
    """What normcheck sees of your implementation: its declaration and the functions per capability."""

    def __init__(self, name, precision='float32', layout='NCHW', profile=None, conventions=None, description=None, unsupported=None):
        self.declaration = {'name': name, 'precision': precision, 'layout': layout}
        if profile is not None:
            self.declaration['profile'] = profile
        if conventions is not None:
            self.declaration['conventions'] = conventions
        # features (conformance/features.ts) it does not take: a list, or a dict by capability ('*': every one)
        if unsupported is not None:
            self.declaration['unsupported'] = unsupported
        if description is not None:
            self.declaration['description'] = description
        self.capabilities = {}
        self.hooks = {}

    def capability(self, name):
        """Decorator: the function implements capability `name` (bnTrainForward, lnBackward, ...)."""
        def mark(fn):
            self.capabilities[name] = _Bound(name, fn)
            return fn
        return mark

    def hook(self, name):
        """Decorator for available (returns True or a reason), setup and teardown."""
        if name not in ('available', 'setup', 'teardown'):
            raise ValueError("hook must be 'available', 'setup' or 'teardown', got %r" % (name,))

        def mark(fn):
            self.hooks[name] = fn
            return fn
        return mark

    def serve(self):
        serve(adapter=self)


class _Bound:
    """A capability's function with the keyword arguments it accepts."""

    def __init__(self, capability, fn):
        self.capability = capability
        self.fn = fn
        params = inspect.signature(fn).parameters.values()
        self.takes_all = any(p.kind == p.VAR_KEYWORD for p in params)
        self.names = {p.name for p in params}

    def __call__(self, args):
        kwargs = {}
        shape = args.get('shape')
        for key, value in args.items():
            if isinstance(value, np.ndarray) and key in _SHAPED_INPUTS and shape is not None:
                value = value.reshape(shape)
            name = _snake(key)
            if self.takes_all or name in self.names:
                kwargs[name] = value
        return self.fn(**kwargs)

    def results(self, value):
        """The function's return value as {camelCaseName: array or None}."""
        if isinstance(value, dict):
            return {_camel(k): v for k, v in value.items()}
        order = _BACKWARD_ORDER if self.capability.endswith('Backward') else _FORWARD_ORDER
        if isinstance(value, (tuple, list)):
            if len(value) > len(order):
                raise TypeError('%s returned %d values; a tuple means %s' % (self.capability, len(value), ', '.join(order)))
            return dict(zip(order, value))
        return {order[0]: value}


# The adapter the module-level decorators fill.
_default = Adapter(name='')


def capability(name):
    """Decorator: the function implements capability `name` of the adapter serve() declares."""
    return _default.capability(name)


def hook(name):
    """Decorator: available / setup / teardown of the adapter serve() declares."""
    return _default.hook(name)


# ---------------------------------------------------------------------------------------------------------
# Frames: u32 LE length of the rest, u32 LE header length, JSON header, zero padding to a multiple of 8,
# then the arrays' raw little-endian bytes, each at header.arrays[i].offset (a multiple of 8).

# dtype.name is computed in Python on every access: the two dtypes the protocol carries are looked up instead
_WIRE_DTYPES = {'float32': np.dtype('<f4'), 'float64': np.dtype('<f8')}
_DTYPE_NAMES = {np.dtype('<f4'): 'float32', np.dtype('<f8'): 'float64'}


def _align8(n):
    return (n + 7) & ~7


def _read_exact(fd, n):
    chunks = []
    while n > 0:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b''.join(chunks)


def _read_frame(fd):
    head = _read_exact(fd, 4)
    if head is None:
        return None
    (n,) = struct.unpack('<I', head)
    body = _read_exact(fd, n)
    if body is None:
        return None
    (h,) = struct.unpack_from('<I', body, 0)
    header = json.loads(body[4:4 + h].decode('utf-8'))
    start = _align8(8 + h) - 4
    arrays = []
    for info in header.pop('arrays', []):
        dtype = _WIRE_DTYPES.get(info['dtype']) or np.dtype(info['dtype']).newbyteorder('<')
        count = int(np.prod(info['shape'], dtype=np.int64))
        offset = start + info['offset']
        # a writable copy: the function owns it (writing into it is a contract breach normcheck reports)
        arrays.append(np.frombuffer(body, dtype=dtype, count=count, offset=offset).reshape(info['shape']).copy())

    def resolve(v):
        if isinstance(v, dict):
            if len(v) == 1 and '$array' in v:
                return arrays[v['$array']]
            return {k: resolve(x) for k, x in v.items()}
        if isinstance(v, list):
            return [resolve(x) for x in v]
        return v
    return resolve(header)


def _encode_frame(header):
    arrays = []
    blobs = []
    size = [0]

    def replace(v):
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, np.ndarray):
            a = np.ascontiguousarray(v)
            if a.dtype.byteorder == '>':
                a = a.astype(a.dtype.newbyteorder('<'))
            arrays.append({'dtype': _DTYPE_NAMES.get(a.dtype) or a.dtype.name, 'shape': list(a.shape), 'offset': size[0]})
            data = a.tobytes()
            blobs.append((size[0], data))
            size[0] = _align8(size[0] + len(data))
            return {'$array': len(arrays) - 1}
        if isinstance(v, dict):
            return {k: replace(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [replace(x) for x in v]
        return v
    body = replace(header)
    if arrays:
        body['arrays'] = arrays
    text = json.dumps(body, allow_nan=False).encode('utf-8')
    start = _align8(8 + len(text))
    frame = bytearray(start + size[0])
    struct.pack_into('<II', frame, 0, len(frame) - 4, len(text))
    frame[8:8 + len(text)] = text
    for offset, data in blobs:
        frame[start + offset:start + offset + len(data)] = data
    return frame


# Frames come from the serving loop and, for 'fault' and 'exiting', from threads calls started: one at a time.
_write_lock = threading.Lock()


def _write_frame(fd, header, lock_timeout=-1):
    try:
        frame = _encode_frame(header)
    except (TypeError, ValueError) as exc:
        # a result the protocol cannot carry (a NaN scalar, an object): that request's error
        frame = _encode_frame({'type': 'error', 'id': header.get('id', -1), 'error': _error(exc)})
    if not _write_lock.acquire(timeout=lock_timeout):
        return
    try:
        view = memoryview(frame)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        _write_lock.release()


# Which call a thread belongs to: the call running in the serving thread, and for a thread a call started,
# that call. A thread that raises, or that ends the process with os._exit, is then blamed on its call.
_current_call = [None]
_thread_call = {}
_real_os_exit = os._exit


def _call_of_this_thread():
    return _thread_call.get(threading.get_ident(), _current_call[0])


def _os_exit(code):
    call = _call_of_this_thread()
    if call is not None:
        try:
            # a thread may be cut off mid-write by the exit; never wait long for the lock
            _write_frame(ANSWERS_FD, {'type': 'exiting', 'call': call, 'code': code}, lock_timeout=0.5)
        except BaseException:  # noqa: B902 - the exit goes ahead whatever happens here
            pass
    _real_os_exit(code)


def _thread_excepthook(args):
    call = _thread_call.get(args.thread.ident if args.thread is not None else None)
    if call is None or args.exc_type is SystemExit:
        return threading.__excepthook__(args)
    _write_frame(ANSWERS_FD, {'type': 'fault', 'call': call, 'error': _error(args.exc_value)})


def _error(exc):
    return {
        'type': type(exc).__name__,
        'message': str(exc),
        'traceback': ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    }


def _answer_call(adapter, call):
    bound = adapter.capabilities.get(call['capability'])
    if bound is None:
        raise LookupError('%s is not a capability of this adapter' % call['capability'])
    args = call['args']
    before = {k: v.copy() for k, v in args.items() if isinstance(v, np.ndarray)}
    value = bound.results(bound(args))
    for k, v in value.items():
        if k == 'numBatchesTracked' and isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            value[k] = int(v)  # the one scalar of a result: a count, sent as a JSON number
        elif v is not None and not isinstance(v, np.ndarray):
            value[k] = np.asarray(v)
    # bit for bit: a NaN written over a NaN, or -0 over 0, is still a write
    mutated = {k: args[k] for k, v in before.items() if args[k].tobytes() != v.tobytes()}
    return value, mutated


def serve(name=None, precision=None, layout=None, profile=None, conventions=None, description=None, adapter=None, unsupported=None):
    """Declares the adapter (or takes `adapter`) and answers normcheck's requests until it hangs up."""
    if adapter is None:
        adapter = _default
        fields = {'name': name, 'precision': precision, 'layout': layout, 'profile': profile,
                  'conventions': conventions, 'description': description, 'unsupported': unsupported}
        for k, v in fields.items():
            if v is not None:
                adapter.declaration[k] = v
        adapter.declaration.setdefault('precision', 'float32')
        adapter.declaration.setdefault('layout', 'NCHW')
    try:
        os.fstat(REQUESTS_FD)
        os.fstat(ANSWERS_FD)
    except OSError:
        sys.stderr.write("%s is a normcheck adapter: run it through normcheck, e.g.\n"
                         "  npx normcheck check 'subprocess:%s %s'\n" % (sys.argv[0], os.path.basename(sys.executable), sys.argv[0]))
        sys.exit(2)
    os._exit = _os_exit
    threading.excepthook = _thread_excepthook
    _write_frame(ANSWERS_FD, {'type': 'hello', 'protocol': PROTOCOL_VERSION, 'adapter': adapter.declaration,
                              'capabilities': sorted(adapter.capabilities)})
    # threads a call started that were still running when it returned (a timer, a background job): their
    # call's answer says so ("running"), so that if one of them ends the process, normcheck blames that call;
    # a ping (normcheck's settle, at the end of each check) gives them a moment to finish first
    left_running = []
    while True:
        request = _read_frame(REQUESTS_FD)
        if request is None:
            return
        kind = request.get('type')
        if kind == 'call':
            for call in request['calls']:
                threads = set(threading.enumerate())
                _current_call[0] = call['id']
                try:
                    value, mutated = _answer_call(adapter, call)
                    answer = {'type': 'result', 'id': call['id'], 'value': value}
                    if mutated:
                        answer['mutated'] = mutated
                except BaseException as exc:  # noqa: B902 - SystemExit in a capability is that call's error too
                    answer = {'type': 'error', 'id': call['id'], 'error': _error(exc)}
                _current_call[0] = None
                started = [t for t in threading.enumerate() if t not in threads and t.is_alive()]
                for t in started:
                    _thread_call[t.ident] = call['id']
                if started:
                    answer['running'] = len(started)
                    left_running.extend(started)
                _write_frame(ANSWERS_FD, answer)
        elif kind == 'hook':
            fn = adapter.hooks.get(request['hook'])
            try:
                value = fn() if fn else (True if request['hook'] == 'available' else None)
                _write_frame(ANSWERS_FD, {'type': 'result', 'id': request['id'], 'value': value})
            except BaseException as exc:  # noqa: B902
                _write_frame(ANSWERS_FD, {'type': 'error', 'id': request['id'], 'error': _error(exc)})
        elif kind == 'ping':
            deadline = time.monotonic() + _SETTLE_S
            for t in left_running:
                t.join(max(0.0, deadline - time.monotonic()))
            left_running = [t for t in left_running if t.is_alive()]
            alive = {t.ident for t in threading.enumerate()}
            for ident in [i for i in _thread_call if i not in alive]:
                del _thread_call[ident]
            _write_frame(ANSWERS_FD, {'type': 'result', 'id': request['id'], 'value': None, 'running': len(left_running)})
        else:
            _write_frame(ANSWERS_FD, {'type': 'error', 'id': request.get('id', -1),
                                      'error': {'type': 'ProtocolError', 'message': 'unknown request type %r' % (kind,), 'traceback': ''}})
