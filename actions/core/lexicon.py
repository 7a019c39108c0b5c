"""Words the Chinese segmenter must keep whole: catalog names/aliases, titles, demo names.

The jieba dictionary used for training (actions/kb/jieba/userdict.txt) is generated from these
by `kam kb jieba`; a test keeps the committed file in sync. At run time the resolver and the note
extractor match customer names on characters, so customers imported later need no retraining.
"""

from __future__ import annotations

from pathlib import Path

TITLE_WORDS = (
    "主任", "科长", "处长", "局长", "副局长", "院长", "校长", "部长", "经理", "总经理", "副总",
    "董事长", "总监", "主管", "工程师", "书记", "老板", "CIO", "CTO",
)
BUSINESS_WORDS = (
    "拜访", "跟进", "报价", "续约", "挽留", "套餐", "优惠", "折扣", "合同", "到期", "投诉", "故障",
    "工单", "消费", "账单", "联系人", "关键人", "决策人", "预警", "风险", "简报", "话术",
    "双路由", "专线", "机柜", "预存话费", "水晶", "黄金", "宝石", "白金", "翡翠", "钻石",
    "获取期", "提升期", "成熟期", "衰退期", "离网期", "拜访记录", "待办",
)


def dictionary_words() -> list[str]:
    from actions.db.demo import CORE
    from actions.kb.loader import products

    words: list[str] = []
    for p in products():
        words += list(p.spoken)
    for c in CORE:
        words += [c.name, *c.aliases]
        words += [name for name, *_ in c.contacts]
    words += list(TITLE_WORDS) + list(BUSINESS_WORDS)
    words += training_customer_names()
    seen, out = set(), []
    for w in words:
        w = w.strip()
        if len(w) >= 2 and " " not in w and w not in seen:
            seen.add(w)
            out.append(w)
    return out


def jieba_dictionary_text() -> str:
    return "".join(f"{w} 2000 n\n" for w in dictionary_words())


def write_jieba_dictionary(directory: Path | None = None) -> tuple[Path, int]:
    directory = directory or Path(__file__).resolve().parents[1] / "kb" / "jieba"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "userdict.txt"
    text = jieba_dictionary_text()
    path.write_text(text, encoding="utf-8")
    return path, text.count("\n")


def training_customer_names(data_dir: Path | None = None) -> list[str]:
    """Every `[name](customer)` annotated in data/nlu, so entity spans align with tokens."""
    import re

    data_dir = data_dir or Path(__file__).resolve().parents[2] / "data" / "nlu"
    names: list[str] = []
    for f in sorted(data_dir.glob("*.yml")):
        names += re.findall(r"\[([^\]]+)\]\(customer\)", f.read_text(encoding="utf-8"))
    return [n for n in names if not n.isascii()]
