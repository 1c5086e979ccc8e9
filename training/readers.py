"""Readers that turn published Korean dialogue/emotion datasets into neutral records.

Each reader handles exactly one on-disk format and returns plain frozen dataclasses, so the
training code never has to know which column a corpus used or how it was encoded. All
readers share the same hygiene rules:

* every text is NFC-normalised (Korean from macOS/HWP exports is often NFD, which makes
  identical-looking strings compare unequal and inflates the tokenizer vocabulary) and
  stripped; rows whose text is empty after that are skipped;
* a file that is not in the expected format raises :class:`DatasetFormatError` naming the
  file and what was expected, instead of a bare ``KeyError`` deep inside a training run.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "AIHUB_TO_PRODUCT",
    "DATASET_FORMATS",
    "IDENTITY_PRODUCT",
    "KOTE_TO_PRODUCT",
    "LABEL_MAPS_DIR",
    "PRODUCT_LABELS",
    "DatasetFormatError",
    "IntentExample",
    "LabeledText",
    "MultiLabelText",
    "QAPair",
    "WellnessData",
    "apply_label_map",
    "kote_to_product",
    "load_dataset",
    "load_label_map",
    "read_aihub_emotion",
    "read_chatbotdata",
    "read_intents_json",
    "read_kote",
    "read_seed_csv",
    "read_text_label",
    "read_wellness",
]

PathLike = str | Path

#: The emotion classes the product's classifier predicts.
PRODUCT_LABELS: tuple[str, ...] = ("일상", "기쁨", "불안", "슬픔", "분노", "우울")

LABEL_MAPS_DIR = Path(__file__).resolve().parent / "label_maps"
AIHUB_TO_PRODUCT = LABEL_MAPS_DIR / "aihub_to_product.json"
KOTE_TO_PRODUCT = LABEL_MAPS_DIR / "kote_to_product.json"
IDENTITY_PRODUCT = LABEL_MAPS_DIR / "identity_product.json"

#: Format names accepted by :func:`load_dataset`.
DATASET_FORMATS: tuple[str, ...] = ("aihub", "seed", "kote", "text")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class LabeledText:
    text: str
    label: str


@dataclass(frozen=True)
class MultiLabelText:
    text: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class QAPair:
    question: str
    answer: str
    label: str | None = None


@dataclass(frozen=True)
class IntentExample:
    text: str
    category: str


@dataclass(frozen=True)
class WellnessData:
    examples: list[IntentExample]
    #: category -> answers, de-duplicated, in file order. Every category seen has a key,
    #: possibly with an empty list, so callers can tell "no answers" from "unknown category".
    answers: dict[str, list[str]]


class DatasetFormatError(ValueError):
    """The file exists but is not in the format the reader expects."""


# --------------------------------------------------------------------------- helpers


def _clean(value: object) -> str:
    """Cell/field value -> stripped NFC string ('' for missing cells)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # Excel stores typed numbers as floats; "3" is what the author typed, not "3.0".
        value = int(value)
    return unicodedata.normalize("NFC", str(value)).strip()


def _missing_columns_error(
    kind: str, path: Path, missing: Sequence[str], found: Sequence[str]
) -> DatasetFormatError:
    cols = ", ".join(f"'{c}'" for c in missing)
    seen = ", ".join(f"'{c}'" for c in found if c) or "없음"
    return DatasetFormatError(f"{kind} 형식이 아닙니다: {cols} 열이 없습니다 ({path}) — 찾은 열: {seen}")


def _decode_text(path: Path, kind: str) -> str:
    """Decode a Korean text file: UTF-8 (BOM optional) first, then CP949.

    Excel on Korean Windows saves CSV as CP949; UTF-8 is tried first because a CP949 file
    practically never decodes as valid UTF-8, while the reverse can silently succeed.
    """
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DatasetFormatError(f"{kind}: 인코딩을 알 수 없습니다 (UTF-8 또는 CP949 필요) ({path})")


@dataclass(frozen=True)
class _Table:
    header: list[str]
    rows: list[dict[str, str]]


def _to_table(raw_rows: Iterable[Sequence[object]]) -> _Table:
    """First non-empty row is the header; remaining rows become dicts of cleaned cells."""
    header: list[str] | None = None
    rows: list[dict[str, str]] = []
    for raw in raw_rows:
        cells = [_clean(c) for c in raw]
        if not any(cells):
            continue
        if header is None:
            header = cells
            continue
        # Short rows (trailing empty cells dropped by the writer) are padded with "".
        row = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header) if name}
        rows.append(row)
    return _Table(header=header or [], rows=rows)


