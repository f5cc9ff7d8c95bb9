"""Talking to one chain: a synchronous web3.py client (:mod:`.client`), the agents' async JSON-RPC
client (:mod:`.rpc`), event following with a persisted cursor (:mod:`.events`), the compiled
contracts (:mod:`.artifacts`) and the typed Python mirror of every contract enum and struct
(:mod:`.types`)."""
