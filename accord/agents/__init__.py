"""Agent runtime: agents claim ready workflow steps, run handlers, submit commitments.

The host (:mod:`accord.agents.host`) composes scheduling, execution, judging (its judges'
votes signed with :mod:`accord.agents.ballots`) and liveness; heavy imports stay in those
submodules, so importing the handler types is cheap."""

from __future__ import annotations

from accord.agents.handlers import StepInput, StepOutput, ValidationInput, Verdict

__all__ = ["StepInput", "StepOutput", "ValidationInput", "Verdict"]
