"""Run the conversation test stories with `rasa test core` against the current model."""

import json
import subprocess
import sys

import pytest

from actions.ops import ROOT, ensure_model, rasa_env

pytestmark = pytest.mark.e2e


def test_conversation_stories(tmp_path):
    model = ensure_model(quiet=True)
    out = tmp_path / "results"
    result = subprocess.run(
        [sys.executable, "-m", "actions.rasa_launcher", "test", "core", "--stories", "tests/test_stories.yml", "--model", str(model),
         "--out", str(out), "--quiet"],
        cwd=ROOT, env=rasa_env(ACTION_SERVER_URL="http://127.0.0.1:9/webhook"), capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    failed = (out / "failed_test_stories.yml").read_text(encoding="utf-8") if (out / "failed_test_stories.yml").exists() else ""
    report = json.loads((out / "story_report.json").read_text(encoding="utf-8"))
    assert "stories:" not in failed or failed.strip().endswith("stories: []"), failed
    assert report["accuracy"] == 1.0
