"""The forest scoring path: all trees walked at once vs one ``tree_.predict`` per tree vs sklearn.

Fits the configured forest (``model.random_forest`` of params.yaml) on simulated readings, then times
``ForestSum.predict_proba`` both ways and the forest's own ``predict_proba`` for several batch sizes
(best of ``--repeat`` rounds; the machine is shared) and checks that all three agree to the bit.
This is where ``fastpath.VECTOR_CELLS`` (the cut-over to tree by tree) comes from.

    .venv/bin/python bench/forest.py [--rows 1 8 32 64 128 256 1024] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def best_us(fn: Callable[[], object], number: int, repeat: int) -> float:
    """Best time of one call in µs, over ``repeat`` rounds of ``number`` calls."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown table; returns the exit code."""
    from predmaint import schema
    from predmaint.config import load_params
    from predmaint.data.simulate import simulate
    from predmaint.model import features
    from predmaint.model.train import build_pipeline
    from predmaint.service.fastpath import VECTOR_CELLS, ForestSum

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1, 8, 32, 64, 128, 256, 1024])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    params = load_params(REPO / "params.yaml", environ={})
    model = params.model.model_copy(update={"algorithm": "random_forest"})
    frame = simulate(params.simulator, params.physics, rows=params.split.train_rows)
    pipe = build_pipeline(params.physics, model).fit(features.model_input(frame), frame[schema.TARGET])
    forest = pipe.steps[-1][1]
    fast = ForestSum(forest)
    new = simulate(params.simulator, params.physics, rows=max(args.rows), seed=7)
    matrix = np.asarray(pipe[:-1].transform(features.model_input(new)), dtype=float)
    print(f"forest: {len(fast.trees)} trees, depth {fast.depth}; walked at once while rows × depth ≤ {VECTOR_CELLS}")
    print("\n| rows | all trees at once µs | tree by tree µs | sklearn predict_proba µs | path taken |")
    print("| ---: | ---: | ---: | ---: | --- |")
    for rows in args.rows:
        x = matrix[:rows]
        x32 = np.ascontiguousarray(x, dtype=np.float32)
        walked = fast.all_at_once(x32)
        by_tree = fast.tree_by_tree(x32)
        if not (np.array_equal(walked, by_tree) and np.array_equal(walked, forest.predict_proba(x))):
            print(f"{rows} rows: the paths disagree", file=sys.stderr)
            return 1
        number = max(1, 2000 // rows)
        at_once = best_us(partial(fast.all_at_once, x32), number, args.repeat)
        tree_by_tree = best_us(partial(fast.tree_by_tree, x32), number, args.repeat)
        sklearn = best_us(partial(forest.predict_proba, x), number, args.repeat)
        path = "at once" if rows * fast.depth <= VECTOR_CELLS else "tree by tree"
        print(f"| {rows} | {at_once:,.0f} | {tree_by_tree:,.0f} | {sklearn:,.0f} | {path} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
