"""Every CSV file girfec writes, with its columns in order: name, kind, unit.

The one place the scripts take column names from; scripts/tests/test_schema.py
checks it against the docs (every column declared is documented and every
documented column declared) and against the headers girfec really writes.
Adding a column to an output is one `Column` here plus one line in the doc.

A column is fixed (`name` is the header cell) or repeated (`pattern` given:
one or more consecutive header cells matching the regular expression, e.g.
one `final_stock_<level>` per level; zero or more with `none_allowed`, for the
flow columns of a model where no move can happen); `name` is then the
placeholder the doc uses, in capitals (`final_stock_LEVEL`).

Kinds: `text`, `int` (whole number), `number` (a double; `inf`/`-inf` only
where `finite` is False, as the doc says), `bool` (`true`/`false`), `date` (YYYY-MM-DD). `empty`: the
cell may be empty ("not defined", docs/outputs.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("text", "int", "number", "bool", "date")


@dataclass(frozen=True)
class Column:
    """One column of an output file (or a run of columns, when `pattern` is set)."""

    name: str
    kind: str = "number"
    unit: str = ""
    empty: bool = False
    pattern: str | None = None
    finite: bool = True  # a number kind: False when `inf` or `-inf` can appear
    none_allowed: bool = False  # a repeated column: may take no header cell at all

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")

    @property
    def repeated(self) -> bool:
        return self.pattern is not None


@dataclass(frozen=True)
class OutputFile:
    """A CSV file girfec writes: its name, the doc describing it, the commands writing it, its columns."""

    name: str
    doc: str
    written_by: tuple[str, ...]
    columns: tuple[Column, ...]

    def __post_init__(self):
        names = [c.name for c in self.columns]
        repeated = {n for n in names if names.count(n) > 1}
        if repeated:
            raise ValueError(f"{self.name}: column(s) declared twice: {', '.join(sorted(repeated))}")

    @property
    def names(self) -> list[str]:
        """Column names (placeholders for repeated columns), in file order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r} (columns: {', '.join(self.names)})")

    def fixed(self, *names: str) -> list[str]:
        """`names`, each checked to be a fixed column of this file (a typo fails at import, not at run time)."""
        for n in names:
            if self.column(n).repeated:
                raise KeyError(f"{self.name}: {n!r} is a repeated column, not one header cell")
        return list(names)

    def header_problem(self, header: list[str]) -> str | None:
        """None when `header` is exactly this file's columns (repeated ones expanded); else what differs."""
        if self._matches(tuple(header)):
            return None
        fixed = [c.name for c in self.columns if not c.repeated]
        missing = [n for n in fixed if n not in header]
        extra = [h for h in header if h not in fixed and not any(
            c.repeated and re.fullmatch(c.pattern, h, re.DOTALL) for c in self.columns)]
        details = []
        if missing:
            details.append(f"missing {', '.join(missing)}")
        if extra:
            details.append(f"undeclared {', '.join(extra)}")
        if not details:
            details.append("the columns are in another order")
        return (f"{self.name}: header {','.join(header)} does not match the declared columns "
                f"{','.join(self.names)} ({'; '.join(details)})")

    def _matches(self, header: tuple[str, ...]) -> bool:
        """Whether the header cells are the declared columns in order, a repeated column taking one or more (or zero, `none_allowed`)
        consecutive cells that each match its pattern (cell by cell, so a pattern never spans two cells)."""
        columns = self.columns
        seen: dict[tuple[int, int], bool] = {}

        def match(ci: int, hi: int) -> bool:
            if (ci, hi) not in seen:
                if ci == len(columns):
                    seen[(ci, hi)] = hi == len(header)
                elif not columns[ci].repeated:
                    seen[(ci, hi)] = hi < len(header) and header[hi] == columns[ci].name and match(ci + 1, hi + 1)
                else:
                    found, j = columns[ci].none_allowed and match(ci + 1, hi), hi
                    while not found and j < len(header) and re.fullmatch(columns[ci].pattern, header[j], re.DOTALL):
                        j += 1
                        found = match(ci + 1, j)
                    seen[(ci, hi)] = found
            return seen[(ci, hi)]
        return match(0, 0)


def _file(name, doc, written_by, *columns):
    return OutputFile(name, doc, tuple(written_by.split()), tuple(columns))


