// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IAttesterAnnounce} from "../interfaces/IAttesterAnnounce.sol";

/// @title AttesterAnnounce
/// @notice Attesters announce where they publish their signed attestations (see
/// IAttesterAnnounce). No owner, no value: an announcement binds only its signer, so a
/// stranger can neither announce for an attester nor replay an attester's old location over
/// its new one (every (attester, location) pair is announced at most once).
contract AttesterAnnounce is IAttesterAnnounce {
    /// @notice Longest location, in bytes.
    uint256 public constant MAX_LOCATION_BYTES = 512;

    bytes32 private constant _TAG = keccak256("ACCORD_ATTESTER_ANNOUNCEMENT");

    mapping(address attester => string location) private _latest;
    mapping(bytes32 attesterAndLocation => bool) private _announced;

    /// @inheritdoc IAttesterAnnounce
    function announce(address attester, string calldata location, bytes calldata signature) external {
        // CHECKS
        uint256 n = bytes(location).length;
        if (n == 0 || n > MAX_LOCATION_BYTES) revert AnnounceInvalidLocation(n);
        bytes32 key = keccak256(abi.encode(attester, location));
        if (_announced[key]) revert AnnounceAlreadyAnnounced(attester, location);
        // the third value (the error's argument) only details a failure, which reverts anyway
        // slither-disable-next-line unused-return
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(_digest(location), signature);
        if (err != ECDSA.RecoverError.NoError || signer != attester) revert AnnounceInvalidSignature(attester);
        // EFFECTS
        _announced[key] = true;
        _latest[attester] = location;
        emit LocationAnnounced(attester, location);
    }

    /// @inheritdoc IAttesterAnnounce
    function announcementDigest(string calldata location) external view returns (bytes32) {
        return _digest(location);
    }

    /// @inheritdoc IAttesterAnnounce
    function locations(address[] calldata attesters) external view returns (string[] memory out) {
        out = new string[](attesters.length);
        for (uint256 i; i < attesters.length; ++i) {
            out[i] = _latest[attesters[i]];
        }
    }

    function _digest(string calldata location) private view returns (bytes32) {
        return MessageHashUtils.toEthSignedMessageHash(
            keccak256(abi.encode(_TAG, block.chainid, address(this), keccak256(bytes(location))))
        );
    }
}
