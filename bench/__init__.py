"""Benchmarks. Run them as modules from the repository root, e.g. ``python -m bench.masks``.

Running ``python bench/select.py`` directly would put ``bench/`` first on ``sys.path``, where
``select.py`` shadows the standard library's ``select`` module; ``-m`` avoids that.
"""
