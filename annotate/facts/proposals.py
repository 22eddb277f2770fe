"""Proposed attribute values for a marked figure: what the labelling page pre-fills. Pure.

When an editor marks a casualty figure ("at least six more were wounded"), :func:`propose`
reads the words and proposes ``{"kind": "wounded", "low": 6, "high": None, "qualifier":
"at_least"}``; the editor confirms or corrects it. Only the keys the words tell are returned
(``{}`` when they tell nothing); :func:`fit_to_schema` then keeps what a label declares.

Numbers spelled as words ("six", "twenty-three", "one hundred and five", "a hundred",
"two million") are read by ``text2num`` (Allo-Media, MIT licence, compatible with the
project's Apache-2.0). Digits ("2,500", "1.5 million") and the vague quantities below are
read here, because ``text2num`` leaves them alone.

Conventions (the reported figure is coded as ACLED codes fatalities, as the report says it,
never corrected or summed):

- ``low`` is the figure the report gives, whatever the qualifier ("up to 30" → low 30,
  ``up_to``); ``high`` holds a number only for a range ("between 10 and 15", "10 to 15",
  "10-15", "two or three" → low 10, high 15, ``range``). Whenever a figure is found,
  ``high`` is present and ``None`` outside ranges, so an exact figure is counted once.
- Vague plurals follow ACLED ("tens" 10, "dozens" 12, "hundreds" 100, "and so on"): one unit
  of the word, the most conservative reading, qualified ``about``. So "scores" is 20 (one
  score), "thousands" 1,000, "tens of thousands" 10,000, "hundreds of thousands" 100,000.
  A plural counts only as a quantity ("scores of", "dozens were", "hundreds fled"), not in
  "settling scores". "several", "many", "a few" give no number: ACLED's figure for them
  has changed over the years, and an editor should type what they judge.
- "a dozen" is 12 and "half a dozen" 6, ``exact`` like "a hundred": they name a number, and
  only a hedge word changes the qualifier ("about a dozen" → ``about``, "more than a dozen"
  → ``more_than``).
- Qualifiers: ``at_least`` for "at least", "no fewer/less than", "a minimum of", "N or
  more", "N-plus"; ``more_than`` for "more than", "over", "upwards of", "in excess of",
  "above"; ``about`` for "about", "around", "some", "approximately", "roughly", "an
  estimated", "nearly", "almost", "close to", "just under", "N or so" ("nearly 50" is an
  estimate near 50, not a ceiling); ``up_to`` for "up to", "as many as", "at most", "no
  more than", "fewer/less than", "under"; otherwise ``exact``.
- The headline figure is the first figure of the text: in "12 people were killed,
  including five children" (or "16 of them children") it is 12, and the subgroup is left to
  a second mark. A figure followed by "among" ("five children were among the 12 dead") is the
  subgroup, and the figure after it is the headline. "the toll rose from 10 to 15" gives 15.
- "no casualties", "no deaths", "no immediate reports of casualties" → low 0, ``exact``
  (ACLED codes 0 when none are reported); "casualties" alone does not tell a kind (it covers
  the dead and the wounded). "no one", "nobody", "none" and "no civilians" are 0 only when a
  kind follows ("no one was hurt", "none of the passengers was hurt"): "no one has claimed
  the attack" is not a figure. "no fewer than 30" is a hedge, not a zero.
- Not counts: years (1900–2099 without a separator, unless a person noun or a kind follows),
  dates ("29 June", "June 29"), times, ages ("a 12-year-old boy"), percentages, money,
  ordinals, numbers of things ("40 attacks", "two locations"), and "one" as a pronoun ("one
  of the deadliest attacks", "one another"): "one" counts only beside a person noun or a
  kind ("one child was killed", "one of its fighters", "one died"). Without any figure,
  "a child was killed" gives 1, and "several civilians were killed" only its kind and
  victims.
- ``kind`` comes from the verb or noun nearest the figure: the one just before it
  ("killed four", "death toll rose to 45"), else the first after it in the same sentence up
  to the next figure ("seven fighters were killed ... and at least six more were wounded"),
  else the nearest before it in the sentence.
- ``victims`` comes from the figure's own noun ("four of its fighters", "2,500 American
  troops", "one child"), or an adjective before it ("the civilian death toll"); people,
  persons, individuals and others are ``unknown`` (the report does not say who they were);
  women and men are not classed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict

from text_to_num import find_numbers

from .schema import AttributeSpec, value_problem

__all__ = ["Proposal", "fit_to_schema", "propose"]


class Proposal(TypedDict, total=False):
    """What the words tell about a casualty figure; absent keys were not told."""

    kind: str  # killed | wounded | missing | displaced | detained
    low: int
    high: int | None
    qualifier: str  # exact | at_least | more_than | about | up_to | range
    victims: str  # civilians | fighters | security forces | children | unknown


# ---------------------------------------------------------------------------------------------
# Lexicons. Phrases are tuples of lower-case tokens ("-" is a token of its own).


def _phrases(mapping: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    return {
        tuple(phrase.split()): value
        for words, value in mapping.items()
        for phrase in words.split("|")
    }


KINDS = _phrases(
    {
        "killed|kill|kills|killing|killings|dead|died|die|dies|dying|death|deaths|death toll"
        "|toll|fatalities|fatality|fatally|slain|slaughtered|massacred|executed|perished"
        "|murdered|martyred|bodies|lost their lives|lost his life|lost her life|lives"
        "|lives lost|shot dead": "killed",
        "wounded|wounding|wounds|injured|injuring|injuries|injury|hurt|maimed|hospitalised"
        "|hospitalized|casualty toll|injury toll": "wounded",
        "missing|unaccounted for|disappeared|remain missing": "missing",
        "displaced|displacing|displacement|fled|flee|fleeing|homeless|evacuated|uprooted"
        "|refugees|forced from their homes|driven from their homes": "displaced",
        "detained|detain|detaining|detention|detentions|arrested|arrest|arrests|arresting"
        "|abducted|abduction|abductions|abducting|kidnapped|kidnapping|kidnappings|captured"
        "|taken hostage|held hostage|hostages|taken prisoner|rounded up|in custody": "detained",
    }
)

VICTIMS = _phrases(
    {
        "civilian|civilians|resident|residents|villager|villagers|passerby|passers - by"
        "|bystander|bystanders|worshipper|worshippers|worshiper|worshipers|pilgrim|pilgrims"
        "|farmer|farmers|shepherd|shepherds|herder|herders|student|students|pupil|pupils"
        "|teacher|teachers|journalist|journalists|reporter|reporters|aid worker|aid workers"
        "|doctor|doctors|nurse|nurses|protester|protesters|protestor|protestors|demonstrator"
        "|demonstrators|worker|workers|shopper|shoppers|passenger|passengers|fisherman"
        "|fishermen|migrant|migrants|non - combatants|noncombatants": "civilians",
        "child|children|kid|kids|minor|minors|boy|boys|girl|girls|infant|infants|baby|babies"
        "|toddler|toddlers|schoolchildren|schoolboy|schoolboys|schoolgirl|schoolgirls": "children",
        "fighter|fighters|militant|militants|gunman|gunmen|rebel|rebels|insurgent|insurgents"
        "|jihadist|jihadists|militiaman|militiamen|combatant|combatants|attacker|attackers"
        "|assailant|assailants|extremist|extremists|terrorist|terrorists|guerrilla|guerrillas"
        "|guerilla|guerillas|paramilitaries|bandit|bandits": "fighters",
        "soldier|soldiers|troop|troops|trooper|troopers|police|policeman|policemen"
        "|policewoman|policewomen|police officer|police officers|officer|officers"
        "|security forces|security personnel|military personnel|security guard"
        "|security guards|guard|guards|border guard|border guards|gendarme|gendarmes"
        "|serviceman|servicemen|service members|marine|marines|sailor|sailors|airman|airmen"
        "|peacekeeper|peacekeepers|conscript|conscripts|recruit|recruits": "security forces",
        "people|persons|person|individuals|individual|others": "unknown",
    }
)
# An adjective before a kind word tells the victims too: "the civilian death toll".
VICTIM_ADJECTIVES = {"civilian": "civilians", "child": "children", "military": "security forces"}
# Person nouns outside the victims classes: evidence that "one" or "a" counts someone.
PERSONS = {"man", "men", "woman", "women", "member", "members", "relative", "relatives"}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Numbers of things, not of people: a figure whose noun is one of these is not a count.
THINGS = _words(
    "attack attacks strike strikes airstrike airstrikes raid raids rocket rockets missile"
    " missiles drone drones shell shells bomb bombs explosion explosions round rounds"
    " location locations site sites facility facilities base bases village villages town"
    " towns city cities house houses home homes building buildings vehicle vehicles car"
    " cars truck trucks tank tanks year years month months week weeks day days hour hours"
    " minute minutes time times percent per cent km kilometres kilometers kilometre"
    " kilometer mile miles metre metres meter meters dollars euros pounds tonnes tons kg"
    " incident incidents event events occasion occasions country countries nation nations"
    " province provinces district districts region regions group groups faction factions"
    " point points side sides another way ways deadliest worst biggest largest"
)

# Hedge words before a figure, longest first so "no more than" wins over "more than".
QUALIFIERS = sorted(
    _phrases(
        {
            "at least|at the very least|no fewer than|no less than|not less than"
            "|a minimum of": "at_least",
            "more than|over|upwards of|in excess of|above|well over|just over": "more_than",
            "about|around|approximately|roughly|some|nearly|almost|close to|an estimated"
            "|estimated|circa|approx|just under": "about",
            "up to|as many as|at most|no more than|not more than|fewer than|less than|under"
            "|a maximum of": "up_to",
        }
    ).items(),
    key=lambda item: -len(item[0]),
)

VAGUE = {"tens": 10, "dozens": 12, "scores": 20, "hundreds": 100, "thousands": 1000}
VAGUE_SCALES = {"thousands": 1000, "millions": 1_000_000}
SCALES = {"thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
MONTHS = _words(
    "january february march april may june july august september october november december"
    " jan feb mar apr jun jul aug sep sept oct nov dec"
)
RISES = _words("rose risen rise rises climbed increased jumped grew soared revised raised went")
# Words that end a figure's noun phrase ("six more were wounded", "12 killed in Gaza").
PHRASE_ENDS = _words(
    "were was are is be been being have has had will would could may might in on at by after"
    " during when while and or but who whom whose that which including to from as with among"
    " for near since said says according across into amid following than"
)
SENTENCE_ENDS = frozenset(".;!?")
NEGATIONS = frozenset({"no", "without"})
ZERO_NOUNS = {
    "one": None,
    "casualties": None,
    "casualty": None,
    "victims": None,
    "deaths": "killed",
    "fatalities": "killed",
    "dead": "killed",
    "lives": "killed",
    "injuries": "wounded",
    "injured": "wounded",
    "wounded": "wounded",
}
ARTICLES = frozenset({"a", "an"})
MAX_COUNT = 10**10  # more people than there are: a larger "count" is something else

TOKEN = re.compile(r"[a-z]+|\d+(?:[.,]\d+)*|[^\sa-z\d]")
DASHES = str.maketrans(
    {
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2019": "'",
        "\u00a0": " ",
    }
)


# ---------------------------------------------------------------------------------------------
# Tokens and figures


class _Token:
    """A token as ``text_to_num.find_numbers`` reads it."""

    __slots__ = ("mine", "word")

    def __init__(self, word: str, mine: bool) -> None:
        self.word = word
        self.mine = mine  # read here (digits, vague plurals), not by text2num

    def text(self) -> str:
        return self.word

    def nt_separated(self, previous: _Token) -> bool:
        return False

    def not_a_number_part(self) -> bool:
        return self.mine


@dataclass
class _Figure:
    start: int  # first token (hedge words excluded)
    end: int  # one past the last token
    low: int
    high: int | None = None
    qualifier: str | None = None  # implied by the words themselves (vague, range, zero)
    kind: str | None = None  # told by a zero phrase ("no deaths")
    victims: str | None = None
    word_one: bool = False  # the word "one" alone, which is often a pronoun


def _tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower().translate(DASHES))


def _digits(word: str) -> int | None:
    """'2,500' → 2500; '1.5' → None (a decimal needs a scale word to be a count)."""
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+|\d+", word):
        return int(word.replace(",", ""))
    return None


def _decimal(word: str) -> float | None:
    return float(word) if re.fullmatch(r"\d+\.\d+", word) else None


def _raw_figures(words: list[str]) -> list[_Figure]:
    """Every number of the text, by position: digits, words (text2num), vague plurals."""
    mine = [
        bool(re.match(r"\d", w)) or w in VAGUE or w in VAGUE_SCALES or w in {"dozen", "score"}
        for w in words
    ]
    # Scale words after digits ("1.5 million") and after vague plurals ("tens of thousands")
    # are read here too.
    for i, w in enumerate(words):
        if w in SCALES and i and re.match(r"\d", words[i - 1]):
            mine[i] = True
    figures: list[_Figure] = []
    taken: set[int] = set()
    i = 0
    while i < len(words):
        w = words[i]
        if re.match(r"\d", w):
            value: float | None = _digits(w)
            end = i + 1
            if end < len(words) and words[end] in SCALES:
                base = value if value is not None else _decimal(w)
                value = base * SCALES[words[end]] if base is not None else None
                end += 1
            if value is not None and value <= MAX_COUNT:
                figures.append(_Figure(i, end, int(value)))
            taken.update(range(i, end))
            i = end
            continue
        if w in VAGUE:
            value, end = VAGUE[w], i + 1
            if (
                words[end : end + 1] == ["of"]
                and words[end + 1 : end + 2]
                and (words[end + 1] in VAGUE_SCALES)
            ):
                value, end = value * VAGUE_SCALES[words[end + 1]], end + 2
            if _vague_is_quantity(words, i, end):
                figures.append(_Figure(i, end, value, qualifier="about"))
            taken.update(range(i, end))
            i = end
            continue
        i += 1
    tokens = [_Token(w, m) for w, m in zip(words, mine, strict=True)]
    for found in find_numbers(tokens, "en", 0):
        if found.is_ordinal or set(range(found.start, found.end)) & taken:
            continue
        if not found.value <= MAX_COUNT:  # also NaN: text2num gives floats
            continue
        spelled = words[found.start : found.end]
        figures.append(
            _Figure(found.start, found.end, int(found.value), word_one=spelled == ["one"])
        )
    figures += _dozens(words, taken)
    figures.sort(key=lambda f: f.start)
    return _with_multipliers(words, figures)


def _vague_is_quantity(words: list[str], start: int, end: int) -> bool:
    """'dozens of', 'dozens were', 'hundreds fled', 'in the dozens' count; 'settling scores'
    does not."""
    after = words[end] if end < len(words) else None
    before = words[start - 1] if start else None
    if after in {"of", "more", "were", "are", "was", "have", "had", "others"}:
        return True
    if after is not None and (_phrase_at(words, end, KINDS) or _phrase_at(words, end, VICTIMS)):
        return True
    # "dozens" alone, "in the dozens"; but "settling scores", "old scores"
    ends = after is None or after in SENTENCE_ENDS | {","}
    return ends and before not in {"settle", "settles", "settled", "settling", "old", "even"}


def _dozens(words: list[str], taken: set[int]) -> list[_Figure]:
    """'a dozen' 12 and 'half a dozen' 6 (exact: they name a number); 'two dozen' is done by
    :func:`_with_multipliers`."""
    found = []
    for i, w in enumerate(words):
        if w != "dozen" or i in taken or not i or words[i - 1] not in ARTICLES:
            continue
        if i >= 2 and words[i - 2] == "half":
            found.append(_Figure(i - 2, i + 1, 6))
        else:
            found.append(_Figure(i - 1, i + 1, 12))
    return found


def _with_multipliers(words: list[str], figures: list[_Figure]) -> list[_Figure]:
    """'two dozen' → 24; 'a hundred' starts at 'a' (so 'about a hundred' reads its hedge)."""
    for f in figures:
        if f.end < len(words) and words[f.end] == "dozen" and f.qualifier is None:
            f.low, f.end = f.low * 12, f.end + 1
        if f.start and words[f.start - 1] in ARTICLES and words[f.start] in {*SCALES, "hundred"}:
            f.start -= 1
    return figures


def _phrase_at(
    words: Sequence[str], i: int, lexicon: Mapping[tuple[str, ...], str]
) -> tuple[str, int] | None:
    """The longest lexicon phrase starting at token ``i``: (value, length)."""
    for length in (4, 3, 2, 1):
        value = lexicon.get(tuple(words[i : i + length]))
        if value is not None and i + length <= len(words):
            return value, length
    return None


# ---------------------------------------------------------------------------------------------
# What is not a count


def _noun_phrase(words: list[str], end: int, stop: int) -> tuple[str | None, bool, bool]:
    """Reads the figure's noun phrase after token ``end`` (up to ``stop``): (victims class,
    whether a person noun was seen, whether a thing noun was seen first)."""
    person = False
    if words[end : end + 2] in (["or", "more"], ["and", "more"], ["or", "so"], ["-", "plus"]):
        end += 2  # "20 or more people"
    for i in range(end, min(stop, end + 7)):
        w = words[i]
        if w in PHRASE_ENDS or (w in SENTENCE_ENDS | {",", "(", ")", ":"}):
            break
        if i > end and _phrase_at(words, i, KINDS):
            break  # "hundreds of families fled their homes"; but "three wounded soldiers"
        victim = _phrase_at(words, i, VICTIMS)
        if victim is not None:
            return victim[0], True, False
        if w in PERSONS:
            person = True
            if w not in {"member", "members"}:  # "members of the security forces" goes on
                break
        elif w in THINGS:
            return None, False, True
    return None, person, False


def _is_date_or_year(words: list[str], f: _Figure) -> bool:
    word = words[f.start]
    if not re.fullmatch(r"\d+", word) or f.end != f.start + 1:
        return False
    before = words[f.start - 1] if f.start else ""
    after = words[f.end] if f.end < len(words) else ""
    if int(word) <= 31 and (
        before in MONTHS
        or (after in MONTHS and not (after == "may" and _next_is_verb(words, f.end + 1)))
    ):
        return True
    if len(word) == 4 and 1900 <= int(word) <= 2099:
        tells = _phrase_at(words, f.end, VICTIMS) or _phrase_at(words, f.end, KINDS)
        return not tells and after not in {"were", "more", "others"}
    return False


def _next_is_verb(words: list[str], i: int) -> bool:
    return i < len(words) and words[i] in {"have", "be", "been", "not", "also", "still"}


def _is_measure(words: list[str], f: _Figure) -> bool:
    """Ages, times, percentages, money and ordinals in digits are not counts of people."""
    before = words[f.start - 1] if f.start else ""
    after = words[f.end : f.end + 3]
    if before in {"$", "\u20ac", "\u00a3", ":"} or (
        after and after[0] in {"%", ":", "am", "pm", "st", "nd", "rd", "th"}
    ):
        return True
    if after[:1] == ["-"] and after[1:2] and after[1] in THINGS | {"year", "old"}:
        return True  # "12-year-old", "three-day"
    return after[:2] in (["year", "old"], ["years", "old"])


def _counts(words: list[str], figures: list[_Figure]) -> list[_Figure]:
    """The figures that count people, each with the victims its noun phrase tells."""
    kept = []
    for n, f in enumerate(figures):
        if f.low > MAX_COUNT or _is_date_or_year(words, f) or _is_measure(words, f):
            continue
        stop = figures[n + 1].start if n + 1 < len(figures) else len(words)
        victims, person, thing = _noun_phrase(words, f.end, stop)
        if thing:
            continue
        next_start = figures[n + 1].start if n + 1 < len(figures) else None
        in_range = next_start == f.end + 1 and words[f.end] in {"or", "to", "-"}
        if f.word_one and not (person or in_range or _kind_follows(words, f.end)):
            continue
        f.victims = f.victims or victims
        kept.append(f)
    return kept


def _kind_follows(words: list[str], i: int) -> bool:
    """'one was killed', 'one died', 'one more was wounded'."""
    for j in range(i, min(i + 3, len(words))):
        if _phrase_at(words, j, KINDS):
            return True
        if words[j] not in {"was", "were", "more", "other", "later", "also", "has", "had"}:
            return False
    return False


# ---------------------------------------------------------------------------------------------
# Zero, ranges, "a child"


def _zeros(words: list[str], numbers: set[int]) -> list[_Figure]:
    """'no casualties', 'no deaths', 'no immediate reports of casualties': low 0; 'no one',
    'nobody', 'none', 'no civilians' only when a kind follows ('no one was hurt', 'none were
    killed'), since 'no one has claimed the attack' is not a figure. ``numbers``: the
    positions of number tokens, which end the search ('no fewer than thirty soldiers')."""
    found = []
    for i, w in enumerate(words):
        if w in {"nobody", "none"}:
            if _kind_soon(words, i + 1):
                found.append(_Figure(i, i + 1, 0, qualifier="exact"))
            continue
        if w not in NEGATIONS:
            continue
        for j in range(i + 1, min(i + 6, len(words))):
            no_one = j == i + 1 and words[j] == "one"
            if words[j] in SENTENCE_ENDS | {",", "fewer", "less", "more", "than"} or (
                j in numbers and not no_one
            ):
                break
            victim = _phrase_at(words, j, VICTIMS)
            if words[j] in ZERO_NOUNS or victim is not None:
                kind = ZERO_NOUNS.get(words[j])
                tells = kind is not None or words[j] in {"casualties", "casualty", "victims"}
                if tells or _kind_soon(words, j + (victim[1] if victim else 1)):
                    victims = victim[0] if victim and victim[0] != "unknown" else None
                    found.append(_Figure(i, j + 1, 0, None, "exact", kind, victims))
                break
    return found


def _kind_soon(words: list[str], i: int) -> bool:
    """A kind within the next six words of the clause: 'was hurt', 'none of the passengers
    was hurt'."""
    for j in range(i, min(i + 6, len(words))):
        if words[j] in SENTENCE_ENDS | {",", "but", "and"}:
            return False
        if _phrase_at(words, j, KINDS):
            return True
    return False


def _merge_ranges(words: list[str], figures: list[_Figure]) -> list[_Figure]:
    """'between 10 and 15', '10 to 15', '10-15', 'two or three' → one figure; 'rose from 10
    to 15' → 15."""
    merged: list[_Figure] = []
    i = 0
    while i < len(figures):
        a = figures[i]
        b = figures[i + 1] if i + 1 < len(figures) else None
        joint = words[a.end : b.start] if b else None
        before = words[a.start - 1] if a.start else ""
        is_range = (
            b is not None
            and a.qualifier is None
            and b.qualifier is None
            and b.low > a.low
            and (joint in (["to"], ["-"], ["or"]) or (joint == ["and"] and before == "between"))
        )
        if is_range and b is not None:
            if (
                joint == ["to"]
                and before == "from"
                and a.start >= 2
                and (words[a.start - 2] in RISES)
            ):
                merged.append(b)
            else:
                merged.append(_Figure(a.start, b.end, a.low, b.low, "range", None, b.victims))
            i += 2
            continue
        merged.append(a)
        i += 1
    return merged


def _singular(words: list[str]) -> _Figure | None:
    """'a child was killed' → 1, when the text has a kind and no figure."""
    for i, w in enumerate(words):
        if w not in ARTICLES:
            continue
        for j in range(i + 1, min(i + 7, len(words))):  # "a 12-year-old boy"
            victim = _phrase_at(words, j, VICTIMS)
            if victim is not None or words[j] in PERSONS:
                if words[j].endswith("s") and words[j] not in {"police"}:
                    break  # a plural noun: "a group of civilians"
                return _Figure(i, i + 1, 1, victims=victim[0] if victim else None)
            if words[j] in PHRASE_ENDS or words[j] in SENTENCE_ENDS | {","}:
                break
    return None


# ---------------------------------------------------------------------------------------------
# Qualifier and kind


def _qualifier(words: list[str], f: _Figure) -> str:
    """The hedge before the figure ('at least six'), or after it ('20 or more', '20-plus')."""
    after = words[f.end : f.end + 2]
    if after[:2] in (["or", "more"], ["and", "more"]) or after[:1] == ["plus"]:
        return "at_least"
    if after[:2] == ["-", "plus"] or after[:1] == ["+"]:
        return "at_least"
    if after[:2] == ["or", "so"]:
        return "about"
    start = f.start
    if words[start - 1 : start] == ["of"] and words[start - 3 : start - 1] == ["a", "total"]:
        return "exact"
    for phrase, qualifier in QUALIFIERS:
        if tuple(words[max(0, start - len(phrase)) : start]) == phrase:
            if (
                qualifier == "up_to"
                and phrase == ("up", "to")
                and start >= 3
                and (words[start - 3] in RISES | {"toll"})
            ):
                continue  # "went up to 40": where the toll stands, not a ceiling
            return qualifier
    return f.qualifier or "exact"


def _hedge_length(words: list[str], f: _Figure) -> int:
    for phrase, _ in QUALIFIERS:
        if tuple(words[max(0, f.start - len(phrase)) : f.start]) == phrase:
            return len(phrase)
    return 0


def _sentence(words: list[str], i: int) -> tuple[int, int]:
    start = i
    while start > 0 and words[start - 1] not in SENTENCE_ENDS:
        start -= 1
    end = i
    while end < len(words) and words[end] not in SENTENCE_ENDS:
        end += 1
    return start, end


def _kinds_in(words: list[str], start: int, end: int) -> Iterable[tuple[int, str]]:
    i = start
    while i < end:
        found = _phrase_at(words, i, KINDS)
        if found is not None:
            yield i, found[0]
            i += found[1]
        else:
            i += 1


def _kind(words: list[str], f: _Figure, next_start: int) -> str | None:
    """Just before ('killed four', 'the death toll rose to 45'), else the first after it in
    the sentence before the next figure, else the nearest before it in the sentence."""
    if f.kind:
        return f.kind
    first, last = _sentence(words, f.start)
    hedge = f.start - _hedge_length(words, f)
    near = [kind for _, kind in _kinds_in(words, max(first, hedge - 5), hedge)]
    if near and not any(w in {",", "and", "but"} for w in words[max(first, hedge - 2) : hedge]):
        return near[-1]
    after = next(iter(_kinds_in(words, f.end, min(last, next_start))), None)
    if after is not None:
        return after[1]
    before = list(_kinds_in(words, first, hedge))
    return before[-1][1] if before else None


def _victims_before(words: list[str], f: _Figure) -> str | None:
    """'the civilian death toll rose to 45': an adjective on the kind before the figure."""
    first, _ = _sentence(words, f.start)
    for w in reversed(words[max(first, f.start - 6) : f.start]):
        if w in VICTIM_ADJECTIVES:
            return VICTIM_ADJECTIVES[w]
        if w in {",", "by"}:
            return None
    return None


# ---------------------------------------------------------------------------------------------
# The proposal


def _headline(words: list[str], figures: list[_Figure]) -> int:
    """The index of the headline figure: the first, unless it is a subgroup named first
    ('five children were among the 12 dead')."""
    if len(figures) < 2:
        return 0
    first, second = figures[0], figures[1]
    between = words[first.end : second.start]
    if "among" in between and not set(between) & (SENTENCE_ENDS | {","}):
        return 1
    return 0


def propose(text: str) -> Proposal:
    """The attribute values that ``text`` tells about a casualty figure (see the module's
    conventions); keys it cannot tell are left out, so ``{}`` when it tells nothing."""
    words = _tokens(text)
    raw = _raw_figures(words)
    numbers = {i for f in raw for i in range(f.start, f.end)}
    figures = _merge_ranges(words, _counts(words, raw))
    figures = sorted(figures + _zeros(words, numbers), key=lambda f: f.start)
    figures = _drop_inside(figures)
    proposal: Proposal = {}
    if not figures:
        single = _singular(words) if next(_kinds_in(words, 0, len(words)), None) else None
        figures = [single] if single else []
    if figures:
        n = _headline(words, figures)
        f = figures[n]
        following = figures[n + 1].start if n + 1 < len(figures) else len(words)
        kind = _kind(words, f, following)
        if kind:
            proposal["kind"] = kind
        proposal["low"] = f.low
        proposal["high"] = f.high
        proposal["qualifier"] = f.qualifier if f.qualifier == "range" else _qualifier(words, f)
        victims = f.victims or _victims_before(words, f)
        if victims:
            proposal["victims"] = victims
        return proposal
    kinds = list(_kinds_in(words, 0, len(words)))
    if not kinds:
        return proposal  # no figure and no casualty word: "Blinken told reporters"
    proposal["kind"] = kinds[0][1]
    for i in range(len(words)):
        victim = _phrase_at(words, i, VICTIMS)
        if victim is not None:
            proposal["victims"] = victim[0]
            break
    return proposal


def _drop_inside(figures: list[_Figure]) -> list[_Figure]:
    """A number inside a zero phrase ('no one') is that phrase, not a figure of its own."""
    kept: list[_Figure] = []
    for f in figures:
        if kept and f.start < kept[-1].end:
            if f.low == 0 and kept[-1].low != 0:
                kept[-1] = f
            continue
        kept.append(f)
    return kept


# ---------------------------------------------------------------------------------------------
# Fitting a proposal to a label's schema


def fit_to_schema(
    proposal: Mapping[str, object], specs: Iterable[AttributeSpec]
) -> dict[str, object]:
    """Only the keys the label declares, with values that fit them (a choice among its
    choices, an integer at least its ``min``: :func:`.schema.value_problem`), in the schema's
    order. ``None`` fits an integer: ``high`` is null when the figure is not a range."""
    fitted: dict[str, object] = {}
    for spec in specs:
        if spec.key not in proposal:
            continue
        value = proposal[spec.key]
        if (value is None and spec.type == "integer") or value_problem(spec, value) is None:
            fitted[spec.key] = value
    return fitted
