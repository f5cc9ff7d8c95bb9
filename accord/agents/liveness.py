"""Liveness: every agent's ``AgentRoles.heartbeat`` before its liveness window ends (a claim
or vote needs a recent one), and a fresh look at what its bond backs."""

from __future__ import annotations

import asyncio

from accord.agents.state import GAS, Agent, log
from accord.chain.rpc import Abi, AsyncChain
from accord.errors import AccordError, ChainError


class Liveness:
    """Keeps this host's agents live on AgentRoles."""

    def __init__(self, chain: AsyncChain, agents: list[Agent], interval_s: float) -> None:
        self.chain = chain
        self.agents = agents
        self.interval_s = interval_s
        self.roles = ""  # AgentRoles' address (read when the host starts)
        self._abi = Abi("AgentRoles")

    async def loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.once_logged()

    async def once_logged(self) -> None:
        """:meth:`once`, a failure logged (the next round tries again)."""
        try:
            await self.once()
        except (ChainError, AccordError) as exc:  # e.g. an agent that never bonded
            log.warning("liveness heartbeat failed: %s", exc)

    async def once(self) -> None:
        """Send AgentRoles.heartbeat for agents whose liveness ends within 2 x interval;
        forget what a claim refused for lack of bond taught (the bond may have grown)."""
        now = await self.chain.block_timestamp()
        for agent in self.agents:
            agent.bond_cap = None
            (until,) = self._abi.decode("liveUntil", await self.chain.call(
                self.roles, self._abi.encode("liveUntil", agent.agent_id)))
            if until - now < 2 * self.interval_s + 60:
                await self.chain.transact(agent.operator, self.roles,
                                          self._abi.encode("heartbeat", agent.agent_id),
                                          gas=GAS["heartbeat"])
