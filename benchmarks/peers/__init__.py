"""The peers flowmatch is measured against, each given the same rules or graphs as flowmatch.

``rules``: the packaged situations re-expressed for rule-engine and business-rules, generated from
situations.yaml so they cannot drift; ``cpm``: critical-path scheduling with networkx, in plain
Python and with the ``criticalpath`` package.
"""
