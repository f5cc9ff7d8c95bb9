// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IValidationRegistry
/// @notice ERC-8004 Validation Registry: an agent's owner or operator asks a named validator
/// to check some work (`requestHash` commits to it); the validator answers 0..100 and may
/// answer again (each answer replaces the previous one).
/// @dev Behaves like erc-8004/erc-8004-contracts v2.0.0 `ValidationRegistryUpgradeable`,
/// except that reverts carry the typed errors below instead of require strings. The summary
/// and list reads scan storage (O(n)): they are for off-chain callers only.
interface IValidationRegistry {
    // ---------------------------------------------------------------- errors
    /// @notice The identity registry given to the constructor is the zero address.
    error ValidationRegistryZeroIdentityRegistry();
    /// @notice The validator is the zero address (reference: "bad validator").
    error ValidationRegistryZeroValidator();
    /// @notice A request with `requestHash` already exists (reference: "exists").
    error ValidationRegistryRequestExists(bytes32 requestHash);
    /// @notice `caller` neither owns nor operates `agentId` (reference: "Not authorized").
    error ValidationRegistryNotAuthorized(uint256 agentId, address caller);
    /// @notice No request has `requestHash` (reference: "unknown").
    error ValidationRegistryUnknownRequest(bytes32 requestHash);
    /// @notice Only `validatorAddress` may answer `requestHash` (reference: "not validator").
    error ValidationRegistryNotValidator(bytes32 requestHash, address caller, address validatorAddress);
    /// @notice `response` is above 100 (reference: "resp>100").
    error ValidationRegistryResponseOutOfRange(uint8 response);

    // ---------------------------------------------------------------- events
    /// @notice `agentId` asked `validatorAddress` to validate `requestHash` (details at `requestURI`).
    event ValidationRequest(
        address indexed validatorAddress, uint256 indexed agentId, string requestURI, bytes32 indexed requestHash
    );
    /// @notice `validatorAddress` answered `requestHash` with `response` (0..100).
    event ValidationResponse(
        address indexed validatorAddress,
        uint256 indexed agentId,
        bytes32 indexed requestHash,
        uint8 response,
        string responseURI,
        bytes32 responseHash,
        string tag
    );

    // ---------------------------------------------------------------- writes
    /// @notice Ask `validatorAddress` to validate `requestHash` for `agentId`. Owner or operator
    /// of the agent only; each `requestHash` can be requested once.
    function validationRequest(
        address validatorAddress,
        uint256 agentId,
        string calldata requestURI,
        bytes32 requestHash
    ) external;

    /// @notice Answer (or re-answer) `requestHash` with `response` in 0..100. Only the request's
    /// validator.
    function validationResponse(
        bytes32 requestHash,
        uint8 response,
        string calldata responseURI,
        bytes32 responseHash,
        string calldata tag
    ) external;

    // ---------------------------------------------------------------- O(1) reads
    /// @notice The identity registry whose agents are validated.
    function getIdentityRegistry() external view returns (address);

    /// @notice The state of `requestHash` (response 0 and lastUpdate = request time until
    /// answered). Reverts for unknown requests.
    function getValidationStatus(bytes32 requestHash)
        external
        view
        returns (
            address validatorAddress,
            uint256 agentId,
            uint8 response,
            bytes32 responseHash,
            string memory tag,
            uint256 lastUpdate
        );

    /// @notice The reference behaviour this registry matches ("2.0.0").
    function getVersion() external pure returns (string memory);

    // ---------------------------------------------------------------- O(n) reads, off-chain only
    /// @notice Count and integer average of the answered requests of `agentId`, filtered by
    /// validators (any when empty) and `tag` (any when empty). O(requests x validators):
    /// off-chain callers only.
    function getSummary(uint256 agentId, address[] calldata validatorAddresses, string calldata tag)
        external
        view
        returns (uint64 count, uint8 avgResponse);

    /// @notice Every requestHash made for `agentId`, in request order. O(n): off-chain only.
    function getAgentValidations(uint256 agentId) external view returns (bytes32[] memory);

    /// @notice Every requestHash addressed to `validatorAddress`, in request order. O(n): off-chain only.
    function getValidatorRequests(address validatorAddress) external view returns (bytes32[] memory);
}
