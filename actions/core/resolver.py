"""Find the customer a message is about, against the live CRM (no retraining needed).

Matching works on characters, not on jieba tokens, so a name glued to a title or a verb
(`刚见了华钢周主任`) is still found. Steps, first hit wins:
1. exact: any name variant (full name, aliases, name without 集团/有限公司/… suffix) inside the text;
   a match inside a longer match is dropped;
2. one-character typo (substitution, insertion, deletion) of a variant of 4+ characters,
   by a symmetric-deletion index, verified with rapidfuzz's Levenshtein distance;
3. pinyin typed on a phone: full pinyin or initials (hzgt, huazhonggangtie) via pypinyin;
4. prefix: 2+ leading characters of names (`华中` → 华中钢铁 and 华中重工 → ask).
Visibility is applied to the candidates: the viewer's own customers win; if only customers the
viewer may not see match, the result is `forbidden` (no details). `suggest()` proposes the closest
visible names when nothing matches.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pypinyin import Style, lazy_pinyin
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

SUFFIXES = (
    "股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "集团公司", "股份公司", "集团", "公司",
)
MIN_TYPO_LEN = 4
MIN_PREFIX_LEN = 2
MAX_PREFIX_CANDIDATES = 5
_ASCII_RUN = re.compile(r"[a-z]{3,}")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# Words that are never (part of) a customer reference on their own, for the prefix step.
_STOP_PREFIXES = {
    "今天", "明天", "昨天", "后天", "上周", "下周", "这周", "本周", "我的", "我们", "他们", "客户",
    "最近", "怎么", "什么", "哪些", "帮我", "给我", "一下", "准备", "拜访", "记录", "合同", "联系",
    "消费", "套餐", "推荐", "有没", "是不", "能不", "可以", "那个", "这个", "中国",
}


def normalize(text: str) -> str:
    """Full-width → half-width, lower-case, no spaces."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"\s+", "", text)


