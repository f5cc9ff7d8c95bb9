"""Agent runtime: agents claim ready workflow steps, run handlers, submit commitments.

Heavy imports stay in the submodules (``runtime``, ``events``, ``rpc``)."""

from __future__ import annotations

from accord.agents.handlers import StepInput, StepOutput, ValidationInput, Verdict

__all__ = ["StepInput", "StepOutput", "ValidationInput", "Verdict"]
