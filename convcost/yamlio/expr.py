"""Arithmetic in block parameters, evaluated safely (no ``eval``): ``$c * 4``, ``$c // 2 + 1``,
``min($w, 64)``, ``divisible($c * 0.25, 8)`` (MobileNet's make_divisible). Exact: integers and
fractions; a whole result is an int. Anything else is one located error."""

from __future__ import annotations

import ast
import math
import re
from fractions import Fraction
from typing import Any

from ..errors import ConvcostError

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
MAX_LENGTH = 200


def divisible(value: Fraction, divisor: Fraction) -> Fraction:
    """MobileNet's _make_divisible(v, d): the nearest multiple of d (at least d), never 10 % below v."""
    d = divisor
    rounded = max(d, math.floor((value + d / 2) / d) * d)
    return rounded + d if rounded < Fraction(9, 10) * value else rounded


def evaluate(text: str, params: dict[str, Any]) -> int | float:
    """The value of ``text`` with each ``$name`` replaced by its parameter."""
    if len(text) > MAX_LENGTH:
        raise ConvcostError(f"expected an expression of at most {MAX_LENGTH} characters, found {len(text)}")
    names: dict[str, Fraction] = {}

    def bind(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            raise ConvcostError(f"undefined parameter ${name} in '{text}'; this block has {', '.join('$' + p for p in params) or 'none'}")
        value = params[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConvcostError(f"${name} is {value!r}, not a number, in '{text}'")
        names[f"p_{name}"] = Fraction(value)
        return f"p_{name}"

    source = _PARAM.sub(bind, text)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        raise ConvcostError(f"cannot read the expression '{text}'") from None
    value = _eval(tree.body, names, text)
    return int(value) if value.denominator == 1 else float(value)


_OPERATORS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
              ast.Div: lambda a, b: a / b, ast.FloorDiv: lambda a, b: Fraction(math.floor(a / b))}  # fmt: skip
_FUNCTIONS = {"min": min, "max": max, "divisible": divisible}


def _eval(node: ast.AST, names: dict[str, Fraction], text: str) -> Fraction:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return Fraction(str(node.value)) if isinstance(node.value, float) else Fraction(node.value)
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval(node.operand, names, text)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _eval(node.left, names, text), _eval(node.right, names, text)
        if isinstance(node.op, (ast.Div, ast.FloorDiv)) and right == 0:
            raise ConvcostError(f"division by zero in '{text}'")
        result = _OPERATORS[type(node.op)](left, right)
        if abs(result) > 10**18:
            raise ConvcostError(f"'{text}' is larger than 10^18")
        return result
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS and not node.keywords:
        args = [_eval(a, names, text) for a in node.args]
        expected = 2 if node.func.id == "divisible" else None
        if not args or (expected and len(args) != expected):
            raise ConvcostError(f"{node.func.id}() takes {'2 arguments' if expected else 'at least one argument'} in '{text}'")
        return _FUNCTIONS[node.func.id](*args)  # type: ignore[no-any-return,operator]  # min/max/divisible of Fractions
    raise ConvcostError(f"'{text}': only numbers, $parameters, + - * / //, parentheses, min, max and divisible(x, d) are allowed")
