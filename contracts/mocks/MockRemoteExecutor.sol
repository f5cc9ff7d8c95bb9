// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CrosschainRemoteExecutor} from "@openzeppelin/contracts/crosschain/CrosschainRemoteExecutor.sol";

/// @title MockRemoteExecutor
/// @notice OpenZeppelin's CrosschainRemoteExecutor, unchanged, made deployable by name in tests.
contract MockRemoteExecutor is CrosschainRemoteExecutor {
    constructor(address gateway, bytes memory controller) CrosschainRemoteExecutor(gateway, controller) {}
}
