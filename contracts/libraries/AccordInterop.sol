// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title AccordInterop
/// @notice Gas-lean twin of OpenZeppelin `InteroperableAddress.formatEvmV1(uint256, address)`:
/// the same ERC-7930 v1 bytes (`0x0001 0000 | len | chain reference (minimal big-endian, at
/// least one byte) | 0x14 | address`) without the intermediate allocations. It runs on every
/// send and every delivery; `InteropHarness` and the gateway tests prove it byte-equal to
/// OpenZeppelin's for 1..32-byte chain ids. `parseEvmCalldata` is a strict parser for the
/// same layout (no trailing bytes), which agrees with OpenZeppelin `tryParseEvmV1Calldata` on
/// every exact-length EVM address with a chain reference.
library AccordInterop {
    /// @notice Parses an ERC-7930 v1 EIP-155 address with a 1..32-byte chain reference and a
    /// 20-byte address and nothing after it; `ok` is false for anything else.
    function parseEvmCalldata(bytes calldata self) internal pure returns (bool ok, uint256 chainId, address addr) {
        assembly ("memory-safe") {
            let off := self.offset
            let word := calldataload(off)
            let refLen := byte(4, word)
            ok := and(
                and(eq(shr(224, word), 0x00010000), and(gt(refLen, 0), lt(refLen, 33))),
                eq(self.length, add(26, refLen))
            )
            if ok {
                chainId := shr(sub(256, shl(3, refLen)), calldataload(add(off, 5)))
                let at := add(add(off, 5), refLen)
                ok := eq(byte(0, calldataload(at)), 20)
                addr := shr(96, calldataload(add(at, 1)))
            }
        }
    }

    /// @notice ERC-7930 v1 encoding of (`chainId`, `addr`), as OpenZeppelin `formatEvmV1`.
    function formatEvm(uint256 chainId, address addr) internal pure returns (bytes memory out) {
        assembly ("memory-safe") {
            let refLen := 1
            for {
                let rest := shr(8, chainId)
            } rest {
                rest := shr(8, rest)
            } {
                refLen := add(refLen, 1)
            }
            out := mload(0x40)
            let total := add(26, refLen)
            mstore(out, total)
            let data := add(out, 0x20)
            // version 0x0001, chain type 0x0000 (eip155), then the reference length
            mstore(data, or(shl(224, 0x00010000), shl(216, refLen)))
            // chain reference, left-aligned right after the length byte (overwrites only
            // bytes this function writes next)
            mstore(add(data, 5), shl(sub(256, shl(3, refLen)), chainId))
            let at := add(add(data, 5), refLen)
            // address length 20 followed by the address
            mstore(at, or(shl(248, 20), shl(88, and(addr, 0xffffffffffffffffffffffffffffffffffffffff))))
            // clear the tail of the last word, then move the free memory pointer past it
            let end := add(data, total)
            mstore(end, 0)
            mstore(0x40, and(add(end, 0x1f), not(0x1f)))
        }
    }
}
