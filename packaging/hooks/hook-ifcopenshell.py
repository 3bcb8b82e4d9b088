"""PyInstaller hook for ifcopenshell (pyinstaller-hooks-contrib has none).

ifcopenshell's C++ core finds its schema parsers, geometry mappings and geometry kernels at run time:
libifcopenshell.plugin.so lists the folder it lives in and dlopen()s every ``ifcopenshell_*.so`` there. Nothing
imports those plugins, so PyInstaller's dependency analysis cannot see them: they are collected here, into the
bundle's ``ifcopenshell/`` folder beside the plugin loader, together with the libraries they need.

Left out (the app never uses them, about 65 MB): the exporters to COLLADA, glTF, SVG, STEP and IGES and their
libraries, the WebGPU runtime, and the CGAL kernels (the app tessellates with the default OpenCASCADE kernel).
The schema data (``util/*.json``, ``util/schema/*.json``) is collected; the EXPRESS parser and rule modules
(``ifcopenshell.express``: custom schemas, rule checking), the test fixtures and the MVD examples are not.
On Linux the loader is reached through a top-level link; packaging/twin-app.spec links the plugins there too.
"""

import glob
import os

from PyInstaller.utils.hooks import collect_data_files, collect_submodules, get_package_paths

# Plugins (and the libraries only they need) that the app never loads. A plugin left out is simply not found by the
# loader's folder scan; a library left out that something kept still needs is put back by PyInstaller's own
# dependency analysis of the kept plugins.
_UNUSED = (
    "ifcopenshell_geometry_dae",  # COLLADA export
    "ifcopenshell_geometry_glb",  # glTF export
    "ifcopenshell_geometry_svg",  # SVG drawings (svg and svgfill)
    "ifcopenshell_geometry_stp",  # STEP export
    "ifcopenshell_geometry_igs",  # IGES export
    "ifcopenshell_geometry_obj",  # OBJ export
    "ifcopenshell_geometry_ttl",  # RDF export
    "ifcopenshell_geometry_kernel_cgal",  # CGAL kernels (cgal and cgalsimple): not the default kernel
    "libOpenCOLLADA",
    "libGeneratedSaxParser",
    "libMathMLSolver",
    "libUTF",
    "libbuffer",
    "libftoa",
    "libwgpu_native",
    "libTKDESTEP",
    "libTKDEIGES",
    "libgmp",
    "libmpfr",
)


def _kept(name: str) -> bool:
    return not name.startswith(_UNUSED)


_, _PACKAGE_DIR = get_package_paths("ifcopenshell")
_LIBRARIES = ("*.so", "*.so.*", "*.dll", "*.dylib")

# Every shared library of the package folder, the plugins included (collect_dynamic_libs() matches lib*.so only and
# would miss ifcopenshell_*.so); the Python extension module itself is found by the ordinary import analysis.
binaries = sorted(
    (path, "ifcopenshell")
    for pattern in _LIBRARIES
    for path in glob.glob(os.path.join(_PACKAGE_DIR, pattern))
    if _kept(os.path.basename(path)) and not os.path.basename(path).startswith("_ifcopenshell_wrapper")
)
datas = collect_data_files(
    "ifcopenshell",
    excludes=["**/simple_spf/**", "**/mvd/**", "**/express/**", "**/*.pyi", *(f"**/{p}" for p in _LIBRARIES)],
)
# ifcopenshell.api.run() and several use cases import their sibling use cases by name.
hiddenimports = collect_submodules("ifcopenshell.api")
