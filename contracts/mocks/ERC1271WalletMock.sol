// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title ERC1271WalletMock
/// @notice Test-only contract wallet: a signature is valid when its `signer` key signed the hash.
contract ERC1271WalletMock is IERC1271 {
    address private immutable _signer;

    constructor(address signer_) {
        _signer = signer_;
    }

    /// @notice ERC-1271: the magic value when `signature` is the signer's ECDSA signature of `hash`.
    function isValidSignature(bytes32 hash, bytes memory signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == _signer ? IERC1271.isValidSignature.selector : bytes4(0);
    }
}
