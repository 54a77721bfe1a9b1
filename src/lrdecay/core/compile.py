"""The scalar fast path: each schedule's own ``_eval`` traced once into one flat Python function.

A schedule's formula is written once, in ``_eval(t, xp)``. Evaluating it on the ``math``
backend for every ``s(step)`` pays for the formula's structure at every call: the call into each
child's ``_eval``, the lookups of its parameters, the backend's attributes. Here the formula is
run once, lazily (once the schedule is in use: see ``Schedule._call``), with a *symbolic* step: :class:`SymbolicBackend`
records every operation the formula does on ``t`` as a node of an expression graph, while
everything that does not depend on ``t`` (parameters, ``1 - alpha``, a phase plan) is computed
then and there, exactly as the formula computes it. The graph is then emitted as the body of a
single Python function (an :mod:`ast` built node by node from a fixed vocabulary: arithmetic,
comparisons, conditional expressions and calls of the ``math`` backend's functions; parameters
enter as numeric constants, never as text) and compiled once with :func:`compile`.

The generated function does the same operations, in the same order, on the same Python floats
as ``_eval(float(step), MATH)``, so its results are identical, bit for bit (tests compare them
for every registered kind). Two things differ, both only in what is skipped:

* ``where(c, a, b)`` becomes ``a if c else b``: only the branch taken is computed;
* ``piecewise`` (join, sequence, warm-up, SGDR segments) becomes a balanced tree of
  ``if t < boundary`` tests: ``O(log S)`` comparisons, then the one active segment.

A formula the tracer cannot follow (one that branches in Python on the step, or hashes it into
integers, like the noise of ``noisy_linear_cosine_decay``) keeps the reference path: ``_eval``
on the ``math`` backend. See "How a schedule is evaluated" in docs/semantics.md.
"""

from __future__ import annotations

import ast
import math

from lrdecay.core.backends import MATH, Backend

__all__ = ["SymbolicBackend", "scalar_function", "scalar_source"]


class Untraceable(Exception):
    """The formula did something with the symbolic step that has no node (e.g. ``if t > 0``)."""


class Node:
    """One operation on the step: ``op`` applied to ``args`` (nodes or Python numbers).
    ``is_float`` says whether its value is always a Python float (else it may be an int or
    a bool, and the result of the function is passed through ``float()``). ``bounds`` is
    ``(low, high)`` when every value of the node is known to lie in ``[low, high]`` and to be
    neither NaN nor ``-0.0`` (else None): what lets exact identities drop operations (below)."""

    __slots__ = ("args", "bounds", "is_float", "op")
    __hash__ = object.__hash__

    def __init__(self, op: str, args: tuple, is_float: bool, bounds=None):
        self.op, self.args, self.is_float, self.bounds = op, args, is_float, bounds

    def __bool__(self):
        raise Untraceable("the formula branches in Python on the step")

    def __float__(self):
        raise Untraceable("the formula converts the step with float()")

    def __int__(self):
        raise Untraceable("the formula converts the step with int()")

    __index__ = __int__

    # arithmetic, in the operand order the formula wrote
    def __add__(self, other):
        return _binary("+", self, other)

    def __radd__(self, other):
        return _binary("+", other, self)

    def __sub__(self, other):
        return _binary("-", self, other)

    def __rsub__(self, other):
        return _binary("-", other, self)

    def __mul__(self, other):
        return _binary("*", self, other)

    def __rmul__(self, other):
        return _binary("*", other, self)

    def __truediv__(self, other):
        return _binary("/", self, other)

    def __rtruediv__(self, other):
        return _binary("/", other, self)

    def __pow__(self, other):
        return _binary("**", self, other)

    def __rpow__(self, other):
        return _binary("**", other, self)

    def __and__(self, other):
        return _compare("&", self, other)

    def __rand__(self, other):
        return _compare("&", other, self)

    def __or__(self, other):
        return _compare("|", self, other)

    def __ror__(self, other):
        return _compare("|", other, self)

    def __neg__(self):
        return _node("neg", (self,), self.is_float)

    def __abs__(self):
        return _node("abs", (self,), self.is_float)

    def __lt__(self, other):
        return _compare("<", self, other)

    def __le__(self, other):
        return _compare("<=", self, other)

    def __gt__(self, other):
        return _compare(">", self, other)

    def __ge__(self, other):
        return _compare(">=", self, other)

    def __eq__(self, other):
        return _compare("==", self, other)

    def __ne__(self, other):
        return _compare("!=", self, other)


