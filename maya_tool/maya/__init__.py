"""Maya glue: the only package (with ``plug-ins/``) that imports ``maya``.

- :mod:`.scene`: build a rig from a skeleton, wire it to a csvToMat node,
  compare two rigs, bake to keys, export a skeleton's animation to CSV.
- :mod:`.dock`: the panel as a dockable ``workspaceControl``.
- :mod:`.shelf`: the shelf button that opens it.
- :mod:`.install`: register the module, install missing dependencies with
  this Maya's mayapy, load the plug-in, add the shelf button; and undo it.

Nothing is imported here, so ``import maya_tool.maya.install`` from the
drag-and-drop installer does not pull in the rest.
"""
