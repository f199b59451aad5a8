#!/usr/bin/env python3
"""The man pages document every chatctl command and every config key, and chatctl
keeps the exit statuses its man page promises.

    python3 tests/integration/test_manpages.py --chatctl build/chatctl --chatd build/chatd --man-dir man

Any further arguments go to unittest (e.g. -v, or a test name).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import unittest

# The keys CONTRACT.md §2 promises; the code may have more, and every key the code has must be
# documented (the list of those is read from `chatd --help`).
CONTRACT_KEYS = [
    "listen", "admin_socket", "data_dir", "webui_dir", "public_url", "trusted_proxies", "threads",
    "log_level", "upstream.base_url", "upstream.proxy", "upstream.ca_file", "upstream.connect_timeout",
    "upstream.first_byte_timeout", "upstream.idle_timeout", "upstream.max_attempts", "wechat.mode",
    "wechat.appid", "wechat.secret", "wechat.token", "wechat.encoding_aes_key", "wechat.api_base",
    "wechat.code_keyword", "auth.password", "auth.session_days", "billing.trial_questions",
    "billing.free_if_slower_than", "limits.answers_in_flight", "limits.questions_per_minute",
    "limits.signups_per_hour", "limits.login_attempts_per_15min",
]

MISSING_SOCKET = "/nonexistent/sock"

CHATCTL = ""
CHATD = ""
MAN_DIR = ""

FONT_ESCAPE = re.compile(r"\\f(\[[^\]]*\]|\(..|.)")
NAMED_CHARACTERS = {r"\(aq": "'", r"\(lq": '"', r"\(rq": '"', r"\(bu": "*"}
ALTERNATING_FONT_MACROS = {"BR", "BI", "IB", "IR", "RB", "RI"}


def plain_text(roff):
    """Roff inline markup removed: font changes, escaped dashes and the like."""
    text = FONT_ESCAPE.sub("", roff)
    for escape, character in NAMED_CHARACTERS.items():
        text = text.replace(escape, character)
    return (text.replace(r"\-", "-").replace(r"\~", " ").replace(r"\&", "")
            .replace(r"\e", "\\"))


def macro_arguments(arguments):
    """A macro's arguments split as roff does: by spaces, double quotes grouping."""
    return [quoted if quoted or not bare else bare
            for quoted, bare in re.findall(r'"([^"]*)"|(\S+)', arguments)]


def line_text(line):
    """What a source line prints, for a text line or a font macro line."""
    if not line.startswith("."):
        return plain_text(line).strip()
    name, _, arguments = line[1:].partition(" ")
    words = macro_arguments(arguments)
    # Font-alternating macros print their arguments without spaces between them.
    joiner = "" if name in ALTERNATING_FONT_MACROS else " "
    return plain_text(joiner.join(words)).strip()


def read_page(name):
    with open(os.path.join(MAN_DIR, name), encoding="utf-8") as page:
        return page.read().splitlines()


def sections(lines, macro):
    """{heading: lines} for each `.SH` (or `.SS`) part of `lines`."""
    parts, heading = {}, None
    for line in lines:
        if line.startswith(macro + " ") or line == macro:
            heading = line_text(line[len(macro):].strip())
            parts[heading] = []
        elif heading is not None:
            parts[heading].append(line)
    return parts


def entry_tags(lines):
    """The tag lines of the `.TP`/`.TQ` entries, as printed."""
    tags, want_tag = [], False
    for line in lines:
        if line in (".TP", ".TQ") or line.startswith((".TP ", ".TQ ")):
            want_tag = True
        elif want_tag and not line.startswith('.\\"'):
            tags.append(line_text(line))
            want_tag = False
    return tags


def documented_command(tag, commands):
    """The command an entry's tag documents: the longest command it starts with, so that
    `logs show ID` documents `logs show`, not `logs`."""
    matches = [c for c in commands if tag == c or tag.startswith(c + " ")]
    return max(matches, key=len) if matches else None


def run_chatctl(*args):
    environment = dict(os.environ, CHATD_SOCKET=MISSING_SOCKET)
    return subprocess.run([CHATCTL, *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env=environment, timeout=30)


class ChatctlPage(unittest.TestCase):
    def test_every_command_is_under_commands(self):
        listing = run_chatctl("help", "--list")
        self.assertEqual(listing.returncode, 0, listing.stderr)
        commands = [line.strip() for line in listing.stdout.splitlines() if line.strip()]
        self.assertIn("status", commands)

        page = sections(read_page("chatctl.8"), ".SH")
        self.assertIn("COMMANDS", page)
        documented = {documented_command(tag, commands) for tag in entry_tags(page["COMMANDS"])}
        for command in commands:
            with self.subTest(command=command):
                self.assertIn(command, documented,
                              f"'{command}' has no entry under COMMANDS in chatctl.8")

    def test_every_option_is_in_the_entry(self):
        commands = run_chatctl("help", "--list").stdout.splitlines()
        page = sections(read_page("chatctl.8"), ".SH")
        tags = {documented_command(tag, commands): tag for tag in entry_tags(page["COMMANDS"])}
        for command in commands:
            # The usage may be wrapped over several lines; a blank line ends it.
            usage = run_chatctl("help", *command.split()).stdout.split("\n\n")[0]
            self.assertTrue(usage.startswith("usage: chatctl " + command), usage)
            for option in re.findall(r"--[a-z][a-z-]*", usage):
                with self.subTest(command=command, option=option):
                    self.assertIn(option, tags.get(command, ""),
                                  f"chatctl.8 does not show {option} for '{command}'")

    def test_sections(self):
        page = sections(read_page("chatctl.8"), ".SH")
        for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS",
                        "ENVIRONMENT", "EXIT STATUS", "EXAMPLES", "FILES", "SEE ALSO"):
            with self.subTest(section=heading):
                self.assertIn(heading, page)
        self.assertIn("CHATD_SOCKET", entry_tags(page["ENVIRONMENT"]))


