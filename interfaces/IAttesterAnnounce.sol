// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IAttesterAnnounce
/// @notice Where each gateway attester publishes its signed attestations, announced by the
/// attester itself (Hyperlane's ValidatorAnnounce): a relayer that knows only the chains
/// reads the validator set from the gateway and the attesters' locations from here.
interface IAttesterAnnounce {
    /// @notice `attester` publishes its attestations at `location` from now on (its
    /// announcement number `sequence`).
    event LocationAnnounced(address indexed attester, string location, uint64 sequence);

    /// @notice The location is empty or longer than MAX_LOCATION_BYTES; `length` bytes given.
    error AnnounceInvalidLocation(uint256 length);
    /// @notice `attester`'s latest announcement is number `latest`: an announcement must carry
    /// a higher `sequence`, so an older one (even never sent before) cannot replace a newer.
    error AnnounceStaleSequence(address attester, uint64 sequence, uint64 latest);
    /// @notice The signature is not `attester`'s over `announcementDigest(location, sequence)`.
    error AnnounceInvalidSignature(address attester);

    /// @notice Record that `attester` publishes at `location`, on its EIP-191 `signature` of
    /// `announcementDigest(location, sequence)`; `sequence` must exceed its latest. Anyone may
    /// send it (an attester needs no gas of its own).
    function announce(address attester, string calldata location, uint64 sequence, bytes calldata signature)
        external;

    /// @notice What an attester signs to announce `location` as its `sequence`-th announcement
    /// on this contract and chain.
    function announcementDigest(string calldata location, uint64 sequence) external view returns (bytes32);

    /// @notice `attester`'s latest location and its sequence number ("" and 0: none).
    function latest(address attester) external view returns (string memory location, uint64 sequence);

    /// @notice The latest location of each of `attesters` ("" for one that never announced).
    function locations(address[] calldata attesters) external view returns (string[] memory);
}
