#!/usr/bin/env python3
"""Rewrites the settings table in docs/configuration.md from Settings.java (LabelstreamConfigTest checks that they agree)."""
import os
import re

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
src = open(os.path.join(ROOT, "src/main/java/io/labelstream/config/Settings.java")).read()
rows = []
for m in re.finditer(r'new Setting<>\(\s*"([^"]+)",\s*"([^"]*)",\s*((?:"[^"]*"\s*\+?\s*)+),', src):
    key, default, desc = m.group(1), m.group(2), "".join(re.findall(r'"([^"]*)"', m.group(3)))
    rows.append(f"| `{key}` | {'`' + default + '`' if default else '(empty)'} | {desc} |")
doc_path = os.path.join(ROOT, "docs", "configuration.md")
doc = open(doc_path).read()
begin, end = "<!-- settings:begin -->\n", "<!-- settings:end -->"
head, rest = doc.split(begin)
_, tail = rest.split(end)
table = "| setting | default | meaning |\n| --- | --- | --- |\n" + "\n".join(rows) + "\n"
open(doc_path, "w").write(head + begin + table + end + tail)
