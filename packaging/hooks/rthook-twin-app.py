"""Runtime hook of the twin-app bundle: runs inside the frozen program before the app's code.

On Linux, Qt finds fonts through the system's fontconfig. The bundle carries a CJK font in ``_internal/fonts`` with a
``fonts.conf`` that includes the system's configuration and adds that folder: point fontconfig at it (unless the user
chose a configuration of their own), so Chinese shows on a machine without CJK fonts installed.
"""


def _pyi_rthook() -> None:
    import os
    import sys

    if not sys.platform.startswith("linux") or "FONTCONFIG_FILE" in os.environ:
        return
    conf = os.path.join(getattr(sys, "_MEIPASS", ""), "fonts", "fonts.conf")
    if os.path.isfile(conf):
        os.environ["FONTCONFIG_FILE"] = conf


_pyi_rthook()
del _pyi_rthook
