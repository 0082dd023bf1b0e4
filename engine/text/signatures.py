"""Match error text against knowledge/signatures and turn each hit into facts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import field, replace

from engine.facts import REPLY_PREFIX, FactValue, Observation
from engine.inputs.textinput import Block
from engine.knowledge import schema as s
from engine.knowledge.model import Knowledge
from engine.knowledge.prepared import prepared
from engine.knowledge.schema import GROUP_REF, GROUP_REF_IN
from engine.reply_text import reply_words
from engine.text.multimatch import HYPERSCAN, Finder, finder_for, serialize
from engine.text.prefilter import WANTED, Wanted, wanted_from
from engine.text.providers import TextWatch, patterns_for
from engine.values import record

MAX_EVIDENCE = 400  # characters of a matched line kept as evidence
# Lines kept as evidence per signature; later hits are counted, not kept, so memory stays
# bounded however many times a gigabyte log repeats the same error.
MAX_HITS_PER_SIGNATURE = 20


def flags_of(sig: s.SignatureSpec) -> int:
    return re.IGNORECASE if sig.ignore_case else 0


def derive_literal_sets(kb: Knowledge) -> None:
    """What the finder needs of every pattern (signatures, provider banners) and the hyperscan
    database made of them, worked out once for the knowledge cache to keep."""
    patterns = [(sig.pattern, flags_of(sig)) for sig in kb.signatures.values()]
    patterns += [(x, re.IGNORECASE) for p in kb.providers.values() for x in (*p.hosts, *p.banners)]
    kb.derived[WANTED] = {key: Wanted.of(*key) for key in patterns}
    kb.derived[HYPERSCAN] = serialize(Matcher.for_knowledge(kb).finder)


@record
class Matcher:
    signatures: list[s.SignatureSpec]  # in file order
    fact_types: Mapping[str, str]  # the declared type of each fact a signature sets
    # Nominates lines for the signatures and, after them, for the providers' banner patterns,
    # so that a log is scanned once for both.
    finder: Finder
    # A signature's regex is compiled the first time a line is nominated for it: most runs read
    # a few lines, and compiling every pattern would cost more than the whole read.
    _regexes: dict[int, re.Pattern[str]] = field(default_factory=dict)

    @classmethod
    def for_knowledge(cls, kb: Knowledge, prefer: str | None = None) -> Matcher:
        signatures = list(kb.signatures.values())
        known = kb.derived.get(WANTED, {})
        wanted = [wanted_from(known, sig.pattern, flags_of(sig)) for sig in signatures] + patterns_for(kb).wanted
        specs = {name: kb.fact_spec(name) for sig in signatures for name in sig.facts}
        types = {name: spec.type for name, spec in specs.items() if spec is not None}
        return cls(signatures, types, finder_for(wanted, prefer, kb.derived.get(HYPERSCAN)))

    def regex(self, index: int) -> re.Pattern[str]:
        found = self._regexes.get(index)
        if found is None:
            sig = self.signatures[index]
            found = self._regexes[index] = re.compile(sig.pattern, flags_of(sig))
        return found

    def observations(
        self, text: str, origin: str, sig: s.SignatureSpec, hit: re.Match[str], redact: Callable[[str], str]
    ) -> list[Observation]:
        """The facts one hit yields; the line is redacted before it becomes evidence."""
        evidence = redact(text.strip()[:MAX_EVIDENCE])
        found = []
        for name, raw in sig.facts.items():
            value = self._value(name, raw, hit)
            if value is None:
                continue
            if isinstance(value, str):
                value = redact(value)
            found.append(Observation(name, value, "log", evidence, origin))
        return found

    def _value(self, name: str, raw: FactValue, hit: re.Match[str]) -> FactValue | None:
        ref = GROUP_REF.match(raw) if isinstance(raw, str) else None
        if ref is None:
            if isinstance(raw, str) and "{" in raw:
                parts = [hit.group(m.group(1)) for m in GROUP_REF_IN.finditer(raw)]
                if any(part is None for part in parts):
                    return None
                return GROUP_REF_IN.sub(lambda m: (hit.group(m.group(1)) or "").strip(), raw)
            return raw
        text = hit.group(ref.group(1))
        if text is None:
            return None
        text = text.strip()
        kind = self.fact_types.get(name, "str")
        try:
            return {"int": int, "float": float, "str": str}.get(kind, str)(text)
        except ValueError:
            return None


@record
class TextFacts:
    observations: list[Observation]
    lines_read: int
    lines_matched: int


def matcher_for(kb: Knowledge, prefer: str | None = None) -> Matcher:
    """One matcher per loaded knowledge base: compiling and analysing the patterns is not free."""
    return prepared(kb, ("matcher", prefer), lambda kb: Matcher.for_knowledge(kb, prefer))


def mine(
    kb: Knowledge,
    blocks: Iterable[Block],
    redact: Callable[[str], str] | None = None,
    prefer: str | None = None,
    watch: TextWatch | None = None,
) -> TextFacts:
    """Every fact the signatures find in the blocks, plus how many lines were read and matched.

    The finder nominates the lines that may match (one pass per block); each signature's regex
    then runs on its nominated lines only, each line on its own, so a pattern never matches
    across lines. Lines nominated for a provider's banner go to `watch`.
    """
    matcher = matcher_for(kb, prefer)
    signatures = len(matcher.signatures)
    observations: list[Observation] = []
    kept: dict[str, int] = {}
    read = matched = 0
    files: list[str] = []  # the files the text came from, as named (not stdin or a paste)
    for block in blocks:
        read += block.lines
        if not block.name.startswith("<") and block.name not in files and block.name != "pasted":
            files.append(block.name)
        folded = _Folded(block)
        for line in matcher.finder.nominate(block.data):
            hits = []
            for i in sorted(line.wanted):  # file order, so a line's facts come out as written
                if i >= signatures:
                    continue
                sig = matcher.signatures[i]
                if (hit := matcher.regex(i).search(line.text)) is not None:
                    hits.append((sig, hit))
            if watch is not None and max(line.wanted) >= signatures:
                watch.see(line.text, block.origin(line.index))
            if not hits:
                continue
            matched += 1
            origin = block.origin(line.index)
            per_hit = []
            for sig, hit in hits:
                kept[sig.id] = kept.get(sig.id, 0) + 1
                if kept[sig.id] <= MAX_HITS_PER_SIGNATURE:
                    per_hit.append(matcher.observations(line.text, origin, sig, hit, redact or str))
            more = folded.after(line.index) if any(_has_reply(found) for found in per_hit) else ""
            observations.extend(group_replies(per_hit, origin, (redact or str)(more)))
    observations = with_stage_hints(observations)
    observations.append(Observation("log.lines", read, "log"))
    observations.append(Observation("log.matched", matched, "log"))
    if files:
        observations.append(Observation("log.source", files[0], "log"))
    return TextFacts(observations, read, matched)


# What mine() says about the text as a whole rather than about an error in it.
COUNTS = ("log.lines", "log.matched", "log.source")


MAX_FOLDED_LINES = 6  # continuation lines read after a reply, as bounces wrap long replies
MAX_FOLDED_CHARS = 600
# Indented lines that continue a stack trace, not a reply.
# Stack frames in the languages .NET and Java print them in ("at", "en", "bei", "à", "в").
_NOT_FOLDED = re.compile(r"^\s*(?:(?:at|en|bei|à|в) |\.\.\. \d+ more|Caused by|File \"|Traceback|nested exception)")


class _Folded:
    """The lines that continue a reply: indented, as bounces and MTA logs wrap it, or cut mid-sentence."""

    def __init__(self, block: Block) -> None:
        self.block = block
        self.lines: list[bytes] | None = None

    def after(self, index: int) -> str:
        if self.lines is None:  # split only blocks that hold a reply
            self.lines = self.block.data.split(b"\n")
        taken: list[str] = []
        previous = self.lines[index].decode("utf-8", errors="replace").rstrip()
        for raw in self.lines[index + 1 : index + 1 + MAX_FOLDED_LINES]:
            text = raw.decode("utf-8", errors="replace").rstrip("\r")
            if not text.strip() or _NOT_FOLDED.match(text):
                break
            if not text[:1].isspace() and not _cut_sentence(previous, text):
                break
            taken.append(text.strip())
            previous = text
        return " ".join(taken)[:MAX_FOLDED_CHARS]


def _cut_sentence(previous: str, text: str) -> bool:
    """A line broken mid-sentence by a terminal or a forum post: it ends on a word and the
    next begins in lower case, which no log line, code or exception name does."""
    return previous[-1:].isalpha() and text[:1].islower() and not text.startswith(("at ", "in "))


def _has_reply(found: list[Observation]) -> bool:
    return any(o.name in ("reply.code", "reply.enhanced") for o in found)


def group_replies(per_hit: list[list[Observation]], origin: str, folded: str = "") -> list[Observation]:
    """One line's facts, its replies grouped: several signatures reading the same reply (a
    wrapper that knows the stage, a generic reader that knows only the codes) make one reply,
    and the same fact read twice is kept once.
    A reply's text gets the folded lines that continue it, and loses the codes its lines repeat."""
    out: list[Observation] = []
    seen: set[tuple[str, object]] = set()
    replies: list[dict[str, Observation]] = []
    for found in per_hit:
        fields = {o.name: o for o in found if o.name.startswith(REPLY_PREFIX)}
        for o in found:
            # Two signatures that read the same fact from one line (a runtime's own words and
            # a generic reader) make one fact, as they make one reply.
            if not o.name.startswith(REPLY_PREFIX) and (o.name, o.value) not in seen:
                seen.add((o.name, o.value))
                out.append(o)
        if not fields:
            continue
        same = next((merged for merged in replies if _same_reply(merged, fields)), None)
        if same is None:
            replies.append(fields)
            continue
        for name, obs in fields.items():
            if name not in same or (name == STAGE and same[name].value == UNKNOWN_STAGE):
                same[name] = obs
    for number, fields in enumerate(replies):
        if STAGE not in fields:
            fields[STAGE] = replace(next(iter(fields.values())), name=STAGE, value=UNKNOWN_STAGE)
        _reword(fields, folded)
        out.extend(replace(o, group=f"{origin} reply {number}") for o in fields.values())
    return out