def strip_suffix(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def variants(name: str, aliases: Iterable[str]) -> set[str]:
    out = set()
    for v in (name, *aliases):
        v = normalize(v)
        if len(v) < 2:
            continue
        out.add(v)
        core = strip_suffix(v)
        if len(core) >= 2:
            out.add(core)
            core2 = strip_suffix(core)  # 华中钢铁集团有限公司 → 华中钢铁集团 → 华中钢铁
            if len(core2) >= 2:
                out.add(core2)
    return out


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass(frozen=True)
class Entry:
    id: int
    name: str
    manager_id: int | None
    team: str
    code: str = ""


@dataclass
class Resolution:
    status: str  # found|ambiguous|not_found|forbidden
    ids: list[int] = field(default_factory=list)
    matched: str = ""  # the text the manager typed that matched
    how: str = ""  # exact|typo|pinyin|prefix
    hidden_ids: list[int] = field(default_factory=list)  # matched but not visible: audit only

    @property
    def id(self) -> int | None:
        return self.ids[0] if self.status == "found" else None


class CustomerIndex:
    """In-memory index over all customers; rebuilt when the CRM's customer version changes."""

    def __init__(self, entries: Iterable[tuple[Entry, Iterable[str]]], version=None):
        self.version = version
        self.entries: dict[int, Entry] = {}
        self.exact: dict[str, set[int]] = {}
        self.deletes: dict[str, set[str]] = {}  # deletion form -> variants
        self.pinyin: dict[str, set[int]] = {}
        self.prefix: dict[str, set[int]] = {}
        self.lengths: set[int] = set()
        for entry, aliases in entries:
            self.add(entry, aliases)
        self._lengths_sorted = sorted(self.lengths, reverse=True)

    def add(self, entry: Entry, aliases: Iterable[str]) -> None:
        self.entries[entry.id] = entry
        for v in variants(entry.name, aliases):
            self.exact.setdefault(v, set()).add(entry.id)
            self.lengths.add(len(v))
            if len(v) >= MIN_TYPO_LEN:
                for d in _deletions(v):
                    self.deletes.setdefault(d, set()).add(v)
            if _CJK.search(v):
                syllables = lazy_pinyin(v, errors="ignore")
                full = "".join(syllables)
                initials = "".join(s[0] for s in lazy_pinyin(v, style=Style.FIRST_LETTER, errors="ignore") if s)
                if len(full) >= 4:
                    self.pinyin.setdefault(full, set()).add(entry.id)
                if len(initials) >= 3:
                    self.pinyin.setdefault(initials, set()).add(entry.id)
            for n in range(MIN_PREFIX_LEN, min(4, len(v) - 1) + 1):
                self.prefix.setdefault(v[:n], set()).add(entry.id)

    def __len__(self) -> int:
        return len(self.entries)

    # ------------------------------------------------------------ matching
    def _exact(self, text: str) -> tuple[set[int], str]:
        spans = []
        n = len(text)
        for i in range(n):
            for length in self._lengths_sorted:
                if i + length > n:
                    continue
                ids = self.exact.get(text[i : i + length])
                if ids:
                    spans.append((i, i + length, ids))
                    break  # the longest variant starting here
        if not spans:
            return set(), ""
        kept = [s for s in spans if not any(o is not s and o[0] <= s[0] and s[1] <= o[1] and (o[1] - o[0]) > (s[1] - s[0]) for o in spans)]
        ids: set[int] = set()
        for _, _, found in kept:
            ids |= found
        best = max(kept, key=lambda s: s[1] - s[0])
        return ids, text[best[0] : best[1]]

    def _typo(self, text: str) -> tuple[set[int], str]:
        hits: dict[str, str] = {}
        n = len(text)
        for length in sorted((x for x in self.lengths if x >= MIN_TYPO_LEN), reverse=True):
            for window_len in (length, length + 1, length - 1):
                if window_len < MIN_TYPO_LEN - 1:
                    continue
                for i in range(0, n - window_len + 1):
                    window = text[i : i + window_len]
                    if not _CJK.search(window):
                        continue
                    for key in {window} | _deletions(window):
                        for v in self.deletes.get(key, ()):
                            if v not in hits and Levenshtein.distance(window, v) <= 1:
                                hits[v] = window
                    if window in self.deletes:  # window is the variant minus one character
                        for v in self.deletes[window]:
                            hits.setdefault(v, window)
            if hits:
                break
        ids: set[int] = set()
        for v in hits:
            ids |= self.exact[v]
        return ids, (next(iter(hits.values())) if hits else "")

    def _pinyin(self, text: str) -> tuple[set[int], str]:
        for token in _ASCII_RUN.findall(text):
            ids = self.pinyin.get(token)
            if ids:
                return set(ids), token
        return set(), ""

    def _prefix(self, text: str) -> tuple[set[int], str]:
        best: tuple[set[int], str] = (set(), "")
        for i in range(len(text)):
            for length in (4, 3, 2):
                chunk = text[i : i + length]
                if len(chunk) < length or chunk in _STOP_PREFIXES or not _CJK.fullmatch(chunk[0]):
                    continue
                ids = self.prefix.get(chunk)
                if ids and len(ids) <= MAX_PREFIX_CANDIDATES and length > len(best[1]):
                    best = (set(ids), chunk)
                    break
        return best

    def match(self, text: str) -> tuple[set[int], str, str]:
        text = normalize(text)
        for how, step in (("exact", self._exact), ("typo", self._typo), ("pinyin", self._pinyin)):
            ids, matched = step(text)
            if ids:
                return ids, matched, how
        return set(), "", ""

    def match_prefix(self, text: str) -> tuple[set[int], str]:
        return self._prefix(normalize(text))

    # ------------------------------------------------------------ resolution with access
    def resolve(self, text: str, can_see: Callable[[Entry], bool], allow_prefix: bool = True) -> Resolution:
        ids, matched, how = self.match(text)
        if not ids and allow_prefix:
            ids, matched = self.match_prefix(text)
            how = "prefix" if ids else ""
        if not ids:
            return Resolution("not_found")
        visible = sorted(i for i in ids if can_see(self.entries[i]))
        if not visible and how == "prefix":
            return Resolution("not_found")  # a bare prefix of others' customers reveals nothing
        if not visible:
            return Resolution("forbidden", [], matched, how, hidden_ids=sorted(ids))
        if len(visible) == 1 and how != "prefix":  # a bare prefix is never taken silently: ask
            return Resolution("found", visible, matched, how)
        return Resolution("ambiguous", visible, matched, how)

    def suggest(self, text: str, can_see: Callable[[Entry], bool], limit: int = 3) -> list[int]:
        visible = {e.id: e.name for e in self.entries.values() if can_see(e)}
        query = normalize(text)
        if not visible or not query:
            return []
        found = process.extract(query, visible, scorer=fuzz.partial_ratio, limit=limit, score_cutoff=40)
        return [key for _, _, key in found]


def viewer_filter(role: str, manager_id: int, team: str) -> Callable[[Entry], bool]:
    """Least privilege: own customers; a lead the team's; an admin all."""
    if role == "admin":
        return lambda e: True
    if role == "lead":
        return lambda e: e.team == team and e.manager_id is not None
    return lambda e: e.manager_id == manager_id
