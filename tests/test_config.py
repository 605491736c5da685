"""show_config: the kernel build in use, why, and what it runs on."""
import os
import subprocess
import sys

import pytest

from fastmf import _core
from fastmf._config import show_config


def test_show_config_dicts_say_which_build_runs_and_why():
    config = show_config(mode="dicts")
    kernels = config["kernels"]
    assert kernels["variant"] == _core.variant
    assert kernels["module"] == f"fastmf._core_{_core.variant}"
    assert kernels["reason"] == _core.reason
    assert kernels["installed"] == list(_core.builds) and "portable" in kernels["installed"]
    assert kernels["variant"] in kernels["cpu_runs"]
    assert kernels["cpu_runs"] == [name for name in kernels["installed"] if _core.cpu_runs(name)]
    assert kernels["FASTMF_KERNELS"] == os.environ.get("FASTMF_KERNELS")
    assert set(config["cpu"]["features"]) <= {"avx", "fma", "avx2", "avx512f", "avx512cd",
                                             "avx512bw", "avx512dq", "avx512vl"}
    build = config["build"]
    assert build == _core.build_info()
    assert build["simd_bytes"] == {"avx512": 64, "avx2": 32}.get(_core.variant, build["simd_bytes"])
    assert build["instructions"] == {"avx512": "AVX-512", "avx2": "AVX2"}.get(
        _core.variant, build["instructions"])
    assert build["compiler"].split()[0] in ("GCC", "Clang", "MSVC")
    assert config["threads"]["openmp_threads"] == _core.max_threads() >= 1


def test_show_config_prints_the_same(capsys):
    assert show_config() is None
    out = capsys.readouterr().out
    config = show_config(mode="dicts")
    assert f"in use: {_core.variant} (fastmf._core_{_core.variant})" in out
    assert f"why: {_core.reason}" in out
    assert f"compiler: {config['build']['compiler']}" in out
    assert f"{config['build']['simd_bytes']}-byte vectors" in out
    assert f"OpenMP threads (num_threads=0): {_core.max_threads()}" in out


def test_show_config_refuses_an_unknown_mode():
    with pytest.raises(ValueError, match="mode must be 'stdout' or 'dicts', got 'json'"):
        show_config(mode="json")


@pytest.mark.parametrize("setting, reason", [
    (None, "the best installed build this CPU runs"),
    ("auto", "the best installed build this CPU runs"),
    ("portable", "forced by FASTMF_KERNELS=portable"),
])
def test_show_config_names_the_setting_that_chose_the_build(setting, reason):
    env = {key: value for key, value in os.environ.items() if key != "FASTMF_KERNELS"}
    if setting is not None:
        env["FASTMF_KERNELS"] = setting
    done = subprocess.run([sys.executable, "-c", "from fastmf._config import show_config; "
                           "show_config()"], capture_output=True, text=True, env=env, check=True)
    assert f"why: {reason}" in done.stdout
    assert ("FASTMF_KERNELS: unset" if setting is None
            else f"FASTMF_KERNELS: {setting!r}") in done.stdout
    if setting == "portable":
        assert "in use: portable (fastmf._core_portable)" in done.stdout
