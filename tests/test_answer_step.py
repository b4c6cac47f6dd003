"""The answer step's parts, each on its own: question kinds, follow-ups, quotable units, features, the model file."""
from __future__ import annotations

import json
from types import SimpleNamespace
from unittest.mock import patch

import numpy as np
import pytest

from core.records import Chunk, Document, DocumentMeta, Hit, TableRowRef
from core.settings import AnswerSettings
from index.answer import (LOG_ODDS_CAP, Reading, can_lead, capitalised_words, cell_named, lead_log_odds, compose_answer, framed_in_another_year, leadable, line_probabilities, misses_own_words,
                          name_missing, nearest_lines, scored_candidates, period_absent, role_missing,
                          plan_for_actual, supporting_lines, with_verdict, words_read)
from index.councils import councils_named, councils_without_papers
from index.features import (AskedQuestion, Candidate, asked_part, candidate_lines, carries_kind, chunk_lines, counts_in, feature_matrix, FEATURES,
                            event_match, fragment, header_named, paper_date_match, label_compared, label_named, line_holds, names_a_person, quantities_in,
                            outcome_of_asked_proposal, records_decisions_by_title, restatement, role_record, subject_overlap, context_overlap, target_measured, target_value, year_conflict)
from index.followup import read_question, subject_phrase
from index.query import analyse_question, answer_kinds, month_dates, named_authority, paper_dates, paper_years, short_financial_years
from index.search import kind_boosts, mentions_council
from index.service import decision_record_hit, role_record_hit, table_hit
from index.scorer import DEFAULT_MODEL, AnswerModel, Logistic, ModelError, load_answer_model
from evaluation import fit as fit_module
from evaluation.fit import Outcome, answer_threshold, fitted_logistic, fitted_ranker, possible_threshold, resampled_median, rounded_up
from index.units import parsed_row, sentence_units

COUNCILS = ["Suffolk County Council", "Sunderland City Council", "Kent County Council", "Peterborough City Council"]


@pytest.mark.parametrize(("question", "kinds"), [
    ("What was the re-referral target?", {"target"}),
    ("How many agency social workers did Sunderland have?", {"count"}),
    ("When do the Seashells and Millmead family hub contracts end?", {"date"}),
    ("What did the Cabinet Member decide about the family hubs?", {"decision"}),
    ("Who chaired the meeting?", {"person"}),
    ("What is the forecast overspend for children's social care in Kent?", {"amount"}),
    ("What percentage of assessments were on time?", {"percentage"}),
    ("Did Suffolk meet its target?", {"target", "yes_no"}),
    ("How many councillors voted against the motion?", {"count", "vote"}),
    ("Was the proposal to remove the free parking tariff carried?", {"vote", "yes_no"}),
    ("What did the committee do with the petition?", {"decision"}),
    ("What happened to the amendment on free parking?", {"decision"}),
    ("What year-to-date re-referral rate did the Director report?", {"percentage"}),
    ("Which officers were accountable for school attendance?", {"person"}),
    ("Which Peterborough cabinet member was responsible for the update?", {"person"}),
    ("Which two Kent councillors called in the item?", {"person"}),
    ("Which councils dropped the levy?", set()),
    ("How often did young people go missing from care?", {"count"}),
    ("Until when has the e-scooter trial been extended?", {"date"}),
    ("According to the timetable, when would the operation stage begin?", {"date"}),
    ("What were the revised dates in the update?", {"date"}),
    ("What new dates were given for the modelling stage?", {"date"}),
    ("What share of complaints were answered within timescale?", {"percentage"}),
    ("What early-bird parking charge did the council approve?", {"amount", "decision"}),
    ("What allowance is paid to the Deputy Mayor?", {"amount"}),
    ("What was Nottingham's levy charge per space in 2020/21?", {"amount"}),
    # What is paid or charged is an amount, though the question never says "how much".
    ("What does Kent pay on average for a pupil at an independent school?", {"amount"}),
    ("What did Nottingham charge per space when its levy started?", {"amount"}),
    ("Nottingham WPL charge for 2026/27?", {"amount"}),
    ("What is the Millmead contract worth per year?", {"amount"}),
    ("Who voted against the pay policy statement?", {"person", "vote"}),
    ("How many penalty charge notices were issued at the bus gate?", {"count"}),
    ("What happened to the proposal to remove the free parking tariff?", {"decision"}),
    ("On which dates did a team inspect the roads?", {"date"}),
    # The opening settles it: a councillor, not the decision the recommendations were for.
    ("Which councillor seconded the Chair's funding recommendations?", {"person"}),
    ("Which officer leads the Incentive Funding decision?", {"person"}),
    ("How many members backed the motion on devolution?", {"count", "vote"}),
    ("How many councillors were in favour of the plan?", {"count", "vote"}),
    # A report "presented" to a panel, or a committee's chair, does not make a question ask who.
    ("What was the youth reoffending rate in the annual report presented to the panel?", {"percentage"}),
    ("What did the committee chair say about the consultation?", set()),
    # Why something was done asks for its reason; reasons that are the subject do not.
    ("Why did First Bus withdraw the 73 bus from Lockleaze?", {"reason"}),
    ("What reasons did officers give for Leicester dropping its levy?", {"reason"}),
    ("Which of the call-in reasons were accepted as valid?", set()),
    # An opening clause sets the scene; what follows the comma is the question.
    ("When Cabinet reconsidered the family hubs decision in March, what did it resolve?", {"decision"}),
    ("When the committee set up the task and finish group, who was named to chair it?", {"person"}),
    ("When Kent reviewed the call-in, did it send the decision back?", {"decision", "yes_no"}),
    ("After the re-baseline, what is the scheme's revised allocation?", {"amount"}),
    ("If the levy goes ahead, when would it start operating?", {"date"}),
    ("When is the final plan due to go to the DfT?", {"date"}),
    ("When did Cabinet agree the budget, and who presented it?", {"date"}),
    # A main clause that names no kind ("what was the result?") is asking about the scene.
    ("When the committee voted on recommendation 4c, what was the result?", {"vote", "decision"}),
    ("Once the petition was debated, what happened next?", set()),
    # A date by another name, or by its own name without "what date".
    ("What's the latest planned finish date for the business case?", {"date"}),
    ("What revised timing does the March update give for the surveys?", {"date"}),
    ("What is the date of the next meeting?", {"date"}),
    ("What was spent to date on the scheme?", {"amount"}),
    ("Of the 124 assessments, how many were completed within timescale?", {"count"}),
    ("What did the committee formally accept about the disruption?", {"decision"}),
    # A colour is a rating asked for, or names a thing.
    ("Which of the KPIs came out red in the Q3 report?", {"rating"}),
    ("Which indicators were red or amber?", {"rating"}),
    ("Where is Bristol going to try out red-coloured cycle lanes?", set()),
    ("What did the Mayor say about green buses?", set()),
    ("What were the awards for Housing and Green Infrastructure?", set()),
])
def test_the_kind_of_answer_a_question_asks_for(question, kinds):
    assert analyse_question(question).asks == kinds


def test_the_subject_leaves_out_the_words_that_only_say_what_kind_of_answer_is_wanted():
    assert analyse_question("How many agency social workers did Sunderland have?").subject == ["agency", "social", "workers", "sunderland"]
    # "decide" asks for a decision; the record says "APPROVE", never "decide"
    assert analyse_question("What did the Cabinet Member decide about Seashells?").subject == ["cabinet", "member", "seashells"]


def test_a_possessive_is_read_as_its_noun():
    # "Councillor Self's amendment" is about Councillor Self, whose name the minutes print without the "'s"
    assert analyse_question("Who seconded Councillor Self's amendment?").subject == ["seconded", "councillor", "self", "amendment"]


@pytest.mark.parametrize(("kind", "line", "holds"), [
    ("amount", "The directorate forecasts an overspend of £35.4m.", True),
    ("amount", "The directorate forecasts an overspend.", False),
    ("percentage", "Re-referrals fell to 22.2%.", True),
    ("date", "The contracts end on 31 March 2025.", True),
    ("date", "The contracts end soon.", False),
    ("person", "The report was presented by Councillor Sue Chandler.", True),
    ("decision", "RESOLVED that the plan be adopted.", True),
    ("decision", "The plan has been published.", False),
    ("decision", "B. DELEGATE authority to the Corporate Director of Adult Social Care", True),
    ("decision", "RPS Pay and Display changes - Approved a rounded 22% increase", True),
    ("decision", "The Transport and Connectivity Committee approved a trial of red cycleways.", True),
    ("decision", "On being put to the vote the recommendation was LOST.", True),
    ("decision", "Title and summary of Decision: Incentive Funding", False),
    ("decision", "It was noted that this was a key decision.", False),
    ("vote", "The recommendation was LOST (4 members voting in favour, 5 against).", True),
    ("vote", "Approve an increase of £56 to £124 for first vehicle permits.", False),
    ("target", "Reduction in re-referrals from 23% to 15%", True),
    ("target", "Re-referrals were 23% in 2003 and 15% in 2004.", False),
    ("target", "The target is 85% by 31 March 2005.", True),
    ("reason", "The removal of the 73 was instigated to better utilise their new depot south of Keynsham.", True),
    ("reason", "The programme was adjusted due to a lower-than-expected response rate.", True),
    ("reason", "The 73 bus ran every 20 minutes through Lockleaze.", False),
])
def test_a_line_holds_the_kind_of_thing_asked_for(kind, line, holds):
    assert carries_kind(kind, "What is it?", line) is holds


def test_a_figure_the_question_already_states_is_not_an_answer_to_how_many():
    assert not carries_kind("count", "How many of the 222 assessments were late?", "There were 222 assessments.")
    assert carries_kind("count", "How many of the 222 assessments were late?", "Of the 222, 31 were late.")


def test_table_row_lines_are_whole_units_and_parse_into_label_and_cells():
    text = ("Table 2: Revenue forecast by directorate\n"
            "Children, Young People & Education | Budget: £400.1m | Forecast variance: -£9.9m\n"
            "Adult Social Care & Health | Budget: £600.2m | Forecast variance: +£35.4m. Overspend.")
    units = [text[s:e] for s, e in sentence_units(text, (1, 2))]
    assert units[1].startswith("Children, Young People & Education |") and units[1].endswith("-£9.9m")
    assert units[2].endswith("Overspend."), "a row is never cut at a full stop inside a cell"
    row = parsed_row(units[1])
    assert row.label == "Children, Young People & Education"
    assert ("Forecast variance", "-£9.9m") in row.cells
    heading = "3b | Children, Young People & Education. The directorate is underspent."
    assert len(sentence_units(heading)) == 2, "a line with a bar that is not a recorded row is prose"


