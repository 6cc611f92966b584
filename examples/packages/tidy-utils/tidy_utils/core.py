import json
import subprocess
import urllib.request


def tidy(text):
    """Strip trailing spaces and make sure the text ends with one newline."""
    lines = [line.rstrip() for line in text.splitlines()]
    return "\n".join(lines).rstrip("\n") + "\n"


def git_root(path="."):
    """Ask git for the top of the work tree."""
    out = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def latest_release(index_url):
    """Read the newest version of this package from an index JSON page."""
    with urllib.request.urlopen(index_url, timeout=10) as resp:
        return json.load(resp)["info"]["version"]
