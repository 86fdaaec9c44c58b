"""Why a request is refused: message id → English template, one catalogue for every channel.

A rule raises `InvalidInput.of("unknown_unit", field="lead_unit", unit="999")`. The API answers
the English sentence ("lead_unit: unknown unit code '999'") with the parameters in `details`;
a page says the same in the reader's language from the id and the parameters (web/messages.py,
the zh_CN catalogue translates every template here). Templates use str.format placeholders
filled from our own parameters; a translation may leave a placeholder out, never add one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def N_(message: str) -> str:
    """Marks a string for extraction (pybabel -k N_); it is translated where it is shown."""
    return message


MESSAGES: dict[str, str] = {
    # A reference to something that is not there.
    "unknown_unit": N_("unknown unit code '{unit}'"),
    "unknown_category": N_("unknown category code '{category}'"),
    "no_category_prefix": N_("no category code starts with '{prefix}'"),
    "case_not_found": N_("case {id} not found"),
    "case_missing": N_("case {id} does not exist"),
    "category_not_found": N_("category {category} not found"),
    "no_open311_client": N_("no Open311 client named '{client}'"),
    # A clash with what is stored.
    "taken": N_("'{value}' is taken"),
    "open_task_exists": N_("{units} already have an open task on this case"),
    "weights_exist": N_("weights for {kind} from {month} exist; choose a later month"),
    "live_key_exists": N_(
        "client '{client}' already has a live key; revoke it first to issue a new one"
    ),
    # The form of a value.
    "min_chars": N_("at least {limit} characters"),
    "max_chars": N_("at most {limit} characters"),
    "max_megabytes": N_("at most {limit} MB"),
    "max_count": N_("at most {limit}"),
    "max_ids": N_("at most {limit} ids"),
    "whole_number": N_("a whole number from {low} to {high}"),
    "choose_one": N_("choose one of {choices}"),
    "not_a_date": N_("'{value}' is not a date like 2026-10-01"),
    "not_a_datetime": N_("'{value}' is not a date and time like 2027-01-01T00:00"),
    "needs_timezone": N_("give a timezone, e.g. 2026-10-01T00:00:00+08:00"),
    "weights_sum": N_("weights must sum to 1, not {total}"),
    "makeup_on_weekday": N_(
        "{day} is a weekday, a working day already; a make-up workday falls on a Saturday or Sunday"
    ),
    "extend_parent_code": N_("must extend its parent's code {parent} (three levels at most)"),
    # The case's workflow (cases/workflow.py): an action that does not exist here, or a guard.
    "action_not_allowed": N_("{action} is not allowed for {role} on a {status} case"),
    "lead_only": N_("only the lead unit may do this; co-handlers reply through their tasks"),
    "contact_first": N_("record contact with the citizen (contact) before replying"),
    "extension_pending": N_("an extension request is already waiting for review"),
    "no_extension": N_("there is no extension request to review"),
    "exclusion_requested": N_("exclusion is already requested"),
    "exclusion_approved": N_("exclusion is already approved"),
    "no_exclusion": N_("there is no exclusion request"),
    "no_pending_task": N_("your unit has no pending co-handling task to accept"),
    "no_accepted_task": N_("your unit has no accepted co-handling task to reply to"),
    "city_level": N_("the case is already at city coordination level"),
    "no_lead_unit": N_("the case has no lead unit to reopen it with"),
    "merge_into_self": N_("a case cannot be merged into itself"),
    "merge_target_final": N_("case {id} is {status} and cannot take merges"),
}


@dataclass(frozen=True)
class Reason:
    """One catalogued reason with its parameters; `field` names the input it is about."""

    id: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        MESSAGES[self.id].format(**self.params)  # an unknown id or a missing parameter fails here

    @property
    def text(self) -> str:
        """The English reason, without the field."""
        return MESSAGES[self.id].format(**self.params)

    @property
    def message(self) -> str:
        """The English sentence the API answers: 'field: reason' when there is a field."""
        name = self.params.get("field")
        return f"{name}: {self.text}" if name else self.text


class Refusal(ValueError):
    """A pure rule's refusal: a ValueError (for callers that only print it) with its Reason."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.text)
        self.reason = reason
