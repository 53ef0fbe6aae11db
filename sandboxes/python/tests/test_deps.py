"""classtop.deps: how each python_packages requirement is met, and what is said when it is not."""

import os
import tempfile
import unittest

from packaging.tags import Tag, sys_tags

from classtop.deps import bundled_wheels, resolve, run

# Debian's python3 has these wherever the SDK runs (host and image): grpcio and protobuf.
GRPC = __import__("grpc").__version__


class ResolveTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.supported = list(sys_tags())

    def tearDown(self):
        self.dir.cleanup()

    def wheel(self, file):
        open(os.path.join(self.dir.name, file), "wb").close()
        return bundled_wheels(self.dir.name)

    def test_the_image_meets_a_requirement_it_has_a_version_for(self):
        found = resolve("grpcio>=1.0", [], self.supported)
        self.assertEqual((found.status, found.detail), ("image", f"the image has grpcio {GRPC}"))

    def test_a_version_the_image_lacks_names_what_it_has_and_the_missing_wheel(self):
        found = resolve("grpcio>=999", [], self.supported)
        self.assertEqual(found.status, "unsatisfied")
        self.assertEqual(found.detail, f"grpcio>=999: the image has grpcio {GRPC} and the bundle carries no wheel for it")

    def test_a_bundled_wheel_meets_what_the_image_does_not_have(self):
        self.wheel("Ct_Greet-1.2.0-py3-none-any.whl")
        wheels = self.wheel("ct_greet-1.0.0-py3-none-any.whl")
        found = resolve("ct-greet>=1.1", wheels, self.supported)
        self.assertEqual((found.status, found.wheel), ("wheel", "Ct_Greet-1.2.0-py3-none-any.whl"))

    def test_wheels_that_do_not_fit_are_named(self):
        wheels = self.wheel("ct_greet-0.1.0-py3-none-any.whl")
        found = resolve("ct-greet>=1", wheels, self.supported)
        self.assertEqual(found.status, "unsatisfied")
        self.assertIn("the image does not have ct-greet", found.detail)
        self.assertIn("no wheel the bundle carries satisfies it (ct_greet-0.1.0-py3-none-any.whl)", found.detail)
        other = resolve("ct-greet>=0", wheels, [Tag("cp27", "cp27mu", "linux_i686")])
        self.assertIn("(not for this platform)", other.detail)

    def test_a_false_marker_is_skipped_and_a_malformed_requirement_is_invalid(self):
        self.assertEqual(resolve('nothing>=1; python_version < "3"', [], self.supported).status, "skipped")
        bad = resolve("requests>>2", [], self.supported)
        self.assertEqual(bad.status, "invalid")
        self.assertIn("'requests>>2' is not a PEP 508 requirement", bad.detail)

    def test_run_installs_nothing_when_something_is_unmet(self):
        target = os.path.join(self.dir.name, "target")
        report = run(["grpcio>=1", "absent-package"], self.dir.name, target)
        self.assertFalse(report.ok)
        self.assertEqual([r.status for r in report.requirements], ["image", "unsatisfied"])
        self.assertFalse(os.path.exists(target))


if __name__ == "__main__":
    unittest.main()
