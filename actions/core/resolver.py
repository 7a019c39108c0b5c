"""Find the customer a message is about, against the live CRM (no retraining needed).

Matching works on characters, not on jieba tokens, so a name glued to a title or a verb
(`刚见了华钢周主任`) is still found. Steps, first hit wins:
1. exact: any name variant inside the text; a match inside a longer match is dropped. Variants are
   the registered ones (full name, aliases, the name without 集团/有限公司 …) and the forms managers
   type without the place or the kind of organisation (十堰隆盛口腔医院 → 隆盛口腔医院, 隆盛口腔);
2. one-character typo (substitution, insertion, deletion) of a variant of 4+ characters,
   by a symmetric-deletion index, verified with rapidfuzz's Levenshtein distance;
3. pinyin typed on a phone: full pinyin or initials (hzgt, huazhonggangtie) via pypinyin;
4. prefix: 2+ leading characters of names (`华中` → 华中钢铁 and 华中重工 → ask).
A match only on a derived two-character brand (隆盛), or on a prefix, is `weak`: the caller decides
whether the rest of the message is about customers at all (`万达广场几点关门` is not).
Visibility is applied to the candidates: the viewer's own customers win; if only customers the
viewer may not see match, the result is `forbidden` (no details; answered like an unknown name).
`suggest()` proposes the closest visible names when nothing matches.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from actions.core import homophones
from actions.core.pinyin import spellings

SUFFIXES = (
    "股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "集团公司", "股份公司", "集团", "公司",
)
# Places a name may start with, that managers leave out (十堰隆盛口腔医院 → 隆盛口腔医院).
PLACES = (
    "湖北", "湖南", "河南", "河北", "广东", "广西", "江苏", "浙江", "山东", "山西", "陕西", "四川", "云南",
    "贵州", "江西", "安徽", "福建", "辽宁", "吉林", "黑龙江", "甘肃", "青海", "海南", "内蒙古", "新疆",
    "北京", "上海", "天津", "重庆", "武汉", "黄石", "十堰", "宜昌", "襄阳", "鄂州", "荆门", "孝感", "荆州",
    "黄冈", "咸宁", "随州", "恩施", "仙桃", "潜江", "天门", "鄂东", "鄂西", "枣阳", "大冶", "麻城", "云梦",
    "丹江口", "老河口", "宜城", "钟祥", "应城", "安陆", "汉川", "石首", "洪湖", "松滋", "武穴", "赤壁",
    "利川", "广水", "当阳", "枝江", "宜都", "江岸", "江汉", "硚口", "汉阳", "武昌", "青山", "洪山",
    "东西湖", "汉南", "蔡甸", "江夏", "黄陂", "新洲", "汉口",
)
# Kinds of organisation a name may end with; what is left before them is the brand.
ORG_TYPES = (
    "职业技术学校", "职业技术学院", "职业学院", "外国语学校", "实验小学", "实验中学", "中学", "小学", "学校",
    "学院", "大学", "妇幼保健院", "保健院", "中医院", "口腔医院", "医院", "大酒店", "商务酒店", "国际饭店",
    "酒店", "饭店", "宾馆", "度假村", "税务分局", "分局", "公安局", "自然资源所", "证券营业部", "营业部",
    "村镇银行", "农商银行", "商业银行", "银行", "小额贷款", "保险代理", "供应链", "快运", "物流", "机械",
    "钢构", "商贸", "电竞馆", "网咖", "连锁超市", "超市", "连锁", "管委会", "人民政府", "政府", "电子", "科技",
    "汽配", "纸业", "粮油", "船舶", "包装", "机电", "航运",
)
# How managers shorten a kind of organisation (十堰隆盛口腔医院 → 隆盛口腔, 孝感华信职业技术学校 → 华信职校).
ORG_SHORT = {
    "职业技术学校": ("职校", "职业学校"), "职业技术学院": ("职院", "职业学院"), "职业学院": ("职院",), "外国语学校": ("外校", "外国语"),
    "实验小学": ("实小", "小学"), "实验中学": ("实中", "中学"), "妇幼保健院": ("妇幼", "保健院"), "商务酒店": ("酒店",),
    "国际饭店": ("饭店", "酒店"), "大酒店": ("酒店",), "连锁超市": ("超市",), "税务分局": ("税务局", "税务"),
    "证券营业部": ("证券",), "村镇银行": ("银行",), "口腔医院": ("口腔",), "中医院": ("医院",), "小额贷款": ("小贷",),
    "供应链": ("供应链公司",), "快运": ("快运公司", "物流"), "自然资源所": ("资源所",), "电竞馆": ("电竞",),
}
STRONG, DERIVED, WEAK = 2, 1, 0  # how sure a variant is: registered / derived / a bare two-character brand
MIN_TYPO_LEN = 4
MAX_SOUND_LEN = 8  # names longer than this are found by their shorter forms
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


def _strip_place(name: str) -> str:
    for place in sorted(PLACES, key=len, reverse=True):
        if name.startswith(place):
            rest = name[len(place) :]
            if rest[:1] in ("市", "县", "区", "省") and len(rest) > 1:
                rest = rest[1:]
            return rest
    return ""


def _brands(core: str) -> set[str]:
    """core without one or more organisation-type words at its end (隆盛口腔医院 → 隆盛口腔, 隆盛)."""
    out: set[str] = set()
    for t in ORG_TYPES:
        if core.endswith(t) and len(core) - len(t) >= 2:
            rest = core[: -len(t)]
            if rest not in out:
                out.add(rest)
                out |= _brands(rest)
    return out


def _shortened(core: str) -> set[str]:
    """隆盛口腔医院 → 隆盛口腔; 华信职业技术学校 → 华信职校: the brand with the usual short kind."""
    out = set()
    for long, shorts in ORG_SHORT.items():
        if core.endswith(long) and len(core) > len(long) + 1:
            brand = core[: -len(long)]
            out |= {brand + s for s in shorts}
    return out


def variants(name: str, aliases: Iterable[str]) -> dict[str, int]:
    """Every form of the name a manager may type, with how sure a match on it is.

    Registered forms (full name, aliases, without 集团/有限公司) are STRONG; forms derived by leaving
    out the place or the kind of organisation are DERIVED; a derived two-character brand is WEAK.
    """
    out: dict[str, int] = {}

    def put(v: str, strength: int) -> None:
        if len(v) >= 2 and out.get(v, -1) < strength:
            out[v] = strength

    for v in (name, *aliases):
        v = normalize(v)
        if len(v) < 2:
            continue
        put(v, STRONG)
        core = strip_suffix(v)
        put(core, STRONG)
        core = strip_suffix(core)  # 华中钢铁集团有限公司 → 华中钢铁集团 → 华中钢铁
        put(core, STRONG)
        if not _CJK.search(core):
            continue
        for base in {core, _strip_place(core)} - {""}:
            for form in {base} | _brands(base) | _shortened(base):
                if form not in ORG_TYPES and not form.isdigit() and form.rstrip("市县区省") not in PLACES:
                    put(form, DERIVED if len(form) >= 3 else WEAK)
        place = core[: len(core) - len(_strip_place(core))] if _strip_place(core) else ""
        if place:
            for t in ORG_TYPES:  # 黄陂恒通税务分局 → 黄陂税务分局: the place and the kind, without the brand
                if core.endswith(t) and len(core) > len(place) + len(t):
                    put(place.rstrip("市县区") + t, DERIVED)
                    break
    return out


class Multi(dict):
    """key → one value, a tuple of a few, or a set of many. Most keys of the index have one value, and
    a set per key costs over 200 bytes: at 10,000 customers this keeps the index ~100 MiB smaller."""

    __slots__ = ()

    def put(self, key, value) -> None:
        old = dict.get(self, key)
        if old is None:
            self[key] = value
        elif isinstance(old, tuple):
            if value not in old:
                self[key] = old + (value,) if len(old) < 8 else {*old, value}
        elif isinstance(old, set):
            old.add(value)
        elif old != value:
            self[key] = (old, value)

    def all(self, key) -> tuple | set:
        value = dict.get(self, key)
        if value is None:
            return ()
        return value if isinstance(value, tuple | set) else (value,)


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
    how: str = ""  # exact|typo|sound|pinyin|prefix
    hidden_ids: list[int] = field(default_factory=list)  # matched but not visible: audit only
    weak: bool = False  # only a bare two-character brand or a prefix matched

    @property
    def id(self) -> int | None:
        return self.ids[0] if self.status == "found" else None


class CustomerIndex:
    """In-memory index over all customers; rebuilt when the CRM's customer version changes."""

    def __init__(self, entries: Iterable[tuple[Entry, Iterable[str]]], version=None):
        self.version = version
        self.entries: dict[int, Entry] = {}
        self.exact = Multi()  # variant -> customer ids
        self.strength: dict[str, int] = {}  # variant -> the strongest way any customer has it
        self.deletes = Multi()  # deletion form -> variants
        self.pinyin = Multi()  # full pinyin or initials -> customer ids
        self.sounds = Multi()  # how a registered name sounds (华刚 → 华钢) -> customer ids
        self.sound_lengths: set[int] = set()
        self.prefix = Multi()  # the first 2-4 characters -> customer ids
        self.lengths: set[int] = set()
        for entry, aliases in entries:
            self.add(entry, aliases)
        self._lengths_sorted = sorted(self.lengths, reverse=True)

    def add(self, entry: Entry, aliases: Iterable[str]) -> None:
        self.entries[entry.id] = entry
        for v, strength in variants(entry.name, aliases).items():
            self.exact.put(v, entry.id)
            self.strength[v] = max(strength, self.strength.get(v, WEAK))
            self.lengths.add(len(v))
            if strength == WEAK:
                if _CJK.search(v):  # mingzhu: a bare brand in pinyin, long enough not to be an English word
                    for full, _ in spellings(v):
                        if len(full) >= 6:
                            self.pinyin.put(full, entry.id)
                continue
            if 2 <= len(v) <= MAX_SOUND_LEN:  # strong and derived forms (weak ones returned above)
                key = homophones.sound_key(v)
                if key:
                    self.sounds.put(key, entry.id)
                    self.sound_lengths.add(len(v))
            if len(v) >= MIN_TYPO_LEN and strength == STRONG:  # derived forms: found by their sound instead
                for d in _deletions(v):
                    self.deletes.put(d, v)
            if _CJK.search(v):
                for full, initials in spellings(v):
                    if len(full) >= 4:
                        self.pinyin.put(full, entry.id)
                    if len(initials) >= 3 and strength == STRONG:
                        self.pinyin.put(initials, entry.id)
            for n in range(MIN_PREFIX_LEN, min(4, len(v) - 1) + 1):
                self.prefix.put(v[:n], entry.id)

    def __len__(self) -> int:
        return len(self.entries)

    # ------------------------------------------------------------ matching
    def _exact(self, text: str) -> tuple[set[int], str, bool]:
        spans = []
        n = len(text)
        for i in range(n):
            for length in self._lengths_sorted:
                if i + length > n:
                    continue
                ids = self.exact.all(text[i : i + length])
                if ids:
                    spans.append((i, i + length, ids))
                    break  # the longest variant starting here
        if not spans:
            return set(), "", False
        kept = [s for s in spans if not any(o is not s and o[0] <= s[0] and s[1] <= o[1] and (o[1] - o[0]) > (s[1] - s[0]) for o in spans)]
        strong = [s for s in kept if self.strength[text[s[0] : s[1]]] > WEAK]
        weak = not strong
        ids: set[int] = set()
        for _, _, found in strong or kept:
            ids.update(found)
        best = max(strong or kept, key=lambda s: s[1] - s[0])
        return ids, text[best[0] : best[1]], weak

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
                        for v in self.deletes.all(key):
                            if v not in hits and Levenshtein.distance(window, v) <= 1:
                                hits[v] = window
                    if window in self.deletes:  # window is the variant minus one character
                        for v in self.deletes.all(window):
                            hits.setdefault(v, window)
            if hits:
                break
        ids: set[int] = set()
        for v in hits:
            ids.update(self.exact.all(v))
        return ids, (next(iter(hits.values())) if hits else "")

    def _sound(self, text: str) -> tuple[set[int], str]:
        """A registered name typed with same-sounding characters: 华刚 (华钢), 江诚银行 (江城银行)."""
        for length in sorted(self.sound_lengths, reverse=True):
            for i in range(0, len(text) - length + 1):
                window = text[i : i + length]
                if window in self.exact:
                    continue
                ids = self.sounds.all(homophones.sound_key(window))
                if ids:
                    return set(ids), window
        return set(), ""

    def _pinyin(self, text: str) -> tuple[set[int], str]:
        """Pinyin typed on a phone: one word (hzgt, huazhonggangtie) or a few (hengtai zhiye)."""
        words = re.findall(r"[a-z]+", text)
        spans = [(i, j) for i in range(len(words)) for j in range(min(len(words), i + 4), i, -1)]
        for i, j in sorted(spans, key=lambda p: -(p[1] - p[0])):
            token = "".join(words[i:j])
            if len(token) < 3:
                continue
            ids = self.pinyin.all(token)
            if ids:
                return set(ids), " ".join(words[i:j])
        return set(), ""

    def _prefix(self, text: str) -> tuple[set[int], str]:
        best: tuple[set[int], str] = (set(), "")
        for i in range(len(text)):
            for length in (4, 3, 2):
                chunk = text[i : i + length]
                if len(chunk) < length or chunk in _STOP_PREFIXES or not _CJK.fullmatch(chunk[0]):
                    continue
                ids = self.prefix.all(chunk)
                if ids and len(ids) <= MAX_PREFIX_CANDIDATES and length > len(best[1]):
                    best = (set(ids), chunk)
                    break
        return best

    def match(self, text: str) -> tuple[set[int], str, str, bool]:
        """(ids, matched text, how, weak)."""
        spaced = unicodedata.normalize("NFKC", text or "").lower()  # pinyin is read word by word
        text = normalize(text)
        ids, matched, weak = self._exact(text)
        if ids and not weak:
            return ids, matched, "exact", False
        for how, step, arg in (("typo", self._typo, text), ("sound", self._sound, text), ("pinyin", self._pinyin, spaced)):
            found, found_text = step(arg)
            if found:
                return found, found_text, how, how == "sound" and len(found_text) == 2  # 华刚: needs a word about customers
        if ids:
            at = text.find(matched)
            for length in (4, 3):  # 景明保险 for 景明保险代理: the brand and what follows begin one name
                chunk = text[at : at + length]
                longer = self.prefix.all(chunk) if len(chunk) == length and all(_CJK.match(ch) for ch in chunk) else ()
                if len(longer) == 1 and next(iter(longer)) in ids:
                    return set(longer), chunk, "exact", False
            # a bare brand that also begins other customers' names (东湖 of 东湖管委会 and 东湖高新) is theirs too
            siblings = self.prefix.all(matched)
            ids |= set(siblings) if len(siblings) <= MAX_PREFIX_CANDIDATES else set()
            return ids, matched, "exact", True
        return set(), "", "", False

    def match_prefix(self, text: str) -> tuple[set[int], str]:
        return self._prefix(normalize(text))

    # ------------------------------------------------------------ resolution with access
    def resolve(self, text: str, can_see: Callable[[Entry], bool], allow_prefix: bool = True) -> Resolution:
        ids, matched, how, weak = self.match(text)
        if not ids and allow_prefix:
            ids, matched = self.match_prefix(text)
            how, weak = ("prefix", True) if ids else ("", False)
        if not ids:
            return Resolution("not_found")
        visible = sorted(i for i in ids if can_see(self.entries[i]))
        if not visible and (how == "prefix" or weak):
            return Resolution("not_found")  # a bare prefix or brand of others' customers reveals nothing
        if not visible:
            return Resolution("forbidden", [], matched, how, hidden_ids=sorted(ids), weak=weak)
        if len(visible) == 1 and how != "prefix":  # a bare prefix is never taken silently: ask
            return Resolution("found", visible, matched, how, weak=weak)
        return Resolution("ambiguous", visible, matched, how, weak=weak)

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
