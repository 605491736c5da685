"""Speed-up of each C++ kernel over its numpy twin, from a pytest-benchmark JSON file.

For every benchmark group (one kernel, size, k, dtype and thread count) it prints, for each
baseline (the numpy twin, and where there is one a vectorized numpy epoch beside a
Python-loop replay), its median, the C++ median and their ratio, then the machine::

    pytest bench --benchmark-only --benchmark-json=b.json; python bench/ratios.py b.json

Quote the numbers of one run together with that command, the thread count and the machine.
"""
import argparse
import json
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


def table(groups):
    """A row per (group, baseline): every impl that is not "cpp" is a baseline of its group;
    a baseline's extra_info may say what it is ("baseline": e.g. a Python-loop replay)."""
    header = ("group", "baseline", "baseline median (s)", "C++ median (s)", "baseline/C++",
              "numpy BLAS threads")
    rows = []
    for name, impls in groups.items():
        cpp = impls.get("cpp")
        cpp_s = cpp["stats"]["median"] if cpp else None
        for impl, bench in impls.items():
            if impl == "cpp":
                continue
            base_s = bench["stats"]["median"]
            label = bench.get("extra_info", {}).get("baseline", impl)
            ratio = f"{base_s / cpp_s:.1f}x" if cpp_s and base_s else "-"
            rows.append((name, label, f"{base_s:.4f}", "-" if cpp_s is None else f"{cpp_s:.4f}",
                         ratio, blas_note(bench)))
    widths = [max(len(row[j]) for row in [header, *rows]) for j in range(len(header))]
    line = lambda row: "  ".join(  # noqa: E731
        cell.ljust(w) if j in (0, 1, 5) else cell.rjust(w)
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", help="the file written by pytest --benchmark-json")
    args = parser.parse_args(argv)
    with open(args.json, encoding="utf-8") as handle:
        report = json.load(handle)
    if not report.get("benchmarks"):
        sys.exit(f"{args.json} holds no benchmarks; run pytest bench --benchmark-only "
                 f"--benchmark-json={args.json} first")
    print(table(group_medians(report["benchmarks"])))
    print()
    print(machine(report))


if __name__ == "__main__":
    main()