STAGE = "reply.stage"
UNKNOWN_STAGE = "unknown"
STAGE_HINT = "log.stage_hint"
SMTP_STAGE, SMTP_FAILURE = "smtp.stage", "smtp.failure"
MAX_HINT_DISTANCE = 12  # lines between a reply and the stack frame that names its command


def _place(origin: str | None) -> tuple[str, int] | None:
    name, _, line = (origin or "").rpartition(":")
    return (name, int(line)) if line.isdigit() else None


def with_stage_hints(observations: list[Observation]) -> list[Observation]:
    """A reply whose own line does not say which command it answered, or a session cut at an
    unnamed step, takes the step from the nearest stack frame that names it (MailKit's
    OnRecipientNotAccepted, Ruby's `rcptto', smtplib's `in connect'), a few lines away in the
    same text: a stack trace is read line by line, so the frame is its own fact first."""
    hints = [(place, o.value) for o in observations if o.name == STAGE_HINT and (place := _place(o.origin))]
    if not hints:
        return observations

    def nearest(origin: str | None) -> FactValue | None:
        here = _place(origin)
        if here is None:
            return None
        close = [(abs(line - here[1]), line < here[1], stage) for (name, line), stage in hints if name == here[0]]
        close = [c for c in close if c[0] <= MAX_HINT_DISTANCE]
        return min(close)[2] if close else None  # the nearest; at equal distance, the frame below

    out = []
    for o in observations:
        if o.name == STAGE and o.value == UNKNOWN_STAGE and (stage := nearest(o.origin)) is not None:
            o = replace(o, value=stage)
        out.append(o)
    # A closed session only: a timeout's rules read the step from what the probe or text counted
    # (bytes received), which a frame does not tell.
    if not any(o.name == SMTP_STAGE for o in out):
        for o in [o for o in out if o.name == SMTP_FAILURE and o.value == "closed"]:
            if (stage := nearest(o.origin)) is not None:
                out.append(replace(o, name=SMTP_STAGE, value=stage))
                break
    return out


