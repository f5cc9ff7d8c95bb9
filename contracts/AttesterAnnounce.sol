// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IAttesterAnnounce} from "../interfaces/IAttesterAnnounce.sol";

/// @title AttesterAnnounce
/// @notice Attesters announce where they publish their signed attestations (see
/// IAttesterAnnounce). No owner, no value: an announcement binds only its signer, and each
/// carries a sequence number that must grow, so a stranger can neither announce for an
/// attester nor put an older announcement (sent before or not) over a newer one.
contract AttesterAnnounce is IAttesterAnnounce {
    /// @notice Longest location, in bytes.
    uint256 public constant MAX_LOCATION_BYTES = 512;

    bytes32 private constant _TAG = keccak256("ACCORD_ATTESTER_ANNOUNCEMENT");

    struct Announcement {
        string location;
        uint64 sequence;
    }

    mapping(address attester => Announcement) private _latest;

    /// @inheritdoc IAttesterAnnounce
    function announce(address attester, string calldata location, uint64 sequence, bytes calldata signature)
        external
    {
        // CHECKS
        uint256 n = bytes(location).length;
        if (n == 0 || n > MAX_LOCATION_BYTES) revert AnnounceInvalidLocation(n);
        Announcement storage a = _latest[attester];
        uint64 current = a.sequence;
        if (sequence <= current) revert AnnounceStaleSequence(attester, sequence, current);
        // the third value (the error's argument) only details a failure, which reverts anyway
        // slither-disable-next-line unused-return
        (address signer, ECDSA.RecoverError err,) =
            ECDSA.tryRecoverCalldata(_digest(location, sequence), signature);
        if (err != ECDSA.RecoverError.NoError || signer != attester) revert AnnounceInvalidSignature(attester);
        // EFFECTS
        a.location = location;
        a.sequence = sequence;
        emit LocationAnnounced(attester, location, sequence);
    }

    /// @inheritdoc IAttesterAnnounce
    function announcementDigest(string calldata location, uint64 sequence) external view returns (bytes32) {
        return _digest(location, sequence);
    }

    /// @inheritdoc IAttesterAnnounce
    function latest(address attester) external view returns (string memory location, uint64 sequence) {
        Announcement storage a = _latest[attester];
        return (a.location, a.sequence);
    }

    /// @inheritdoc IAttesterAnnounce
    function locations(address[] calldata attesters) external view returns (string[] memory out) {
        out = new string[](attesters.length);
        for (uint256 i; i < attesters.length; ++i) {
            out[i] = _latest[attesters[i]].location;
        }
    }

    function _digest(string calldata location, uint64 sequence) private view returns (bytes32) {
        return MessageHashUtils.toEthSignedMessageHash(
            keccak256(abi.encode(_TAG, block.chainid, address(this), keccak256(bytes(location)), sequence))
        );
    }
}
