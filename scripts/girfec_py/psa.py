"""A run folder's probabilistic sensitivity analysis in the layout of R's dampack (docs/r-and-python.md).

dampack's `make_psa_obj(cost, effectiveness, parameters, strategies,
currency)` takes data frames with one row per PSA sample: `cost` and
`effectiveness` with one column per strategy, `parameters` with one column
per parameter, and the strategies' names. Here a strategy is an arm (in the
scenario's order), cost is `cost_discounted` (£, levels plus programme) and
effectiveness `qol_years_discounted` (QoL-years) of replications.csv, and
the parameters are the drawn columns of parameters.csv.

A sample is
  - a replication (`by="replication"`), the default unless the run is
    nested: each replication drew its own parameters
    (`--replications-per-draw` 1), or there is no parameter uncertainty
    (then the spread is chance alone and `parameters` is None);
  - a parameter draw (`by="draw"`), the default in a nested run
    (`--replications-per-draw` K > 1): cost and effectiveness are the means
    over the draw's K replications, an estimate of the expected outcome
    given the draw's parameters, which is what a PSA sample stands for
    (Briggs, Claxton & Sculpher 2006, ch. 4); a single replication adds
    chance (first-order) variation that inflates the spread, EVPI and
    EVPPI (O'Hagan, Stevenson & Madan 2007).

Standard library plus pandas; `python3 -m girfec_py.psa RUN_DIR --out DIR`
writes the CSV files R reads (`write`).
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

import pandas as pd

from . import frames
from .runfolder import OutputError

COST = "cost_discounted"  # replications.csv: £, discounted, levels plus programme
EFFECTIVENESS = "qol_years_discounted"  # replications.csv: QoL-years, discounted
CURRENCY = "£"  # the unit of every cost girfec writes (docs/outputs.md)
SAMPLES = ("replication", "draw")


@dataclass
class PSA:
    """dampack's PSA inputs: samples × strategies `cost` and `effectiveness`, samples × parameters `parameters`.

    Each DataFrame is indexed by the sample (`replication` or `draw`, as
    `sample` says); `replications` counts the replications behind each
    sample (1 per replication; K per draw in a nested run).
    """

    cost: pd.DataFrame
    effectiveness: pd.DataFrame
    parameters: pd.DataFrame | None
    strategies: list
    currency: str
    sample: str
    replications: pd.Series

    def write(self, folder):
        """cost.csv, effectiveness.csv, parameters.csv (with parameters), strategies.csv, currency.txt, samples.csv.

        The first three hold only the data frames' columns (no sample
        column: dampack takes every column of `cost` as a strategy), in
        UTF-8, numbers in the shortest text that reads back to the same
        double. samples.csv gives each row's replication or draw and its
        replication count. Returns the paths written.
        """
        os.makedirs(folder, exist_ok=True)
        paths = []

        def out(name):
            paths.append(os.path.join(folder, name))
            return paths[-1]

        self.cost.to_csv(out("cost.csv"), index=False, encoding="utf-8", lineterminator="\n")
        self.effectiveness.to_csv(out("effectiveness.csv"), index=False, encoding="utf-8", lineterminator="\n")
        if self.parameters is not None:
            self.parameters.to_csv(out("parameters.csv"), index=False, encoding="utf-8", lineterminator="\n")
        pd.DataFrame({"strategy": self.strategies}).to_csv(out("strategies.csv"), index=False, encoding="utf-8",
                                                            lineterminator="\n")
        with open(out("currency.txt"), "w", encoding="utf-8", newline="\n") as f:
            f.write(self.currency + "\n")
        self.replications.rename("replications").reset_index().to_csv(
            out("samples.csv"), index=False, encoding="utf-8", lineterminator="\n")
        return paths


def _wide(replications, column, strategies):
    table = replications.pivot(index="replication", columns="arm", values=column)
    table = table.reindex(columns=strategies)
    table.columns = pd.Index([str(a) for a in strategies], name=None)
    return table


def make_psa(run, by=None):
    """The PSA of a loaded run (`frames.load`) or run folder path; `by` "replication" or "draw" (default above).

    OutputError when a replication lacks an arm, a replication has no row
    in parameters.csv, the replications of one draw have different
    parameter values, or `by="draw"` without parameter draws.
    """
    if not isinstance(run, frames.Run):
        run = frames.load(run)
    replications_path = os.path.join(run.folder, "replications.csv")
    parameters_path = os.path.join(run.folder, "parameters.csv")
    reps = run.replications
    strategies = [a for a in run.arms if (reps["arm"] == a).any()]
    counts = reps.groupby("replication", observed=True)["arm"].nunique()
    short = counts[counts < len(strategies)]
    if len(short):
        r = int(short.index[0])
        present = set(reps.loc[reps["replication"] == r, "arm"].astype(str))
        raise OutputError(f"{replications_path}: replication {r} has no row for arm(s) "
                          f"{', '.join(a for a in strategies if a not in present)}; expected one row per arm "
                          f"({len(short)} replication(s) incomplete)")
    duplicated = reps.duplicated(["replication", "arm"])
    if duplicated.any():
        i = int(duplicated.to_numpy().nonzero()[0][0])
        raise OutputError(f"{replications_path}, line {i + 2} (data row {i + 1}): a second row for replication "
                          f"{reps['replication'].iloc[i]} and arm {reps['arm'].iloc[i]!r}")
    cost, effectiveness = _wide(reps, COST, strategies), _wide(reps, EFFECTIVENESS, strategies)

    drawn = run.parameters
    parameters = None
    if drawn is not None:
        drawn = drawn.set_index("replication")
        missing = [r for r in cost.index if r not in drawn.index]
        if missing:
            raise OutputError(f"{parameters_path}: no row for replication(s) {', '.join(map(str, missing[:10]))}"
                              f"{' …' if len(missing) > 10 else ''}; expected one per replication of "
                              f"replications.csv")
        drawn = drawn.loc[cost.index]
        parameters = drawn.drop(columns="draw")
    if by is None:
        by = "draw" if drawn is not None and run.replications_per_draw > 1 else "replication"
    if by not in SAMPLES:
        raise ValueError(f"by={by!r}; expected one of {', '.join(SAMPLES)}")
    if by == "replication":
        ones = pd.Series(1, index=cost.index, name="replications")
        return PSA(cost, effectiveness, parameters, [str(a) for a in strategies], CURRENCY, "replication", ones)
    if drawn is None:
        raise OutputError(f"{parameters_path}: file not found; a PSA by draw needs the parameter draws "
                          f"(a run with an `uncertainty` section)")
    draw = drawn["draw"]
    # every replication of a draw ran the same parameter values
    spread = parameters.groupby(draw).nunique(dropna=False)
    varying = spread[(spread > 1).any(axis=1)]
    if len(varying):
        d = int(varying.index[0])
        column = next(c for c in varying.columns if varying.loc[d, c] > 1)
        raise OutputError(f"{parameters_path}, column {column!r}: the replications of draw {d} have different "
                          f"values; expected one value per draw")
    by_draw = PSA(cost.groupby(draw).mean(), effectiveness.groupby(draw).mean(), parameters.groupby(draw).first(),
                  [str(a) for a in strategies], CURRENCY, "draw",
                  draw.value_counts().sort_index().rename("replications"))
    for table in (by_draw.cost, by_draw.effectiveness, by_draw.parameters):
        table.index.name = "draw"
    by_draw.replications.index.name = "draw"
    return by_draw


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m girfec_py.psa",
        description="Write a run folder's PSA as the CSV files R's dampack::make_psa_obj takes "
                    "(docs/r-and-python.md).")
    parser.add_argument("run_dir", help="a folder written by girfec run or girfec merge")
    parser.add_argument("--out", required=True,
                        help="folder to write cost.csv, effectiveness.csv, parameters.csv, strategies.csv, "
                             "currency.txt and samples.csv into (not inside RUN_DIR)")
    parser.add_argument("--by", choices=SAMPLES,
                        help="one sample per replication or per parameter draw (default: per draw in a nested "
                             "run, per replication otherwise)")
    args = parser.parse_args(argv)
    run_dir, out = os.path.realpath(args.run_dir), os.path.realpath(args.out)
    if out == run_dir or out.startswith(run_dir + os.sep):
        parser.error(f"--out {args.out}: inside the run folder; expected a folder elsewhere (girfec's --overwrite "
                     f"replaces only folders holding its own files, docs/guarantees.md)")
    try:
        psa = make_psa(args.run_dir, args.by)
        paths = psa.write(args.out)
    except OutputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    params = "no parameters" if psa.parameters is None else f"{psa.parameters.shape[1]} parameter(s)"
    print(f"PSA: {len(psa.cost)} samples (one per {psa.sample}) × {len(psa.strategies)} strategies "
          f"({', '.join(psa.strategies)}), {params}; wrote {', '.join(os.path.basename(p) for p in paths)} "
          f"to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
