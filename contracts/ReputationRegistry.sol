// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IIdentityAuthorizer} from "../interfaces/IIdentityAuthorizer.sol";
import {IReputationRegistry} from "../interfaces/IReputationRegistry.sol";

/// @title ReputationRegistry
/// @notice ERC-8004 Reputation Registry (see {IReputationRegistry}). A plain, non-upgradeable
/// deployment that behaves like erc-8004/erc-8004-contracts v2.0.0; the constructor takes the
/// identity registry the reference's initializer takes. Works with any ERC-8004 identity
/// registry (self-feedback is checked through `isAuthorizedOrOwner`).
/// @dev Differences from the reference, none visible through the ABI: typed custom errors
/// instead of require strings; no proxy or owner; "has this client given feedback" and "has
/// this responder responded" are derived from the counters (last index > 0, response count
/// > 0) instead of separate boolean mappings. `getSummary`, `readAllFeedback`,
/// `getResponseCount` and `getClients` are O(n) scans kept for off-chain callers: no Accord
/// contract calls them.
contract ReputationRegistry is IReputationRegistry {
    int128 private constant _MAX_ABS_VALUE = 1e38;
    uint8 private constant _MAX_DECIMALS = 18;

    /// @dev value, valueDecimals and isRevoked share one slot.
    struct Feedback {
        int128 value;
        uint8 valueDecimals;
        bool isRevoked;
        string tag1;
        string tag2;
    }

    IIdentityAuthorizer private immutable _identityRegistry;

    mapping(uint256 agentId => mapping(address client => mapping(uint64 index => Feedback))) private _feedback;
    mapping(uint256 agentId => mapping(address client => uint64 lastIndex)) private _lastIndex;
    mapping(uint256 agentId => address[] clients) private _clients;
    mapping(uint256 agentId => mapping(address client => mapping(uint64 index => address[] responders))) private
        _responders;
    mapping(
        uint256 agentId => mapping(address client => mapping(uint64 index => mapping(address responder => uint64)))
    ) private _responseCount;

    constructor(address identityRegistry_) {
        if (identityRegistry_ == address(0)) revert ReputationRegistryZeroIdentityRegistry();
        _identityRegistry = IIdentityAuthorizer(identityRegistry_);
    }

    // ------------------------------------------------------------------ writes

    /// @inheritdoc IReputationRegistry
    function giveFeedback(
        uint256 agentId,
        int128 value,
        uint8 valueDecimals,
        string calldata tag1,
        string calldata tag2,
        string memory endpoint,
        string memory feedbackURI,
        bytes32 feedbackHash
    ) external {
        if (valueDecimals > _MAX_DECIMALS) revert ReputationRegistryTooManyDecimals(valueDecimals);
        if (value > _MAX_ABS_VALUE || value < -_MAX_ABS_VALUE) revert ReputationRegistryValueOutOfRange(value);
        // Also reverts (ERC721NonexistentToken) when the agent does not exist.
        if (_identityRegistry.isAuthorizedOrOwner(msg.sender, agentId)) {
            revert ReputationRegistrySelfFeedback(agentId, msg.sender);
        }

        uint64 index = _store(agentId, value, valueDecimals, tag1, tag2);
        emit NewFeedback(agentId, msg.sender, index, value, valueDecimals, tag1, tag1, tag2, endpoint, feedbackURI, feedbackHash);
    }

    /// @inheritdoc IReputationRegistry
    function revokeFeedback(uint256 agentId, uint64 feedbackIndex) external {
        _requireIndex(agentId, msg.sender, feedbackIndex);
        Feedback storage f = _feedback[agentId][msg.sender][feedbackIndex];
        if (f.isRevoked) revert ReputationRegistryAlreadyRevoked(agentId, msg.sender, feedbackIndex);
        f.isRevoked = true;
        emit FeedbackRevoked(agentId, msg.sender, feedbackIndex);
    }

    /// @inheritdoc IReputationRegistry
    function appendResponse(
        uint256 agentId,
        address clientAddress,
        uint64 feedbackIndex,
        string calldata responseURI,
        bytes32 responseHash
    ) external {
        if (feedbackIndex == 0) revert ReputationRegistryIndexOutOfBounds(agentId, clientAddress, 0, _lastIndex[agentId][clientAddress]);
        if (bytes(responseURI).length == 0) revert ReputationRegistryEmptyResponseURI();
        _requireIndex(agentId, clientAddress, feedbackIndex);

        mapping(address => uint64) storage counts = _responseCount[agentId][clientAddress][feedbackIndex];
        uint64 count = counts[msg.sender];
        if (count == 0) _responders[agentId][clientAddress][feedbackIndex].push(msg.sender);
        counts[msg.sender] = count + 1;
        emit ResponseAppended(agentId, clientAddress, feedbackIndex, msg.sender, responseURI, responseHash);
    }

    // ------------------------------------------------------------------ O(1) reads

    /// @inheritdoc IReputationRegistry
    function getIdentityRegistry() external view returns (address) {
        return address(_identityRegistry);
    }

    /// @inheritdoc IReputationRegistry
    function getLastIndex(uint256 agentId, address clientAddress) external view returns (uint64) {
        return _lastIndex[agentId][clientAddress];
    }

    /// @inheritdoc IReputationRegistry
    function readFeedback(uint256 agentId, address clientAddress, uint64 feedbackIndex)
        external
        view
        returns (int128 value, uint8 valueDecimals, string memory tag1, string memory tag2, bool isRevoked)
    {
        _requireIndex(agentId, clientAddress, feedbackIndex);
        Feedback storage f = _feedback[agentId][clientAddress][feedbackIndex];
        return (f.value, f.valueDecimals, f.tag1, f.tag2, f.isRevoked);
    }

    /// @inheritdoc IReputationRegistry
    function getVersion() external pure returns (string memory) {
        return "2.0.0";
    }

    // ------------------------------------------------------------------ O(n) reads, off-chain only

    /// @inheritdoc IReputationRegistry
    /// @dev O(total feedbacks of `clientAddresses`). Off-chain callers only; never called by
    /// an Accord contract.
    function getSummary(uint256 agentId, address[] calldata clientAddresses, string calldata tag1, string calldata tag2)
        external
        view
        returns (uint64 count, int128 summaryValue, uint8 summaryValueDecimals)
    {
        if (clientAddresses.length == 0) revert ReputationRegistryClientAddressesRequired();
        Filter memory filter = _filter(tag1, tag2, false);
        int256 sumWad;
        uint64[19] memory decimalCounts;
        for (uint256 i; i < clientAddresses.length; ++i) {
            sumWad += _accumulate(agentId, clientAddresses[i], filter, decimalCounts);
        }
        for (uint8 d; d <= _MAX_DECIMALS; ++d) {
            count += decimalCounts[d];
        }
        if (count == 0) return (0, 0, 0);
        uint64 best;
        for (uint8 d; d <= _MAX_DECIMALS; ++d) {
            if (decimalCounts[d] > best) {
                best = decimalCounts[d];
                summaryValueDecimals = d;
            }
        }
        int256 avgWad = sumWad / int256(uint256(count));
        summaryValue = int128(avgWad / int256(10 ** uint256(_MAX_DECIMALS - summaryValueDecimals)));
    }

    /// @inheritdoc IReputationRegistry
    /// @dev Two passes over every matching feedback. Off-chain callers only.
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
        )
    {
        address[] memory list = clientAddresses;
        if (list.length == 0) list = _clients[agentId];
        Page memory p = _readAll(agentId, list, _filter(tag1, tag2, includeRevoked));
        return (p.clients, p.feedbackIndexes, p.values, p.valueDecimals, p.tag1s, p.tag2s, p.revokedStatuses);
    }

    /// @inheritdoc IReputationRegistry
    /// @dev O(feedbacks x responders). Off-chain callers only.
    function getResponseCount(
        uint256 agentId,
        address clientAddress,
        uint64 feedbackIndex,
        address[] calldata responders
    ) external view returns (uint64 count) {
        if (clientAddress == address(0)) {
            address[] storage all = _clients[agentId];
            for (uint256 i; i < all.length; ++i) {
                count += _countAll(agentId, all[i], responders);
            }
        } else if (feedbackIndex == 0) {
            count = _countAll(agentId, clientAddress, responders);
        } else {
            count = _countResponses(agentId, clientAddress, feedbackIndex, responders);
        }
    }

    /// @inheritdoc IReputationRegistry
    /// @dev O(clients). Off-chain callers only.
    function getClients(uint256 agentId) external view returns (address[] memory) {
        return _clients[agentId];
    }

    // ------------------------------------------------------------------ internals

    /// @dev Appends the caller's next feedback for `agentId` and returns its 1-based index.
    function _store(uint256 agentId, int128 value, uint8 valueDecimals, string calldata tag1, string calldata tag2)
        private
        returns (uint64 index)
    {
        uint64 lastIndex = _lastIndex[agentId][msg.sender];
        if (lastIndex == 0) _clients[agentId].push(msg.sender); // first feedback of this client
        index = lastIndex + 1;
        _lastIndex[agentId][msg.sender] = index;
        Feedback storage f = _feedback[agentId][msg.sender][index];
        f.value = value;
        f.valueDecimals = valueDecimals;
        f.tag1 = tag1;
        f.tag2 = tag2;
    }

    function _requireIndex(uint256 agentId, address client, uint64 feedbackIndex) private view {
        uint64 last = _lastIndex[agentId][client];
        if (feedbackIndex == 0 || feedbackIndex > last) {
            revert ReputationRegistryIndexOutOfBounds(agentId, client, feedbackIndex, last);
        }
    }

    /// @dev Which feedback a scan keeps: an empty tag matches any tag.
    struct Filter {
        bytes32 tag1Hash;
        bytes32 tag2Hash;
        bool anyTag1;
        bool anyTag2;
        bool includeRevoked;
    }

    function _filter(string memory tag1, string memory tag2, bool includeRevoked)
        private
        pure
        returns (Filter memory)
    {
        return Filter({
            tag1Hash: keccak256(bytes(tag1)),
            tag2Hash: keccak256(bytes(tag2)),
            anyTag1: bytes(tag1).length == 0,
            anyTag2: bytes(tag2).length == 0,
            includeRevoked: includeRevoked
        });
    }

    function _matches(Feedback storage f, Filter memory filter) private view returns (bool) {
        if (f.isRevoked && !filter.includeRevoked) return false;
        if (!filter.anyTag1 && keccak256(bytes(f.tag1)) != filter.tag1Hash) return false;
        if (!filter.anyTag2 && keccak256(bytes(f.tag2)) != filter.tag2Hash) return false;
        return true;
    }

    /// @dev Sum (in 18 decimals) of one client's matching feedback; counts them per decimals.
    function _accumulate(uint256 agentId, address client, Filter memory filter, uint64[19] memory decimalCounts)
        private
        view
        returns (int256 sumWad)
    {
        uint64 last = _lastIndex[agentId][client];
        for (uint64 j = 1; j <= last; ++j) {
            Feedback storage f = _feedback[agentId][client][j];
            if (!_matches(f, filter)) continue;
            uint8 d = f.valueDecimals;
            sumWad += int256(f.value) * int256(10 ** uint256(_MAX_DECIMALS - d));
            ++decimalCounts[d];
        }
    }

    /// @dev The arrays `readAllFeedback` returns, built in memory.
    struct Page {
        address[] clients;
        uint64[] feedbackIndexes;
        int128[] values;
        uint8[] valueDecimals;
        string[] tag1s;
        string[] tag2s;
        bool[] revokedStatuses;
    }

    function _readAll(uint256 agentId, address[] memory list, Filter memory filter)
        private
        view
        returns (Page memory p)
    {
        uint256 total;
        for (uint256 i; i < list.length; ++i) {
            uint64 last = _lastIndex[agentId][list[i]];
            for (uint64 j = 1; j <= last; ++j) {
                if (_matches(_feedback[agentId][list[i]][j], filter)) ++total;
            }
        }
        p.clients = new address[](total);
        p.feedbackIndexes = new uint64[](total);
        p.values = new int128[](total);
        p.valueDecimals = new uint8[](total);
        p.tag1s = new string[](total);
        p.tag2s = new string[](total);
        p.revokedStatuses = new bool[](total);
        uint256 k;
        for (uint256 i; i < list.length; ++i) {
            uint64 last = _lastIndex[agentId][list[i]];
            for (uint64 j = 1; j <= last; ++j) {
                Feedback storage f = _feedback[agentId][list[i]][j];
                if (!_matches(f, filter)) continue;
                p.clients[k] = list[i];
                p.feedbackIndexes[k] = j;
                p.values[k] = f.value;
                p.valueDecimals[k] = f.valueDecimals;
                p.tag1s[k] = f.tag1;
                p.tag2s[k] = f.tag2;
                p.revokedStatuses[k] = f.isRevoked;
                ++k;
            }
        }
    }

    function _countAll(uint256 agentId, address client, address[] calldata responders)
        private
        view
        returns (uint64 count)
    {
        uint64 last = _lastIndex[agentId][client];
        for (uint64 j = 1; j <= last; ++j) {
            count += _countResponses(agentId, client, j, responders);
        }
    }

    function _countResponses(uint256 agentId, address client, uint64 feedbackIndex, address[] calldata responders)
        private
        view
        returns (uint64 count)
    {
        mapping(address => uint64) storage counts = _responseCount[agentId][client][feedbackIndex];
        if (responders.length == 0) {
            address[] storage all = _responders[agentId][client][feedbackIndex];
            for (uint256 k; k < all.length; ++k) {
                count += counts[all[k]];
            }
        } else {
            for (uint256 k; k < responders.length; ++k) {
                count += counts[responders[k]];
            }
        }
    }
}
