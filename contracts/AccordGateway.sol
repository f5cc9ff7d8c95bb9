// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC7786Recipient} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {InteroperableAddress} from "@openzeppelin/contracts/utils/draft-InteroperableAddress.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAccordGateway} from "../interfaces/IAccordGateway.sol";
import {IAccordExpiryHook} from "../interfaces/IAccordExpiryHook.sol";
import {AccordInterop} from "./libraries/AccordInterop.sol";
import {AccordMessageCodec} from "./libraries/AccordMessageCodec.sol";
import {AccordOriginSet} from "./libraries/AccordOriginSet.sol";

/// @title AccordGateway
/// @notice ERC-7786 source gateway plus an M-of-N validator-set verifier that delivers to
/// ERC-7786 recipients, singly or in batches, at most once per message, with failure records,
/// retries and expiry proofs. See {IAccordGateway} for the message id, the signed digests and
/// the replay guard.
contract AccordGateway is IAccordGateway, EIP712, Ownable2Step, ReentrancyGuardTransient {
    using InteroperableAddress for bytes;
    using AccordMessageCodec for bytes;

    // ---------------------------------------------------------------- constants
    /// @inheritdoc IAccordGateway
    bytes4 public constant EXPIRY_ATTRIBUTE = bytes4(keccak256("expiry(uint64)"));
    /// @inheritdoc IAccordGateway
    bytes4 public constant EXPIRY_NOTICE = bytes4(keccak256("accordExpired(bytes32,address)"));
    /// @inheritdoc IAccordGateway
    bytes4 public constant GAS_LIMIT_ATTRIBUTE = bytes4(keccak256("minGasLimit(uint256)"));
    /// @inheritdoc IAccordGateway
    uint64 public constant DEFAULT_GAS_LIMIT = 200_000;
    /// @inheritdoc IAccordGateway
    uint64 public constant MAX_GAS_LIMIT = 10_000_000;
    /// @inheritdoc IAccordGateway
    uint64 public constant EXPIRY_HOOK_GAS = 100_000;
    /// @dev Recipient gas of an expiry notice: the hook's budget plus the notice's own work
    /// (checks, one new storage slot, two events) with room to spare.
    uint64 private constant _NOTICE_GAS = EXPIRY_HOOK_GAS + 60_000;

    /// @dev Revert data beyond this many bytes is not hashed (bounds the copy a recipient can force).
    uint256 private constant _MAX_REASON_BYTES = 1024;
    /// @dev Gas kept on top of `gasLimit * 64/63` for the call itself (cold account, memory).
    uint256 private constant _CALL_RESERVE = 5_000;
    uint256 private constant _SIGNATURE_LENGTH = 65;
    /// @dev secp256k1n / 2: signatures with a larger `s` are malleable twins (EIP-2).
    uint256 private constant _HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    // ---------------------------------------------------------------- state
    uint64 private _nonce;
    mapping(uint256 originChainId => OriginConfig) private _origins;
    /// @dev keccak256(originChainId, originGateway, nonce >> 8) => 256 replay bits.
    mapping(bytes32 wordKey => uint256 bits) private _replayWords;
    // Written through storage pointers in _recordFailure/markExpired; slither misses that.
    // slither-disable-next-line uninitialized-state
    mapping(bytes32 id => Record) private _records;
    mapping(bytes32 id => bool) private _expiredOnDestination;

    constructor(address admin) EIP712("AccordGateway", "1") Ownable(admin) {}

    // ================================================================ source side
    /// @notice Whether `selector` is a supported attribute: `expiry(uint64)` and (ERC-7985)
    /// `minGasLimit(uint256)`.
    function supportsAttribute(bytes4 selector) external pure returns (bool) {
        return selector == EXPIRY_ATTRIBUTE || selector == GAS_LIMIT_ATTRIBUTE;
    }

    /// @notice Sends `payload` to `recipient` (ERC-7930 EVM address with chain reference).
    /// Supports the `expiry(uint64)` and `minGasLimit(uint256)` attributes (the recipient's gas
    /// on the destination; `DEFAULT_GAS_LIMIT` without it). Returns the message id (non-zero:
    /// validators must attest it and a relayer deliver it).
    function sendMessage(
        bytes calldata recipient,
        bytes calldata payload,
        bytes[] calldata attributes
    ) external payable returns (bytes32 id) {
        // CHECKS
        if (msg.value != 0) revert AccordGatewayValueNotSupported(msg.value);
        (uint256 destinationChainId, address to) = _parseRecipient(recipient);
        (uint64 expiry, uint64 gasLimit) = _parseAttributes(attributes);

        // EFFECTS
        uint64 nonce = _useNonce();
        id = AccordMessageCodec.idOfSent(nonce, destinationChainId, to, expiry, gasLimit, payload);
        emit MessageSent(
            id,
            AccordInterop.formatEvm(block.chainid, msg.sender),
            recipient,
            payload,
            0,
            attributes
        );
        emit MessageNonce(id, nonce);
    }

    /// @inheritdoc IAccordGateway
    function nextNonce() external view returns (uint64) {
        return _nonce;
    }

    /// @inheritdoc IAccordGateway
    function expiredOnDestination(bytes32 id) external view returns (bool) {
        return _expiredOnDestination[id];
    }

    /// @notice Receives expiry notices: only from this gateway itself (i.e. delivered by
    /// `deliver`/`deliverBatch`/`retry` after attestation) and only with the trusted remote
    /// gateway of the notice's chain as sender. Records `expiredOnDestination(id)` and calls the
    /// optional {IAccordExpiryHook} of the original sender with exactly `EXPIRY_HOOK_GAS` gas,
    /// reverting (the notice stays retryable) if that much is not left; a hook that reverts is
    /// reported with `ExpiryHookFailed`.
    function receiveMessage(
        bytes32 /* receiveId */,
        bytes calldata sender,
        bytes calldata payload
    ) external payable returns (bytes4) {
        // CHECKS
        if (msg.sender != address(this) || msg.value != 0) revert AccordGatewayUnauthorizedNotice(msg.sender, sender);
        (bool ok, uint256 chainId, address from) = sender.tryParseEvmV1Calldata();
        if (!ok || from == address(0) || _trustedGateway(chainId) != from) {
            revert AccordGatewayUnauthorizedNotice(msg.sender, sender);
        }
        (bytes4 tag, bytes32 id, address originalSender) = abi.decode(payload, (bytes4, bytes32, address));
        if (tag != EXPIRY_NOTICE) revert AccordGatewayInvalidNotice(tag);

        // EFFECTS
        _expiredOnDestination[id] = true;
        emit MessageExpiredOnDestination(id, chainId);

        // INTERACTIONS (optional hook with a fixed budget; its return data is ignored)
        if (originalSender.code.length != 0) {
            bytes memory data = abi.encodeCall(IAccordExpiryHook.onAccordMessageExpired, (id, chainId));
            uint256 budget = EXPIRY_HOOK_GAS;
            _requireGas(budget);
            bool ok;
            assembly ("memory-safe") {
                ok := call(budget, originalSender, 0, add(data, 0x20), mload(data), 0, 0)
            }
            if (!ok) emit ExpiryHookFailed(id, originalSender);
        }
        return IERC7786Recipient.receiveMessage.selector;
    }

    // ================================================================ destination side
    /// @inheritdoc IAccordGateway
    function deliver(bytes calldata message, bytes calldata signatures, uint256 gasLimit) external nonReentrant {
        // CHECKS
        (bytes memory set, uint256 threshold) = _checkRoute(message);
        bytes32 id = message.idOf();
        _checkNotExpired(message, id);
        uint256 origin = message.originChainId();
        address originGateway = message.originGateway();
        (bytes32 key, uint256 bit) = AccordMessageCodec.replaySlot(origin, originGateway, message.nonce());
        uint256 word = _replayWords[key];
        if (word & bit != 0) revert AccordGatewayAlreadyProcessed(id);
        _verify(origin, set, threshold, AccordMessageCodec.digest(origin, originGateway, id, false), signatures);

        // EFFECTS
        _replayWords[key] = word | bit;

        // INTERACTIONS
        _dispatchToRecipient(message, id, gasLimit);
    }

    /// @inheritdoc IAccordGateway
    function deliverBatch(
        bytes[] calldata messages,
        bytes32[] calldata batchIds,
        bytes calldata signatures,
        uint256 gasLimit
    ) external nonReentrant {
        // CHECKS: one origin, this destination, the signed list, one signature check
        uint256 n = messages.length;
        if (n == 0) revert AccordGatewayInvalidBatch();
        (bytes memory set, uint256 threshold) = _checkRoute(messages[0]);
        uint256 origin = messages[0].originChainId();
        address originGateway = messages[0].originGateway();
        bytes32[] memory ids = _batchIds(messages, origin, originGateway);
        bytes32 root = batchIds.length == 0
            ? AccordMessageCodec.hashIds(ids)
            : AccordMessageCodec.checkSubset(ids, batchIds);
        _verify(origin, set, threshold, AccordMessageCodec.digest(origin, originGateway, root, true), signatures);

        // EFFECTS + INTERACTIONS per message: the replay bit is set before the recipient call;
        // processed or expired messages are skipped so a partially delivered batch can finish.
        for (uint256 i = 0; i < n; ++i) {
            _deliverInBatch(messages[i], ids[i], gasLimit);
        }
    }

    /// @inheritdoc IAccordGateway
    function retry(bytes calldata message, bytes calldata signatures, uint256 gasLimit) external nonReentrant {
        // CHECKS: the failure record (keyed by the recomputed id) proves the attestation, while
        // the route is trusted and its set unchanged; otherwise the current set must re-attest
        message.checkLength();
        bytes32 id = message.idOf();
        Record storage record = _records[id];
        if (record.status != MessageStatus.Failed) revert AccordGatewayInvalidStatus(id, record.status);
        _checkNotExpired(message, id);
        _checkStillAttested(message, id, record.setCode, signatures);

        // EFFECTS: marked delivered before the call; a new failure sets it back to Failed
        record.status = MessageStatus.Delivered;

        // INTERACTIONS
        _dispatchToRecipient(message, id, gasLimit);
    }

    /// @inheritdoc IAccordGateway
    function cancelFailed(bytes32 id) external onlyOwner {
        Record storage record = _records[id];
        if (record.status != MessageStatus.Failed) revert AccordGatewayInvalidStatus(id, record.status);
        record.status = MessageStatus.Cancelled;
        emit MessageCancelled(id);
    }

    /// @inheritdoc IAccordGateway
    function markExpired(
        bytes calldata message,
        bytes32[] calldata batchIds,
        bytes calldata signatures
    ) external nonReentrant returns (bytes32 noticeId) {
        // CHECKS
        message.checkLength();
        bytes32 id = message.idOf();
        uint64 expiry = message.expiry();
        if (!_isExpired(expiry)) revert AccordGatewayNotExpired(id, expiry);
        Record storage record = _records[id];
        MessageStatus status = record.status;
        if (status == MessageStatus.Unknown) {
            // never seen: must be attested, and its replay bit is consumed
            _consumeAttested(message, id, batchIds, signatures);
        } else if (status == MessageStatus.Failed) {
            // a failure record proves the attestation while its set is still the origin's
            bytes calldata fresh = batchIds.length == 0 ? signatures : signatures[:0];
            _checkStillAttested(message, id, record.setCode, fresh);
        } else {
            revert AccordGatewayInvalidStatus(id, status);
        }

        // EFFECTS
        record.status = MessageStatus.Expired;

        // the notice goes back through this gateway: destination -> origin gateway
        noticeId = _sendNotice(message.originChainId(), message.originGateway(), id, message.sender());
        emit MessageExpired(id, noticeId);
    }

    /// @inheritdoc IAccordGateway
    function messageStatus(
        uint256 originChainId,
        address originGateway,
        uint64 nonce,
        bytes32 id
    ) external view returns (MessageStatus status, bytes32 reasonHash, uint32 attempts) {
        Record memory record = _records[id];
        if (record.status != MessageStatus.Unknown) return (record.status, record.reasonHash, record.attempts);
        (bytes32 key, uint256 bit) = AccordMessageCodec.replaySlot(originChainId, originGateway, nonce);
        if (_replayWords[key] & bit != 0) return (MessageStatus.Delivered, bytes32(0), 0);
        return (MessageStatus.Unknown, bytes32(0), 0);
    }

    /// @inheritdoc IAccordGateway
    function messageId(bytes calldata message) external pure returns (bytes32) {
        message.checkLength();
        return message.idOf();
    }

    /// @inheritdoc IAccordGateway
    function attestationDigest(
        uint256 originChainId,
        address originGateway,
        bytes32 idOrRoot,
        bool batch
    ) external pure returns (bytes32) {
        return AccordMessageCodec.digest(originChainId, originGateway, idOrRoot, batch);
    }

    // ================================================================ admin
    /// @inheritdoc IAccordGateway
    function setTrustedGateway(uint256 originChainId, address gateway) external onlyOwner {
        OriginConfig memory cfg = _origins[originChainId];
        bytes memory set = AccordOriginSet.read(cfg.setCode, cfg.size);
        _writeOrigin(originChainId, gateway, AccordOriginSet.validators(set), cfg.threshold);
        emit TrustedGatewaySet(originChainId, gateway);
    }

    /// @inheritdoc IAccordGateway
    function setValidatorSet(
        uint256 originChainId,
        address[] calldata validators_,
        uint8 threshold
    ) external onlyOwner {
        uint256 n = validators_.length;
        if (n == 0 || n > type(uint8).max || threshold == 0 || threshold > n) {
            revert AccordGatewayInvalidValidatorSet();
        }
        address previous = address(0);
        // bounded: at most 255 validators, admin-only
        for (uint256 i = 0; i < n; ++i) {
            address v = validators_[i];
            if (v <= previous) revert AccordGatewayInvalidValidatorSet();
            previous = v;
        }
        _writeOrigin(originChainId, _trustedGateway(originChainId), validators_, threshold);
        emit ValidatorSetChanged(originChainId, validators_, threshold);
    }

    /// @inheritdoc IAccordGateway
    function originConfig(uint256 originChainId) external view returns (OriginConfig memory) {
        return _origins[originChainId];
    }

    /// @inheritdoc IAccordGateway
    function trustedGateway(uint256 originChainId) external view returns (address) {
        return _trustedGateway(originChainId);
    }

    /// @inheritdoc IAccordGateway
    function validators(uint256 originChainId) external view returns (address[] memory) {
        return AccordOriginSet.validators(_readSet(originChainId));
    }

    /// @inheritdoc IAccordGateway
    function isValidator(uint256 originChainId, address signer) external view returns (bool) {
        return AccordOriginSet.contains(_readSet(originChainId), signer);
    }

    // ================================================================ internals
    /// @dev The destination chain and address of an ERC-7930 EVM recipient (both non-zero).
    function _parseRecipient(bytes calldata recipient) private pure returns (uint256 chainId, address to) {
        bool ok;
        (ok, chainId, to) = AccordInterop.parseEvmCalldata(recipient);
        if (!ok || chainId == 0 || to == address(0)) revert AccordGatewayInvalidRecipient(recipient);
    }

    function _useNonce() private returns (uint64 nonce) {
        nonce = _nonce;
        // unchecked: a uint64 nonce cannot wrap, each increment costs a transaction.
        unchecked {
            _nonce = nonce + 1;
        }
    }

    /// @dev Reads and validates `attributes`; returns the expiry (0 when absent) and the
    /// recipient gas (`DEFAULT_GAS_LIMIT` when absent).
    function _parseAttributes(bytes[] calldata attributes) private view returns (uint64 expiry, uint64 gasLimit) {
        bool seenExpiry = false;
        bool seenGas = false;
        gasLimit = DEFAULT_GAS_LIMIT;
        for (uint256 i = 0; i < attributes.length; ++i) {
            bytes calldata attr = attributes[i];
            if (attr.length < 4) revert AccordGatewayInvalidAttribute(attr);
            bytes4 selector = bytes4(attr[:4]);
            bool isExpiry = selector == EXPIRY_ATTRIBUTE;
            if (!isExpiry && selector != GAS_LIMIT_ATTRIBUTE) revert UnsupportedAttribute(selector);
            if (attr.length != 36) revert AccordGatewayInvalidAttribute(attr);
            uint256 value = uint256(bytes32(attr[4:36]));
            if (isExpiry) {
                if (seenExpiry) revert AccordGatewayDuplicateAttribute(selector);
                if (value > type(uint64).max) revert AccordGatewayInvalidAttribute(attr);
                if (value <= block.timestamp) revert AccordGatewayInvalidExpiry(uint64(value), block.timestamp);
                expiry = uint64(value);
                seenExpiry = true;
            } else {
                if (seenGas) revert AccordGatewayDuplicateAttribute(selector);
                if (value == 0 || value > MAX_GAS_LIMIT) revert AccordGatewayInvalidGasLimit(value);
                gasLimit = uint64(value);
                seenGas = true;
            }
        }
    }

    /// @dev The message is well formed, for this chain and from the trusted gateway of a
    /// configured origin; returns that origin's set (gateway || validators) and threshold.
    function _checkRoute(bytes calldata m) private view returns (bytes memory set, uint256 threshold) {
        m.checkLength();
        uint256 destination = m.destinationChainId();
        if (destination != block.chainid) revert AccordGatewayWrongDestination(destination, block.chainid);
        uint256 origin = m.originChainId();
        OriginConfig storage cfg = _origins[origin];
        set = AccordOriginSet.read(cfg.setCode, cfg.size);
        address gateway = AccordOriginSet.gatewayOf(set);
        threshold = cfg.threshold;
        address claimed = m.originGateway();
        if (gateway == address(0) || gateway != claimed || threshold == 0) {
            revert AccordGatewayUntrustedOrigin(origin, claimed);
        }
    }

    /// @dev The ids of a batch's messages, each well formed, for this chain and from `origin`'s
    /// `originGateway`.
    function _batchIds(
        bytes[] calldata messages,
        uint256 origin,
        address originGateway
    ) private view returns (bytes32[] memory ids) {
        uint256 n = messages.length;
        ids = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            bytes calldata m = messages[i];
            m.checkLength();
            if (m.originChainId() != origin || m.originGateway() != originGateway) revert AccordGatewayInvalidBatch();
            uint256 destination = m.destinationChainId();
            if (destination != block.chainid) revert AccordGatewayWrongDestination(destination, block.chainid);
            ids[i] = m.idOf();
        }
    }

    /// @dev Delivers one message of a verified batch unless it expired or was processed.
    function _deliverInBatch(bytes calldata m, bytes32 id, uint256 gasLimit) private {
        if (_isExpired(m.expiry())) return;
        (bytes32 key, uint256 bit) = AccordMessageCodec.replaySlot(m.originChainId(), m.originGateway(), m.nonce());
        uint256 word = _replayWords[key];
        if (word & bit != 0) return;
        _replayWords[key] = word | bit;
        _dispatchToRecipient(m, id, gasLimit);
    }

    function _checkNotExpired(bytes calldata m, bytes32 id) private view {
        uint64 expiry = m.expiry();
        if (_isExpired(expiry)) revert AccordGatewayMessageExpired(id, expiry);
    }

    /// @dev Checks `signatures` (65-byte each, strictly ascending signers, all in `set`, at
    /// least `threshold`). Sorted signers are merged against the sorted set, so the work is
    /// bounded by the set size.
    function _verify(
        uint256 originChainId,
        bytes memory set,
        uint256 threshold,
        bytes32 digest,
        bytes calldata signatures
    ) private view {
        uint256 len = signatures.length;
        if (len % _SIGNATURE_LENGTH != 0) revert AccordGatewayInvalidSignatureLength(len);
        uint256 count = len / _SIGNATURE_LENGTH;
        if (count < threshold) revert AccordGatewayInsufficientSignatures(count, threshold);
        uint256 size = AccordOriginSet.sizeOf(set);
        uint256 j = 0;
        address previous = address(0);
        for (uint256 i = 0; i < count; ++i) {
            address signer = _signerAt(digest, signatures, i);
            bool found;
            (j, found) = _advance(set, size, j, signer);
            if (found) {
                // found at or after the previous signer's position: strictly ascending
                ++j;
                previous = signer;
                continue;
            }
            if (!AccordOriginSet.contains(set, signer)) revert AccordGatewaySignerNotValidator(originChainId, signer);
            if (signer == previous) revert AccordGatewayDuplicateSigner(signer);
            revert AccordGatewaySignersNotAscending(previous, signer);
        }
    }

    /// @dev Recovers the signer of the `i`-th 65-byte signature with the ecrecover precompile,
    /// rejecting what OpenZeppelin's ECDSA rejects, with its errors: a high `s` (malleable),
    /// a bad `v` or an unrecoverable signature (both give the zero address).
    function _signerAt(bytes32 digest, bytes calldata signatures, uint256 i) private view returns (address signer) {
        bytes32 s;
        assembly ("memory-safe") {
            let at := add(signatures.offset, mul(i, 65))
            s := calldataload(add(at, 0x20))
            if iszero(gt(s, _HALF_ORDER)) {
                // ecrecover(digest, v, r, s) in free memory (not allocated); result at 0x00
                let ptr := mload(0x40)
                mstore(ptr, digest)
                mstore(add(ptr, 0x20), byte(0, calldataload(add(at, 0x40))))
                mstore(add(ptr, 0x40), calldataload(at))
                mstore(add(ptr, 0x60), s)
                mstore(0x00, 0)
                pop(staticcall(gas(), 0x01, ptr, 0x80, 0x00, 0x20))
                signer := mload(0x00)
            }
        }
        if (uint256(s) > _HALF_ORDER) revert ECDSA.ECDSAInvalidSignatureS(s);
        if (signer == address(0)) revert ECDSA.ECDSAInvalidSignature();
    }

    /// @dev Merge step: from position `j` of the sorted `set`, skips validators below `signer`;
    /// `found` if the next one is `signer` (then `j` is its position).
    function _advance(
        bytes memory set,
        uint256 size,
        uint256 j,
        address signer
    ) private pure returns (uint256, bool found) {
        assembly ("memory-safe") {
            let base := add(set, 0x34) // validator k at base + 20k (after the 20-byte gateway)
            for {} lt(j, size) {
                j := add(j, 1)
            } {
                let validator := shr(96, mload(add(base, mul(j, 20))))
                if iszero(lt(validator, signer)) {
                    found := eq(validator, signer)
                    break
                }
            }
        }
        return (j, found);
    }

    function _readSet(uint256 originChainId) private view returns (bytes memory) {
        OriginConfig memory cfg = _origins[originChainId];
        return AccordOriginSet.read(cfg.setCode, cfg.size);
    }

    function _trustedGateway(uint256 originChainId) private view returns (address) {
        return AccordOriginSet.gatewayOf(_readSet(originChainId));
    }

    /// @dev Deploys the new (gateway, validators) code and points the origin at it.
    function _writeOrigin(
        uint256 originChainId,
        address gateway,
        address[] memory validators_,
        uint8 threshold
    ) private {
        address setCode = AccordOriginSet.write(gateway, validators_);
        if (setCode == address(0)) revert AccordGatewayInvalidValidatorSet();
        _origins[originChainId] = OriginConfig(setCode, threshold, uint8(validators_.length));
    }

    /// @dev For `markExpired` of an unseen message: route, replay bit unset, attestation valid;
    /// sets the replay bit so the nonce can never be delivered.
    function _consumeAttested(
        bytes calldata m,
        bytes32 id,
        bytes32[] calldata batchIds,
        bytes calldata signatures
    ) private {
        (bytes memory set, uint256 threshold) = _checkRoute(m);
        (bytes32 key, uint256 bit) = AccordMessageCodec.replaySlot(m.originChainId(), m.originGateway(), m.nonce());
        uint256 word = _replayWords[key];
        if (word & bit != 0) revert AccordGatewayAlreadyProcessed(id);
        _verifyAttested(m, set, threshold, id, batchIds, signatures);
        _replayWords[key] = word | bit;
    }

    /// @dev Verifies an `Attestation` of `id` (no `batchIds`) or a `BatchAttestation` of `batchIds`
    /// containing `id`.
    function _verifyAttested(
        bytes calldata m,
        bytes memory set,
        uint256 threshold,
        bytes32 id,
        bytes32[] calldata batchIds,
        bytes calldata signatures
    ) private view {
        bool batch = batchIds.length != 0;
        bytes32 signed = id;
        if (batch) {
            bytes32[] memory one = new bytes32[](1);
            one[0] = id;
            signed = AccordMessageCodec.checkSubset(one, batchIds);
        }
        uint256 origin = m.originChainId();
        bytes32 digest = AccordMessageCodec.digest(origin, m.originGateway(), signed, batch);
        _verify(origin, set, threshold, digest, signatures);
    }

    /// @dev A failed message may be retried (or expired) while its origin gateway is trusted and
    /// `setCode` (the set that attested it) is still the origin's set, or with `signatures`, a
    /// fresh `Attestation` of `id` by the current set (then recorded as the attesting set).
    function _checkStillAttested(
        bytes calldata m,
        bytes32 id,
        address setCode,
        bytes calldata signatures
    ) private {
        (bytes memory set, uint256 threshold) = _checkRoute(m);
        uint256 origin = m.originChainId();
        address current = _origins[origin].setCode;
        if (current == setCode) return;
        if (signatures.length == 0) revert AccordGatewayStaleAttestation(id);
        bytes32 digest = AccordMessageCodec.digest(origin, m.originGateway(), id, false);
        _verify(origin, set, threshold, digest, signatures);
        _records[id].setCode = current;
    }

    /// @dev Reverts unless a call can be given `gasLimit` gas (63/64 rule, plus a reserve for
    /// the call itself), so a callee is never starved by the transaction's sender.
    function _requireGas(uint256 gasLimit) private view {
        if (gasleft() < gasLimit + gasLimit / 63 + _CALL_RESERVE) revert AccordGatewayInsufficientGas(gasLimit);
    }

    /// @dev Calls the recipient with the larger of `minGas` and the message's own gas limit (or
    /// reverts if that much cannot be forwarded); records a failure or emits the delivery.
    function _dispatchToRecipient(bytes calldata m, bytes32 id, uint256 minGas) private {
        uint256 gasLimit = m.gasLimit();
        if (minGas > gasLimit) {
            if (minGas > MAX_GAS_LIMIT) revert AccordGatewayInvalidGasLimit(minGas);
            gasLimit = minGas;
        }
        uint256 freeMemory;
        assembly ("memory-safe") {
            freeMemory := mload(0x40)
        }
        (uint256 ptr, uint256 size) = _receiveCall(m, id);
        address to = m.recipient();
        // 63/64 rule, checked after the calldata is in memory (its expansion is paid): the callee
        // really gets `gasLimit`, so a relayer cannot make a message fail by starving it.
        _requireGas(gasLimit);
        bool ok;
        bytes4 selector = IERC7786Recipient.receiveMessage.selector;
        assembly ("memory-safe") {
            // return data is not copied beyond one word: no return-bomb
            ok := call(gasLimit, to, 0, ptr, size, 0x00, 0x20)
            ok := and(ok, and(gt(returndatasize(), 0x1f), eq(shr(224, mload(0x00)), shr(224, selector))))
        }
        if (ok) {
            emit MessageDelivered(id);
        } else {
            _recordFailure(id, m.originChainId());
        }
        // nothing allocated here outlives this call: release it so batches do not grow memory
        assembly ("memory-safe") {
            mstore(0x40, freeMemory)
        }
    }

    /// @dev `abi.encodeCall(receiveMessage, (id, ERC-7930 sender, payload))` of message `m`,
    /// built in place in (allocated) memory: selector | id | 0x60 | 0xc0 | sender (len + 2
    /// words, len <= 58) | payload (len + padded data).
    function _receiveCall(bytes calldata m, bytes32 id) private pure returns (uint256 ptr, uint256 size) {
        bytes memory sender = AccordInterop.formatEvm(m.originChainId(), m.sender());
        bytes calldata payload = m.payload();
        bytes4 selector = IERC7786Recipient.receiveMessage.selector;
        assembly ("memory-safe") {
            ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), id)
            mstore(add(ptr, 0x24), 0x60)
            mstore(add(ptr, 0x44), 0xc0)
            mstore(add(ptr, 0x64), mload(sender))
            mstore(add(ptr, 0x84), mload(add(sender, 0x20)))
            mstore(add(ptr, 0xa4), mload(add(sender, 0x40))) // formatEvm zero-pads its last word
            let padded := and(add(payload.length, 0x1f), not(0x1f))
            mstore(add(ptr, add(0xc4, padded)), 0) // zero the payload's last (padded) word
            mstore(add(ptr, 0xc4), payload.length)
            calldatacopy(add(ptr, 0xe4), payload.offset, payload.length)
            size := add(0xe4, padded)
            mstore(0x40, add(ptr, add(size, 0x1c))) // 32-byte aligned end
        }
    }

    /// @dev keccak256 of the last call's return data, truncated to `_MAX_REASON_BYTES`.
    function _reasonHash() private pure returns (bytes32 reason) {
        assembly ("memory-safe") {
            let size := returndatasize()
            if gt(size, _MAX_REASON_BYTES) {
                size := _MAX_REASON_BYTES
            }
            let ptr := mload(0x40)
            returndatacopy(ptr, 0, size)
            reason := keccak256(ptr, size)
        }
    }

    /// @dev Records the last call's failure; the origin's current set attested this attempt (a
    /// retry checked that it still is, or re-attested it), so it is the record's `setCode`.
    function _recordFailure(bytes32 id, uint256 originChainId) private {
        bytes32 reason = _reasonHash();
        address setCode = _origins[originChainId].setCode;
        Record storage record = _records[id];
        uint32 attempts;
        // unchecked: each attempt is a transaction; 2^32 of them cannot happen.
        unchecked {
            attempts = record.attempts + 1;
        }
        record.status = MessageStatus.Failed;
        record.attempts = attempts;
        record.setCode = setCode;
        record.reasonHash = reason;
        emit MessageFailed(id, reason, attempts);
    }

    /// @dev Sends the expiry notice of `id` from this gateway to `originGateway` on `originChainId`.
    function _sendNotice(
        uint256 originChainId,
        address originGateway,
        bytes32 id,
        address originalSender
    ) private returns (bytes32 noticeId) {
        bytes memory payload = abi.encode(EXPIRY_NOTICE, id, originalSender);
        uint64 nonce = _useNonce();
        noticeId = AccordMessageCodec.idOfNotice(nonce, originChainId, originGateway, _NOTICE_GAS, payload);
        bytes[] memory attributes = new bytes[](1);
        attributes[0] = abi.encodeWithSelector(GAS_LIMIT_ATTRIBUTE, uint256(_NOTICE_GAS));
        emit MessageSent(
            noticeId,
            AccordInterop.formatEvm(block.chainid, address(this)),
            AccordInterop.formatEvm(originChainId, originGateway),
            payload,
            0,
            attributes
        );
        emit MessageNonce(noticeId, nonce);
    }

    function _isExpired(uint64 expiry) private view returns (bool) {
        return expiry != 0 && block.timestamp > expiry;
    }
}