def test_a_row_of_headed_values_alone_continues_the_row_above_and_a_label_with_a_colon_does_not():
    kpi = ("Key Performance Indicators\n"
           "Percentage of routine pothole repairs completed within 28 days | RAG rating Latest: GREEN\n"
           "Latest: 94% | Target: 90%, Floor: 80% | Previous: 97% (Green)")
    units = [kpi[s:e] for s, e in sentence_units(kpi, (1, 2))]
    assert len(units) == 2 and units[1].endswith("Previous: 97% (Green)"), "the measure and its figures are one quote"
    # WECA's capital projects are labelled by directorate: "TRA: ..." under the same headers as the row above.
    projects = ("Appendix 7 Capital Projects\n"
                "TRA: Bristol City Centre - Union Street | Current Budget £000s: 4,200 | Outturn £000s: 1,126\n"
                "TRA: Bristol Regional Cycling Hub | Current Budget £000s: 30 | Outturn £000s: 1,167")
    units = [projects[s:e] for s, e in sentence_units(projects, (1, 2))]
    assert units[1:] == projects.split("\n")[1:]


def hit_of(text: str, rank_score: float = 1.0, authority: str = "Kent County Council", date: str = "2025-01-30",
           rows: tuple[int, ...] = (), title: str = "Finance monitoring") -> Hit:
    meta = DocumentMeta(authority=authority, committee="Cabinet", date=date, title=title)
    chunk = Chunk(chunk_id=1, doc_id="d", ordinal=0, text=text, kind="paragraph", page=3,
                  table_rows=[TableRowRef(line, 3, n) for n, line in enumerate(rows, start=1)])
    return Hit(chunk=chunk, document=Document("d", "d.pdf", "pdf", "x", 10, 1, meta), score=rank_score)


def numbered(hits: list[Hit]) -> list[Hit]:
    """The hits, each its own passage (chunk ids in rank order), as a wider ranking is."""
    for number, hit in enumerate(hits):
        hit.chunk.chunk_id = number
    return hits


def asked(question: str, hits: list[Hit], period_text: str = "") -> AskedQuestion:
    analysis = analyse_question(question)
    return AskedQuestion(analysis, {t: 1.0 for t in analysis.terms}, hits, None, 5.0, period_text=period_text)


def test_candidates_carry_their_table_caption_and_the_line_before():
    text = "Table 2: Revenue forecast\nCYPE | Forecast variance: -£9.9m\nASCH | Forecast variance: +£35.4m"
    candidates = candidate_lines([hit_of(text, rows=(1, 2))])
    rows = [c for c in candidates if c.row is not None]
    assert [c.caption for c in rows] == ["Table 2: Revenue forecast"] * 2
    assert rows[1].previous == rows[0].text


def test_a_line_read_again_for_another_question_keeps_what_it_is_but_not_its_scores():
    hit = hit_of("The target is 85% by 31 March 2005. The providers were told in writing.")
    line = chunk_lines(hit.chunk)[0]
    first, second = line.placed(0), line.placed(3)
    feature_matrix([first], asked("What was the target?", [hit]), list(FEATURES))
    assert first.features and first.holds["target"] is True and "target" in first.holds["said"]
    assert second.hit_rank == 3 and second.features == {} and second.holds == {}
    assert second.quantities == frozenset({"85"}), "facts of the line itself are shared, not worked out again"
    dated = feature_matrix([second], asked("When is the deadline?", [hit, hit, hit, hit]), ["date_match", "kind_match"])
    assert dated.tolist() == [[1.0, 1.0]] and second.holds == {"date": True}


def test_a_lead_row_named_by_its_label_and_a_column_names_the_cell():
    text = ("Referrals to children's social care\nSunderland | July: 2351 | August: 1817\nLeeds | July: 1903 | August: 1650\n"
            "The comparison shows that more contacts are made to the Sunderland MASH.")
    hits = [hit_of(text, rows=(1, 2))]

    def named(question: str) -> list[float]:
        lines = [c for c in candidate_lines(hits) if c.text.startswith(("Sunderland", "Leeds", "The comparison"))]
        return [cell_named(asked(question, hits), line) for line in lines]

    # Sunderland's row and July's column; Leeds's row, July named but not Leeds; a sentence has no cells.
    assert named("How many contacts did Sunderland receive in July?") == [1.0, 0.0, 0.0]
    assert named("How many contacts did Sunderland receive?") == [0.0, 0.0, 0.0], "the row alone names no cell"


def test_features_are_computed_for_every_candidate_in_the_order_asked():
    hits = [hit_of("The contracts end on 31 March 2025. The providers were told in writing.")]
    question = asked("When do the contracts end?", hits)
    candidates = candidate_lines(hits)
    names = list(FEATURES)
    matrix = feature_matrix(candidates, question, names)
    assert matrix.shape == (2, len(names))
    date_match = names.index("date_match")
    assert matrix[0, date_match] == 1.0 and matrix[1, date_match] == 0.0


@pytest.mark.parametrize(("line", "states"), [
    ("continuing to achieve the target of 25.0% or lower.", True),
    ("Reduction in re-referrals from 23% to 15%", True),
    ("Target: 80% of assessments on time", True),
    ("a 95% target for the year", True),
    ("This takes the rate to 21.5% which is 2.4% lower than target.", False),
    ("Performance against target was 77%.", False),
    ("The 2005 target is under review.", False),
])
def test_a_target_value_is_a_line_that_states_the_target_not_one_measured_against_it(line, states):
    question = asked("What was the re-referral target?", [hit_of(line)])
    assert target_value(candidate_lines(question.hits)[0], question) == float(states)


@pytest.mark.parametrize(("question", "line", "measured"), [
    ("What was the re-referral target?", "This takes the rate to 21.5% which is 2.4% lower than target.", True),
    ("What was the re-referral target?", "The rate was 77%, above the national target.", True),
    ("What was the re-referral target?", "Timeliness is now on target.", True),
    ("What was the re-referral target?", "Reduction in re-referrals from 23% to 15%", False),
    ("What was the re-referral target?", "We are below the target of 25.0%.", False),
    ("What was the re-referral rate?", "This takes the rate to 21.5% which is 2.4% lower than target.", False),
    # Asking how it did against the target asks for the measure, not the target's value.
    ("Re-referrals: year to date rate against target?", "This takes the rate to 21.5% which is 2.4% lower than target.", False),
    ("What share of plans were issued in time, against its 60% target?", "The rate was 77%, above the target.", False),
    ("How close was it to its target?", "Timeliness is now on target.", False),
])
def test_a_line_measured_against_a_target_without_its_value_is_told_apart_for_a_target_question(question, line, measured):
    question = asked(question, [hit_of(line)])
    assert target_measured(candidate_lines(question.hits)[0], question) == float(measured)


def test_a_row_whose_target_column_holds_a_figure_states_a_target():
    text = "Key indicators\nRe-referrals | Latest: 22.2% | Target: 25.0%"
    question = asked("What was the re-referral target?", [hit_of(text, rows=(1,))])
    row = next(c for c in candidate_lines(question.hits) if c.row is not None)
    assert target_value(row, question) == 1.0


def test_a_line_holding_the_kind_asked_for_says_the_word_for_it():
    """"Reduction in re-referrals from 23% to 15%" answers "what was the re-referral target?" without the word."""
    hits = [hit_of("Reduction in re-referrals from 23% to 15%. Re-referrals are audited monthly.")]
    question = asked("What was the re-referral target?", hits)
    target_line, other = candidate_lines(hits)
    assert subject_overlap(target_line, question) == 1.0
    assert subject_overlap(other, question) < 1.0


@pytest.mark.parametrize(("question", "answering", "other"), [
    ("What was decided on the Seashells hub?", "APPROVE the proposal to close the Seashells hub.", "The Seashells hub opened in 2019."),
    ("How many members voted in favour of the 20mph plan?", "The 20mph plan was LOST (2 voting for, 7 against).",
     "The 20mph plan covers 12 streets."),
])
def test_a_decision_or_a_vote_says_the_words_that_ask_for_it(question, answering, other):
    hits = [hit_of(f"{answering} {other}")]
    first, second = candidate_lines(hits)
    assert context_overlap(first, asked(question, hits)) > context_overlap(second, asked(question, hits))


def test_bare_figures_in_a_table_with_a_money_unit_are_amounts():
    rows_text = "All figures in £m\nChildren, Young People & Education | Revenue Budget: 430.6 | Revenue Variance: -9.9"
    question = asked("What is the forecast variance for children's services?", [hit_of(rows_text, rows=(1,))])
    row = next(c for c in candidate_lines(question.hits) if c.row is not None)
    assert not carries_kind("amount", question.analysis.text, row.text), "the row alone shows no £"
    assert line_holds("amount", row, question), "its table's caption gives the unit"
    counts = asked("What is the forecast variance?", [hit_of("Caseloads\nSouth | Cases: 430 | Change: -9", rows=(1,))])
    assert not line_holds("amount", next(c for c in candidate_lines(counts.hits) if c.row is not None), counts)


def test_bare_figures_in_a_table_with_a_money_unit_are_not_counts():
    money = "All figures in £m\nHigh Needs Block | 2024-25 Budget: 337.9 | 2024-25 Forecast: 392.8"
    question = asked("How many pupils were funded from the High Needs Block?", [hit_of(money, rows=(1,))])
    assert not line_holds("count", next(c for c in candidate_lines(question.hits) if c.row is not None), question)
    pupils = "Pupil numbers\nHigh Needs Block | 2024-25 Pupils: 3,379 | Change: 120"
    question = asked("How many pupils were funded from the High Needs Block?", [hit_of(pupils, rows=(1,))])
    assert line_holds("count", next(c for c in candidate_lines(question.hits) if c.row is not None), question)


