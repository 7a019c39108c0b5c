"""Text at the door: control characters out, a cap on what understanding reads, one normal form."""

from __future__ import annotations

import re
import unicodedata

# What the NLU and the cue matchers read at most; a longer message is a note, kept whole.
UNDERSTAND_MAX_CHARS = 500
# What the note parser reads at most (the whole text is still saved).
PARSE_MAX_CHARS = 1500

_SPACE_BETWEEN_CJK = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u9fff\uff00-\uffef])")
_SPACES = re.compile(r"[ \t\u3000]+")


def clean(text: str) -> str:
    """Remove control characters other than newline and tab (NUL made a note unsavable on PostgreSQL)."""
    if not text:
        return ""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc").strip()


# Dialect and chat spellings read as standard words (木有上云 → 没有上云).
_DIALECT = (("木有", "没有"), ("冇得", "没有"), ("冇", "没"), ("啥子", "什么"), ("咋个", "怎么"), ("么样", "怎么样"),
            ("神马", "什么"), ("肿么", "怎么"), ("滴", "的"), ("嘛时候", "什么时候"))


def cue_form(text: str) -> str:
    """The form the cue patterns read: NFKC (full-width → half-width), lower case, no emoji, dialect
    spellings made standard, one space between Latin words, none between Chinese characters
    (managers type spaces where commas go)."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("So", "Sk", "Cs", "Co") and ch != "\ufe0f")
    for old, new in _DIALECT:
        text = text.replace(old, new)
    text = _SPACES.sub(" ", text.replace("\n", " "))
    return _SPACE_BETWEEN_CJK.sub("", text).strip()
