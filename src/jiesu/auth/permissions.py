"""Who may do what: one table of capabilities → roles, and `can()` / `require()` over it.

Every API route, console page, template and query asks this table; no module keeps a role
tuple of its own. The lifecycle actions (dispatch, reply, callback …) are the one exception on
purpose: which role may take which action in which status, and the lead/co relation, is the
workflow's own table (`cases/workflow.py` TABLE and GUARDS); `lifecycle_roles()` reads it
from there rather than copying it.

Pure: no framework, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from jiesu.auth.actor import Actor
from jiesu.cases.workflow import REGISTER_ROLES, TABLE, Action, Role
from jiesu.errors import Forbidden


class Capability(StrEnum):
    # Consoles (the pages each role works in).
    USE_AGENT_CONSOLE = "use_agent_console"
    USE_DISPATCH_CONSOLE = "use_dispatch_console"
    USE_UNIT_CONSOLE = "use_unit_console"
    USE_CALLBACK_CONSOLE = "use_callback_console"
    USE_COCKPIT = "use_cockpit"
    ADMINISTER = "administer"  # users, catalogue, policy, Open311 keys
    # Reading.
    READ_CASE_EVENTS = "read_case_events"
    READ_ASSESSMENT = "read_assessment"
    READ_GOVERNANCE = "read_governance"
    ASSESS_REPLY_QUALITY = "assess_reply_quality"
    READ_ACCESS_LOG = "read_access_log"
    READ_ARTICLES = "read_articles"
    MANAGE_ARTICLES = "manage_articles"
    TRIAGE = "triage"
    VIEW_TRIAGE = "view_triage"
    # A citizen's personal data (DESIGN §9).
    VIEW_UNMASKED = "view_unmasked"
    REVEAL_CITIZEN = "reveal_citizen"


@dataclass(frozen=True)
class Rule:
    """Who holds a capability.

    Today a role is enough. Next (sub-centres bound to positions in the unit tree) a rule
    also names positions, and `allows` looks at the actor's unit: `can()` already hands it
    the whole actor when it has one, so callers do not change."""

    roles: frozenset[Role]

    def allows(self, role: Role, unit_code: str | None = None) -> bool:
        return role in self.roles


def _rule(*roles: Role) -> Rule:
    return Rule(frozenset(roles))


A, D, H, C, L, N, M, Z = (
    Role.AGENT,
    Role.DISPATCHER,
    Role.HANDLER,
    Role.CALLBACK,
    Role.LEADER,
    Role.ANALYST,
    Role.ADMIN,
    Role.CITIZEN,
)
STAFF = (A, D, H, C, L, N, M)  # everyone who logs in at the centre or a unit

RULES: dict[Capability, Rule] = {
    Capability.USE_AGENT_CONSOLE: _rule(A, D),  # a dispatcher registers calls too
    Capability.USE_DISPATCH_CONSOLE: _rule(D),
    Capability.USE_UNIT_CONSOLE: _rule(H),
    Capability.USE_CALLBACK_CONSOLE: _rule(C),
    Capability.USE_COCKPIT: _rule(L, N, M),
    Capability.ADMINISTER: _rule(M),
    # Every staff member may see how a case they can read got where it is; citizens
    # follow their request through Open311 instead.
    Capability.READ_CASE_EVENTS: _rule(*STAFF),
    # 考评: the dispatcher reads it too, to steer cases away from units that miss their time
    # limits and to know which unit's replies need a closer look.
    Capability.READ_ASSESSMENT: _rule(L, N, M, D),
    # 主动治理 (hot topics, forecasts, surges, candidates) is policy work for the leadership
    # and its analysts; the dispatcher's daily steering needs the assessment, not these.
    Capability.READ_GOVERNANCE: _rule(L, N, M),
    # The callback agent scores a reply while calling the citizen back; the dispatcher while
    # reviewing a unit's reply. (A unit scores its own draft on its console page.)
    Capability.ASSESS_REPLY_QUALITY: _rule(L, N, M, C, D),
    # Who looked at a citizen's data is for the leadership and the administrator to audit.
    Capability.READ_ACCESS_LOG: _rule(M, L),
    Capability.READ_ARTICLES: _rule(*STAFF),
    # Admins write articles; they alone see retired ones (to edit or reactivate them).
    Capability.MANAGE_ARTICLES: _rule(M),
    Capability.TRIAGE: _rule(A, D, L, M),
    # A unit works from the case as dispatched, not from the classifier's proposal.
    Capability.VIEW_TRIAGE: _rule(A, D, C, L, N, M, Z),
    # The centre's own agents, dispatchers and callback agents call the citizen and see the
    # name and number whole; everyone else sees them masked (DESIGN §9).
    Capability.VIEW_UNMASKED: _rule(A, D, C),
    # Units holding the case and leaders may unmask, with a logged reason (audit/reveal.py).
    Capability.REVEAL_CITIZEN: _rule(H, L),
}


def _role(actor_or_role: Actor | Role) -> Role:
    return actor_or_role.role if isinstance(actor_or_role, Actor) else actor_or_role


def can(actor_or_role: Actor | Role, capability: Capability) -> bool:
    unit = actor_or_role.unit_code if isinstance(actor_or_role, Actor) else None
    return RULES[capability].allows(_role(actor_or_role), unit)


def roles_with(capability: Capability) -> tuple[Role, ...]:
    """The roles holding a capability, in Role order (for messages and the refusal page)."""
    return tuple(r for r in Role if r in RULES[capability].roles)


def require(actor: Actor, capability: Capability) -> None:
    if not can(actor, capability):
        allowed = ", ".join(r.value for r in roles_with(capability))
        raise Forbidden(
            f"role {actor.role.value} lacks the capability {capability.value} (held by: {allowed})",
            details={"capability": capability.value},
        )


def lifecycle_roles(action: Action) -> frozenset[Role]:
    """The roles the workflow lets take this action in some status (read from its table)."""
    if action is Action.REGISTER:
        return REGISTER_ROLES
    return frozenset(r for (_, a), t in TABLE.items() if a is action for r in t.roles)
