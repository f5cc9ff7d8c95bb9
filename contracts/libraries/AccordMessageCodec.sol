// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IAccordGateway} from "../../interfaces/IAccordGateway.sol";

/// @title AccordMessageCodec
/// @notice The hashes AccordGateway commits to (mirrored by `accord/messages.py`): message id,
/// EIP-712 attestation digests in the origin gateway's domain, batch roots and replay-word keys.
library AccordMessageCodec {
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant NAME_HASH = keccak256("AccordGateway");
    bytes32 internal constant VERSION_HASH = keccak256("1");
    bytes32 internal constant ATTESTATION_TYPEHASH = keccak256("Attestation(bytes32 id)");
    bytes32 internal constant BATCH_TYPEHASH = keccak256("BatchAttestation(bytes32 root)");

    /// @notice keccak256(abi.encodePacked(originChainId, originGateway, nonce, sender,
    /// destinationChainId, recipient, expiry, payload)), packed in free memory. The payload
    /// slice comes from Solidity (bounds-checked); fixed fields are masked to their widths.
    function idOf(IAccordGateway.Message calldata m) internal pure returns (bytes32 id) {
        bytes calldata payload = m.payload;
        assembly ("memory-safe") {
            let addrMask := 0xffffffffffffffffffffffffffffffffffffffff
            let ptr := mload(0x40)
            mstore(ptr, calldataload(m)) // originChainId: 32 bytes
            mstore(add(ptr, 0x20), shl(96, and(calldataload(add(m, 0x20)), addrMask))) // gateway: 20
            mstore(add(ptr, 0x34), shl(192, calldataload(add(m, 0x40)))) // nonce: 8
            mstore(add(ptr, 0x3c), shl(96, and(calldataload(add(m, 0x60)), addrMask))) // sender: 20
            mstore(add(ptr, 0x50), calldataload(add(m, 0x80))) // destinationChainId: 32
            mstore(add(ptr, 0x70), shl(96, and(calldataload(add(m, 0xa0)), addrMask))) // recipient: 20
            mstore(add(ptr, 0x84), shl(192, calldataload(add(m, 0xc0)))) // expiry: 8
            calldatacopy(add(ptr, 0x8c), payload.offset, payload.length)
            id := keccak256(ptr, add(0x8c, payload.length))
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
