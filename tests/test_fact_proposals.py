"""Proposed values for a marked casualty figure: a table of news phrasings and the proposal
each should give. Pure: no database."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate.facts.proposals import fit_to_schema, propose
from annotate.facts.schema import AttributeSpec


def figure(low, qualifier="exact", high=None, **told):
    return {"low": low, "high": high, "qualifier": qualifier, **told}


# From the sample article (AFP, 29 June 2021), copied here: tests do not read shared files.
ARTICLE = [
    ("at least six more were wounded", figure(6, "at_least", kind="wounded")),
    (
        "said seven fighters were killed in the strikes and at least six more were wounded",
        figure(7, kind="killed", victims="fighters"),
    ),
    (
        "said the strikes killed four of its fighters in the Qaim region",
        figure(4, kind="killed", victims="fighters"),
    ),
    ("four of its fighters", figure(4, victims="fighters")),
    (
        "The Observatory, which relies on a network of sources inside Syria, said seven "
        "fighters were killed in the strikes and at least six more were wounded.",
        figure(7, kind="killed", victims="fighters"),
    ),
    (
        "In February, US strikes on facilities in eastern Syria used by Iran-backed militia "
        "groups left more than 20 fighters dead, according to the Observatory.",
        figure(20, "more_than", kind="killed", victims="fighters"),
    ),
    (
        "Syria's state-run SANA news agency said one child was killed",
        figure(1, kind="killed", victims="children"),
    ),
    (
        "left more than 20 fighters dead, according to the Observatory",
        figure(20, "more_than", kind="killed", victims="fighters"),
    ),
    ("more than 20 fighters dead", figure(20, "more_than", kind="killed", victims="fighters")),
    (
        'US forces "were attacked by multiple rockets" in eastern Syria, but there were no '
        "casualties",
        figure(0),
    ),
    (
        "where 2,500 American troops are deployed as part of an international coalition",
        figure(2500, victims="security forces"),
    ),
]

NEWS = [
    # Words: plain, hyphenated, compound, "a hundred"
    ("twenty-three soldiers were killed", figure(23, kind="killed", victims="security forces")),
    ("Twenty one soldiers died", figure(21, kind="killed", victims="security forces")),
    ("one hundred and five people died", figure(105, kind="killed", victims="unknown")),
    ("a hundred civilians were displaced", figure(100, kind="displaced", victims="civilians")),
    ("Three Iraqi soldiers were wounded", figure(3, kind="wounded", victims="security forces")),
    (
        "eleven police officers lost their lives",
        figure(11, kind="killed", victims="security forces"),
    ),
    ("forty-one migrants remain missing", figure(41, kind="missing", victims="civilians")),
    ("Seven people were shot dead", figure(7, kind="killed", victims="unknown")),
    ("one was killed and two were injured", figure(1, kind="killed")),
    # Digits, thousands separators, scale words
    (
        "at least 1,200 people have been killed",
        figure(1200, "at_least", kind="killed", victims="unknown"),
    ),
    (
        "1.5 million people have been displaced",
        figure(1_500_000, kind="displaced", victims="unknown"),
    ),
    ("2,000 people were left homeless", figure(2000, kind="displaced", victims="unknown")),
    (
        "13 members of the security forces were killed",
        figure(13, kind="killed", victims="security forces"),
    ),
    ("troops detained 25 suspected militants", figure(25, kind="detained", victims="fighters")),
    ("gunmen kidnapped 80 schoolchildren", figure(80, kind="detained", victims="children")),
    ("four journalists were detained", figure(4, kind="detained", victims="civilians")),
    ("the attack left 14 dead and 30 injured", figure(14, kind="killed")),
    (
        "More than 40 people were hospitalised",
        figure(40, "more_than", kind="wounded", victims="unknown"),
    ),
    ("On June 29, 12 people were killed", figure(12, kind="killed", victims="unknown")),
    # A dozen, dozens, scores, tens, hundreds, thousands (ACLED: the word's one unit, "about")
    ("dozens", figure(12, "about")),
    ("dozens were wounded", figure(12, "about", kind="wounded")),
    (
        "dozens of people were reported missing",
        figure(12, "about", kind="missing", victims="unknown"),
    ),
    ("a dozen people were wounded", figure(12, kind="wounded", victims="unknown")),
    ("about a dozen militants were killed", figure(12, "about", kind="killed", victims="fighters")),
    (
        "more than a dozen civilians were injured",
        figure(12, "more_than", kind="wounded", victims="civilians"),
    ),
    ("half a dozen soldiers were wounded", figure(6, kind="wounded", victims="security forces")),
    ("two dozen people were arrested", figure(24, kind="detained", victims="unknown")),
    ("scores of people were injured", figure(20, "about", kind="wounded", victims="unknown")),
    ("tens of civilians were killed", figure(10, "about", kind="killed", victims="civilians")),
    ("hundreds of families fled their homes", figure(100, "about", kind="displaced")),
    ("tens of thousands have been displaced", figure(10_000, "about", kind="displaced")),
    (
        "hundreds of thousands of people have fled",
        figure(100_000, "about", kind="displaced", victims="unknown"),
    ),
    ("thousands were detained", figure(1000, "about", kind="detained")),
    # Hedges
    (
        "no fewer than 30 rebels were killed",
        figure(30, "at_least", kind="killed", victims="fighters"),
    ),
    ("20 or more people were killed", figure(20, "at_least", kind="killed", victims="unknown")),
    (
        "20-plus soldiers were killed",
        figure(20, "at_least", kind="killed", victims="security forces"),
    ),
    ("three wounded soldiers", figure(3, kind="wounded", victims="security forces")),
    ("over 100 people were injured", figure(100, "more_than", kind="wounded", victims="unknown")),
    (
        "upwards of 50 people remain missing",
        figure(50, "more_than", kind="missing", victims="unknown"),
    ),
    (
        "more than 1,000 people have been arrested",
        figure(1000, "more_than", kind="detained", victims="unknown"),
    ),
    ("some 40 villagers were abducted", figure(40, "about", kind="detained", victims="civilians")),
    (
        "around 300 protesters were arrested",
        figure(300, "about", kind="detained", victims="civilians"),
    ),
    ("nearly 50 people were killed", figure(50, "about", kind="killed", victims="unknown")),
    (
        "almost 200 people have been kidnapped",
        figure(200, "about", kind="detained", victims="unknown"),
    ),
    ("an estimated 3,000 people fled", figure(3000, "about", kind="displaced", victims="unknown")),
    ("up to 30 people were abducted", figure(30, "up_to", kind="detained", victims="unknown")),
    ("as many as 300 people are missing", figure(300, "up_to", kind="missing", victims="unknown")),
    (
        "fewer than 10 soldiers were wounded",
        figure(10, "up_to", kind="wounded", victims="security forces"),
    ),
    # Ranges
    ("between 10 and 15", figure(10, "range", 15)),
    (
        "between ten and fifteen gunmen were killed",
        figure(10, "range", 15, kind="killed", victims="fighters"),
    ),
    ("10 to 15 civilians were killed", figure(10, "range", 15, kind="killed", victims="civilians")),
    ("10-15 civilians", figure(10, "range", 15, victims="civilians")),
    ("10\u201315 civilians", figure(10, "range", 15, victims="civilians")),
    (
        "two or three policemen were wounded",
        figure(2, "range", 3, kind="wounded", victims="security forces"),
    ),
    # Tolls
    ("the death toll rose to 45", figure(45, kind="killed")),
    ("the death toll has risen to 45", figure(45, kind="killed")),
    ("the death toll rose from 10 to 15", figure(15, kind="killed")),
    ("the civilian death toll climbed to 200", figure(200, kind="killed", victims="civilians")),
    # The headline figure, not the subgroup
    ("killing 27 people, 16 of them children", figure(27, kind="killed", victims="unknown")),
    (
        "killed at least 12 people, including five children",
        figure(12, "at_least", kind="killed", victims="unknown"),
    ),
    ("five children were among the 12 dead", figure(12, kind="killed")),
    ("killed 12 people and wounded 30 others", figure(12, kind="killed", victims="unknown")),
    # None at all
    ("no one was hurt", figure(0, kind="wounded")),
    ("Nobody was killed in the blast", figure(0, kind="killed")),
    ("no civilians were killed", figure(0, kind="killed", victims="civilians")),
    ("there were no immediate reports of casualties", figure(0)),
    ("no deaths were reported", figure(0, kind="killed")),
    # One person without a number word
    ("a 12-year-old boy was killed", figure(1, kind="killed", victims="children")),
    ("a soldier was wounded", figure(1, kind="wounded", victims="security forces")),
]


@pytest.mark.parametrize(("text", "expected"), ARTICLE + NEWS, ids=lambda v: str(v)[:50])
def test_each_phrasing_gets_its_proposal(text, expected):
    assert propose(text) == expected


def test_the_table_holds_at_least_sixty_phrasings():
    assert len(ARTICLE + NEWS) >= 60


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "The Pentagon said",
        "Blinken told reporters on a visit to Rome",
        "in 2024",
        "Tehran's 2015 nuclear deal with world powers",
        "on 29 June",
        "on June 29th",
        "have been targeted in more than 40 attacks this year",
        "one of the deadliest attacks in years",
        "at two locations in Syria and one in Iraq",
        "refusal to be an arena for settling scores",
        "the second such deadly raid",
        "40 percent of the population",
        "at 10:30 on Monday",
        "a 3-day ceasefire",
        "$5 million in aid",
    ],
)
def test_text_without_a_count_proposes_nothing(text):
    assert propose(text) == {}


def test_a_casualty_word_without_a_number_proposes_only_what_it_tells():
    assert propose("several civilians were killed") == {"kind": "killed", "victims": "civilians"}


def test_a_year_followed_by_people_is_a_count():
    assert propose("2000 people fled") == figure(2000, kind="displaced", victims="unknown")


def test_a_year_before_the_figure_is_not_the_figure():
    assert propose("In 2024, 35 people were killed") == figure(35, kind="killed", victims="unknown")


def test_may_the_verb_is_not_a_date():
    assert propose("12 may have died") == figure(12, kind="killed")


def test_one_alone_counts_only_beside_a_person_or_a_kind():
    assert propose("one died") == figure(1, kind="killed")
    assert propose("one of the soldiers was wounded") == figure(
        1, kind="wounded", victims="security forces"
    )
    assert propose("at one point") == {}
    assert propose("one or two people were hurt") == figure(
        1, "range", 2, kind="wounded", victims="unknown"
    )


def test_no_one_is_zero_only_when_a_kind_follows():
    assert propose("none of the passengers was hurt") == figure(0, kind="wounded")
    assert propose("no one") == {}
    assert propose("No one has claimed the attack, which killed 12 people") == figure(
        12, kind="killed", victims="unknown"
    )


def test_no_before_a_hedge_is_not_zero():
    assert propose("no less than thirty soldiers were killed") == figure(
        30, "at_least", kind="killed", victims="security forces"
    )


def test_ordinals_in_digits_are_not_counts():
    assert propose("the 40th victim was buried") == {}


def test_a_number_larger_than_any_count_is_not_one():
    assert propose("1" + "0" * 30 + " people") == {}
    assert propose("9" * 400 + ".5 billion people") == {}


def test_curly_quotes_dashes_and_case_do_not_matter():
    assert propose("AT LEAST TWENTY\u2011THREE were killed") == figure(
        23, "at_least", kind="killed"
    )


def test_the_module_imports_no_django():
    code = "import sys, annotate.facts.proposals; assert 'django' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# Fitting a proposal to a label's schema

CASUALTY = (
    AttributeSpec("kind", "Kind", "choice", ("killed", "wounded", "missing")),
    AttributeSpec("low", "Low", "integer", min=0),
    AttributeSpec("high", "High", "integer", min=0),
    AttributeSpec("qualifier", "Qualifier", "choice", ("exact", "at_least", "range")),
)


def test_fitting_keeps_only_the_keys_the_label_declares_in_its_order():
    proposal = {"victims": "fighters", "qualifier": "exact", "low": 4, "kind": "killed"}
    fitted = fit_to_schema(proposal, CASUALTY)
    assert list(fitted) == ["kind", "low", "qualifier"]


def test_fitting_drops_a_choice_the_label_does_not_offer():
    fitted = fit_to_schema({"kind": "detained", "qualifier": "about", "low": 3}, CASUALTY)
    assert fitted == {"low": 3}


def test_fitting_drops_an_integer_below_the_minimum_and_keeps_a_null_high():
    specs = (AttributeSpec("low", "Low", "integer", min=1), CASUALTY[2])
    assert fit_to_schema({"low": 0, "high": None}, specs) == {"high": None}


def test_fitting_drops_a_value_of_another_type():
    specs = (AttributeSpec("low", "Low", "text"), AttributeSpec("kind", "Kind", "boolean"))
    assert fit_to_schema({"low": 4, "kind": "killed"}, specs) == {}


def test_fitting_to_a_label_without_attributes_gives_nothing():
    assert fit_to_schema(propose("seven fighters were killed"), ()) == {}


# Whatever the words, a proposal has this shape

VOCABULARY = (
    "at least more than about up to between and or to - no one a dozen dozens scores of "
    "hundreds thousands tens twenty three hundred 2,500 1.5 million 2024 june 29 th killed "
    "wounded were was fighters children civilians soldiers people including among the death "
    "toll rose from , . year old % $ nobody none casualties some nearly plus"
)
WORDS = VOCABULARY.split(" ")
KINDS = {"killed", "wounded", "missing", "displaced", "detained"}
QUALIFIERS = {"exact", "at_least", "more_than", "about", "up_to", "range"}
VICTIMS = {"civilians", "fighters", "security forces", "children", "unknown"}


def assert_well_formed(proposal):
    assert set(proposal) <= {"kind", "low", "high", "qualifier", "victims"}
    assert proposal.get("kind", "killed") in KINDS
    assert proposal.get("victims", "unknown") in VICTIMS
    if "low" in proposal:
        low, high = proposal["low"], proposal["high"]
        assert type(low) is int and 0 <= low <= 10**10
        assert proposal["qualifier"] in QUALIFIERS
        assert (high is not None) == (proposal["qualifier"] == "range")
        assert high is None or (type(high) is int and high > low)
    else:
        assert "high" not in proposal and "qualifier" not in proposal


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=25).map(" ".join))
def test_any_mix_of_the_words_gives_a_well_formed_proposal(text):
    assert_well_formed(propose(text))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_well_formed_proposal(text):
    assert_well_formed(propose(text))
