"""Serve Plotly.js straight from the plotly package, so charts work offline (no CDN)."""

from importlib.util import find_spec
from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

# Located without importing plotly (its import loads far more than this one file needs).
PLOTLY_DIR = Path(find_spec("plotly").origin).parent / "package_data"
NAME = "plotly.min.js"
PREFIX = "vendor"


class PlotlyFinder(BaseFinder):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(PLOTLY_DIR))
        self.storage.prefix = PREFIX

    def check(self, **kwargs):
        return []

    def find(self, path: str, find_all: bool = False, **kwargs):
        if path == f"{PREFIX}/{NAME}":
            found = str(PLOTLY_DIR / NAME)
            return [found] if find_all else found
        return [] if find_all else None

    def list(self, ignore_patterns):
        yield NAME, self.storage
