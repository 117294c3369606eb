"""The series configuration (notebooks/series.json), read by the runner and the exporter.

scripts/series.ts reads the same file for the TypeScript side (index page, runner). A part is
one article of the series: its title, article file, blog front matter (categories, tags) and
the folder of its notebooks under notebooks/ ("." for part 1, "part2" for the next).
"""
import functools
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
NOTEBOOKS = os.path.join(os.path.dirname(HERE), "notebooks")
CONFIG = os.path.join(NOTEBOOKS, "series.json")


@functools.lru_cache(maxsize=None)  # read once per process: the runner and exporter ask per page
def load_series(path=CONFIG):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def part_of(source, series=None):
    """The part whose folder holds `source` (a path relative to notebooks/)."""
    series = series or load_series()
    folder = os.path.dirname(source) or "."
    for part in series["parts"]:
        if os.path.normpath(part["notebooks"]) == os.path.normpath(folder):
            return part
    raise ValueError(f"{source}: no part of notebooks/series.json has its notebooks in {folder!r}")


def output_stem(source, series=None):
    """Name of a notebook's outputs (executed copy, page, post): its file name, prefixed by
    its part's folder for parts outside notebooks/ itself, so that parts cannot collide."""
    part = part_of(source, series)
    stem = os.path.splitext(os.path.basename(source))[0]
    folder = os.path.normpath(part["notebooks"])
    return stem if folder == "." else folder.replace(os.sep, "-") + "-" + stem
