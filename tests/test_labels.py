"""Every term exists in English and Chinese, and a note renders in both from one definition."""

from __future__ import annotations

import pickle

import pytest

from cvm.labels import TERMS, Note, Term, in_language, template_fields


def test_consistency_every_term_has_both_languages():
    blank = [key for key, term in TERMS.items() if not term.en.strip() or not term.zh.strip()]
    assert not blank


@pytest.mark.parametrize("key", sorted(k for k in TERMS if k.startswith(("note.", "report.text.", "error.", "hint.",
                                                                         "cli.", "step."))))
def test_consistency_a_template_fills_the_same_values_in_both_languages(key):
    term = TERMS[key]
    assert template_fields(term.en) == template_fields(term.zh), key


def test_correctness_a_note_is_its_english_sentence_and_renders_in_chinese():
    note = Note("note.value.not_in_panel", n=12345)
    assert note == "12,345 customer(s) are not in the period panel: their lifecycle stage is blank."
    assert note.in_language("zh") == "12,345 位客户不在分期面板中：其生命周期阶段为空。"
    assert note.in_language("en") == str(note) and in_language(note, "zh") == note.in_language("zh")


def test_correctness_values_that_are_notes_or_terms_render_in_the_same_language():
    source = Note("note.margin.ratio_history", ratio=0.254)
    note = Note("note.margin.forecast_ratio", source=source)
    assert note == "Forecast margin = forecast revenue × the base's recorded CRM gross margin ratio (25.4%)."
    assert note.in_language("zh") == "预测毛利 = 预测收入 × 客户群已记录的 CRM 毛利率（25.4%）。"
    unit = Note("note.holdout.too_short", first="1997-01-01", end="1997-06-30", periods=3, period=TERMS["unit.month"])
    assert "last 3 month(s) aside" in unit and "最后 3 个月作验证期" in unit.in_language("zh")


def test_correctness_a_note_survives_pickling_and_copies_as_text():
    note = Note("note.cross_sell.few_evaluated", n=42)
    again = pickle.loads(pickle.dumps(note))
    assert isinstance(again, Note) and again == note and again.in_language("zh") == note.in_language("zh")
    assert in_language(Term("a", "甲"), "zh") == "甲" and in_language("library text", "zh") == "library text"


def test_inputchecks_a_note_without_a_label_is_refused():
    with pytest.raises(KeyError, match="no label 'note.nonexistent'"):
        Note("note.nonexistent")