_NUMBERS = (int, float)
#: During a trace: the nodes made so far by (operation, operands), so that the same operation on
#: the same operands is one node, computed once (e.g. the two sides of a cosine anneal share
#: their distance to the cycle's ends).
_made: dict | None = None


def _node(op, args, is_float, bounds=None):
    if _made is None:
        return Node(op, args, is_float, bounds)
    key = (op, *map(_key, args))
    node = _made.get(key)
    if node is None:
        node = _made[key] = Node(op, args, is_float, bounds)
    return node


def _key(x):
    if isinstance(x, Node):
        return id(x)  # the node is kept alive by _made: its id is not reused during the trace
    return (type(x), x, math.copysign(1.0, x))  # 0.0 and -0.0, 1 and 1.0 are different operands


def _operand(x):
    if isinstance(x, Node):
        return x
    if type(x) in _NUMBERS or type(x) is bool:
        return x
    raise Untraceable(f"operand of type {type(x).__name__}")


def _is_float(x) -> bool:
    return x.is_float if isinstance(x, Node) else type(x) is float


# -- bounds: what is known of a node's values ---------------------------------------------------
# The step is a float >= +0.0 (the compiled function turns -0.0 into +0.0). Bounds follow it
# through +, -, *, /, min, max, floor, ceil, abs and fmod; IEEE rounding is monotone, so the
# operation applied to the ends of the operands' ranges bounds its rounded results. Known bounds
# decide comparisons, min and max, and drop abs of a non-negative value and fmod(x, y) of a
# 0 <= x < y: exact identities, so the compiled function still equals the formula bit for bit.


def _bounds(x):
    if isinstance(x, Node):
        return x.bounds
    if type(x) in _NUMBERS and not _nan(x) and not (x == 0 and math.copysign(1.0, x) < 0):
        return (x, x)
    return None


def _nan(x) -> bool:
    return type(x) is float and math.isnan(x)  # ints: never (and maybe too large for a float)


def _checked(low, high):
    return None if _nan(low) or _nan(high) else (low, high)  # NaN: inf - inf, 0 * inf


def _arithmetic_bounds(op, a, b):
    if a is None or b is None:
        return None
    (a0, a1), (b0, b1) = a, b
    if op == "+" and (a0 >= 0 or b0 >= 0):  # -0.0 only from -0.0 + -0.0
        return _checked(a0 + b0, a1 + b1)
    if op == "-" and a0 >= 0:  # -0.0 only from -0.0 - (+0.0)
        return _checked(a0 - b1, a1 - b0)
    if op == "*" and a0 >= 0 and b0 >= 0:  # -0.0 only from a zero times a negative number
        return _checked(a0 * b0, a1 * b1)
    if op == "/" and a0 >= 0 and b0 > 0 and b1 < math.inf:
        return _checked(a0 / b1, a1 / b0)
    return None


def _decided(op, a, b):
    """The comparison's result when the bounds decide it, else None."""
    if a is None or b is None:
        return None
    (a0, a1), (b0, b1) = a, b
    if op == "<":
        return True if a1 < b0 else False if a0 >= b1 else None
    if op == "<=":
        return True if a1 <= b0 else False if a0 > b1 else None
    if op == ">":
        return True if a0 > b1 else False if a1 <= b0 else None
    if op == ">=":
        return True if a0 >= b1 else False if a1 < b0 else None
    return None


