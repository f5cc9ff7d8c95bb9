// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAccordGasPaymaster} from "../interfaces/IAccordGasPaymaster.sol";

/// @title AccordGasPaymaster
/// @notice Relayer fees for Accord messages, paid on the origin chain and quoted per
/// destination (see {IAccordGasPaymaster} for the formula and the trust assumptions).
/// @dev The native balance only grows by `payForGas` (no receive function) and only leaves
/// as a refund of a payment's excess, within that payment, or to the beneficiary. Both ways
/// out are nonReentrant and come after every state change.
contract AccordGasPaymaster is IAccordGasPaymaster, Ownable2Step, ReentrancyGuardTransient {
    // ---------------------------------------------------------------- constants
    /// @inheritdoc IAccordGasPaymaster
    uint256 public constant TOKEN_EXCHANGE_RATE_SCALE = 1e10;
    /// @inheritdoc IAccordGasPaymaster
    uint256 public constant MAX_GAS_LIMIT = 10_000_000;

    // ---------------------------------------------------------------- state
    mapping(uint256 destinationChainId => GasOracle) private _oracles;
    mapping(bytes32 messageId => uint256 wei_) private _paid;
    address private _beneficiary;

    /// @param admin Owner: sets the oracles and the beneficiary.
    /// @param beneficiary_ Where claimed fees go (non-zero).
    constructor(address admin, address beneficiary_) Ownable(admin) {
        _setBeneficiary(beneficiary_);
    }

    // ---------------------------------------------------------------- owner
    /// @inheritdoc IAccordGasPaymaster
    function setGasOracle(uint256 destinationChainId, GasOracle calldata oracle) external onlyOwner {
        if (destinationChainId == 0) revert GasPaymasterInvalidChain(destinationChainId);
        _oracles[destinationChainId] = oracle;
        emit GasOracleSet(destinationChainId, oracle.tokenExchangeRate, oracle.gasPrice, oracle.gasOverhead);
    }

    /// @inheritdoc IAccordGasPaymaster
    function setBeneficiary(address newBeneficiary) external onlyOwner {
        _setBeneficiary(newBeneficiary);
    }

    // ---------------------------------------------------------------- anyone
    /// @inheritdoc IAccordGasPaymaster
    function payForGas(bytes32 messageId, uint256 destinationChainId, uint256 gasLimit, address refundAddress)
        external
        payable
        nonReentrant
    {
        // CHECKS
        uint256 payment = _quote(destinationChainId, gasLimit);
        if (msg.value < payment) revert GasPaymasterInsufficientPayment(messageId, msg.value, payment);
        uint256 excess;
        // unchecked: payment <= msg.value (checked above)
        unchecked {
            excess = msg.value - payment;
        }
        if (excess != 0 && refundAddress == address(0)) revert GasPaymasterInvalidRefundAddress();
        // EFFECTS
        _paid[messageId] += payment;
        emit GasPaid(messageId, destinationChainId, gasLimit, payment);
        // INTERACTIONS
        if (excess != 0) {
            (bool ok, ) = refundAddress.call{value: excess}("");
            if (!ok) revert GasPaymasterRefundFailed(refundAddress, excess);
        }
    }

    /// @inheritdoc IAccordGasPaymaster
    function claim() external nonReentrant {
        // CHECKS
        address to = _beneficiary;
        if (msg.sender != to && msg.sender != owner()) revert GasPaymasterUnauthorizedClaim(msg.sender);
        uint256 amount = address(this).balance;
        // a zero balance only means there is nothing to claim (ETH forced in is claimed too)
        // slither-disable-next-line incorrect-equality
        if (amount == 0) revert GasPaymasterNothingToClaim();
        // EFFECTS (none: the balance is the ledger)
        emit FeesClaimed(to, amount);
        // INTERACTIONS
        (bool ok, ) = to.call{value: amount}("");
        if (!ok) revert GasPaymasterClaimFailed(to, amount);
    }

    // ---------------------------------------------------------------- views
    /// @inheritdoc IAccordGasPaymaster
    function quoteGasPayment(uint256 destinationChainId, uint256 gasLimit) external view returns (uint256) {
        return _quote(destinationChainId, gasLimit);
    }

    /// @inheritdoc IAccordGasPaymaster
    function paidFor(bytes32 messageId) external view returns (uint256) {
        return _paid[messageId];
    }

    /// @inheritdoc IAccordGasPaymaster
    function gasOracle(uint256 destinationChainId) external view returns (GasOracle memory) {
        return _oracles[destinationChainId];
    }

    /// @inheritdoc IAccordGasPaymaster
    function beneficiary() external view returns (address) {
        return _beneficiary;
    }

    // ---------------------------------------------------------------- internal
    function _quote(uint256 destinationChainId, uint256 gasLimit) private view returns (uint256) {
        if (gasLimit > MAX_GAS_LIMIT) revert GasPaymasterGasLimitTooHigh(gasLimit, MAX_GAS_LIMIT);
        GasOracle memory o = _oracles[destinationChainId];
        if (o.tokenExchangeRate == 0) revert GasPaymasterUnknownDestination(destinationChainId);
        // unchecked: gasLimit + gasOverhead < 2^24 + 2^32 < 2^33, times gasPrice (< 2^64) and
        // tokenExchangeRate (< 2^128) stays below 2^225: no product of the types can overflow
        unchecked {
            return (gasLimit + o.gasOverhead) * o.gasPrice * o.tokenExchangeRate / TOKEN_EXCHANGE_RATE_SCALE;
        }
    }

    function _setBeneficiary(address newBeneficiary) private {
        if (newBeneficiary == address(0)) revert GasPaymasterInvalidBeneficiary(newBeneficiary);
        _beneficiary = newBeneficiary;
        emit BeneficiarySet(newBeneficiary);
    }
}
