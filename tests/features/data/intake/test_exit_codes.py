"""Command lines refuse bad input with one line: exit 2 for bad parameters, 1 for bad data,
and nothing is written on refusal; raw files are never changed."""

from __future__ import annotations

import hashlib

from features.data.validate import main as validate_main
from features.table.processed import main as processed_main


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def _truncate_events(raw):
    events = raw / "events.parquet"
    events.write_bytes(events.read_bytes()[:200])


def test_validate_exit_codes(tmp_path, capsys, raw_dataset):
    a_file = tmp_path / "not_a_folder.csv"
    a_file.write_text("customer_id,ts\n")
    assert validate_main([str(a_file)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {a_file}: not a dataset folder"
    (raw_dataset / "manifest.json").unlink()  # the tiny fixture's manifest has no window
    _truncate_events(raw_dataset)
    before = _digests(raw_dataset)
    assert validate_main([str(raw_dataset)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith("events: readable: events.parquet:") for line in out)
    assert _digests(raw_dataset) == before


def test_processed_refuses_bad_data_with_1_and_writes_nothing(tmp_path, capsys, raw_dataset):
    _truncate_events(raw_dataset)
    before = _digests(raw_dataset)
    out = tmp_path / "processed"
    code = processed_main([str(raw_dataset), "--min-class-count", "2", "--out-root", str(out)])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "events.parquet: cannot be read as Parquet" in err[0]
    assert not out.exists() or not any(out.rglob("*.parquet"))
    assert _digests(raw_dataset) == before


def test_processed_refuses_bad_parameters_with_2(tmp_path, capsys, raw_dataset):
    out = tmp_path / "processed"
    assert processed_main([str(tmp_path / "absent"), "--out-root", str(out)]) == 2
    assert processed_main([str(raw_dataset), "--cutoff", "someday", "--out-root", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith("error: parameter dataset_dir")
    assert not out.exists()
