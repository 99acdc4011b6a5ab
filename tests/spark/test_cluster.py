"""A real Spark standalone cluster (a master and a worker started from the PySpark
distribution, on loopback): `spark sessionize --master spark://...` derives the same tables as
local mode, in full and incrementally, and an executor killed mid-run costs a retry, not the
run (issue 22)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyspark
import pytest
from lakes import add_last_files, lake_rows, small_lake
from server import free_port

from convoscope.engines import spark as engine
from convoscope.lake import Lake

pytestmark = pytest.mark.slow
SPARK_HOME = Path(pyspark.__file__).parent


def _daemon(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [str(SPARK_HOME / "bin" / "spark-class"), *args],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[str]:
    """A standalone master and one worker (2 cores), stopped afterwards; the master's URL."""
    tmp = tmp_path_factory.mktemp("cluster")
    port, ui = free_port(), free_port()
    env = {
        **os.environ,
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_WORKER_DIR": str(tmp / "work"),
        "SPARK_LOCAL_DIRS": str(tmp / "local"),
        "SPARK_LOG_DIR": str(tmp / "logs"),
        "PYSPARK_PYTHON": sys.executable,
    }
    url = f"spark://127.0.0.1:{port}"
    master = _daemon(
        [
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(ui),
        ],
        tmp / "master.log",
        env,
    )
    worker = _daemon(
        [
            "org.apache.spark.deploy.worker.Worker",
            url,
            "--host",
            "127.0.0.1",
            "--cores",
            "2",
            "--memory",
            "2g",
            "--webui-port",
            str(free_port()),
        ],
        tmp / "worker.log",
        env,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the master's status page lists the worker
            try:
                status = httpx.get(f"http://127.0.0.1:{ui}/json/", timeout=2).json()
                if status.get("aliveworkers", 0) >= 1:
                    break
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(1)
        else:
            raise RuntimeError((tmp / "worker.log").read_text()[-2000:])
        yield url
    finally:
        for proc in (worker, master):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def _sessionize(
    lake: Lake | str, master: str, conf: Path | None = None
) -> subprocess.CompletedProcess:
    """The command as a process, on a lake's directory or URL, with Spark's settings from
    `conf` (a `SPARK_CONF_DIR`) when given."""
    where = lake if isinstance(lake, str) else str(lake.root)
    command = [sys.executable, "-m", "convoscope", "spark", "sessionize", "--lake", where]
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    if conf is not None:
        env["SPARK_CONF_DIR"] = str(conf)
    return subprocess.run(
        [*command, "--master", master], env=env, capture_output=True, text=True, timeout=600
    )


def _executors() -> list[int]:
    found = subprocess.run(
        ["pgrep", "-f", "CoarseGrainedExecutorBackend"], capture_output=True, text=True
    )
    return [int(p) for p in found.stdout.split()]


def _full_run_losing_its_executor(lake: Lake, master: str) -> str:
    """`spark sessionize` on the cluster, its executor SIGKILLed a few seconds into the run:
    what became of the run ("finished", or "failed cleanly" and run again)."""
    command = [sys.executable, "-m", "convoscope", "spark", "sessionize", "--lake", str(lake.root)]
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    run = subprocess.Popen(
        [*command, "--master", master], env=env, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not _executors() and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(8)  # into the run: the cut's first frames are kept by then
    killed = _executors()
    assert killed, "no executor started"
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    _, stderr = run.communicate(timeout=600)
    if run.returncode == 0:
        return "finished"
    assert "Traceback" not in stderr and lake.manifest() is None, stderr[-3000:]
    assert _sessionize(lake, master).returncode == 0
    return "failed cleanly"


def test_the_cluster_derives_what_local_mode_derives_and_survives_a_lost_executor(
    spark, cluster, tmp_path
):
    """A full run whose executor is killed mid-run, then an incremental run, on the cluster;
    the same runs in local mode (in process): the same tables after each. The incremental run
    names the lake by a `viewfs://` URL, a Hadoop mount table set in `spark-defaults.conf` as
    a platform sets its file systems: the driver and the executors (other JVMs) reach the
    files through Hadoop's API alone."""
    on_cluster, local = small_lake(tmp_path / "cluster"), small_lake(tmp_path / "local")
    fate = _full_run_losing_its_executor(on_cluster, cluster)
    engine.sessionize(spark, local)
    assert lake_rows(spark, on_cluster.root) == lake_rows(spark, local.root)
    add_last_files(on_cluster)
    add_last_files(local)
    started = time.monotonic()
    conf = tmp_path / "conf"
    conf.mkdir()
    mount = f"spark.hadoop.fs.viewfs.mounttable.cluster.link./lake {on_cluster.root.as_uri()}"
    (conf / "spark-defaults.conf").write_text(mount + "\n")
    ran = _sessionize("viewfs://cluster/lake", cluster, conf)
    took = time.monotonic() - started
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert '"mode": "incremental"' in ran.stderr
    assert engine.sessionize(spark, local)["mode"] == "incremental"
    assert lake_rows(spark, on_cluster.root) == lake_rows(spark, local.root)
    print(f"the full run after its executor was killed: {fate}; incremental: {took:.1f} s")
