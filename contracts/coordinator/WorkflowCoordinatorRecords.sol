// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAgentRoles} from "../../interfaces/IAgentRoles.sol";
import {IIdentityAuthorizer} from "../../interfaces/IIdentityAuthorizer.sol";
import {IReputationRegistry} from "../../interfaces/IReputationRegistry.sol";
import {IValidationRegistry} from "../../interfaces/IValidationRegistry.sol";
import {CoordinatorBase} from "./CoordinatorBase.sol";
import {ResultCommitments} from "../libraries/ResultCommitments.sol";
import {WorkflowDefinitions} from "../libraries/WorkflowDefinitions.sol";

/// @title WorkflowCoordinatorRecords
/// @notice The part of WorkflowCoordinator that mirrors outcomes and verdicts into the ERC-8004
/// Reputation and Validation registries (`publishOutcomes`, `publishValidation`), off every
/// transition's path. Deployed by the coordinator's constructor and only ever run by
/// DELEGATECALL from it, on its storage (the functions are documented in IWorkflowCoordinator).
/// @dev Called directly it refuses every function (`CoordinatorNotDelegated`).
contract WorkflowCoordinatorRecords is CoordinatorBase {
    /// @notice Called by the WorkflowCoordinator constructor with its own wiring.
    constructor(
        IIdentityAuthorizer identityRegistry,
        IAgentRoles agentRoles,
        IReputationRegistry reputationRegistry,
        IValidationRegistry validationRegistry,
        bytes32 validatorRole,
        address admin
    ) CoordinatorBase(identityRegistry, agentRoles, reputationRegistry, validationRegistry, validatorRole, admin) {}

    // ---------------------------------------------------------------- ERC-8004 records
    /// @dev See IWorkflowCoordinator.
    function publishOutcomes(uint256 runId, uint256 agentId) external onlyDelegated nonReentrant {
        // CHECKS
        Run storage r = _run(runId);
        RunState rs = r.state;
        // settled: ended, nothing in flight after a cancel, no compensation still open
        if (rs < RunState.Completed || r.inflight != 0 || (rs == RunState.Failed && r.compOpen != 0)) {
            revert CoordinatorRunNotSettled(runId, rs);
        }
        bytes32 key = keccak256(abi.encode(runId, agentId));
        if (_published[key]) revert CoordinatorAlreadyPublished(runId, agentId);
        uint256 done;
        uint8 n = _defs[r.definition].header.stepCount;
        for (uint8 i; i < n; ++i) {
            StepRun storage sr = _steps[runId][i];
            if (sr.status == DONE && sr.agentId == agentId) ++done;
        }
        uint256 failed = _failures[runId][agentId];
        if (done + failed == 0) revert CoordinatorNothingToPublish(runId, agentId);
        // casts: done <= 64 steps; failed <= 64 * 255 attempts
        int128 value = int128(int256(done * 100 / (done + failed)));
        // INTERACTIONS (a refusal is recorded, never a revert)
        // What is recorded depends on the registry's answer; the registry is fixed at deployment
        // and this function is nonReentrant.
        // slither-disable-next-line reentrancy-no-eth
        try _reputation.giveFeedback(agentId, value, 0, "accord", "run", "", "", bytes32(runId)) {
            _published[key] = true;
            _blocked[agentId] = false;
            emit OutcomesPublished(runId, agentId, uint8(done), uint8(failed > 255 ? 255 : failed), value);
        } catch {
            _blocked[agentId] = true;
            emit OutcomesRefused(runId, agentId);
        }
    }

    /// @dev See IWorkflowCoordinator.
    function publishValidation(uint256 runId, uint8 step, bytes32 resultHash, string calldata resultURI)
        external
        onlyDelegated
        nonReentrant
    {
        // CHECKS
        (, , WorkflowDefinitions.Step storage cfg, StepRun storage sr,) = _locate(runId, step);
        bytes32 key = keccak256(abi.encode(runId, step, true));
        uint8 response = uint8(sr.until); // Done: the verdict's mean approval (50..100), 0 if none
        if (sr.status != DONE || cfg.quorum == 0 || response == 0 || _published[key]) {
            revert CoordinatorNoVerdictToPublish(runId, step);
        }
        if (ResultCommitments.commit(resultHash, resultURI) != sr.result) revert CoordinatorResultMismatch(runId, step);
        // EFFECTS: a fresh hash per try, so a squatted one costs the squatter, not the run
        uint256 nonce = ++_publishNonce;
        bytes32 requestHash = keccak256(abi.encode(address(this), runId, step, nonce, block.prevrandao));
        // INTERACTIONS (a refusal is an event, never a revert)
        try _validation.validationRequest(address(this), _agentId, resultURI, requestHash) {
            try _validation.validationResponse(requestHash, response, "", resultHash, "accord") {
                _published[key] = true;
                emit ValidationPublished(runId, step, requestHash, response);
                return;
            } catch {}
        } catch {}
        emit ValidationRefused(runId, step, requestHash);
    }
}
