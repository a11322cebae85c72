"""The synthetic sample region (Hulunbuir, Inner Mongolia): a deterministic generator
(`python -m sample_network.generate`) and the files it writes to `sample_network/data/`, which
`rehab-net load-sample` reads. A real city replaces the files with its own (docs/import-format.md).
"""
