// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC7786GatewaySource, IERC7786Recipient} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";

/// @title IAccordGateway
/// @notice Accord's ERC-7786 gateway: a source gateway (`sendMessage`) and, on the destination,
/// a validator-set verifier that delivers to `IERC7786Recipient.receiveMessage`.
///
/// Encoded message (what `deliver` and friends take) and its id, computed identically on both
/// chains and in `accord/messages.py` (`Message.encode`, `message_id`):
/// ```
/// message = abi.encodePacked(
///        uint256 originChainId, address originGateway, uint64 nonce, address sender,
///        uint256 destinationChainId, address recipient, uint64 expiry, uint64 gasLimit,
///        bytes payload)                      // fixed fields: 148 bytes, then the payload
/// id = keccak256(message)
/// ```
/// `expiry` is always part of the preimage; 0 means "no expiry". `gasLimit` is the gas the
/// recipient call gets, fixed by the sender (ERC-7985 attribute `minGasLimit(uint256)`,
/// `DEFAULT_GAS_LIMIT` when absent). The id is the ERC-7786
/// `sendId` returned and emitted by `sendMessage`, and the `receiveId` given to the recipient.
///
/// Attestation: validators of the origin chain sign an EIP-712 digest in the ORIGIN gateway's
/// domain `EIP712Domain(name "AccordGateway", version "1", chainId originChainId,
/// verifyingContract originGateway)`, which binds the id to the origin chain and gateway:
/// one message: `Attestation(bytes32 id)`; a batch: `BatchAttestation(bytes32 root)` with
/// `root = keccak256(abi.encodePacked(id_0, ..., id_n-1))` over the ordered ids of the batch.
/// Signatures are 65-byte (r, s, v) concatenated, signers strictly ascending.
///
/// Replay guard: one bit per (originChainId, originGateway, nonce), 256 nonces per storage
/// word. A set bit means "consumed" (delivered, failed-awaiting-retry, expired or cancelled);
/// failed, expired and cancelled messages additionally get a record keyed by id. A failure
/// record remembers the validator-set code that attested the message: a retry (or an expiry
/// of a failed message) is valid only while that origin's gateway is still trusted and its set
/// is still that set, or with a fresh attestation by the current set. The admin may cancel a
/// failed message (`cancelFailed`).
///
/// The id names the destination chain, not the destination gateway: deploy one AccordGateway
/// per chain that trusts a given origin gateway, and have recipients authorize only their
/// gateway (as OpenZeppelin's `ERC7786Recipient` does through `_isAuthorizedGateway`).
///
/// Recipient calls: the recipient gets the message's own `gasLimit` (a relayer may offer more,
/// never less); the gateway reverts the whole transaction unless at least `gas * 64/63` (+ a
/// small reserve) is left, so the recipient always gets it and a relayer cannot make a message
/// fail by starving it. A revert or a wrong return value is recorded (reason = keccak256 of at
/// most the first 1024 bytes of the return data) and anyone may `retry` (with more gas).
///
/// Expiry: a message with expiry `t` can be delivered or retried while `block.timestamp <= t`.
/// After that anyone may `markExpired` it on the destination, which records it and sends an
/// expiry notice back through this gateway (sender: the destination gateway, recipient: the
/// origin gateway, payload `abi.encode(EXPIRY_NOTICE, id, originalSender)`). When the origin
/// gateway receives that notice from its trusted remote gateway it records
/// `expiredOnDestination(id)` and calls `IAccordExpiryHook.onAccordMessageExpired` on the
/// original sender if it is a contract, with exactly `EXPIRY_HOOK_GAS` gas: the notice's own
/// gas limit covers it, and if less is left the notice reverts, so it is recorded as failed and
/// stays retryable; a hook that reverts within its budget is reported (`ExpiryHookFailed`).
interface IAccordGateway is IERC7786GatewaySource, IERC7786Recipient {
    // ---------------------------------------------------------------- types
    /// @notice Where a message stands on the destination.
    enum MessageStatus {
        Unknown,
        Delivered,
        Failed,
        Expired,
        Cancelled
    }

