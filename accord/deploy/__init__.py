"""Putting Accord on chains: what a command talks to (:mod:`.context`), deployment plans
(:mod:`.plan`) and the whole suite as one (:mod:`.suite`), links between chains (:mod:`.links`)
and the deployment lint (:mod:`.doctor`)."""
