// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title AccordOriginSet
/// @notice Stores an origin chain's trusted gateway and sorted validator set as contract code
/// (the SSTORE2 pattern): code = `0x00 || gateway (20 bytes) || validator_0 (20) || ...`.
/// Reading the whole set costs one cold EXTCODECOPY (2,600 gas) instead of one cold SLOAD
/// (2,100) per signer, so 2-of-3 already saves ~1,600 gas per verification and larger sets
/// save more. A new set deploys a new code contract (admin path only).
library AccordOriginSet {
    /// @dev Creation code header: PUSH2 len, DUP1, PUSH1 0x0a, RETURNDATASIZE, CODECOPY,
    /// RETURNDATASIZE, RETURN -- returns the `len` bytes that follow the 10-byte header.
    bytes7 private constant _HEADER_TAIL = 0x80600a3d393df3;

    /// @notice Deploys `0x00 || gateway || validators` as code; returns its address (0 on failure).
    function write(address gateway, address[] memory validators) internal returns (address pointer) {
        uint256 n = validators.length;
        bytes memory runtime = new bytes(21 + 20 * n);
        assembly ("memory-safe") {
            let at := add(runtime, 0x21) // byte 0 stays 0x00 (STOP): the code is never executable
            mstore(at, shl(96, and(gateway, 0xffffffffffffffffffffffffffffffffffffffff)))
            at := add(at, 20)
            let src := add(validators, 0x20)
            for {
                let i := 0
            } lt(i, n) {
                i := add(i, 1)
            } {
                mstore(at, shl(96, mload(add(src, shl(5, i)))))
                at := add(at, 20)
            }
        }
        bytes memory init = abi.encodePacked(bytes1(0x61), uint16(runtime.length), _HEADER_TAIL, runtime);
        assembly ("memory-safe") {
            pointer := create(0, add(init, 0x20), mload(init))
        }
    }

    /// @notice `gateway || validators` (20 bytes each) of a set with `size` validators; empty when
    /// `pointer` is zero.
    function read(address pointer, uint256 size) internal view returns (bytes memory blob) {
        if (pointer == address(0)) return blob;
        uint256 length = 20 * (size + 1);
        assembly ("memory-safe") {
            // allocated without zeroing: extcodecopy writes every byte of it
            blob := mload(0x40)
            mstore(blob, length)
            extcodecopy(pointer, add(blob, 0x20), 1, length)
            mstore(0x40, and(add(add(blob, 0x3f), length), not(0x1f)))
        }
    }

    /// @notice The gateway stored in `blob` (zero for an empty blob).
    function gatewayOf(bytes memory blob) internal pure returns (address gateway) {
        if (blob.length < 20) return address(0);
        assembly ("memory-safe") {
            gateway := shr(96, mload(add(blob, 0x20)))
        }
    }

    /// @notice The `i`-th validator in `blob` (caller checks `i < size`).
    function validatorAt(bytes memory blob, uint256 i) internal pure returns (address validator) {
        assembly ("memory-safe") {
            validator := shr(96, mload(add(add(blob, 0x34), mul(i, 20))))
        }
    }

    /// @notice Number of validators in `blob`.
    function sizeOf(bytes memory blob) internal pure returns (uint256) {
        return blob.length < 20 ? 0 : (blob.length - 20) / 20;
    }

    /// @notice Whether `signer` is one of the validators in `blob` (linear scan; views and the
    /// error path only; the hot path merges sorted signers against the sorted set).
    function contains(bytes memory blob, address signer) internal pure returns (bool) {
        uint256 size = sizeOf(blob);
        for (uint256 i = 0; i < size; ++i) {
            if (validatorAt(blob, i) == signer) return true;
        }
        return false;
    }

    /// @notice The validators in `blob` as an array.
    function validators(bytes memory blob) internal pure returns (address[] memory out) {
        uint256 size = sizeOf(blob);
        out = new address[](size);
        for (uint256 i = 0; i < size; ++i) {
            out[i] = validatorAt(blob, i);
        }
    }
}