    /// @notice Per origin chain, one storage slot: the code contract holding the trusted
    /// gateway and the sorted validator set (see AccordOriginSet), the signature threshold and
    /// the number of validators.
    struct OriginConfig {
        address setCode;
        uint8 threshold;
        uint8 size;
    }

    /// @notice A failed, expired or cancelled message (happy-path deliveries write no record).
    /// `setCode` is the origin's validator-set code that attested it (see `originConfig`).
    struct Record {
        MessageStatus status;
        uint32 attempts;
        address setCode;
        bytes32 reasonHash;
    }

    // ---------------------------------------------------------------- errors
    /// @notice `sendMessage` was given `value` wei; the gateway carries no value.
    error AccordGatewayValueNotSupported(uint256 value);
    /// @notice An encoded message is `length` bytes, shorter than its 148 bytes of fixed fields.
    error AccordGatewayInvalidMessage(uint256 length);
    /// @notice The recipient is not exactly an ERC-7930 v1 EIP-155 address with a 1..32-byte
    /// chain reference and a 20-byte non-zero address (no trailing bytes).
    error AccordGatewayInvalidRecipient(bytes recipient);
    /// @notice An attribute with a known selector has a malformed encoding.
    error AccordGatewayInvalidAttribute(bytes attribute);
    /// @notice The same attribute was given twice.
    error AccordGatewayDuplicateAttribute(bytes4 selector);
    /// @notice The expiry attribute is not in the future (`expiry <= now`).
    error AccordGatewayInvalidExpiry(uint64 expiry, uint256 now_);
    /// @notice The message is addressed to `destinationChainId`, this chain is `chainId`.
    error AccordGatewayWrongDestination(uint256 destinationChainId, uint256 chainId);
    /// @notice `gateway` is not the trusted gateway of `originChainId` (or none is set).
    error AccordGatewayUntrustedOrigin(uint256 originChainId, address gateway);
    /// @notice The signatures blob is not a whole number of 65-byte signatures.
    error AccordGatewayInvalidSignatureLength(uint256 length);
    /// @notice `count` signatures were given, `threshold` are needed.
    error AccordGatewayInsufficientSignatures(uint256 count, uint256 threshold);
    /// @notice `signer` recovered from a signature is not in the validator set of `originChainId`.
    error AccordGatewaySignerNotValidator(uint256 originChainId, address signer);
    /// @notice `signer` signed twice.
    error AccordGatewayDuplicateSigner(address signer);
    /// @notice Signers must be strictly ascending; `signer` came after `previous`.
    error AccordGatewaySignersNotAscending(address previous, address signer);
    /// @notice The message's replay bit is already set (delivered, failed or expired).
    error AccordGatewayAlreadyProcessed(bytes32 id);
    /// @notice The message expired at `expiry`.
    error AccordGatewayMessageExpired(bytes32 id, uint64 expiry);
    /// @notice The message has no expiry or it has not passed yet.
    error AccordGatewayNotExpired(bytes32 id, uint64 expiry);
    /// @notice The message is in `status`, which does not allow this operation.
    error AccordGatewayInvalidStatus(bytes32 id, MessageStatus status);
    /// @notice Less than `gasLimit * 64/63` plus overhead is left, so the callee could not get
    /// the gas the message requires; send the transaction with more gas.
    error AccordGatewayInsufficientGas(uint256 gasLimit);
    /// @notice The `minGasLimit` attribute must be in 1..`MAX_GAS_LIMIT`, got `gasLimit`.
    error AccordGatewayInvalidGasLimit(uint256 gasLimit);
    /// @notice The validator set that attested failed message `id` is no longer the origin's
    /// set; retry it with a fresh attestation (`Attestation(id)`) by the current set.
    error AccordGatewayStaleAttestation(bytes32 id);
    /// @notice A batch must contain at least one message, all from one origin chain and gateway.
    error AccordGatewayInvalidBatch();
    /// @notice The message id `id` is not in the signed batch id list.
    error AccordGatewayNotInBatch(bytes32 id);
    /// @notice Invalid validator set: empty, unsorted, zero, too large, or a bad threshold.
    error AccordGatewayInvalidValidatorSet();
    /// @notice `receiveMessage` is only for expiry notices the gateway delivers to itself.
    error AccordGatewayUnauthorizedNotice(address caller, bytes sender);
    /// @notice A notice from the trusted remote gateway did not carry the expiry-notice tag.
    error AccordGatewayInvalidNotice(bytes4 tag);