@pytest.mark.parametrize(("question", "line", "holds"), [
    ("How many children in Kent are educated at home?", "Officers engage with families within 10 school days.", False),
    ("How many voted for it?", "Westbury hill - 90 minutes free parking", False),
    ("How many days did the review take?", "The review took 35 working days.", True),
    ("How many contacts a day did Sunderland handle?", "Sunderland handled 105 a day.", True),
])
def test_a_figure_measuring_time_counts_only_for_a_question_counting_time(question, line, holds):
    question = asked(question, [hit_of(line)])
    assert line_holds("count", candidate_lines(question.hits)[0], question) is holds


@pytest.mark.parametrize(("line", "names"), [
    ("Adam Crowther    Job title:", True),
    ("Shellina Prendergast (Chair), Paul Bartlett (Vice-Chair)", True),
    ("Zephyrine Quaddle, Head of City Transport", True),
    ("Councillor Self moved an amendment", True),
    ("Revenue Cost | £1m | Source of Revenue Funding | Clean Air Zone", False),
    ("The Workplace Parking Levy was considered.", False),
    ("Child Protection Plans rose by ten.", False),
])
def test_a_person_is_a_titled_name_a_given_name_pair_or_a_name_with_a_role(line, names):
    assert names_a_person("Who wrote the report?", line) is names


def test_a_heading_or_an_introduction_is_a_fragment_but_a_short_row_of_figures_is_not():
    question = asked("What was the target?", [])
    lines = {"Performance against targets": 1.0, "The changes are as follows:": 1.0, "Latest: 175 Target: 180 Floor:": 0.0,
             "The target of 85% was met in March.": 0.0, "Decision, item 5: Waste and recycling collection contract": 1.0,
             "Recommendation 6 - Temple Gate and West End car parks": 1.0, "9 Policy Decision on Cycleway Legibility": 1.0,
             "37. Suffolk achieved 9.6% compared with 5.2% nationally.": 0.0}
    for text, expected in lines.items():
        candidate = candidate_lines([hit_of(text)])[0]
        assert fragment(candidate, question) == expected, text


def test_a_reference_number_is_not_a_count():
    assert not carries_kind("count", "How many spaces does the car park have?", "Recommendation 6 - Temple Gate car parks")
    assert carries_kind("count", "How many spaces does the car park have?", "Appendix 2 lists 540 spaces.")


def test_a_label_naming_someone_may_lead_only_an_answer_to_who():
    hits = [hit_of("Question 2 – Melissa Blackburn")]
    label = candidate_lines(hits)[0]
    assert fragment(label, asked("Who asked question 2?", hits)) == 1.0
    assert can_lead(label, asked("Who asked question 2?", hits))
    assert not can_lead(candidate_lines(hits)[0], asked("What was question 2 about?", hits))


def test_a_word_every_header_shares_and_a_caption_s_note_of_units_name_no_cell():
    text = ("Summary (3b | Children, Young People & Education (All figures in £m))\n"
            "Total | Revenue Budget: 430.7 | Revenue Forecast: 420.8 | Revenue Variance: -9.9")
    hits = [hit_of(text, rows=(1,))]
    total = next(c for c in candidate_lines(hits) if c.row is not None)
    assert total.header_words == (("budget",), ("forecast",), ("variance",))
    assert total.label_words == ("children", "young", "people", "education")
    question = asked("What is the variance for Children, Young People and Education?", hits)
    assert header_named(total, question) == 1.0 and label_named(total, question) == 1.0


def test_a_signed_input_cannot_turn_round():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] - x[:, 1] + rng.normal(scale=0.5, size=400) > 0).astype(int)  # the second input lowers the chance
    free = fitted_logistic(x, y, ["a", "b"], 1.0)
    held = fitted_logistic(x, y, ["a", "b"], 1.0, {"b": 1})
    assert free.weights[1] < -0.5 and held.weights[1] == 0.0 and held.weights[0] > 0.5


def test_a_financial_year_is_not_a_quantity():
    assert quantities_in("In 2024-25 there were 12 posts") == frozenset({"12"})
    assert counts_in("The 2024/25 budget is £3m for 40 places") == frozenset({"40"})
    assert not counts_in("Children who receive one of the support packages in the quarter"), "'one of' counts nothing"


def test_a_question_naming_a_row_and_a_column_outright_names_that_cell():
    text = "Contacts by month\nSunderland | July: 2351 | August: 1817 | September: 2253\nLeeds | July: 1480 | August: 1390 | September: 1502"
    hits = [hit_of(text, rows=(1, 2))]
    question = asked("In the comparison with Leeds, how many contacts did Sunderland get in September?", hits)
    sunderland, leeds = [c for c in candidate_lines(hits) if c.row is not None]
    assert header_named(sunderland, question) == 1.0
    assert label_named(sunderland, question) == 1.0 and label_named(leeds, question) == 1.0
    other = asked("How many contacts were there in the autumn?", hits)
    assert header_named(sunderland, other) == 0.0 and label_named(sunderland, other) == 0.0


def test_a_row_the_question_names_only_to_compare_with_or_as_its_source_is_not_its_subject():
    text = "Contacts by month\nSunderland | July: 2351 | August: 1817\nLeeds | July: 1480 | August: 1390\nEngland | July: 900"
    hits = [hit_of(text, rows=(1, 2, 3))]
    sunderland, leeds, england = [c for c in candidate_lines(hits) if c.row is not None]
    compared = asked("How many contacts did Sunderland receive in July, comparing it with Leeds?", hits)
    assert label_compared(leeds, compared) == 1.0 and label_compared(sunderland, compared) == 0.0
    both = asked("How many contacts did Leeds receive in July, compared with Sunderland and Leeds together?", hits)
    assert label_compared(leeds, both) == 0.0, "Leeds is also named outside the comparison"
    source = asked("What was the England rate in July, as shown in the Sunderland paper?", hits)
    assert label_compared(sunderland, source) == 1.0 and label_compared(england, source) == 0.0


@pytest.mark.parametrize(("question", "line", "matches"), [
    ("When did the Healthy Living Centre funding begin?", "The funding commenced on 1 January 2025.", 1.0),
    ("When did the Healthy Living Centre funding begin?", "Millmead accepted funding in March 2024.", 0.0),
    ("Until when is the programme funded?", "Funding for the programme runs until March 2027.", 1.0),
    ("When was government intervention lifted?", "Following the removal of Government Intervention on 6 June 2013, the board met.", 1.0),
    ("How much funding began in 2024?", "The funding commenced on 1 January 2025.", 0.0),
    ("On what date did the forum consider the change requests?", "The forum considered the change requests on 7 May 2026.", 1.0),
    ("On what date did the forum consider the change requests?", "In April 2026 a forum was established.", 0.0),
    ("When was the forum set up?", "In April 2026 a forum was established.", 1.0),
    ("When did Cabinet approve the plan?", "Cabinet approved the plan on 30 January 2025.", 1.0),
    ("When was the strategy published?", "The strategy was published in June 2024.", 1.0),
])
def test_a_date_question_prefers_the_line_saying_the_event_it_asks_about(question, line, matches):
    hits = [hit_of(line)]
    assert event_match(candidate_lines(hits)[0], asked(question, hits)) == matches


def test_a_threshold_set_on_resamples_does_not_hang_on_one_question():
    # Right 9 times in 10 all the way down: an answer threshold for precision 0.9 can sit at the bottom. Make the
    # single most confident answer wrong and, chosen once, no threshold reaches 0.9 any more: it jumps to 1.0.
    outcomes = [Outcome(1 - i / 100, i % 10 != 9, True, False) for i in range(1, 61)]
    flipped = [Outcome(o.confidence, o.correct != (i == 0), True, False) for i, o in enumerate(outcomes)]
    assert answer_threshold(outcomes, 0.0, 0.9) == pytest.approx(0.4) and answer_threshold(flipped, 0.0, 0.9) == 1.0
    steady = [resampled_median(o, lambda sample: answer_threshold(sample, 0.0, 0.9)) for o in (outcomes, flipped)]
    assert steady[1] - steady[0] < 0.1 and steady[0] < 0.5


def test_a_decision_question_also_reads_the_best_passage_that_records_a_decision():
    texts = ["Background: the hubs were reviewed in 2023.", "The Cabinet Member reported on the proposed decision.",
             "Consultation ran for eight weeks.", "Decision: APPROVE the proposal to not re-commission the hubs.",
             "RESOLVED that the plan be noted."]
    wide = numbered([hit_of(text) for text in texts])
    read = wide[:3]
    assert decision_record_hit(answer_kinds("What did the Cabinet Member decide about the hubs?"), read, wide) == [wide[3]]
    assert decision_record_hit(answer_kinds("How long did the consultation run?"), read, wide) == []
    assert decision_record_hit(answer_kinds("What did the Cabinet Member decide about the hubs?"), wide[:4], wide) == [wide[4]]
    assert decision_record_hit(answer_kinds("What did the Cabinet Member decide about the hubs?"), wide[:3], wide[:3]) == []


def test_a_decision_question_reads_the_record_of_a_paper_that_records_decisions_before_a_reports_account():
    texts = ["Background to the call-in.", "The Scrutiny Committee resolved to refer the matter to full Council.",
             "Members debated the call-in.", "RESOLVED that Council makes comments but does not require reconsideration."]
    wide = numbered([hit_of(text) for text in texts[:3]] + [hit_of(texts[3], title="Minutes of the County Council")])
    asks = answer_kinds("What did full Council decide about the call-in?")
    assert decision_record_hit(asks, wide[:1], wide) == [wide[3]]
    # With no paper that records decisions, the best record of one in any paper.
    assert decision_record_hit(asks, wide[:1], wide[:3]) == [wide[1]]


def test_a_question_asking_for_a_figure_also_reads_the_best_table_passage_ranked_below():
    # The prose that speaks of the measure outranks the table whose row holds the figure asked for.
    texts = ["The number of unaccompanied asylum-seeking children (UASC) in care decreased by 80 to 475.",
             "Children in Care\nNon-UASC | Jun-24: 1,444 | Sep-24: 1,434\nUASC | Jun-24: 476 | Sep-24: 555",
             "Care Leavers\nUASC care leavers | Sep-24: 1,010"]
    wide = numbered([hit_of(text, rows=(1, 2) if "|" in text else ()) for text in texts])
    wide[1].chunk.kind = wide[2].chunk.kind = "table"
    count = analyse_question("How many UASC were in care in September 2024?")
    assert table_hit(count, wide[:1], wide) == [wide[1]]
    assert table_hit(count, wide[:2], wide) == [wide[2]]  # the next table, when the best is read already
    assert table_hit(count, wide[:1], wide[:1]) == []
    assert table_hit(analyse_question("When did the number of UASC in care fall?"), wide[:1], wide) == [wide[1]]
    assert table_hit(analyse_question("Who presented the report on children in care?"), wide[:1], wide) == []
    assert table_hit(analyse_question("What did the Cabinet decide about children in care?"), wide[:1], wide) == []


