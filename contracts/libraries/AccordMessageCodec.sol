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

    /// @notice Reverts unless `m` holds at least the fixed fields (a payload may be empty).
    function checkLength(bytes calldata m) internal pure {
        if (m.length < HEADER_LENGTH) revert IAccordGateway.AccordGatewayInvalidMessage(m.length);
    }

    /// @notice The message id of the encoded message `m` (see {IAccordGateway}): keccak256 of
    /// its bytes, which are the preimage {idOfSent} and {idOfNotice} write (one layout: the
    /// writers below).
    function idOf(bytes calldata m) internal pure returns (bytes32 id) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, m.offset, m.length)
            id := keccak256(ptr, m.length)
        }
    }

    // Field readers of an encoded message; callers check the length first (checkLength).
    /// @notice `originChainId` of encoded message `m`.
    function originChainId(bytes calldata m) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := calldataload(m.offset)
        }
    }

    /// @notice `originGateway` of encoded message `m`.
    function originGateway(bytes calldata m) internal pure returns (address v) {
        assembly ("memory-safe") {
            v := shr(96, calldataload(add(m.offset, 0x20)))
        }
    }

    /// @notice `nonce` of encoded message `m`.
    function nonce(bytes calldata m) internal pure returns (uint64 v) {
        assembly ("memory-safe") {
            v := shr(192, calldataload(add(m.offset, 0x34)))
        }
    }

    /// @notice `sender` of encoded message `m`.
    function sender(bytes calldata m) internal pure returns (address v) {
        assembly ("memory-safe") {
            v := shr(96, calldataload(add(m.offset, 0x3c)))
        }
    }

    /// @notice `destinationChainId` of encoded message `m`.
    function destinationChainId(bytes calldata m) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := calldataload(add(m.offset, 0x50))
        }
    }

    /// @notice `recipient` of encoded message `m`.
    function recipient(bytes calldata m) internal pure returns (address v) {
        assembly ("memory-safe") {
            v := shr(96, calldataload(add(m.offset, 0x70)))
        }
    }

    /// @notice `expiry` of encoded message `m` (0: none).
    function expiry(bytes calldata m) internal pure returns (uint64 v) {
        assembly ("memory-safe") {
            v := shr(192, calldataload(add(m.offset, 0x84)))
        }
    }

    /// @notice `gasLimit` of encoded message `m`: the recipient call's gas.
    function gasLimit(bytes calldata m) internal pure returns (uint64 v) {
        assembly ("memory-safe") {
            v := shr(192, calldataload(add(m.offset, 0x8c)))
        }
    }

    /// @notice `payload` of encoded message `m`.
    function payload(bytes calldata m) internal pure returns (bytes calldata) {
        return m[HEADER_LENGTH:];
    }

    /// @notice The id of a message `msg.sender` sends now through this gateway (`address(this)`
    /// on `block.chainid`).
    function idOfSent(
        uint64 nonce_,
        uint256 destination,
        address to,
        uint64 expiry_,
        uint64 gasLimit_,
        bytes calldata data
    ) internal view returns (bytes32 id) {
        uint256 ptr = _writeOrigin(block.chainid, address(this), nonce_, msg.sender);
        _writeDestination(ptr, destination, to, expiry_, gasLimit_);
        assembly ("memory-safe") {
            calldatacopy(add(ptr, HEADER_LENGTH), data.offset, data.length)
            id := keccak256(ptr, add(HEADER_LENGTH, data.length))
        }
    }

    /// @notice The id of an expiry notice this gateway sends (sender: the gateway itself, no
    /// expiry, memory payload).
    function idOfNotice(
        uint64 nonce_,
        uint256 destination,
        address to,
        uint64 gasLimit_,
        bytes memory data
    ) internal view returns (bytes32 id) {
        uint256 ptr = _writeOrigin(block.chainid, address(this), nonce_, address(this));
        _writeDestination(ptr, destination, to, 0, gasLimit_);
        assembly ("memory-safe") {
            mcopy(add(ptr, HEADER_LENGTH), add(data, 0x20), mload(data))
            id := keccak256(ptr, add(HEADER_LENGTH, mload(data)))
        }
    }

    /// @dev Packs (originChainId 32, originGateway 20, nonce 8, sender 20) at free memory (not
    /// allocated: the id is hashed before anything else allocates); returns where.
    function _writeOrigin(
        uint256 originChain,
        address gateway,
        uint64 nonce_,
        address from
    ) private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := mload(0x40)
            mstore(ptr, originChain)
            mstore(add(ptr, 0x20), shl(96, gateway))
            mstore(add(ptr, 0x34), shl(192, nonce_))
            mstore(add(ptr, 0x3c), shl(96, from))
        }
    }

    /// @dev Packs (destinationChainId 32, recipient 20, expiry 8, gasLimit 8) after the origin part.
    function _writeDestination(
        uint256 ptr,
        uint256 destination,
        address to,
        uint64 expiry_,
        uint64 gasLimit_
    ) private pure {
        assembly ("memory-safe") {
            mstore(add(ptr, 0x50), destination)
            mstore(add(ptr, 0x70), shl(96, to))
            mstore(add(ptr, 0x84), shl(192, expiry_))
            mstore(add(ptr, 0x8c), shl(192, gasLimit_))
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
