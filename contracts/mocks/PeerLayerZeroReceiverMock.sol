// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice LayerZero v2's `Origin` (ILayerZeroEndpointV2.sol), restated to keep this mock free
/// of the peer's sources.
struct PeerLzOrigin {
    uint32 srcEid;
    bytes32 sender;
    uint64 nonce;
}

/// @title PeerLayerZeroReceiverMock
/// @notice Benchmark helper (bench/b_peers.py): a LayerZero v2 `ILayerZeroReceiver` that opens
/// every path, uses the endpoint's ordered nonces and ignores the message, so an
/// EndpointV2.lzReceive figure is the protocol's own cost.
contract PeerLayerZeroReceiverMock {
    /// @notice Every origin may open a path to this receiver.
    function allowInitializePath(PeerLzOrigin calldata) external pure returns (bool) {
        return true;
    }

    /// @notice 0: the endpoint enforces ordered delivery with its own lazy nonce.
    function nextNonce(uint32, bytes32) external pure returns (uint64) {
        return 0;
    }

    /// @notice LayerZero's delivery hook: accepts and ignores the message.
    function lzReceive(PeerLzOrigin calldata, bytes32, bytes calldata, address, bytes calldata)
        external
        payable
    {}
}
