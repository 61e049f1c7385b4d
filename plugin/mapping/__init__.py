"""The mapper: reverse-mentoring activity as explainable succession-competency evidence.

:mod:`.model` holds a parsed mapping file; the file reader, the evidence engine and its
explanations live beside it.
"""
