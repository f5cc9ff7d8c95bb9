// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Bitmask64
/// @notice Helpers for the uint64 step masks of the workflow coordinator (bit i = step i).
library Bitmask64 {
    /// @notice Number of set bits (SWAR popcount, constant gas).
    function count(uint64 x) internal pure returns (uint256 n) {
        // unchecked: every intermediate stays below 2**64 by construction of the SWAR masks,
        // and the final multiply is taken modulo 2**64 on purpose (top byte holds the sum).
        unchecked {
            uint256 v = x;
            v = v - ((v >> 1) & 0x5555555555555555);
            v = (v & 0x3333333333333333) + ((v >> 2) & 0x3333333333333333);
            v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0f;
            n = ((v * 0x0101010101010101) & 0xffffffffffffffff) >> 56;
        }
    }

    /// @notice Index of the lowest set bit; `x` must be non-zero.
    function lowest(uint64 x) internal pure returns (uint8 i) {
        // unchecked: x != 0 so x & -x is a single bit below 2**64; the shift loop stops
        // after at most 6 halvings.
        unchecked {
            uint64 b = x & (~x + 1);
            if (b >= 1 << 32) { i += 32; b >>= 32; }
            if (b >= 1 << 16) { i += 16; b >>= 16; }
            if (b >= 1 << 8) { i += 8; b >>= 8; }
            if (b >= 1 << 4) { i += 4; b >>= 4; }
            if (b >= 1 << 2) { i += 2; b >>= 2; }
            if (b >= 1 << 1) { i += 1; }
        }
    }

    /// @notice The mask with only bit `i`.
    function bit(uint8 i) internal pure returns (uint64) {
        return uint64(1) << i;
    }

    /// @notice Whether bit `i` of `x` is set.
    function has(uint64 x, uint8 i) internal pure returns (bool) {
        return (x >> i) & 1 == 1;
    }
}
