"""The benchmark's generator makes a valid file of the announced size, and its report runs end to end."""

import importlib.util
from pathlib import Path

from piranha import lvscf

BENCH = Path(__file__).resolve().parents[3] / "bench" / "bench_lvscf.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_lvscf", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_file_is_valid_and_sized_as_announced():
    bench = load_bench()
    text = bench.generate(7, 3)
    config = lvscf.loads(text)
    assert config.validate() == [] and config.warnings == []
    assert [len(v.servers) for v in config.virtual_servers] == [3] * 7
    assert text.count("\n") == 11 + 7 * (16 + 3 * 6)
    assert bench.generate(1000, 10).count("\n") > 70_000


def test_report_prints_every_figure(capsys):
    load_bench().main(["--virtual", "20", "--real", "2", "--repeat", "1"])
    out = capsys.readouterr().out
    for label in ("parse", "validate", "render", "x the 0.5 s goal"):
        assert label in out