def _read_csv_table(path: Path, kind: str) -> _Table:
    text = _decode_text(path, kind)
    try:
        return _to_table(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise DatasetFormatError(f"{kind}: CSV를 읽을 수 없습니다: {exc} ({path})") from exc


def _read_xlsx_table(path: Path, kind: str) -> _Table:
    try:
        # Imported lazily: openpyxl is only in the "train" extra, and most readers need no Excel.
        from openpyxl import load_workbook
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"{kind} .xlsx 파일을 읽으려면 openpyxl이 필요합니다: pip install 'maeum[train]'"
        ) from exc
    try:
        workbook: Any = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as exc:
        # openpyxl reports a corrupt or non-Excel file through any of these.
        raise DatasetFormatError(f"{kind}: 올바른 .xlsx 파일이 아닙니다 ({path}): {exc}") from exc
    try:
        sheet: Any = workbook.worksheets[0]
        rows: Iterator[Sequence[object]] = sheet.iter_rows(values_only=True)
        return _to_table(rows)
    finally:
        workbook.close()


def _read_table(path: Path, kind: str) -> _Table:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx_table(path, kind)
    return _read_csv_table(path, kind)


def _require(table: _Table, columns: Sequence[str], kind: str, path: Path) -> None:
    missing = [c for c in columns if c not in table.header]
    if missing:
        raise _missing_columns_error(kind, path, missing, table.header)


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --------------------------------------------------------------------------- AI Hub 감성 대화


_AIHUB = "감성 대화 말뭉치"
_AIHUB_LABEL = "감정_대분류"
_AIHUB_TURNS = 4


def read_aihub_emotion(path: PathLike) -> tuple[list[LabeledText], list[QAPair]]:
    """AI Hub 감성 대화 말뭉치 (.xlsx or .csv in UTF-8/UTF-8-BOM/CP949).

    Returns one LabeledText per non-empty 사람문장k (label = 감정_대분류) and one QAPair per
    turn k whose 사람문장k and 시스템문장k (or 시스템응답k, the other published spelling) are
    both non-empty; the pair carries the dialogue's 감정_대분류 as its label. Rows without a
    label still contribute QA pairs (label None) but no LabeledText.
    """
    p = Path(path)
    table = _read_table(p, _AIHUB)
    _require(table, [_AIHUB_LABEL, "사람문장1"], _AIHUB, p)

    turns: list[tuple[str, str | None]] = []
    for k in range(1, _AIHUB_TURNS + 1):
        human = f"사람문장{k}"
        if human not in table.header:
            continue  # some releases have only three turns
        system = next((c for c in (f"시스템문장{k}", f"시스템응답{k}") if c in table.header), None)
        turns.append((human, system))

    texts: list[LabeledText] = []
    pairs: list[QAPair] = []
    for row in table.rows:
        label = row[_AIHUB_LABEL]  # already stripped: real files carry trailing spaces here
        for human_col, system_col in turns:
            human = row[human_col]
            if not human:
                continue
            if label:
                texts.append(LabeledText(human, label))
            answer = row[system_col] if system_col else ""
            if answer:
                pairs.append(QAPair(human, answer, label or None))
    return texts, pairs


# --------------------------------------------------------------------------- small CSVs


def read_seed_csv(path: PathLike) -> list[LabeledText]:
    """The seed project's CSV: ``sentiment,user`` (rows with an empty text or label are skipped)."""
    p = Path(path)
    kind = "seed CSV (sentiment,user)"
    table = _read_csv_table(p, kind)
    _require(table, ["sentiment", "user"], kind, p)
    return [
        LabeledText(row["user"], row["sentiment"]) for row in table.rows if row["user"] and row["sentiment"]
    ]


def read_chatbotdata(path: PathLike) -> list[QAPair]:
    """ChatbotData.csv (``Q,A,label``); the 0/1/2 label is kept as a string."""
    p = Path(path)
    kind = "ChatbotData (Q,A,label)"
    table = _read_csv_table(p, kind)
    _require(table, ["Q", "A", "label"], kind, p)
    return [QAPair(row["Q"], row["A"], row["label"] or None) for row in table.rows if row["Q"] and row["A"]]


