"""Hostile data files and recorded outputs."""

from __future__ import annotations

from pathlib import Path

from tests.hostile.judge import Case, Error, Ok
from tests.hostile.make import ROWS, VALIDATE, files, jsonl, metric, printed, prompts, recorded, replay, samples, task
from tests.hostile.runner import Outcome

DEEP = 100_000
CSV_TASK = task("data.csv", choices="choices:\n  fields: [A, B, C, D]", groups="groups: []")
CSV_RECORDED = recorded({"q1": "A", "q2": "B"})


def _csv(*rows: str) -> dict[str, str]:
    return {"task.yaml": CSV_TASK, "data.csv": "id,question,A,B,C,D,answer\n" + "".join(r + "\n" for r in rows),
            "recorded.jsonl": CSV_RECORDED}


def _options_kept(d: Path, o: Outcome) -> str | None:
    shown = prompts(d)
    kept = all(f"{label}. {text}\n" in shown for label, text in (("A", "1.50"), ("B", "1.5"), ("C", "00501"),
                                                                   ("D", "501")))
    return None if kept else f"options not shown as written: {shown[:300]!r}"


def _ids_kept(d: Path, o: Outcome) -> str | None:
    ids = sorted(s["item_id"] for s in samples(d))
    return None if ids == ["007", "7"] else f"item ids {ids}"


def _na_kept(d: Path, o: Outcome) -> str | None:
    shown = prompts(d)
    return None if "A. None\n" in shown and "B. NA\n" in shown and "C. null\n" in shown else f"{shown[:300]!r}"


def _two_thirds(d: Path, o: Outcome) -> str | None:
    got = metric(d, "accuracy")
    return None if abs(got - 2 / 3) < 1e-9 else f"accuracy {got:.4f}, expected 0.6667 (each item its own output)"


SAME = [{"id": "q1", "question": "Same?", "choices": ["w", "x", "y", "z"], "answer": "A", "domain": "d"},
        {"id": "q2", "question": "Same?", "choices": ["w", "x", "y", "z"], "answer": "B", "domain": "d"},
        {"id": "q3", "question": "Other?", "choices": ["w", "x", "y", "z"], "answer": "C", "domain": "d"}]

DATA = [
    Case("jsonl_objects_nested_100000_deep", "data", (VALIDATE,),  # pyarrow segfaulted: exit 139, no word
         Error("data.jsonl: line 1: JSON nested deeper than 500"),
         files=files() | {"data.jsonl": '{"id": "q9", "question": "Q?", "x": ' + '{"a": ' * DEEP + "1" + "}" * DEEP
                          + "}\n" + jsonl(ROWS)}),
    Case("jsonl_lists_nested_100000_deep", "data", (VALIDATE,),
         Error("data.jsonl: line 2: JSON nested deeper than 500"),
         files=files() | {"data.jsonl": jsonl(ROWS[:1]) + '{"id": "q9", "question": ' + "[" * DEEP + "]" * DEEP
                          + "}\n"}),
    Case("json_nested_across_lines", "data", (VALIDATE,), Error("data.json: line 501: JSON nested deeper than 500"),
         files={"task.yaml": task("data.json"), "data.json": "[\n" * 20000 + "]\n" * 20000}),
    Case("brackets_inside_a_string", "data", (VALIDATE,), Ok(printed("(tiny, 3 items)")),
         files=files(rows=[{**ROWS[0], "question": "[" * DEEP + "?"}, *ROWS[1:]])),
    Case("jsonl_line_not_json", "data", (VALIDATE,), Error("data.jsonl: line 2: not JSON (Expecting property name"),
         files=files() | {"data.jsonl": jsonl(ROWS[:1]) + "{not json\n"}),
    Case("json_document_cut_short", "data", (VALIDATE,), Error("data.json: line 4: not JSON (Expecting ':' delimiter)"),
         files={"task.yaml": task("data.json"), "data.json": "[\n" + jsonl(ROWS[:1]).replace("\n", ",\n") + '{"id"\n'}),
    Case("duplicate_item_id", "data", (VALIDATE,), Error("row 2: duplicate item id 'q1' (first at row 1)"),
         files=files(rows=[ROWS[0], {**ROWS[1], "id": "q1"}])),
    Case("empty_item_id", "data", (VALIDATE,), Error("field 'id': row 2: the item id is empty"),
         files=files(rows=[ROWS[0], {**ROWS[1], "id": " "}])),
    Case("question_is_a_list", "data", (VALIDATE,), Error("field 'question': row 1: question must be non-empty text"),
         files=files(rows=[{**ROWS[0], "question": ["a"]}])),
    Case("csv_options_keep_their_digits", "data", (replay(),),
         Ok(_options_kept), files=_csv("q1,Which?,1.50,1.5,00501,501,A", "q2,Other?,a,b,c,d,B")),
    Case("csv_ids_007_and_7", "data", (replay(),), Ok(_ids_kept),
         files=_csv("007,Which?,a,b,c,d,A", "7,Other?,a,b,c,d,B") | {"recorded.jsonl": recorded({"007": "A",
                                                                                                "7": "B"})}),
    Case("csv_none_and_na_are_text", "data", (replay(),), Ok(_na_kept),
         files=_csv("q1,Which?,None,NA,null,d,A", "q2,Other?,a,b,c,d,B")),
    Case("csv_empty_option", "data", (VALIDATE,), Error("field 'A,B,C,D': row 1: an option text is empty"),
         files=_csv("q1,Which?,,b,c,d,A")),
    Case("csv_index_target_as_text", "data", (replay(),),
         Ok(lambda d, o: None if [s["target"] for s in samples(d)] == ["C", "A"] else "targets misread"),
         files=_csv("q1,Which?,a,b,c,d,2", "q2,Other?,a,b,c,d,0")
         | {"task.yaml": CSV_TASK.replace("field: answer", "field: answer\n  format: index")}),
]

REPLAY = [
    Case("replay_identical_prompts", "replay", (replay(),), Ok(_two_thirds),
         files={**files(rows=SAME), "recorded.jsonl": recorded({"q1": "A", "q2": "B", "q3": "A"})}),
    Case("replay_id_recorded_twice", "replay", (replay(),),
         Error("recorded.jsonl:2: field 'id': item q1 is recorded twice"),
         files={**files(), "recorded.jsonl": recorded({"q1": "A"}) + recorded({"q1": "B"})}),
    Case("replay_id_as_number_and_text", "replay", (replay(),), Error("item 7 is recorded twice"),
         files={**files(), "recorded.jsonl": '{"id": 7, "output": "A"}\n{"id": "7", "output": "B"}\n'}),
    Case("replay_id_a_float", "replay", (replay(),), Error("recorded.jsonl:1: field 'id': id 1.0 is ambiguous"),
         files={**files(), "recorded.jsonl": '{"id": 1.0, "output": "A"}\n'}),
    Case("replay_missing_item", "replay", (replay(),),
         Error("recorded.jsonl: field 'id': no recorded output for item q3"),
         files={**files(), "recorded.jsonl": recorded({"q1": "A", "q2": "B"})}),
    Case("replay_not_json", "replay", (replay(),), Error("recorded.jsonl:1: not JSON"),
         files={**files(), "recorded.jsonl": "{oops\n"}),
    Case("replay_without_source", "replay", (("run", "{d}/task.yaml", "--model", "replay:", "--no-report"),),
         Error("--model replay: needs a source"), files=files()),
]

CASES = DATA + REPLAY