def _reword(fields: dict[str, Observation], folded: str) -> None:
    code, enhanced = fields.get("reply.code"), fields.get("reply.enhanced")
    text = fields.get("reply.text")
    if text is None and not folded:
        return
    words = reply_words(
        f"{text.value if text else ''} {folded}",
        code.value if code is not None and isinstance(code.value, int) else None,
        enhanced.value if enhanced is not None and isinstance(enhanced.value, str) else None,
    )
    template = text or next(iter(fields.values()))
    if words:
        fields["reply.text"] = replace(template, name="reply.text", value=words)


def _same_reply(a: dict[str, Observation], b: dict[str, Observation]) -> bool:
    """Two readings of one line are one reply unless their codes or known stages differ."""
    for name in ("reply.code", "reply.enhanced"):
        if name in a and name in b and a[name].value != b[name].value:
            return False
    stages = {x[STAGE].value for x in (a, b) if STAGE in x} - {UNKNOWN_STAGE}
    return len(stages) <= 1


def mine_snippets(
    kb: Knowledge, snippets: Iterable[tuple[str, str]], redact: Callable[[str], str] | None = None
) -> list[Observation]:
    """Facts from short texts that are not a log (a queue's delay reason, a typed answer).

    Each (origin, text) is mined like a pasted log; a one-line text keeps its origin as given
    (a queue id), a longer one gets origin:line. The line counts describe logs, so they are left out.
    """
    blocks = [Block.of_text(text, origin) for origin, text in snippets]
    single = {b.name for b in blocks if b.lines == 1}
    found = []
    for item in mine(kb, blocks, redact).observations:
        if item.name in COUNTS:
            continue
        name = (item.origin or "").rsplit(":", 1)[0]
        found.append(replace(item, origin=name) if name in single else item)
    return found
