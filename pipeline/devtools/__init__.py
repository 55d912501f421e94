"""Developer tools: the sample-round generator (`python -m pipeline sample`) and the benchmark (`make bench`).

Not pipeline code: the rerun manifest's code digest leaves this folder out (paths.DEVTOOLS), so editing them
reruns no round. Nothing in the pipeline's stages imports from here.
"""
