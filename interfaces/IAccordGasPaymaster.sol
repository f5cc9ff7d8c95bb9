// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IAccordGasPaymaster
/// @notice Relayer fees for Accord messages, paid on the origin chain (Hyperlane's
/// InterchainGasPaymaster with its StorageGasOracle folded in). The gateway itself carries no
/// value (ERC-7786 `sendMessage` rejects it), so a sender who wants a relayer to deliver a
/// message pays here, separately, for the message's id:
/// ```
/// quoteGasPayment(destination, gasLimit) =
///     (gasLimit + gasOverhead) * gasPrice * tokenExchangeRate / TOKEN_EXCHANGE_RATE_SCALE
/// ```
/// with the destination's `GasOracle`, set by the owner (the relayer operator): `gasLimit` is
/// the message's recipient gas (its `minGasLimit(uint256)` attribute, 200,000 without it),
/// `gasOverhead` the relayer's own gas per message besides the recipient's, `gasPrice` the
/// destination's gas price in its wei, `tokenExchangeRate` the destination's native token in
/// this chain's, scaled by 1e10 (1e10: the same token). Fees accrue here and leave only to
/// the beneficiary (`claim`, which the owner or the beneficiary triggers).
///
/// Trust (see docs/relayer-fees.md): the owner sets prices and the beneficiary; it can make
/// quotes absurd, but cannot take paid fees other than by `claim` to the beneficiary it set.
/// A payment buys no promise: relayers are not obliged to deliver, a payment is never
/// refunded if the message is never delivered, and this contract does not know which ids
/// exist (paying for one that was never sent is the payer's loss). Unpaid messages can always
/// be delivered by anyone holding the attestations (self-relay): the gateway never asks
/// whether a message was paid for.
interface IAccordGasPaymaster {
    // ---------------------------------------------------------------- types
    /// @notice One destination's price list, one storage slot. `tokenExchangeRate` 0 means
    /// "no oracle": messages to that destination cannot be paid for.
    struct GasOracle {
        uint128 tokenExchangeRate;
        uint64 gasPrice;
        uint32 gasOverhead;
    }

    // ---------------------------------------------------------------- events
    /// @notice The owner set `destinationChainId`'s oracle (a zero exchange rate removes it).
    event GasOracleSet(
        uint256 indexed destinationChainId,
        uint128 tokenExchangeRate,
        uint64 gasPrice,
        uint32 gasOverhead
    );
    /// @notice Fees go to `beneficiary` from now on (those not yet claimed too).
    event BeneficiarySet(address indexed beneficiary);
    /// @notice `payment` wei were paid for `messageId`'s delivery to `destinationChainId` with
    /// `gasLimit` recipient gas (the quote at the time; any excess was refunded).
    event GasPaid(bytes32 indexed messageId, uint256 indexed destinationChainId, uint256 gasLimit, uint256 payment);
    /// @notice `amount` wei of fees were sent to `beneficiary`.
    event FeesClaimed(address indexed beneficiary, uint256 amount);

    // ---------------------------------------------------------------- errors
    /// @notice No oracle is set for `destinationChainId`: its messages cannot be paid for.
    error GasPaymasterUnknownDestination(uint256 destinationChainId);
    /// @notice `gasLimit` exceeds `max`, the most recipient gas any message can have
    /// (AccordGateway.MAX_GAS_LIMIT).
    error GasPaymasterGasLimitTooHigh(uint256 gasLimit, uint256 max);
    /// @notice `value` wei were sent for `messageId`; the quote is `required` wei.
    error GasPaymasterInsufficientPayment(bytes32 messageId, uint256 value, uint256 required);
    /// @notice There is an excess to refund and the refund address is zero.
    error GasPaymasterInvalidRefundAddress();
    /// @notice Refunding `amount` wei to `refundAddress` failed (it reverted): the payment is
    /// reverted with it.
    error GasPaymasterRefundFailed(address refundAddress, uint256 amount);
    /// @notice The beneficiary cannot be the zero address.
    error GasPaymasterInvalidBeneficiary(address beneficiary);
    /// @notice No chain has id 0.
    error GasPaymasterInvalidChain(uint256 chainId);
    /// @notice There are no fees to claim.
    error GasPaymasterNothingToClaim();

    /// @notice `caller` is neither the owner nor the beneficiary, so it may not trigger a claim.
    error GasPaymasterUnauthorizedClaim(address caller);
    /// @notice Sending `amount` wei to `beneficiary` failed; the fees stay here.
    error GasPaymasterClaimFailed(address beneficiary, uint256 amount);

    // ---------------------------------------------------------------- constants
    /// @notice The scale of `GasOracle.tokenExchangeRate` (1e10, as Hyperlane's).
    function TOKEN_EXCHANGE_RATE_SCALE() external view returns (uint256);

    /// @notice The largest `gasLimit` a quote or payment accepts (AccordGateway.MAX_GAS_LIMIT).
    function MAX_GAS_LIMIT() external view returns (uint256);

    // ---------------------------------------------------------------- owner
    /// @notice Set `destinationChainId`'s oracle; effective for every later quote and payment
    /// (payments already made keep their amount). A zero `tokenExchangeRate` removes it. Owner.
    function setGasOracle(uint256 destinationChainId, GasOracle calldata oracle) external;

    /// @notice Send fees, those already accrued included, to `newBeneficiary` from now on.
    /// Owner.
    function setBeneficiary(address newBeneficiary) external;

    // ---------------------------------------------------------------- anyone
    /// @notice Pay for delivering `messageId` to `destinationChainId` with `gasLimit` recipient
    /// gas: keeps `quoteGasPayment(destinationChainId, gasLimit)` and refunds the rest of
    /// `msg.value` to `refundAddress` (a refund that fails reverts the payment). Payments add
    /// up per id: paying again tops the message up (after a price rise, say). Anyone may pay,
    /// for any id; nothing checks that the id was sent or to that destination.
    function payForGas(bytes32 messageId, uint256 destinationChainId, uint256 gasLimit, address refundAddress)
        external
        payable;

    /// @notice Send every accrued fee to the beneficiary; fees go nowhere else. Only the owner
    /// or the beneficiary may call it: a stranger who could would front-run the owner's
    /// `setBeneficiary` (replacing a lost or compromised beneficiary) and send the fees the
    /// owner is redirecting to the old one.
    function claim() external;

    // ---------------------------------------------------------------- views
    /// @notice What delivering a message to `destinationChainId` with `gasLimit` recipient gas
    /// costs now, in this chain's wei (the formula above, rounded down).
    function quoteGasPayment(uint256 destinationChainId, uint256 gasLimit) external view returns (uint256);

    /// @notice Wei paid for `messageId` so far (0: never paid).
    function paidFor(bytes32 messageId) external view returns (uint256);

    /// @notice `destinationChainId`'s oracle (all zero: none).
    function gasOracle(uint256 destinationChainId) external view returns (GasOracle memory);

    /// @notice Where claimed fees go.
    function beneficiary() external view returns (address);
}
