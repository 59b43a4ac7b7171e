# The R reader (scripts/girfec.R) on a real run folder: every data frame's types and values against the CSV
# cells, the PSA list's structure and values against replications.csv (and parameters.csv), and a damaged
# file's error naming file, line and column.
#
#   Rscript scripts/tests/test_girfec_reader.R RUN_DIR [DUMP_DIR]
#
# Exit status 0 when every check passes; otherwise the failed checks are printed and the status is 1.
# DUMP_DIR: each data frame and the PSA's parts written as CSV with numbers as "%.17g" (every digit of the
# double), so scripts/tests/test_r_and_python.py can compare R's values with Python's exactly.
# Run by scripts/tests/test_r_and_python.py.

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: Rscript test_girfec_reader.R RUN_DIR [DUMP_DIR]")
run_dir <- args[1]
dump_dir <- if (length(args) >= 2) args[2] else NULL
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])))
source(file.path(here, "..", "girfec.R"))

failures <- character(0)
check <- function(ok, what) {
  if (!isTRUE(ok)) failures <<- c(failures, what)
}

# equal, or one unit in the last place apart (R's as.numeric; see girfec.R's .girfec_nearest)
close <- function(a, b) isTRUE(length(a) == length(b) && all(a == b | abs(a - b) <= 2^-52 * abs(b)))

raw_csv <- function(path) {
  utils::read.csv(path, colClasses = "character", na.strings = character(0), check.names = FALSE,
                  encoding = "UTF-8", strip.white = FALSE)
}

run <- girfec_load(run_dir)
bands_arms <- unique(as.character(run$bands$arm))
check(all(bands_arms %in% run$arms), "bands.csv's arms are the run's arms")

for (name in girfec_run_files) {
  path <- file.path(run_dir, name)
  frame <- run[[sub("[.]csv$", "", name)]]
  if (!file.exists(path)) {
    check(is.null(frame), sprintf("%s absent: NULL", name))
    next
  }
  raw <- raw_csv(path)
  check(is.data.frame(frame), sprintf("%s: a data frame", name))
  check(identical(names(frame), names(raw)), sprintf("%s: the CSV's columns, in order", name))
  check(nrow(frame) == nrow(raw), sprintf("%s: %d rows as the CSV (got %d)", name, nrow(raw), nrow(frame)))
  spec <- girfec_columns[girfec_columns$file == name, ]
  for (column in names(raw)) {
    declared <- .girfec_column_for(spec, column)
    kind <- declared$kind
    text <- trimws(raw[[column]])
    value <- frame[[column]]
    what <- sprintf("%s, column %s", name, column)
    check(identical(is.na(value), text == ""), sprintf("%s: NA exactly where the cell is empty", what))
    filled <- text != ""
    if (kind == "text") {
      if (column %in% .girfec_string_columns) {
        check(is.character(value), sprintf("%s: character", what))
      } else {
        check(is.factor(value), sprintf("%s: a factor", what))
      }
      check(identical(as.character(value)[filled], text[filled]), sprintf("%s: the CSV's text", what))
      if (column == "arm") check(identical(levels(value), run$arms), sprintf("%s: levels are the arms", what))
      if (column == "level") {
        check(identical(levels(value)[seq_along(run$levels)], run$levels), sprintf("%s: levels in order", what))
      }
    } else if (kind == "int") {
      check(is.integer(value), sprintf("%s: integer", what))
      check(identical(as.numeric(value[filled]), as.numeric(text[filled])), sprintf("%s: the CSV's values", what))
    } else if (kind == "number") {
      check(is.double(value), sprintf("%s: numeric", what))
      # as.numeric can be one unit in the last place off the nearest double, which girfec.R takes (the exact
      # comparison is test_r_and_python.py's, against Python's correctly rounded float)
      expected <- as.numeric(sub("^[+]", "", text[filled]))
      check(isTRUE(all(value[filled] == expected | abs(value[filled] - expected) <= 2^-52 * abs(expected))),
            sprintf("%s: the CSV's values (to one unit in the last place)", what))
    } else if (kind == "bool") {
      check(is.logical(value), sprintf("%s: logical", what))
      check(identical(value[filled], text[filled] == "true"), sprintf("%s: the CSV's values", what))
    }
  }
}

# The PSA: exactly make_psa_obj's arguments, samples x strategies, samples x parameters
psa <- girfec_psa(run)
check(identical(names(psa), c("cost", "effectiveness", "parameters", "strategies", "currency")),
      "PSA: the names of make_psa_obj's arguments")