# --------------------------------------------------------------------------- KOTE


_KOTE = "KOTE TSV (id<TAB>text<TAB>label ids)"


def _read_kote_labels(path: Path) -> list[str]:
    lines = [_clean(line) for line in _decode_text(path, "KOTE labels.txt").splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    # The file is indexed by line number, so a blank line in the middle would shift every
    # later label; refuse it rather than silently mislabel.
    if not lines or not all(lines):
        raise DatasetFormatError(
            f"KOTE labels.txt 형식이 아닙니다: 한 줄에 레이블 하나가 필요합니다 ({path})"
        )
    return lines


def read_kote(path: PathLike, labels_path: PathLike) -> list[MultiLabelText]:
    """KOTE split file: ``id<TAB>text<TAB>0-based label ids, comma-separated`` (no header).

    The text column is CSV-quoted when it contains quotes (``"..""..""..."``), so the file
    is parsed with the csv module rather than split on tabs. Label ids are resolved against
    labels.txt (one label per line). Duplicated ids collapse; file order is kept.
    """
    p = Path(path)
    names = _read_kote_labels(Path(labels_path))
    text = _decode_text(p, _KOTE)
    records: list[MultiLabelText] = []
    for lineno, fields in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter="\t"), start=1):
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != 3:
            raise DatasetFormatError(
                f"{_KOTE} 형식이 아닙니다: {lineno}행에 탭으로 나뉜 3칸(id, text, labels)이 필요한데 "
                f"{len(fields)}칸입니다 ({p})"
            )
        _, raw_text, raw_ids = fields
        ids = [s.strip() for s in raw_ids.split(",") if s.strip()]
        if lineno == 1 and not all(s.isdigit() for s in ids):
            continue  # tolerate a header row such as "ID\ttext\tlabels" from HF exports
        try:
            labels = tuple(_dedupe(names[int(s)] for s in ids))
        except (ValueError, IndexError) as exc:
            raise DatasetFormatError(
                f"{_KOTE} 형식이 아닙니다: {lineno}행의 레이블 번호 {raw_ids!r}가 "
                f"0..{len(names) - 1} 범위의 정수가 아닙니다 ({p})"
            ) from exc
        cleaned = _clean(raw_text)
        if cleaned:
            records.append(MultiLabelText(cleaned, labels))
    return records


def kote_to_product(
    records: Iterable[MultiLabelText], mapping: Mapping[str, str | None]
) -> list[LabeledText]:
    """Collapse KOTE multi-labels onto one product label by plurality vote.

    Each KOTE label casts one vote for the product label it maps to (``None`` = no vote).
    The product label with strictly the most votes wins; a tie for first place, or a row
    with no votes at all, is dropped as ambiguous. KOTE's released labels are the union of
    five raters' choices (about eight per comment), so a single label is weak evidence and
    a plurality over them is the most robust signal the split files offer. The "일상" class
    comes from the map too ('없음', '깨달음', '신기함/관심' vote for it) and competes like any
    other class. See training/label_maps/kote_to_product.json for the map and its rationale.

    A KOTE label absent from ``mapping`` raises ValueError: map it to null to ignore it, so a
    typo in the map cannot silently remove votes.
    """
    out: list[LabeledText] = []
    unmapped: set[str] = set()
    for record in records:
        votes: Counter[str] = Counter()
        for label in record.labels:
            if label not in mapping:
                unmapped.add(label)
                continue
            target = mapping[label]
            if target is not None:
                votes[target] += 1
        ranked = votes.most_common(2)
        if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
            continue
        out.append(LabeledText(record.text, ranked[0][0]))
    if unmapped:
        raise ValueError(f"KOTE 레이블이 매핑에 없습니다 (null로 명시하세요): {sorted(unmapped)}")
    return out


# --------------------------------------------------------------------------- wellness / intents


_WELLNESS = "웰니스 대화 스크립트"


