"""Two backends for one invariant definition: concrete Python values, or Z3 terms.

Theory of operation
-------------------
An invariant is written once, as a Python function over a *view* of a Raft state (per-server
arrays, see `checker.invariants.view`) and an `Ops` backend. Arithmetic and comparisons use
Python's operators, which both ints and Z3 terms overload; the logical connectives (which
Python cannot overload: `and`, `or`, `not`, `if`) go through `Ops`:

- `ConcreteOps` evaluates with short-circuiting (`all`/`any` over generators, lazy `implies`),
  so a concrete check costs what a hand-written predicate would;
- `Z3Ops` builds the formula, unrolling every bounded quantifier (servers, log indexes,
  message slots) — the bounded-domain encoding Apalache uses, kept quantifier-free so that Z3
  answers with decision procedures, never heuristics.

Bounded index quantifiers take a bound that may be symbolic (`hi`) and the static unrolling
limit (`cap`): concretely the loop runs to `hi`; symbolically to `cap`, guarded by `k <= hi`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import z3

# `implies` takes its consequent as a value or, to skip work when the antecedent is false, a
# thunk (called at once, inside the call).
# A truth value of either backend (bool or z3.BoolRef) and a number (int or z3.ArithRef).
B = Any
N = Any


class ConcreteOps:
    """Evaluate an invariant on concrete values (bools and ints)."""

    symbolic = False

    @staticmethod
    def all(items: Iterable[B]) -> B:
        return all(items)

    @staticmethod
    def any(items: Iterable[B]) -> B:
        return any(items)

    @staticmethod
    def implies(a: B, b: B | Callable[[], B]) -> B:
        if a:
            return b() if callable(b) else b
        return True

    @staticmethod
    def not_(a: B) -> B:
        return not a

    @staticmethod
    def ite(c: B, a: N, b: N) -> N:
        return a if c else b

    @staticmethod
    def count(items: Iterable[B]) -> N:
        return sum(1 for x in items if x)

    @staticmethod
    def forall_upto(hi: N, cap: int, body: Callable[[int], B]) -> B:
        """∀ k ∈ 1..hi: body(k)."""
        return all(body(k) for k in range(1, hi + 1))

    @staticmethod
    def max_where(hi: N, cap: int, cond: Callable[[int], B]) -> N:
        """The largest k ∈ 1..hi with cond(k), or 0 (searched downwards, as the spec does)."""
        for k in range(hi, 0, -1):
            if cond(k):
                return k
        return 0


class Z3Ops:
    """Build the Z3 formula of an invariant (quantifiers unrolled over the bounds)."""

    symbolic = True

    @staticmethod
    def all(items: Iterable[B]) -> B:
        return z3.And([_b(x) for x in items])

    @staticmethod
    def any(items: Iterable[B]) -> B:
        return z3.Or([_b(x) for x in items])

    @staticmethod
    def implies(a: B, b: B | Callable[[], B]) -> B:
        if a is False:
            return z3.BoolVal(True)
        return z3.Implies(_b(a), _b(b() if callable(b) else b))

    @staticmethod
    def not_(a: B) -> B:
        return z3.Not(_b(a))

    @staticmethod
    def ite(c: B, a: N, b: N) -> N:
        if a is b:
            # One term either way: fields of different message kinds share a slot's cell
            # (`checker.invariants.symbolic.SymMsg`), and choosing between them is no choice.
            return a
        return z3.If(_b(c), a, b)

    @staticmethod
    def count(items: Iterable[B]) -> N:
        terms = [z3.If(_b(x), 1, 0) for x in items]
        return z3.Sum(terms) if terms else z3.IntVal(0)

    @staticmethod
    def forall_upto(hi: N, cap: int, body: Callable[[int], B]) -> B:
        return z3.And([z3.Implies(_b(k <= hi), _b(body(k))) for k in range(1, cap + 1)])

    @staticmethod
    def max_where(hi: N, cap: int, cond: Callable[[int], B]) -> N:
        result: N = z3.IntVal(0)
        for k in range(1, cap + 1):  # the last If built is the outermost: the largest k wins
            result = z3.If(z3.And(_b(k <= hi), _b(cond(k))), k, result)
        return result


def _b(x: B) -> z3.BoolRef:
    """Python bools appear where a guard is decided statically (e.g. `i == j` on ids)."""
    if isinstance(x, bool):
        return z3.BoolVal(x)
    return x


CONCRETE = ConcreteOps()
Z3 = Z3Ops()
Ops = ConcreteOps | Z3Ops
