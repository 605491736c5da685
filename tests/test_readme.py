"""README.md stays true: its set-up commands, CI's use of them, and its Python examples."""
import re
from pathlib import Path

import pytest

from .conftest import SHARED_DATA

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert first_block == ['pip install . && fastmf demo', 'pip install ".[test]" && pytest']
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert first_block[1] in ci


def test_python_examples_run(monkeypatch, capsys):
    monkeypatch.setenv("FASTMF_DATA", str(SHARED_DATA))
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    printed = dict(re.findall(r"^(\w*\s?test RMSE) (\d\.\d+)$", capsys.readouterr().out, re.M))
    quoted = dict(re.findall(r"# (\w*\s?test RMSE) (\d\.\d+)", README))
    assert set(printed) == set(quoted) == {"test RMSE", "SGD test RMSE"}
    for label, value in quoted.items():      # float32 rounding differs a little by CPU
        assert float(printed[label]) == pytest.approx(float(value), abs=3e-4), label


def test_readme_is_the_front_door_and_its_links_lead_somewhere():
    """README.md stays short; the user guide, benchmarks and the rest live in docs/, and
    every file it links to exists."""
    assert len(README.splitlines()) <= 250
    targets = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", README)
    assert "docs/benchmarks/index.md" in targets
    missing = [target for target in targets if not (ROOT / target).exists()]
    assert missing == []
