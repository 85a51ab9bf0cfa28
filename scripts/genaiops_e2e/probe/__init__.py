"""``python -m genaiops_e2e.probe``: what the chainsaw scenarios do and check from the host.

The commands are listed in ``__main__``; each module holds one side of the cluster.
"""
