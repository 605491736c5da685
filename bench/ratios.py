"""Speed-up of each C++ kernel over its numpy twin, from a pytest-benchmark JSON file.

For every benchmark group (one kernel, size, k, dtype and thread count) it prints the
numpy median, the C++ median and their ratio, then the machine the run came from::

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
    header = ("group", "numpy median (s)", "C++ median (s)", "numpy/C++", "numpy BLAS threads")
    rows = []
    for name, impls in groups.items():
        cpp, numpy = impls.get("cpp"), impls.get("numpy")
        cpp_s = cpp["stats"]["median"] if cpp else None
        numpy_s = numpy["stats"]["median"] if numpy else None
        ratio = f"{numpy_s / cpp_s:.1f}x" if cpp_s and numpy_s else "-"
        rows.append((name, "-" if numpy_s is None else f"{numpy_s:.4f}",
                     "-" if cpp_s is None else f"{cpp_s:.4f}", ratio,
                     blas_note(numpy) if numpy else "-"))
    widths = [max(len(row[j]) for row in [header, *rows]) for j in range(len(header))]
    line = lambda row: "  ".join(  # noqa: E731
        cell.ljust(w) if j in (0, 4) else cell.rjust(w)
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
