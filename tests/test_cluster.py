"""Batch work and training on a real Ray cluster, and on a local process pool.

The Ray tests need a running head: ``.ci/run`` starts one on 127.0.0.1 with
2 CPUs and exports its address in ``MOCAP_AE_RAY_ADDRESS`` (and the
dashboard's in ``MOCAP_AE_RAY_DASHBOARD``); without it they skip, saying how
to start one, except where ``MOCAP_AE_RAY_REQUIRED`` is set (CI's latest leg),
where its absence fails. Never a mock, never ``local_mode``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from maya_tool import cli, cluster, jobs
from maya_tool.errors import MocapError
from maya_tool.commands.evaluate import read_clips
from maya_tool.evaluate import evaluate_many
from maya_tool.io import write_clip
from maya_tool.models import architectures, runtime
from tests import synth

ROOT = Path(__file__).resolve().parent.parent
RAY_HELP = (
    "start a local Ray head: `ray start --head --node-ip-address 127.0.0.1 --num-cpus 2 --dashboard-host 127.0.0.1 "
    "--disable-usage-stats`, then set MOCAP_AE_RAY_ADDRESS=127.0.0.1:6379 (and MOCAP_AE_RAY_DASHBOARD="
    "http://127.0.0.1:8265 if it is elsewhere); `ray stop` ends it"
)


def _ray_or_skip() -> None:
    required = bool(os.environ.get("MOCAP_AE_RAY_REQUIRED"))
    try:
        import ray  # noqa: F401
    except ImportError:
        if required:
            pytest.fail('Ray is not installed in CI\'s cluster leg: pip install -e ".[cluster]"')
        pytest.skip('Ray is not installed: pip install -e ".[cluster]"')


@pytest.fixture(scope="session")
def ray_cluster() -> dict[str, str]:
    """The running Ray head's addresses: tasks (``address``) and Jobs API (``dashboard``)."""
    _ray_or_skip()
    address = os.environ.get("MOCAP_AE_RAY_ADDRESS")
    if not address:
        if os.environ.get("MOCAP_AE_RAY_REQUIRED"):
            pytest.fail(f"no Ray cluster in CI (MOCAP_AE_RAY_ADDRESS is unset): {RAY_HELP}")
        pytest.skip(f"no Ray cluster: {RAY_HELP}")
    dashboard = os.environ.get("MOCAP_AE_RAY_DASHBOARD") or cluster.parse_address(address).dashboard
    yield {"address": address, "dashboard": dashboard}
    import ray

    if ray.is_initialized():
        ray.shutdown()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Four small clips and an untrained temporal model (numpy only)."""
    folder = tmp_path_factory.mktemp("clips")
    skeleton = synth.cmu_like_skeleton(0)
    paths = []
    for i in range(4):
        path = folder / f"take_{i:02d}.csv"
        write_clip(synth.smooth_clip(120 + 30 * i, seed=i, skeleton=skeleton), path)
        paths.append(path)
    model_path = architectures.untrained_model_set(
        tmp_path_factory.mktemp("model"), "tiny", "temporal", list(skeleton.names), params={"window": 32}
    )
    model = runtime.load_model(model_path)
    local = evaluate_many(read_clips(paths), model).summary()
    return {"folder": folder, "paths": paths, "model": model, "model_path": model_path, "local": local}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ----------------------------------------------------------------- no Ray
def test_maya_side_and_core_never_import_ray() -> None:
    code = (
        "import sys\n"
        "import maya_tool.nodecore, maya_tool.cluster, maya_tool.cli, maya_tool.jobs\n"
        "import maya_tool.ui.panel, maya_tool.ui.jobrunner, maya_tool.ui.jobs_view\n"
        "from maya_tool.commands import train, evaluate\n"
        "from maya_tool.cli import build_parser\n"
        "build_parser().parse_args(['train', 'x.npz', '--name', 'a', '--ray', 'h'])\n"
        "assert 'ray' not in sys.modules, sorted(m for m in sys.modules if m.startswith('ray'))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_addresses() -> None:
    assert cluster.parse_address("10.0.0.5") == cluster.Address("10.0.0.5", "10.0.0.5", "10.0.0.5:6379",
                                                                "http://10.0.0.5:8265")
    assert cluster.parse_address("http://head:8270").cluster == "head:6379"
    assert cluster.parse_address("ray://head").cluster == "ray://head:10001"
    assert cluster.parse_address("head:6390").dashboard == "http://head:8265"
    for bad in ("", "ftp://x", "head:port"):
        with pytest.raises(MocapError):
            cluster.parse_address(bad)


def test_train_argv_rebuilds_the_spec() -> None:
    from maya_tool.commands.train import build_spec

    spec = jobs.JobSpec(name="t", inputs=["/a b/x.npz", "/c"], architecture="temporal", output_dir="/out",
                        epochs=7, batch_size=4, noise=[0.01, 0.05], seed=3, fps=30.0, validation_fraction=0.2,
                        params={"window": 32, "units": [8, 4], "high_ratio": True}, resume=True)
    argv = cluster.train_argv(spec, job_id="j1")
    args = cli.build_parser().parse_args(argv[1:])
    assert build_spec(args) == spec and args.job == "j1"


def test_local_pool_equals_one_process(batch) -> None:
    outputs, report = cluster.model_outputs_on_workers(batch["model"], batch["paths"], workers=2, progress=False)
    assert report.backend == "local pool of 2" and not report.failed
    assert evaluate_many(read_clips(batch["paths"]), batch["model"], outputs=outputs).summary() == batch["local"]


def test_a_bad_input_is_reported_and_the_rest_finish(batch, tmp_path) -> None:
    missing = str(tmp_path / "not-there.csv")
    paths = [str(batch["paths"][0]), missing, str(batch["paths"][1])]
    _, report = cluster.model_outputs_on_workers(batch["model"], paths, workers=2, progress=False)
    assert [o.ok for o in report.outcomes] == [True, False, True]
    error = report.failed[0].error
    assert missing in error and "cannot read this input" in error and "storage every node sees" in error


def test_cli_evaluate_with_workers_writes_the_local_json(batch, tmp_path) -> None:
    args = ["evaluate", "--model", str(batch["model_path"]), str(batch["folder"]), "--no-baselines"]
    assert cli.main([*args, "--json", str(tmp_path / "local.json")]) == 0
    assert cli.main([*args, "--workers", "2", "--json", str(tmp_path / "pool.json")]) == 0
    assert (tmp_path / "pool.json").read_bytes() == (tmp_path / "local.json").read_bytes()


def _clean_outputs(folder: Path) -> dict[str, object]:
    """Every cleaned file's bytes and every report (less its own output path), by name."""
    import json

    found: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        if path.name.endswith(".clean.json"):
            report = json.loads(path.read_text())
            report.pop("output")
            found[path.name] = report
        elif path.is_file():
            found[path.name] = path.read_bytes()
    return found


