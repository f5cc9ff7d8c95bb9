"""What tests and benchmarks use and the product does not: the JSON-RPC fault proxy
(:mod:`.faultproxy`), the negative-matrix generator and its pytest plugin (:mod:`.negmatrix`,
:mod:`.negmatrix_plugin`) and the Python reference model of the coordinator (:mod:`.model`).
Nothing outside ``accord.testing`` imports it except the CLI (as ``temporalio.testing`` and
``ape_test`` keep theirs apart)."""
