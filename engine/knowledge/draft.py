"""Draft knowledge from an error text mailtriage did not recognise: a signature whose pattern
keeps the text's words and generalises what varies (addresses, hosts, ids, numbers), the fact it
sets, and the rule that concludes the chosen finding from it, with their tests.

Pure: text in, file contents out. `mailtriage knowledge new` writes them into a layer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from engine.knowledge.model import Knowledge
from engine.values import frozen

# What varies between two occurrences of the same error, most specific first, each with the
# pattern that stands for any value of it. Everything else is kept as the literal concept.
VARIABLE = [
    ("url", r"https?://[^\s<>\"')\]]+", r"\S+"),
    ("email", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", r"[^\s<>@]+@[^\s<>@]+"),
    ("bracketed", r"\[[^\]\r\n]{1,200}\]", r"\[[^\]]*\]"),
    ("ipv4", r"\b\d{1,3}(?:\.\d{1,3}){3}\b", r"\d{1,3}(?:\.\d{1,3}){3}"),
    ("dotted", r"\b[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+\b", None),  # decided below: a host or a name
    # Letters and digits interleaved (DB8PR04CA0003, AB12CD34EF) are an id; letters then digits
    # (AADSTS700082, SMTP0002) are an error code, a concept to keep.
    ("id", r"\b(?=[A-Za-z0-9]*[A-Za-z]\d)(?=[A-Za-z0-9]*\d[A-Za-z])[A-Za-z0-9]{6,}\b", r"\w+"),
    ("number", r"\b\d{4,}\b", r"\d+"),
]
_TOKENS = re.compile("|".join(f"(?P<{name}>{regex})" for name, regex, _ in VARIABLE))
_WIDENED = {name: widened for name, _, widened in VARIABLE}
_HOST = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,24}$")
_ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")
# A log line's own time stamp says when, not what: the pattern starts after it.
_STAMP = re.compile(r"^\W*\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}\S*\s*")
# What marks the line that carries the error, strongest first: a reply with its enhanced code,
# any reply code, an exception's class name, then plain error words.
_ERROR_MARKS = [
    re.compile(r"\b[45]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\b"),
    re.compile(r"(?:^|[\s:(])[45]\d\d[ -]\w"),
    re.compile(r"\w(?:Exception|Error)\b"),
    re.compile(r"\b(?:error|failed|refused|denied|rejected|timed? ?out)\b", re.I),
]
MAX_TEXT = 240


@frozen
class Draft:
    ident: str
    fact: str
    line: str  # the text line the signature is drawn from, redacted
    pattern: str
    files: dict[str, str]  # new files: path in the layer -> content
    fact_entry: str  # the fact's entry under `facts:` in the layer's facts.yaml


def pick_line(text: str) -> str:
    """The line that most likely carries the error (by the strongest mark it has), else the
    first that is not blank."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError("the text is empty")
    for mark in _ERROR_MARKS:
        found = next((line for line in lines if mark.search(line)), None)
        if found is not None:
            return found
    return lines[0]


def generalise(line: str) -> str:
    """A regex that matches the line and others like it: literal words, variable values."""
    line = _STAMP.sub("", line)[:MAX_TEXT].rstrip()
    out: list[str] = []
    last = 0
    for token in _TOKENS.finditer(line):
        out.append(_literal(line[last : token.start()]))
        kind = token.lastgroup or ""
        value = token.group()
        if kind == "dotted":
            # A lower-case dotted name with a top-level domain is a host; a Java class, an
            # enhanced status code or a version is the concept itself.
            out.append(r"[\w.-]+" if _HOST.match(value) and not _ENHANCED.match(value) else re.escape(value))
        else:
            out.append(_WIDENED[kind] or re.escape(value))
        last = token.end()
    out.append(_literal(line[last:]))
    return "".join(out)


def _literal(text: str) -> str:
    return r"\s+".join(re.escape(part) for part in re.split(r"\s+", text)) if text.strip() else _space(text)


def _space(text: str) -> str:
    return r"\s*" if text else ""


def signature_id(kb: Knowledge, finding: str, taken: Iterable[str] = ()) -> str:
    base = "draft-" + re.sub(r"[^a-z0-9]+", "-", finding.lower()).strip("-")
    used = set(kb.signatures) | set(kb.rules) | set(taken)
    n = 1
    while f"{base}-{n}" in used:
        n += 1
    return f"{base}-{n}"


