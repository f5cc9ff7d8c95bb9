// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IAttesterAnnounce
/// @notice Where each gateway attester publishes its signed attestations, announced by the
/// attester itself (Hyperlane's ValidatorAnnounce): a relayer that knows only the chains
/// reads the validator set from the gateway and the attesters' locations from here.
interface IAttesterAnnounce {
    /// @notice `attester` publishes its attestations at `location` from now on.
    event LocationAnnounced(address indexed attester, string location);

    /// @notice The location is empty or longer than MAX_LOCATION_BYTES; `length` bytes given.
    error AnnounceInvalidLocation(uint256 length);
    /// @notice `attester` announced `location` before: an announcement is never replayed (an
    /// attester that returns to an old place announces it under another URL, e.g. `.../v2`).
    error AnnounceAlreadyAnnounced(address attester, string location);
    /// @notice The signature is not `attester`'s over `announcementDigest(location)`.
    error AnnounceInvalidSignature(address attester);

    /// @notice Record that `attester` publishes at `location`, on its EIP-191 `signature` of
    /// `announcementDigest(location)`. Anyone may send it (an attester needs no gas of its own).
    function announce(address attester, string calldata location, bytes calldata signature) external;

    /// @notice What an attester signs to announce `location` on this contract and chain.
    function announcementDigest(string calldata location) external view returns (bytes32);

    /// @notice The latest location of each of `attesters` ("" for one that never announced).
    function locations(address[] calldata attesters) external view returns (string[] memory);
}
