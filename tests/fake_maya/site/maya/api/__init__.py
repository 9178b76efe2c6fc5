"""Fake ``maya.api``: the OpenMaya 2.0 subset the csvToMat plug-in uses."""