def read_wellness(path: PathLike) -> WellnessData:
    """웰니스 대화 스크립트 .xlsx: ``구분, 유저, 챗봇``.

    유저 cells become IntentExamples of the row's 구분; 챗봇 cells are collected per 구분
    (de-duplicated, file order). A blank 구분 continues the previous row's category, because
    the sheet groups rows by category and merged cells read back as empty below the first row.
    """
    p = Path(path)
    table = _read_table(p, _WELLNESS)
    _require(table, ["구분", "유저", "챗봇"], _WELLNESS, p)
    examples: list[IntentExample] = []
    answers: dict[str, list[str]] = {}
    category = ""
    for row in table.rows:
        category = row["구분"] or category
        user, bot = row["유저"], row["챗봇"]
        if not (user or bot):
            continue
        if not category:
            raise DatasetFormatError(
                f"{_WELLNESS} 형식이 아닙니다: 첫 행들에 '구분'(카테고리)이 없습니다: {user or bot!r} ({p})"
            )
        bucket = answers.setdefault(category, [])
        if user:
            examples.append(IntentExample(user, category))
        if bot and bot not in bucket:
            bucket.append(bot)
    return WellnessData(examples=examples, answers=answers)


def _load_json(path: Path, kind: str) -> Any:
    try:
        return json.loads(_decode_text(path, kind))
    except json.JSONDecodeError as exc:
        raise DatasetFormatError(f"{kind}: JSON을 읽을 수 없습니다: {exc} ({path})") from exc


