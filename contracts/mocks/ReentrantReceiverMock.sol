// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {IAgentRoles} from "../../interfaces/IAgentRoles.sol";
import {IIdentityRegistry} from "../../interfaces/IIdentityRegistry.sol";

/// @title ReentrantReceiverMock
/// @notice Test-only agent owner / treasury admin whose `receive` re-enters AgentRoles once
/// (withdraw or withdrawTreasury) and records how the re-entry ended.
contract ReentrantReceiverMock is IERC721Receiver {
    enum Attack {
        None,
        Withdraw,
        WithdrawTreasury
    }

    IAgentRoles public roles;
    uint256 public agentId;
    bytes32 public role;
    Attack public attack;
    bool public reentered;
    bytes public reentryError;
    uint256 public received;

    /// @notice Point the mock at `roles_`.
    function setRoles(IAgentRoles roles_) external {
        roles = roles_;
    }

    /// @notice Register an agent owned by this contract.
    function registerAgent(IIdentityRegistry identity) external returns (uint256 id) {
        id = identity.register();
        agentId = id;
    }

    /// @notice Bond `msg.value` for `role_` as the agent's owner.
    function bond(bytes32 role_) external payable {
        role = role_;
        roles.bond{value: msg.value}(agentId, role_);
    }

    /// @notice Start unbonding `amount`.
    function requestUnbond(uint256 amount) external {
        roles.requestUnbond(agentId, role, amount);
    }

    /// @notice Withdraw matured unbonding to this contract.
    function withdraw() external {
        roles.withdraw(agentId, role, payable(address(this)));
    }

    /// @notice Pull the treasury to this contract (the mock must hold DEFAULT_ADMIN_ROLE).
    function withdrawTreasury() external {
        roles.withdrawTreasury(payable(address(this)));
    }

    /// @notice Choose what `receive` re-enters.
    function setAttack(Attack attack_) external {
        attack = attack_;
    }

    receive() external payable {
        received += msg.value;
        if (attack == Attack.None || reentered) return;
        reentered = true;
        if (attack == Attack.Withdraw) {
            try roles.withdraw(agentId, role, payable(address(this))) {} catch (bytes memory err) {
                reentryError = err;
            }
        } else {
            try roles.withdrawTreasury(payable(address(this))) {} catch (bytes memory err) {
                reentryError = err;
            }
        }
    }

    /// @inheritdoc IERC721Receiver
    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return IERC721Receiver.onERC721Received.selector;
    }
}