def _binary(op, a, b):
    a, b = _operand(a), _operand(b)
    # exact identities on floats: x * 1.0, 1.0 * x, x / 1.0, x - 0.0 are x (sign of zero and
    # NaN included); 1.0 ** y is 1.0 for every y
    if isinstance(b, Node) and b.is_float and op == "*" and type(a) is float and a == 1.0:
        return b
    if isinstance(a, Node) and a.is_float and type(b) is float and (
        (op in "*/" and b == 1.0) or (op == "-" and b == 0.0 and not math.copysign(1.0, b) < 0)
    ):
        return a
    if op == "**" and type(a) is float and a == 1.0:
        return 1.0
    bounds = _arithmetic_bounds(op, _bounds(a), _bounds(b)) if op in "+-*/" else None
    return _node(op, (a, b), op == "/" or _is_float(a) or _is_float(b), bounds)


def _compare(op, a, b):
    """A comparison, or ``&``/``|`` of comparisons (bools in the math backend)."""
    a, b = _operand(a), _operand(b)
    decided = _decided(op, _bounds(a), _bounds(b))
    return _node(op, (a, b), False) if decided is None else decided


def _math_call(name, *args):
    """``MATH.<name>(*args)``: computed now when no argument is a node, else a node."""
    if not any(isinstance(a, Node) for a in args):
        return getattr(MATH, name)(*args)
    args = tuple(_operand(a) for a in args)
    bounds = [_bounds(a) for a in args]
    if name in ("minimum", "maximum"):
        (a, b), (ab, bb) = args, bounds
        # min(a, b) is ``b if b < a else a``, max(a, b) ``b if b > a else a``
        b_wins = _decided("<" if name == "minimum" else ">", bb, ab)
        if b_wins is not None:
            return b if b_wins else a
        known = ab is not None and bb is not None
        pick = min if name == "minimum" else max
        return _node(name, args, _is_float(a) and _is_float(b),
                    (pick(ab[0], bb[0]), pick(ab[1], bb[1])) if known else None)
    x, xb = args[0], bounds[0]
    if name == "abs" and xb is not None and xb[0] >= 0:
        return x
    if (name == "fmod" and xb is not None and not isinstance(args[1], Node)
            and xb[0] >= 0 and xb[1] < args[1] < math.inf):  # fmod(x, y) is x for 0 <= x < y
        return x if _is_float(x) else _node("*", (x, 1.0), True, xb)
    node_bounds = None
    if name in ("floor", "ceil") and xb is not None and -math.inf < xb[0] and xb[1] < math.inf:
        rounding = math.floor if name == "floor" else math.ceil
        node_bounds = (rounding(xb[0]), rounding(xb[1]))
    is_float = name not in ("floor", "ceil", "abs") or _is_float(args[0]) and name == "abs"
    return _node(name, args, is_float, node_bounds)


