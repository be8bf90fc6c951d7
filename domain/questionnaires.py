"""The health questionnaires a patient answers before some tests can be booked (the MRI safety
questionnaire, the contrast questions), as plain data: each question, its words, and the
request facts the answers become. What the facts then mean is the appointability rules' job
(`slot_rules/rulesets/appointability.yaml`); this module never judges a request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

YES, NO = "yes", "no"
ANSWERS = (YES, NO)
UNSURE_HINT = "If you are not sure, choose yes. Someone from the imaging team will check with you."


class QuestionnaireName(StrEnum):
    MRI_SAFETY = "mri-safety"
    CONTRAST = "contrast"


@dataclass(frozen=True)
class Question:
    """One yes/no question, asked on a page of its own."""

    question_id: str
    text: str
    """The page's heading: the question as the patient reads it."""
    hint: str
    error: str
    """What the error summary says when nothing is chosen ('Select yes if ...')."""
    short: str
    """How the check-answers page and the staff record name it."""
    fact: str | None = None
    """The request fact the answer sets (yes → True), if it sets one directly."""
    review_if_yes: bool = False
    """A yes needs a radiographer's review before the test may be booked."""


@dataclass(frozen=True)
class Questionnaire:
    name: QuestionnaireName
    version: str
    title: str
    why: str
    """Why we ask, on the first page."""
    questions: tuple[Question, ...]
    returned_fact: str | None
    """Set to True when the answers are sent (the questionnaire is on record)."""
    review_fact: str | None
    """Set to whether any answer needs a radiographer's review."""
    cleared_fact: str | None = None
    """Set to False when no answer needs review (the patient declared none of the risks);
    left unrecorded otherwise, for the reviewer to record."""

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.question_id == question_id:
                return question
        raise KeyError(question_id)

    def next_after(self, question_id: str) -> Question | None:
        ids = [q.question_id for q in self.questions]
        index = ids.index(question_id)
        return self.questions[index + 1] if index + 1 < len(ids) else None

    def before(self, question_id: str) -> Question | None:
        ids = [q.question_id for q in self.questions]
        index = ids.index(question_id)
        return self.questions[index - 1] if index > 0 else None

    def complete(self, answers: Mapping[str, str]) -> bool:
        return all(answers.get(q.question_id) in ANSWERS for q in self.questions)

    def needs_review(self, answers: Mapping[str, str]) -> tuple[Question, ...]:
        """The questions whose answer needs a radiographer's review."""
        return tuple(q for q in self.questions
                     if q.review_if_yes and answers.get(q.question_id) == YES)

    def facts(self, answers: Mapping[str, str]) -> dict[str, bool]:
        """The request facts a complete set of answers records; ValueError if incomplete."""
        if not self.complete(answers):
            missing = [q.question_id for q in self.questions
                       if answers.get(q.question_id) not in ANSWERS]
            raise ValueError(f"{self.name} questionnaire: no answer to {', '.join(missing)}")
        facts = {q.fact: answers[q.question_id] == YES for q in self.questions if q.fact}
        if self.returned_fact:
            facts[self.returned_fact] = True
        review = bool(self.needs_review(answers))
        if self.review_fact:
            facts[self.review_fact] = review
        if self.cleared_fact and not review:
            facts[self.cleared_fact] = False
        return facts


MRI_SAFETY = Questionnaire(
    name=QuestionnaireName.MRI_SAFETY, version="2026.12.1", title="MRI safety questions",
    why="An MRI scanner uses a very strong magnet. Some implants and pieces of metal are not "
        "safe in it, so we need to know about them before you book.",
    returned_fact="mri_questionnaire_returned", review_fact="mri_safety_review_needed",
    cleared_fact="mr_unsafe_implant",
    questions=(
        Question("pacemaker", "Do you have a heart pacemaker, defibrillator or loop recorder?",
                 "A defibrillator is also called an ICD.",
                 "Select yes if you have a heart pacemaker, defibrillator or loop recorder",
                 "Pacemaker, defibrillator or loop recorder", review_if_yes=True),
        Question("implant", "Do you have any other implant or device in your body?",
                 "For example a cochlear implant, nerve stimulator, brain aneurysm clip, shunt, "
                 "drug pump, insulin pump or artificial heart valve. " + UNSURE_HINT,
                 "Select yes if you have any other implant or device in your body",
                 "Other implant or device", review_if_yes=True),
        Question("metal-in-eyes", "Have you ever had metal in your eyes?",
                 "For example from welding or grinding metal, even if it was taken out.",
                 "Select yes if you have ever had metal in your eyes",
                 "Metal in the eyes", review_if_yes=True),
        Question("metal-in-body", "Do you have any metal fragments in your body?",
                 "For example shrapnel or bullet fragments. " + UNSURE_HINT,
                 "Select yes if you have any metal fragments in your body",
                 "Metal fragments in the body", review_if_yes=True),
        Question("recent-operation", "Have you had an operation in the last 6 weeks?", "",
                 "Select yes if you have had an operation in the last 6 weeks",
                 "Operation in the last 6 weeks", review_if_yes=True),
    ))

CONTRAST = Questionnaire(
    name=QuestionnaireName.CONTRAST, version="2026.12.1", title="Questions about the contrast dye",
    why="Your scan uses a contrast dye, given by injection, to make the pictures clearer. "
        "A few health conditions and medicines change how we give it safely.",
    returned_fact=None, review_fact=None,
    questions=(
        Question("diabetes", "Do you have diabetes?", "",
                 "Select yes if you have diabetes", "Diabetes", fact="diabetes"),
        Question("kidney-problems", "Do you have any kidney problems?",
                 "For example kidney disease, a kidney transplant or only one kidney. "
                 + UNSURE_HINT,
                 "Select yes if you have any kidney problems", "Kidney problems",
                 fact="renal_impairment"),
        Question("metformin", "Do you take metformin?",
                 "Metformin is a medicine for diabetes. It is also called Glucophage.",
                 "Select yes if you take metformin", "Takes metformin", fact="metformin"),
        Question("contrast-reaction",
                 "Have you ever had a reaction to a contrast dye?",
                 "Contrast dye is the injection given for some scans and X-rays. A reaction "
                 "could be a rash, swelling or difficulty breathing.",
                 "Select yes if you have ever had a reaction to a contrast dye",
                 "Reaction to contrast dye before", fact="contrast_allergy"),
    ))

QUESTIONNAIRES: Mapping[QuestionnaireName, Questionnaire] = {
    q.name: q for q in (MRI_SAFETY, CONTRAST)}


def questionnaire_named(name: str) -> Questionnaire:
    """The questionnaire of that name; KeyError otherwise."""
    for questionnaire in QUESTIONNAIRES.values():
        if questionnaire.name.value == name:
            return questionnaire
    raise KeyError(name)
