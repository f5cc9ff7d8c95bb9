"""Definitions: content-addressed, immutable, validated; every rejection has its typed error."""

from __future__ import annotations

import ape
import pytest
from coord_helpers import EXEC, NO_STEP, VALIDATOR, definition_id, mask


@pytest.mark.covers("WorkflowCoordinator.registerDefinition", "replay")
def test_register_returns_content_id_and_emits_once(world):
    c = world.coordinator
    defn = (VALIDATOR, 7, 0, 0, [world.spec(), world.spec(deps=mask(0), quorum=2)])
    tx = c.registerDefinition(defn, sender=world.creator)
    events = tx.events.filter(c.DefinitionRegistered)
    assert len(events) == 1
    assert events[0].definitionId == definition_id(defn)
    assert events[0].stepCount == 2
    again = c.registerDefinition(defn, sender=world.outsider)
    assert len(again.events.filter(c.DefinitionRegistered)) == 0
    assert c.registerDefinition.call(defn) == definition_id(defn)


def test_definition_getters_round_trip(world):
    c = world.coordinator
    steps = [world.spec(comp=2), world.spec(deps=mask(0), join=1, quorum=2, decision=True,
                                            backoff=(5, 3, 50), reward=7), world.spec()]
    def_id = world.define(steps, validator_role=VALIDATOR, slash=9)
    count, comp_mask, sink_mask, total, vrole, slash = c.definitionInfo(def_id)
    assert (count, comp_mask, sink_mask, slash) == (3, mask(2), mask(1), 9)
    assert total == steps[0][9] + 7 + steps[2][9]
    assert vrole == VALIDATOR
    for i, s in enumerate(steps):
        assert tuple(c.definitionStep(def_id, i)) == s


def test_sixty_four_steps_are_accepted(world):
    steps = [world.spec()] + [world.spec(deps=mask(i - 1)) for i in range(1, 64)]
    def_id = world.define(steps)
    assert world.coordinator.definitionInfo(def_id)[0] == 64


@pytest.mark.covers("WorkflowCoordinator.startRun", "wrong_state")
def test_unknown_definition_reverts_on_views_and_start(world):
    c = world.coordinator
    with ape.reverts(c.CoordinatorUnknownDefinition, definitionId=b"\x01" * 32):
        c.definitionInfo(b"\x01" * 32)
    with ape.reverts(c.CoordinatorUnknownDefinition, definitionId=b"\x01" * 32):
        c.definitionStep(b"\x01" * 32, 0)
    with ape.reverts(c.CoordinatorUnknownDefinition, definitionId=b"\x01" * 32):
        c.startRun(b"\x01" * 32, b"\x00" * 32, "", sender=world.creator)


def test_definition_step_out_of_range_reverts(world):
    def_id = world.define([world.spec()])
    with ape.reverts(world.coordinator.CoordinatorInvalidStep, runId=0, step=1):
        world.coordinator.definitionStep(def_id, 1)


def _reverts_define(world, steps, error, **args):
    with ape.reverts(getattr(world.coordinator, error), **args):
        world.coordinator.registerDefinition((b"\x00" * 32, 0, 0, 0, steps), sender=world.creator)


@pytest.mark.covers("WorkflowCoordinator.registerDefinition", "bad_arguments")
def test_zero_steps_rejected(world):
    _reverts_define(world, [], "CoordinatorInvalidStepCount", count=0)


@pytest.mark.covers("WorkflowCoordinator.registerDefinition", "bad_arguments")
def test_sixty_five_steps_rejected(world):
    _reverts_define(world, [world.spec()] * 65, "CoordinatorInvalidStepCount", count=65)


@pytest.mark.covers("WorkflowCoordinator.registerDefinition", "bad_arguments")
def test_dependency_on_itself_rejected(world):
    _reverts_define(world, [world.spec(), world.spec(deps=mask(1))],
                    "CoordinatorDependencyNotEarlier", step=1, deps=mask(1))


@pytest.mark.covers("WorkflowCoordinator.registerDefinition", "bad_arguments")
def test_dependency_on_later_step_rejected(world):
    _reverts_define(world, [world.spec(deps=mask(1)), world.spec()],
                    "CoordinatorDependencyNotEarlier", step=0, deps=mask(1))


@pytest.mark.covers("WorkflowCoordinator.registerDefinition", "bad_arguments")
def test_join_above_dependency_count_rejected(world):
    _reverts_define(world, [world.spec(), world.spec(deps=mask(0), join=2)],
                    "CoordinatorInvalidJoin", step=1, join=2, depCount=1)


def test_join_on_root_rejected(world):
    _reverts_define(world, [world.spec(join=1)], "CoordinatorInvalidJoin", step=0, join=1,
                    depCount=0)


@pytest.mark.covers("WorkflowCoordinator.registerDefinition", "bad_arguments")
def test_zero_lease_rejected(world):
    _reverts_define(world, [world.spec(lease=0)], "CoordinatorZeroLease", step=0)


def test_zero_attempts_rejected(world):
    _reverts_define(world, [world.spec(attempts=0)], "CoordinatorZeroAttempts", step=0)


def test_zero_backoff_multiplier_rejected(world):
    _reverts_define(world, [world.spec(backoff=(1, 0, 5))], "CoordinatorInvalidBackoff", step=0)


def test_backoff_cap_below_initial_rejected(world):
    _reverts_define(world, [world.spec(backoff=(10, 2, 5))], "CoordinatorInvalidBackoff", step=0)


@pytest.mark.covers("WorkflowCoordinator.registerDefinition", "bad_arguments")
def test_remote_chain_step_rejected(world):
    s = list(world.spec())
    s[12] = world.chain_id + 1
    _reverts_define(world, [tuple(s)], "CoordinatorRemoteStepUnsupported", step=0,
                    chainId=world.chain_id + 1)


@pytest.mark.covers("WorkflowCoordinator.registerDefinition", "bad_arguments")
def test_compensation_out_of_range_rejected(world):
    _reverts_define(world, [world.spec(comp=1)], "CoordinatorInvalidCompensation", step=0,
                    compensation=1)


def test_compensation_by_itself_rejected(world):
    _reverts_define(world, [world.spec(comp=0)], "CoordinatorInvalidCompensation", step=0,
                    compensation=0)


def test_compensation_step_with_dependencies_rejected(world):
    _reverts_define(world, [world.spec(comp=1), world.spec(deps=mask(0))],
                    "CoordinatorInvalidCompensation", step=0, compensation=1)


def test_compensation_step_with_dependents_rejected(world):
    _reverts_define(world, [world.spec(comp=1), world.spec(), world.spec(deps=mask(1))],
                    "CoordinatorInvalidCompensation", step=0, compensation=1)


def test_compensation_shared_by_two_steps_rejected(world):
    _reverts_define(world, [world.spec(comp=2), world.spec(comp=2), world.spec()],
                    "CoordinatorInvalidCompensation", step=1, compensation=2)


def test_decision_as_compensation_rejected(world):
    _reverts_define(world, [world.spec(comp=1), world.spec(decision=True)],
                    "CoordinatorInvalidCompensation", step=0, compensation=1)


def test_compensation_of_a_compensation_rejected(world):
    _reverts_define(world, [world.spec(comp=1), world.spec(comp=2), world.spec()],
                    "CoordinatorInvalidCompensation", step=0, compensation=1)


def test_roles_are_kept_per_step(world):
    def_id = world.define([world.spec(role=VALIDATOR), world.spec(role=EXEC, comp=NO_STEP)])
    assert world.coordinator.definitionStep(def_id, 0)[0] == VALIDATOR