def _branch_bounds(condition):
    """For ``x < c`` (``<=``, ``>``, ``>=``; ``c`` a number, ``x`` a node with bounds): ``(x,
    bounds where true, bounds where false)``; None otherwise (or where a side is empty)."""
    if condition.op not in ("<", "<=", ">", ">="):
        return None
    x, c = condition.args
    op = condition.op
    if not isinstance(x, Node):  # c < x is x > c
        x, c, op = c, x, {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
    if not isinstance(x, Node) or x.bounds is None or isinstance(c, Node) or type(c) not in _NUMBERS:
        return None
    low, high = x.bounds
    below, above = (low, min(high, c)), (max(low, c), high)  # closed ends: true for < and <= alike
    return (x, below, above) if op in ("<", "<=") else (x, above, below)


def _narrow(node, x, bounds, done):
    """``node`` rebuilt with ``x`` known to lie in ``bounds`` (the operations that this settles
    fold away); nodes that don't depend on ``x`` are kept as they are."""
    if not isinstance(node, Node) or bounds[0] > bounds[1]:
        return node
    key = id(node)
    if key in done:
        return done[key]
    if node is x:  # x itself, read again, with the bounds that hold here only
        result = Node("same", (x,), x.is_float, bounds)
    elif node.op in ("t", "piecewise"):
        result = node
    else:
        args = tuple(_narrow(a, x, bounds, done) for a in node.args)
        if all(new is old for new, old in zip(args, node.args)):
            result = node
        elif node.op in _BINOPS and node.op not in "&|":
            result = _binary(node.op, *args)
        elif node.op in _COMPARES or node.op in "&|":
            result = _compare(node.op, *args)
        elif node.op == "where":  # its branches were narrowed by its own condition already
            condition, a, b = args
            if isinstance(condition, Node):
                result = _node("where", args, _is_float(a) and _is_float(b))
            else:
                result = a if condition else b
        elif node.op == "neg":
            result = -args[0]
        else:
            result = _math_call(node.op, *args)
    done[key] = result
    return result


class SymbolicBackend(Backend):
    """Records what a formula does to a symbolic step (see the module docstring)."""

    name = "symbolic"

    def floor(self, x):
        return _math_call("floor", x)

    def ceil(self, x):
        return _math_call("ceil", x)

    def exp(self, x):
        return _math_call("exp", x)

    def log(self, x):
        return _math_call("log", x)

    def expm1(self, x):
        return _math_call("expm1", x)

    def log1p(self, x):
        return _math_call("log1p", x)

    def cos(self, x):
        return _math_call("cos", x)

    def sin(self, x):
        return _math_call("sin", x)

    def tanh(self, x):
        return _math_call("tanh", x)

    def sqrt(self, x):
        return _math_call("sqrt", x)

    def pow(self, base, exponent):
        return _math_call("pow", base, exponent)

    def fmod(self, a, b):
        return _math_call("fmod", a, b)

    def ipow(self, base, exponent):
        return _math_call("pow", base, exponent)  # the math backend's ipow is math.pow

    def minimum(self, a, b):
        return _math_call("minimum", a, b)

    def maximum(self, a, b):
        return _math_call("maximum", a, b)

    def abs(self, x):
        return _math_call("abs", x)

    def clip(self, x, low, high):
        return self.minimum(self.maximum(x, low), high)

    def where(self, condition, if_true, if_false):
        if not isinstance(condition, Node):
            return if_true if condition else if_false
        a, b = _operand(if_true), _operand(if_false)
        # each branch runs only where the condition is (or isn't) true: what that says of the
        # compared value may settle more of the branch (a one-cycle phase knows its range)
        narrowed = _branch_bounds(condition)
        if narrowed is not None:
            x, when_true, when_false = narrowed
            a, b = _narrow(a, x, when_true, {}), _narrow(b, x, when_false, {})
        return _node("where", (condition, a, b), _is_float(a) and _is_float(b))

    def piecewise(self, parts, boundaries, t):
        if not isinstance(t, Node):
            return MATH.piecewise(parts, boundaries, t)
        values = tuple(_operand(part(self._local_time(t, boundaries, i), self)) for i, part in enumerate(parts))
        return Node("piecewise", (t, tuple(boundaries), values), all(_is_float(v) for v in values))

    @staticmethod
    def _local_time(t, boundaries, i):
        """``t - boundaries[i-1]``, known (where segment ``i`` is active) to lie in
        ``[+0.0, boundaries[i] - boundaries[i-1]]``: the difference rounds monotonically, and an
        exact zero is +0.0."""
        if not i:
            return t
        local = t - boundaries[i - 1]
        if isinstance(local, Node) and local.op == "-" and local.bounds is not None:
            # a node of its own (not shared with the same difference elsewhere in the formula)
            high = boundaries[i] - boundaries[i - 1] if i < len(boundaries) else math.inf
            bounds = (max(0.0, local.bounds[0]), min(high, local.bounds[1]))
            local = Node("-", local.args, local.is_float, bounds)
        return local

    def hashed_normal(self, t, key):
        raise Untraceable("counter-based noise hashes the step into integers")


SYMBOLIC = SymbolicBackend()

#: The names the generated code may call, all taken from the math backend.
_FUNCTIONS = {
    "floor": math.floor, "ceil": math.ceil, "exp": math.exp, "expm1": math.expm1, "log": math.log, "log1p": math.log1p,
    "cos": math.cos, "sin": math.sin, "tanh": math.tanh, "sqrt": math.sqrt, "pow": math.pow, "fmod": math.fmod,
    "abs": abs, "float": float,
}
_BINOPS = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "**": ast.Pow, "&": ast.BitAnd,
           "|": ast.BitOr}