    // ---------------------------------------------------------------- events
    /// @notice The message `id` was sent with gateway nonce `nonce`; emitted right after
    /// ERC-7786 `MessageSent` so relayers can rebuild the message (the expiry is read from
    /// `MessageSent.attributes`; see `accord.messages.message_from_sent`).
    event MessageNonce(bytes32 indexed id, uint64 nonce);
    /// @notice Message `id` was delivered to its recipient (first delivery or a retry).
    event MessageDelivered(bytes32 indexed id);
    /// @notice Delivery of `id` failed for the `attempts`-th time; `reasonHash` is the keccak256
    /// of the recipient's revert data (or return data, when it returned a wrong selector),
    /// truncated to its first 1024 bytes.
    event MessageFailed(bytes32 indexed id, bytes32 reasonHash, uint32 attempts);
    /// @notice Message `id` was marked expired on this (destination) chain; `noticeId` is the
    /// id of the expiry notice sent back to the origin gateway.
    event MessageExpired(bytes32 indexed id, bytes32 noticeId);
    /// @notice On the origin: the destination `destinationChainId` proved that `id` expired.
    event MessageExpiredOnDestination(bytes32 indexed id, uint256 indexed destinationChainId);
    /// @notice On the origin: the expiry hook of `sender` reverted (within its gas budget) for `id`.
    event ExpiryHookFailed(bytes32 indexed id, address indexed sender);
    /// @notice The admin cancelled failed message `id`: it can no longer be retried or expired.
    event MessageCancelled(bytes32 indexed id);
    /// @notice The trusted gateway of `originChainId` is now `gateway`.
    event TrustedGatewaySet(uint256 indexed originChainId, address gateway);
    /// @notice The validator set of `originChainId` is now `validators` with `threshold`.
    event ValidatorSetChanged(uint256 indexed originChainId, address[] validators, uint8 threshold);

    // ---------------------------------------------------------------- source side
    /// @notice Attribute selector `expiry(uint64)`: the message cannot be delivered after this
    /// unix time; it can then be marked expired on the destination.
    function EXPIRY_ATTRIBUTE() external view returns (bytes4);

    /// @notice Tag of expiry-notice payloads: `abi.encode(EXPIRY_NOTICE, id, originalSender)`.
    function EXPIRY_NOTICE() external view returns (bytes4);

    /// @notice Attribute selector `minGasLimit(uint256)` (ERC-7985): the gas the recipient call
    /// gets on the destination, part of the message id.
    function GAS_LIMIT_ATTRIBUTE() external view returns (bytes4);

    /// @notice The recipient gas of a message sent without `minGasLimit`.
    function DEFAULT_GAS_LIMIT() external view returns (uint64);

    /// @notice The largest `minGasLimit` a message may ask for.
    function MAX_GAS_LIMIT() external view returns (uint64);

    /// @notice The gas an expiry hook gets on the origin (`IAccordExpiryHook`).
    function EXPIRY_HOOK_GAS() external view returns (uint64);

    /// @notice The next nonce `sendMessage` will assign.
    function nextNonce() external view returns (uint64);

    /// @notice On the origin: whether the destination proved message `id` expired.
    function expiredOnDestination(bytes32 id) external view returns (bool);

