// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title RejectingReceiverMock
/// @notice Test-only address that refuses native value, to exercise failed transfers.
contract RejectingReceiverMock {
    error RejectingReceiverMockRefused();

    receive() external payable {
        revert RejectingReceiverMockRefused();
    }
}