def _clean(batch, out: Path, *extra: str) -> int:
    return cli.main(["clean", "--model", str(batch["model_path"]), str(batch["folder"]), "-o", str(out), *extra])


@pytest.fixture(scope="module")
def cleaned_here(batch, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("clean-local")
    assert _clean(batch, out) == 0
    return _clean_outputs(out)


def test_clean_on_a_local_pool_equals_one_process(batch, cleaned_here, tmp_path) -> None:
    assert _clean(batch, tmp_path / "pool", "--workers", "2") == 0
    assert _clean_outputs(tmp_path / "pool") == cleaned_here and len(cleaned_here) == 12  # csv, skeleton, report


# -------------------------------------------------------------------- Ray
def test_clean_on_ray_equals_the_local_run(batch, cleaned_here, ray_cluster, tmp_path, capsys) -> None:
    assert _clean(batch, tmp_path / "ray", "--ray", ray_cluster["address"]) == 0
    assert _clean_outputs(tmp_path / "ray") == cleaned_here
    assert "4 cleaned, 0 skipped" in capsys.readouterr().out


def test_a_wrong_address_fails_clearly_within_seconds(batch, capsys) -> None:
    _ray_or_skip()
    wrong = f"127.0.0.1:{_free_port()}"
    start = time.monotonic()
    with pytest.raises(MocapError, match="cannot reach a Ray cluster"):
        cluster.model_outputs_on_workers(batch["model"], batch["paths"][:1], ray_address=wrong, progress=False)
    code = cli.main(["train", str(batch["paths"][0]), "--name", "x", "--ray", f"http://{wrong}"])
    assert code == jobs.EXIT_ERROR
    event = jobs.parse_event(capsys.readouterr().out.strip().splitlines()[-1])
    assert event is not None and event["event"] == "error" and "cannot reach a Ray cluster" in event["message"]
    assert time.monotonic() - start < 10


def test_batch_on_ray_equals_the_local_run(batch, ray_cluster, tmp_path) -> None:
    outputs, report = cluster.model_outputs_on_workers(batch["model"], batch["paths"],
                                                       ray_address=ray_cluster["address"], progress=False)
    assert report.backend.startswith("ray ") and not report.failed and len(report.outcomes) == 4
    assert evaluate_many(read_clips(batch["paths"]), batch["model"], outputs=outputs).summary() == batch["local"]
    args = ["evaluate", "--model", str(batch["model_path"]), str(batch["folder"]), "--no-baselines"]
    assert cli.main([*args, "--json", str(tmp_path / "local.json")]) == 0
    assert cli.main([*args, "--ray", ray_cluster["address"], "--json", str(tmp_path / "ray.json")]) == 0
    assert (tmp_path / "ray.json").read_bytes() == (tmp_path / "local.json").read_bytes()


def test_a_bad_input_on_ray_names_the_node(batch, ray_cluster, tmp_path) -> None:
    missing = str(tmp_path / "elsewhere" / "take.csv")
    _, report = cluster.model_outputs_on_workers(batch["model"], [missing, str(batch["paths"][0])],
                                                 ray_address=ray_cluster["address"], progress=False)
    assert [o.ok for o in report.outcomes] == [False, True]
    assert f"worker on node {socket.gethostname()} cannot read this input" in report.failed[0].error


def die_on_first_attempt(marker_dir: str, item: str) -> str:
    """A task whose first run is killed from outside (SIGKILL of its worker) while it works."""
    marker = Path(marker_dir) / f"{item}.pid"
    if item == "victim" and not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(60)  # killed meanwhile
    return f"{item} done by {os.getpid()}"


def always_fails(marker_dir: str, item: str) -> str:
    with open(Path(marker_dir) / f"{item}.attempts", "a") as handle:
        handle.write("x")
    if item == "bad":
        raise RuntimeError("this task always fails")
    return item


def test_a_killed_task_is_retried_and_a_failing_one_reported(ray_cluster, tmp_path) -> None:
    import signal

    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers need not import the tests
    try:
        result: dict = {}
        thread = threading.Thread(target=lambda: result.update(report=cluster.run_batch(
            die_on_first_attempt, ["a", "victim", "b"], str(tmp_path), ray_address=ray_cluster["address"],
            progress=False)))
        thread.start()
        marker = tmp_path / "victim.pid"
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        pid = int(marker.read_text())
        os.kill(pid, signal.SIGKILL)
        thread.join(90)
        report = result["report"]
        assert [o.ok for o in report.outcomes] == [True, True, True]
        victim = report.outcomes[1].value
        assert victim.startswith("victim done by") and not victim.endswith(str(pid)), "the retry ran in a new worker"

        report = cluster.run_batch(always_fails, ["x", "bad", "y"], str(tmp_path), ray_address=ray_cluster["address"],
                                   progress=False)
        assert [o.ok for o in report.outcomes] == [True, False, True]
        assert "this task always fails" in report.failed[0].error
        assert (tmp_path / "bad.attempts").read_text() == "xx", "run once more, then reported"
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def slow_task(marker_dir: str, item: int) -> int:
    """Two seconds of work, then a file saying it ran to the end."""
    time.sleep(2.0)
    (Path(marker_dir) / f"{item}.done").write_text("done")
    return item


def test_stopping_a_ray_batch_cancels_the_tasks_not_done(ray_cluster, tmp_path) -> None:
    """What Ctrl-C does: the batch's iterator closed early cancels every task still queued or running."""
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        batch_iter = cluster.iter_batch(slow_task, list(range(8)), str(tmp_path), ray_address=ray_cluster["address"])
        first_index, first = next(batch_iter)
        assert first.ok
        batch_iter.close()  # KeyboardInterrupt in the consumer closes it the same way
        time.sleep(5.0)  # long enough for two more rounds on 2 CPUs, had they not been cancelled
        done = sorted(int(p.stem) for p in tmp_path.glob("*.done"))
        assert first_index in done and len(done) <= 3, done
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def train_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from maya_tool.dataset import dataset_from_clips

    folder = tmp_path_factory.mktemp("train")
    skeleton = synth.cmu_like_skeleton(0)
    clips = [synth.smooth_clip(240, seed=1, skeleton=skeleton), synth.smooth_clip(200, seed=2, skeleton=skeleton)]
    paths = [folder / "synth_01.csv", folder / "synth_02.csv"]
    for clip, path in zip(clips, paths):
        write_clip(clip, path)
    return dataset_from_clips(list(zip(paths, clips))).save(folder / "train.npz")


TINY = {"architecture": "pose", "epochs": 40, "batch_size": 1, "seed": 0}
"""A small real job: the pose model, epochs of ~400 one-frame steps on two short clips.

About a second an epoch on an idle 2-core machine: long enough that a stop sent on the first
progress event lands mid-run, however fast the machine, short enough for CI."""


@pytest.mark.slow
def test_training_through_the_jobs_api_streams_cancels_resumes_and_finishes(ray_cluster, train_data, tmp_path,
                                                                           capsys) -> None:
    out = tmp_path / "models"
    spec = jobs.JobSpec(name="tiny", inputs=[str(train_data)], output_dir=str(out), **TINY)
    dashboard = ray_cluster["dashboard"]
    submission = cluster.submit_training(dashboard, spec, job_id="job-1", program=(sys.executable, "-m", "maya_tool"))
    events_path = tmp_path / "events.jsonl"
    stopped: list[threading.Thread] = []

    def on_event(event: dict) -> None:
        if event["event"] == "progress" and not stopped:
            stopped.append(threading.Thread(target=cluster.stop_job, args=(dashboard, submission)))
            stopped[0].start()

    status, terminal = cluster.follow_job(dashboard, submission, events_path, on_event=on_event)
    events, _ = jobs.read_events(events_path)
    assert events[0]["event"] == "start" and events[0]["job"] == "job-1"
    assert terminal is not None and terminal["event"] == "cancelled", cluster.job_log_tail(dashboard, submission)
    assert "SIGTERM" in terminal["message"] and status == "STOPPED"
    assert (out / ".tiny.checkpoint" / "state.json").is_file() and not (out / "tiny.json").exists()
    # Following again (a panel restarted) adds nothing: every event is already in the file.
    cluster.follow_job(dashboard, submission, events_path)
    assert jobs.read_events(events_path)[0] == events

    # Resumed through the CLI, as an artist would: only the name and folder, the checkpoint knows the rest.
    capsys.readouterr()
    code = cli.main(["train", "--name", "tiny", "-o", str(out), "--resume", "--ray", dashboard,
                     "--events", str(events_path)])
    printed = [e for e in map(jobs.parse_event, capsys.readouterr().out.splitlines()) if e]
    assert code == jobs.EXIT_DONE, printed[-1:]
    assert printed[0]["event"] == "start" and printed[0]["resumed"] is True and printed[-1]["event"] == "done"
    first = next(e for e in printed if e["event"] == "progress")
    assert (first["epoch"], first["step"]) > (terminal["epoch"], terminal["step"])
    assert Path(printed[-1]["model"]) == out / "tiny.json" and (out / "tiny.npz").is_file()
    assert runtime.load_model(out / "tiny.json", cache=False).meta["training"]["resumed"] == 1
    all_events = jobs.read_events(events_path)[0]
    assert all_events[: len(events)] == events and all_events[len(events):] == printed


def test_spec_paths_are_made_absolute_for_the_cluster(ray_cluster, train_data, tmp_path, monkeypatch) -> None:
    """Relative paths mean nothing on another node: the submitted command has absolute ones."""
    monkeypatch.chdir(train_data.parent)
    spec = jobs.JobSpec(name="rel", inputs=[train_data.name], output_dir="models", **{**TINY, "epochs": 1})
    client = cluster.job_client(ray_cluster["dashboard"])
    submission = cluster.submit_training(ray_cluster["dashboard"], replace(spec, name="rel"), job_id="rel-1",
                                         program=("true",))
    deadline = time.monotonic() + 60
    while str(client.get_job_status(submission).value) not in cluster.TERMINAL_STATUSES:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    entrypoint = client.get_job_info(submission).entrypoint
    assert f"--output-dir {train_data.parent / 'models'}" in entrypoint and f"-- {train_data}" in entrypoint
