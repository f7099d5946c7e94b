"""What a failed --sync run shows in the terminal, and what a worker's log gets."""

import logging
import subprocess
import sys
from pathlib import Path

from apps.workflows.engine.runner import task_run
from apps.workflows.models import Execution
from apps.workflows.services import algorithm_run

ROOT = Path(__file__).resolve().parent.parent.parent
SETUP = """
from apps.data.models import Namespace
from apps.workflows.models import Algorithm
from apps.workflows.services import element_save
ns = Namespace.objects.create(name="crm")
element_save(model=Algorithm, namespace=ns, name="boom", code="return 1 // 0")
"""


def test_a_failed_sync_run_prints_one_line_and_no_traceback(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "ENV_FILE": str(tmp_path / "x"),
           "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}  # fmt: skip

    def manage(*args):
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    assert manage("migrate", "-v0").returncode == 0
    assert manage("shell", "-c", SETUP).returncode == 0
    for command in (["run_algorithm", "crm.boom", "--sync"],):
        result = manage(*command)
        assert result.returncode == 1
        assert "Traceback" not in result.stderr, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("CommandError: Algorithm crm.boom failed (task #1):")
        assert "division" in lines[0]


def test_the_worker_log_gets_one_warning_line_and_the_execution_the_traceback(algorithm, caplog):
    boom = algorithm("boom", "return 1 // 0")
    task = algorithm_run(algorithm=boom, arguments={})
    with caplog.at_level(logging.INFO, logger="apps.workflows.engine.runner"):
        assert task_run(task.pk, worker="w1") == "failed"
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].exc_info is None
    assert f"Task #{task.pk} attempt 1 failed" in warnings[0].getMessage()
    assert "\n" not in warnings[0].getMessage()
    execution = Execution.objects.get(task=task)
    assert "Traceback (most recent call last)" in execution.traceback
