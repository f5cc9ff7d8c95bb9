// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IIdentityRegistry
/// @notice ERC-8004 Identity Registry: every agent is an ERC-721 token ("AgentIdentity",
/// "AGENT") whose id (`agentId`, from 0) is its on-chain identifier, with a URI pointing at
/// the agent's registration file and free-form key/value metadata.
/// @dev Behaves like erc-8004/erc-8004-contracts v2.0.0 `IdentityRegistryUpgradeable`, except
/// that reverts carry the typed errors below instead of require strings. The key
/// `agentWallet` is reserved: it starts as the registering address, changes only through
/// `setAgentWallet` (an EIP-712 signature by the new wallet, domain "ERC8004IdentityRegistry"
/// version "1", type `AgentWalletSet(uint256 agentId,address newWallet,address owner,uint256 deadline)`),
/// and is cleared by `unsetAgentWallet` and by every transfer.
interface IIdentityRegistry {
    /// @notice One metadata key/value pair given at registration.
    struct MetadataEntry {
        string metadataKey;
        bytes metadataValue;
    }

    // ---------------------------------------------------------------- errors
    /// @notice `caller` is neither the owner of `agentId`, approved for it, nor an operator of
    /// its owner (reference: "Not authorized").
    error IdentityRegistryNotAuthorized(uint256 agentId, address caller);
    /// @notice `agentWallet` cannot be written as ordinary metadata (reference: "reserved key").
    error IdentityRegistryReservedKey(string metadataKey);
    /// @notice The new agent wallet is the zero address (reference: "bad wallet").
    error IdentityRegistryInvalidWallet(address newWallet);
    /// @notice The signature's `deadline` is before the block time `nowTs` (reference: "expired").
    error IdentityRegistrySignatureExpired(uint256 deadline, uint256 nowTs);
    /// @notice `deadline` is later than `maxDeadline` = now + 5 minutes (reference: "deadline too far").
    error IdentityRegistryDeadlineTooFar(uint256 deadline, uint256 maxDeadline);
    /// @notice The signature is not `newWallet`'s, by ECDSA or ERC-1271 (reference: "invalid wallet sig").
    error IdentityRegistryInvalidWalletSignature(address newWallet);

    // ---------------------------------------------------------------- events
    /// @notice `agentId` was minted to `owner` with `agentURI` (empty for `register()`).
    event Registered(uint256 indexed agentId, string agentURI, address indexed owner);
    /// @notice Metadata `metadataKey` of `agentId` is now `metadataValue` (empty when cleared).
    event MetadataSet(
        uint256 indexed agentId, string indexed indexedMetadataKey, string metadataKey, bytes metadataValue
    );
    /// @notice The URI of `agentId` is now `newURI`, set by `updatedBy`.
    event URIUpdated(uint256 indexed agentId, string newURI, address indexed updatedBy);

    // ---------------------------------------------------------------- registration
    /// @notice Mint the next agentId to the caller, with no URI. The agent wallet starts as the caller.
    function register() external returns (uint256 agentId);

    /// @notice Mint the next agentId to the caller with `agentURI`.
    function register(string calldata agentURI) external returns (uint256 agentId);

    /// @notice Mint the next agentId to the caller with `agentURI` and `metadata` (which must not
    /// contain the reserved key `agentWallet`).
    function register(string calldata agentURI, MetadataEntry[] calldata metadata) external returns (uint256 agentId);

    // ---------------------------------------------------------------- owner / operator writes
    /// @notice Replace the URI of `agentId`. Owner, approved address or operator only.
    function setAgentURI(uint256 agentId, string calldata newURI) external;

    /// @notice Set metadata `metadataKey` (not `agentWallet`) of `agentId`. Owner, approved or operator only.
    function setMetadata(uint256 agentId, string memory metadataKey, bytes memory metadataValue) external;

    /// @notice Set the agent wallet to `newWallet`, proven by `newWallet`'s EIP-712 signature
    /// (ECDSA, or ERC-1271 for contract wallets) over
    /// `AgentWalletSet(agentId, newWallet, ownerOf(agentId), deadline)`. The deadline must not
    /// have passed and be at most 5 minutes ahead. Owner, approved or operator only.
    function setAgentWallet(uint256 agentId, address newWallet, uint256 deadline, bytes calldata signature)
        external;

    /// @notice Clear the agent wallet of `agentId`. Owner, approved or operator only.
    function unsetAgentWallet(uint256 agentId) external;

    // ---------------------------------------------------------------- reads
    /// @notice Metadata `metadataKey` of `agentId` (empty when unset). For `agentWallet`: the
    /// 20-byte packed wallet address, or empty when cleared.
    function getMetadata(uint256 agentId, string memory metadataKey) external view returns (bytes memory);

    /// @notice The agent wallet of `agentId`; zero when cleared or when the agent does not exist.
    function getAgentWallet(uint256 agentId) external view returns (address);

    /// @notice True when `spender` is the owner of `agentId`, approved for it, or an operator of
    /// its owner. Reverts with ERC721NonexistentToken for unknown agents.
    function isAuthorizedOrOwner(address spender, uint256 agentId) external view returns (bool);

    /// @notice The reference behaviour this registry matches ("2.0.0").
    function getVersion() external pure returns (string memory);
}
