// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721URIStorage} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721URIStorage.sol";
import {ERC721Utils} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Utils.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IIdentityRegistry} from "../interfaces/IIdentityRegistry.sol";

/// @title IdentityRegistry
/// @notice ERC-8004 Identity Registry (see {IIdentityRegistry}). A plain, non-upgradeable
/// deployment that behaves like erc-8004/erc-8004-contracts v2.0.0 in everything clients
/// observe: ids from 0, name "AgentIdentity" / symbol "AGENT", the same functions, events and
/// EIP-712 domain, `agentWallet` reserved, set by signature and cleared on transfer.
/// @dev Differences from the reference, none visible through the ABI's return values:
/// - reverts are typed custom errors (see the interface) instead of require strings;
/// - no proxy, no owner: there is nothing to upgrade or administer;
/// - the agent wallet lives in its own slot, not in the metadata mapping. Zero means "the
///   address that registered" (valid until the first transfer or unset, which both write
///   `_CLEARED`), so `register` does not pay for a wallet write; `getMetadata(id, "agentWallet")`
///   returns exactly what the reference stores (20 packed bytes, or empty);
/// - the receiver hook of `_safeMint` runs last, after the URI, metadata and events
///   (checks-effects-interactions); the reference calls it before setting the URI.
contract IdentityRegistry is ERC721URIStorage, EIP712, IIdentityRegistry {
    bytes32 private constant _AGENT_WALLET_SET_TYPEHASH =
        keccak256("AgentWalletSet(uint256 agentId,address newWallet,address owner,uint256 deadline)");
    uint256 private constant _MAX_DEADLINE_DELAY = 5 minutes;
    string private constant _AGENT_WALLET_KEY = "agentWallet";
    bytes32 private constant _AGENT_WALLET_KEY_HASH = keccak256("agentWallet");
    /// @dev Stored wallet meaning "no wallet". No key signs for it and no contract lives there,
    /// so `setAgentWallet` can never store it as a real wallet.
    address private constant _CLEARED = address(type(uint160).max);

    uint256 private _lastId;
    mapping(uint256 agentId => mapping(string metadataKey => bytes metadataValue)) private _metadata;
    /// @dev 0: the registering address (never transferred or unset); _CLEARED: none; else the wallet.
    mapping(uint256 agentId => address wallet) private _wallet;

    constructor() ERC721("AgentIdentity", "AGENT") EIP712("ERC8004IdentityRegistry", "1") {}

    // ------------------------------------------------------------------ registration

    /// @inheritdoc IIdentityRegistry
    function register() external returns (uint256 agentId) {
        agentId = _mintAgent("", false);
        _afterMint(agentId);
    }

    /// @inheritdoc IIdentityRegistry
    function register(string calldata agentURI) external returns (uint256 agentId) {
        agentId = _mintAgent(agentURI, true);
        _afterMint(agentId);
    }

    /// @inheritdoc IIdentityRegistry
    function register(string calldata agentURI, MetadataEntry[] calldata metadata) external returns (uint256 agentId) {
        agentId = _mintAgent(agentURI, true);
        // Bounded by the caller's own calldata; nothing else calls this.
        for (uint256 i; i < metadata.length; ++i) {
            MetadataEntry calldata entry = metadata[i];
            _requireNotReserved(entry.metadataKey);
            _metadata[agentId][entry.metadataKey] = entry.metadataValue;
            emit MetadataSet(agentId, entry.metadataKey, entry.metadataKey, entry.metadataValue);
        }
        _afterMint(agentId);
    }

    // ------------------------------------------------------------------ owner / operator writes

    /// @inheritdoc IIdentityRegistry
    function setAgentURI(uint256 agentId, string calldata newURI) external {
        _requireOwnerOrOperator(agentId);
        _setTokenURI(agentId, newURI);
        emit URIUpdated(agentId, newURI, msg.sender);
    }

    /// @inheritdoc IIdentityRegistry
    function setMetadata(uint256 agentId, string memory metadataKey, bytes memory metadataValue) external {
        _requireOwnerOrOperator(agentId);
        _requireNotReserved(metadataKey);
        _metadata[agentId][metadataKey] = metadataValue;
        emit MetadataSet(agentId, metadataKey, metadataKey, metadataValue);
    }

    /// @inheritdoc IIdentityRegistry
    function setAgentWallet(uint256 agentId, address newWallet, uint256 deadline, bytes calldata signature)
        external
    {
        address agentOwner = _requireOwnerOrOperator(agentId);
        if (newWallet == address(0)) revert IdentityRegistryInvalidWallet(newWallet);
        if (block.timestamp > deadline) revert IdentityRegistrySignatureExpired(deadline, block.timestamp);
        uint256 maxDeadline = block.timestamp + _MAX_DEADLINE_DELAY;
        if (deadline > maxDeadline) revert IdentityRegistryDeadlineTooFar(deadline, maxDeadline);

        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(_AGENT_WALLET_SET_TYPEHASH, agentId, newWallet, agentOwner, deadline))
        );
        // Like the reference: ECDSA first (EOAs, also EIP-7702 delegated ones), then ERC-1271.
        // The third return value (the error's argument) is not needed to decide.
        // slither-disable-next-line unused-return
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        if (
            (err != ECDSA.RecoverError.NoError || recovered != newWallet)
                && !SignatureChecker.isValidERC1271SignatureNow(newWallet, digest, signature)
        ) revert IdentityRegistryInvalidWalletSignature(newWallet);

        _wallet[agentId] = newWallet;
        emit MetadataSet(agentId, _AGENT_WALLET_KEY, _AGENT_WALLET_KEY, abi.encodePacked(newWallet));
    }

    /// @inheritdoc IIdentityRegistry
    function unsetAgentWallet(uint256 agentId) external {
        _requireOwnerOrOperator(agentId);
        _clearWallet(agentId);
    }

    // ------------------------------------------------------------------ reads

    /// @inheritdoc IIdentityRegistry
    function getMetadata(uint256 agentId, string memory metadataKey) external view returns (bytes memory) {
        if (keccak256(bytes(metadataKey)) == _AGENT_WALLET_KEY_HASH) {
            address wallet = _walletOf(agentId);
            return wallet == address(0) ? bytes("") : abi.encodePacked(wallet);
        }
        return _metadata[agentId][metadataKey];
    }

    /// @inheritdoc IIdentityRegistry
    function getAgentWallet(uint256 agentId) external view returns (address) {
        return _walletOf(agentId);
    }

    /// @inheritdoc IIdentityRegistry
    function isAuthorizedOrOwner(address spender, uint256 agentId) external view returns (bool) {
        return _isAuthorized(_requireOwned(agentId), spender, agentId);
    }

    /// @inheritdoc IIdentityRegistry
    function getVersion() external pure returns (string memory) {
        return "2.0.0";
    }

    // ------------------------------------------------------------------ internals

    /// @dev Effects of every `register` variant: id, owner, URI and the two events. The
    /// receiver hook (an interaction) is left to `_afterMint`, called last.
    function _mintAgent(string memory agentURI, bool withURI) private returns (uint256 agentId) {
        agentId = _lastId++;
        _mint(msg.sender, agentId);
        if (withURI) _setTokenURI(agentId, agentURI); // emits ERC-4906 MetadataUpdate, as the reference
        emit Registered(agentId, agentURI, msg.sender);
        emit MetadataSet(agentId, _AGENT_WALLET_KEY, _AGENT_WALLET_KEY, abi.encodePacked(msg.sender));
    }

    /// @dev The `_safeMint` receiver check, as the last step of a registration.
    function _afterMint(uint256 agentId) private {
        ERC721Utils.checkOnERC721Received(msg.sender, address(0), msg.sender, agentId, "");
    }

    function _requireOwnerOrOperator(uint256 agentId) private view returns (address agentOwner) {
        agentOwner = _requireOwned(agentId);
        if (!_isAuthorized(agentOwner, msg.sender, agentId)) {
            revert IdentityRegistryNotAuthorized(agentId, msg.sender);
        }
    }

    function _requireNotReserved(string memory metadataKey) private pure {
        if (keccak256(bytes(metadataKey)) == _AGENT_WALLET_KEY_HASH) revert IdentityRegistryReservedKey(metadataKey);
    }

    function _walletOf(uint256 agentId) private view returns (address) {
        address stored = _wallet[agentId];
        if (stored == _CLEARED) return address(0);
        if (stored == address(0)) return _ownerOf(agentId); // never transferred: the registrant
        return stored;
    }

    function _clearWallet(uint256 agentId) private {
        _wallet[agentId] = _CLEARED;
        emit MetadataSet(agentId, _AGENT_WALLET_KEY, _AGENT_WALLET_KEY, "");
    }

    /// @dev Every transfer (not mint or burn) clears the agent wallet, as in the reference,
    /// before the ownership changes.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address) {
        if (to != address(0) && _ownerOf(tokenId) != address(0)) _clearWallet(tokenId);
        return super._update(to, tokenId, auth);
    }
}
