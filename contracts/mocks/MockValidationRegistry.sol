// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IIdentityAuthorizer} from "../../interfaces/IIdentityAuthorizer.sol";

/// @title MockValidationRegistry
/// @notice Test-only validation stand-in with the reference's access rules: the requester
/// must own or operate the agent, only the named validator responds, responses are 0..100.
contract MockValidationRegistry {
    /// @dev One slot; the rest of each call is in the events.
    struct Request {
        address validator;
        uint8 response;
        bool responded;
    }

    /// @notice A request was stored.
    event MockValidationRequested(bytes32 indexed requestHash, address indexed validator, uint256 indexed agentId, string requestURI);
    /// @notice A response was stored.
    event MockValidationResponded(bytes32 indexed requestHash, uint8 response, bytes32 responseHash, string tag);

    error MockNotAuthorized();
    error MockRequestExists();
    error MockNotValidator();
    error MockBadResponse();

    IIdentityAuthorizer private immutable _identity;
    mapping(bytes32 => Request) private _requests;
    uint256 private _count;

    constructor(IIdentityAuthorizer identity) {
        _identity = identity;
    }

    /// @notice Store a request ({IValidationRegistry-validationRequest}'s signature and access
    /// rule: the caller owns or operates `agentId`).
    function validationRequest(address validatorAddress, uint256 agentId, string calldata requestURI, bytes32 requestHash)
        external
    {
        if (!_identity.isAuthorizedOrOwner(msg.sender, agentId)) revert MockNotAuthorized();
        if (_requests[requestHash].validator != address(0)) revert MockRequestExists();
        _requests[requestHash] = Request(validatorAddress, 0, false);
        ++_count;
        emit MockValidationRequested(requestHash, validatorAddress, agentId, requestURI);
    }

    /// @notice Store the named validator's response, 0..100
    /// ({IValidationRegistry-validationResponse}'s signature).
    function validationResponse(
        bytes32 requestHash,
        uint8 response,
        string calldata,
        bytes32 responseHash,
        string calldata tag
    ) external {
        Request storage q = _requests[requestHash];
        if (q.validator != msg.sender) revert MockNotValidator();
        if (response > 100) revert MockBadResponse();
        (q.response, q.responded) = (response, true);
        emit MockValidationResponded(requestHash, response, responseHash, tag);
    }

    /// @notice A stored request.
    function requestOf(bytes32 requestHash) external view returns (Request memory) {
        return _requests[requestHash];
    }

    /// @notice Number of requests stored.
    function requestCount() external view returns (uint256) {
        return _count;
    }
}
