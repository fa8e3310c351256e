"""The Dockerfile (no Docker engine runs here, so its properties are checked by parsing), the README's two
commands, the Makefile targets they name, and the rule table generated from the registry."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import fwp_core.registry as registry

ROOT = Path(__file__).resolve().parent.parent


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, argument) pairs with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, arg = line.partition(" ")
        out.append((instr.upper(), arg.strip()))
    return out


def test_dockerfile_slim_base_non_root_workdir_port() -> None:
    steps = dockerfile()
    instrs = [i for i, _ in steps]
    froms = [a for i, a in steps if i == "FROM"]
    assert len(froms) == 1 and "slim" in froms[0]
    assert "WORKDIR" in instrs and "EXPOSE" in instrs
    assert [a for i, a in steps if i == "EXPOSE"] == ["8501"]
    users = [a for i, a in steps if i == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert instrs.index("USER") > max(k for k, i in enumerate(instrs) if i == "RUN")  # nothing runs as root after USER


def test_dockerfile_installs_the_files_make_uses_and_cpu_torch() -> None:
    steps = dockerfile()
    runs = " ".join(a for i, a in steps if i == "RUN")
    assert "-r requirements.txt" in runs
    copies = " ".join(a for i, a in steps if i == "COPY")
    assert "requirements.txt" in copies
    args = {a.split("=")[0]: a.split("=", 1)[1] for i, a in steps if i == "ARG" and "=" in a}
    assert args["TORCH_INDEX"].endswith("/whl/cpu")
    makefile = (ROOT / "Makefile").read_text()
    assert "-r requirements.txt" in makefile
    assert "torch==2.13.0" in (ROOT / "requirements.txt").read_text()


def test_dockerfile_healthcheck_uses_python_and_cmd_runs_streamlit() -> None:
    steps = dockerfile()
    health = [a for i, a in steps if i == "HEALTHCHECK"]
    assert health and "/_stcore/health" in health[0] and "python" in health[0] and "curl" not in health[0]
    cmd = [a for i, a in steps if i == "CMD"][-1]
    argv = ast.literal_eval(cmd)
    assert argv[:3] == ["python", "-m", "app.serve"]  # warms up, then `streamlit run app/main.py`
    assert "--server.address=0.0.0.0" in argv and "--server.headless=true" in argv
    copied = {a.split()[0] for i, a in steps if i == "COPY"}
    for needed in ("fwp_core", "app", "pages", "lessons", ".streamlit"):  # everything the app reads at run time
        assert needed in copied, needed


def test_dockerignore_keeps_the_image_small() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", "tests"):
        assert entry in ignored


def test_readme_starts_with_the_two_commands_and_make_has_them() -> None:
    readme = (ROOT / "README.md").read_text()
    head = readme[: readme.index("\n## ")]
    blocks = re.findall(r"```(?:\w+)?\n(.*?)```", head, flags=re.S)
    commands = [c.strip() for b in blocks for c in b.strip().splitlines() if c.strip() and not c.startswith("#")]
    assert commands == ["make run", "make test"]
    targets = re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), flags=re.M)
    assert "run" in targets and "test" in targets
    ci = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines() if not line.lstrip().startswith("#")]
    assert ci.index("scripts/install-browser") < ci.index("make test")  # CI and make test install Chromium one way
    recipe = re.search(r"^test:.*?\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), flags=re.M).group(1)
    assert recipe.strip().splitlines()[0].strip() == "scripts/install-browser"
    assert "not browser" not in recipe  # make test never leaves the browser tests out; make test-fast does, on purpose
    assert '"$APT_GET" install -y -q chromium chromium-driver' in (ROOT / "scripts/install-browser").read_text()


def test_install_browser_stops_with_the_command_to_run_where_it_cannot_install(tmp_path) -> None:
    env = {**os.environ, "CHROMIUM": str(tmp_path / "no-chromium"), "APT_GET": str(tmp_path / "no-apt-get")}
    proc = subprocess.run(["bash", str(ROOT / "scripts/install-browser")], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert "sudo scripts/install-browser" in proc.stderr and "make test-fast" in proc.stderr
    present = tmp_path / "chromium"
    present.write_text("#!/bin/sh\n")
    present.chmod(0o755)
    ok = subprocess.run(["bash", str(ROOT / "scripts/install-browser")], env={**env, "CHROMIUM": str(present)},
                        capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0 and not ok.stderr


def test_browser_tests_fail_rather_than_skip_without_chromium(monkeypatch) -> None:
    from tests.browser import conftest as browser_conftest

    monkeypatch.setattr(browser_conftest, "CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.fail.Exception, match="sudo scripts/install-browser"):
        browser_conftest.require_chromium()


def test_readme_rule_table_is_generated_from_the_registry() -> None:
    assert registry.rules_markdown() in (ROOT / "README.md").read_text()


def test_serve_warms_up_then_hands_every_option_to_streamlit_run(monkeypatch) -> None:
    from app import serve

    calls = []
    monkeypatch.setattr(serve, "warm_up", lambda: calls.append("warm") or 0.5)
    import streamlit.web.cli as cli

    monkeypatch.setattr(cli, "main", lambda args, **kw: calls.append(("run", args, kw)) or 0)
    assert serve.main(["--server.port", "8600", "--server.headless=true"]) == 0
    assert calls[0] == "warm"
    _, args, kw = calls[1]
    assert args == ["run", str(ROOT / "app" / "main.py"), "--server.port", "8600", "--server.headless=true"]
    assert kw["prog_name"] == "streamlit"


def test_warm_up_runs_a_step_without_a_streamlit_runtime() -> None:
    """In a fresh interpreter (this test process has imported everything already), warm_up loads what the pages need
    and returns its duration, without a Streamlit runtime."""
    code = ("import json, sys; from app import serve; took = serve.warm_up(); "
            "print(json.dumps({'took': took, 'mods': [m for m in ('torch', 'fwp_core', 'app.cache', 'app.figures', "
            "'plotly.io') if m in sys.modules]}))")
    before = subprocess.run([sys.executable, "-c", "import sys; from app import serve; print('app.cache' in sys.modules)"],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert before.stdout.strip() == "False"  # importing serve alone loads nothing heavy
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["took"] > 0
    assert got["mods"] == ["torch", "fwp_core", "app.cache", "app.figures", "plotly.io"]