# The columns that place a row of bands.csv, aggregate.csv and comparison.csv.
ROW_KEY = (Column("arm", "text"), Column("step", "int"), Column("time_years", "number", "years"),
           Column("quantity", "text"), Column("level", "text", empty=True),
           Column("from_level", "text", empty=True), Column("to_level", "text", empty=True))
PERCENTILES = ("p2_5", "p5", "p25", "p50", "p75", "p95", "p97_5")
RUN = "run merge"

BANDS = _file(
    "bands.csv", "docs/outputs.md", RUN, *ROW_KEY,
    Column("replications", "int", "replications"), Column("mean", empty=True), Column("mcse", empty=True),
    Column("ci_low", empty=True), Column("ci_high", empty=True), *(Column(p, empty=True) for p in PERCENTILES))

REPLICATIONS = _file(
    "replications.csv", "docs/outputs.md", RUN,
    Column("replication", "int"), Column("arm", "text"), Column("children_ever", "int", "children"),
    Column("child_years", unit="years"), Column("cost", unit="£"), Column("cost_discounted", unit="£"),
    Column("programme_cost_discounted", unit="£"), Column("transition_cost_discounted", unit="£"),
    Column("qol_years", unit="QoL-years"), Column("qol_years_discounted", unit="QoL-years"),
    Column("transition_qol_years_discounted", unit="QoL-years"),
    Column("cost_discounted_per_child", unit="£ per child", empty=True),
    Column("qol_years_discounted_per_child", unit="QoL-years per child", empty=True),
    Column("final_stock_LEVEL", "int", "children", pattern=r"final_stock_.+"),
    Column("delta_cost_discounted", unit="£"), Column("delta_qol_years_discounted", unit="QoL-years"),
    Column("break_even_years", unit="years", empty=True))

YEARLY_BANDS = _file(
    "bands-yearly.csv", "docs/outputs.md", RUN,
    Column("arm", "text"), Column("area", "text"), Column("year", "int"), Column("start_years", unit="years"), Column("end_years", unit="years"),
    Column("quantity", "text"), Column("level", "text", empty=True),
    Column("from_level", "text", empty=True), Column("to_level", "text", empty=True),
    Column("replications", "int", "replications"), Column("mean", empty=True), Column("mcse", empty=True),
    Column("ci_low", empty=True), Column("ci_high", empty=True), *(Column(p, empty=True) for p in PERCENTILES))


# The quantity groups of `girfec run --quantities` (docs/outputs.md, `manifest.json` `quantities`): a folder
# written with some groups left out has no columns of the others in replications-yearly.csv.
QUANTITY_GROUPS = {
    "stock": "stocks", "children_reached": "stocks",
    "flow": "flows", "entries": "flows", "exits": "flows", "inflow": "flows", "outflow": "flows",
    "escalations": "flows", "step_downs": "flows", "length_of_stay_years": "flows",
    "cost": "costs", "cost_discounted": "costs", "programme_cost": "costs", "programme_cost_discounted": "costs",
    "transition_cost": "costs", "transition_cost_discounted": "costs", "cumulative_cost_discounted": "costs",
    "qol_years": "qol", "qol_years_discounted": "qol", "transition_qol_years": "qol",
    "transition_qol_years_discounted": "qol", "cumulative_qol_years_discounted": "qol",
}


def column_group(file_name: str, column: str) -> str:
    """The quantity group of a declared column of replications-yearly.csv (`stock_LEVEL` → stocks), or ""."""
    if file_name != "replications-yearly.csv":
        return ""
    for suffix in ("_LEVEL", "_FROM_to_TO"):
        if column.endswith(suffix):
            column = column[: -len(suffix)]
    return QUANTITY_GROUPS.get(column, "")


def _per_level(name, kind, unit):
    """`NAME_LEVEL` (one column per level) then `NAME` (all levels): a quantity of replications-yearly.csv."""
    return (Column(f"{name}_LEVEL", kind, unit, pattern=rf"{name}_.+"), Column(name, kind, unit))


