// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IAccordGateway} from "../../interfaces/IAccordGateway.sol";

/// @title AccordMessageCodec
/// @notice The hashes AccordGateway commits to (mirrored by `accord/messages.py`): the message id
/// (computed only here), EIP-712 attestation digests in the origin gateway's domain, batch roots
/// and replay-word keys.
library AccordMessageCodec {
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant NAME_HASH = keccak256("AccordGateway");
    bytes32 internal constant VERSION_HASH = keccak256("1");
    bytes32 internal constant ATTESTATION_TYPEHASH = keccak256("Attestation(bytes32 id)");
    bytes32 internal constant BATCH_TYPEHASH = keccak256("BatchAttestation(bytes32 root)");

    /// @dev Bytes of the id preimage before the payload.
    uint256 internal constant HEADER_LENGTH = 0x94;

    /// @notice The message id of `m` (see {IAccordGateway}). {idOfSent} and {idOfNotice} share
    /// its preimage writers ({_writeOrigin}, {_writeDestination}): one layout, one place.
    function idOf(IAccordGateway.Message calldata m) internal pure returns (bytes32 id) {
        uint256 ptr = _writeOrigin(m.originChainId, m.originGateway, m.nonce, m.sender);
        _writeDestination(ptr, m.destinationChainId, m.recipient, m.expiry, m.gasLimit);
        bytes calldata payload = m.payload;
        assembly ("memory-safe") {
            calldatacopy(add(ptr, HEADER_LENGTH), payload.offset, payload.length)
            id := keccak256(ptr, add(HEADER_LENGTH, payload.length))
        }
    }

    /// @notice The id of a message `msg.sender` sends now through this gateway (`address(this)`
    /// on `block.chainid`).
    function idOfSent(
        uint64 nonce,
        uint256 destinationChainId,
        address recipient,
        uint64 expiry,
        uint64 gasLimit,
        bytes calldata payload
    ) internal view returns (bytes32 id) {
        uint256 ptr = _writeOrigin(block.chainid, address(this), nonce, msg.sender);
        _writeDestination(ptr, destinationChainId, recipient, expiry, gasLimit);
        assembly ("memory-safe") {
            calldatacopy(add(ptr, HEADER_LENGTH), payload.offset, payload.length)
            id := keccak256(ptr, add(HEADER_LENGTH, payload.length))
        }
    }

    /// @notice The id of an expiry notice this gateway sends (sender: the gateway itself, no
    /// expiry, memory payload).
    function idOfNotice(
        uint64 nonce,
        uint256 destinationChainId,
        address recipient,
        uint64 gasLimit,
        bytes memory payload
    ) internal view returns (bytes32 id) {
        uint256 ptr = _writeOrigin(block.chainid, address(this), nonce, address(this));
        _writeDestination(ptr, destinationChainId, recipient, 0, gasLimit);
        assembly ("memory-safe") {
            mcopy(add(ptr, HEADER_LENGTH), add(payload, 0x20), mload(payload))
            id := keccak256(ptr, add(HEADER_LENGTH, mload(payload)))
        }
    }

    /// @dev Packs (originChainId 32, originGateway 20, nonce 8, sender 20) at free memory (not
    /// allocated: the id is hashed before anything else allocates); returns where.
    function _writeOrigin(
        uint256 originChainId,
        address originGateway,
        uint64 nonce,
        address sender
    ) private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := mload(0x40)
            mstore(ptr, originChainId)
            mstore(add(ptr, 0x20), shl(96, originGateway))
            mstore(add(ptr, 0x34), shl(192, nonce))
            mstore(add(ptr, 0x3c), shl(96, sender))
        }
    }

    /// @dev Packs (destinationChainId 32, recipient 20, expiry 8, gasLimit 8) after the origin part.
    function _writeDestination(
        uint256 ptr,
        uint256 destinationChainId,
        address recipient,
        uint64 expiry,
        uint64 gasLimit
    ) private pure {
        assembly ("memory-safe") {
            mstore(add(ptr, 0x50), destinationChainId)
            mstore(add(ptr, 0x70), shl(96, recipient))
            mstore(add(ptr, 0x84), shl(192, expiry))
            mstore(add(ptr, 0x8c), shl(192, gasLimit))
        }
    }

    /// @notice EIP-712 digest of `Attestation(idOrRoot)` (or `BatchAttestation` with `batch`) in
    /// the origin gateway's domain.
    function digest(
        uint256 originChainId,
        address originGateway,
        bytes32 idOrRoot,
        bool batch
    ) internal pure returns (bytes32) {
        bytes32 typehash = batch ? BATCH_TYPEHASH : ATTESTATION_TYPEHASH;
        bytes32 domainTypehash = DOMAIN_TYPEHASH;
        bytes32 nameHash = NAME_HASH;
        bytes32 versionHash = VERSION_HASH;
        bytes32 domain;
        bytes32 structHash;
        assembly ("memory-safe") {
            // domain separator of the origin gateway, hashed in free memory (not allocated)
            let ptr := mload(0x40)
            mstore(ptr, domainTypehash)
            mstore(add(ptr, 0x20), nameHash)
            mstore(add(ptr, 0x40), versionHash)
            mstore(add(ptr, 0x60), originChainId)
            mstore(add(ptr, 0x80), and(originGateway, 0xffffffffffffffffffffffffffffffffffffffff))
            domain := keccak256(ptr, 0xa0)
            mstore(0x00, typehash)
            mstore(0x20, idOrRoot)
            structHash := keccak256(0x00, 0x40)
        }
        return MessageHashUtils.toTypedDataHash(domain, structHash);
    }

    /// @notice Replay word key and bit of (`originChainId`, `originGateway`, `nonce`).
    function replaySlot(
        uint256 originChainId,
        address originGateway,
        uint64 nonce
    ) internal pure returns (bytes32 key, uint256 bit) {
        assembly ("memory-safe") {
            // key = keccak256(abi.encode(originChainId, originGateway, nonce >> 8)), in free memory
            let ptr := mload(0x40)
            mstore(ptr, originChainId)
            mstore(add(ptr, 0x20), and(originGateway, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(ptr, 0x40), shr(8, and(nonce, 0xffffffffffffffff)))
            key := keccak256(ptr, 0x60)
            // 1 << (nonce % 256); slither misreads shl(shift, value) ("incorrect-shift")
            // slither-disable-next-line incorrect-shift
            bit := shl(and(nonce, 0xff), 1)
        }
    }

    /// @notice keccak256 of the concatenated ids.
    function hashIds(bytes32[] memory ids) internal pure returns (bytes32 root) {
        assembly ("memory-safe") {
            root := keccak256(add(ids, 0x20), shl(5, mload(ids)))
        }
    }

    /// @notice `ids` must appear in `batchIds` in the same order; returns the root of `batchIds`.
    function checkSubset(bytes32[] memory ids, bytes32[] calldata batchIds) internal pure returns (bytes32 root) {
        uint256 j = 0;
        uint256 total = batchIds.length;
        for (uint256 i = 0; i < ids.length; ++i) {
            while (j < total && batchIds[j] != ids[i]) ++j;
            if (j == total) revert IAccordGateway.AccordGatewayNotInBatch(ids[i]);
            ++j;
        }
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let size := shl(5, total)
            calldatacopy(ptr, batchIds.offset, size)
            root := keccak256(ptr, size)
        }
    }
}