def chatd_help():
    # Wide, so that no entry is wrapped.
    return subprocess.run([CHATD, "--help"], capture_output=True, text=True, timeout=30, check=True,
                          env=dict(os.environ, COLUMNS="1000")).stdout


def config_keys():
    """Every config key, as `chatd --help` lists it under "Configuration"."""
    out = chatd_help()
    section = out[out.index("Configuration"):]
    return re.findall(r"^  --([a-z_0-9.]+) ", section, re.M)


def help_options():
    """Every option `chatd --help` lists (--help, --config, ... and each key)."""
    return set(re.findall(r"^  (?:-[a-z], )?(--[a-z_0-9.-]+)", chatd_help(), re.M))


class ConfigKeys(unittest.TestCase):
    def test_the_code_has_every_contract_key(self):
        keys = config_keys()
        self.assertGreater(len(keys), len(CONTRACT_KEYS) - 1)
        for key in CONTRACT_KEYS:
            with self.subTest(key=key):
                self.assertIn(key, keys)

    def test_every_key_in_chatd_conf_5(self):
        page = sections(read_page("chatd.conf.5"), ".SH")
        self.assertIn("KEYS", page)
        documented = set()
        for heading, lines in sections(page["KEYS"], ".SS").items():
            match = re.search(r"\[([\w.]+)\]", heading)
            prefix = match.group(1) + "." if match else ""
            documented.update(prefix + tag.split()[0] for tag in entry_tags(lines) if tag)
        for key in config_keys():
            with self.subTest(key=key):
                self.assertIn(key, documented, f"chatd.conf.5 has no entry for {key}")

    def test_every_key_is_a_chatd_8_option(self):
        page = sections(read_page("chatd.8"), ".SH")
        self.assertIn("OPTIONS", page)
        options = {tag.split()[0] for tag in entry_tags(page["OPTIONS"]) if tag}
        for key in config_keys():
            with self.subTest(key=key):
                self.assertIn("--" + key, options, f"chatd.8 has no option --{key}")


class OneSpelling(unittest.TestCase):
    """The README, chatd(8), chatd.conf(5) and `chatd --help` spell chatd's options alike: as the
    file's keys, with underscores. The dashed spelling is only an alias, named as one."""

    def readme_configuration(self):
        with open(os.path.join(MAN_DIR, "..", "README.md"), encoding="utf-8") as f:
            readme = f.read()
        start = readme.index("## Configuration")
        return readme[start:readme.index("\n## ", start + 1)]

    def test_readme_options_are_the_helps(self):
        listed = help_options()
        aliases = set(re.findall(r"(--[a-z-]+) for --", chatd_help()))
        self.assertIn("--data-dir", aliases)
        named = re.findall(r"`(--[a-z_0-9.-]+)", self.readme_configuration())
        self.assertIn("--data_dir", named)
        for option in named:
            with self.subTest(option=option):
                self.assertTrue(option in listed or option in aliases,
                                f"README names {option}, which chatd --help neither lists nor names as an alias")
                if option in aliases:
                    self.assertIn(option.replace("-", "_").replace("__", "--", 1), listed)

    def test_chatd_8_options_are_the_helps(self):
        listed = help_options()
        page = sections(read_page("chatd.8"), ".SH")
        spelled = [option for tag in entry_tags(page["OPTIONS"])
                   for option in re.findall(r"--[a-z_0-9.-]+", tag)]
        self.assertIn("--data_dir", spelled)
        for option in spelled:
            with self.subTest(option=option):
                self.assertIn(option, listed, f"chatd.8 spells {option}, which chatd --help does not")

    def test_help_lists_every_key_under_one_spelling(self):
        listed = help_options()
        for key in config_keys():
            with self.subTest(key=key):
                self.assertIn("--" + key, listed)
                if "_" in key:
                    self.assertNotIn("--" + key.replace("_", "-"), listed)


class ExitStatus(unittest.TestCase):
    def test_version(self):
        result = run_chatctl("--version")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(result.stdout.startswith("chatctl "), result.stdout)

    def test_unknown_command(self):
        result = run_chatctl("nosuchcommand")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("usage:", result.stderr)

    def test_missing_socket(self):
        result = run_chatctl("-s", MISSING_SOCKET, "status")
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn(MISSING_SOCKET, result.stderr)
        self.assertEqual(result.stdout, "")

    def test_non_integer_id(self):
        result = run_chatctl("keys", "rm", "notanumber")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("usage:", result.stderr)


@unittest.skipUnless(shutil.which("man"), "man is not installed")
class Rendering(unittest.TestCase):
    def test_pages_render_without_warnings(self):
        for name in ("chatctl.8", "chatd.8", "chatd.conf.5"):
            with self.subTest(page=name):
                result = subprocess.run(
                    ["man", "-l", "--warnings", os.path.join(MAN_DIR, name)],
                    capture_output=True, text=True, timeout=60,
                    env=dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat"))
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(result.stderr, "")
                self.assertIn("NAME", result.stdout)


def main():
    global CHATCTL, CHATD, MAN_DIR
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--chatctl", required=True)
    parser.add_argument("--chatd", required=True)
    parser.add_argument("--man-dir", required=True)
    options, rest = parser.parse_known_args(sys.argv[1:])
    CHATCTL = os.path.abspath(options.chatctl)
    CHATD = os.path.abspath(options.chatd)
    MAN_DIR = os.path.abspath(options.man_dir)
    unittest.main(argv=[sys.argv[0], *rest])


if __name__ == "__main__":
    main()
