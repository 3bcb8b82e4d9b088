"""The twin-app bundle's ``vtk`` module (packaging/twin-app.spec puts it in place of VTK's own ``vtk.py``).

VTK's ``vtk`` module imports every one of VTK's ~150 modules (about 550 MB of libraries in a bundle); the app uses a
handful of classes through it (``vtk.vtkPolyData``, ``vtk.vtkActor``...). This module offers the same names from the
VTK modules the app and pyvista use, and registers the same OpenGL, FreeType and interaction implementations:
``vtk.vtkPolyDataMapper()`` and ``vtk.vtkTextRenderer()`` make the working classes, as with VTK's module.

tests/packaging/test_vtk_shim.py checks that every ``vtk.NAME`` in twin_app resolves here; a name that does not (a
class from another VTK module) fails that test, and in the bundle raises an AttributeError that says what to do.
"""

from vtkmodules.vtkCommonColor import *  # noqa: F403
from vtkmodules.vtkCommonCore import *  # noqa: F403
from vtkmodules.vtkCommonDataModel import *  # noqa: F403
from vtkmodules.vtkCommonExecutionModel import *  # noqa: F403
from vtkmodules.vtkCommonMath import *  # noqa: F403
from vtkmodules.vtkCommonTransforms import *  # noqa: F403
from vtkmodules.vtkFiltersCore import *  # noqa: F403
from vtkmodules.vtkFiltersGeneral import *  # noqa: F403
from vtkmodules.vtkFiltersSources import *  # noqa: F403
from vtkmodules.vtkInteractionStyle import *  # noqa: F403
from vtkmodules.vtkRenderingAnnotation import *  # noqa: F403
from vtkmodules.vtkRenderingCore import *  # noqa: F403
from vtkmodules.vtkRenderingFreeType import *  # noqa: F403
from vtkmodules.vtkRenderingOpenGL2 import *  # noqa: F403

BUNDLE_SHIM = True  # how a check tells this module from VTK's


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(
        f"module 'vtk' has no attribute {name!r}: the twin-app bundle's vtk (packaging/shims/vtk.py) offers the "
        "classes of the VTK modules it imports; import the class from its vtkmodules module, or add the module there"
    )