def test_a_question_about_who_wrote_a_paper_also_reads_its_passage_naming_the_author():
    # A report's contact details say little else, so they rank below the passages about its subject.
    texts = ["From: Richard Smith, Corporate Director, Adult Social Care", "The service supports 925 young adults.",
             "Report Authors:\nSharon Howard Assistant Director", "Report Author: Pete Davis"]
    wide = numbered([hit_of(text) for text in texts])
    wide[3].document = Document("other", "other.pdf", "pdf", "x", 10, 1, wide[3].document.meta)
    wrote = analyse_question("Who wrote the report on the service?")
    assert role_record_hit(wrote, wide[:2], wide) == [wide[2]]
    assert role_record_hit(wrote, [wide[3]], wide[:3]) == []  # only the best passage's own paper
    assert role_record_hit(analyse_question("How many young adults does the service support?"), wide[:2], wide) == []
    assert role_record_hit(analyse_question("Who chaired the meeting?"), wide[:2], wide) == []
    # An attendance list, all names, may not rank at all: it is then read from the paper itself, unranked.
    present = Chunk(chunk_id=9, doc_id="d", ordinal=0, text="PRESENT: Mr B J Sweetland (Chairman), Mr A M Ridgers", kind="paragraph", page=1)
    papers = {"d": [wide[0].chunk, present]}
    chaired = role_record_hit(analyse_question("Who chaired the meeting?"), wide[:2], wide[:2], lambda doc_id: papers.get(doc_id, []))
    assert [(hit.chunk.chunk_id, hit.score) for hit in chaired] == [(9, 0.0)]
    assert role_record_hit(analyse_question("Who spoke about the service?"), wide[:2], wide[:2], lambda doc_id: papers.get(doc_id, [])) == []


@pytest.mark.parametrize(("question", "text", "line", "recorded"), [
    ("Who wrote the report?", "Report Authors:\n\nSharon Howard Assistant Director", "Sharon Howard Assistant Director", 1.0),
    ("Who wrote the report?", "From: Richard Smith, Corporate Director", "From: Richard Smith, Corporate Director", 0.0),
    ("Who chaired the meeting?", "PRESENT: Mr A Booth (Chairman), Mrs R Binks", "PRESENT: Mr A Booth (Chairman), Mrs R Binks", 1.0),
    ("Who chaired the meeting?", "The Chairman held a silence in memory of Mr Matthew Balfour.",
     "The Chairman held a silence in memory of Mr Matthew Balfour.", 0.0),
    ("How many staff transfer?", "Report Authors:\n\nSharon Howard Assistant Director", "Sharon Howard Assistant Director", 0.0),
])
def test_a_who_question_about_a_part_prefers_the_line_where_the_paper_records_who_played_it(question, text, line, recorded):
    hits = [hit_of(text)]
    candidate = next(c for c in candidate_lines(hits) if line in c.text)
    assert role_record(candidate, asked(question, hits)) == recorded


def test_a_total_row_is_labelled_by_its_table_s_caption():
    text = "3b | Children, Young People & Education\nSpecial Needs Transport | Revenue Variance: -5.0\nTotal | Revenue Variance: -9.9"
    hits = [hit_of(text, rows=(1, 2))]
    question = asked("What is the forecast variance for Children, Young People and Education?", hits)
    transport, total = [c for c in candidate_lines(hits) if c.row is not None]
    assert label_named(total, question) == 1.0 > label_named(transport, question)


@pytest.mark.parametrize(("text", "financial"), [
    ("Q3 24/25 performance", {"2024-25"}),
    ("Year 1 costs (09-10): £584,000", {"2009-10"}),
    ("Forecast 22/23 23/24", {"2022-23", "2023-24"}),
    ("Reprofiling £665,000 from 25/26 to 26/27", {"2025-26", "2026-27"}),
    ("1999/00 outturn", set()),  # a four-digit year with its two-digit end is read as before, not as two digits
    ("99/00 outturn", {"1999-00"}),
    ("met on 10/11/2024", set()),  # a date
    ("between £10-11m", set()),
    ("pupils aged 10-11", set()),
    ("pupils in Years 10-11", set()),
    ("see pages 12-13", set()),
    ("on 12/13 March", set()),
    ("a rise of 10-11 per cent", set()),
    ("12-14 children", set()),  # not one year after the other
])
def test_a_financial_year_written_in_two_digits_is_read_in_full(text, financial):
    assert short_financial_years(text) == financial


@pytest.mark.parametrize(("question", "line", "conflict"), [
    ("What was the average caseload in December 2023?", "The average caseload was 21 children in December 2024.", 1.0),
    ("What was the average caseload in December 2024?", "The average caseload was 21 children in December 2024.", 0.0),
    ("How many families attended in 2022/23?", "In the year 2023/24, 1869 families attended sessions.", 1.0),
    ("How many families attended in 2023?", "In the year 2023/24, 1869 families attended sessions.", 0.0),
    ("How many families attended in 2022/23?", "1869 families attended sessions.", 0.0),
    ("How many families attended?", "In the year 2023/24, 1869 families attended sessions.", 0.0),
    ("What was the vacancy rate in 2025?", "Vacancy rates fell from 20% in 2002 to 14.4% currently.", 0.0),
    ("What was the vacancy rate in 2025?", "Vacancy rates fell from 20% in 2002 to 14.4% in 2004.", 1.0),
    ("What was the rate per 10,000 in 2025?", "West Sussex | 2021: 42.8 | 2022: 46.1 | 2023: 44.9 | 2024: 46.9", 1.0),
    # A year given as the paper's date is the paper's to match, whatever years the line speaks of.
    ("How many children were on the register in the 2025 report?", "The register rose from 307 to 400 in 2004.", 0.0),
    ("How many children were on the register in the 2024 report?", "The register rose from 307 to 400 in 2024.", 1.0),
    # So is a month and year that are the paper's: what was adopted in January 2025 is in that meeting's papers.
    ("What target did Cabinet adopt in January 2025?", "The target is 400 cycle hangars by 2030.", 0.0),
    ("What target did Cabinet adopt in March 2025?", "The target is 400 cycle hangars by 2030.", 1.0),
    ("What target did Cabinet adopt in January 2024?", "The target is 400 cycle hangars by 2030.", 1.0),
    # A financial year in two digits is the same year in full.
    ("What was the saving in 2024-25?", "This results in an additional saving in 23-24 of approximately £0.4m.", 1.0),
    ("What was the saving in 2024-25?", "This results in an additional saving in 24-25 of approximately £0.4m.", 0.0),
    ("What was the headroom to 27/28?", "The headroom to 2027/28 would stand at £6.6m.", 0.0),
    ("What was the headroom to 27/28?", "The headroom to 2026/27 would stand at £6.6m.", 1.0),
])
def test_a_line_naming_only_other_years_than_the_one_asked_conflicts_with_it(question, line, conflict):
    hits = [hit_of(line)]  # a paper of January 2025
    assert year_conflict(candidate_lines(hits)[0], asked(question, hits)) == conflict


def test_a_quarter_the_question_names_must_frame_the_lead():
    hits = [hit_of("2,183 new support packages were arranged in the quarter.")]
    lead = candidate_lines(hits)[0]
    assert period_absent(asked("How many packages were arranged in Quarter 2?", hits), lead) == 1.0
    assert period_absent(asked("How many packages were arranged?", hits), lead) == 0.0
    framed = [hit_of("In Q2, 2,183 new support packages were arranged.")]
    assert period_absent(asked("How many packages were arranged in quarter 2?", framed), candidate_lines(framed)[0]) == 0.0


@pytest.mark.parametrize(("question", "years"), [
    ("How many children were on Suffolk's child protection register in the 2005 report?", {"2005"}),
    ("In Bristol's October 2025 Workplace Parking Levy update, what was the revised timescale?", {"2025"}),
    ("What re-referral rate did Sunderland report in its February 2016 children's services progress report?", {"2016"}),
    ("What did the transport committee approve at its March 2026 meeting?", {"2026"}),
    ("How many children were looked after at the end of June 2013?", set()),
    ("What did the 2024 figures show in the report?", set()),
    ("What is the target for 2025/26 in the plan?", set()),
])
def test_a_year_followed_by_a_word_for_a_paper_is_the_paper_s_date(question, years):
    assert paper_years(question) == years


@pytest.mark.parametrize(("question", "dates"), [
    ("In Bristol's October 2025 Workplace Parking Levy update, what was the revised timescale?", {"2025-10"}),
    ("How many children were on Suffolk's child protection register in the 2005 report?", {"2005"}),
    ("The January 2026 forward plan spoke of 100 roads; how many did the March 2026 review propose?", {"2026-01", "2026-03"}),
    ("How many children were looked after at the end of June 2013?", set()),
])
def test_the_dates_a_question_gives_the_papers_it_asks_about(question, dates):
    assert paper_dates(question) == dates


def test_every_month_a_question_names_with_its_year():
    assert month_dates("What was adopted in October 2025, and what in Sept 2024?") == {"2025-10", "2024-09"}
    assert month_dates("What was adopted in 2025?") == frozenset()


def test_a_line_from_the_paper_the_question_names_by_its_date_matches_it():
    row = "Modelling and impact assessment | Date: November to January 2026 | Revised date: March to April 2026"
    october, march = hit_of(row, date="2025-10-09", rows=(0,)), hit_of(row, date="2026-03-19", rows=(0,))
    question = asked("In the October 2025 levy update, what was the revised timescale for modelling?", [october, march])
    first, second = candidate_lines([october, march])
    assert (paper_date_match(first, question), paper_date_match(second, question)) == (1.0, 0.0)
    assert paper_date_match(first, asked("What was the revised timescale for modelling?", [october, march])) == 0.0


