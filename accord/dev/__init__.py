"""Local development: named anvil devnets and forks (:mod:`.devnet`), the service supervisor
(:mod:`.supervisor`) and the demo (:mod:`.demo`)."""