def draft_signature(kb: Knowledge, text: str, finding: str, redact: Callable[[str], str] | None = None) -> Draft:
    """The signature, fact, rule and rule test for one unrecognised text and its finding."""
    if finding not in kb.findings:
        raise KeyError(finding)
    line = pick_line(text)
    if redact is not None:
        line = redact(line)
    pattern = generalise(line)
    ident = signature_id(kb, finding)
    fact = "log." + ident.replace("-", "_")
    regex = re.compile(pattern)
    # Near misses from other signatures, as lint will check them: lines this pattern must not take.
    others = sorted(
        example.strip()
        for sig in kb.signatures.values()
        for example in sig.examples.match[:1]
        if not regex.search(example) and "\n" not in example.strip() and example.strip()
    )[:2]
    files = {
        f"signatures/{ident}.yaml": _signature_yaml(ident, finding, fact, pattern, line, others),
        **draft_rule(kb, finding, [(fact, True)], ident),
    }
    return Draft(ident, fact, line, pattern, files, _fact_entry(fact, finding))


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _signature_yaml(ident: str, finding: str, fact: str, pattern: str, line: str, others: list[str]) -> str:
    no_match = "".join(f"        - {_quoted(o)}\n" for o in others)
    return (
        "# Drafted by `mailtriage knowledge new signature` from a text it did not recognise: keep the\n"
        "# words that name the problem, widen what still varies, and add the texts you have.\n"
        "signatures:\n"
        f"  - id: {ident}\n"
        f"    description: {_quoted(f'Drafted from an unrecognised text; it leads to {finding}.')}\n"
        f"    pattern: {_quoted(pattern)}\n"
        "    facts:\n"
        f"      {fact}: true\n"
        "    examples:\n"
        "      match:\n"
        f"        - {_quoted(line)}\n"
        "      no_match:\n"
        f"{no_match}"
    )


def _fact_entry(fact: str, finding: str) -> str:
    return f"  {fact}:\n    type: bool\n    description: {_quoted(f'the text says what {finding} is about')}\n"


# --- rules, findings and questions, from a few words on the command line -------------------------


def parse_when(kb: Knowledge, pairs: list[str]) -> list[tuple[str, object]]:
    """FACT=VALUE pairs, each value typed as its fact is declared; ValueError names the bad one."""
    from engine.knowledge.model import did_you_mean

    out: list[tuple[str, object]] = []
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--when wants FACT=VALUE, not {pair!r}")
        spec = kb.fact_spec(name)
        if spec is None:
            raise ValueError(f"unknown fact '{name}'{did_you_mean(name, kb.known_fact_names())}")
        out.append((name, _typed(raw, spec.type, name)))
    if not out:
        raise ValueError("name the facts the rule needs with --when FACT=VALUE")
    return out


def _typed(raw: str, kind: str, name: str) -> object:
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise ValueError(f"fact '{name}' is {kind}; {raw!r} is not") from None
    if kind == "bool":
        if raw.lower() not in ("true", "false"):
            raise ValueError(f"fact '{name}' is bool; write true or false, not {raw!r}")
        return raw.lower() == "true"
    return raw


def _yaml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return _quoted(str(value))


def draft_rule(kb: Knowledge, finding: str, when: list[tuple[str, object]], ident: str | None = None) -> dict[str, str]:
    """A rule concluding `finding` when every FACT=VALUE holds, and its cases (all hold: fire;
    none given: silent)."""
    ident = ident or signature_id(kb, finding)
    tests = [f"      - fact: {name}\n        equals: {_yaml_value(value)}\n" for name, value in when]
    condition = (
        f"  fact: {when[0][0]}\n  equals: {_yaml_value(when[0][1])}\n"
        if len(when) == 1
        else "  all:\n" + "".join(tests)
    )
    facts = ", ".join(f"{name}: {_yaml_value(value)}" for name, value in when)
    said = " and ".join(f"{name} is {value}" for name, value in when)
    area = finding.split(".", 1)[0]
    return {
        f"rules/{area}/{ident}.yaml": (
            f"id: {ident}\n"
            f"description: {_quoted(f'Drafted: {finding} when {said}.')}\n"
            f"finding: {finding}\n"
            "confidence: medium\n"
            f"when:\n{condition}"
        ),
        f"rules/{area}/{ident}.test.yaml": (
            f"rule: {ident}\n"
            "cases:\n"
            f"  - name: every fact it needs\n    facts: {{{facts}}}\n    expect: fire\n"
            "  - name: nothing known\n    facts: {}\n    expect: silent\n"
        ),
    }


def finding_entry(ident: str, title: str, contact: str, severity: str) -> str:
    """A finding's entry under `findings:`, with the sentences its author must write marked."""
    return (
        f"  {ident}:\n"
        f"    title: {_quoted(title)}\n"
        f"    severity: {severity}\n"
        f"    contact: {contact}\n"
        f"    summary: {_quoted('Drafted: say in one or two sentences what is wrong.')}\n"
        f"    why: {_quoted('Drafted: say why it happens and why it stops email.')}\n"
        "    fix:\n"
        f"      - {_quoted('Drafted: the first thing the person who must act does.')}\n"
        "    step: 2\n"
    )


def question_entry(ident: str, text: str, finding: str) -> str:
    """A yes/no question asked when `finding` is concluded; a rule must read answer.<id>."""
    return (
        f"  - id: {ident}\n"
        f"    text: {_quoted(text)}\n"
        f"    why: {_quoted('Drafted: say what each answer would confirm or rule out.')}\n"
        "    kind: yes_no\n"
        "    when:\n"
        f"      finding: {finding}\n"
    )
