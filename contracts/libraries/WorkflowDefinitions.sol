// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IRemoteStepRouter} from "../../interfaces/IRemoteStepRouter.sol";
import {IWorkflowCoordinatorTypes} from "../../interfaces/IWorkflowCoordinatorTypes.sol";
import {Bitmask64} from "./Bitmask64.sol";

/// @title WorkflowDefinitions
/// @notice Validation and packed storage of immutable workflow definitions.
/// @dev A definition has at most 64 steps (`MAX_STEPS`): every per-run step set is one uint64
/// mask, so readiness, skip propagation and completion checks are O(steps) with tiny
/// constants. Dependencies point to earlier steps only, which makes the graph acyclic by
/// construction and lets a single ascending pass propagate skips.
library WorkflowDefinitions {
    using Bitmask64 for uint64;

    /// @notice Most steps a definition may have.
    uint256 internal constant MAX_STEPS = 64;
    /// @notice `StepSpec.compensation` value meaning "no compensation step".
    uint8 internal constant NO_STEP = type(uint8).max;

    /// @dev Definition header: one slot.
    struct Header {
        uint8 stepCount;
        uint64 compensationMask; // steps that are compensation steps (never run forward)
        uint64 sinkMask; // forward steps without dependents: all Done/Skipped = run Completed
        uint120 totalReward; // <= 64 * 2**96
    }

    /// @dev Second slot: forward steps Ready at start, the stake, the validation timeout.
    struct Extra {
        uint64 rootMask;
        uint128 slashAmount;
        uint32 validationSeconds;
        IWorkflowCoordinatorTypes.ValidationTimeout onValidationTimeout;
    }

    /// @dev One step, three slots: role | flow and retry config | money, chain and backoff.
    struct Step {
        bytes32 role;
        uint64 deps;
        uint64 dependents;
        uint8 join; // as registered: 0 = all deps (see `need`)
        uint8 maxAttempts;
        uint8 quorum;
        uint8 compensation;
        bool decision;
        uint8 backoffMultiplier;
        uint32 leaseSeconds;
        bool remote; // chainId != block.chainid (kept in the slot claims read anyway)
        uint96 reward;
        uint64 chainId;
        uint32 backoffInitial;
        uint32 backoffCap;
    }

    /// @dev A stored definition.
    struct Definition {
        Header header;
        Extra extra;
        bytes32 validatorRole;
        bytes32 id; // keccak256(abi.encode(the registered WorkflowDefinition))
        mapping(uint256 => Step) steps;
    }

    /// @notice Validate `def` and write it into `d` (which must be empty). Remote steps need a
    /// `router` that knows their chain.
    function store(Definition storage d, IWorkflowCoordinatorTypes.WorkflowDefinition calldata def, address router)
        internal
    {
        uint256 n = def.steps.length;
        if (n == 0 || n > MAX_STEPS) revert IWorkflowCoordinatorTypes.CoordinatorInvalidStepCount(n);
        uint64[MAX_STEPS] memory dependents;
        uint64 compMask;
        uint256 total;
        // Pass 1: per-step checks, dependents, compensation set.
        for (uint256 i; i < n; ++i) {
            IWorkflowCoordinatorTypes.StepSpec calldata s = def.steps[i];
            _checkStep(uint8(i), s, router);
            uint64 deps = s.deps;
            while (deps != 0) {
                uint8 j = deps.lowest();
                deps &= deps - 1;
                dependents[j] |= Bitmask64.bit(uint8(i));
            }
            if (s.compensation != NO_STEP) {
                uint8 c = s.compensation;
                if (c >= n || c == i || compMask.has(c)) {
                    revert IWorkflowCoordinatorTypes.CoordinatorInvalidCompensation(uint8(i), c);
                }
                compMask |= Bitmask64.bit(c);
            }
            total += s.reward;
        }
        // Pass 2: compensation steps are standalone; sinks; write.
        uint64 sinks;
        uint64 roots;
        for (uint256 i; i < n; ++i) {
            IWorkflowCoordinatorTypes.StepSpec calldata s = def.steps[i];
            uint8 c = s.compensation;
            if (c != NO_STEP) {
                IWorkflowCoordinatorTypes.StepSpec calldata cs = def.steps[c];
                if (
                    compMask.has(uint8(i)) || cs.deps != 0 || dependents[c] != 0 || cs.decision
                        || cs.compensation != NO_STEP
                ) revert IWorkflowCoordinatorTypes.CoordinatorInvalidCompensation(uint8(i), c);
            }
            if (compMask.has(uint8(i))) {
                if (s.chainId != block.chainid) {
                    revert IWorkflowCoordinatorTypes.CoordinatorRemoteStepUnsupported(uint8(i), s.chainId);
                }
            } else {
                if (dependents[i] == 0) sinks |= Bitmask64.bit(uint8(i));
                if (s.deps == 0) roots |= Bitmask64.bit(uint8(i));
            }
            _write(d.steps[i], s, dependents[i]);
        }
        d.header = Header({
            stepCount: uint8(n),
            compensationMask: compMask,
            sinkMask: sinks,
            totalReward: uint120(total) // <= 64 * (2**96 - 1) < 2**120
        });
        if (def.validatorRole != bytes32(0)) d.validatorRole = def.validatorRole;
        d.extra = Extra({
            rootMask: roots,
            slashAmount: def.slashAmount,
            validationSeconds: def.validationSeconds,
            onValidationTimeout: def.onValidationTimeout
        });
    }

    /// @notice The step as registered.
    function spec(Step storage st) internal view returns (IWorkflowCoordinatorTypes.StepSpec memory s) {
        s.role = st.role;
        s.deps = st.deps;
        s.join = st.join;
        s.leaseSeconds = st.leaseSeconds;
        s.maxAttempts = st.maxAttempts;
        s.backoffInitial = st.backoffInitial;
        s.backoffMultiplier = st.backoffMultiplier;
        s.backoffCap = st.backoffCap;
        s.quorum = st.quorum;
        s.reward = st.reward;
        s.compensation = st.compensation;
        s.decision = st.decision;
        s.chainId = st.chainId;
    }

    /// @notice How many done deps make the step Ready (0 for a root step).
    function need(uint8 join, uint64 deps) internal pure returns (uint256) {
        return join == 0 ? deps.count() : join;
    }

    /// @notice Delay before retry number `attempt` (>= 1) after a rejection:
    /// min(cap, initial * multiplier**(attempt-1)). At most 32 loop turns: the delay at
    /// least doubles per turn once multiplier >= 2 and stops at the uint32 cap.
    function backoff(Step storage st, uint8 attempt) internal view returns (uint256 delay) {
        delay = st.backoffInitial;
        uint256 cap = st.backoffCap;
        uint256 m = st.backoffMultiplier;
        if (m > 1) {
            for (uint256 k = 1; k < attempt && delay < cap; ++k) {
                delay *= m; // delay < 2**32 and m < 2**8 before each multiply: no overflow
            }
        }
        if (delay > cap) delay = cap;
    }

    function _checkStep(uint8 i, IWorkflowCoordinatorTypes.StepSpec calldata s, address router) private view {
        if (s.deps >> i != 0) revert IWorkflowCoordinatorTypes.CoordinatorDependencyNotEarlier(i, s.deps);
        uint256 depCount = s.deps.count();
        if (s.join > depCount) revert IWorkflowCoordinatorTypes.CoordinatorInvalidJoin(i, s.join, depCount);
        if (s.leaseSeconds == 0) revert IWorkflowCoordinatorTypes.CoordinatorZeroLease(i);
        if (s.maxAttempts == 0) revert IWorkflowCoordinatorTypes.CoordinatorZeroAttempts(i);
        if (s.backoffMultiplier == 0 || s.backoffCap < s.backoffInitial) {
            revert IWorkflowCoordinatorTypes.CoordinatorInvalidBackoff(i);
        }
        if (
            s.chainId != block.chainid
                && (s.decision || router == address(0) || !IRemoteStepRouter(router).knowsChain(s.chainId))
        ) revert IWorkflowCoordinatorTypes.CoordinatorRemoteStepUnsupported(i, s.chainId);
    }

    function _write(Step storage st, IWorkflowCoordinatorTypes.StepSpec calldata s, uint64 dependents) private {
        st.role = s.role;
        st.deps = s.deps;
        st.dependents = dependents;
        st.join = s.join;
        st.maxAttempts = s.maxAttempts;
        st.quorum = s.quorum;
        st.compensation = s.compensation;
        st.decision = s.decision;
        st.backoffMultiplier = s.backoffMultiplier;
        st.leaseSeconds = s.leaseSeconds;
        st.remote = s.chainId != block.chainid;
        st.reward = s.reward;
        st.chainId = s.chainId;
        st.backoffInitial = s.backoffInitial;
        st.backoffCap = s.backoffCap;
    }
}