def test_a_month_the_question_names_may_be_written_short_in_the_lead():
    hits = [hit_of("Apply for a Blue Badge | Online Oct 24 – Dec 24: 87%")]  # a paper of January 2025
    lead = candidate_lines(hits)[0]
    assert period_absent(asked("What share applied online in October to December 2024?", hits), lead) == 0.0
    assert period_absent(asked("What share applied online in March 2024?", hits), lead) == 1.0
    market = [hit_of("The market share online was 87%.")]
    assert period_absent(asked("What share applied online in March 2024?", market), candidate_lines(market)[0]) == 1.0


def test_a_month_the_question_names_may_be_a_numeric_date_or_within_the_quarter_the_paper_reports():
    balance = [hit_of("Smoothing | Opening Balance 01/04/24: -148.7 | Projected Balance 31/03/25: -137.3", rows=(0,))]
    lead = candidate_lines(balance)[0]
    assert period_absent(asked("What balance was the smoothing reserve projected to have at 31 March 2025?", balance), lead) == 0.0
    assert period_absent(asked("What balance did the smoothing reserve have at 30 June 2025?", balance), lead) == 1.0

    def quarterly(title: str) -> list[Hit]:
        hit = hit_of("Homes brought back into use | Latest: 422 | Target: 400", rows=(0,), date="2025-03-19")
        hit.document.meta.title = title
        return [hit]

    report = quarterly("Quarterly Performance Report Q3 2024/25")  # the financial year's third quarter: October to December
    question = "How many homes were brought back into use in the 12 months to December 2024?"
    assert period_absent(asked(question, report), candidate_lines(report)[0]) == 0.0
    assert period_absent(asked("How many homes were brought back into use by September 2024?", report), candidate_lines(report)[0]) == 1.0
    calendar = quarterly("Quarterly Performance Report Q3")  # no financial year beside it: either year's third quarter
    assert period_absent(asked("How many homes were brought back into use by September 2024?", calendar), candidate_lines(calendar)[0]) == 0.0


def test_a_year_in_a_row_s_commentary_cell_is_not_the_row_s_period():
    text = ("Concessionary Travel | Revenue Budget: 13.0 | Revenue Variance: +3.4 | Summary: Update to DfT reimbursement "
            "guidance for 2025-26 following the 2023 review of journeys")
    hits = [hit_of(text, rows=(0,))]
    assert year_conflict(candidate_lines(hits)[0], asked("How far over budget is concessionary travel in 2024-25?", hits)) == 0.0
    dated = [hit_of("High Needs pupils | 2023-24: 16,163 | 2025-26: 17,176", rows=(0,))]
    assert year_conflict(candidate_lines(dated)[0], asked("How many High Needs pupils were there in 2024-25?", dated)) == 1.0


def test_capitalised_words_are_names_not_months_or_quarters():
    assert capitalised_words("How many homes did Kent's No Use Empty bring back in Quarter 3 to December 2024?") == {
        "kent's", "no", "use", "empty"}


@pytest.mark.parametrize(("question", "missing"), [
    ("What annual charge has Glasgow set for its workplace parking levy?", True),  # no passage names Glasgow
    ("What annual charge has Nottingham set for its workplace parking levy?", False),
    ("What annual fee has Nottingham set for its workplace parking levy?", False),  # "fee" is absent, but not a name
])
def test_a_name_the_question_gives_that_no_passage_holds_counts_as_missing(question, missing):
    hits = [hit_of("Nottingham's annual workplace parking levy charge is currently £550.", authority="Bristol City Council")]
    question = asked(question, hits)
    assert (name_missing(question, words_read([question.paper_words, question.passage_words])) > 0) == missing


@pytest.mark.parametrize(("question", "line", "conflict"), [
    ("What was the actual overspend at the year-end outturn?", "Adult Social Care | Revenue Budget: 524.7 | Revenue Forecast: 588.4", 1.0),
    ("How much did the Christmas campaign actually raise?", "Members were asked to help the campaign reach the target of £25,000.", 1.0),
    ("How much did the Christmas campaign actually raise?", "The campaign raised £21,000 against a target of £25,000.", 0.0),
    ("What is the forecast overspend?", "Adult Social Care | Revenue Budget: 524.7 | Revenue Forecast: 588.4", 0.0),
])
def test_a_plan_does_not_answer_a_question_about_what_actually_happened(question, line, conflict):
    hits = [hit_of(line, rows=(0,) if " | " in line else ())]
    assert plan_for_actual(asked(question, hits), candidate_lines(hits)[0]) == conflict


@pytest.mark.parametrize(("title", "records"), [
    ("County Council minutes, 13 March 2025", True),
    ("Decision notice (Decision Recording Forms), 19 March 2026", True),
    ("Record of Decision 24/00093", True),
    # a report about a decision only proposes
    ("County Council review of Decision 24/00093", False),
    ("Finance monitoring", False),
])
def test_a_paper_records_decisions_when_its_title_says_so(title, records):
    assert records_decisions_by_title(title) is records


_TWENTY_MPH_MINUTES = ("2. Approve launching a six-week public engagement on the outcomes of the technical assessment.\n"
                       "3. Authorise the Executive Director for Growth & Regeneration to decide which of the 20mph proposals "
                       "proceed to the Traffic Regulation Order (TRO) process.\n"
                       "On being put to the vote, recommendation 2 was CARRIED unanimously.\n"
                       "On being put to the vote, recommendation 3 FELL (2 voting for, 7 voting against)")
_TARIFF_MINUTES = ("\u201cRecommendation 4c Approves the removal of the 30-minute free parking tariff in all RPS.\u201d\n"
                   "Councillors asked for further work to find another option.\n"
                   "On being put to the vote the recommendation was LOST (4 members voting in favour, 5 against).")


@pytest.mark.parametrize(("question", "text", "outcomes"), [
    # the outcome names the proposal by number: the one asked about is the one whose text says the question
    ("Did the committee let the Executive Director decide which 20mph proposals go forward to the TRO process?", _TWENTY_MPH_MINUTES,
     {"On being put to the vote, recommendation 3 FELL (2 voting for, 7 voting against)"}),
    ("Did the committee agree to launch a public engagement on the 20mph technical assessment?", _TWENTY_MPH_MINUTES,
     {"On being put to the vote, recommendation 2 was CARRIED unanimously."}),
    # by place: under the quoted recommendation
    ("Did councillors agree to remove the 30-minute free parking tariff in residents' parking schemes?", _TARIFF_MINUTES,
     {"On being put to the vote the recommendation was LOST (4 members voting in favour, 5 against)."}),
    # a proposal saying little of the question, or a question not about a decision, names no outcome
    ("Did the committee agree the bus lane enforcement cameras?", _TWENTY_MPH_MINUTES, set()),
    ("How many voted for removing the 30-minute free parking tariff?", _TARIFF_MINUTES.replace("Recommendation 4c ", "Recommendation "), set()),
    ("What is the 30-minute free parking tariff?", _TARIFF_MINUTES, set()),
])
def test_an_outcome_naming_a_proposal_by_number_or_place_answers_for_that_proposal(question, text, outcomes):
    hits = [hit_of(text, title="Transport and Connectivity Policy Committee minutes, 19 March 2026")]
    lines = candidate_lines(hits)
    question_read = asked(question, hits)
    question_read.lines = lines
    assert {line.text for line in lines if outcome_of_asked_proposal(line, question_read)} == outcomes


def test_a_line_of_a_question_put_to_the_council_is_told_from_its_answer():
    text = ("Question 6\n\nQuestion by Mike Sole to Neil Baker, Cabinet Member for Highways\n\n"
            "On 6 February I cycled around the villages and photographed 100 potholes.\n\n"
            "Answer\n\nA team inspected the roads on 10th and 11th March 2025.\n\n"
            "Question 7 \u2013 A Resident\n\nWhy was the 73 bus withdrawn?\n\n"
            "Mayor's Response\n\nIn response to your question, the service was not viable.")
    lines = candidate_lines([hit_of(text)])

    def asked_of(phrase: str) -> float:
        return asked_part(next(c for c in lines if phrase in c.text), None)

    assert asked_of("On 6 February I cycled") == 1.0
    assert asked_of("A team inspected the roads") == 0.0
    assert asked_of("Why was the 73 bus withdrawn?") == 1.0
    assert asked_of("the service was not viable") == 0.0
    # "In response to ..." opens a sentence, not the heading of an answer
    asking = candidate_lines([hit_of("Question 8 \u2013 A Resident\n\nIn response to the survey, why did only 92 firms reply?")])
    assert asked_part(asking[-1], None) == 1.0


def test_a_lead_s_log_odds_are_its_own_score_whatever_lines_share_the_probability():
    model = Logistic(["x"], [1.0], 0.0, [0.0], [1.0], "choice")
    alone = [Candidate(0, 0, 5, "alone", 0)]
    crowded = [Candidate(0, 0, 5, "first", 0), Candidate(0, 6, 12, "second", 1)]
    for lines in (alone, crowded):
        for line, probability in zip(lines, line_probabilities(model, np.full((len(lines), 1), 2.0), np.ones(len(lines), bool))):
            line.probability = float(probability)
    assert crowded[0].probability < alone[0].probability
    assert lead_log_odds(crowded, crowded[0]) == pytest.approx(lead_log_odds(alone, alone[0])) == pytest.approx(2.0)


def test_a_lead_s_log_odds_are_read_no_further_than_the_cap():
    # the leads the line model is surest of are no likelier right: past the cap, a surer score adds nothing
    model = Logistic(["x"], [1.0], 0.0, [0.0], [1.0], "choice")
    odds = []
    for score in (LOG_ODDS_CAP - 1.0, LOG_ODDS_CAP + 2.0, LOG_ODDS_CAP + 8.0):
        line = Candidate(0, 0, 5, "alone", 0)
        line.probability = float(line_probabilities(model, np.full((1, 1), score), np.ones(1, bool))[0])
        odds.append(lead_log_odds([line], line))
    assert odds == pytest.approx([LOG_ODDS_CAP - 1.0, LOG_ODDS_CAP, LOG_ODDS_CAP])


