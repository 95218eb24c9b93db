"""The board's fallback fonts come from Debian packages that both the screen's provisioning
script and the development machine's ``make system`` install (read from the files, checked
against dpkg: no hand-kept list can drift)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from kds_device.ui.scripts import FALLBACKS

CHECKOUT = Path(__file__).resolve().parents[2]


def _owner(file_name: str) -> str:
    found = subprocess.run(
        ["dpkg", "-S", f"*/{file_name}"], capture_output=True, text=True, check=False
    )
    assert found.returncode == 0, f"no installed package has {file_name}: {found.stderr}"
    return found.stdout.split(":", 1)[0].strip()


def test_every_fallback_font_is_installed_by_provisioning_and_make() -> None:
    script = (CHECKOUT / "deploy" / "provision.sh").read_text()
    listed = re.search(r"DEVICE_PACKAGES=\((.*?)\n\)", script, re.S)
    assert listed is not None
    device = {w for line in listed.group(1).splitlines() for w in line.split("#")[0].split()}
    makefile = (CHECKOUT / "Makefile").read_text().replace("\\\n", " ")
    apt = re.search(r"^APT_PACKAGES := (.*)$", makefile, re.M)
    assert apt is not None
    make = set(apt.group(1).split())
    for font in FALLBACKS:
        package = _owner(font.regular[0])
        assert package in device, f"{font.name}: {package} missing from provision.sh"
        assert package in make, f"{font.name}: {package} missing from the Makefile"
