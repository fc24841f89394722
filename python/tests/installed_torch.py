"""Tests of mvm.torch against the installed package (not the source tree) and a real torch.

Not found by `unittest discover` (torch is not in every Python): test/e2e/stories/pythonPackage.test.ts
runs it with the venv it installed the package into:
    VENV/bin/python python/tests/installed_torch.py -v
"""

import os
import shutil
import subprocess
import tempfile
import unittest

import torch

import mvm
import mvm.torch


class TorchTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mvm-pytorch-")
        subprocess.run(["git", "init", "-q", self.dir], check=True)
        self.repo = mvm.init(self.dir)
        self.cache = os.path.join(self.dir, "..", os.path.basename(self.dir) + "-cache")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.cache, ignore_errors=True)

    def test_the_package_is_the_installed_one(self):
        source = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.assertFalse(os.path.abspath(mvm.__file__).startswith(source + os.sep), mvm.__file__)

    def test_commit_and_load_weights_with_optimizer_state(self):
        torch.manual_seed(1)
        model = torch.nn.Linear(8, 3)
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        x, y = torch.randn(32, 8), torch.randn(32, 3)

        def step():
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            opt.step()

        step()
        # a folder path as repo; the files are tracked on first use
        v1 = mvm.torch.commit(model, opt, path="weights/net.pt", metrics={"loss": 1.0}, message="one", repo=self.dir)
        self.assertEqual((v1.created, v1.number), (True, 1))
        self.assertEqual(sorted(self.repo.status().tracked), ["weights/net.optim.pt", "weights/net.pt"])
        self.assertEqual(sorted(self.repo.show("v1").files), ["weights/net.optim.pt", "weights/net.pt"])
        saved_model = {k: t.clone() for k, t in model.state_dict().items()}
        saved_steps = float(opt.state_dict()["state"][0]["step"])  # a tensor torch updates in place
        step()
        step()
        v2 = mvm.torch.commit(model, opt, path="weights/net.pt", metrics={"loss": 0.5}, repo=self.repo)
        self.assertEqual((v2.number, self.repo.show("v2").message), (2, "Linear weights"))
        self.assertEqual(sorted(os.listdir(os.path.join(self.dir, "weights"))), ["net.optim.pt", "net.pt"])

        fresh = torch.nn.Linear(8, 3)
        fresh_opt = torch.optim.Adam(fresh.parameters(), lr=0.01)
        back = mvm.torch.load("v1", fresh, path="weights/net.pt", optimizer=fresh_opt, repo=self.repo, cache=self.cache)
        self.assertIs(back, fresh)
        for k, t in fresh.state_dict().items():
            self.assertTrue(torch.equal(t, saved_model[k]), k)
        self.assertEqual(float(fresh_opt.state_dict()["state"][0]["step"]), saved_steps)
        # the workspace still holds v2
        self.assertTrue(self.repo.status().clean)
        on_disk = torch.load(os.path.join(self.dir, "weights", "net.pt"))
        self.assertTrue(torch.equal(on_disk["weight"], model.state_dict()["weight"]))
        self.assertFalse(torch.equal(on_disk["weight"], saved_model["weight"]))

    def test_unchanged_weights_make_no_version(self):
        model = torch.nn.Linear(4, 2)
        first = mvm.torch.commit(model, repo=self.repo)
        self.assertEqual(first.number, 1)
        self.assertEqual(mvm.torch.commit(model, repo=self.repo).created, False)
        try:
            again = mvm.torch.commit(model, metrics={"acc": 0.5}, repo=self.repo)
            self.assertFalse(again.created)
        except mvm.NothingToCommitError as e:
            self.assertEqual(e.code, "NOTHING_TO_COMMIT")
        self.assertEqual(len(self.repo.log()), 1)


if __name__ == "__main__":
    unittest.main()
