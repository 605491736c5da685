"""Speed-up of each C++ kernel over its numpy twin, from pytest-benchmark JSON files.

For every benchmark group (one kernel, size, k, dtype and thread count) it prints, for each
baseline (the numpy twin, and where there is one a vectorized numpy epoch beside a
Python-loop replay), its median, the C++ median and their ratio, then the machine::

    pytest bench --benchmark-only --benchmark-json=b.json; python bench/ratios.py b.json

Given the files of several runs of the suite (one after the other, so that the two sides
of a pair alternate from run to run), it prints the median over the runs of each side's
median and of each run's ratio, with the range of the ratios::

    for run in 1 2 3 4 5; do pytest bench --benchmark-only --benchmark-json=b$run.json; done
    python bench/ratios.py b1.json b2.json b3.json b4.json b5.json

Quote the numbers of one such series together with that command, the thread count and the
machine.

The kernel builds (``FASTMF_KERNELS``) are compared by naming each build's files after
``--build NAME``: a table per build as above, then the C++ medians of every group side by
side, with the first build's speed-up over each other one (their time over its)::

    for build in avx512 avx2 portable; do for run in 1 2 3; do
      FASTMF_KERNELS=$build pytest bench --benchmark-only --benchmark-json=$build-$run.json
    done; done
    python bench/ratios.py --build avx512 avx512-*.json --build avx2 avx2-*.json \
        --build portable portable-*.json
"""
import argparse
import json
import statistics
import sys


def group_medians(benchmarks):
    """{group: {impl: benchmark}} in the order the groups first appear."""
    groups = {}
    for bench in benchmarks:
        impl = bench.get("extra_info", {}).get("impl") or bench.get("params", {}).get("impl")
        groups.setdefault(bench.get("group") or bench["name"], {})[impl] = bench
    return groups


def blas_note(bench):
    """How the numpy twin's BLAS threads were set, from its extra_info."""
    info = bench.get("extra_info", {})
    if info.get("blas_threads_set_by"):
        return str(info["blas_threads"])
    env = ", ".join(f"{name}={info[name]}" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
                    if info.get(name, "unset") != "unset")
    return f"default ({env})" if env else "default"


def table(runs):
    """A row per (group, baseline) over the runs (each a {group: {impl: benchmark}}): every
    impl that is not "cpp" is a baseline of its group; a baseline's extra_info may say what
    it is ("baseline": e.g. a Python-loop replay)."""
    header = ("group", "baseline", "baseline median (s)", "C++ median (s)", "baseline/C++",
              "ratio range", "numpy BLAS threads")
    rows = []
    for name, impls in runs[0].items():
        for impl, bench in impls.items():
            if impl == "cpp":
                continue
            base, cpp, ratios = [], [], []
            for run in runs:
                other = run.get(name, {})
                if impl in other:
                    base.append(other[impl]["stats"]["median"])
                if "cpp" in other:
                    cpp.append(other["cpp"]["stats"]["median"])
                if impl in other and "cpp" in other and other["cpp"]["stats"]["median"]:
                    ratios.append(other[impl]["stats"]["median"] / other["cpp"]["stats"]["median"])
            label = bench.get("extra_info", {}).get("baseline", impl)
            spread = f"{min(ratios):.1f}-{max(ratios):.1f}x" if len(ratios) > 1 else "-"
            rows.append((name, label, f"{statistics.median(base):.4f}",
                         f"{statistics.median(cpp):.4f}" if cpp else "-",
                         f"{statistics.median(ratios):.1f}x" if ratios else "-", spread,
                         blas_note(bench)))
    widths = [max(len(row[j]) for row in [header, *rows]) for j in range(len(header))]
    line = lambda row: "  ".join(  # noqa: E731
        cell.ljust(w) if j in (0, 1, 6) else cell.rjust(w)
        for j, (cell, w) in enumerate(zip(row, widths))).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def machine(report):
    info = report.get("machine_info", {})
    cpu = info.get("cpu", {})
    model = cpu.get("brand_raw") or info.get("processor") or "unknown"
    lines = [f"machine: {cpu.get('count', '?')} CPUs, {model}"
             + (f" ({cpu['hz_actual_friendly']})" if cpu.get("hz_actual_friendly") else ""),
             f"system: {info.get('system', '?')} {info.get('release', '')}, "
             f"Python {info.get('python_version', '?')}"]
    commit = report.get("commit_info", {})
    if commit.get("id") not in (None, "", "unknown"):
        lines.append(f"commit: {commit['id'][:12]}" + (" (dirty)" if commit.get("dirty") else ""))
    if report.get("datetime"):
        lines.append(f"run: {report['datetime']}")
    return "\n".join(lines)


def read_reports(paths):
    reports = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            report = json.load(handle)
        if not report.get("benchmarks"):
            sys.exit(f"{path} holds no benchmarks; run pytest bench --benchmark-only "
                     f"--benchmark-json={path} first")
        reports.append(report)
    return reports


def builds_table(builds):
    """The C++ median of every group in each build ({name: [runs]}, runs as table() takes
    them), and the first build's speed-up over each other one (their time over its)."""
    names = list(builds)
    first, others = names[0], names[1:]
    header = ("group", *(f"{name} C++ (s)" for name in names),
              *(f"{first} vs {name}" for name in others))
    rows = []
    for group, impls in builds[first][0].items():
        if "cpp" not in impls:
            continue
        medians = {}
        for name, runs in builds.items():
            found = [run[group]["cpp"]["stats"]["median"] for run in runs
                     if "cpp" in run.get(group, {})]
            medians[name] = statistics.median(found) if found else None
        rows.append((group, *(f"{medians[n]:.4f}" if medians[n] else "-" for n in names),
                     *(f"{medians[n] / medians[first]:.2f}x" if medians[n] and medians[first]
                       else "-" for n in others)))
    widths = [max(len(row[j]) for row in [header, *rows]) for j in range(len(header))]
    line = lambda row: "  ".join(  # noqa: E731
        cell.ljust(w) if j == 0 else cell.rjust(w)
        for j, (cell, w) in enumerate(zip(row, widths))).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", nargs="*",
                        help="files written by pytest --benchmark-json, one per run")
    parser.add_argument("--build", nargs="+", action="append", default=[],
                        metavar=("NAME", "JSON"),
                        help="a kernel build's name (what FASTMF_KERNELS was) and its files")
    args = parser.parse_args(argv)
    if args.json and args.build:
        parser.error("give the files either all after --build NAME, or none so")
    if not args.json and not args.build:
        parser.error("no files: name pytest-benchmark JSON files, or --build NAME FILE...")
    if any(len(files) < 2 for files in args.build):
        parser.error("--build takes a name and at least one file")
    builds = ({files[0]: read_reports(files[1:]) for files in args.build}
              or {None: read_reports(args.json)})
    for name, reports in builds.items():
        if name is not None:
            print(f"kernels: {name} (FASTMF_KERNELS={name})")
        print(table([group_medians(report["benchmarks"]) for report in reports]))
        print()
        if len(reports) > 1:
            print(f"{len(reports)} runs; medians over the runs, ratio range from run to run")
        print(machine(reports[0]))
        print()
    if len(builds) > 1:
        print(builds_table({name: [group_medians(r["benchmarks"]) for r in reports]
                            for name, reports in builds.items()}))


if __name__ == "__main__":
    main()