def test_a_lead_framed_by_another_financial_year_conflicts_with_the_one_asked():
    def hit_titled(text: str, title: str) -> Hit:
        hit = hit_of(text, date="2025-03-19")
        hit.document.meta.title = title
        return hit

    report = [hit_titled("Health checks | Latest: 33,550 | Target: 31,000", "Quarterly Performance Report Q3 2024/25")]
    lead = candidate_lines(report)[0]
    assert framed_in_another_year(asked("What is the health checks target for 2025/26?", report), lead) == 1.0
    assert framed_in_another_year(asked("What is the health checks target for 2024/25?", report), lead) == 0.0
    assert framed_in_another_year(asked("What is the health checks target?", report), lead) == 0.0
    dated = [hit_titled("The target for 2025-26 is 31,000 checks.", "Quarterly Performance Report Q3 2024/25")]
    assert framed_in_another_year(asked("What is the target for 2025/26?", dated), candidate_lines(dated)[0]) == 0.0, \
        "a line naming its own year is judged by year_conflict"


def test_a_sum_of_money_or_a_percentage_is_not_a_count():
    question = "How many pupils were funded from the High Needs Block?"
    assert not carries_kind("count", question, "High Needs Block | Forecast: £392.8m")
    assert not carries_kind("count", question, "Pupil numbers rose by 6.3% on the year.")
    assert carries_kind("count", question, "Total Number of Pupils | Latest: 17,176")


def test_the_line_model_shares_its_probability_among_the_lines_that_may_lead_only():
    hits = [hit_of("Decision, item 5: Waste and recycling collection contract\nRESOLVED: to award the contract to Ubico.")]
    question = asked("What did Cabinet decide about the waste and recycling collection contract?", hits)
    candidates = candidate_lines(hits)
    model = Logistic(["subject_overlap"], [5.0], 0.0, [0.0], [1.0], "softmax")
    matrix = feature_matrix(candidates, question, ["subject_overlap"])
    for candidate in candidates:
        candidate.features = {}
    mask = leadable(candidates, question)
    assert mask.tolist() == [False, True], "the heading may not lead"
    probabilities = line_probabilities(model, matrix[mask], mask)
    assert probabilities.tolist() == [0.0, 1.0]


def test_the_lines_scored_are_the_leadable_ones_nearest_the_question():
    mask = np.array([True, False, True, True, True])
    nearness = np.array([0.2, 0.9, 0.5, 0.5, 0.1])
    assert nearest_lines(mask, nearness, 2).tolist() == [False, False, True, True, False], "a line that may not lead is never kept"
    assert nearest_lines(mask, nearness, 3).tolist() == [True, False, True, True, False]
    assert nearest_lines(mask, nearness, 4).tolist() == mask.tolist()


def test_a_line_beyond_the_nearest_scores_0_without_its_features_worked_out():
    hits = [hit_of("The target is 85% by March 2005.\nThe target is 80% by March 2004.\nThe target is 75% by March 2003.")]
    question = asked("What was the target?", hits)
    candidates = candidate_lines(hits)
    for candidate, nearness in zip(candidates, (0.1, 0.9, 0.5)):
        candidate.closeness = nearness
    model = AnswerModel(Logistic(["kind_match"], [1.0], 0.0, [0.0], [1.0], "choice"), Logistic([], [], 0.0, [], []), 0.9, 0.5)
    ranked = scored_candidates(question, candidates, model, 2)
    assert [c.text for c in ranked][:2] == ["The target is 80% by March 2004.", "The target is 75% by March 2003."]
    assert ranked[-1].probability == 0.0 and "kind_match" not in ranked[-1].features
    assert all(c.probability > 0 for c in ranked[:2]) and all("kind_match" in c.features for c in ranked[:2])


def test_the_fit_scores_the_lines_scrutiny_ask_scores_by_the_nearness_the_model_reads():
    hits = [hit_of("Decision, item 5: Waste contract\nThe target is 85% by March 2005.\nThe target is 80% by March 2004.")]
    question = asked("What was the target?", hits)
    candidates = candidate_lines(hits)
    matrix = feature_matrix(candidates, question, list(FEATURES))
    matrix[:, list(FEATURES).index("learned_closeness")] = [0.9, 0.2, 0.7]  # as written out of fold
    matrix[:, list(FEATURES).index("closeness")] = [0.9, 0.8, 0.1]
    example = fit_module.Example(None, question, candidates, 0.5, matrix, np.zeros(3, dtype=np.int8), limit=1)
    every = list(FEATURES)
    assert fit_module.scored_lines(example, every).tolist() == [False, False, True], "the heading is nearest but may not lead"
    without = [name for name in every if name != "learned_closeness"]
    assert fit_module.scored_lines(example, without).tolist() == [False, True, False], "a model without it: by the cosine"
    example.limit = None
    assert fit_module.scored_lines(example, every).tolist() == [False, True, True]


def test_a_line_that_only_echoes_the_question_is_a_restatement():
    question = asked("What was the re-referral target?", [])
    echo = candidate_lines([hit_of("The re-referral target.")])[0]
    answer = candidate_lines([hit_of("Reduction in re-referrals from 23% to 15%")])[0]
    assert restatement(echo, question) > 0.9 > restatement(answer, question)


def test_a_follow_up_inherits_council_subject_and_period_and_says_how_it_was_read():
    read = read_question("and what about 2005?", ["What was Suffolk's re-referral target?"], COUNCILS)
    assert read.text == "What was Suffolk's re-referral target in 2005?"
    assert read.read_as == "Suffolk County Council, re-referral target, 2005"


def test_a_question_about_part_of_what_was_asked_before_is_a_follow_up_however_much_it_names():
    before = "What total budget did Bristol approve for its residents' parking scheme expansion programme in October 2025?"
    read = read_question("how much of that is coming from Clean Air Zone money?", [before], COUNCILS)
    assert read.read_as is not None and read.text.endswith(before)
    assert read_question("How much is coming from Clean Air Zone money for the expansion?", [before], COUNCILS).read_as is None


def test_a_follow_up_naming_its_own_period_is_asked_about_that_period_alone():
    before = "What was Nottingham's annual workplace parking levy charge according to Bristol's September 2024 report?"
    own = read_question("What has it been set at for 2025/26?", [before], COUNCILS)
    assert own.period_text == "What has it been set at for 2025/26?"
    # Without a period of its own, the follow-up asks about the months asked before.
    inherited = read_question("and who set it?", [before], COUNCILS)
    assert inherited.period_text == inherited.text and "September" in inherited.period_text


def test_a_follow_up_naming_another_council_swaps_the_council():
    read = read_question("and in Kent?", ["How many agency social workers did Sunderland have?"], COUNCILS)
    assert read.text == "How many agency social workers did Kent have?"
    assert read.authority == "Kent County Council"


def test_a_follow_up_with_its_own_wording_keeps_it_and_takes_the_subject_from_before():
    read = read_question("who presented it?", ["What did the Cabinet Member decide about the family hubs?"], COUNCILS)
    assert read.text.startswith("who presented it") and "family hubs" in read.text
    assert read.read_as is not None


def test_passages_holding_the_kind_asked_for_are_boosted_by_the_share_of_kinds_they_hold():
    texts = {1: "On being put to the vote the recommendation was CARRIED (8 voting for, 1 against).",
             2: "The committee considered the Workplace Parking Levy report."}
    question = "How did the committee vote on the levy?"
    assert kind_boosts(question, analyse_question(question), texts, 0.2) == {1: 0.2}
    assert kind_boosts("Tell me about the levy", analyse_question("Tell me about the levy"), texts, 0.2) == {}


def test_a_follow_up_asks_for_what_its_own_words_ask_for():
    vote = read_question("and how did the vote on that amendment go?",
                         ["Who moved the amendment to phase in the Easton residents' parking permit price alignment?"], COUNCILS)
    assert analyse_question(vote.text).asks >= {"person", "vote"}  # the question before asked "who"
    assert vote.analysis().asks == {"vote"}
    met = read_question("did they meet it?", ["What was Suffolk's re-referral target?"], COUNCILS)
    assert met.analysis().asks == {"target", "yes_no"}  # still about the target
    later = read_question("and what about 2005?", ["What was Suffolk's re-referral target?"], COUNCILS)
    assert later.analysis().asks == {"target"}


@pytest.mark.parametrize("follow_up, before, text, years", [
    ("And a year later?", "How many children did Suffolk have looked after in January 2004?",
     "How many children did Suffolk have looked after in January 2005?", ("2005",)),
    ("and the year before?", "What was Kent's 2025/26 revenue outturn?", "What was Kent's 2024/25 revenue outturn?", ("2024/25",)),
    ("and two years earlier?", "What was Kent's forecast for 2024-25?", "What was Kent's forecast for 2022-23?", ("2022-23",)),
    # A plan's term is not a period to move, and a question without a period has none to move.
    ("and the year before?", "How did Kent vote on the Local Plan 2024-39?", "How did Kent vote on the Local Plan 2024-39?", ("2024-39",)),
    ("and the following year?", "What was Suffolk's re-referral target?", "What was Suffolk's re-referral target?", ()),
])
def test_a_follow_up_moving_the_period_moves_the_years_asked_before(follow_up, before, text, years):
    read = read_question(follow_up, [before], COUNCILS)
    assert (read.text, read.years) == (text, years)


def test_the_subject_of_a_question_naming_a_financial_year_leaves_the_year_out():
    assert subject_phrase("What was the 2025/26 revenue outturn for Kent?", COUNCILS) == "revenue outturn"


def test_a_follow_up_s_own_words_are_what_was_typed_this_turn():
    row = read_question("And how much is Bristol City Council getting?",
                        ["How much of the cladding remediation funding is going to Avon Fire and Rescue Service?"], COUNCILS)
    assert "bristol" in row.own_terms and "avon" not in row.own_terms
    assert "avon" in analyse_question(row.text).terms, "the question as answered still carries the subject from before"
    assert read_question("What was Suffolk's re-referral target?", [], COUNCILS).own_terms == ()


CLADDING = ("Table 3: Indicative allocation of cladding remediation funding\n"
            "Avon Fire and Rescue Service | 2026/27: £381,353 | Total: £642,082\nBristol City Council | 2026/27: £51,147 | Total: £176,418")
AVON_QUESTION = "How much cladding remediation funding is going to Avon Fire and Rescue Service?"


def followed_up(question: str, history: list[str], hits: list[Hit]) -> AskedQuestion:
    """A follow-up as the answer step sees it: read after `history`, with the words it typed itself."""
    read = read_question(question, history, COUNCILS + ["Bristol City Council"])
    analysis = read.analysis()
    return AskedQuestion(analysis, {t: 1.0 for t in analysis.terms}, hits, None, 5.0, own_terms=read.own_terms)


