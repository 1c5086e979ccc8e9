"""``maeum train …`` and ``maeum eval …``: the training pipeline's command line."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from engine.settings import BUNDLED_MODELS
from training.judged_sets import JUDGED_SETS
from training.readers import (
    LabeledText,
    QAPair,
    apply_label_map,
    load_dataset,
    load_label_map,
    read_aihub_emotion,
    read_chatbotdata,
    read_intents_json,
    read_wellness,
)

log = logging.getLogger(__name__)

KOBERT_TOKENIZER = BUNDLED_MODELS / "kobert-tokenizer"
SOURCES_FILE = "training_sources.json"


def _spec(value: str) -> tuple[Path, str | None]:
    """``FILE`` or ``FILE:FORMAT`` (a drive letter's colon is not a format)."""
    path, _, fmt = value.rpartition(":")
    if path and fmt and "/" not in fmt and "\\" not in fmt:
        return Path(path), fmt
    return Path(value), None


def read_labeled(values: list[str], label_map: str | None) -> list[LabeledText]:
    records: list[LabeledText] = []
    for value in values:
        path, fmt = _spec(value)
        records += load_dataset(path, fmt)
    if label_map:
        records = apply_label_map(records, load_label_map(label_map))
    return records


def read_pairs(values: list[str]) -> list[QAPair]:
    pairs: list[QAPair] = []
    for value in values:
        path, fmt = _spec(value)
        fmt = fmt or ("aihub" if path.suffix == ".xlsx" else "chatbotdata")
        pairs += read_aihub_emotion(path)[1] if fmt == "aihub" else read_chatbotdata(path)
    return pairs


def _config(args: argparse.Namespace) -> Any:
    from training.common import TrainConfig

    return TrainConfig(
        output_dir=Path(args.out),
        base=args.base,
        epochs=args.epochs,
        max_steps=args.max_steps,
        batch_size=args.batch_size,
        lr=args.lr,
        max_len=args.max_len,
        seed=args.seed,
        patience=args.patience,
        device=args.device,
        amp=not args.no_amp,
        resume=args.resume,
        save_fp16=args.fp16_weights,
        progress=not args.no_progress,
    )


def _classification_splits(args: argparse.Namespace) -> Any:
    from training.classify import Splits, stratified_split

    data = read_labeled(args.data, args.label_map)
    if args.val or args.test:
        # Official splits when the corpus has them (AI Hub ships a Validation set): use those.
        splits = Splits(
            data, read_labeled(args.val or [], args.label_map), read_labeled(args.test or [], args.label_map)
        )
        if not splits.val:
            held = stratified_split(data, 0.1, 0.0, args.seed)
            splits = Splits(held.train, held.val, splits.test)
    else:
        splits = stratified_split(data, 0.1, 0.1, args.seed)
    return splits


def _train_emotion(args: argparse.Namespace) -> int:
    from training.classify import train_classifier

    config = _config(args)
    splits = _classification_splits(args)
    extra = read_labeled(args.train_only or [], args.label_map)
    also = {}
    for item in args.also_eval or []:
        name, _, value = item.partition("=")
        also[name] = read_labeled([value], args.label_map)
    report = train_classifier(
        "emotion",
        splits,
        config,
        tokenizer_location=args.tokenizer,
        scratch_size=args.scratch,
        extra_train=extra,
        also_eval=also,
        data_note=args.data_note or "\n".join(f"- {d}" for d in [*args.data, *(args.train_only or [])]),
        licence=args.licence,
    )
    _write_sources(args, config.output_dir)
    _print_report(report)
    return 0


def _write_sources(args: argparse.Namespace, out: Path) -> None:
    sources = {
        "data": args.data,
        "train_only": args.train_only or [],
        "val": args.val or [],
        "test": args.test or [],
        "label_map": args.label_map,
        "seed": args.seed,
    }
    (out / SOURCES_FILE).write_text(
        json.dumps(sources, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def _train_intent(args: argparse.Namespace) -> int:
    from training.classify import stratified_split, train_classifier

    config = _config(args)
    examples: list[LabeledText] = []
    answers: dict[str, list[str]] = {}
    for value in args.data:
        path, _ = _spec(value)
        data = read_wellness(path) if path.suffix == ".xlsx" else read_intents_json(path)
        examples += [LabeledText(e.text, e.category) for e in data.examples]
        for category, items in data.answers.items():
            answers.setdefault(category, []).extend(a for a in items if a not in answers.get(category, []))
    splits = stratified_split(examples, 0.1, 0.1, args.seed)
    report = train_classifier(
        "intent",
        splits,
        config,
        tokenizer_location=args.tokenizer,
        scratch_size=args.scratch,
        data_note=args.data_note or "\n".join(f"- {d}" for d in args.data),
        licence=args.licence,
        answers=answers,
    )
    _print_report(report)
    return 0


def _train_chat(args: argparse.Namespace) -> int:
    from training.chat import split_pairs, train_chat

    config = _config(args)
    pairs = read_pairs(args.data)
    train, val = split_pairs(pairs, 0.05, args.seed)
    report = train_chat(
        train,
        val,
        config,
        scratch_size=args.scratch,
        vocab_size=args.vocab_size,
        data_note=args.data_note or "\n".join(f"- {d}" for d in args.data),
        licence=args.licence,
    )
    print(json.dumps(report["best"], ensure_ascii=False))
    for sample in report["samples"]:
        print(f"{sample['message']} → {sample['reply']}")
    return 0


def _pretrain(args: argparse.Namespace) -> int:
    from training.pretrain import pretrain, read_corpus
    from training.tokenizers import train_chat_tokenizer

    config = _config(args)
    texts = read_corpus(Path(args.corpus), limit=args.max_texts, seed=args.seed)
    tokenizer_dir = args.tokenizer
    if args.kind == "clm" and tokenizer_dir == str(KOBERT_TOKENIZER):
        # A GPT-2 gets a byte-level BPE of its own, trained on the same corpus.
        tokenizer_dir = str(config.output_dir)
        train_chat_tokenizer(texts, vocab_size=args.vocab_size).save_pretrained(tokenizer_dir)
    report = pretrain(args.kind, texts, config, tokenizer_location=tokenizer_dir, size=args.scratch)
    print(json.dumps(report["history"][-1], ensure_ascii=False))
    return 0


def _eval_emotion(args: argparse.Namespace) -> int:
    import torch

    from engine.inference import TextClassifier
    from training.baseline import TfidfBaseline
    from training.classify import evaluate_classifier, stratified_split
    from training.report import classification_metrics

    classifier = TextClassifier.load(args.model, torch.device("cpu"), role="emotion")
    records = [r for r in read_labeled(args.data, args.label_map) if r.label in classifier.labels]
    gold = [r.label for r in records]
    result: dict[str, Any] = {
        "model": classification_metrics(gold, evaluate_classifier(classifier, records), classifier.labels)
    }
    train_specs = args.train
    label_map = args.label_map
    sources_file = Path(args.model) / SOURCES_FILE
    train: list[LabeledText] = []
    if not train_specs and sources_file.is_file():
        # The baseline trains on what the model trained on (same files, same split).
        sources = json.loads(sources_file.read_text(encoding="utf-8"))
        try:
            data = read_labeled(sources["data"], sources["label_map"])
            train = (
                data
                if sources["val"] or sources["test"]
                else stratified_split(data, 0.1, 0.1, sources["seed"]).train
            )
            train += read_labeled(sources["train_only"], sources["label_map"])
        except (OSError, ValueError) as exc:
            print(f"(baseline skipped: the model's training files are not readable here: {exc})")
    elif train_specs:
        train = read_labeled(train_specs, label_map)
    if train:
        baseline = TfidfBaseline.fit([r.text for r in train], [r.label for r in train])
        result["tfidf_baseline"] = classification_metrics(
            gold, baseline.predict([r.text for r in records]), classifier.labels
        )
    _print_metrics(result)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 0


def _print_metrics(result: dict[str, Any]) -> None:
    labels = result["model"]["labels"]
    header = f"{'':<16}{'accuracy':>10}{'macro-F1':>10}  " + "  ".join(f"{label:>5}" for label in labels)
    print(f"n = {result['model']['n']}   (per-class columns: F1)")
    print(header)
    for who, metrics in result.items():
        per = "  ".join(f"{metrics['per_class'][label]['f1']:>6.3f}" for label in labels)
        print(f"{who:<16}{metrics['accuracy']:>10.3f}{metrics['macro_f1']:>10.3f}  {per}")


def _print_report(report: dict[str, Any]) -> None:
    for split, result in report["splits"].items():
        print(f"== {split}")
        _print_metrics(result)


def _common(parser: argparse.ArgumentParser, default_epochs: int) -> None:
    parser.add_argument("--out", required=True, help="checkpoint directory to write")
    parser.add_argument(
        "--base", help="pretrained checkpoint (hub id or path) to fine-tune; omit to train from scratch"
    )
    parser.add_argument(
        "--scratch", default="mini", choices=["tiny", "compact", "mini", "small"], help="from-scratch size"
    )
    parser.add_argument("--epochs", type=int, default=default_epochs)
    parser.add_argument("--max-steps", type=int, help="stop after this many optimiser steps")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-len", type=int, default=64)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--patience", type=int, default=3, help="early stop after this many epochs without gain"
    )
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last")
    parser.add_argument(
        "--fp16-weights", action="store_true", help="store the weights in fp16 (half the size)"
    )
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--data-note", help="what the data is, for the model card")
    parser.add_argument("--licence", default="Apache-2.0 for the weights; see the data's own licences.")


def _train_bank(args: argparse.Namespace) -> int:
    from training.bank import train_bank

    config = train_bank(
        Path(args.out),
        data=Path(args.data),
        threshold=args.threshold,
        domain_threshold=args.domain_threshold,
        seed=args.seed,
        progress=not args.no_progress,
    )
    m = config["metrics"]
    print(
        f"{m['counts']['situations']} situations, {m['counts']['messages']} messages; held-out situation "
        f"accuracy@1 {m['accuracy_at_1']:.3f}, @3 {m['accuracy_at_3']:.3f}; "
        f"temperature {config['temperature']}; threshold {config['threshold']}, "
        f"domain {config['domain_threshold']}"
    )
    print(f"wrote {args.out}")
    return 0


def _train_emotion_linear(args: argparse.Namespace) -> int:
    from training.linear import train_linear_emotion

    also = {}
    if args.kote:
        records = read_labeled(
            [f"{args.kote}:kote"], str(Path(__file__).parent / "label_maps" / "kote_to_product.json")
        )
        also["kote_test"] = [(r.text, r.label) for r in records]
    metrics = train_linear_emotion(Path(args.out), seed=args.seed, also_eval=also)
    print(f"temperature {metrics['temperature']}, uncertain below {metrics['uncertain_below']}")
    for name, result in metrics["sets"].items():
        before, after = result["before_calibration"], result["calibrated"]
        print(
            f"{name:<22} n={after['n']:<5} macro-F1 {after['macro_f1']:.3f} acc {after['accuracy']:.3f} "
            f"ECE {before['ece']:.3f} -> {after['ece']:.3f} uncertain {after['uncertain_share']:.0%}"
        )
    print(f"wrote {args.out}")
    return 0


def _eval_replies(args: argparse.Namespace) -> int:
    from training.replies import CPU_SHIFT, evaluate_replies

    report = evaluate_replies(
        args.set or list(JUDGED_SETS),
        args.policy or ["bank"],
        out_dir=Path(args.out) if args.out else None,
        shifts=(CPU_SHIFT, -CPU_SHIFT) if args.cpu_variants else (),
    )
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    match = report.get("bank_situation_match")
    if match:
        print(
            f"bank situation match on {match['held_out_messages']} held-out bank messages: "
            f"accuracy@1 {match['accuracy_at_1']:.3f}, @3 {match['accuracy_at_3']:.3f}"
        )
    for name, policies in report["sets"].items():
        for policy, entry in policies.items():
            judged = entry["judged"]
            rate = (
                "not judged"
                if not judged or judged["good_rate"] is None
                else (
                    f"{judged['good_rate']:.0%} on-topic and kind "
                    f"({judged['judged']} judged, {judged['unjudged']} not)"
                )
            )
            emotion = "-" if entry["emotion_accuracy"] is None else f"{entry['emotion_accuracy']:.0%}"
            print(
                f"{name}/{policy}: {entry['n']} replies, sources {entry['sources']}, format problems "
                f"{entry['format_problems']}, emotion agrees with the set {emotion}; {rate}"
            )
            for shift, variant in entry.get("cpu_variants", {}).items():
                unjudged = variant["judged"]["unjudged"] if variant["judged"] else variant["changed"]
                differ = variant["changed"]
                print(f"  bank probabilities {shift}: {differ} replies differ, {unjudged} not judged")
    return 0


def _train_crisis(args: argparse.Namespace) -> int:
    from training.crisis import train_crisis

    metrics = train_crisis(Path(args.out), seed=args.seed)
    print(f"threshold {metrics['threshold']} (chosen on {metrics['chosen_on']})")
    for name, result in metrics["sets"].items():
        for who in ("rules", "rules_or_model"):
            r = result[who]
            recall = "-" if r["recall"] is None else f"{r['recall']:.1%}"
            print(f"{name:<20} {who:<15} recall {recall:>6}  false alarms {r['false_alarm_rate']:.2%}")
    print(f"wrote {args.out}")
    return 0


def add_parsers(sub: Any) -> None:
    train = sub.add_parser("train", help="train the emotion, intent or chat model")
    tsub = train.add_subparsers(dest="task", required=True)

    emotion = tsub.add_parser("emotion", help="emotion classifier (sequence classification, the seed's S1)")
    emotion.add_argument(
        "--data", action="append", required=True, help="FILE[:aihub|seed|kote|text], repeatable"
    )
    emotion.add_argument(
        "--train-only", action="append", help="extra training data, never split into val/test"
    )
    emotion.add_argument("--val", action="append", help="an official validation split (else 10%% of --data)")
    emotion.add_argument("--test", action="append", help="an official test split (else 10%% of --data)")
    emotion.add_argument(
        "--also-eval", action="append", help="NAME=FILE[:FORMAT], another test set to report"
    )
    emotion.add_argument(
        "--label-map", help="JSON map of dataset labels onto product labels (training/label_maps/)"
    )
    emotion.add_argument(
        "--tokenizer", default=str(KOBERT_TOKENIZER), help="tokenizer for from-scratch models"
    )
    _common(emotion, 10)
    emotion.set_defaults(handler=_train_emotion)

    intent = tsub.add_parser("intent", help="wellness-intent classifier and answer bank (the seed's S3)")
    intent.add_argument("--data", action="append", required=True, help="intents.json or a wellness .xlsx")
    intent.add_argument("--tokenizer", default=str(KOBERT_TOKENIZER))
    _common(intent, 15)
    intent.set_defaults(handler=_train_intent)

    chat = tsub.add_parser("chat", help="reply generator (causal LM on Q/A pairs, the seed's S2)")
    chat.add_argument("--data", action="append", required=True, help="FILE[:chatbotdata|aihub], repeatable")
    chat.add_argument("--vocab-size", type=int, default=8000, help="BPE vocabulary for a from-scratch model")
    _common(chat, 10)
    chat.set_defaults(handler=_train_chat)

    bank = tsub.add_parser("bank", help="compile data/replies into the reply bank and its e5 matcher")
    bank.add_argument("--data", default=str(Path(__file__).resolve().parents[1] / "data" / "replies"))
    bank.add_argument("--out", default=str(BUNDLED_MODELS / "maeum-bank"))
    bank.add_argument("--threshold", type=float, help="the 'not sure' line (chosen on the judged dev set)")
    bank.add_argument(
        "--domain-threshold",
        type=float,
        help="below the situation line, a domain's general replies answer above this one (default: never)",
    )
    bank.add_argument("--seed", type=int, default=0)
    bank.add_argument("--no-progress", action="store_true")
    bank.set_defaults(handler=_train_bank)

    linear = tsub.add_parser(
        "emotion-linear",
        help="the default emotion model: char n-gram TF-IDF + logistic regression, calibrated",
    )
    linear.add_argument("--out", default=str(BUNDLED_MODELS / "maeum-emotion"))
    linear.add_argument("--kote", help="KOTE test.tsv to report out of domain (mapped to the product labels)")
    linear.add_argument("--seed", type=int, default=0)
    linear.set_defaults(handler=_train_emotion_linear)

    crisis = tsub.add_parser("crisis", help="the learned crisis classifier beside the rules (data/safety)")
    crisis.add_argument("--out", default=str(BUNDLED_MODELS / "maeum-crisis"), help="where to write it")
    crisis.add_argument("--seed", type=int, default=0)
    crisis.set_defaults(handler=_train_crisis)

    pre = tsub.add_parser("pretrain", help="pre-train a small BERT (mlm) or GPT-2 (clm) on a large corpus")
    pre.add_argument("kind", choices=["mlm", "clm"])
    pre.add_argument("--corpus", required=True, help="NSMC reviews.tsv.gz or a text file, one line each")
    pre.add_argument("--max-texts", type=int, help="sample this many lines from the corpus")
    pre.add_argument("--tokenizer", default=str(KOBERT_TOKENIZER))
    pre.add_argument("--vocab-size", type=int, default=8000)
    _common(pre, 1)
    pre.set_defaults(handler=_pretrain)

    evaluate = sub.add_parser("eval", help="evaluate a checkpoint next to a TF-IDF baseline")
    esub = evaluate.add_subparsers(dest="task", required=True)
    eemo = esub.add_parser("emotion")
    eemo.add_argument("--model", required=True)
    eemo.add_argument("--data", action="append", required=True, help="FILE[:FORMAT] to evaluate on")
    eemo.add_argument("--train", action="append", help="baseline training data (default: the model's own)")
    eemo.add_argument("--label-map")
    eemo.add_argument("--json", action="store_true")
    eemo.set_defaults(handler=_eval_emotion)

    erep = esub.add_parser(
        "replies", help="replies to the judged sets, their sources, format and judged rate"
    )
    erep.add_argument("--set", action="append", choices=JUDGED_SETS, help="default: all of them")
    erep.add_argument(
        "--policy", action="append", choices=["bank", "hybrid", "reflective"], help="default: bank"
    )
    erep.add_argument("--out", help="write every reply here, one JSONL file per set and policy")
    erep.add_argument(
        "--cpu-variants",
        action="store_true",
        help="also the replies another CPU's rounding could give (bank probabilities moved by +-0.01)",
    )
    erep.add_argument("--json", action="store_true")
    erep.set_defaults(handler=_eval_replies)