_COMPARES = {"<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE, "==": ast.Eq, "!=": ast.NotEq}
#: Above this many nodes the graph is not emitted (pathological nesting): the reference path runs.
_MAX_NODES = 20_000


def trace(schedule):
    """The expression graph of ``schedule._eval`` at a symbolic step (a :class:`Node`, or a
    number when the schedule does not depend on the step), and the step node itself."""
    global _made
    t = Node("t", (), True, (0.0, math.inf))
    _made = {}
    try:
        return schedule._eval(t, SYMBOLIC), t
    finally:
        _made = None


class _Emitter:
    """Turns the graph into one expression. A node used more than once is bound to a local name
    (``(_3 := ...)``) where it is first computed, and read by name after that, as long as that
    binding is certain to have run (not inside a branch that was not taken)."""

    def __init__(self, root, step):
        self.step = step
        self.uses: dict[int, int] = {}
        self.names: dict[int, str] = {}
        self.size = 0
        self._count(root)

    def _count(self, root):
        stack = [root]
        while stack:
            node = stack.pop()
            if not isinstance(node, Node):
                continue
            seen = self.uses.get(id(node), 0)
            self.uses[id(node)] = seen + 1
            self.size += 1
            if self.size > _MAX_NODES:
                raise Untraceable("expression too large")
            if seen:
                continue
            if node.op == "piecewise":
                t, _, values = node.args
                self.uses[id(t)] = self.uses.get(id(t), 0) + 1  # the comparisons read it again
                stack.append(t)
                stack.extend(values)
            else:
                stack.extend(node.args)

    def emit(self, node, bound: set):
        if not isinstance(node, Node):
            return ast.Constant(node)
        if node is self.step:
            return ast.Name("t", ast.Load())
        key = id(node)
        if key in bound:
            return ast.Name(self.names[key], ast.Load())
        expr = self._emit(node, bound)
        if self.uses.get(key, 0) > 1:
            name = self.names.setdefault(key, f"_{len(self.names)}")
            bound.add(key)
            return ast.NamedExpr(ast.Name(name, ast.Store()), expr)
        return expr

    def _emit(self, node, bound):
        op, args = node.op, node.args
        if op in _BINOPS:
            left = self.emit(args[0], bound)
            return ast.BinOp(left, _BINOPS[op](), self.emit(args[1], bound))
        if op in _COMPARES:
            left = self.emit(args[0], bound)
            return ast.Compare(left, [_COMPARES[op]()], [self.emit(args[1], bound)])
        if op == "neg":
            return ast.UnaryOp(ast.USub(), self.emit(args[0], bound))
        if op == "same":
            return self.emit(args[0], bound)
        if op == "where":
            test = self.emit(args[0], bound)
            body = self.emit(args[1], set(bound))
            return ast.IfExp(test, body, self.emit(args[2], set(bound)))
        if op == "piecewise":
            t, boundaries, values = args
            if len(values) == 1:
                return self.emit(values[0], bound)
            return self._segments(self.emit(t, bound), t, boundaries, values, 0, len(values), bound)
        if op in ("minimum", "maximum"):
            # min(a, b) is b if b < a else a (builtin min keeps the first of equals, and a NaN
            # in front); max likewise with >. Both read each operand twice: named first.
            b_first, b = self._named(args[1], bound)
            a_first, a = self._named(args[0], bound)
            wins = ast.Lt() if op == "minimum" else ast.Gt()
            return ast.IfExp(ast.Compare(b_first, [wins], [a_first]), b, a)
        emitted = [self.emit(a, bound) for a in args]
        return ast.Call(ast.Name(op, ast.Load()), emitted, [])

    def _named(self, node, bound):
        """``(first, again)``: expressions for computing ``node`` and for reading it again."""
        first = self.emit(node, bound)
        if isinstance(first, (ast.Constant, ast.Name)):
            return first, first
        if not isinstance(first, ast.NamedExpr):  # single use so far: bind it here
            name = self.names.setdefault(id(node), f"_{len(self.names)}")
            first = ast.NamedExpr(ast.Name(name, ast.Store()), first)
        return first, ast.Name(first.target.id, ast.Load())

    def _segments(self, first_t, t, boundaries, values, lo, hi, bound):
        """Segments ``lo..hi-1`` as a balanced tree of ``t < boundary`` tests (the first test
        carries ``t``'s own computation; later ones read it by name)."""
        if hi - lo == 1:
            return self.emit(values[lo], set(bound))
        mid = (lo + hi) // 2
        t_expr = first_t if first_t is not None else self.emit(t, bound)
        test = ast.Compare(t_expr, [ast.Lt()], [ast.Constant(boundaries[mid - 1])])
        left = self._segments(None, t, boundaries, values, lo, mid, set(bound))
        right = self._segments(None, t, boundaries, values, mid, hi, set(bound))
        return ast.IfExp(test, left, right)


#: The function every schedule's ``s(step)`` runs: Python ints and floats >= 0 take the
#: compiled formula (``_EXPR``, replaced by the traced expression); anything else goes to
#: ``_other`` (:meth:`lrdecay.Schedule._call_other`: an error, or a NumPy/JAX/TF/torch backend).
#: ``step * 1.0`` is ``float(step)`` for an int, without a call; ``step + 0.0`` turns a step of
#: -0.0 into +0.0 (a step count has no sign).
_TEMPLATE = """
def _at(step):
    if step.__class__ is int:
        if step < 0:
            return _other(step)
        t = step * 1.0
    elif step.__class__ is float and 0.0 <= step < _INF:
        t = step + 0.0
    else:
        return _other(step)
    return _EXPR
"""


class _Splice(ast.NodeTransformer):
    def __init__(self, expr):
        self.expr = expr

    def visit_Name(self, node):
        return self.expr if node.id == "_EXPR" else node


def _function_ast(schedule, expr=None):
    """The module holding ``<kind>_at(step)``: the template around ``expr`` (by default the
    traced formula)."""
    if expr is None:
        root, step = trace(schedule)
        expr = _Emitter(root, step).emit(root, set())
        if not _is_float(root):
            expr = ast.Call(ast.Name("float", ast.Load()), [expr], [])
    module = _Splice(expr).visit(ast.parse(_TEMPLATE))
    module.body[0].name = f"{schedule.kind}_at"
    return ast.fix_missing_locations(module)


def scalar_source(schedule) -> str | None:
    """The source of the function :func:`scalar_function` compiles for ``schedule`` (None if
    the formula can't be traced): what ``s(step)`` runs, for reading."""
    try:
        return ast.unparse(_function_ast(schedule))
    except Exception:  # noqa: BLE001 - any formula the tracer can't follow keeps the reference path
        return None


def scalar_function(schedule):
    """``step -> value``: for a Python int or float ``step >= 0``, the float
    ``float(schedule._eval(float(step), MATH))`` (computed by the compiled formula); for any
    other step, ``schedule._call_other(step)``."""
    names = dict(_FUNCTIONS, _other=schedule._call_other, _INF=math.inf)
    filename = f"<lrdecay {schedule.kind}>"
    try:
        code = compile(_function_ast(schedule), filename, "exec")
    except Exception:  # noqa: BLE001 - any formula the tracer can't follow keeps the reference path
        reference = ast.parse("float(_evaluate(t, _MATH))", mode="eval").body
        code = compile(_function_ast(schedule, reference), filename, "exec")
        names.update(_evaluate=schedule._eval, _MATH=MATH)
    function_code = next(c for c in code.co_consts if isinstance(c, _CodeType))
    return _FunctionType(function_code, names)


_CodeType = type(scalar_function.__code__)
_FunctionType = type(scalar_function)
