"""The frozen ``twin-app`` executable's entry point (PyInstaller, packaging/twin-app.spec).

``multiprocessing.freeze_support()`` comes first: the IFC worker (twin_app.bim.loader.run_in_child) and the
benchmark's pool start with the *spawn* method, which in a frozen program re-runs this very executable with
``--multiprocessing-fork``; freeze_support() turns that run into the worker and never reaches the command line.

In the bundle ``sys.executable`` is this program, not a Python interpreter: the app's tools that start
``sys.executable -m MODULE ...`` or ``sys.executable -c CODE ...`` (the benchmark's load generators and replay run)
get what a Python interpreter would do with them. The app's own command line has no ``-m`` nor ``-c`` option.
"""

import multiprocessing
import sys


def _run_like_python(argv: list[str]) -> bool:
    """Run ``-m MODULE args`` or ``-c CODE args`` as ``python`` would; False for anything else."""
    if len(argv) < 3 or argv[1] not in ("-m", "-c"):
        return False
    if argv[1] == "-m":
        import runpy

        sys.argv = [argv[0], *argv[3:]]  # runpy puts the module's file in sys.argv[0]
        runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
    else:
        sys.argv = ["-c", *argv[3:]]
        exec(compile(argv[2], "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
    return True


if __name__ == "__main__":
    multiprocessing.freeze_support()
    if _run_like_python(sys.argv):
        sys.exit(0)
    from twin_app.cli import main

    sys.exit(main())
