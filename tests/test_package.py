"""The built wheel is the whole product: built from this tree (the build hook brings the
front-end assets), installed into a fresh virtualenv that has no access to the source tree,
it serves the page, its modules, the charts and the API docs."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import httpx
import pytest
from server import free_port

pytestmark = [pytest.mark.server, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str | Path, cwd: Path) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "-q", "-w", tmp / "dist", cwd=tmp)
    (wheel,) = (tmp / "dist").glob("convoscope-*.whl")
    env = tmp / "env"
    venv.create(env, with_pip=True)
    # Dependencies come from the test environment's site-packages through a plain path entry
    # (its .pth files, among them the editable install of this tree, are not processed).
    deps = sysconfig.get_paths()["purelib"]
    (site,) = (env / "lib").glob("python3*/site-packages")
    (site / "deps.pth").write_text(deps + "\n")
    run(env / "bin" / "python", "-m", "pip", "install", "--no-deps", "-q", wheel, cwd=tmp)
    return env


def test_the_wheel_alone_serves_the_whole_page(wheel_env, tmp_path):
    python = wheel_env / "bin" / "python"
    where = run(python, "-c", "import convoscope; print(convoscope.__file__)", cwd=tmp_path)
    assert where.startswith(str(wheel_env)), where
    db = tmp_path / "w.duckdb"
    run(wheel_env / "bin" / "convoscope", "workspace", "create", "w", "--db", db, cwd=tmp_path)
    port = free_port()
    proc = subprocess.Popen(
        [wheel_env / "bin" / "convoscope", "serve", "--port", str(port), "--db", db],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
            for _ in range(100):
                try:
                    c.get("/healthz")
                    break
                except httpx.TransportError:
                    subprocess.run(["sleep", "0.1"], check=True)
            for path in (
                "/login",
                "/static/js/overview.js",
                "/static/js/shell.js",
                "/static/app.css",
                "/static/vendor/echarts.min.js",
                "/static/vendor/swagger-ui-bundle.js",
                "/static/vendor/swagger-ui.css",
                "/docs",
            ):
                r = c.get(path)
                assert r.status_code == 200 and len(r.content) > 100, path
    finally:
        proc.terminate()
        proc.wait(30)
