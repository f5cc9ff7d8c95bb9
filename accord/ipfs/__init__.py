"""IPFS for workflow inputs and results: ``ipfs://<CID>`` URIs served by a real IPFS node
(helia, in Node.js: :mod:`accord.ipfs.node` starts ``node.mjs``), so a result stays
reachable from any peer that holds it after the agent that produced it goes offline.

- :mod:`accord.ipfs.cid`: the CIDs Accord writes (CIDv1, raw, sha2-256) from bytes and back.
- :mod:`accord.ipfs.node`: start and stop one node process (the CLI and the tests).
- :mod:`accord.ipfs.store`: the ``ipfs+http://`` result store and the verified fetch.
"""
