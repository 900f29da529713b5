"""Repository hygiene: lint, CI runs the README's command, no stray imports across layers."""

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_ruff_is_clean():
    ruff = Path(sys.executable).with_name("ruff")
    r = subprocess.run([str(ruff), "check", str(REPO)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    m = re.search(r"<!-- test-command -->\n```bash\n(.+)\n```", readme)
    assert m, "README lacks the test-command block"
    r = subprocess.run(["bash", "-c", "awk '/<!-- test-command -->/{getline; while ($0 !~ "
                        "/^[^`]/ || $0 ~ /^```/) getline; print; exit}' README.md"],
                       capture_output=True, text=True, cwd=REPO)
    assert r.stdout.strip() == m.group(1).strip()
    assert "awk '/<!-- test-command -->/" in (REPO / ".ci" / "run").read_text()
    quick = re.findall(r"```bash\n(scripts/setup.sh && [^\n]+)\n```", readme)
    assert len(quick) == 2 and "samples/" in quick[0]


def test_docvlm_never_imports_celery_or_workers():
    for path in (REPO / "docvlm").rglob("*.py"):
        src = path.read_text()
        assert not re.search(r"^\s*(import|from)\s+(celery|workers)\b", src, re.M), path


def test_text_layer_extraction_does_not_import_torch(tmp_path):
    """The CLI's text path starts fast: no torch/transformers import without a model."""
    code = ("import sys, docvlm.cli as c; "
            f"rc = c.main(['extract', {str(REPO / 'samples' / 'invoice.pdf')!r}, '-q', "
            f"'-o', {str(tmp_path / 'o.json')!r}]); "
            "assert rc == 0, rc; "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
