"""Workflows: the YAML compiler (:mod:`.compiler`), defining and starting runs (:mod:`.runs`), the
off-chain catalog of step names (:mod:`.catalog`), a run's status rows (:mod:`.status`), where a
remote step came from (:mod:`.origin`) and why it is stuck (:mod:`.stuck`)."""