def test_a_follow_up_s_own_words_pick_its_row_over_the_one_that_answered_before():
    hit = hit_of(CLADDING, rows=(1, 2))
    question = followed_up("And how much is Bristol City Council getting?", [AVON_QUESTION], [hit])
    avon, bristol = [c for c in candidate_lines([hit]) if c.row is not None]
    own = feature_matrix([avon, bristol], question, ["own_overlap", "subject_overlap"])
    assert own[1, 0] > own[0, 0] == 0.0
    assert own[0, 1] > own[1, 1], "as completed, the question matches the row that answered before better"
    # Led by Avon's row, the follow-up is at most a possible answer, however sure the model is.
    assert misses_own_words(question, avon) and not misses_own_words(question, bristol)
    alone = asked("How much cladding remediation funding is going to Bristol City Council?", [hit])
    assert feature_matrix([bristol], alone, ["own_overlap"]).tolist() == [[0.0]]
    assert not misses_own_words(alone, bristol)


@pytest.mark.parametrize("follow_up, before, text", [
    ("and to Bristol City Council?", AVON_QUESTION, "How much cladding remediation funding is going to Bristol City Council?"),
    ("and for CYPE?", "What's the Q3 2024-25 forecast overspend for ASCH at Kent?", "What's the Q3 2024-25 forecast overspend for CYPE at Kent?"),
    ("And at Millmead?", "How many families attended sessions at the Seashells Family Hub in 2023/24?",
     "How many families attended sessions at Millmead in 2023/24?"),
    # Not a name after the preposition, or none after the same preposition before: the follow-up is read as before.
    ("And for the May 2025 meeting?", "What was the deadline for referral for decisions taken at Bristol's committee?",
     "for the May 2025 meeting: What was the deadline for referral for decisions taken at Bristol's committee?"),
    ("and for primary?", "How many secondary forms of entry does the Kent Commissioning Plan identify?",
     "for primary: How many secondary forms of entry does the Kent Commissioning Plan identify?"),
])
def test_a_follow_up_naming_something_else_after_the_same_preposition_swaps_the_name(follow_up, before, text):
    assert read_question(follow_up, [before], COUNCILS + ["Bristol City Council"]).text == text


@pytest.mark.parametrize("follow_up, before, read_as", [
    ("and to Bristol City Council?", AVON_QUESTION, "Bristol City Council, cladding remediation funding is going"),
    ("and for Bond Street?", "After the CRSTS re-baseline, what is the revised allocation for Bristol's Union Street scheme?",
     "Bristol City Council, CRSTS re-baseline, what is the revised allocation: Bond Street"),
])
def test_a_swapped_name_is_what_the_follow_up_is_read_as(follow_up, before, read_as):
    assert read_question(follow_up, [before], COUNCILS + ["Bristol City Council"]).read_as == read_as


def test_a_swapped_name_picks_its_own_row():
    hit = hit_of(CLADDING, rows=(1, 2))
    question = followed_up("and to Bristol City Council?", [AVON_QUESTION], [hit])
    avon, bristol = [c for c in candidate_lines([hit]) if c.row is not None]
    scores = feature_matrix([avon, bristol], question, ["subject_overlap", "label_named"])
    assert scores[1, 0] > scores[0, 0] and scores[1, 1] > scores[0, 1]


def test_a_follow_up_s_inherited_words_mark_the_line_that_answered_before():
    text = ("(iii) Adopt the Kent Minerals and Waste Local Plan 2024-2039 as set out in Appendix B.\n"
            "Following the debate, the Chairman put the motion to the vote and the voting was as follows: For (52)")
    hit = hit_of(text)
    question = followed_up("and when full Council voted on it in March 2025, how many members voted in favour?",
                           ["When did Kent's Cabinet expect to adopt the Minerals and Waste Local Plan?"], [hit])
    adopt, vote = candidate_lines([hit])
    inherited = feature_matrix([adopt, vote], question, ["inherited_overlap"])[:, 0]
    assert inherited[0] > 0.5 > inherited[1]
    alone = asked("How many members voted for adopting the Kent Minerals and Waste Local Plan?", [hit])
    assert feature_matrix([adopt, vote], alone, ["inherited_overlap"]).tolist() == [[0.0], [0.0]]


def test_a_question_that_stands_alone_ignores_the_history():
    read = read_question("What is the forecast overspend for children's social care in Kent?", ["What was Suffolk's target?"], COUNCILS)
    assert read.read_as is None
    assert read.text == "What is the forecast overspend for children's social care in Kent?"


def test_the_subject_phrase_is_the_question_s_own_words():
    assert subject_phrase("How many agency social workers did Sunderland have?", COUNCILS) == "agency social workers"


def test_councils_named_in_a_question_come_from_the_uk_list_or_the_word_council():
    assert councils_named("How many Family Hubs does Medway run?") == ["Medway"]
    assert councils_named("What did West Sussex decide?") == ["West Sussex"]
    assert councils_named("What is the budget of Narnia County Council?") == ["Narnia"]


def test_a_council_is_named_by_its_distinctive_words_whatever_kind_of_body_it_is():
    bodies = ["Bristol City Council", "West of England Mayoral Combined Authority", "Tintern Community Council", "West Sussex County Council"]
    assert named_authority("What did the West of England committee approve in June?", bodies) == "West of England Mayoral Combined Authority"
    assert named_authority("What precept did Tintern set for 2019?", bodies) == "Tintern Community Council"
    assert named_authority("What is Bristol's WPL charge?", bodies) == "Bristol City Council"
    assert named_authority("What was the rate in West Sussex?", bodies) == "West Sussex County Council"
    assert named_authority("How much did the West of England give Bristol?", bodies) is None, "two bodies named: neither steers"


def test_another_body_s_passage_is_about_a_council_when_it_names_it():
    assert mentions_council("West of England Mayoral Combined Authority").search("a report to the West of England Joint Committee")
    assert mentions_council("Bristol City Council").search("Table 16 - BCC allocations for BRISTOL")
    assert not mentions_council("Bristol City Council").search("Bristolian parking zones")
    assert not mentions_council("West Sussex County Council").search("West Berkshire and Sussex")


def test_councils_without_papers_are_those_no_indexed_paper_comes_from():
    assert councils_without_papers("How many Family Hubs does Medway run?", COUNCILS) == ["Medway"]
    assert councils_without_papers("What was Suffolk's target?", COUNCILS) == []
    assert councils_without_papers("How many contacts did Suffolk get, compared with Medway?", COUNCILS) == []


def test_a_council_without_papers_can_be_answered_only_by_a_line_that_names_it():
    hits = [hit_of("Leeds dealt with 3,727 referrals, a rate of 54%. Sunderland dealt with 8,392 referrals.")]
    question = asked("What was the referral rate in Leeds?", hits)
    question.absent_councils = ("Leeds",)
    leeds, sunderland = candidate_lines(hits)
    assert can_lead(leeds, question) and not can_lead(sunderland, question)


def test_a_softmax_line_model_gives_a_distribution_over_a_question_s_lines():
    model = Logistic(["a", "b"], [1.0, -1.0], 0.0, [0.0, 0.0], [1.0, 1.0], "softmax")
    p = model.probabilities(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
    assert p.sum() == pytest.approx(1.0) and p[0] > p[2] > p[1]


def test_a_choice_line_model_leaves_the_rest_to_none_of_the_lines():
    model = Logistic(["a"], [2.0], -1.0, [0.0], [1.0], "choice")
    strong = model.probabilities(np.array([[2.0], [0.0]]))
    weak = model.probabilities(np.array([[-1.0], [-2.0]]))
    assert strong.sum() < 1.0 and strong[0] > strong[1]
    assert weak.max() < 0.1, "lines that all look unlike an answer share little: none of them is the likely outcome"


def test_the_fitted_line_model_learns_when_no_line_answers():
    rng = np.random.default_rng(0)
    groups = []
    for i in range(60):
        x = rng.normal(size=(5, 1))
        labels = np.zeros(5, dtype=np.int8)
        if i % 2 == 0:  # answerable: the answering line stands out
            x[2, 0] += 3.0
            labels[2] = 1
        groups.append((x, labels))
    model = fitted_ranker(groups, ["a"], 1.0)
    assert model.link == "choice" and model.weights[0] > 0
    answerable = model.probabilities(np.array([[0.0], [0.1], [3.0], [-0.2], [0.3]]))
    unanswerable = model.probabilities(np.array([[0.0], [0.1], [0.2], [-0.2], [0.3]]))
    assert answerable.argmax() == 2 and answerable.max() > 0.5 > unanswerable.sum()


def test_the_not_found_threshold_refuses_at_least_the_share_of_unanswerable_questions_asked_for():
    outcomes = [Outcome(0.9, True, True, False), Outcome(0.7, True, True, False), Outcome(0.5, True, True, False),
                Outcome(0.8, False, False, False), Outcome(0.6, False, False, False), Outcome(0.4, False, False, False),
                Outcome(0.3, False, False, False), Outcome(0.2, False, False, False)]
    free = possible_threshold(outcomes, refusal_weight=1.0)
    assert free <= 0.5, "without a floor, answering all three answerable questions is worth refusing 3 of 5"
    floored = possible_threshold(outcomes, refusal_weight=1.0, refusal_floor=0.8)
    assert 0.6 < floored <= 0.7, "refusing 4 of 5 costs the answer at 0.5 but not the one at 0.7"
    assert possible_threshold(outcomes, 1.0, refusal_floor=1.0) > 0.8
    assert rounded_up(0.70000012) == 0.7001 and rounded_up(0.7) == 0.7


def test_the_shipped_answer_model_names_only_features_the_code_computes():
    model = load_answer_model()
    assert set(model.line.features) <= set(FEATURES)
    assert 0.0 <= model.possible_threshold <= model.answer_threshold <= 1.0
    assert model.provenance.get("gold_sha256") and model.provenance.get("fitted"), "a weight says what it was fitted on"


def test_the_learned_closeness_weighs_the_dimensions_that_tell_answering_lines_apart():
    """Lines whose vectors share dimension 0 with the question answer; dimension 1 is noise the cosine counts alike."""
    rng = np.random.default_rng(1)
    examples = []
    for _ in range(40):
        query = np.array([1.0, 1.0, 0.0], dtype=np.float32)
        lines = rng.normal(size=(6, 3)).astype(np.float32)
        lines[:, 1] += 2.0  # every line close on the noisy dimension
        lines[3, 0] += 3.0  # the answering line close on the telling one
        labels = np.zeros(6, dtype=np.int8)
        labels[3] = 1
        examples.append(SimpleNamespace(candidates=[None] * 6, asked=None, labels=labels, meanings=lines * query))
    with patch.object(fit_module, "leadable_lines", lambda example: np.ones(len(example.labels), dtype=bool)):
        model = fit_module.closeness_model(examples, regularisation=1.0)
    weights = np.abs(model.weights)
    assert weights[0] > 3 * max(weights[1], weights[2])
    fitted = AnswerModel(model, model, 0.9, 0.5, closeness=model)
    query, lines = np.array([1.0, 1.0, 0.0]), np.array([[3.0, 2.0, 0.0], [0.0, 2.0, 0.0]])
    assert fitted.learned_closeness(query, lines).argmax() == 0
    loaded = Logistic.from_json(json.loads(json.dumps(fitted.to_json()))["closeness"])
    assert loaded.weights == model.weights
    assert not AnswerModel(model, model, 0.9, 0.5).learned_closeness(query, lines).any(), "no weighting: no learned closeness"


def test_a_broken_model_file_is_a_clear_error(tmp_path):
    path = tmp_path / "model.json"
    data = json.loads(DEFAULT_MODEL.read_text())
    data["line"]["weights"] = data["line"]["weights"][:-1]
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="model.json"):
        load_answer_model(path)
    with pytest.raises(ModelError, match="cannot read"):
        load_answer_model(tmp_path / "missing.json")


