"""Tests of the mvm Python module against real repositories made by the CLI.

Run from the repository root after `npm run build` (or `npm test`):
    MVM_BIN=bin/mvm.js python3 -m unittest discover -s python/tests -v
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import mvm  # noqa: E402

os.environ.setdefault("MVM_BIN", os.path.join(os.path.dirname(os.path.dirname(HERE)), "bin", "mvm.js"))
os.environ["MVM_AUTHOR"] = "Py Test <py@example.com>"


class RepoTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mvm-py-")
        self.cache = tempfile.mkdtemp(prefix="mvm-py-cache-")
        subprocess.run(["git", "init", "-q", self.dir], check=True)
        mvm.run("init", cwd=self.dir)
        self.model = os.path.join(self.dir, "models", "model.bin")
        os.makedirs(os.path.dirname(self.model))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.cache, ignore_errors=True)

    def write(self, data):
        with open(self.model, "wb") as f:
            f.write(data)

    def train(self):
        """A training loop that commits a version per epoch with its metrics."""
        mvm.run("add", "models", cwd=self.dir)
        ids = []
        for epoch, (acc, loss) in enumerate([(0.80, 0.9), (0.91, 0.4), (0.88, 0.5)], start=1):
            self.write(bytes([epoch]) * 5000)
            r = mvm.commit(
                f"epoch {epoch}",
                metrics={"accuracy": acc, "loss": loss},
                params={"lr": 0.001, "epoch": epoch},
                meta={"run": "py"},
                cwd=self.dir,
            )
            self.assertTrue(r["created"])
            self.assertEqual(r["number"], epoch)
            ids.append(r["id"])
        return ids

    def test_commit_log_show_best(self):
        ids = self.train()
        entries = mvm.log(cwd=self.dir)
        self.assertEqual([e["number"] for e in entries], [3, 2, 1])
        self.assertEqual(entries[0]["metrics"], {"accuracy": 0.88, "loss": 0.5})
        self.assertEqual([e["number"] for e in mvm.log(where="metrics.accuracy > 0.85", cwd=self.dir)], [3, 2])
        self.assertEqual(len(mvm.log(n=1, cwd=self.dir)), 1)
        shown = mvm.show("v2", cwd=self.dir)
        self.assertEqual(shown["id"], ids[1])
        self.assertEqual(shown["version"]["params"], {"lr": 0.001, "epoch": 2})
        self.assertEqual(mvm.best("accuracy", cwd=self.dir)["number"], 2)
        self.assertEqual(mvm.best("loss", cwd=self.dir)["number"], 2)
        self.assertEqual(mvm.best("accuracy", lower_is_better=True, cwd=self.dir)["number"], 1)
        self.assertEqual(mvm.best("accuracy", where="params.epoch != 2", cwd=self.dir)["number"], 3)

    def test_nothing_to_commit_is_not_an_error(self):
        self.train()
        r = mvm.commit("again", cwd=self.dir)
        self.assertFalse(r["created"])
        self.assertEqual(r["number"], 3)

    def test_checkout_and_path(self):
        ids = self.train()
        mvm.checkout("v1", cwd=self.dir)
        with open(self.model, "rb") as f:
            self.assertEqual(f.read(), bytes([1]) * 5000)
        mvm.checkout("v3", cwd=self.dir)
        p = mvm.path("v2", "models/model.bin", cwd=self.dir, cache=self.cache)
        self.assertTrue(p.startswith(self.cache))
        self.assertIn(ids[1], p)
        with open(p, "rb") as f:
            self.assertEqual(f.read(), bytes([2]) * 5000)
        # the workspace is left as it was
        with open(self.model, "rb") as f:
            self.assertEqual(f.read(), bytes([3]) * 5000)
        self.assertEqual(mvm.path("v2", "models/model.bin", cwd=self.dir, cache=self.cache), p)

    def test_errors_carry_the_stable_code(self):
        with self.assertRaises(mvm.MvmError) as cm:
            mvm.commit("nothing tracked", cwd=self.dir)
        self.assertEqual(cm.exception.code, "NOTHING_TRACKED")
        self.assertEqual(cm.exception.exit_code, 1)
        self.train()
        with self.assertRaises(mvm.MvmError) as cm:
            mvm.show("v99", cwd=self.dir)
        self.assertEqual(cm.exception.code, "UNKNOWN_REVISION")
        self.assertEqual(cm.exception.exit_code, 4)
        with self.assertRaises(mvm.MvmError) as cm:
            mvm.log(where="metrics.accuracy >", cwd=self.dir)
        self.assertEqual(cm.exception.code, "BAD_EXPRESSION")
        with self.assertRaises(mvm.MvmError) as cm:
            mvm.path("v1", "models/missing.bin", cwd=self.dir, cache=self.cache)
        self.assertEqual(cm.exception.code, "PATH_NOT_FOUND")

    def test_base_and_data(self):
        self.train()
        data = os.path.join(self.dir, "train.csv")
        with open(data, "w") as f:
            f.write("x,y\n1,2\n")
        self.write(b"fine-tuned" * 100)
        r = mvm.commit("fine-tune", base="v2", data=data, metrics={"accuracy": 0.95}, cwd=self.dir)
        shown = mvm.show(r["id"], cwd=self.dir)
        self.assertEqual(shown["version"]["deps"]["base"], mvm.show("v2", cwd=self.dir)["id"])
        self.assertEqual(len(shown["version"]["deps"]["data"]), 1)


if __name__ == "__main__":
    unittest.main()
