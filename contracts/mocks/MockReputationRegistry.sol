// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;


/// @title MockReputationRegistry
/// @notice Test-only reputation stand-in: counts feedback per agent, keeps the last value,
/// emits every call; can be told to refuse feedback.
contract MockReputationRegistry {
    /// @notice One feedback call as received.
    event MockFeedback(
        uint256 indexed agentId, address indexed client, int128 value, string tag1, string tag2, bytes32 feedbackHash
    );

    /// @notice The mock refuses feedback.
    error MockFeedbackRefused();

    struct Tally {
        uint128 count;
        int128 last;
    }

    mapping(uint256 => Tally) private _tally; // one slot per agent: count and last value
    bool private _refuse;

    /// @notice Make every `giveFeedback` revert.
    function setRefuse(bool refuse) external {
        _refuse = refuse;
    }

    /// @notice Record one feedback call ({IReputationRegistry-giveFeedback}'s signature); reverts
    /// when told to refuse.
    function giveFeedback(
        uint256 agentId,
        int128 value,
        uint8,
        string calldata tag1,
        string calldata tag2,
        string calldata,
        string calldata,
        bytes32 feedbackHash
    ) external {
        if (_refuse) revert MockFeedbackRefused();
        Tally storage t = _tally[agentId];
        (t.count, t.last) = (t.count + 1, value);
        emit MockFeedback(agentId, msg.sender, value, tag1, tag2, feedbackHash);
    }

    /// @notice Feedback count and last value for `agentId`.
    function feedbackOf(uint256 agentId) external view returns (uint256 count, int128 lastValue) {
        Tally storage t = _tally[agentId];
        return (t.count, t.last);
    }
}
