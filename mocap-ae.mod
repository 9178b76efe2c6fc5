+ MAYAVERSION:2024 PLATFORM:win64 mocap-ae 0.1.0 .
PYTHONPATH+:=.
PYTHONPATH+:=site-packages/2024
MAYA_PLUG_IN_PATH+:=plug-ins
XBMLANGPATH+:=resources

+ MAYAVERSION:2024 PLATFORM:mac mocap-ae 0.1.0 .
PYTHONPATH+:=.
PYTHONPATH+:=site-packages/2024
MAYA_PLUG_IN_PATH+:=plug-ins
XBMLANGPATH+:=resources

+ MAYAVERSION:2024 PLATFORM:linux mocap-ae 0.1.0 .
PYTHONPATH+:=.
PYTHONPATH+:=site-packages/2024
MAYA_PLUG_IN_PATH+:=plug-ins
XBMLANGPATH+:=resources/%B

+ MAYAVERSION:2025 PLATFORM:win64 mocap-ae 0.1.0 .
PYTHONPATH+:=.
PYTHONPATH+:=site-packages/2025
MAYA_PLUG_IN_PATH+:=plug-ins
XBMLANGPATH+:=resources

+ MAYAVERSION:2025 PLATFORM:mac mocap-ae 0.1.0 .
PYTHONPATH+:=.
PYTHONPATH+:=site-packages/2025
MAYA_PLUG_IN_PATH+:=plug-ins
XBMLANGPATH+:=resources

+ MAYAVERSION:2025 PLATFORM:linux mocap-ae 0.1.0 .
PYTHONPATH+:=.
PYTHONPATH+:=site-packages/2025
MAYA_PLUG_IN_PATH+:=plug-ins
XBMLANGPATH+:=resources/%B

+ MAYAVERSION:2026 PLATFORM:win64 mocap-ae 0.1.0 .
PYTHONPATH+:=.
PYTHONPATH+:=site-packages/2026
MAYA_PLUG_IN_PATH+:=plug-ins
XBMLANGPATH+:=resources

+ MAYAVERSION:2026 PLATFORM:mac mocap-ae 0.1.0 .
PYTHONPATH+:=.
PYTHONPATH+:=site-packages/2026
MAYA_PLUG_IN_PATH+:=plug-ins
XBMLANGPATH+:=resources

+ MAYAVERSION:2026 PLATFORM:linux mocap-ae 0.1.0 .
PYTHONPATH+:=.
PYTHONPATH+:=site-packages/2026
MAYA_PLUG_IN_PATH+:=plug-ins
XBMLANGPATH+:=resources/%B
