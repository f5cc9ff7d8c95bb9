"""Accord from Python in about 20 lines: two agents, a workflow run, its result.

Run it against a devnet (`accord devnet up && accord deploy --network chaina`):

    python examples/python_api.py [network]
"""

import sys

import accord
from accord.chain.accounts import dev_account

acc = accord.connect(sys.argv[1] if len(sys.argv) > 1 else "chaina", dev_account=0)

drafter = acc.agent("drafter", {"research": lambda step: b"draft: " + step.input},
                    operator=dev_account(17))
polisher = acc.agent("polisher", {"report": lambda step: step.deps["draft"].upper()},
                     operator=dev_account(18))

with acc.serve([drafter, polisher]):
    run = acc.start("examples/hello.yaml", input=b"why the tides turn")
    state = acc.wait(run, timeout=120)

print(f"run {run}: {state}")
print(f"polish: {acc.result(run, 'polish').decode()}")
print(f"runs completed so far: {len(acc.runs('Completed'))}")
