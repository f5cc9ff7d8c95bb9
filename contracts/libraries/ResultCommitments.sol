// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ResultCommitments
/// @notice The one storage word a step's result costs: a commitment to its content hash and
/// its URI. The coordinator keeps the commitment; the hash and URI travel in its
/// StepSubmitted / RemoteResultReceived events, and whoever needs them on chain again (the
/// remote-step router's report, `publishValidation`) passes them back and is checked against
/// it. Off chain: `accord.chain.results.commitment` computes the same value.
library ResultCommitments {
    /// @notice keccak256(abi.encode(resultHash, resultURI)); 0 means "no result".
    function commit(bytes32 resultHash, string memory resultURI) internal pure returns (bytes32) {
        return keccak256(abi.encode(resultHash, resultURI));
    }
}