YEARLY_REPLICATIONS = _file(
    "replications-yearly.csv", "docs/outputs.md", RUN,
    Column("replication", "int"), Column("arm", "text"), Column("area", "text"), Column("year", "int"),
    Column("start_years", unit="years"), Column("end_years", unit="years"),
    *_per_level("stock", "int", "children"),
    Column("flow_FROM_to_TO", "int", "children", pattern=r"flow_.+_to_.+", none_allowed=True),
    *_per_level("entries", "int", "children"), *_per_level("exits", "int", "children"),
    *_per_level("inflow", "int", "children"), *_per_level("outflow", "int", "children"),
    Column("escalations", "int", "children"), Column("step_downs", "int", "children"),
    Column("children_reached", "int", "children"),
    *_per_level("cost", "number", "£"), *_per_level("cost_discounted", "number", "£"),
    Column("programme_cost", unit="£", empty=True), Column("programme_cost_discounted", unit="£", empty=True),
    *_per_level("qol_years", "number", "QoL-years"), *_per_level("qol_years_discounted", "number", "QoL-years"),
    Column("transition_cost", unit="£"), Column("transition_cost_discounted", unit="£"),
    Column("transition_qol_years", unit="QoL-years"), Column("transition_qol_years_discounted", unit="QoL-years"),
    Column("cumulative_cost_discounted", unit="£"), Column("cumulative_qol_years_discounted", unit="QoL-years"))

AGGREGATE = _file(
    "aggregate.csv", "docs/outputs.md", "run merge aggregate", *ROW_KEY,
    Column("value", empty=True), Column("mode", "text"), Column("aggregate_parameters", "text"))

COMPARISON = _file(
    "comparison.csv", "docs/outputs.md", RUN, *ROW_KEY,
    Column("agent_mean", empty=True), Column("agent_mcse", empty=True), Column("agent_ci_low", empty=True),
    Column("agent_ci_high", empty=True), Column("agent_p2_5", empty=True), Column("agent_p97_5", empty=True),
    Column("aggregate", empty=True), Column("difference", empty=True), Column("relative_difference", empty=True),
    Column("z", empty=True, finite=False), Column("aggregate_in_ci", "bool", empty=True),
    Column("aggregate_parameters", "text"))

SUMMARY = _file(
    "summary.csv", "docs/outputs.md", RUN,
    Column("arm", "text"), Column("comparator", "text"), Column("measure", "text"),
    Column("willingness_to_pay", unit="£ per QoL-year", empty=True), Column("replications", "int", "replications"),
    Column("mean", empty=True), Column("mcse", empty=True), Column("ci_low", empty=True),
    Column("ci_high", empty=True), Column("p2_5", empty=True), Column("p50", empty=True),
    Column("p97_5", empty=True))

PER_PERSON = _file(
    "per-person.csv", "docs/outputs.md", RUN,
    Column("arm", "text"), Column("comparator", "text", empty=True), Column("measure", "text"),
    Column("replications", "int", "replications"), Column("children_ever", unit="children"),
    Column("mean", empty=True), Column("mcse", empty=True), Column("ci_low", empty=True), Column("ci_high", empty=True))

INCREMENTAL = _file(
    "incremental.csv", "docs/outputs.md", "run merge ce",
    Column("arm", "text"), Column("cost_discounted", unit="£"), Column("qol_years_discounted", unit="QoL-years"),
    Column("status", "text"), Column("dominated_by", "text", empty=True), Column("comparator", "text", empty=True),
    Column("inc_cost", unit="£", empty=True), Column("inc_qol_years", unit="QoL-years", empty=True),
    Column("icer", unit="£ per QoL-year", empty=True))

ACCEPTABILITY = _file(
    "acceptability.csv", "docs/outputs.md", "run merge ce",
    Column("willingness_to_pay", unit="£ per QoL-year"), Column("arm", "text"),
    Column("replications", "int", "replications"), Column("expected_nmb", unit="£"),
    Column("nmb_mcse", unit="£", empty=True), Column("nmb_ci_low", unit="£", empty=True),
    Column("nmb_ci_high", unit="£", empty=True), Column("units", "int"), Column("probability_best"),
    Column("on_frontier", "bool"))

PARAMETERS = _file(
    "parameters.csv", "docs/outputs.md", RUN,
    Column("replication", "int"), Column("draw", "int"),
    Column("FIELD.PATH", pattern=r"[^.]+\..+"))

UNCERTAINTY = _file(
    "uncertainty.csv", "docs/outputs.md", RUN,
    Column("arm", "text"), Column("outcome", "text"), Column("draws", "int", "draws"),
    Column("replications_per_draw", unit="replications"), Column("mean"), Column("total_variance"),
    Column("parameter_variance", empty=True), Column("chance_variance", empty=True),
    Column("parameter_share", empty=True), Column("parameter_share_ci_low", empty=True),
    Column("parameter_share_ci_high", empty=True))

