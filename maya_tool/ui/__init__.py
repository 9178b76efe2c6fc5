"""The panel: one Qt widget that runs docked in Maya and standalone.

Only this package imports Qt (through Qt.py, so PySide2 in Maya 2022-2024 and
PySide6 in Maya 2025+ and outside Maya both work). The pieces, from the data
up:

- :mod:`.host`: what the panel asks of its host (Maya or the standalone window).
- :mod:`.controller`: the state and the computations, with signals and no widgets.
- :mod:`.jobrunner`: training jobs as separate processes, re-attached after restarts.
- :mod:`.error_view`, :mod:`.skeleton_view`, :mod:`.jobs_view`: the widgets.
- :mod:`.panel`: :class:`~.panel.Panel` and :func:`~.panel.create_panel`, what
  ``maya_tool.maya.dock`` and ``mocap-ae panel`` build.

Nothing is imported here so that ``import maya_tool.ui.host`` stays cheap.
"""
