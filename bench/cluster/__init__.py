"""``python -m bench.cluster``: what sharing sessions between processes costs and gains.

See ``README.md`` beside this file for what runs and how to read the figures.
"""
