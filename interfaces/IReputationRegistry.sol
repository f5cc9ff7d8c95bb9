// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IReputationRegistry
/// @notice ERC-8004 Reputation Registry: clients leave signed fixed-point feedback
/// (`value` / 10^`valueDecimals`) with two tags about an agent; anyone may append responses.
/// @dev Behaves like erc-8004/erc-8004-contracts v2.0.0 `ReputationRegistryUpgradeable`,
/// except that reverts carry the typed errors below instead of require strings. Feedback
/// indexes are 1-based per (agentId, client). The agent's owner, approved address and
/// operators may not give it feedback; unknown agents revert in the identity registry.
/// The summary and list reads scan storage (O(n)): they are for off-chain callers only.
interface IReputationRegistry {
    // ---------------------------------------------------------------- errors
    /// @notice The identity registry given to the constructor is the zero address.
    error ReputationRegistryZeroIdentityRegistry();
    /// @notice `valueDecimals` is above 18 (reference: "too many decimals").
    error ReputationRegistryTooManyDecimals(uint8 valueDecimals);
    /// @notice |`value`| is above 1e38 (reference: "value too large").
    error ReputationRegistryValueOutOfRange(int128 value);
    /// @notice `caller` owns or operates `agentId` (reference: "Self-feedback not allowed").
    error ReputationRegistrySelfFeedback(uint256 agentId, address caller);
    /// @notice `feedbackIndex` is 0 or above `lastIndex` of (`agentId`, `clientAddress`)
    /// (reference: "index must be > 0" / "index out of bounds").
    error ReputationRegistryIndexOutOfBounds(
        uint256 agentId, address clientAddress, uint64 feedbackIndex, uint64 lastIndex
    );
    /// @notice The feedback was already revoked (reference: "Already revoked").
    error ReputationRegistryAlreadyRevoked(uint256 agentId, address clientAddress, uint64 feedbackIndex);
    /// @notice A response needs a non-empty URI (reference: "Empty URI").
    error ReputationRegistryEmptyResponseURI();
    /// @notice `getSummary` needs a non-empty client list (reference: "clientAddresses required").
    error ReputationRegistryClientAddressesRequired();

    // ---------------------------------------------------------------- events
    /// @notice `clientAddress` left feedback number `feedbackIndex` for `agentId`.
    event NewFeedback(
        uint256 indexed agentId,
        address indexed clientAddress,
        uint64 feedbackIndex,
        int128 value,
        uint8 valueDecimals,
        string indexed indexedTag1,
        string tag1,
        string tag2,
        string endpoint,
        string feedbackURI,
        bytes32 feedbackHash
    );
    /// @notice `clientAddress` revoked its feedback `feedbackIndex` for `agentId`.
    event FeedbackRevoked(uint256 indexed agentId, address indexed clientAddress, uint64 indexed feedbackIndex);
    /// @notice `responder` appended a response to feedback (`agentId`, `clientAddress`, `feedbackIndex`).
    event ResponseAppended(
        uint256 indexed agentId,
        address indexed clientAddress,
        uint64 feedbackIndex,
        address indexed responder,
        string responseURI,
        bytes32 responseHash
    );

    // ---------------------------------------------------------------- writes
    /// @notice Leave feedback `value` / 10^`valueDecimals` (decimals <= 18, |value| <= 1e38) for
    /// `agentId` as the caller; the caller must not own or operate the agent. Returns nothing;
    /// the new 1-based index is in the event and `getLastIndex`.
    function giveFeedback(
        uint256 agentId,
        int128 value,
        uint8 valueDecimals,
        string calldata tag1,
        string calldata tag2,
        string memory endpoint,
        string memory feedbackURI,
        bytes32 feedbackHash
    ) external;

    /// @notice Revoke the caller's own feedback `feedbackIndex` for `agentId` (once).
    function revokeFeedback(uint256 agentId, uint64 feedbackIndex) external;

    /// @notice Append a response (anyone may respond, repeatedly) to an existing feedback.
    function appendResponse(
        uint256 agentId,
        address clientAddress,
        uint64 feedbackIndex,
        string calldata responseURI,
        bytes32 responseHash
    ) external;

    // ---------------------------------------------------------------- O(1) reads
    /// @notice The identity registry whose agents this registry rates.
    function getIdentityRegistry() external view returns (address);

    /// @notice The number of feedbacks `clientAddress` gave `agentId` (the last 1-based index).
    function getLastIndex(uint256 agentId, address clientAddress) external view returns (uint64);

    /// @notice One feedback; reverts when the index is 0 or beyond the last one.
    function readFeedback(uint256 agentId, address clientAddress, uint64 feedbackIndex)
        external
        view
        returns (int128 value, uint8 valueDecimals, string memory tag1, string memory tag2, bool isRevoked);

    /// @notice The reference behaviour this registry matches ("2.0.0").
    function getVersion() external pure returns (string memory);

    // ---------------------------------------------------------------- O(n) reads, off-chain only
    /// @notice Count and average of the non-revoked feedback of `clientAddresses` (required,
    /// non-empty) matching the tags (empty tag = any), averaged in 18 decimals and returned in the
    /// most frequent `valueDecimals`. O(total feedbacks of those clients): off-chain callers only.
    function getSummary(uint256 agentId, address[] calldata clientAddresses, string calldata tag1, string calldata tag2)
        external
        view
        returns (uint64 count, int128 summaryValue, uint8 summaryValueDecimals);

    /// @notice Every feedback of `clientAddresses` (all clients when empty) matching the tags.
    /// O(total feedbacks): off-chain callers only.
    function readAllFeedback(
        uint256 agentId,
        address[] memory clientAddresses,
        string memory tag1,
        string memory tag2,
        bool includeRevoked
    )
        external
        view
        returns (
            address[] memory clients,
            uint64[] memory feedbackIndexes,
            int128[] memory values,
            uint8[] memory valueDecimals,
            string[] memory tag1s,
            string[] memory tag2s,
            bool[] memory revokedStatuses
        );

    /// @notice Responses counted by `responders` (all when empty) to one feedback, to every
    /// feedback of `clientAddress` (`feedbackIndex` 0), or to every feedback of the agent
    /// (`clientAddress` zero). O(feedbacks x responders): off-chain callers only.
    function getResponseCount(
        uint256 agentId,
        address clientAddress,
        uint64 feedbackIndex,
        address[] calldata responders
    ) external view returns (uint64 count);

    /// @notice Every client that ever gave `agentId` feedback, in first-feedback order.
    /// O(clients): off-chain callers only.
    function getClients(uint256 agentId) external view returns (address[] memory);
}
