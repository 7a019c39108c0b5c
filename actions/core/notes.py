"""Turn a manager's free-text visit note into a structured record.

spaCy (`spacy.blank("zh")` with the jieba segmenter) gives tokens; a PhraseMatcher built from the
product catalog, competitors and the customer's contacts finds products and known people; a Matcher
finds surname+title mentions (张总, 王科长). Dates come from actions.core.dates. Everything keeps the
original text verbatim.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from actions.core import homophones
from actions.core.dates import DateMention, find_dates, roll_forward
from actions.core.facts import ContactFact
from actions.core.loading import HEAVY_LOAD_LOCK

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
TITLES = (
    "总经理", "副总经理", "董事长", "副总", "总监", "总", "主任", "副主任", "科长", "处长", "局长", "副局长",
    "部长", "经理", "院长", "校长", "书记", "主管", "工", "老板", "董", "局", "处", "老师", "厂长", "行长", "所长", "科",
    "副校长", "副院长", "副处长", "副科长", "副部长", "副所长", "副行长", "副厂长", "副经理", "会计",
    "姐", "哥", "师傅",
)
COMPETITORS = ("移动", "联通", "广电")
MET_BEFORE = re.compile(r"(见|拜访|访|和|跟|与|陪|同|及|、|碰到了?|碰见了?|遇到了?|遇见了?)[^，。,.!！?？\s]{0,8}$")
SPOKE_AFTER = re.compile(
    r"^(还|也|又|就|都)?(说|讲|表示|反馈|透露|提到|提了|同意|想|觉得|认为|嫌|要(?!approve)|希望|答应|问|对|带我|带着我|陪我|领我|接待|请(我|吃)|约我|告诉我|给我看|出来接)"
)
DECIDES_AFTER = re.compile(r"^(?!说[^了]|讲|表示)[^，。\s]{0,5}(拍板|审批|批准|批|决定|定夺|点头|签字|签过字|签了字|说了算|approve|sign)")
# The clause before tells of someone else's words: 严主任还提了一句，集团的孙总想搞…
REPORTED = re.compile(r"(提了一句|提了一嘴|提到|透露|听说|据说|听.{1,3}说|说)[，,:：]\s*[^，。,;；]{0,6}$"
                      r"|(?<![我])(姐|哥|总|主任|经理|科长|他|她|他们|她们)说$")  # 婷姐说周主任对方案没意见
# He or she, in the clause right after the person: 找韩主任，她说… (met); 约了张总 结果她开会没见上 (not).
THEY_ACTED = re.compile(r"^(他|她)(说|讲|表示|带我|带着我|陪我|领我|告诉我|给我看|接待|请)")
FOLLOW_CUES = re.compile(r"给|发|报|出|约|回复|答复|安排|准备|启动|跟进|再谈|再约|提交|开标|评估|演示|测速|解决|联系")
CLAUSE_SPLIT = re.compile(r"[，。；;！!？?\n]|\s+")

SIGNAL_RULES = (
    ("价格敏感", re.compile(r"贵|价格|便宜|报价更?低|低[一二两三四五六七八九\d]成|降价|优惠|打折|[一二两三四五六七八九\d]折|比价|资费")),
    ("预算", re.compile(r"预算")),
    ("决策人", re.compile(r"拍板|领导决定|请示|审批|老板定|决策|签字|领导出差")),
    ("满意", re.compile(r"(?<![不没])满意(?!度)|挺好|认可")),
    ("不满", re.compile(r"不满|投诉|掉线|(?<![不怕])慢|卡顿|温度高|中断|断网")),
    ("续约意向", re.compile(r"续约|续签")),
)


@dataclass
class Person:
    name: str
    title: str = ""
    role: str = ""
    known: bool = False  # matched to a CRM contact
    met: bool = True
    verdict: tuple = (0, None)  # (how sure, met?) from the words around the mention

    def as_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "role": self.role, "known": self.known}

    @property
    def label(self) -> str:
        return f"{self.name}（{self.title}）" if self.title and self.title not in self.name else self.name


@dataclass
class ParsedNote:
    text: str
    visit_date: date
    people: list[Person] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)
    competitors: list[str] = field(default_factory=list)
    next_step: str = ""
    follow_up: date | None = None
    mentioned: list[Person] = field(default_factory=list)  # named but not met (e.g. the decision maker)


_nlp_lock = threading.Lock()
# jieba's dictionary cut to common words (scripts/make_segmenter_dict.py): ~10 MiB instead of ~76.
SEGMENTER_DICT = Path(__file__).resolve().parents[1] / "kb" / "segmenter" / "dict.txt"
_PIPELINE = None
TITLE_RE = "|".join(sorted(TITLES, key=len, reverse=True))


@dataclass(frozen=True)
class _Pipeline:
    """Everything that depends only on the catalog: built once, read by every note."""

    nlp: object  # spacy.blank("zh") with the jieba segmenter
    seg: object  # that segmenter: a jieba.Tokenizer over actions/kb/segmenter/dict.txt
    phrases: dict  # lower-cased short name / full name / alias → catalog code
    products: object  # PhraseMatcher: catalog phrases and competitors
    people: object  # Matcher: surname + title (王科长, or 王 / 科长)


def _pipeline() -> _Pipeline:
    """Built once; safe when two threads ask at the same time (see actions.core.loading)."""
    global _PIPELINE
    if _PIPELINE is None:
        with HEAVY_LOAD_LOCK:
            if _PIPELINE is None:
                import jieba
                import spacy
                from spacy.matcher import Matcher, PhraseMatcher

                from actions.kb.loader import products

                jieba.setLogLevel(60)
                small = str(SEGMENTER_DICT)
                if not jieba.dt.initialized:
                    jieba.set_dictionary(small)  # spaCy warms the global segmenter up: not with 349k words
                seg = jieba.dt if jieba.dt.dictionary == small else jieba.Tokenizer(small)
                for p in products():
                    for alias in p.spoken:
                        seg.add_word(alias, freq=20000)
                for t in TITLES:
                    seg.add_word(t, freq=2000)
                nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
                nlp.tokenizer.jieba_seg = seg  # the same cut in every process, whatever else loaded jieba
                phrases = {
                    name.lower(): p.code
                    for p in products()
                    for name in (p.short, p.name, re.split(r"\s*[（(]", p.name)[0], *p.aliases, p.code)
                    if name
                }
                pm = PhraseMatcher(nlp.vocab, attr="LOWER")
                for alias, code in phrases.items():
                    pm.add(code, [nlp.make_doc(alias)])
                for comp in COMPETITORS:
                    pm.add("COMP_" + comp, [nlp.make_doc(comp)])
                people = Matcher(nlp.vocab)
                people.add("PERSON", [[{"TEXT": {"REGEX": f"^[{SURNAMES}]({TITLE_RE})$"}}]])
                people.add("PERSON2", [[{"TEXT": {"REGEX": f"^[{SURNAMES}]$"}}, {"TEXT": {"REGEX": f"^({TITLE_RE})$"}}]])
                _PIPELINE = _Pipeline(nlp, seg, phrases, pm, people)
    return _PIPELINE


def _nlp():
    """spacy.blank("zh") with jieba (loads the whole extraction pipeline on first use)."""
    return _pipeline().nlp


GENERIC_LINE = "专线"
# A bare 专线 is 互联网专线 (its catalog alias) unless the customer only has another kind of line.
LINE_PRODUCTS = ("INTERNET_LINE", "MAN_LINE", "SDH_LINE")


_NOT_TALKED = r"((没有?|未|不|别)(怎么)?(谈|聊|提|说|讲|涉及|问)(到|起|过)?|没顾上|没来得及(说|谈|推|聊)?)"
_PRODUCT_RUN = r"Ⓟ(?:[\s、,，/和与及跟]*Ⓟ)*"
# 没谈IDC 主要聊城域网 / V网 集团短信 都没谈: the products named as not discussed
NOT_DISCUSSED = re.compile(rf"(?:{_NOT_TALKED}|不是要?(扩|加|上|买|装|做|弄)?)[\s、,，]*(?P<after>{_PRODUCT_RUN})|(?P<before>{_PRODUCT_RUN})[\s、,，]*(这次|这回|这趟|今天)?(都|也)?{_NOT_TALKED}"
    r"(?=$|[\s,，。；;!！]|就|而是|主要|只)")


def _negated_products(text: str, mentions: list[tuple[int, int, str]]) -> set[str]:
    """Codes every mention of which is named as not discussed (a product also discussed stays)."""
    if not mentions or not re.search(rf"{_NOT_TALKED}|不是", text):
        return set()
    skeleton, where, last = [], [], 0  # the text with each product mention as one Ⓟ
    for start, end, code in sorted(mentions):
        skeleton.append(text[last:start])
        where.append((sum(map(len, skeleton)), code))
        skeleton.append("Ⓟ")
        last = end
    skeleton.append(text[last:])
    flat = "".join(skeleton)
    denied: list[int] = []
    for m in NOT_DISCUSSED.finditer(flat):
        run = m.group("after") if m.group("after") is not None else m.group("before")
        offset = m.start("after") if m.group("after") is not None else m.start("before")
        denied += [offset + i for i, ch in enumerate(run) if ch == "Ⓟ"]
    no = {code for pos, code in where if pos in denied}
    yes = {code for pos, code in where if pos not in denied}
    return no - yes


def extract(
    text: str,
    today: date,
    contacts: Sequence[ContactFact] = (),
    held_products: Sequence[str] = (),
    customer_names: Sequence[str] = (),
) -> ParsedNote:
    pipe = _pipeline()  # loads spaCy under the shared lock before anything below imports from it
    from spacy.util import filter_spans

    with _nlp_lock:  # the segmenter's dictionary is shared; keep additions and tokenizing together
        for c in contacts:
            pipe.seg.add_word(c.name, freq=20000)
        for n in customer_names:
            pipe.seg.add_word(n, freq=20000)
        doc = pipe.nlp.make_doc(text)

    # ---------------- products and competitors: PhraseMatcher on lower-cased text
    phrases = pipe.phrases
    spans = filter_spans([doc[s:e] for _, s, e in pipe.products(doc)])
    products: list[str] = []
    competitors: list[str] = []
    covered: list[tuple[int, int]] = []
    mentions: list[tuple[int, int, str]] = []

    def add_product(alias_text: str, code: str, start: int, end: int) -> None:
        if any(s < end and start < e for s, e in covered):
            return  # 专线 inside 城域网专线; 上云 overlapping 云桌面 (上云桌面)
        if alias_text in DELIVERY_WORDS and re.search(r"[发寄传到]", text[max(0, start - 8) : start]):
            return  # 把方案发曹主任邮箱: how the manager sends it, not the product
        covered.append((start, end))
        if alias_text == GENERIC_LINE:
            held = [c for c in LINE_PRODUCTS if c in held_products]
            code = held[0] if held else code
        mentions.append((start, end, code))
        if code not in products:
            products.append(code)

    found = [(span.text.lower(), span.start_char, span.end_char) for span in spans]
    # Character fallback for aliases jieba glued to a neighbour (e.g. "聊了5G专网和云桌面"), and
    # aliases typed with a same-sounding character (云卓面); the longest claims the characters first.
    low = text.lower()
    found += [(alias, m.start(), m.end()) for alias in phrases for m in re.finditer(re.escape(alias), low)]
    found += homophones.find(text, phrases)
    for alias, start, end in sorted(found, key=lambda f: (-(f[2] - f[1]), f[1])):
        if alias in COMPETITORS:
            if alias not in competitors:
                competitors.append(alias)
        elif alias in phrases:
            add_product(alias, phrases[alias], start, end)
    for comp in COMPETITORS:
        if comp in text and comp not in competitors:
            competitors.append(comp)
    negated = _negated_products(text, mentions)
    products = [p for p in products if p not in negated]

    # ---------------- people: known contacts, then surname + title
    people: list[Person] = []
    taken: list[tuple[int, int]] = []
    positions: dict[int, int] = {}
    spans: dict[int, int] = {}  # where each mention ends

    def add_person(start: int, end: int, person: Person) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        people.append(person)
        positions[id(person)] = start
        spans[id(person)] = end

    for c in contacts:
        for m in re.finditer(re.escape(c.name), text):
            title = _title_after(text, m.end())  # "冯敏主任": the title typed after the name
            add_person(m.start(), m.end() + len(title), Person(c.name, title or c.title, c.role, True))
    for c in contacts:  # 婷姐, 军哥: the given name's last character and 姐/哥, for the one contact it fits
        if len(c.name) < 2 or sum(1 for x in contacts if x.name[-1] == c.name[-1]) != 1:
            continue
        for m in re.finditer(rf"{re.escape(c.name[-1])}[姐哥]", text):
            add_person(m.start(), m.end(), Person(c.name, c.title, c.role, True))
    for c in contacts:  # 林朋 for 林鹏: the name typed with a same-sounding character
        key = homophones.sound_key(c.name)
        for i in range(len(text) - len(c.name) + 1):
            window = text[i : i + len(c.name)]
            if key and window != c.name and window[0] in SURNAMES and homophones.sound_key(window) == key:
                title = _title_after(text, i + len(window))
                add_person(i, i + len(window) + len(title), Person(c.name, title or c.title, c.role, True))
    for m in re.finditer(rf"姓([{SURNAMES}])的({TITLE_RE})", text):  # 姓程的副主任
        mention = m.group(1) + m.group(2)
        match = _match_contact(mention, contacts)
        add_person(m.start(), m.end(), Person(match.name, match.title, match.role, True) if match else Person(mention, m.group(2), "", False))
    candidates = [(doc[s:e].start_char, doc[s:e].end_char) for _, s, e in pipe.people(doc)]
    # Character fallback: jieba may glue a surname to the previous word (信息科王 / 科长).
    for m in re.finditer(f"[{SURNAMES}](?:{TITLE_RE})", text):
        candidates.append((m.start(), m.end()))
    # 小刘, 老王: colleagues of the customer named the way everyone calls them.
    for m in re.finditer(f"[小老][{SURNAMES}]", text):
        if not NOT_A_NICKNAME.match(text, m.start()) and not any(s <= m.start() < e for s, e in candidates):
            candidates.append((m.start(), m.end()))
    for start, end in sorted(set(candidates)):
        mention = text[start:end]
        title = mention[1:]
        if any(s <= start < e for s, e in taken):
            continue
        if start > 0 and text[start - 1] in SURNAMES and mention[0] not in "小老":
            continue  # part of a longer name such as 冯敏主任 — handled by known contacts or skipped
        match = _match_contact(mention, contacts)
        just_before = next((p for p in people if spans[id(p)] == start and p.name[:1] == mention[:1]), None)
        if just_before is not None and mention[0] not in "小老":
            continue  # 黄洋黄校长: the name, then how one calls him
        if match:
            add_person(start, end, Person(match.name, match.title, match.role, True))
        elif not NOT_THE_CUSTOMERS.search(text[max(0, start - 20) : start]):
            add_person(start, end, Person(mention, "" if mention[0] in "小老" else title, "", False))

    people.sort(key=lambda p: positions[id(p)])  # in the order the note names them
    masked = text  # the customer's name is no evidence: 去了汉阳仁和然后唐院长… is not 和唐院长
    for n in sorted((n for n in customer_names if n), key=len, reverse=True):
        masked = masked.replace(n, "Ⓒ" * len(n))
    for p in people:
        p.verdict = _verdict(masked, positions[id(p)], spans[id(p)], sorted(taken))
    for m in re.finditer(r"没(见|碰|遇)(到|着|上)?(他|她)", text):  # 胡总很不满 今天没见到他
        before_it = [p for p in people if positions[id(p)] < m.start()]
        if before_it:
            before_it[-1].verdict = (3, False)
    _decide_met(people)
    met = [p for p in people if p.met]
    mentioned = [p for p in people if not p.met]

    # ---------------- dates, next step, follow-up
    mentions = find_dates(text, today)
    visit_date, follow, clause = _pick_dates(text, mentions, today)
    next_step = _next_step(text, follow, clause)

    signals = [name for name, rx in SIGNAL_RULES if rx.search(text)]
    for comp in competitors:
        signals.append(f"竞争对手:{comp}")
    for p in mentioned:
        if ("决策人" in signals and p.role == "economic") or DECIDES_AFTER.search(text[spans[id(p)] :][:8]):
            signals.append(f"需决策者{p.name}批准")
    return ParsedNote(
        text=text,
        visit_date=visit_date,
        people=_dedupe(met),
        products=products,
        signals=list(dict.fromkeys(signals)),
        competitors=competitors,
        next_step=next_step,
        follow_up=follow.day if follow else None,
        mentioned=_dedupe(mentioned),
    )


# Who was met. Looks at the words around the mention, in its clause (and the next clause when it
# goes on about the same person: 约了张总 结果她开会没见上).
NOT_MET_BEFORE = re.compile(
    r"(没|未|没能|没有)(见|碰|遇|约)(到|上|着|成)?\s*$|见不到\s*$|电话(里)?(跟|和|与)\s*$|(听说|据说|转告|让我找|通过)[^，。,;；]{0,4}$|本来约的?$|原来约的?$"
)
# A meeting still to come says nothing about today: 下周再约唐院长 (met today if the note says so).
LATER_BEFORE = re.compile(
    r"(下次约|再约|要约|准备约|打算约|想约|约一下|[前号日]约)[^，。,;；]{0,4}$"
    r"|(下周|明天|后天|改天|回头|再|要|准备|打算|下次|过两天)(去)?(找|约|见|拜访|碰)(一下)?[^，。,;；]{0,3}$|(让|叫|交给|由)$"
    r"|(下周|下礼拜|下星期|明天|后天|改天|回头|过几天|月底|之后)[^，。,;；]{0,10}(去找|去见|找|见|约|拜访|去跟|跟|和)$"
)
NOT_MET_AFTER = re.compile(
    r"^[^，。,;；]{0,10}?(不在|没在|没来|没到|出差|外出|请假|休假|在外地|在开会|开会没|开会去了|去开会|临时有会|没空|没时间|没见上|没见到|没见着|没碰上|没碰到|"
    r"没见成|没约上|联系不上|没露面|没能见|见不上|没见|没参加|去开.{0,4}会|缺席|没出席|没到场|都没来|调走|不露面|去外地|在外地|"
    r"只打了电话|电话里|打了个电话|通了电话|只通了电话|人在(外地|上海|北京|深圳|广州|省里|外面|国外)|人不在|出国|开会去了|去省局|去.{1,4}开会|"
    r"未能(参加|出席|到场|见)|未参加|未出席|未到场|未见|休(产|病|年|婚)?假|产假|请了?(病|事)?假|电话(里)?聊|没见面|未见面)"
)
NOT_A_NICKNAME = re.compile(r"小于|小白|小龙虾|小金库|小石子|小方向|小江湖|老白干|老江湖|老黄历|老毛病|老方法|老地方|老万年|老龙头|老石头|小高层|老高层")
MET_AFTER = re.compile(
    r"都见(了|到了|着了|过了)|都在|也在|在场|一起见|都来了|也来了|见上了|见到了|终于见|(今天|上午|下午|刚)?见了|见过了|陪同|陪着|接待|"
    r"亲自见|见的|接的|接待的|过来(了)?(骂|说|聊|看|坐)|后来也?(过来|进来|来)了?|后半段(才)?(进来|来|过来)|中途(进来|来了|过来)|也过来了|"
    r"一起(吃|聊|谈|开)|[个人]都在|(?<![不没])在$|(?<![不没])在(?=[\s，,])|三个人|几个人|碰上了|碰到了|也?过来了|也来了|也过来|也来(听|看|参加|旁听)|"
    r"(说|聊|讲)了几句|进来了|也进来|赶过来|(?<![不没])在(机房|办公室|值班|单位|现场|会议室|楼下|门口|厂里|店里|营业厅)|(?<![没不未])(参加|出席)|(?<![没不])出来"
)
FUTURE_AFTER = re.compile(r"^(?!让我|叫我|要我|让咱|要咱)[^，。,;；\s]{0,4}(下周|明天|后天|回来(?!了)|以后|过几天|出差回|再(说|谈|定)|在考虑|考虑)|^那边|^那里")
OTHER_PERSON = re.compile(rf"领导|老板|他们|院长|局长|行长|校长|[{SURNAMES}](?:{TITLE_RE})")
SHARED = re.compile(r"\s*(都|一起|全|全都|几个人|[两三四五]个人|他们都|这几个|在(?=$|[\s，。,;；!！]|场)|也在|后来也?(过来|来|进来)|也过来)")
# Our own people and a competitor's are not whom the manager visited: 我方：李强、网络部工程师王工;
# 安排我们工程师小刘上门; 碰到联通的销售小王.
NOT_THE_CUSTOMERS = re.compile(
    r"(我方|我司)[：:][^。；;]{0,18}$"
    r"|(我们|咱们|我司|移动|联通|广电|电信)[\u4e00-\u9fff]{0,4}?(的|那边的?|公司的?)?(销售|客户经理|工程师|技术员?|同事|售前|售后|装维|业务员)$"
    r"|带(了|着)(我们|咱们)?[^，。；;\s]{0,6}$"
)
GENERIC_TITLES = ("工", "老师", "姐", "哥", "师傅", "科")
MIDDLE_TITLES = ("主任", "副主任", "经理", "科长", "部长", "主管")
DELIVERY_WORDS = {"邮箱", "邮件", "email"}
# Waiting for the customer is no step of the manager's: 他说这周内定 我等他消息.
WAITING = re.compile(r"等(他|她|他们|对方|客户)?的?(消息|通知|回复|回音|电话|答复)")
# A department named before a person in a list: 胡总和信息部方经理都在, 马总跟采购朱经理在.
DEPARTMENT = (r"(?:(?:信息|采购|财务|技术|行政|综合|工程|后勤|运维|网络|科技|办公室|市场|销售|IT|it)(?:部|科|处|中心|室)?的?"
              r"|[\u4e00-\u9fff]{1,3}(?:部|科|处|中心|室)的)")  # 电教处的刘主任
# Said later of someone, before anyone else is named: a meeting that did not happen.
ABSENT_LATER = re.compile(r"没见成|没见上|没见着|没见到|没碰上|没能见|只在电话里|电话里聊|只打了电话|电话约了")
# 、信息中心主任周明 / 、采购部经理何勇: a formal list puts each one's department and title first
_BEFORE_NAME = rf"(?:{DEPARTMENT}|(?<=[、，,和与及])[^\s\W说讲了都和跟与及是在见去等让]{{0,6}}?(?:{TITLE_RE}))?"
MET_LABEL = re.compile(r"(会见|参会|接待|出席|参加人员|参会人员|在场|见面人员|对方参会人员?|客户方|对方)[：:]\s*$")
CONTINUES = re.compile(r"^\s*(他|她|人|结果|但|可|不过|可惜|却|而)")


def _list_gap(separators: str) -> str:
    """What may stand between two people of one list: a title in brackets (杨刚（总经理）、王明), then
    separators and joining words."""
    return rf"(?:[（(][^）)]{{0,12}}[）)])?(?:[{separators}]|那个|这个|还有|以及)*"


def _group_end(text: str, end: int, mentions: list[tuple[int, int]]) -> int:
    """Where a run of people named together ends, so they share what follows: 黄总和周主任, 钱局孙科长;
    across spaces only when what follows is said of them all (钱局 孙科 都在, 郭总 张主任 胡丽三个人一起见的)."""
    def run(end: int, gap_re: str) -> int:
        while True:
            nxt = None
            for prefix in (rf"{DEPARTMENT}?", _BEFORE_NAME):  # 黄总和周主任; 张建国、副总经理黄伟
                gap = re.match(gap_re + prefix, text[end:]).end()
                nxt = next((m for m in mentions if m[0] == end + gap), None)
                if nxt is not None:
                    break
            if nxt is None:
                return end
            end = nxt[1]

    tight = run(end, _list_gap("、和跟与及,，"))
    wide = run(end, _list_gap(r"\s、和跟与及,，"))
    if wide != tight and SHARED.match(text[wide:]):
        return wide
    return tight


def _group_start(text: str, start: int, mentions: list[tuple[int, int]], wide: bool = False) -> int:
    """Where the run of people a mention closes begins (何总、罗经理; 钱局长和孙科长; with `wide`, a list
    typed with spaces: 见了周明 王磊)."""
    while True:
        prev = None
        for prefix in (rf"{DEPARTMENT}?", _BEFORE_NAME):
            gap = re.search(_list_gap(r"\s、和跟与及" if wide else "、和跟与及") + prefix + "$", text[:start])
            prev = next((m for m in mentions if m[1] == gap.start() and m[0] < start), None) if gap and gap.end() > gap.start() else None
            if prev is not None:
                break
        if prev is None:
            return start
        start = prev[0]


def _verdict(text: str, start: int, end: int, mentions: list[tuple[int, int]] = ()) -> tuple[int, bool | None]:
    """(how sure, met?) from the words around one mention: 3 an explicit "not met" (不在, 没见到,
    听说), 2 explicit evidence (见了X, X说, X也在; X拍板 = not met), 1 the note opens with the person,
    0 nothing said (decided by _decide_met)."""
    alone = end >= len(text) or text[end].isspace()  # 见了周明 王磊 城域网…: 王磊 is one of a list
    first = _group_start(text, start, list(mentions), wide=alone)  # 和何总、罗经理谈了: 罗经理 shares 和
    clause_start = max(text.rfind(ch, 0, first) for ch in "，。,;；！!？?\n ：:、") + 1
    before = text[clause_start:first]
    reported = REPORTED.search(text[max(0, clause_start - 12) : first])
    own_after = text[end:]
    end = _group_end(text, end, list(mentions))
    later = [m[0] for m in mentions if m[0] >= end]
    after = text[end : min(later)] if later else text[end:]  # 邓雪也在那个唐院长没在: 没在 is 唐院长's
    own_end = len(text) - len(own_after)
    nearest = [m[0] for m in mentions if m[0] >= own_end]
    own_after = text[own_end : min(nearest)] if nearest else own_after
    nxt = CLAUSE_SPLIT.split(after, maxsplit=1)
    this_rest = nxt[0] if nxt else ""
    follow = after[len(this_rest):].lstrip("，。,;；！!？? \n")
    telegraphic = this_rest.strip() == ""  # 梁董 只打了电话: the next fragment is about them
    next_clause = CLAUSE_SPLIT.split(follow, maxsplit=1)[0] if (CONTINUES.match(follow) or telegraphic) else ""
    if NOT_MET_BEFORE.search(before):
        return 3, False
    if LATER_BEFORE.search(before):
        return 0, False  # 12月5号前约朱主任再谈: a meeting to come, weaker than being listed as there today
    if (reported or re.fullmatch(r"\s*说", before)) and not MET_BEFORE.search(before) and not MET_AFTER.match(own_after.lstrip()[:6]):
        return 1, False  # 严主任提了一句，集团的孙总想搞… / 罗斌 说何总对报价挺满意: someone else's words about them
    neg = NOT_MET_AFTER.search(this_rest)
    if SPOKE_AFTER.match(own_after) and not DECIDES_AFTER.match(own_after):
        between = this_rest[: neg.start(1)] if neg else ""
        if not neg or OTHER_PERSON.search(between):
            return 2, True  # 韩主任说领导出差了: the one who speaks was met (领导 was away)
        return 3, False  # 张总同意了但人没来
    if MET_BEFORE.search(before) and not NOT_MET_AFTER.match(own_after.lstrip()[:6]):
        return 2, True  # 见了林主任 (黄总高总都不在): the words right before the name say it
    if MET_LABEL.search(text[:clause_start]) and not NOT_MET_AFTER.match(own_after.lstrip()[:6]):
        return 2, True  # 会见：总经理胡振华、信息部经理方敏
    pos = MET_AFTER.search(this_rest)
    if neg and not (pos and pos.start() < neg.start()):
        return 3, False
    if DECIDES_AFTER.search(own_after[:8]) and not MET_BEFORE.search(before):
        return 0, False  # 王总拍板了: decides, was not met (unless the note lists them as there: 罗总 陈总 … 罗总拍板了)
    if not pos and NOT_MET_AFTER.search(next_clause):
        return 3, False  # 约了张总 结果她开会没见上
    if not pos and THEY_ACTED.match(follow):
        return 2, True  # 找韩主任，她说马总在开会
    if pos or MET_BEFORE.search(before):
        return 2, True
    if FUTURE_AFTER.match(own_after):
        return 1, False  # 黄总下周回来: talked about, not met
    if ABSENT_LATER.search(after):
        return 2, False  # 严军主任今天在码头，只在电话里聊了，没见上面: said before anyone else is named
    if start <= 3 or _opening_list(text, start, end, mentions):
        return 1, True
    return 0, None


def _opening_list(text: str, start: int, end: int, mentions) -> bool:
    """明珠 胡总 方敏 续约…; 楚天酒店罗经理 续约谈下来了; 兴业税务 马主任 IT主管林鹏 邮箱…: the people a
    telegraphic note lists right after the customer's name, each standing alone before a space, are
    the ones met (not 汉阳仁合 唐院长让秘书转达: what follows says more)."""
    if end < len(text) and not text[end].isspace():
        return False
    words = text[:start].split()
    pos, rest = 0, []
    for w in words:
        pos = text.index(w, pos)
        left = w
        for m in mentions:
            if pos <= m[0] and m[1] <= pos + len(w):
                left = left.replace(text[m[0] : m[1]], " ")
        rest += [x for x in left.split() if not re.fullmatch(rf"(it|IT)?({TITLE_RE})", x)]
        pos += len(w)
    rest = [w for w in rest if not _FILLER.fullmatch(w) and not re.fullmatch(DEPARTMENT, w)]
    return len(rest) <= 1 and all((len(w) <= 12 and not re.search(r"[见去聊谈了说在]", w)) or _VISIT_OPENING.fullmatch(w) for w in rest)


_FILLER = re.compile(r"那个|嗯+|呃+|然后|就是|那啥|这个|((今天|昨天|前天|上午|下午|早上|中午|晚上|周末|(上)?周[一二三四五六日天])(去的)?)+")
# 今天去了宜昌宏远物流 刘强 郭洋 …: where I went, then who was there
_VISIT_OPENING = re.compile(r"(今天|昨天|前天|上午|下午|早上|刚才?|刚刚)?(去了(一?趟)?|去的|到了|拜访了|走访了|跑了(一?趟)?)[^\s，。,]{2,16}")


def _decide_met(people: list) -> None:
    """One verdict per person over all their mentions (the surest wins; an explicit "not met" beats
    "met" at the same certainty); someone nothing is said about counts as met only if nobody else is
    (the first person named is usually the one met)."""
    best: dict[str, tuple[int, bool | None]] = {}  # name -> surest verdict
    for p in people:
        strength, met = p.verdict
        old = best.get(p.name)
        if old is None or strength > old[0] or (strength == old[0] and met is False):
            best[p.name] = (strength, met)
    anyone = any(v[1] for v in best.values())
    for p in people:
        strength, met = best[p.name]
        if met is None:
            # Someone named with nothing said about them: a note that lists people (华钢 周明 王磊 …)
            # met them; one that already says who was met only mentions the others.
            met = not anyone
        p.met = met


def _match_contact(mention: str, contacts: Sequence[ContactFact]) -> ContactFact | None:
    """The CRM contact a surname + title mention stands for: 黄总 for 黄伟 (副总经理), 周主任 for 周明
    (信息中心主任); never 王总 for 王磊 (科长)."""
    exact = [c for c in contacts if mention in c.mentions()]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        return None
    if mention[0] in "小老" and len(mention) == 2:  # 小邓: the one contact with that surname, not a boss
        same = [c for c in contacts if c.name.startswith(mention[1])]
        junior = len(same) == 1 and not re.search(r"总|局长|院长|行长|校长|书记|董|老板|CIO|CTO|CEO", same[0].title)
        return same[0] if junior else None  # 小吴 for 吴婷 (副主任), never for a boss
    surname, title = mention[0], mention[1:]
    loose = [c for c in contacts if c.name.startswith(surname) and title and title in c.title]
    if not loose and title == "总":  # 沈总 for 沈洁 (CIO)
        loose = [c for c in contacts if c.name.startswith(surname) and re.search(r"总|(?<![A-Za-z])C[A-Z]O(?![A-Za-z])|董事", c.title)]
    if len(loose) == 1:
        return loose[0]
    if title in GENERIC_TITLES:  # 郭工, 胡老师, 张姐: the one contact with that surname
        same = [c for c in contacts if c.name.startswith(surname)]
        return same[0] if len(same) == 1 else None
    if title in MIDDLE_TITLES:  # 方主任 for 方敏 (信息部经理): a middle manager by another middle title
        same = [c for c in contacts if c.name.startswith(surname)]
        if len(same) == 1 and any(t in same[0].title for t in MIDDLE_TITLES):
            return same[0]
    return None


def _title_after(text: str, pos: int) -> str:
    for t in sorted(TITLES, key=len, reverse=True):
        if text.startswith(t, pos):
            return t
    return ""


def _dedupe(people: list[Person]) -> list[Person]:
    seen, out = set(), []
    for p in people:
        if p.name not in seen:
            seen.add(p.name)
            out.append(p)
    return out


# A week, month or year without a day is not a date to follow up on ("下周给方案" → none).
VAGUE = re.compile(r"^(这|本|下|上|今|明|去)?(个)?(周|星期|礼拜|月|年)$")
# Who does what in a clause: the manager's own promise is the follow-up, not the customer's plan.
MANAGER_SUBJECT = re.compile(r"(我|我们|咱|咱们|俺|本人)(?!的)")
CUSTOMER_SUBJECT = re.compile(
    rf"^(他|她|他们|她们|对方|客户|老板|领导|甲方|人家|院里|局里|行里|厂里|公司|集团|[{SURNAMES}](?:{TITLE_RE})|"
    r"[\u4e00-\u9fff]{2,3}(说|表示|透露|讲))"
)
MANAGER_VERBS = re.compile(
    r"给|发|报|出|提交|准备|安排|约|带|送|拿|做|写|整理|跟进|回访|演示|测|上门|过去|再去|联系|协调|申请|落实|确认|催|对接|找|碰|"
    r"回复|答复|沟通|处理|解决|办|启动|交|补|改|调|开通|装|签|了解|研究|核实|回去"
)
VISIT_WORDS = re.compile(r"去|见|拜访|走访|聊|谈|开会|吃饭|碰|来|到(?!期)|访|约|陪|汇报|演示|上门|(日期|时间)[：:]")
CONTRACT_DATE = re.compile(r"合同|到期|签的|签约|续约|招标|开标|上线|交付")
VAGUE_TIME = re.compile(r"下周|下个?月|回头|改天|过两天|过几天|年后|节后|月中|月初")
NEGATED = re.compile(r"没|不|别|未")
# Where a note typed without punctuation turns (那个…然后就是…我就说…): pieces to pick the step from.
RUN_ON = re.compile(r"然后|就是说|我就说|我说(?=那)|那行那")
# A step still to take today: 今儿下班前把报价发他, 今天安排上门.
TODAY_PROMISE = re.compile(r"\s*(我|就)?(下班前|(中午|晚上|下午)前|把.{1,8}(发|给|报|送)|安排|上门|回复|答复)")
DONE_ALREADY = re.compile(r"(发|给|报|约|交|送|办|做)(了|过)")


def _clause_at(text: str, pos: int) -> tuple[int, int]:
    start = 0
    for m in CLAUSE_SPLIT.finditer(text):
        if m.end() <= pos:
            start = m.end()
        elif m.start() >= pos:
            return start, m.start()
    return start, len(text)


def _side(clause: str) -> str:
    """manager | customer | neither: whose step a clause is (我下周三前出方案 / 老板月底定预算)."""
    if MANAGER_SUBJECT.search(clause) or re.search(r"要我们|让我们|让我|要我|要求(我方|我们|我)|要求[^，。；;]{0,10}前(提交|提供|报|出|发|给|交)", clause):
        return "manager"  # 客户要求12月8日前提交报价: the manager's step, on the customer's date
    if CUSTOMER_SUBJECT.match(clause.strip()):
        return "customer"
    return "manager" if MANAGER_VERBS.search(clause) else "neither"


def _pick_dates(text: str, mentions: list[DateMention], today: date):
    """(visit date, follow-up mention, its clause). The visit is the first past or present date that
    is not a deadline; the follow-up is the first future or deadline date of the manager's own step,
    else of a clause that is nobody's, else a customer's date when the manager promised something."""
    visit_date, told = today, False
    candidates: list[tuple[str, DateMention, str]] = []
    for m in mentions:
        if VAGUE.match(m.text):
            continue
        a, b = _clause_at(text, m.start)
        clause = text[a:b]
        after = text[m.end : m.end + 8]
        future_cue = after.lstrip().startswith("再") or bool(FOLLOW_CUES.match(after.lstrip("再")))
        side = _side(clause)
        near = text[max(0, m.start - 8) : m.end + 4]  # 周末去的 周六上午: the visit word may sit just before
        if (re.fullmatch(r"(周|星期|礼拜)[一二三四五六日天]", m.text) and m.day > today
                and re.search(r"去的|去了|见的|见了|拜访了|周末", near) and not m.before):
            m = DateMention(m.text, m.start, m.end, m.day - timedelta(days=7), m.before)  # 周末去的 周六: the one just past
        if m.day <= today and not m.before and side != "manager" and not (m.day < today and future_cue) and not (m.day == today and future_cue):
            first = m.start == mentions[0].start and m.start <= 10  # hzgt 昨天下午 吴婷 …: the note opens with when
            if not told and (m.start <= 4 or first or VISIT_WORDS.search(clause) or re.search(r"去的|去了|见的", near)) and not CONTRACT_DATE.search(clause):
                visit_date, told = m.day, True  # 昨天去了华钢; not 合同昨天到期
            continue
        day = roll_forward(m, today) if m.day >= today or m.before or side == "manager" else m.day
        if day < today:
            day = roll_forward(m, today)
        step = RUN_ON.split(text[m.end : m.end + 16])[0]  # what is said right after 今儿
        if day < today or (day == today and not m.before and not (TODAY_PROMISE.match(step) and not DONE_ALREADY.search(step))):
            continue  # done today is not a follow-up (我今天让后台查); 今儿下班前把报价发他 / 今儿安排上门 is
        candidates.append((side, DateMention(m.text, m.start, m.end, day, m.before), clause))
    for side, m, clause in candidates:  # 我下周三前把报价发给胡总 before 续约胡总说等2月初董事会定 (约 in 续约)
        if side == "manager" and re.match(r"\s*(我|我们|我方)(?!们?的)", clause):
            return visit_date, m, clause
    for wanted in ("manager", "neither"):
        for side, m, clause in candidates:
            if side == wanted:
                return visit_date, m, clause
    promised = any(_side(c) == "manager" and not DONE_ALREADY.search(c) and not WAITING.search(c)
                   and (MANAGER_SUBJECT.search(c) or re.search(r"(前|之前|以前|内)(把|给|发|报|出|提交|送|安排)|^(给|发|报|出|送)", c))
                   for c in CLAUSE_SPLIT.split(text) if c)  # 400并发不够 promises nothing
    if candidates and promised:
        side, m, clause = candidates[0]
        return visit_date, m, ""  # the customer's date, for the manager's undated promise
    return visit_date, None, ""


_DATE_WORDS = re.compile(r"^(下班|中午|晚上|下午|上午|早上)?(之前|以前|前|为止)")


def _next_step(text: str, follow: DateMention | None, clause: str) -> str:
    """The manager's step: the follow-up's clause without its date, or the last clause in which the
    manager promises something."""
    if follow is not None and clause:
        rest = _DATE_WORDS.sub("", text[follow.end :].lstrip())
        own = CLAUSE_SPLIT.split(rest, maxsplit=1)[0] if rest else ""
        if re.fullmatch(r"(给|发|交给|送|发给)(他|她|他们|她们|对方)", own):
            own = CLAUSE_SPLIT.split(text[: follow.start].rstrip())[-1]  # 拿个挽留方案出来 后天前给他
        if len(own) < 2 and not re.fullmatch(r"[签谈去批定约交测装]", own):  # "把报价发过去 下周三前" → the words before the date
            own = CLAUSE_SPLIT.split(text[: follow.start].rstrip())[-1]  # (明天签: 签 is the step)
        return _tidy(own)
    best, rank = "", 0
    for c in [piece for clause in CLAUSE_SPLIT.split(text) for piece in RUN_ON.split(clause) if piece]:
        if _side(c) != "manager" or DONE_ALREADY.search(c) or NEGATED.search(c) or not (FOLLOW_CUES.search(c) or MANAGER_VERBS.search(c)):
            continue
        r = 3 if MANAGER_SUBJECT.search(c) else 2 if VAGUE_TIME.search(c) else 1  # 我…  > 下周找周明 > 给食堂用
        if r >= rank:
            best, rank = c, r
    return _tidy(best) if best else ""


def _tidy(clause: str) -> str:
    clause = re.sub(r"^(把|要|得|需要|再|就|会|我们|我|咱们|咱|答应|承诺|负责)+", "", clause.strip())
    return clause[:40]
