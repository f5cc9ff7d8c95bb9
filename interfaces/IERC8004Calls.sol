// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IIdentityCalls
/// @notice The part of an ERC-8004 Identity Registry the workflow coordinator calls.
interface IIdentityCalls {
    /// @notice Mint a new agent identity to the caller; returns its agentId.
    function register() external returns (uint256 agentId);

    /// @notice True when `spender` is the owner or an approved operator of `agentId`.
    function isAuthorizedOrOwner(address spender, uint256 agentId) external view returns (bool);

    /// @notice Owner of `agentId` (reverts for unknown ids).
    function ownerOf(uint256 agentId) external view returns (address);
}

/// @title IReputationCalls
/// @notice The part of an ERC-8004 Reputation Registry the workflow coordinator calls.
interface IReputationCalls {
    /// @notice Record feedback `value` (fixed point with `valueDecimals`) about `agentId`.
    function giveFeedback(
        uint256 agentId,
        int128 value,
        uint8 valueDecimals,
        string calldata tag1,
        string calldata tag2,
        string calldata endpoint,
        string calldata feedbackURI,
        bytes32 feedbackHash
    ) external;
}

/// @title IValidationCalls
/// @notice The part of an ERC-8004 Validation Registry the workflow coordinator calls.
interface IValidationCalls {
    /// @notice Ask `validatorAddress` to validate work of `agentId` committed to by `requestHash`.
    function validationRequest(
        address validatorAddress,
        uint256 agentId,
        string calldata requestURI,
        bytes32 requestHash
    ) external;

    /// @notice Answer the request `requestHash` with `response` (0..100). Validator only.
    function validationResponse(
        bytes32 requestHash,
        uint8 response,
        string calldata responseURI,
        bytes32 responseHash,
        string calldata tag
    ) external;
}