def _str_list(value: object, what: str, kind: str, path: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DatasetFormatError(f"{kind} 형식이 아닙니다: {what}는 문자열 목록이어야 합니다 ({path})")
    return [c for c in (_clean(v) for v in value) if c]


def read_intents_json(path: PathLike) -> WellnessData:
    """The project's own intent file: ``[{"category", "utterances": [...], "answers": [...]}, ...]``.

    A category listed twice is merged (answers de-duplicated, order kept).
    """
    p = Path(path)
    kind = "intents JSON"
    data = _load_json(p, kind)
    if not isinstance(data, list):
        raise DatasetFormatError(f"{kind} 형식이 아닙니다: 최상위가 객체 목록([...])이어야 합니다 ({p})")
    examples: list[IntentExample] = []
    answers: dict[str, list[str]] = {}
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise DatasetFormatError(f"{kind} 형식이 아닙니다: {i}번째 항목이 객체가 아닙니다 ({p})")
        missing = [k for k in ("category", "utterances", "answers") if k not in item]
        if missing:
            raise _missing_columns_error(kind, p, missing, list(item))
        category = _clean(item["category"]) if isinstance(item["category"], str) else ""
        if not category:
            raise DatasetFormatError(f"{kind} 형식이 아닙니다: {i}번째 항목의 'category'가 비었습니다 ({p})")
        examples.extend(
            IntentExample(u, category) for u in _str_list(item["utterances"], "'utterances'", kind, p)
        )
        bucket = answers.setdefault(category, [])
        bucket[:] = _dedupe([*bucket, *_str_list(item["answers"], "'answers'", kind, p)])
    return WellnessData(examples=examples, answers=answers)


# --------------------------------------------------------------------------- text,label


_TEXT = "text,label"


def _labeled_from_object(obj: object, where: str, path: Path) -> LabeledText | None:
    if not isinstance(obj, dict):
        raise DatasetFormatError(f"{_TEXT} JSONL 형식이 아닙니다: {where}이 객체가 아닙니다 ({path})")
    missing = [k for k in ("text", "label") if k not in obj]
    if missing:
        raise _missing_columns_error(f"{_TEXT} JSONL ({where})", path, missing, list(obj))
    text, label = obj["text"], obj["label"]
    # int labels are accepted ("label": 3) since many exports write class ids as numbers.
    if not isinstance(text, str) or isinstance(label, bool) or not isinstance(label, str | int):
        raise DatasetFormatError(
            f"{_TEXT} JSONL 형식이 아닙니다: {where}의 text/label 값이 문자열이 아닙니다 ({path})"
        )
    text, label = _clean(text), _clean(label)
    return LabeledText(text, label) if text and label else None


def read_text_label(path: PathLike) -> list[LabeledText]:
    """Generic ``text,label`` data: CSV with a header, or JSON Lines (``.jsonl``; ``.json``
    may hold either JSON Lines or one JSON array of objects)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".jsonl", ".json"):
        raw = _decode_text(p, _TEXT)
        objects: list[tuple[str, object]] = []
        if suffix == ".json" and raw.lstrip().startswith("["):
            array = _load_json(p, _TEXT)
            objects = [(f"{i}번째 항목", o) for i, o in enumerate(array)]
        else:
            for lineno, line in enumerate(raw.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    objects.append((f"{lineno}행", json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise DatasetFormatError(
                        f"{_TEXT} JSONL 형식이 아닙니다: {lineno}행: {exc} ({p})"
                    ) from exc
        found = (_labeled_from_object(o, where, p) for where, o in objects)
        return [r for r in found if r is not None]
    if suffix in (".csv", ".txt", ""):
        table = _read_csv_table(p, _TEXT)
        _require(table, ["text", "label"], f"{_TEXT} CSV", p)
        return [LabeledText(r["text"], r["label"]) for r in table.rows if r["text"] and r["label"]]
    raise DatasetFormatError(f"{_TEXT}: 확장자 {p.suffix!r}는 지원하지 않습니다 (.csv, .jsonl, .json) ({p})")


# --------------------------------------------------------------------------- label maps


def load_label_map(path: PathLike) -> dict[str, str | None]:
    """JSON object ``{source label: product label | null}``; keys starting with "_" are comments.

    null means "drop records with this label".
    """
    p = Path(path)
    kind = "label map"
    data = _load_json(p, kind)
    if not isinstance(data, dict):
        raise DatasetFormatError(f"{kind} 형식이 아닙니다: JSON 객체({{...}})가 필요합니다 ({p})")
    mapping: dict[str, str | None] = {}
    for key, value in data.items():
        if key.startswith("_"):
            continue
        if value is not None and not isinstance(value, str):
            raise DatasetFormatError(
                f"{kind} 형식이 아닙니다: {key!r}의 값은 문자열 또는 null이어야 합니다 ({p})"
            )
        mapping[_clean(key)] = _clean(value) if value is not None else None
    return mapping


def apply_label_map(
    records: Iterable[LabeledText], mapping: Mapping[str, str | None], keep_unmapped: bool = False
) -> list[LabeledText]:
    """Relabel records: mapped labels are replaced, null-mapped records are dropped, and labels
    missing from the map are dropped unless ``keep_unmapped`` (then kept unchanged)."""
    out: list[LabeledText] = []
    for record in records:
        if record.label in mapping:
            target = mapping[record.label]
            if target is not None:
                out.append(LabeledText(record.text, target))
        elif keep_unmapped:
            out.append(record)
    return out


# --------------------------------------------------------------------------- dispatch


def _sniff_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".tsv":
        return "kote"
    if suffix in (".jsonl", ".json"):
        return "text"
    if suffix in (".xlsx", ".xlsm", ".csv"):
        header = set(_read_table(path, "dataset").header)
        if _AIHUB_LABEL in header:
            return "aihub"
        if {"sentiment", "user"} <= header:
            return "seed"
        if {"text", "label"} <= header:
            return "text"
        found = ", ".join(sorted(h for h in header if h)) or "없음"
        raise DatasetFormatError(
            f"데이터 형식을 알 수 없습니다: '감정_대분류'(aihub), 'sentiment,user'(seed) 또는 "
            f"'text,label'(text) 열이 필요합니다 — 찾은 열: {found} ({path})"
        )
    raise DatasetFormatError(
        f"데이터 형식을 알 수 없습니다: 확장자 {path.suffix!r} (.xlsx, .csv, .tsv, .jsonl, .json) ({path})"
    )


def load_dataset(path: PathLike, fmt: str | None = None) -> list[LabeledText]:
    """Read any single-label training source for the CLI.

    ``fmt`` is one of DATASET_FORMATS, or None to guess from the extension and header.
    Labels come back in the source's own vocabulary (AI Hub's six, the seed's, ...) — apply
    a label map afterwards — except "kote", which is multi-label and therefore collapsed with
    the shipped kote_to_product.json; its labels.txt must sit next to the TSV.
    """
    p = Path(path)
    chosen = fmt.lower() if fmt else _sniff_format(p)
    if chosen == "aihub":
        return read_aihub_emotion(p)[0]
    if chosen == "seed":
        return read_seed_csv(p)
    if chosen == "text":
        return read_text_label(p)
    if chosen == "kote":
        return kote_to_product(read_kote(p, p.with_name("labels.txt")), load_label_map(KOTE_TO_PRODUCT))
    raise ValueError(f"알 수 없는 데이터 형식 {fmt!r}: {', '.join(DATASET_FORMATS)} 중 하나여야 합니다")
