"""The permissions table (auth/permissions.py): complete, and the rules a hotline rests on."""

from __future__ import annotations

import pytest

from jiesu.auth.actor import Actor
from jiesu.auth.permissions import RULES, Capability, can, lifecycle_roles, require, roles_with
from jiesu.cases.workflow import REGISTER_ROLES, TABLE, Action, Role
from jiesu.errors import Forbidden


def test_every_capability_has_a_rule_and_a_role() -> None:
    assert set(RULES) == set(Capability)
    assert all(rule.roles for rule in RULES.values())


def test_every_role_is_used() -> None:
    # A role that holds no capability and takes no lifecycle action could do nothing at all.
    held = {r for rule in RULES.values() for r in rule.roles}
    acting = {r for t in TABLE.values() for r in t.roles} | REGISTER_ROLES
    assert held | acting == set(Role)
    # The citizen has no console and no staff capability: it registers and follows its case.
    assert not any(can(Role.CITIZEN, c) for c in Capability if c is not Capability.VIEW_TRIAGE)


def test_the_centre_sees_the_citizens_number_units_and_leaders_see_it_masked() -> None:
    # DESIGN §9: agents, dispatchers and callback agents call the citizen back themselves.
    for role in (Role.AGENT, Role.DISPATCHER, Role.CALLBACK):
        assert can(role, Capability.VIEW_UNMASKED)
    for role in (Role.HANDLER, Role.LEADER, Role.ANALYST, Role.ADMIN, Role.CITIZEN):
        assert not can(role, Capability.VIEW_UNMASKED)


def test_only_units_and_leaders_reveal_and_only_what_they_cannot_see() -> None:
    # Revealing is the logged way to unmask: given to exactly those who see the data masked
    # yet may need to phone the citizen (the unit on the case, a leader following it up).
    assert set(roles_with(Capability.REVEAL_CITIZEN)) == {Role.HANDLER, Role.LEADER}
    for role in Role:
        assert not (can(role, Capability.REVEAL_CITIZEN) and can(role, Capability.VIEW_UNMASKED))
    # The administrator runs the system but reads no citizen's data.
    assert not can(Role.ADMIN, Capability.REVEAL_CITIZEN)


def test_the_dispatcher_reads_the_assessment_but_not_the_governance_analyses() -> None:
    # The dispatcher steers cases by how units keep their time limits (考评); hot topics,
    # forecasts and surges are the leadership's policy work.
    assert can(Role.DISPATCHER, Capability.READ_ASSESSMENT)
    assert not can(Role.DISPATCHER, Capability.READ_GOVERNANCE)
    # Whoever reads the governance analyses reads the assessment too.
    assert set(roles_with(Capability.READ_GOVERNANCE)) <= set(
        roles_with(Capability.READ_ASSESSMENT)
    )
    # A unit reads neither: it is assessed, and sees its own cases in its inbox.
    assert not can(Role.HANDLER, Capability.READ_ASSESSMENT)


def test_a_unit_works_from_the_dispatch_not_the_classifier() -> None:
    assert not can(Role.HANDLER, Capability.VIEW_TRIAGE)
    assert not can(Role.HANDLER, Capability.TRIAGE)


def test_only_the_administrator_administers_and_writes_articles() -> None:
    for capability in (Capability.ADMINISTER, Capability.MANAGE_ARTICLES):
        assert roles_with(capability) == (Role.ADMIN,)


def test_the_access_log_is_audited_by_leaders_and_the_administrator() -> None:
    # Those who unmask (units) must not be the ones who audit the unmasking.
    assert set(roles_with(Capability.READ_ACCESS_LOG)) == {Role.ADMIN, Role.LEADER}


def test_can_takes_an_actor_or_a_role() -> None:
    unit = Actor("unit-110101001", Role.HANDLER, "110101001")
    assert can(unit, Capability.USE_UNIT_CONSOLE) and can(Role.HANDLER, Capability.USE_UNIT_CONSOLE)
    assert not can(unit, Capability.USE_COCKPIT)


def test_require_names_the_capability() -> None:
    with pytest.raises(Forbidden, match="read_assessment") as err:
        require(Actor("unit-110101001", Role.HANDLER, "110101001"), Capability.READ_ASSESSMENT)
    assert err.value.details == {"capability": "read_assessment"}
    require(Actor("dispatcher", Role.DISPATCHER), Capability.READ_ASSESSMENT)


def test_lifecycle_roles_are_read_from_the_workflow() -> None:
    # The permissions module refers to the workflow's table, it does not copy it.
    assert lifecycle_roles(Action.REGISTER) == REGISTER_ROLES
    assert lifecycle_roles(Action.DISPATCH) == {Role.AGENT, Role.DISPATCHER}
    assert lifecycle_roles(Action.REPLY) == {Role.HANDLER}