VOI = _file(
    "voi.csv", "docs/outputs.md", RUN,
    Column("measure", "text"), Column("parameter_group", "text", empty=True),
    Column("parameters", "text", empty=True), Column("willingness_to_pay", unit="£ per QoL-year"),
    Column("draws", "int", "draws"), Column("value", unit="£"), Column("optimal_arm", "text", empty=True))

IMPORTANCE = _file(
    "importance.csv", "docs/outputs.md", RUN,
    Column("arm", "text"), Column("outcome", "text"), Column("parameter_group", "text"),
    Column("parameters", "text", empty=True), Column("draws", "int", "draws"), Column("main_effect_share"))

SENSITIVITY = _file(
    "sensitivity.csv", "docs/sensitivity.md", "sensitivity",
    Column("analysis", "text"), Column("name", "text", empty=True), Column("point", "int"),
    Column("parameter_1", "text", empty=True), Column("value_1", empty=True),
    Column("parameter_2", "text", empty=True), Column("value_2", empty=True),
    Column("bound", "text", empty=True), Column("arm", "text"), Column("outcome", "text"),
    Column("replications", "int", "replications"), Column("mean"), Column("mcse", empty=True),
    Column("ci_low", empty=True), Column("ci_high", empty=True))

ESTIMATES = _file(
    "estimates.csv", "docs/calibration.md", "calibrate",
    Column("area", "text", empty=True), Column("from_level", "text"), Column("to_level", "text"),
    Column("rate_per_year", unit="per year"), Column("rate_low", "number", "per year", empty=True),
    Column("rate_high", "number", "per year", empty=True), Column("se_log_rate", "number", empty=True),
    Column("method", "text", empty=True),
    Column("identified", "text", empty=True))

DRAWS = _file(
    "draws.csv", "docs/calibration.md", "calibrate",
    Column("draw", "int"), Column("transitions.matrix.FROM.TO", unit="per year",
                                  pattern=r"transitions\.matrix\.[^.]+\.[^.]+"))

FIT = _file(
    "fit.csv", "docs/calibration.md", "calibrate",
    Column("date", "date", empty=True), Column("time_years", unit="years"), Column("area", "text"),
    Column("level", "text"), Column("observed", "number", "children", empty=True),
    Column("fitted", "number", "children", empty=True), Column("fitted_low", "number", "children", empty=True),
    Column("fitted_high", "number", "children", empty=True))

IDENTIFIABILITY = _file(
    "identifiability.csv", "docs/calibration.md", "calibrate",
    Column("parameter", "text"), Column("prior_sd_log"), Column("posterior_sd_log"), Column("contraction"),
    Column("profile_low", "number", "per year", empty=True), Column("profile_high", "number", "per year", empty=True),
    Column("profile_closed_low", "bool", empty=True), Column("profile_closed_high", "bool", empty=True),
    Column("verdict", "text", empty=True), Column("max_abs_correlation", empty=True),
    Column("most_correlated_with", "text", empty=True))

PROFILE = _file(
    "profile.csv", "docs/calibration.md", "calibrate",
    Column("parameter", "text"), Column("rate_per_year", unit="per year"), Column("profile_log_likelihood"),
    Column("delta_log_likelihood"), Column("inside_95", "bool"), Column("converged", "bool"))

POSTERIOR = _file(
    "posterior.csv", "docs/calibration.md", "calibrate",
    Column("parameter", "text"), Column("path", "text", empty=True), Column("mean"), Column("sd"),
    Column("q2_5"), Column("median"), Column("q97_5"), Column("r_hat", empty=True),
    Column("ess_bulk", empty=True), Column("ess_tail", empty=True), Column("contraction", empty=True),
    Column("joint_estimate", empty=True), Column("least_squares", empty=True))

CONVERGENCE = _file(
    "convergence.csv", "docs/calibration.md", "calibrate",
    Column("check", "text"), Column("quantity", "text", empty=True), Column("chain", "int", empty=True),
    Column("value", empty=True, finite=False), Column("threshold"), Column("passed", "bool"))

