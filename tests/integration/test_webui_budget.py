"""The built SPA stays within its budget: initial JS ≤ 150 KB and CSS ≤ 30 KB gzipped, no inline
script (the CSP forbids it), hashed assets, and precompressed copies for chatd to serve.

Run as: test_webui_budget.py --dist webui/dist
"""
import argparse
import gzip
import os
import re
import sys
import unittest

DIST = None
JS_BUDGET = 150 * 1024
CSS_BUDGET = 30 * 1024


def gz_size(path):
    with open(path, "rb") as f:
        return len(gzip.compress(f.read(), 9))


class BudgetTest(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(DIST, "index.html"), encoding="utf-8") as f:
            self.html = f.read()

    def initial(self, pattern):
        return [os.path.join(DIST, p.lstrip("/")) for p in re.findall(pattern, self.html)]

    def test_initial_javascript_budget(self):
        # Everything the page loads before it is interactive: entry scripts and their preloads.
        scripts = self.initial(r'<script[^>]*\bsrc="([^"]+)"')
        scripts += self.initial(r'<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"')
        self.assertTrue(scripts, "index.html loads no script")
        total = sum(gz_size(p) for p in scripts)
        print(f"initial JS: {total / 1024:.1f} KB gzipped in {len(scripts)} file(s)")
        self.assertLessEqual(total, JS_BUDGET)

    def test_css_budget(self):
        sheets = self.initial(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"')
        total = sum(gz_size(p) for p in sheets)
        print(f"initial CSS: {total / 1024:.1f} KB gzipped in {len(sheets)} file(s)")
        self.assertLessEqual(total, CSS_BUDGET)

    def test_no_inline_script_and_hashed_assets(self):
        for tag in re.findall(r"<script\b[^>]*>", self.html):
            self.assertIn("src=", tag, f"inline script in index.html: {tag}")
        self.assertNotRegex(self.html, r"\son[a-z]+=", "inline event handler in index.html")
        for path in self.initial(r'(?:src|href)="(/assets/[^"]+)"'):
            self.assertRegex(os.path.basename(path), r"-[A-Za-z0-9_-]{6,}\.", f"{path} has no content hash")
            self.assertTrue(os.path.exists(path), path)

    def test_assets_are_precompressed(self):
        for path in self.initial(r'(?:src|href)="(/assets/[^"]+\.(?:js|css))"'):
            if os.path.getsize(path) >= 1024:
                self.assertTrue(os.path.exists(path + ".gz"), path + ".gz")
                self.assertTrue(os.path.exists(path + ".br"), path + ".br")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--dist", required=True)
    opts, rest = ap.parse_known_args()
    DIST = opts.dist
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
