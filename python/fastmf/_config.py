"""What fastmf runs on: the kernel build in use and why, the CPU, the compiler, the threads."""
from __future__ import annotations

import os
import platform
import sys
from typing import Any

from . import _core
from ._version import __version__


def _config() -> dict[str, Any]:
    features = _core.cpu_features()
    build = dict(_core.build_info())
    setting = os.environ.get(_core.ENVIRONMENT_VARIABLE)
    return {
        "fastmf": __version__,
        "kernels": {
            "variant": _core.variant,
            "module": f"{__package__}._core_{_core.variant}",
            "reason": _core.reason,
            "installed": list(_core.builds),
            "cpu_runs": [name for name in _core.builds if _core.cpu_runs(name)],
            _core.ENVIRONMENT_VARIABLE: setting,
        },
        "cpu": {
            "machine": platform.machine(),
            "features": sorted(name for name, found in features.items()
                               if found and not name.startswith("os_")),
            "os_saves_ymm": features["os_ymm"],
            "os_saves_zmm": features["os_zmm"],
        },
        "build": build,
        "threads": {
            "openmp_threads": _core.max_threads(),
            "thread_cap": _core.thread_cap(),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        },
        "python": sys.version.split()[0],
    }


def _lines(config: dict[str, Any]) -> list[str]:
    kernels, cpu, build, threads = (config[key] for key in ("kernels", "cpu", "build", "threads"))
    setting = kernels[_core.ENVIRONMENT_VARIABLE]
    env = "unset" if setting is None else repr(setting)
    yes = {True: "yes", False: "no"}
    omp = threads["OMP_NUM_THREADS"]
    return [
        f"fastmf {config['fastmf']} (Python {config['python']})",
        "kernels:",
        f"  in use: {kernels['variant']} ({kernels['module']})",
        f"  why: {kernels['reason']}",
        f"  installed: {', '.join(kernels['installed'])}; this CPU runs: "
        f"{', '.join(kernels['cpu_runs'])}",
        f"  {_core.ENVIRONMENT_VARIABLE}: {env} (avx512, avx2, portable or auto)",
        f"cpu: {cpu['machine']}",
        f"  features: {' '.join(cpu['features']) or 'none of avx, fma, avx2, avx512*'}",
        f"  OS saves YMM registers: {yes[cpu['os_saves_ymm']]}; ZMM and opmask registers: "
        f"{yes[cpu['os_saves_zmm']]}",
        "build (of the kernels in use):",
        f"  compiler: {build['compiler']}",
        f"  instructions: {build['instructions']}{' (-march=native)' * build['native']}, "
        f"{build['simd_bytes']}-byte vectors"
        + ("" if build["compiler_extensions"] else ", plain C++17 (no compiler extensions)"),
        f"  Eigen {build['eigen']} ({build['eigen_simd']}); OpenMP {build['openmp']}",
        "threads:",
        f"  OpenMP threads (num_threads=0): {threads['openmp_threads']}; at most "
        f"{threads['thread_cap']}; OMP_NUM_THREADS: {'unset' if omp is None else omp}",
    ]


def show_config(mode: str = "stdout") -> dict[str, Any] | None:
    """Print, or return, the kernel build fastmf uses and why, and what it runs on.

    fastmf's C++ core is compiled several times from one source: ``portable`` and, on
    x86-64, ``avx2`` (AVX2 + FMA) and ``avx512`` (AVX-512 F/CD/BW/DQ/VL). At import the
    best installed build that the CPU runs is chosen; the environment variable
    ``FASTMF_KERNELS`` (``avx512``, ``avx2``, ``portable``; ``auto`` or unset to choose)
    forces one, and import fails with a RuntimeError if the build it names is unknown, not
    installed, or more than the CPU runs. Quote this output with a benchmark or a bug
    report.

    Parameters
    ----------
    mode : {"stdout", "dicts"}, default "stdout"
        ``"stdout"`` prints a summary; ``"dicts"`` returns it as nested dicts instead.

    Returns
    -------
    None or dict
        With ``mode="dicts"``: ``"fastmf"`` (version), ``"kernels"`` (``variant`` in use,
        its ``module``, the ``reason`` it was chosen, the builds ``installed`` and those the
        CPU runs, best first, and the ``FASTMF_KERNELS`` setting or None), ``"cpu"``
        (machine, the vector extensions found by CPUID, whether the operating system saves
        the YMM and ZMM registers), ``"build"`` (compiler, instructions, vector bytes,
        Eigen and OpenMP versions of the build in use), ``"threads"`` (OpenMP threads a
        kernel uses with ``num_threads=0``, the cap, ``OMP_NUM_THREADS``) and ``"python"``.

    Raises
    ------
    ValueError
        If `mode` is neither ``"stdout"`` nor ``"dicts"``.

    Examples
    --------
    >>> import fastmf
    >>> fastmf.show_config()
    fastmf ...
    kernels:
      in use: ...
      why: ...
    >>> config = fastmf.show_config(mode="dicts")
    >>> config["kernels"]["variant"] in config["kernels"]["cpu_runs"]
    True
    """
    if mode not in ("stdout", "dicts"):
        raise ValueError(f"mode must be 'stdout' or 'dicts', got {mode!r}")
    config = _config()
    if mode == "dicts":
        return config
    print("\n".join(_lines(config)))
    return None
