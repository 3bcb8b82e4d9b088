"""Load (and first generate) a model off the GUI thread, reporting progress through queued signals."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal

from twin_app.bim.district_cache import ensure_district
from twin_app.bim.loader import LoadResult, load_model
from twin_app.core.devices import DeviceIndex
from twin_app.core.errors import CancelledError, InputError
from twin_app.core.registry import read_registry


class ModelLoader(QObject):
    """Runs in a worker thread; the signals cross to the GUI thread queued.

    Parameters
    ----------
    ifc_path
        The IFC file; None generates (or reuses) the Mumianling district.
    district_args
        towers, seed and storeys of the generated district.
    """

    progress = Signal(float, str)
    loaded = Signal(object, object, str)  # LoadResult, DeviceIndex or None, registry problem ("" when none)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, ifc_path: Path | None, district_args: dict, registry: Path | None = None) -> None:
        super().__init__()
        self._cancel = False
        self.ifc_path = ifc_path
        self.district_args = district_args
        self.registry = registry

    def cancel(self) -> None:
        """Stop at the next progress report (any thread): the worker process is killed, `cancelled` is emitted."""
        self._cancel = True

    def _report(self, fraction: float, message: str) -> None:
        if self._cancel:
            raise CancelledError(message)
        self.progress.emit(fraction, message)

    def run(self) -> None:
        """Generate when needed, then load; emits `loaded`, `failed` or `cancelled` once."""
        try:
            path = self.ifc_path
            registry: Path | None = None
            if path is None:
                generated = ensure_district(progress=lambda f, m: self._report(0.4 * f, m),
                                            isolated=True, **self.district_args)
                path, registry = generated.ifc_path, generated.registry_path
                base, span = 0.4, 0.6
            else:
                candidate = path.with_name("devices.parquet")
                registry = candidate if candidate.is_file() else None
                base, span = 0.0, 1.0
            result: LoadResult = load_model(path, progress=lambda f, m: self._report(base + span * 0.9 * f, m))
            registry = self.registry or registry
            index, problem = None, ""
            if registry is not None:
                self.progress.emit(base + span * 0.95,
                                   QCoreApplication.translate("ModelLoader", "Reading the device registry"))
                try:
                    index = DeviceIndex(read_registry(registry), result.model)
                except InputError as exc:  # the model stays usable without its devices
                    problem = str(exc)
            if self._cancel:
                raise CancelledError("loaded")
            self.loaded.emit(result, index, problem)
        except CancelledError:
            self.cancelled.emit()
        except InputError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # the window must survive anything a load throws
            where = self.ifc_path or QCoreApplication.translate("ModelLoader", "generated district")
            self.failed.emit(f"{where}: {type(exc).__name__}: {exc}")


def start_loader(loader: ModelLoader) -> QThread:
    """Move `loader` to a new thread and start it; the thread quits when the loader is done."""
    thread = QThread()
    loader.moveToThread(thread)
    thread.started.connect(loader.run)
    loader.loaded.connect(thread.quit)
    loader.failed.connect(thread.quit)
    loader.cancelled.connect(thread.quit)
    thread.start()
    return thread
