"""Decision trails: the papers that share a decision reference, in date order, with what each decided."""
from decisions.references import checked_reference, decision_references, normalise_reference, reference_href
from decisions.trail import (
    DecisionTrail, TrailStep, decision_reference_for, decision_trail, decision_trails, document_references, index_decisions,
)

__all__ = ["DecisionTrail", "TrailStep", "checked_reference", "decision_reference_for", "decision_references", "decision_trail", "decision_trails",
           "document_references", "index_decisions", "normalise_reference", "reference_href"]
