// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {InteroperableAddress} from "@openzeppelin/contracts/utils/draft-InteroperableAddress.sol";
import {AccordInterop} from "../libraries/AccordInterop.sol";

/// @title InteropHarness
/// @notice Test harness: AccordInterop.formatEvm next to OpenZeppelin's formatEvmV1.
contract InteropHarness {
    /// @notice Both encodings of (`chainId`, `addr`): Accord's, OpenZeppelin's.
    function both(uint256 chainId, address addr) external pure returns (bytes memory, bytes memory) {
        return (AccordInterop.formatEvm(chainId, addr), InteroperableAddress.formatEvmV1(chainId, addr));
    }

    /// @notice Accord's strict parse of `data`: (ok, chainId, addr).
    function parse(bytes calldata data) external pure returns (bool, uint256, address) {
        return AccordInterop.parseEvmCalldata(data);
    }

    /// @notice OpenZeppelin's parse of `data`: (ok, chainId, addr).
    function parseOz(bytes calldata data) external pure returns (bool, uint256, address) {
        return InteroperableAddress.tryParseEvmV1Calldata(data);
    }
}
