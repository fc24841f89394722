"""Tests of the mvm package's Python face: Repo against real repositories, typed results, error classes,
the CLI finder, help() text, and the build backend's wheel and sdist.

Run from the repository root after `npm run build`:
    MVM_BIN=bin/mvm.js python3 -m unittest discover -s python/tests -v
"""

import base64
import csv
import hashlib
import importlib.util
import io
import json
import os
import pydoc
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
sys.path.insert(0, PYTHON_DIR)

import mvm  # noqa: E402
from mvm import results  # noqa: E402

MVM_JS = os.path.join(os.path.dirname(PYTHON_DIR), "bin", "mvm.js")
os.environ.setdefault("MVM_BIN", MVM_JS)
os.environ["MVM_AUTHOR"] = "Py Test <py@example.com>"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


class RepoTest(unittest.TestCase):
    """Repo's methods against a repository the CLI made, three versions deep (a copy per test)."""

    @classmethod
    def setUpClass(cls):
        cls.template = tempfile.mkdtemp(prefix="mvm-pyrepo-template-")
        subprocess.run(["git", "init", "-q", cls.template], check=True)
        repo = mvm.init(cls.template)
        model = os.path.join(cls.template, "models", "model.bin")
        write(model, bytes([0]) * 9000)
        cls.added = repo.add("models")
        # accuracy peaks at v2, loss falls to v3
        cls.made = []
        for epoch, (acc, loss) in enumerate([(0.80, 0.9), (0.93, 0.5), (0.88, 0.4)], start=1):
            write(model, bytes([epoch]) * 9000)
            metrics = {"accuracy": acc, "loss": loss}
            cls.made.append(repo.commit(f"epoch {epoch}", metrics=metrics, params={"epoch": epoch}))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.template, ignore_errors=True)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mvm-pyrepo-")
        self.dir = os.path.join(self.tmp, "proj")
        shutil.copytree(self.template, self.dir, symlinks=True)
        self.repo = mvm.Repo(self.dir)
        self.model = os.path.join(self.dir, "models", "model.bin")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_commit_log_show_best_compare_annotate(self):
        made = self.made
        self.assertEqual(self.added.tracked, ["models"])
        self.assertIsInstance(made[0], mvm.CommitResult)
        self.assertEqual([c.number for c in made], [1, 2, 3])
        self.assertTrue(all(c.created for c in made))
        self.assertEqual(made[0].logical_bytes, 9000)
        self.assertGreater(made[0].stored_bytes, 0)
        self.assertEqual(made[0].changes, [{"path": "models/model.bin", "status": "added"}])

        entries = self.repo.log()
        self.assertIsInstance(entries[0], mvm.LogEntry)
        self.assertEqual([e.number for e in entries], [3, 2, 1])
        self.assertEqual(entries[0].metrics, {"accuracy": 0.88, "loss": 0.4})
        self.assertEqual(entries[2].params, {"epoch": 1})
        self.assertEqual([e.number for e in self.repo.log(where="metrics.accuracy > 0.85")], [3, 2])
        self.assertEqual([e.number for e in self.repo.log(n=1)], [3])

        v2 = self.repo.show("v2")
        self.assertIsInstance(v2, mvm.Version)
        self.assertEqual((v2.id, v2.number, v2.message), (made[1].id, 2, "epoch 2"))
        self.assertEqual(v2.files["models/model.bin"]["size"], 9000)
        self.assertEqual(v2.parents, [made[0].id])

        best = self.repo.best("accuracy")
        self.assertEqual((best.number, best.value, best.direction, best.candidates), (2, 0.93, "higher", 3))
        self.assertEqual(self.repo.best("loss").number, 3)
        self.assertEqual(self.repo.best("accuracy", lower_is_better=True).number, 1)
        self.assertEqual(self.repo.best("accuracy", where="params.epoch != 2").number, 3)

        cmp = self.repo.compare("v1", "v2")
        self.assertEqual([c.number for c in cmp.columns], [1, 2])
        self.assertEqual(cmp.columns[1].metrics["accuracy"], 0.93)
        self.assertAlmostEqual(cmp.columns[1].deltas["accuracy"], 0.13)
        self.assertEqual(cmp.columns[1].verdicts["loss"], "better")
        self.assertEqual(cmp.directions["loss"], "lower")

        note = self.repo.annotate("v1", metrics={"f1": 0.5}, note="held-out set")
        self.assertEqual((note.target, note.number), (made[0].id, 1))
        self.assertEqual((note.metrics, note.note), ({"f1": 0.5}, "held-out set"))
        self.assertEqual(self.repo.show("v1").metrics["f1"], 0.5)

    def test_refusals_and_errors(self):
        fresh = mvm.init(os.path.join(self.tmp, "fresh"))
        with self.assertRaises(mvm.RefusedError) as cm:
            fresh.commit("nothing tracked")
        self.assertEqual(cm.exception.code, "NOTHING_TRACKED")
        with self.assertRaises(mvm.AlreadyARepositoryError) as cm:
            mvm.init(self.dir)
        self.assertIsInstance(cm.exception, mvm.RepositoryError)
        with self.assertRaises(mvm.NotARepositoryError):
            mvm.Repo(self.tmp)
        with self.assertRaises(mvm.NotFoundError) as cm:
            self.repo.show("v99")
        self.assertEqual((cm.exception.code, cm.exception.exit_code), ("UNKNOWN_REVISION", 4))
        with self.assertRaises(mvm.UsageError) as cm:
            self.repo.log(where="metrics.accuracy >")
        self.assertEqual(cm.exception.code, "BAD_EXPRESSION")
        self.assertIsInstance(cm.exception, mvm.MvmError)
        made = self.made
        again = self.repo.commit("again")
        self.assertFalse(again.created)
        self.assertEqual(again.id, made[-1].id)
        # metrics with no file change: older mvm returns created=False, newer refuses with NOTHING_TO_COMMIT
        try:
            r = self.repo.commit("again", metrics={"accuracy": 0.5})
            self.assertFalse(r.created)
        except mvm.NothingToCommitError as e:
            self.assertEqual((e.code, e.exit_code), ("NOTHING_TO_COMMIT", 1))
            self.assertIsInstance(e, mvm.RefusedError)
        self.assertEqual(len(self.repo.log()), 3)

    def test_workspace_files_and_evaluate(self):
        made = self.made
        out = self.repo.checkout("v1")
        self.assertEqual((out.id, out.branch, out.written), (made[0].id, None, ["models/model.bin"]))
        with open(self.model, "rb") as f:
            self.assertEqual(f.read(), bytes([1]) * 9000)
        write(self.model, b"local change")
        with self.assertRaises(mvm.ConflictError) as cm:
            self.repo.checkout("main")
        self.assertEqual(cm.exception.code, "UNCOMMITTED_CHANGES")
        self.assertEqual(self.repo.status().changes, [{"path": "models/model.bin", "status": "modified"}])
        self.assertFalse(self.repo.status().clean)
        self.repo.checkout("main", force=True)
        self.assertTrue(self.repo.status().clean)

        got = self.repo.get("v2", "models/model.bin", os.path.join(self.tmp, "v2.bin"))
        with open(got, "rb") as f:
            self.assertEqual(f.read(), bytes([2]) * 9000)
        cached = self.repo.path("v1", "models/model.bin", cache=os.path.join(self.tmp, "cache"))
        self.assertIn(made[0].id, cached)
        with open(cached, "rb") as f:
            self.assertEqual(f.read(), bytes([1]) * 9000)

        # the evaluation prints the first byte of the model as a metric
        script = (
            "import json, os; "
            "first = open(os.path.join(os.environ['MVM_PATH'], 'models/model.bin'), 'rb').read()[0]; "
            "print(json.dumps({'first': first}))"
        )
        result = self.repo.evaluate(["v1", "v3"], [sys.executable, "-c", script])
        self.assertTrue(result.ok)
        self.assertEqual([r.metrics for r in result.runs], [{"first": 1}, {"first": 3}])
        self.assertEqual(self.repo.show("v3").metrics["first"], 3)
        with self.assertRaises(mvm.CommandFailedError) as cm:
            self.repo.evaluate("v1", [sys.executable, "-c", "raise SystemExit(3)"])
        self.assertEqual((cm.exception.code, cm.exception.exit_code), ("COMMAND_FAILED", 9))
        self.assertFalse(cm.exception.data["runs"][0]["ok"])
        failed = self.repo.evaluate("v1", [sys.executable, "-c", "raise SystemExit(3)"], check=False)
        self.assertFalse(failed.ok)
        self.assertEqual(failed.runs[0].exit_code, 3)

    def test_envs_deploy_promote_rollback(self):
        env = self.repo.env_create("production", require=["metrics.accuracy >= 0.9"])
        self.assertEqual((env.name, env.id, env.require), ("production", None, ["metrics.accuracy >= 0.9"]))
        with self.assertRaises(mvm.GateFailedError) as cm:
            self.repo.deploy("v3", env="production")
        err = cm.exception
        self.assertEqual((err.code, err.exit_code), ("GATE_FAILED", 1))
        self.assertEqual(err.data["failed"][0]["gate"], "metrics.accuracy >= 0.9")
        self.assertIn("--no-gates", err.hint)
        moved = self.repo.deploy("v2", env="production", reason="best accuracy")
        self.assertIsInstance(moved, mvm.Deployment)
        self.assertEqual((moved.env, moved.action, moved.to_number, moved.from_id), ("production", "deploy", 2, None))
        self.assertEqual(self.repo.deployed("production").number, 2)
        self.repo.env_create("staging")
        self.assertEqual(self.repo.promote("production", "staging").to_number, 2)
        self.repo.deploy("v3", env="production", gates=False, reason="forced")
        back = self.repo.rollback(env="production")
        self.assertEqual((back.action, back.from_number, back.to_number), ("rollback", 3, 2))
        log = self.repo.deployments(env="production")
        self.assertEqual([d.action for d in log], ["rollback", "deploy", "deploy"])
        self.assertEqual(log[2].reason, "best accuracy")
        self.assertEqual({e.name: e.number for e in self.repo.envs()}, {"production": 2, "staging": 2})
        with self.assertRaises(mvm.NotFoundError) as cm:
            self.repo.deploy("v2", env="nowhere")
        self.assertEqual(cm.exception.code, "UNKNOWN_ENV")
        with self.assertRaises(ValueError):
            self.repo.deploy(env="production")
        report = self.repo.report(os.path.join(self.tmp, "report.html"), title="py")
        with open(report, encoding="utf-8") as f:
            self.assertIn("<html", f.read(4000).lower())
        self.assertEqual(len(self.repo.report_data()["versions"]), 3)

    def test_push_clone_pull(self):
        remote = os.path.join(self.tmp, "remote")
        self.repo.remote_add("origin", remote)
        pushed = self.repo.push()
        self.assertEqual(pushed.updates[0]["ref"], "refs/heads/main")
        copy = mvm.clone(remote, os.path.join(self.tmp, "copy"))
        self.assertIsInstance(copy, mvm.Repo)
        self.assertEqual(copy.show("HEAD").number, 3)
        write(self.model, b"v4" * 100)
        self.repo.commit("v4", metrics={"accuracy": 0.95})
        self.repo.push()
        pulled = copy.pull()
        self.assertEqual(pulled.number, 4)
        with open(os.path.join(copy.root, "models", "model.bin"), "rb") as f:
            self.assertEqual(f.read(), b"v4" * 100)