check(identical(psa$strategies, run$arms), "PSA: strategies are the arms in the scenario's order")
check(identical(psa$currency, "\u00a3"), "PSA: currency GBP")
reps <- raw_csv(file.path(run_dir, "replications.csv"))
ids <- sort(unique(as.integer(reps$replication)))
sample <- attr(psa, "sample")
per_draw <- attr(psa, "samples")
for (part in c("cost", "effectiveness")) {
  frame <- psa[[part]]
  column <- if (part == "cost") "cost_discounted" else "qol_years_discounted"
  check(is.data.frame(frame), sprintf("PSA %s: a data frame", part))
  check(identical(names(frame), psa$strategies), sprintf("PSA %s: one column per strategy", part))
  for (arm in psa$strategies) {
    mine <- reps[reps$arm == arm, ]
    values <- as.numeric(mine[[column]])[order(as.integer(mine$replication))]
    if (sample == "replication") {
      check(nrow(frame) == length(ids), sprintf("PSA %s: one row per replication", part))
      check(close(frame[[arm]], values), sprintf("PSA %s, %s: replications.csv's %s", part, arm, column))
    } else {
      params <- raw_csv(file.path(run_dir, "parameters.csv"))
      draw <- as.integer(params$draw[match(sort(as.integer(mine$replication)), as.integer(params$replication))])
      expected <- as.vector(tapply(values, draw, mean))
      check(nrow(frame) == length(unique(draw)), sprintf("PSA %s: one row per draw", part))
      check(isTRUE(all.equal(frame[[arm]], expected, tolerance = 1e-12)),
            sprintf("PSA %s, %s: means of %s over each draw's replications (relative 1e-12)", part, arm, column))
    }
  }
}
if (file.exists(file.path(run_dir, "parameters.csv"))) {
  params <- raw_csv(file.path(run_dir, "parameters.csv"))
  drawn <- setdiff(names(params), c("replication", "draw"))
  check(is.data.frame(psa$parameters), "PSA parameters: a data frame")
  check(identical(names(psa$parameters), drawn), "PSA parameters: one column per drawn field path")
  check(nrow(psa$parameters) == nrow(psa$cost), "PSA parameters: one row per sample")
  key <- if (sample == "draw") per_draw$draw else per_draw$replication
  rows <- match(key, as.integer(if (sample == "draw") params$draw else params$replication))
  for (column in drawn) {
    check(close(psa$parameters[[column]], as.numeric(params[[column]][rows])),
          sprintf("PSA parameters, %s: parameters.csv's values", column))
  }
  by_replication <- girfec_psa(run, by = "replication")
  check(nrow(by_replication$parameters) == length(ids), "PSA by replication: one parameter row per replication")
} else {
  check(is.null(psa$parameters), "PSA without parameter uncertainty: parameters NULL")
  check("parameters" %in% names(psa), "PSA without parameter uncertainty: the parameters element is there (NULL)")
}

# A damaged copy: every problem of the file in one error naming file, line and column
damaged <- tempfile("damaged")
dir.create(damaged)
for (f in list.files(run_dir)) file.copy(file.path(run_dir, f), damaged)
broken <- raw_csv(file.path(run_dir, "replications.csv"))
broken$cost[2] <- "lots"
broken$children_ever[2] <- "-1"
utils::write.csv(broken, file.path(damaged, "replications.csv"), row.names = FALSE, fileEncoding = "UTF-8")
message <- tryCatch({
  girfec_load(damaged)
  "no error"
}, error = function(e) conditionMessage(e))
check(grepl("2 problem(s)", message, fixed = TRUE), sprintf("damaged: both problems at once (%s)", message))
check(grepl("replications.csv, line 3 (data row 2), column 'cost': found 'lots'; expected a number", message,
            fixed = TRUE), sprintf("damaged: the bad cost named (%s)", message))
check(grepl("line 3 (data row 2), column 'children_ever': found '-1'; expected a whole number >= 0", message,
            fixed = TRUE), sprintf("damaged: the bad count named (%s)", message))
unlink(damaged, recursive = TRUE)

if (!is.null(dump_dir)) {
  dir.create(dump_dir, showWarnings = FALSE, recursive = TRUE)
  dump <- function(frame, file) {
    out <- lapply(frame, function(v) {
      if (is.double(v)) ifelse(is.na(v), "NA", sprintf("%.17g", v)) else ifelse(is.na(v), "NA", as.character(v))
    })
    out <- as.data.frame(out, check.names = FALSE, stringsAsFactors = FALSE)
    utils::write.csv(out, file.path(dump_dir, file), row.names = FALSE, fileEncoding = "UTF-8")
  }
  for (name in girfec_run_files) {
    frame <- run[[sub("[.]csv$", "", name)]]
    if (!is.null(frame)) dump(frame, name)
  }
  dump(psa$cost, "psa-cost.csv")
  dump(psa$effectiveness, "psa-effectiveness.csv")
  if (!is.null(psa$parameters)) dump(psa$parameters, "psa-parameters.csv")
  writeLines(c(sample, psa$strategies), file.path(dump_dir, "psa-strategies.txt"), useBytes = TRUE)
}

if (length(failures) > 0) {
  cat(sprintf("FAILED: %s\n", failures), sep = "")
  quit(status = 1)
}
cat(sprintf("girfec.R on %s: every check passed (%s, PSA by %s: %d samples x %d strategies)\n", run_dir,
            paste(names(Filter(Negate(is.null), run[sub("[.]csv$", "", girfec_run_files)])), collapse = ", "),
            sample, nrow(psa$cost), length(psa$strategies)))
