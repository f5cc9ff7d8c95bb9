"""``accord dashboard``: a local web page with runs, their step graphs, agents and cross-chain
messages, read from the chains and updated live (see :mod:`accord.dashboard.server`).

The page's script (``web/main.js``, with cytoscape and cytoscape-dagre from npm) is bundled by
esbuild into ``static/app.js`` at build time (``make setup``); it loads nothing from the
internet.
"""