    // ---------------------------------------------------------------- destination side
    /// @notice Verifies `signatures` (an `Attestation` of the message id) and delivers `message`,
    /// calling the recipient with the larger of `gasLimit` and the message's own `gasLimit`
    /// (pass 0 for exactly the message's). A recipient failure is recorded, not reverted.
    function deliver(bytes calldata message, bytes calldata signatures, uint256 gasLimit) external;

    /// @notice Verifies one `BatchAttestation` and delivers `messages` (same origin), each with
    /// at least its own gas limit (`gasLimit` as in `deliver`). With `batchIds` empty the signed
    /// list is the ids of `messages`; otherwise
    /// it is `batchIds` and `messages` must be a subsequence of it (a partial delivery).
    /// Messages already processed or expired are skipped.
    function deliverBatch(
        bytes[] calldata messages,
        bytes32[] calldata batchIds,
        bytes calldata signatures,
        uint256 gasLimit
    ) external;

    /// @notice Anyone may retry a failed message with at least its own gas (`gasLimit` as in
    /// `deliver`); it succeeds at most once. Its origin gateway must still be trusted, and
    /// either the set that attested it is still the origin's set (`signatures` empty) or
    /// `signatures` are a fresh `Attestation` of its id by the current set.
    function retry(bytes calldata message, bytes calldata signatures, uint256 gasLimit) external;

    /// @notice Admin: cancels failed message `id` (e.g. attested by a set since found
    /// compromised): it can no longer be retried or expired.
    function cancelFailed(bytes32 id) external;

    /// @notice Anyone may mark a message past its expiry as expired (it was never delivered, or
    /// it failed). Unless it has a failure record attested by the current set, it must be
    /// attested (`batchIds` empty: `Attestation`, else the `BatchAttestation` of `batchIds`).
    /// Sends an expiry notice back.
    function markExpired(bytes calldata message, bytes32[] calldata batchIds, bytes calldata signatures)
        external
        returns (bytes32 noticeId);

    /// @notice Status of message `id` sent by `originGateway` on `originChainId` with `nonce`:
    /// Failed / Expired / Cancelled (and Delivered after a retry) from the record, otherwise Delivered if
    /// the replay bit is set, else Unknown. The caller must pass the id's own (origin, nonce).
    function messageStatus(uint256 originChainId, address originGateway, uint64 nonce, bytes32 id)
        external
        view
        returns (MessageStatus status, bytes32 reasonHash, uint32 attempts);

    /// @notice The id of encoded `message` (reverts `AccordGatewayInvalidMessage` if too short).
    function messageId(bytes calldata message) external pure returns (bytes32);

    /// @notice The EIP-712 digest validators sign for `id` (or a batch `root` with `batch`).
    function attestationDigest(uint256 originChainId, address originGateway, bytes32 idOrRoot, bool batch)
        external
        pure
        returns (bytes32);

    // ---------------------------------------------------------------- admin
    /// @notice Admin: trusts `gateway` as the gateway of `originChainId` (zero disables it).
    function setTrustedGateway(uint256 originChainId, address gateway) external;

    /// @notice Admin: replaces the validator set of `originChainId` (strictly ascending, at most
    /// 255) and its `threshold` (1..validators.length).
    function setValidatorSet(uint256 originChainId, address[] calldata validators, uint8 threshold) external;

    /// @notice The set code, threshold and size for `originChainId`.
    function originConfig(uint256 originChainId) external view returns (OriginConfig memory);

    /// @notice The trusted gateway of `originChainId` (zero: none).
    function trustedGateway(uint256 originChainId) external view returns (address);

    /// @notice The current validator set of `originChainId`.
    function validators(uint256 originChainId) external view returns (address[] memory);

    /// @notice Whether `signer` is in the current validator set of `originChainId`.
    function isValidator(uint256 originChainId, address signer) external view returns (bool);
}
