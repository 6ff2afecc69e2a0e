#!/usr/bin/env python3
"""The best faq_top1 any pair of answer thresholds could reach on a query set.

Reads `handoff eval --explain` output (one JSON object per query) and searches
every score floor and margin for the pair answering the most `faq:` queries
right while wrong answers stay within the budget (default 3 % of all queries,
the issue's wrong_answer_rate target). The thresholds are fitted on the very
labels they are judged on, so this is a ceiling for the current score, not a
result: when it is below a target, no calibration of that score reaches it.

    target/eval/handoff eval --faqs F --queries Q --explain | grep '^{' > X.jsonl
    python3 functions/faq/scripts/threshold_ceiling.py X.jsonl [--budget 0.03]
"""
import argparse
import json


def load(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        if '"expect"' not in line:
            continue
        r = json.loads(line)
        if r["decision"].startswith("handoff"):
            rows.append((r["expect"], None, 0.0, 0.0))
            continue
        ranked = r["evidence"]["faq"]["ranked"]
        if not ranked:
            rows.append((r["expect"], None, 0.0, 0.0))
            continue
        second = ranked[1]["score"] if len(ranked) > 1 else 0.0
        rows.append((r["expect"], ranked[0]["faq_id"], ranked[0]["score"], ranked[0]["score"] - second))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--budget", type=float, default=0.03)
    args = ap.parse_args()
    for path in args.files:
        rows = load(path)
        n = len(rows)
        n_faq = sum(1 for e, *_ in rows if e.startswith("faq:"))
        best = (0.0, None, None, 0.0)
        for a in range(0, 101):
            for m in range(0, 61):
                floor, margin = a / 100, m / 100
                answered = [r for r in rows if r[1] and r[2] >= floor and r[3] >= margin]
                right = sum(1 for e, f, *_ in answered if e == "faq:" + f)
                wrong = (len(answered) - right) / n
                if wrong <= args.budget and right / n_faq > best[0]:
                    best = (right / n_faq, floor, margin, wrong)
        print(json.dumps({"file": path, "n": n, "best_faq_top1": round(best[0], 4),
                          "answer_min": best[1], "answer_margin": best[2],
                          "wrong_answer_rate": round(best[3], 4)}))


if __name__ == "__main__":
    main()
