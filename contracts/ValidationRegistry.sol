// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IIdentityAuthorizer} from "../interfaces/IIdentityAuthorizer.sol";
import {IValidationRegistry} from "../interfaces/IValidationRegistry.sol";

/// @title ValidationRegistry
/// @notice ERC-8004 Validation Registry (see {IValidationRegistry}). A plain, non-upgradeable
/// deployment that behaves like erc-8004/erc-8004-contracts v2.0.0; the constructor takes the
/// identity registry the reference's initializer takes. Works with any ERC-8004 identity
/// registry (requests are authorised through `isAuthorizedOrOwner`).
/// @dev Differences from the reference, none visible through the ABI: typed custom errors
/// instead of require strings; no proxy or owner; the owner/operator check is one
/// `isAuthorizedOrOwner` call instead of `ownerOf` + `isApprovedForAll` + `getApproved` (same
/// answer, same revert for unknown agents); validator, response, answered flag and last
/// update share one slot (`lastUpdate` is stored as uint64 seconds and returned as uint256).
/// `getSummary`, `getAgentValidations` and `getValidatorRequests` are O(n) reads for
/// off-chain callers: no Accord contract calls them.
contract ValidationRegistry is IValidationRegistry {
    uint8 private constant _MAX_RESPONSE = 100;

    /// @dev validatorAddress, response, hasResponse and lastUpdate share the first slot.
    struct Status {
        address validatorAddress;
        uint8 response;
        bool hasResponse;
        uint64 lastUpdate;
        uint256 agentId;
        bytes32 responseHash;
        string tag;
    }

    IIdentityAuthorizer private immutable _identityRegistry;

    mapping(bytes32 requestHash => Status) private _validations;
    mapping(uint256 agentId => bytes32[] requestHashes) private _agentValidations;
    mapping(address validator => bytes32[] requestHashes) private _validatorRequests;

    constructor(address identityRegistry_) {
        if (identityRegistry_ == address(0)) revert ValidationRegistryZeroIdentityRegistry();
        _identityRegistry = IIdentityAuthorizer(identityRegistry_);
    }

    // ------------------------------------------------------------------ writes

    /// @inheritdoc IValidationRegistry
    function validationRequest(
        address validatorAddress,
        uint256 agentId,
        string calldata requestURI,
        bytes32 requestHash
    ) external {
        if (validatorAddress == address(0)) revert ValidationRegistryZeroValidator();
        Status storage s = _validations[requestHash];
        if (s.validatorAddress != address(0)) revert ValidationRegistryRequestExists(requestHash);
        // Also reverts (ERC721NonexistentToken) when the agent does not exist.
        if (!_identityRegistry.isAuthorizedOrOwner(msg.sender, agentId)) {
            revert ValidationRegistryNotAuthorized(agentId, msg.sender);
        }

        s.validatorAddress = validatorAddress;
        s.lastUpdate = uint64(block.timestamp);
        s.agentId = agentId;
        _agentValidations[agentId].push(requestHash);
        _validatorRequests[validatorAddress].push(requestHash);
        emit ValidationRequest(validatorAddress, agentId, requestURI, requestHash);
    }

    /// @inheritdoc IValidationRegistry
    function validationResponse(
        bytes32 requestHash,
        uint8 response,
        string calldata responseURI,
        bytes32 responseHash,
        string calldata tag
    ) external {
        Status storage s = _validations[requestHash];
        address validatorAddress = s.validatorAddress;
        if (validatorAddress == address(0)) revert ValidationRegistryUnknownRequest(requestHash);
        if (msg.sender != validatorAddress) {
            revert ValidationRegistryNotValidator(requestHash, msg.sender, validatorAddress);
        }
        if (response > _MAX_RESPONSE) revert ValidationRegistryResponseOutOfRange(response);

        // One slot write for validator/response/flag/time (the validator is unchanged).
        s.response = response;
        s.hasResponse = true;
        s.lastUpdate = uint64(block.timestamp);
        s.responseHash = responseHash;
        s.tag = tag;
        emit ValidationResponse(validatorAddress, s.agentId, requestHash, response, responseURI, responseHash, tag);
    }

    // ------------------------------------------------------------------ O(1) reads

    /// @inheritdoc IValidationRegistry
    function getIdentityRegistry() external view returns (address) {
        return address(_identityRegistry);
    }

    /// @inheritdoc IValidationRegistry
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
        )
    {
        Status storage s = _validations[requestHash];
        validatorAddress = s.validatorAddress;
        if (validatorAddress == address(0)) revert ValidationRegistryUnknownRequest(requestHash);
        return (validatorAddress, s.agentId, s.response, s.responseHash, s.tag, s.lastUpdate);
    }

    /// @inheritdoc IValidationRegistry
    function getVersion() external pure returns (string memory) {
        return "2.0.0";
    }

    // ------------------------------------------------------------------ O(n) reads, off-chain only

    /// @inheritdoc IValidationRegistry
    /// @dev O(requests of the agent x `validatorAddresses`). Off-chain callers only.
    function getSummary(uint256 agentId, address[] calldata validatorAddresses, string calldata tag)
        external
        view
        returns (uint64 count, uint8 avgResponse)
    {
        bytes32[] storage hashes = _agentValidations[agentId];
        bytes32 tagHash = keccak256(bytes(tag));
        uint256 total;
        for (uint256 i; i < hashes.length; ++i) {
            Status storage s = _validations[hashes[i]];
            if (!s.hasResponse) continue;
            if (bytes(tag).length != 0 && keccak256(bytes(s.tag)) != tagHash) continue;
            if (validatorAddresses.length != 0 && !_contains(validatorAddresses, s.validatorAddress)) continue;
            total += s.response;
            ++count;
        }
        avgResponse = count > 0 ? uint8(total / count) : 0;
    }

    /// @inheritdoc IValidationRegistry
    /// @dev O(n). Off-chain callers only.
    function getAgentValidations(uint256 agentId) external view returns (bytes32[] memory) {
        return _agentValidations[agentId];
    }

    /// @inheritdoc IValidationRegistry
    /// @dev O(n). Off-chain callers only.
    function getValidatorRequests(address validatorAddress) external view returns (bytes32[] memory) {
        return _validatorRequests[validatorAddress];
    }

    function _contains(address[] calldata list, address who) private pure returns (bool) {
        for (uint256 j; j < list.length; ++j) {
            if (list[j] == who) return true;
        }
        return false;
    }
}
