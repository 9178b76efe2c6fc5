"""mocap-ae: autoencoders that compress and denoise motion capture.

The package is a Maya-free core (data model, IO, models, evaluation, jobs) with
two thin hosts on top: the Qt panel in ``maya_tool.ui`` and the Maya glue in
``maya_tool.maya``. Nothing imported from here pulls in Qt, Maya or TensorFlow.
"""

__version__ = "0.1.0"