def scored(question: AskedQuestion, probabilities: list[float]) -> list:
    """The question's candidate lines with the given line-model probabilities, best first."""
    candidates = candidate_lines(question.hits)
    for candidate, probability in zip(candidates, probabilities):
        candidate.probability = probability
        candidate.features = {}
    return sorted(candidates, key=lambda c: -c.probability)


def test_supporting_lines_are_at_most_two_and_score_a_share_of_the_lead():
    hits = [hit_of("The target is 85% by March. The outturn was 77%. The board met twice during the year. Staff were thanked for their work.")]
    question = asked("What was the target?", hits)
    ranked = scored(question, [0.6, 0.25, 0.1, 0.05])
    supports = supporting_lines(ranked[0], ranked, question, AnswerSettings(support_lines=2, support_ratio=0.15))
    assert [c.text for c in supports] == ["The outturn was 77%.", "The board met twice during the year."]
    assert supporting_lines(ranked[0], ranked, question, AnswerSettings(support_ratio=0.5)) == []


def test_another_council_s_answer_comes_before_more_of_the_lead_s_paper():
    kent = hit_of("Kent's target is 25% or lower. Kent reported 22.2%.", authority="Kent County Council")
    suffolk = hit_of("Suffolk aims to reduce re-referrals from 23% to 15%.", authority="Suffolk County Council")
    suffolk.chunk = Chunk(chunk_id=2, doc_id="s", ordinal=0, text=suffolk.chunk.text, kind="paragraph")
    suffolk.document = Document("s", "s.txt", "txt", "y", None, 1, suffolk.document.meta)
    question = asked("What was the re-referral target?", [kent, suffolk])
    ranked = scored(question, [0.5, 0.3, 0.2])
    supports = supporting_lines(ranked[0], ranked, question, AnswerSettings(support_lines=1, other_council_ratio=0.3))
    assert [question.hits[c.hit_rank].document.meta.authority for c in supports] == ["Suffolk County Council"]


def test_the_composed_answer_leads_with_the_lead_and_cites_every_quoted_span():
    hits = [hit_of("The contracts end on 31 March 2025. The providers were told in writing.")]
    question = asked("When do the contracts end?", hits)
    ranked = scored(question, [0.8, 0.2])
    reading = Reading(question, ranked, ranked[0], [ranked[1]], {}, 0.95, "answer")
    answer = compose_answer("When do the contracts end?", reading)
    assert answer.confidence == "answer" and answer.found
    assert [line.role for line in answer.lines] == ["lead", "support"]
    assert answer.lines[0].text == "The contracts end on 31 March 2025."
    citation = answer.citations[0]
    assert citation.cited and len(citation.highlights) == 2
    assert [citation.text[s:e] for s, e in citation.highlights] == [line.text for line in answer.lines]


def test_a_possible_answer_says_so_and_a_not_found_one_quotes_nothing():
    hits = [hit_of("The contracts end on 31 March 2025.")]
    question = asked("When do the contracts end?", hits)
    ranked = scored(question, [0.9])
    possible = compose_answer("q", Reading(question, ranked, ranked[0], [], {}, 0.5, "possible"))
    assert possible.found and possible.answer.startswith("Possible answer")
    refused = compose_answer("q", Reading(question, ranked, ranked[0], [], {}, 0.1, "not_found"))
    assert not refused.found and not refused.lines and not any(c.cited for c in refused.citations)


def test_a_quoted_table_row_is_cited_with_its_row_and_page():
    text = "Revenue forecast\nCYPE | Forecast variance: -£9.9m\nASCH | Forecast variance: +£35.4m"
    hit = hit_of(text, rows=(1, 2))
    hit.chunk.table_rows = [TableRowRef(1, 6, 2), TableRowRef(2, 7, 3)]
    question = asked("What is the forecast variance for CYPE?", [hit])
    ranked = scored(question, [0.0, 0.9, 0.1])
    lead = next(c for c in ranked if c.text.startswith("CYPE"))
    answer = compose_answer("q", Reading(question, ranked, lead, [], {}, 0.95, "answer"))
    assert answer.citations[0].row == 2 and answer.citations[0].page == 6


def test_a_verdict_does_not_repeat_as_a_line_a_quote_the_lead_already_holds():
    later = hit_of("26. There were 3000 assessments and 77.4% were on time. We have set a target of 85% by March.",
                   authority="Suffolk County Council", date="2005-03-15")
    earlier = hit_of("The target is 85% by the end of March 2004.", authority="Suffolk County Council", date="2004-03-01")
    earlier.chunk = Chunk(chunk_id=2, doc_id="e", ordinal=0, text=earlier.chunk.text, kind="paragraph")
    earlier.document = Document("e", "e.txt", "txt", "y", None, 1, earlier.document.meta)
    question = asked("Did Suffolk meet its target?", [later])
    ranked = scored(question, [0.9, 0.1])
    lead = next(c for c in ranked if c.text.startswith("26."))
    answer = compose_answer("q", Reading(question, ranked, lead, [], {}, 0.95, "answer"))
    answer = with_verdict(answer, "not met", (earlier, "The target is 85% by the end of March 2004."),
                          (later, "There were 3000 assessments and 77.4% were on time."), support_lines=2)
    assert [line.text for line in answer.lines] == [lead.text, "The target is 85% by the end of March 2004."]
    assert answer.verdict.status == "not met" and "77.4% were on time" in answer.verdict.text
    assert [c.doc_id for c in answer.citations if c.cited] == ["d", "e"]


def test_a_supporting_quote_the_verdict_pushes_out_is_no_longer_highlighted():
    text = "The target is 85% by March. Staff were recruited from the USA. Reviews were held on time."
    hit = hit_of(text, authority="Suffolk County Council", date="2004-03-01")
    later = hit_of("There were 3000 assessments and 77.4% were on time.", authority="Suffolk County Council", date="2005-03-15")
    later.chunk = Chunk(chunk_id=2, doc_id="e", ordinal=0, text=later.chunk.text, kind="paragraph")
    later.document = Document("e", "e.txt", "txt", "y", None, 1, later.document.meta)
    question = asked("Did Suffolk meet its target?", [hit])
    ranked = scored(question, [0.9, 0.3, 0.2])
    answer = compose_answer("q", Reading(question, ranked, ranked[0], ranked[1:], {}, 0.95, "answer"))
    assert len(answer.citations[0].highlights) == 3
    answer = with_verdict(answer, "not met", (hit, "The target is 85% by March."),
                          (later, "There were 3000 assessments and 77.4% were on time."), support_lines=2)
    assert len(answer.lines) == 3
    for citation in answer.citations:
        marked = [" ".join(citation.text[start:end].split()) for start, end in citation.highlights]
        assert all(quote in answer.answer for quote in marked), "every highlight is a quote the answer shows"
    assert [c.doc_id for c in answer.citations if c.cited] == [hit.document.doc_id, "e"]


def test_an_item_number_closing_in_a_bracket_is_not_a_count():
    assert counts_in("4) Following the debate, the Chairman put the motion to the vote. Motion carried.") == frozenset()
    assert counts_in("6) The consultation had received a strong level of responses") == frozenset()
    assert counts_in("(12) 45 people responded") == {"45"}


def test_a_row_whose_columns_are_months_answers_for_those_months_alone():
    hits = [hit_of("Leeds | July: 1903 | August: 1380 | September: 1833 | October: 1800", date="2016-02-01", rows=(0,))]
    lead = candidate_lines(hits)[0]
    assert period_absent(asked("How many contacts did Leeds receive in December?", hits), lead) == 1.0
    assert period_absent(asked("How many contacts did Leeds receive in September?", hits), lead) == 0.0


def test_a_follow_up_naming_a_year_of_its_own_is_held_to_that_year():
    row = [hit_of("West Sussex | 2005: 42.8 | 2006: 46.1 | 2007: 44.9 | 2008: 46.9", date="2009-05-01", rows=(0,))]
    lead = candidate_lines(row)[0]
    completed = "what was it in 2009: What was West Sussex's rate of looked after children in 2008?"
    assert year_conflict(lead, asked(completed, row, period_text="And what was it in 2009?")) == 1.0
    assert year_conflict(lead, asked(completed, row)) == 0.0


def test_a_who_question_about_a_part_is_not_answered_by_a_name_that_did_not_play_it():
    hits = [hit_of("Cllr Rippington thanked the members of the Task and Finish Group for their work.\n"
                   "The group was chaired by Cllr Rob Bryher.")]
    thanked, chaired = candidate_lines(hits)
    question = asked("Who chairs the Task and Finish Group?", hits)
    assert role_missing(question, thanked) == 1.0
    assert role_missing(question, chaired) == 0.0
    assert role_missing(asked("When did the Task and Finish Group meet?", hits), thanked) == 0.0
