"""Label selectors: the ``?labelSelector=`` string form, ``metav1.LabelSelector`` objects and
node selector terms, with the semantics of apimachinery ``labels/selector.go``.

A selector is an AND of requirements. Two special selectors exist, as in Kubernetes:
*everything* (no requirements; the empty string, or a ``LabelSelector`` of ``{}``) and
*nothing* (a nil ``LabelSelector``: a controller with no selector must not adopt every pod).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from berth.platform.errors import BadRequest
from berth.platform.resources.validation import names

# Operators, spelled as apimachinery ``selection.Operator``.
IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS = "in", "notin", "=", "==", "!="
EXISTS, DOES_NOT_EXIST, GREATER_THAN, LESS_THAN = "exists", "!", "gt", "lt"

_BINARY = (IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN)
_INT64 = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op, has = self.operator, self.key in labels
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            return has and labels[self.key] in self.values
        if op in (NOT_IN, NOT_EQUALS):
            return not has or labels[self.key] not in self.values
        if op == EXISTS:
            return has
        if op == DOES_NOT_EXIST:
            return not has
        if op in (GREATER_THAN, LESS_THAN):
            # A label that is not an integer never compares, it does not raise.
            if not has or len(self.values) != 1:
                return False
            mine, theirs = _int64(labels[self.key]), _int64(self.values[0])
            if mine is None or theirs is None:
                return False
            return mine > theirs if op == GREATER_THAN else mine < theirs
        return False

    def __str__(self) -> str:
        prefix = "!" if self.operator == DOES_NOT_EXIST else ""
        if self.operator in (EXISTS, DOES_NOT_EXIST):
            return prefix + self.key
        shown = ",".join(sorted(self.values))
        if self.operator in (IN, NOT_IN):
            return f"{self.key} {self.operator} ({shown})"
        symbol = {GREATER_THAN: ">", LESS_THAN: "<"}.get(self.operator, self.operator)
        return f"{self.key}{symbol}{shown}"


@dataclass(frozen=True)
class Selector:
    """An AND of requirements, kept sorted by key (stable) as Kubernetes does."""

    requirements: tuple[Requirement, ...] = ()
    nothing: bool = False

    @property
    def empty(self) -> bool:
        """Selects everything (no requirement to check)."""
        return not self.nothing and not self.requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def index_terms(self) -> list[tuple[str, tuple[str, ...] | None]]:
        """The requirements a label index can answer: ``(key, values)`` for ``=``, ``==`` and
        ``in``; ``(key, None)`` where the key only has to exist (``exists``, ``gt``, ``lt``).
        Negative requirements are left to ``matches``, which the store still calls."""
        terms: list[tuple[str, tuple[str, ...] | None]] = []
        for r in self.requirements:
            if r.operator in (IN, EQUALS, DOUBLE_EQUALS):
                terms.append((r.key, tuple(sorted(set(r.values)))))
            elif r.operator in (EXISTS, GREATER_THAN, LESS_THAN):
                terms.append((r.key, None))
        return terms

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


EVERYTHING = Selector()
NOTHING = Selector(nothing=True)


# -- building requirements -------------------------------------------------------------------


def requirement(key: str, operator: str, values: list[str] | tuple[str, ...] = ()) -> Requirement:
    """``labels.NewRequirement``: validate and build one requirement, or raise BadRequest."""
    errors = _requirement_errors(key, operator, list(values))
    if errors:
        raise BadRequest(errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")
    return Requirement(key, operator, tuple(values))


def _requirement_errors(key: str, op: str, vals: list[str]) -> list[str]:
    if not isinstance(key, str):
        return [_invalid("key", key, "must be a string")]
    errors = []
    key_errors = names.qualified_name(key)
    if key_errors:
        errors.append(_invalid("key", key, "; ".join(key_errors)))
    if op in (IN, NOT_IN) and not vals:
        errors.append(
            _invalid("values", vals, "for 'in', 'notin' operators, values set can't be empty")
        )
    elif op in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS) and len(vals) != 1:
        errors.append(
            _invalid("values", vals, "exact-match compatibility requires one single value")
        )
    elif op in (EXISTS, DOES_NOT_EXIST) and vals:
        errors.append(
            _invalid("values", vals, "values set must be empty for exists and does not exist")
        )
    elif op in (GREATER_THAN, LESS_THAN):
        if len(vals) != 1:
            errors.append(
                _invalid("values", vals, "for 'Gt', 'Lt' operators, exactly one value is required")
            )
        for i, v in enumerate(vals):
            if _int64(v) is None:
                errors.append(
                    _invalid(
                        f"values[{i}]", v, "for 'Gt', 'Lt' operators, the value must be an integer"
                    )
                )
    elif op not in _BINARY + (EXISTS, DOES_NOT_EXIST):
        errors.append(f'operator: Unsupported value: "{op}"')
    for i, v in enumerate(vals):
        if not isinstance(v, str):
            errors.append(_invalid(f"values[{i}][{key}]", v, "must be a string"))
            continue
        value_errors = names.label_value(v)
        if value_errors:
            errors.append(_invalid(f"values[{i}][{key}]", v, "; ".join(value_errors)))
    return errors


def _invalid(path: str, value: object, detail: str) -> str:
    if isinstance(value, list):
        shown = "[" + ", ".join(f'"{v}"' for v in value) + "]"
    else:
        shown = f'"{value}"'
    return f"{path}: Invalid value: {shown}: {detail}"


def _int64(text: str) -> int | None:
    if not isinstance(text, str) or not _INT64.fullmatch(text):
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


def _selector(requirements: list[Requirement]) -> Selector:
    return Selector(tuple(sorted(requirements, key=lambda r: r.key)))


# -- the string form -------------------------------------------------------------------------

# Token kinds of the apimachinery lexer.
_IDENT, _END, _ERROR = "identifier", "end of string", "error"
_SYMBOLS = {
    ")": ")",
    ",": ",",
    "!": "!",
    "==": "==",
    "=": "=",
    ">": ">",
    "<": "<",
    "!=": "!=",
    "(": "(",
}
_KEYWORDS = {"in": IN, "notin": NOT_IN}
_SPECIAL = set("=!(),><")
_SPACE = set(" \t\r\n")


def _lex(text: str) -> list[tuple[str, str]]:
    """``[(token, literal)]``; ``token`` is the symbol itself, a keyword, or _IDENT."""
    tokens, i, n = [], 0, len(text)
    while True:
        while i < n and text[i] in _SPACE:
            i += 1
        if i >= n:
            tokens.append((_END, ""))
            return tokens
        if text[i] in _SPECIAL:
            # Longest run of special characters that still spells a symbol: "!=", "==".
            j, last = i, None
            while j < n and text[j] in _SPECIAL:
                if text[i : j + 1] in _SYMBOLS:
                    last = j + 1
                elif last is not None:
                    break
                j += 1
            if last is None:
                tokens.append((_ERROR, f"error expected: keyword found '{text[i:j]}'"))
                i = j
            else:
                tokens.append((_SYMBOLS[text[i:last]], text[i:last]))
                i = last
            continue
        j = i
        while j < n and text[j] not in _SPECIAL and text[j] not in _SPACE:
            j += 1
        word = text[i:j]
        tokens.append((_KEYWORDS.get(word, _IDENT), word))
        i = j


class _Parser:
    def __init__(self, text: str):
        self.tokens = _lex(text)
        self.pos = 0

    def peek(self, values: bool = True) -> tuple[str, str]:
        return self._as(self.tokens[self.pos], values)

    def take(self, values: bool = True) -> tuple[str, str]:
        token = self.tokens[self.pos]
        if token[0] != _END:
            self.pos += 1
        return self._as(token, values)

    @staticmethod
    def _as(token: tuple[str, str], values: bool) -> tuple[str, str]:
        # Where a value is expected, "in" and "notin" are plain words.
        if values and token[0] in (IN, NOT_IN):
            return (_IDENT, token[1])
        return token

    def parse(self) -> list[Requirement]:
        out: list[Requirement] = []
        while True:
            tok, lit = self.peek()
            if tok == _END:
                return out
            if tok not in (_IDENT, "!"):
                raise BadRequest(f"found '{lit}', expected: !, identifier, or 'end of string'")
            out.append(self.requirement())
            tok, lit = self.take()
            if tok == _END:
                return out
            if tok != ",":
                raise BadRequest(f"found '{lit}', expected: ',' or 'end of string'")
            tok, lit = self.peek()
            if tok not in (_IDENT, "!"):
                raise BadRequest(f"found '{lit}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        try:
            return self._requirement()
        except BadRequest as exc:
            raise BadRequest("unable to parse requirement: " + exc.message) from None

    def _requirement(self) -> Requirement:
        negated = False
        tok, lit = self.take()
        if tok == "!":
            negated = True
            tok, lit = self.take()
        if tok != _IDENT:
            raise BadRequest(f"found '{lit}', expected: identifier")
        key = lit
        key_errors = names.qualified_name(key)
        if key_errors:
            raise BadRequest(_invalid("key", key, "; ".join(key_errors)))
        if negated or self.peek()[0] in (_END, ","):
            return requirement(key, DOES_NOT_EXIST if negated else EXISTS)
        op = self.operator()
        values = self.set_values() if op in (IN, NOT_IN) else self.exact_value()
        return requirement(key, op, sorted(values))

    def operator(self) -> str:
        tok, lit = self.take(values=False)
        ops = {
            IN: IN,
            NOT_IN: NOT_IN,
            "=": EQUALS,
            "==": DOUBLE_EQUALS,
            "!=": NOT_EQUALS,
            ">": GREATER_THAN,
            "<": LESS_THAN,
        }
        if tok not in ops:
            raise BadRequest(f"found '{lit}', expected: {', '.join(_BINARY)}")
        return ops[tok]

    def exact_value(self) -> set[str]:
        if self.peek()[0] in (_END, ","):
            return {""}
        tok, lit = self.take()
        if tok != _IDENT:
            raise BadRequest(f"found '{lit}', expected: identifier")
        return {lit}

    def set_values(self) -> set[str]:
        tok, lit = self.take()
        if tok != "(":
            raise BadRequest(f"found '{lit}' expected: '('")
        tok, lit = self.peek()
        if tok == ")":
            self.take()
            return {""}
        if tok not in (_IDENT, ","):
            raise BadRequest(f"found '{lit}', expected: ',', ')' or identifier")
        values = self.identifiers()
        tok, _ = self.take()
        if tok != ")":
            raise BadRequest(f"found '{lit}', expected: ')'")
        return values

    def identifiers(self) -> set[str]:
        # "(a,,b)", "(,a)" and "(a,)" carry an empty value, as in Kubernetes.
        values: set[str] = set()
        while True:
            tok, lit = self.take()
            if tok == _IDENT:
                values.add(lit)
                nxt, nlit = self.peek()
                if nxt == ")":
                    return values
                if nxt != ",":
                    raise BadRequest(f"found '{nlit}', expected: ',' or ')'")
            elif tok == ",":
                if not values:
                    values.add("")
                nxt, _ = self.peek()
                if nxt == ")":
                    values.add("")
                    return values
                if nxt == ",":
                    self.take()
                    values.add("")
            else:
                raise BadRequest(f"found '{lit}', expected: ',', or identifier")


def parse(text: str) -> Selector:
    """Parse ``?labelSelector=``; the empty string selects everything."""
    return _selector(_Parser(text or "").parse())


# -- objects ---------------------------------------------------------------------------------

_OBJECT_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}
_NODE_OPERATORS = {**_OBJECT_OPERATORS, "Gt": GREATER_THAN, "Lt": LESS_THAN}


def from_object(selector: Mapping | None) -> Selector:
    """``metav1.LabelSelectorAsSelector``: None selects nothing, ``{}`` selects everything."""
    if selector is None:
        return NOTHING
    if not isinstance(selector, Mapping):
        raise BadRequest("a label selector must be an object")
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not match_labels and not expressions:
        return EVERYTHING
    reqs = [requirement(k, EQUALS, [v]) for k, v in match_labels.items()]
    reqs += [_expression(e, _OBJECT_OPERATORS, "label selector") for e in expressions]
    return _selector(reqs)


def from_set(labels: Mapping[str, str] | None) -> Selector:
    """``labels.SelectorFromSet``: a plain map such as ``spec.nodeSelector``, every pair must
    match. Not validated: the map was validated with its object."""
    return _selector([Requirement(k, EQUALS, (v,)) for k, v in (labels or {}).items()])


def _expression(expr: Mapping, operators: dict[str, str], what: str) -> Requirement:
    if not isinstance(expr, Mapping):
        raise BadRequest(f"a {what} requirement must be an object")
    op = expr.get("operator")
    if op not in operators:
        raise BadRequest(f'"{op}" is not a valid {what} operator')
    return requirement(expr.get("key", ""), operators[op], list(expr.get("values") or []))