class ValuesTest(unittest.TestCase):
    """Result classes, error classes, help() text and the CLI finder, without a repository."""

    def test_results_to_dict_and_raw(self):
        j = {"id": "ab" * 32, "number": 7, "created": True, "branch": "main", "changes": [], "files": 1,
             "logicalBytes": 10, "storedBytes": 4, "newBytes": 10, "newChunks": 1, "futureField": [1, 2]}
        c = mvm.CommitResult.from_json(j)
        d = c.to_dict()
        self.assertEqual(d["number"], 7)
        self.assertEqual(d["stored_bytes"], 4)
        self.assertNotIn("raw", d)
        self.assertEqual(c.raw["futureField"], [1, 2])
        self.assertEqual(json.loads(json.dumps(d)), d)
        column = {"id": "x", "number": 1, "metrics": {"f1": {"value": 0.5, "delta": None, "verdict": None}}}
        cmp = mvm.Comparison.from_json({"columns": [column], "metricNames": ["f1"], "directions": {"f1": "higher"}})
        self.assertEqual(cmp.to_dict()["columns"][0]["metrics"], {"f1": 0.5})
        self.assertNotIn("raw", cmp.to_dict()["columns"][0])

    def test_error_classes_by_code_and_exit(self):
        cases = {
            ("GATE_FAILED", 1): mvm.GateFailedError,
            ("NOTHING_TO_COMMIT", 1): mvm.NothingToCommitError,
            ("REF_EXISTS", 1): mvm.RefusedError,
            ("BAD_VALUE", 2): mvm.UsageError,
            ("NOT_A_REPOSITORY", 3): mvm.NotARepositoryError,
            ("REMOTE_FORMAT", 3): mvm.RepositoryError,
            ("UNKNOWN_REVISION", 4): mvm.NotFoundError,
            ("NON_FAST_FORWARD", 5): mvm.ConflictError,
            ("LOCKED", 6): mvm.LockedError,
            ("OBJECT_CORRUPT", 7): mvm.CorruptError,
            ("DISK_FULL", 8): mvm.OperatingSystemError,
            ("HOOK_FAILED", 9): mvm.CommandFailedError,
            ("REMOTE_AUTH", 10): mvm.RemoteError,
            ("SOMETHING_NEW", 42): mvm.MvmError,
        }
        for (code, exit_code), cls in cases.items():
            err = mvm.error_for(code, "m", exit_code, {"hint": "do this"})
            self.assertIs(type(err), cls, code)
            self.assertEqual((err.code, err.exit_code, err.hint, err.message), (code, exit_code, "do this", "m"))
        self.assertIsNone(mvm.error_for("X", "m", 4).hint)

    def test_help_shows_docstrings(self):
        text = pydoc.render_doc(mvm.Repo, renderer=pydoc.plaintext)
        for method in ["commit", "log", "show", "best", "compare", "annotate", "evaluate", "checkout", "get", "path",
                       "deploy", "promote", "rollback", "deployments", "envs", "env_create", "push", "pull", "add",
                       "status", "report"]:
            self.assertIn(f" {method}(", text)
            self.assertTrue(getattr(mvm.Repo, method).__doc__, method)
        self.assertIn("Records the tracked files as a new version", text)
        self.assertIn("GateFailedError", text)
        public = [getattr(mvm, n) for n in mvm.__all__]
        undocumented = [getattr(o, "__name__", o) for o in public if callable(o) and not (o.__doc__ or "").strip()]
        self.assertEqual(undocumented, [])
        self.assertIn("Exit 4", pydoc.render_doc(mvm.NotFoundError, renderer=pydoc.plaintext))

    def test_import_mvm_does_not_import_torch(self):
        code = "import sys, mvm; assert 'torch' not in sys.modules; import mvm.results, mvm.errors; print('ok')"
        out = subprocess.run([sys.executable, "-c", code], cwd=PYTHON_DIR, capture_output=True, text=True)
        self.assertEqual(out.stdout.strip(), "ok", out.stderr)

    def test_cli_finder(self):
        saved = {k: os.environ.get(k) for k in ("MVM_BIN", "PATH")}
        tmp = tempfile.mkdtemp(prefix="mvm-pyfind-")
        try:
            os.environ["MVM_BIN"] = "tools/mvm.js"
            self.assertEqual(mvm.find_cli(), ["node", os.path.abspath("tools/mvm.js")])
            os.environ["MVM_BIN"] = "/opt/mvm"
            self.assertEqual(mvm.find_cli(), ["/opt/mvm"])
            del os.environ["MVM_BIN"]
            local = os.path.join(tmp, "node_modules", ".bin", "mvm")
            write(local, b"#!/bin/sh\n")
            os.chmod(local, 0o755)
            deep = os.path.join(tmp, "a", "b")
            os.makedirs(deep)
            self.assertEqual(mvm.find_cli(deep), [local])
            os.environ["PATH"] = os.path.join(tmp, "empty")
            with self.assertRaises(mvm.CliNotFoundError) as cm:
                mvm.find_cli(tempfile.gettempdir())
            self.assertEqual((cm.exception.code, cm.exception.exit_code), ("MVM_NOT_FOUND", 127))
            on_path = os.path.join(tmp, "bin", "mvm")
            write(on_path, b"#!/bin/sh\n")
            os.chmod(on_path, 0o755)
            os.environ["PATH"] = os.path.dirname(on_path)
            self.assertEqual(mvm.find_cli(tempfile.gettempdir()), [on_path])
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            shutil.rmtree(tmp, ignore_errors=True)


