"""Fake ``maya`` package for the tests: only what the project uses, with Maya's semantics.

Nothing here is imported unless a Maya test puts ``tests/fake_maya/site`` on
``sys.path`` through the ``fake_maya`` fixture (see ``tests/fake_maya/__init__.py``).
"""