PPC = _file(
    "ppc.csv", "docs/calibration.md", "calibrate",
    Column("date", "date"), Column("time_years", unit="years"), Column("level", "text"),
    Column("observed", "number", "children"), Column("predictive_mean", "number", "children", empty=True),
    Column("predictive_q2_5", "number", "children", empty=True),
    Column("predictive_q97_5", "number", "children", empty=True), Column("inside", "bool"))

MODEL_COMPARISON = _file(
    "model-comparison.csv", "docs/calibration.md", "calibrate",
    Column("moves", "text"), Column("df", "int"), Column("restricted_log_likelihood", empty=True),
    Column("full_log_likelihood", empty=True), Column("lr_statistic", empty=True), Column("p_value", empty=True),
    Column("full_mle_per_year", "number", "per year", empty=True), Column("clearly_above_zero", "bool", empty=True))

FILES = {f.name: f for f in (BANDS, REPLICATIONS, YEARLY_BANDS, YEARLY_REPLICATIONS, AGGREGATE, COMPARISON, SUMMARY,
                             PER_PERSON, INCREMENTAL, ACCEPTABILITY, PARAMETERS, UNCERTAINTY, VOI,
                             IMPORTANCE, SENSITIVITY, ESTIMATES, DRAWS, FIT, IDENTIFIABILITY, PROFILE, POSTERIOR,
                             CONVERGENCE, PPC, MODEL_COMPARISON)}


def for_file(file_name: str) -> OutputFile:
    """The declaration of an output file by its name; `draws-AREA.csv` (per-area calibration) is `draws.csv`."""
    if file_name in FILES:
        return FILES[file_name]
    if re.fullmatch(r"draws-.+\.csv", file_name):
        return DRAWS
    raise KeyError(f"{file_name}: not an output file girfec writes (declared: {', '.join(FILES)})")


# ---------------------------------------------------------------------------
# JSON files of a run folder: their keys, as dotted paths (`comparison[].arm`: the key `arm` of each element of
# the list `comparison`). Documented in docs/outputs.md, in tables whose first header cell is `key`.


@dataclass(frozen=True)
class JsonFile:
    """A JSON file girfec writes: its name, the doc describing it, and its keys (dotted paths)."""

    name: str
    doc: str
    keys: tuple[str, ...]
    # Declared keys a file may lack: those about arm differences, absent with one arm.
    optional: tuple[str, ...] = ()

    def parents(self) -> set[str]:
        """The keys whose members are declared one by one (`scenario`, `comparison[]`)."""
        return {k.rsplit(".", 1)[0] for k in self.keys if "." in k}


MANIFEST = JsonFile("manifest.json", "docs/outputs.md", tuple("""
format tool version gitCommit command
scenario.path scenario.fileName scenario.sha256 scenario.name scenario.arms scenario.levels scenario.areas
scenario.stepMonths scenario.steps scenario.rewardTiming scenario.exposureTiming scenario.transitionConversion scenario.attachedFiles
seed replications replicationsCovered complete shard threads generator commonRandomNumbers startedAt wallSeconds
childSteps childStepsPerSecond aggregateModel willingnessToPay files parameterUncertainty precisionTarget
engine valueOfInformationSkipped quantities moves""".split()))

SUMMARY_JSON = JsonFile("summary.json", "docs/outputs.md", tuple("""
note aggregateParameters aggregateRuns rerunDraws causesNotExamined
comparison[].arm comparison[].aggregateMode comparison[].aggregateParameters comparison[].aggregateDraws
comparison[].approximations comparison[].stockRowsInsideAgentCI comparison[].largestDifference
comparison[].largestArmDifference comparison[].gap.stockRows comparison[].gap.armDifferenceRows comparison[].verdict
comparison[].likelyCauses comparison[].causesExaminedNotListed""".split()),
    optional=("comparison[].largestArmDifference", "comparison[].gap.armDifferenceRows"))

JSON_FILES = {f.name: f for f in (MANIFEST, SUMMARY_JSON)}


def json_keys(value, parents, prefix=""):
    """The key paths of a JSON object, descending into the members named in `parents` (see JsonFile)."""
    keys = set()
    for k, v in value.items():
        path = f"{prefix}{k}"
        if path in parents and isinstance(v, dict):
            keys |= json_keys(v, parents, path + ".")
        elif path + "[]" in parents and isinstance(v, list):
            for element in v:
                keys |= json_keys(element, parents, path + "[].")
        else:
            keys.add(path)
    return keys