class BuildBackendTest(unittest.TestCase):
    """The in-tree PEP 517 backend: a wheel whose RECORD hashes its files, and an sdist."""

    @classmethod
    def setUpClass(cls):
        spec = importlib.util.spec_from_file_location("mvm_build", os.path.join(PYTHON_DIR, "_build", "mvm_build.py"))
        cls.backend = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(cls.backend)

    def setUp(self):
        self.out = tempfile.mkdtemp(prefix="mvm-pybuild-")

    def tearDown(self):
        shutil.rmtree(self.out, ignore_errors=True)

    def test_wheel(self):
        self.assertEqual(self.backend.get_requires_for_build_wheel(), [])
        name = self.backend.build_wheel(self.out)
        self.assertEqual(name, "mvm-0.1.0-py3-none-any.whl")
        with zipfile.ZipFile(os.path.join(self.out, name)) as zf:
            names = set(zf.namelist())
            for f in ["mvm/__init__.py", "mvm/py.typed", "mvm/torch.py", "mvm/repo.py", "mvm-0.1.0.dist-info/WHEEL"]:
                self.assertIn(f, names)
            self.assertFalse([n for n in names if "__pycache__" in n])
            metadata = zf.read("mvm-0.1.0.dist-info/METADATA").decode()
            self.assertIn("Name: mvm\nVersion: 0.1.0\n", metadata)
            self.assertIn('Requires-Dist: torch; extra == "torch"', metadata)
            rows = list(csv.reader(io.StringIO(zf.read("mvm-0.1.0.dist-info/RECORD").decode())))
            self.assertEqual({r[0] for r in rows}, names)
            for path, digest, size in rows:
                if path.endswith("RECORD"):
                    self.assertEqual((digest, size), ("", ""))
                    continue
                data = zf.read(path)
                expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                self.assertEqual((digest, int(size)), (f"sha256={expected}", len(data)), path)
        # the same tree gives the same wheel, byte for byte
        again = tempfile.mkdtemp(dir=self.out)
        self.backend.build_wheel(again)
        with open(os.path.join(self.out, name), "rb") as a, open(os.path.join(again, name), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_sdist_and_editable(self):
        name = self.backend.build_sdist(self.out)
        self.assertEqual(name, "mvm-0.1.0.tar.gz")
        with tarfile.open(os.path.join(self.out, name)) as tar:
            names = set(tar.getnames())
        for f in ["PKG-INFO", "pyproject.toml", "_build/mvm_build.py", "mvm/__init__.py", "mvm/py.typed"]:
            self.assertIn(f"mvm-0.1.0/{f}", names)
        editable = self.backend.build_editable(self.out)
        with zipfile.ZipFile(os.path.join(self.out, editable)) as zf:
            self.assertEqual(zf.read("_mvm_editable.pth").decode().strip(), PYTHON_DIR)


if __name__ == "__main__":
    unittest.main()
