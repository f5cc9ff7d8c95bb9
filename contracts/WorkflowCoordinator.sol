// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IAgentRoles} from "../interfaces/IAgentRoles.sol";
import {IIdentityAuthorizer} from "../interfaces/IIdentityAuthorizer.sol";
import {IIdentityRegistry} from "../interfaces/IIdentityRegistry.sol";
import {IReputationRegistry} from "../interfaces/IReputationRegistry.sol";
import {IValidationRegistry} from "../interfaces/IValidationRegistry.sol";
import {IWorkflowCoordinator} from "../interfaces/IWorkflowCoordinator.sol";
import {CoordinatorBase} from "./coordinator/CoordinatorBase.sol";
import {WorkflowCoordinatorExtension} from "./coordinator/WorkflowCoordinatorExtension.sol";
import {WorkflowCoordinatorRecords} from "./coordinator/WorkflowCoordinatorRecords.sol";
import {Bitmask64} from "./libraries/Bitmask64.sol";
import {ResultCommitments} from "./libraries/ResultCommitments.sol";
import {WorkflowDefinitions} from "./libraries/WorkflowDefinitions.sol";

/// @title WorkflowCoordinator
/// @notice Runs DAG workflows of role-gated steps (see IWorkflowCoordinator, DESIGN.md "Step
/// state machine" and docs/threat-model.md).
/// @dev The hottest path (claim, submit, votes, signed votes) and the views live here; run
/// starts, definitions, lease heartbeats and expiry, withdrawals, pause/resume/cancel,
/// validation timeouts, vote-stake release and remote steps run in
/// WorkflowCoordinatorExtension, the ERC-8004 records in WorkflowCoordinatorRecords. This
/// contract deploys both in its constructor and DELEGATECALLs them (same storage: all three
/// inherit CoordinatorBase), so each stays under 20 KB. Both are fixed.
/// An agent batches its claims and submits (and a validator its votes and stake releases) in
/// one transaction with OpenZeppelin's `multicall` (each call keeps msg.sender; any failure
/// reverts the batch, so callers batch what the views show they can do). Judges' votes also
/// travel signed (EIP-712), so that one transaction from anyone brings a whole verdict
/// (`respondSigned`): no vote of a deciding batch locks stake or leaves a record.
contract WorkflowCoordinator is IWorkflowCoordinator, CoordinatorBase, Multicall {
    using Bitmask64 for uint64;
    using WorkflowDefinitions for WorkflowDefinitions.Definition;
    using WorkflowDefinitions for WorkflowDefinitions.Step;

    bytes32 private constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant _NAME_HASH = keccak256("Accord WorkflowCoordinator");
    bytes32 private constant _VERSION_HASH = keccak256("1");
    bytes32 private constant _VOTE_TYPEHASH =
        keccak256("Vote(uint256 runId,uint8 step,uint8 attempt,uint256 agentId,uint8 response)");

    /// @dev One vote being counted: `voter` stands for msg.sender (the signer of a signed
    /// vote); `owner` is the validator agent's owner once checked (0: skipped).
    struct Ballot {
        uint256 agentId;
        uint8 response;
        address voter;
        address owner;
    }

    /// @dev The recorded tallies of an attempt, counted in memory.
    struct Tally {
        uint8 approvals;
        uint8 rejections;
        uint16 approvalSum;
        uint16 rejectionSum;
    }

    address private immutable _extension;
    address private immutable _records;

    /// @notice Wires the registries, deploys the extension and registers the coordinator's own
    /// ERC-8004 identity.
    /// @param validatorRole Role validators hold unless a definition names its own.
    /// @param admin Owner (sets the remote-step router).
    constructor(
        IIdentityAuthorizer identityRegistry,
        IAgentRoles agentRoles,
        IReputationRegistry reputationRegistry,
        IValidationRegistry validationRegistry,
        bytes32 validatorRole,
        address admin
    ) CoordinatorBase(identityRegistry, agentRoles, reputationRegistry, validationRegistry, validatorRole, admin) {
        _extension = address(
            new WorkflowCoordinatorExtension(
                identityRegistry, agentRoles, reputationRegistry, validationRegistry, validatorRole, admin
            )
        );
        _records = address(
            new WorkflowCoordinatorRecords(
                identityRegistry, agentRoles, reputationRegistry, validationRegistry, validatorRole, admin
            )
        );
        _agentId = IIdentityRegistry(address(identityRegistry)).register();
    }

    // ---------------------------------------------------------------- steps
    // The AgentRoles calls below return what they slashed (reported by its Slashed event)
    // or, where it is not used, the agent's owner: not needed there.
    // slither-disable-start unused-return
    /// @inheritdoc IWorkflowCoordinator
    function claim(uint256 runId, uint8 step, uint256 agentId) external {
        // CHECKS
        (StepRun storage sr, bytes32 role, uint256 leaseSeconds, uint256 stake) = _checkClaim(runId, step, agentId);
        // EFFECTS
        bool lapsed = sr.status == CLAIMED;
        uint256 lapsedAgent = sr.agentId;
        if (lapsed) {
            ++_failures[runId][lapsedAgent];
            _clearAttempt(sr); // a delegated lapsed claim's owner (tallies: none, never submitted)
        }
        _takeLease(runId, step, agentId, sr, leaseSeconds);
        // INTERACTIONS (AgentRoles is fixed at deployment; releaseStake never reverts)
        if (lapsed && stake != 0) _roles.releaseStake(lapsedAgent, role, stake, stake, LAPSED);
        // eligibility and free stake; it reads the agent's owner, fixed for this attempt's votes
        address owner_ = _roles.lockStake(agentId, msg.sender, role, stake);
        // The owner is stored only when another operator runs the agent (0: the operator is
        // the owner; the slot is 0 here, cleared when the last attempt ended), so a
        // self-operated agent's claim neither reads nor writes it. Written after the call:
        // nothing reads it before the step is Submitted, which needs another call.
        // slither-disable-next-line reentrancy-no-eth
        if (owner_ != msg.sender) sr.owner = owner_;
    }

    /// @inheritdoc IWorkflowCoordinator
    function submit(uint256 runId, uint8 step, bytes32 resultHash, string calldata resultURI, uint64 branches)
        external
    {
        (Run storage r, WorkflowDefinitions.Definition storage d, WorkflowDefinitions.Step storage cfg, StepRun storage sr)
        = _claimedByCaller(runId, step);
        uint64 allowed = cfg.decision ? cfg.dependents : 0;
        if (branches & ~allowed != 0) revert CoordinatorInvalidBranches(runId, step, branches, allowed);
        if (bytes(resultURI).length > MAX_URI_BYTES) revert CoordinatorResultURITooLong(bytes(resultURI).length);
        sr.status = SUBMITTED;
        if (branches != 0) sr.branches = branches; // 0 since the last attempt ended
        sr.result = ResultCommitments.commit(resultHash, resultURI);
        emit StepSubmitted(runId, step, sr.agentId, resultHash, resultURI, branches);
        if (cfg.quorum == 0) {
            _done(runId, step, r, d, cfg, sr);
        } else {
            uint256 window = d.extra.validationSeconds;
            if (window == 0) window = LEASE_CAP_FACTOR * cfg.leaseSeconds;
            sr.until = _time(block.timestamp + window); // the validation deadline
        }
    }

    /// @inheritdoc IWorkflowCoordinator
    function respond(uint256 runId, uint8 step, uint256 agentId, uint8 response) external {
        if (response > 100) revert CoordinatorInvalidResponse(response);
        Ballot[] memory ballots = new Ballot[](1);
        ballots[0] = Ballot({agentId: agentId, response: response, voter: msg.sender, owner: address(0)});
        _judge(runId, step, ballots, true);
    }

    /// @inheritdoc IWorkflowCoordinator
    function respondSigned(uint256 runId, uint8 step, SignedVote[] calldata votes) external {
        uint256 n = votes.length;
        if (n == 0) revert CoordinatorNoVotes(runId, step);
        (, , , StepRun storage sr, StepState s) = _locate(runId, step);
        if (s != StepState.Submitted) revert CoordinatorStepNotSubmitted(runId, step, s);
        uint8 attempt = sr.attempt;
        Ballot[] memory ballots = new Ballot[](n);
        for (uint256 i; i < n; ++i) {
            SignedVote calldata v = votes[i];
            bytes32 digest = _voteDigest(runId, step, attempt, v.agentId, v.response);
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, v.signature);
            if (err != ECDSA.RecoverError.NoError || signer != v.signer) {
                revert CoordinatorInvalidVoteSignature(runId, step, v.agentId, v.signer);
            }
            ballots[i] = Ballot({agentId: v.agentId, response: v.response, voter: v.signer, owner: address(0)});
        }
        _judge(runId, step, ballots, false);
    }

    /// @inheritdoc IWorkflowCoordinator
    function voteDigest(uint256 runId, uint8 step, uint8 attempt, uint256 agentId, uint8 response)
        external
        view
        returns (bytes32)
    {
        return _voteDigest(runId, step, attempt, agentId, response);
    }

    /// @dev Counts `ballots` on the current attempt of a Submitted step: every ballot is
    /// checked first (`_checkBallots`); EFFECTS: tallies in order until a verdict, and without
    /// one each counted ballot is recorded; INTERACTIONS: without a verdict each counted ballot
    /// locks its stake, with one the executor's stake is freed.
    function _judge(uint256 runId, uint8 step, Ballot[] memory ballots, bool strict) private {
        (Run storage r, WorkflowDefinitions.Definition storage d, WorkflowDefinitions.Step storage cfg,
            StepRun storage sr, StepState s) = _locate(runId, step);
        if (s != StepState.Submitted) revert CoordinatorStepNotSubmitted(runId, step, s);
        bytes32 role = _judgeRole(d);
        uint256 stake = d.extra.slashAmount;
        _checkBallots(runId, step, ballots, sr, r.creator, role, stake, strict);
        // EFFECTS
        (bool approved, bool decided, uint8 verdict) = _count(runId, step, ballots, cfg.quorum, sr);
        if (approved) {
            _markDone(runId, step, r, d, cfg, sr, sr.operator, verdict);
        } else if (decided) {
            _attemptFailed(runId, step, r, d, cfg, sr, true, false, true);
        }
        // INTERACTIONS (AgentRoles is fixed at deployment; releaseStake never reverts)
        if (decided) {
            _releaseExecutor(d, cfg, sr, false);
            return;
        }
        for (uint256 i; i < ballots.length; ++i) {
            Ballot memory b = ballots[i];
            if (b.owner != address(0)) _roles.lockStake(b.agentId, b.voter, role, stake);
        }
    }

    /// @dev The checks of every ballot: response, agent, eligibility and free stake
    /// (AgentRoles.checkStake, which returns the owner), independence, one vote per owner in
    /// the batch; an owner with a vote recorded on this attempt reverts when `strict`, else
    /// its ballot is skipped (owner 0). Sets each ballot's owner.
    function _checkBallots(
        uint256 runId,
        uint8 step,
        Ballot[] memory ballots,
        StepRun storage sr,
        address creator,
        bytes32 role,
        uint256 stake,
        bool strict
    ) private view {
        // no vote counted on this attempt yet: none can hold a record, nothing to look up
        bool untallied = sr.approvals == 0 && sr.rejections == 0;
        for (uint256 i; i < ballots.length; ++i) {
            Ballot memory b = ballots[i];
            if (b.response > 100) revert CoordinatorInvalidResponse(b.response);
            if (b.agentId > type(uint40).max) revert CoordinatorAgentIdTooLarge(b.agentId);
            if (_blocked[b.agentId]) revert CoordinatorRecordBlocked(b.agentId);
            // A batch vote whose owner may have voted already is checked for eligibility
            // first and for free stake only if it counts: the stake a vote sent ahead of the
            // batch locked must not make the batch fail.
            bool maySkip = !strict && !untallied;
            address owner_ = _roles.checkStake(b.agentId, b.voter, role, maySkip ? 0 : stake);
            if (!_independent(owner_, b.voter, sr, creator)) {
                revert CoordinatorValidatorNotIndependent(runId, step, b.agentId);
            }
            for (uint256 j; j < i; ++j) {
                if (ballots[j].owner == owner_) revert CoordinatorAlreadyVoted(runId, step, owner_);
            }
            if (!untallied && _votes[_voteKey(runId, step, sr.attempt, owner_)] != 0) {
                if (strict) revert CoordinatorAlreadyVoted(runId, step, owner_);
                owner_ = address(0); // sent ahead of this batch and counted then: skipped
            } else if (maySkip) {
                _roles.checkStake(b.agentId, b.voter, role, stake);
            }
            b.owner = owner_;
        }
    }

    /// @dev Tallies the checked ballots in order until a verdict (later ones are ignored).
    /// The tallies are counted in memory: without a verdict they are stored with each counted
    /// ballot's record (value agentId + 1); a verdict stores neither (it ends the attempt),
    /// only its mean approval `verdict` when approved.
    function _count(uint256 runId, uint8 step, Ballot[] memory ballots, uint8 quorum, StepRun storage sr)
        private
        returns (bool approved, bool decided, uint8 verdict)
    {
        Tally memory t = Tally({
            approvals: sr.approvals,
            rejections: sr.rejections,
            approvalSum: sr.approvalSum,
            rejectionSum: sr.rejectionSum
        });
        uint8 attempt = sr.attempt;
        for (uint256 i; i < ballots.length && !decided; ++i) {
            Ballot memory b = ballots[i];
            if (b.owner == address(0)) continue;
            // unchecked-free: tallies stop at quorum (<= 255), sums at 255 * 100
            if (b.response >= APPROVAL_THRESHOLD) {
                ++t.approvals;
                t.approvalSum += b.response;
            } else {
                ++t.rejections;
                t.rejectionSum += b.response;
            }
            emit StepValidated(runId, step, b.agentId, b.response, t.approvals, t.rejections, attempt, b.owner);
            approved = t.approvals == quorum;
            decided = approved || t.rejections == quorum;
        }
        if (decided) return (approved, decided, approved ? uint8(t.approvalSum / t.approvals) : 0);
        sr.approvals = t.approvals;
        sr.rejections = t.rejections;
        sr.approvalSum = t.approvalSum;
        sr.rejectionSum = t.rejectionSum;
        _record(runId, step, attempt, ballots);
    }

    /// @dev The records of counted ballots that reached no verdict (value agentId + 1).
    function _record(uint256 runId, uint8 step, uint8 attempt, Ballot[] memory ballots) private {
        for (uint256 i; i < ballots.length; ++i) {
            Ballot memory b = ballots[i];
            // < 2**40 + 1: no overflow
            if (b.owner != address(0)) _votes[_voteKey(runId, step, attempt, b.owner)] = b.agentId + 1;
        }
    }
    // slither-disable-end unused-return

    /// @dev The EIP-712 digest of a vote, in this coordinator's domain on this chain.
    function _voteDigest(uint256 runId, uint8 step, uint8 attempt, uint256 agentId, uint8 response)
        private
        view
        returns (bytes32)
    {
        bytes32 domain = keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, address(this)));
        return MessageHashUtils.toTypedDataHash(
            domain, keccak256(abi.encode(_VOTE_TYPEHASH, runId, step, attempt, agentId, response))
        );
    }

    /// @inheritdoc IWorkflowCoordinator
    function startRun(bytes32, bytes32, string calldata) external payable returns (uint256) {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function expireLease(uint256, uint8) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function heartbeatLease(uint256, uint8) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function withdraw() external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function router() external view returns (address) {
        return _router;
    }

    // ---------------------------------------------------------------- views
    /// @inheritdoc IWorkflowCoordinator
    function runState(uint256 runId) external view returns (RunState) {
        return _runs[runId].state;
    }

    /// @inheritdoc IWorkflowCoordinator
    function runInfo(uint256 runId) external view returns (RunInfo memory info) {
        Run storage r = _run(runId);
        info = RunInfo({
            definitionId: _defs[r.definition].id,
            creator: r.creator,
            state: r.state,
            escrow: r.escrow,
            doneMask: r.done,
            skippedMask: r.skipped,
            compensationPending: r.compPending,
            compensationOpen: r.compOpen
        });
    }

    /// @inheritdoc IWorkflowCoordinator
    function stepState(uint256 runId, uint8 step) external view returns (StepState s) {
        (, , , , s) = _locate(runId, step);
    }

    /// @inheritdoc IWorkflowCoordinator
    function readySteps(uint256 runId) external view returns (uint64 mask) {
        Run storage r = _run(runId);
        WorkflowDefinitions.Definition storage d = _defs[r.definition];
        uint8 n = d.header.stepCount;
        for (uint8 i; i < n; ++i) {
            if (_stepState(r, d, d.steps[i], _steps[runId][i], i) == StepState.Ready) mask |= Bitmask64.bit(i);
        }
    }

    /// @inheritdoc IWorkflowCoordinator
    function lease(uint256 runId, uint8 step)
        external
        view
        returns (uint256 agentId, address operator, uint64 leaseEnd, uint8 attempt)
    {
        (, , , StepRun storage sr, StepState s) = _locate(runId, step);
        attempt = sr.attempt;
        uint8 status = sr.status;
        if (status == CLAIMED || status == ABANDONED) {
            leaseEnd = uint64(_leaseEnd(sr));
        } else if (status == SUBMITTED || status == DISPATCHED) {
            leaseEnd = sr.until;
        }
        // a lapse not yet materialised: its failed attempt counts already
        if ((status == CLAIMED || status == DISPATCHED) && (s == StepState.Ready || s == StepState.Failed)) ++attempt;
        return (sr.agentId, sr.operator, leaseEnd, attempt);
    }

    /// @inheritdoc IWorkflowCoordinator
    function resultCommitment(uint256 runId, uint8 step) external view returns (bytes32) {
        return _steps[runId][step].result;
    }

    /// @inheritdoc IWorkflowCoordinator
    function tallies(uint256 runId, uint8 step) external view returns (uint8 approvals, uint8 rejections) {
        StepRun storage sr = _steps[runId][step];
        if (sr.status != SUBMITTED) return (0, 0);
        return (sr.approvals, sr.rejections);
    }

    /// @inheritdoc IWorkflowCoordinator
    function hasVoted(uint256 runId, uint8 step, uint256 agentId) external view returns (bool) {
        try _identity.ownerOf(agentId) returns (address owner_) {
            return _votes[_voteKey(runId, step, _steps[runId][step].attempt, owner_)] != 0;
        } catch {
            return false;
        }
    }

    /// @inheritdoc IWorkflowCoordinator
    function inflight(uint256 runId) external view returns (uint64) {
        return _runs[runId].inflight;
    }

    /// @inheritdoc IWorkflowCoordinator
    function recordBlocked(uint256 agentId) external view returns (bool) {
        return _blocked[agentId];
    }

    /// @inheritdoc IWorkflowCoordinator
    function definitionInfo(bytes32 definitionId)
        external
        view
        returns (
            uint8 stepCount,
            uint64 compensationMask,
            uint64 sinkMask,
            uint256 totalReward,
            bytes32 validatorRole,
            uint256 slashAmount
        )
    {
        WorkflowDefinitions.Definition storage d = _defs[_defIndex[definitionId]];
        WorkflowDefinitions.Header memory h = d.header;
        if (h.stepCount == 0) revert CoordinatorUnknownDefinition(definitionId);
        return (h.stepCount, h.compensationMask, h.sinkMask, h.totalReward, d.validatorRole, d.extra.slashAmount);
    }

    /// @inheritdoc IWorkflowCoordinator
    function definitionStep(bytes32 definitionId, uint8 step) external view returns (StepSpec memory) {
        WorkflowDefinitions.Definition storage d = _defs[_defIndex[definitionId]];
        if (d.header.stepCount == 0) revert CoordinatorUnknownDefinition(definitionId);
        if (step >= d.header.stepCount) revert CoordinatorInvalidStep(0, step);
        return d.steps[step].spec();
    }

    /// @inheritdoc IWorkflowCoordinator
    function owed(address account) external view returns (uint256) {
        return _owed[account];
    }

    /// @inheritdoc IWorkflowCoordinator
    function totalOwed() external view returns (uint256) {
        return _totals.owed;
    }

    /// @inheritdoc IWorkflowCoordinator
    function totalEscrowed() external view returns (uint256) {
        return _totals.escrowed;
    }

    /// @inheritdoc IWorkflowCoordinator
    function coordinatorAgentId() external view returns (uint256) {
        return _agentId;
    }

    /// @inheritdoc IWorkflowCoordinator
    function registries() external view returns (address, address, address, address, bytes32) {
        return (address(_identity), address(_roles), address(_reputation), address(_validation), _validatorRole);
    }

    // ---------------------------------------------------------------- delegated (extension)
    /// @inheritdoc IWorkflowCoordinator
    function registerDefinition(WorkflowDefinition calldata) external returns (bytes32) {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function pauseRun(uint256) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function resumeRun(uint256) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function cancelRun(uint256) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function expireValidation(uint256, uint8) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function releaseVoteStake(uint256, uint8, uint8, address) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function setRouter(address) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function dispatch(uint256, uint8, bytes32, string calldata) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function expireRemote(uint256, uint8) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function completeRemote(uint256, uint8, uint8, uint64, bytes32, string calldata, bool) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function publishOutcomes(uint256, uint256) external {
        _delegateTo(_records);
    }

    /// @inheritdoc IWorkflowCoordinator
    function publishValidation(uint256, uint8, bytes32, string calldata) external {
        _delegateTo(_records);
    }

    /// @notice The contract this coordinator delegates its colder functions to (deployed by
    /// the constructor; immutable).
    function extension() external view returns (address) {
        return _extension;
    }

    /// @notice The contract this coordinator delegates the ERC-8004 records to (deployed by the
    /// constructor; immutable).
    function recordsExtension() external view returns (address) {
        return _records;
    }

    function _delegate() private {
        _delegateTo(_extension);
    }

    /// @dev Runs the same call in `ext`, on this contract's storage, and returns (or reverts
    /// with) exactly what it returned. Never returns to the caller's Solidity code.
    function _delegateTo(address ext) private {
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), ext, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }
}
